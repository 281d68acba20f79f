//! Benchmark datasets (`kam dataset PROFILE [--seed N]`, docs: INTERFACE.md "The benchmark
//! dataset l3-60k"). Unlike the demo company, a dataset is loaded in bulk: the org tree goes
//! through `org::insert`, but users, accounts, their access rows and contacts are written with
//! multi-row `INSERT`s (explicit ids, one password hash for everybody) inside one transaction,
//! and one audit row records what was generated. Everything is deterministic for a seed: a small
//! integer PRNG drives every choice and no floating point is involved.
//!
//! Profile `l3-60k` as far as its tables exist today: 1 HQ, 18 regions, 54 branches, 325 users
//! (admin, KA director, region and branch managers, 18 KA managers, 100 outside reps `ae001…`,
//! 133 inside sales `sr001…`), 60,000 accounts and 240,000 contacts.
//! 200,000 opportunities on owned accounts, each with its path through the funnel in the
//! history (the exit-criteria checklist is not filled in). TODO(activities/quotas): the profile
//! also calls for 1,000,000 activities and a quota per salesperson for the current year; the
//! activities' tables come with a later issue, and this generator is to be extended then.
use std::collections::HashSet;

use anyhow::{bail, Context};
use serde_json::json;
use sqlx::Row;

use crate::app::bulk::{v, Cell, Inserter};
use crate::app::{audit, auth, org, users, Ctx};
use crate::db::{now, Backend, Db, WriteTx};
use crate::domain::account::{rad_class, sow_bp};
use crate::domain::credit_code::CreditCode;
use crate::domain::role::{OrgKind, Role, SalesType};
use crate::domain::text::normalize_name;

/// What a generation wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub org_units: usize,
    pub users: usize,
    pub accounts: usize,
    pub contacts: usize,
    pub opportunities: usize,
}

/// The size of a dataset. `l3-60k` is [`Scale::L3_60K`]; tests use smaller ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scale {
    /// Regions (at most 18), each with its region manager and KA manager.
    pub regions: usize,
    /// Branches per region (at most 3), each with its branch manager.
    pub branches_per_region: usize,
    /// Outside sales (`ka_rep`, sales type `ae`), spread over the branches.
    pub aes: usize,
    /// Inside sales (`inside_sales`, sales type `sr`), spread over the branches.
    pub srs: usize,
    pub accounts: usize,
    pub contacts_per_account: usize,
    /// Opportunities, on owned accounts, each with its path through the funnel in the history.
    pub opportunities: usize,
}

impl Scale {
    pub const L3_60K: Scale = Scale {
        regions: 18,
        branches_per_region: 3,
        aes: 100,
        srs: 133,
        accounts: 60_000,
        contacts_per_account: 4,
        opportunities: 200_000,
    };
}

/// The profiles `generate` knows.
pub const PROFILES: &[&str] = &["l3-60k"];

pub fn scale_of(profile: &str) -> Option<Scale> {
    match profile {
        "l3-60k" => Some(Scale::L3_60K),
        _ => None,
    }
}

/// Generates a benchmark dataset into an EMPTY database (refuses with Err if any user or account
/// exists). Profile "l3-60k" only (Err for others). Deterministic for a seed.
pub async fn generate(db: &Db, profile: &str, seed: u64, password: &str) -> anyhow::Result<Summary> {
    let Some(scale) = scale_of(profile) else {
        bail!("unknown dataset profile {profile:?}; known profiles: {}", PROFILES.join(", "));
    };
    generate_scaled(db, profile, scale, seed, password).await
}

/// `generate` at any scale (the tests use tiny ones).
pub async fn generate_scaled(
    db: &Db,
    profile: &str,
    scale: Scale,
    seed: u64,
    password: &str,
) -> anyhow::Result<Summary> {
    anyhow::ensure!(
        (1..=REGIONS.len()).contains(&scale.regions) && (1..=3).contains(&scale.branches_per_region),
        "a dataset has 1–{} regions of 1–3 branches",
        REGIONS.len()
    );
    users::check_password(password).map_err(|c| anyhow::anyhow!("password: {c}"))?;
    // One hash for every user: argon2 is slow by design, and hundreds of hashes would dominate.
    let hash = auth::hash_password(password)?;

    let mut tx = db.begin().await?;
    for table in ["users", "accounts"] {
        if count(&mut tx, table).await? > 0 {
            bail!("the database already holds {table}; a dataset loads only into an empty database");
        }
    }
    let ctx = Ctx::system();
    let ts = now();
    let mut rng = Rng::new(seed ^ 0x4B41_4D20_4441_5441); // "KAM DATA"

    // ---- Org tree -----------------------------------------------------------------------------
    let branches = scale.regions * scale.branches_per_region;
    let hq = org::insert(&mut tx, &ctx, "HQ", "总部", OrgKind::Hq, None).await.context("org unit HQ")?;
    let mut region_ids = Vec::with_capacity(scale.regions);
    let mut branch_ids = Vec::with_capacity(branches);
    for (r, region) in REGIONS.iter().take(scale.regions).enumerate() {
        let code = format!("R{:02}", r + 1);
        let id = org::insert(&mut tx, &ctx, &code, region.name, OrgKind::Region, Some("HQ"))
            .await
            .with_context(|| format!("org unit {code}"))?;
        region_ids.push(id);
    }
    for b in 0..branches {
        let (r, k) = (b / scale.branches_per_region, b % scale.branches_per_region);
        let code = format!("B{:02}", b + 1);
        let name = format!("{}分公司", REGIONS[r].cities[k].0);
        let id = org::insert(&mut tx, &ctx, &code, &name, OrgKind::Branch, Some(&format!("R{:02}", r + 1)))
            .await
            .with_context(|| format!("org unit {code}"))?;
        branch_ids.push(id);
    }
    let org_units = 1 + scale.regions + branches;
    // ---- Users --------------------------------------------------------------------------------
    let mut used_names = HashSet::new();
    let mut person = |rng: &mut Rng| loop {
        let (n, _) = person_name(rng);
        if used_names.insert(n.clone()) {
            break n;
        }
    };
    let mut uw = UserWriter { hash: &hash, ts: &ts, n: 0 };
    uw.add(&mut tx, "admin".into(), "系统管理员".into(), Role::Admin, hq, None, None).await?;
    let director = uw.add(&mut tx, "director".into(), person(&mut rng), Role::KaDirector, hq, None, None).await?;
    let mut region_mgr = Vec::with_capacity(scale.regions);
    for (r, &rid) in region_ids.iter().enumerate() {
        let u = format!("region{:02}", r + 1);
        region_mgr.push(uw.add(&mut tx, u, person(&mut rng), Role::BranchManager, rid, None, None).await?);
    }
    for (b, &bid) in branch_ids.iter().enumerate() {
        let u = format!("branch{:02}", b + 1);
        let m = Some(region_mgr[b / scale.branches_per_region]);
        uw.add(&mut tx, u, person(&mut rng), Role::BranchManager, bid, m, None).await?;
    }
    let mut kam = Vec::with_capacity(scale.regions);
    for (r, &rid) in region_ids.iter().enumerate() {
        let u = format!("kam{:02}", r + 1);
        kam.push(uw.add(&mut tx, u, person(&mut rng), Role::KaManager, rid, Some(director), None).await?);
    }
    // Salespeople: spread evenly over the branches in order; (user id, branch index).
    let mut ae_of_region: Vec<Vec<(i64, usize)>> = vec![vec![]; scale.regions];
    for j in 0..scale.aes {
        let b = j * branches / scale.aes;
        let r = b / scale.branches_per_region;
        let id = uw
            .add(
                &mut tx,
                format!("ae{:03}", j + 1),
                person(&mut rng),
                Role::KaRep,
                branch_ids[b],
                Some(kam[r]),
                Some(SalesType::Ae),
            )
            .await?;
        ae_of_region[r].push((id, b));
    }
    let mut sr_of_region: Vec<Vec<i64>> = vec![vec![]; scale.regions];
    for j in 0..scale.srs {
        let b = j * branches / scale.srs;
        let r = b / scale.branches_per_region;
        let id = uw
            .add(
                &mut tx,
                format!("sr{:03}", j + 1),
                person(&mut rng),
                Role::InsideSales,
                branch_ids[b],
                Some(kam[r]),
                Some(SalesType::Sr),
            )
            .await?;
        sr_of_region[r].push(id);
    }
    // ---- Accounts (in memory first: assignment needs the whole region) -------------------------
    let n = scale.accounts;
    // Region shares follow the inside-sales head count, so every SR carries a similar book.
    let region_weights: Vec<u64> = sr_of_region.iter().map(|s| s.len().max(1) as u64).collect();
    let mut accts: Vec<Acct> = Vec::with_capacity(n);
    let mut names: HashSet<String> = HashSet::with_capacity(n);
    let org_off = rng.below(CODE_SPACE);
    for i in 0..n {
        let r = rng.weighted(&region_weights);
        let k = rng.below(scale.branches_per_region as u64) as usize;
        accts.push(account(&mut rng, i, n, r, k, org_off, &mut names)?);
    }
    let mut by_region: Vec<Vec<usize>> = vec![vec![]; scale.regions];
    for (i, a) in accts.iter().enumerate() {
        by_region[a.region].push(i);
    }
    for (r, idx) in by_region.iter().enumerate() {
        // Top accounts (L1/L2): about 20 per outside rep, who sits in the account's branch.
        let mut top: Vec<usize> = idx.iter().copied().filter(|&i| accts[i].level != "L3").collect();
        rng.shuffle(&mut top);
        let mut it = top.into_iter();
        for &(ae, b) in &ae_of_region[r] {
            for i in it.by_ref().take(rng.range(15, 25) as usize) {
                accts[i].owner = Some(ae);
                accts[i].branch = b % scale.branches_per_region;
            }
        }
        // About 12% of the broad L3 base (10% of all accounts) is the regional pool, with no
        // owner; the rest, and every top account, gets an inside owner. Each SR's book is a quota between 80% and 100% of
        // the largest one, so books differ without any SR standing empty.
        let mut owned: Vec<usize> = idx
            .iter()
            .copied()
            .filter(|&i| accts[i].owner.is_some() || accts[i].level != "L3" || !rng.pct(12))
            .collect();
        rng.shuffle(&mut owned);
        let srs = &sr_of_region[r];
        if !srs.is_empty() {
            let raw: Vec<u64> = srs.iter().map(|_| rng.range(80, 100) as u64).collect();
            let total: u64 = raw.iter().sum();
            let mut start = 0usize;
            for (j, &sr) in srs.iter().enumerate() {
                let end = if j + 1 == srs.len() {
                    owned.len()
                } else {
                    start + (owned.len() as u64 * raw[j] / total) as usize
                };
                for &i in &owned[start..end] {
                    accts[i].inside_owner = Some(sr);
                }
                start = end;
            }
        }
    }
    // ---- Write accounts and their access rows --------------------------------------------------
    let mut ins = Inserter::new(
        db.backend,
        "INSERT INTO accounts (created_at, updated_at, version, id, name, name_norm, short_name, credit_code, \
         industry, level, region_id, branch_id, owner_id, inside_owner_id, ka_manager_id, status, tier, address, \
         buying_power, sales_12m, sow_bp, rad_class, credit_grade, credit_limit, credit_score) VALUES ",
        vec![ts.clone().into()],
        24,
    );
    let mut access =
        Inserter::new(db.backend, "INSERT INTO account_access (account_id, user_id, via) VALUES ", vec![], 2);
    for (i, a) in accts.iter().enumerate() {
        let id = i as i64 + 1;
        let ka_manager = kam[a.region];
        ins.row(
            tx.conn(),
            vec![
                Cell::Shared(1),
                Cell::Shared(1),
                Cell::Lit("1"),
                v(id),
                v(a.name.clone()),
                v(normalize_name(&a.name)),
                v(a.short_name.clone()),
                v(a.credit_code.clone()),
                v(a.industry),
                v(a.level),
                v(region_ids[a.region]),
                v(branch_ids[a.region * scale.branches_per_region + a.branch]),
                v(a.owner),
                v(a.inside_owner),
                v(ka_manager),
                v(a.status),
                v(a.tier.map(str::to_string)),
                v(a.address.clone()),
                v(a.buying_power),
                v(a.sales_12m),
                v(sow_bp(a.sales_12m, a.buying_power)),
                v(rad_class(a.sales_12m, a.buying_power).map(str::to_string)),
                v(a.credit_grade.map(str::to_string)),
                v(a.credit_limit),
                v(a.credit_score),
            ],
        )
        .await
        .context("inserting accounts")?;
    }
    ins.flush(tx.conn()).await.context("inserting accounts")?;
    // Access rows refer to accounts, so they are written once every account is.
    for (i, a) in accts.iter().enumerate() {
        let id = i as i64 + 1;
        for (via, uid) in
            [("'owner'", a.owner), ("'inside_owner'", a.inside_owner), ("'ka_manager'", Some(kam[a.region]))]
        {
            if let Some(uid) = uid {
                access.row(tx.conn(), vec![v(id), v(uid), Cell::Lit(via)]).await.context("inserting account_access")?;
            }
        }
    }
    access.flush(tx.conn()).await.context("inserting account_access")?;
    // ---- Contacts: the buying committee, boss first ---------------------------------------------
    let cpa = scale.contacts_per_account;
    let mut cins = Inserter::new(
        db.backend,
        "INSERT INTO contacts (created_at, updated_at, version, id, account_id, name, name_norm, gender, \
         department, title, reports_to, decision_role, attitude, relationship, phone) VALUES ",
        vec![ts.clone().into()],
        14,
    );
    for (i, a) in accts.iter().enumerate() {
        let account_id = i as i64 + 1;
        let first = i as i64 * cpa as i64 + 1;
        let roles = committee(a.industry);
        let mut order: Vec<usize> = (1..roles.len()).collect();
        rng.shuffle(&mut order);
        for k in 0..cpa {
            let (dept, title) = if k == 0 { roles[0] } else { roles[order[(k - 1) % order.len()]] };
            let (name, gender) = person_name(&mut rng);
            let decision_role = match k {
                0 => "decision_maker",
                1 => ["policy_maker", "influencer"][rng.below(2) as usize],
                2 => ["influencer", "end_user"][rng.weighted(&[60, 40])],
                _ => ["end_user", "gatekeeper", "influencer"][rng.weighted(&[50, 30, 20])],
            };
            let attitude = ["supporter", "neutral", "opponent"][rng.weighted(&[40, 45, 15])];
            let relationship = match attitude {
                "supporter" => rng.range(3, 5),
                "neutral" => rng.range(2, 4),
                _ => rng.range(1, 2),
            };
            // The boss heads the chart; the third reports to the second, the rest to the boss.
            let reports_to = match k {
                0 => None,
                3 => Some(first + 1),
                _ => Some(first),
            };
            let phone = format!("1{}{:09}", [3, 5, 8, 9][rng.below(4) as usize], rng.below(1_000_000_000));
            cins.row(
                tx.conn(),
                vec![
                    Cell::Shared(1),
                    Cell::Shared(1),
                    Cell::Lit("1"),
                    v(first + k as i64),
                    v(account_id),
                    v(name.clone()),
                    v(normalize_name(&name)),
                    v(gender),
                    v(dept),
                    v(title),
                    v(reports_to),
                    v(decision_role),
                    v(attitude),
                    v(relationship),
                    v(phone),
                ],
            )
            .await
            .context("inserting contacts")?;
        }
    }
    cins.flush(tx.conn()).await.context("inserting contacts")?;
    // ---- Opportunities and their stage histories ------------------------------------------------
    let today = chrono::Utc::now().date_naive();
    let owned: Vec<(usize, i64)> =
        accts.iter().enumerate().filter_map(|(i, a)| a.owner.or(a.inside_owner).map(|o| (i, o))).collect();
    let mut oins = Inserter::new(
        db.backend,
        "INSERT INTO opportunities (created_at, updated_at, version, currency, id, account_id, name, amount, \
         expected_close, stage, probability, owner_id, established_at, booked_amount, booked_on, lost_reason, lost_to) VALUES ",
        vec![ts.clone().into()],
        13,
    );
    let mut hins = Inserter::new(
        db.backend,
        "INSERT INTO opportunity_history (opportunity_id, at, actor, from_stage, stage, amount, expected_close, reason, \
         override) VALUES ",
        vec![],
        7,
    );
    use crate::domain::opportunity::{Stage, OPEN};
    const KINDS: [&str; 6] = ["扩容项目", "升级改造", "年度框架采购", "新建系统", "运维服务续约", "试点项目"];
    const RIVALS: [&str; 6] = ["华为", "新华三", "浪潮", "中兴", "神州数码", "锐捷"];
    let day = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
    let n_opps = if owned.is_empty() { 0 } else { scale.opportunities };
    let mut pending_history: Vec<Vec<Cell>> = vec![];
    for k in 0..n_opps {
        let id = k as i64 + 1;
        let (ai, owner) = owned[rng.below(owned.len() as u64) as usize];
        let stage = Stage::ALL[rng.weighted(&[30, 20, 14, 10, 6, 12, 8])];
        let amount = rng.range(5, 800) * 1_000_000;
        let start = today - chrono::Duration::days(rng.range(10, 365));
        let close = if stage.is_open() {
            today + chrono::Duration::days(rng.range(-30, 180))
        } else {
            std::cmp::min(start + chrono::Duration::days(rng.range(10, 120)), today)
        };
        let short: String = accts[ai].name.chars().take(8).collect();
        let (booked, booked_on) = if stage == Stage::Won {
            (Some(amount / 100 * rng.range(85, 100)), Some(day(close)))
        } else {
            (None, None)
        };
        let (lost_reason, lost_to) = if stage == Stage::Lost {
            (Some("价格高于竞争对手".to_string()), Some(RIVALS[rng.below(6) as usize].to_string()))
        } else {
            (None, None)
        };
        oins.row(
            tx.conn(),
            vec![
                Cell::Shared(1),
                Cell::Shared(1),
                Cell::Lit("1"),
                Cell::Lit("'CNY'"),
                v(id),
                v(ai as i64 + 1),
                v(format!("{short}{}", KINDS[rng.below(6) as usize])),
                v(amount),
                v(day(close)),
                v(stage.code()),
                v(stage.probability()),
                v(owner),
                v(format!("{}T09:00:00.000000Z", day(start))),
                v(booked),
                v(booked_on),
                v(lost_reason.clone()),
                v(lost_to),
            ],
        )
        .await
        .context("inserting opportunities")?;
        let last = match stage {
            Stage::Won => 4,
            Stage::Lost => rng.below(4) as usize,
            s => s.rank().unwrap_or(0),
        };
        let mut steps: Vec<Stage> = OPEN[..=last].to_vec();
        if !stage.is_open() {
            steps.push(stage);
        }
        let span = (std::cmp::min(close, today) - start).num_days().max(steps.len() as i64);
        let mut from: Option<Stage> = None;
        for (j, st) in steps.iter().enumerate() {
            let at = start + chrono::Duration::days(span * j as i64 / steps.len() as i64);
            pending_history.push(vec![
                v(id),
                v(format!("{}T09:00:00.000000Z", day(at))),
                Cell::Lit("'dataset'"),
                v(from.map(|f| f.code())),
                v(st.code()),
                v(if *st == Stage::Won { booked.unwrap_or(amount) } else { amount }),
                v(day(close)),
                v((*st == Stage::Lost).then(|| lost_reason.clone()).flatten()),
                Cell::Lit("0"),
            ]);
            from = Some(*st);
        }
        // History rows refer to their opportunity: written once the opportunities before them are.
        if (k + 1) % 1_000 == 0 || k + 1 == n_opps {
            oins.flush(tx.conn()).await.context("inserting opportunities")?;
            for row in pending_history.drain(..) {
                hins.row(tx.conn(), row).await.context("inserting opportunity history")?;
            }
        }
    }
    oins.flush(tx.conn()).await.context("inserting opportunities")?;
    hins.flush(tx.conn()).await.context("inserting opportunity history")?;
    if db.backend == Backend::Postgres {
        // Explicit ids leave the identity sequences behind; move them past the data.
        for t in ["accounts", "contacts", "opportunities"] {
            sqlx::query(&format!("SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT MAX(id) FROM {t}))"))
                .execute(tx.conn())
                .await
                .with_context(|| format!("advancing the id sequence of {t}"))?;
        }
    }

    let summary =
        Summary { org_units, users: uw.n, accounts: ins.total, contacts: cins.total, opportunities: oins.total };
    let after = json!({
        "profile": profile, "seed": seed, "org_units": summary.org_units, "users": summary.users,
        "accounts": summary.accounts, "contacts": summary.contacts, "account_access": access.total,
        "opportunities": summary.opportunities, "opportunity_history": hins.total,
        "note": "users, accounts, account_access and contacts are bulk-loaded without per-row audit entries",
    });
    audit::record(&mut tx, &ctx, "dataset", profile, "generate", None, Some(&after)).await?;
    // Who sees which account, derived once from the bulk-loaded ownership.
    crate::app::visibility::rebuild_all(tx.conn()).await?;
    // The funnel's totals, from the bulk-loaded opportunities.
    crate::app::totals::rebuild_all(tx.conn()).await?;
    tx.commit().await.context("committing the dataset")?;

    // Fresh statistics, so the planner knows the tables' sizes (both backends: outside the load).
    // On PostgreSQL also VACUUM: it marks the freshly written pages all-visible, without which
    // every index-only scan reads the table too, until autovacuum gets there.
    let stats = if db.backend == crate::db::Backend::Postgres { "VACUUM ANALYZE" } else { "ANALYZE" };
    sqlx::query(stats).execute(&db.pool).await.context("ANALYZE")?;
    Ok(summary)
}

/// Writes users with direct SQL and the one shared password hash.
struct UserWriter<'a> {
    hash: &'a str,
    ts: &'a str,
    n: usize,
}

impl UserWriter<'_> {
    #[allow(clippy::too_many_arguments)]
    async fn add(
        &mut self,
        tx: &mut WriteTx,
        username: String,
        display: String,
        role: Role,
        org_id: i64,
        manager: Option<i64>,
        sales_type: Option<SalesType>,
    ) -> anyhow::Result<i64> {
        let id: i64 = sqlx::query(
            "INSERT INTO users (username, display_name, role, org_unit_id, manager_id, sales_type, active, \
             password_hash, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8, $8) RETURNING id",
        )
        .bind(username.clone())
        .bind(display)
        .bind(role.code())
        .bind(org_id)
        .bind(manager)
        .bind(sales_type.map(|s| s.code().to_string()))
        .bind(self.hash.to_string())
        .bind(self.ts.to_string())
        .fetch_one(tx.conn())
        .await
        .with_context(|| format!("user {username}"))?
        .try_get("id")?;
        self.n += 1;
        Ok(id)
    }
}

async fn count(tx: &mut WriteTx, table: &str) -> anyhow::Result<i64> {
    Ok(sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}")).fetch_one(tx.conn()).await?.try_get("n")?)
}

use crate::rng::Rng;

// ---------------------------------------------------------------------------------------------
// Geography: 18 regions of three branch cities each, with their administrative division codes
// (the 3rd–8th characters of a credit code).

struct Region {
    name: &'static str,
    cities: [(&'static str, &'static str); 3],
}

const fn reg(name: &'static str, cities: [(&'static str, &'static str); 3]) -> Region {
    Region { name, cities }
}

#[rustfmt::skip]
const REGIONS: &[Region] = &[
    reg("华北一区", [("北京", "110000"), ("天津", "120000"), ("石家庄", "130100")]),
    reg("华北二区", [("唐山", "130200"), ("保定", "130600"), ("廊坊", "131000")]),
    reg("华北三区", [("太原", "140100"), ("大同", "140200"), ("呼和浩特", "150100")]),
    reg("东北一区", [("沈阳", "210100"), ("大连", "210200"), ("鞍山", "210300")]),
    reg("东北二区", [("长春", "220100"), ("吉林", "220200"), ("哈尔滨", "230100")]),
    reg("华东一区", [("上海", "310000"), ("苏州", "320500"), ("无锡", "320200")]),
    reg("华东二区", [("南京", "320100"), ("常州", "320400"), ("南通", "320600")]),
    reg("华东三区", [("杭州", "330100"), ("宁波", "330200"), ("温州", "330300")]),
    reg("华东四区", [("济南", "370100"), ("青岛", "370200"), ("烟台", "370600")]),
    reg("华中一区", [("武汉", "420100"), ("宜昌", "420500"), ("襄阳", "420600")]),
    reg("华中二区", [("郑州", "410100"), ("洛阳", "410300"), ("长沙", "430100")]),
    reg("华南一区", [("广州", "440100"), ("佛山", "440600"), ("东莞", "441900")]),
    reg("华南二区", [("深圳", "440300"), ("珠海", "440400"), ("惠州", "441300")]),
    reg("华南三区", [("福州", "350100"), ("厦门", "350200"), ("南宁", "450100")]),
    reg("西南一区", [("成都", "510100"), ("绵阳", "510700"), ("贵阳", "520100")]),
    reg("西南二区", [("重庆", "500000"), ("昆明", "530100"), ("拉萨", "540100")]),
    reg("西北一区", [("西安", "610100"), ("宝鸡", "610300"), ("兰州", "620100")]),
    reg("西北二区", [("银川", "640100"), ("西宁", "630100"), ("乌鲁木齐", "650100")]),
];

// ---------------------------------------------------------------------------------------------
// Accounts.

struct Acct {
    region: usize,
    /// Branch index within the region.
    branch: usize,
    name: String,
    short_name: String,
    credit_code: String,
    industry: &'static str,
    level: &'static str,
    status: &'static str,
    tier: Option<&'static str>,
    address: Option<String>,
    buying_power: Option<i64>,
    sales_12m: Option<i64>,
    credit_grade: Option<&'static str>,
    credit_limit: Option<i64>,
    credit_score: Option<i64>,
    owner: Option<i64>,
    inside_owner: Option<i64>,
}

/// Industries as in a real L3 base: (code, weight in per cent).
const INDUSTRIES: &[(&str, u64)] = &[
    ("enterprise", 45),
    ("government", 15),
    ("education", 10),
    ("finance", 8),
    ("power", 6),
    ("telecom", 6),
    ("military", 4),
    ("other", 6),
];

/// Characters of trade names (字号); a name's characters are digits of a permuted counter.
#[rustfmt::skip]
const TRADE: &[char] = &[
    '华', '信', '瑞', '德', '恒', '泰', '鑫', '宏', '达', '安', '康', '盛', '源', '通', '博', '远', '创', '新', '科', '联', '兴', '隆', '和', '丰', '嘉', '明', '光', '辉', '锦', '正', '诚', '宇', '腾', '天', '海', '峰', '睿', '智', '汇', '鼎', '晟', '昊', '晨', '立', '佳', '合', '富', '荣', '顺', '成', '金', '星', '云', '润', '万', '中', '方', '广', '永', '长', '凯', '迪', '捷', '驰', '航', '越', '卓', '尚', '优', '锐', '拓', '奥', '泽', '清', '启', '振', '伟', '峻', '弘', '毅', '铭', '昌', '晖', '亿', '融', '聚', '美', '奇', '龙', '东', '南', '北', '岳', '川', '益', '协', '同', '利', '元', '祥',
];

/// Name patterns per industry: (middle word, suffix, weight). A government "district" is a
/// generated place name, so names stay unique without a real gazetteer.
fn name_parts(rng: &mut Rng, industry: &str) -> (&'static str, &'static str, &'static str) {
    // (joiner after the city, middle, suffix)
    let pick = |rng: &mut Rng, xs: &[(&'static str, &'static str, &'static str, u64)]| {
        let w: Vec<u64> = xs.iter().map(|x| x.3).collect();
        let x = xs[rng.weighted(&w)];
        (x.0, x.1, x.2)
    };
    match industry {
        "enterprise" => pick(
            rng,
            &[
                ("", "科技", "有限公司", 20),
                ("", "电子", "有限公司", 12),
                ("", "精密制造", "有限公司", 8),
                ("", "信息技术", "股份有限公司", 10),
                ("", "智能装备", "有限公司", 8),
                ("", "新材料", "股份有限公司", 6),
                ("", "实业", "有限公司", 8),
                ("", "机电", "有限公司", 8),
                ("", "软件", "有限公司", 8),
                ("", "自动化", "股份有限公司", 6),
                ("", "汽车零部件", "有限公司", 6),
            ],
        ),
        "government" => pick(
            rng,
            &[
                ("市", "区公安", "局", 12),
                ("市", "区交通运输", "局", 10),
                ("市", "区生态环境", "局", 8),
                ("市", "区市场监督管理", "局", 10),
                ("市", "区自然资源", "局", 8),
                ("市", "区住房和城乡建设", "局", 8),
                ("市", "区应急管理", "局", 8),
                ("市", "区税务", "局", 10),
                ("市", "区卫生健康委员会", "", 8),
                ("市", "区大数据", "中心", 8),
                ("市", "区人民", "法院", 10),
            ],
        ),
        "education" => pick(
            rng,
            &[
                ("", "", "大学", 20),
                ("", "理工", "学院", 15),
                ("", "职业技术", "学院", 25),
                ("", "师范", "学院", 10),
                ("", "实验", "中学", 20),
                ("", "信息工程", "学校", 10),
            ],
        ),
        "finance" => pick(
            rng,
            &[
                ("", "农村商业银行", "股份有限公司", 30),
                ("", "银行", "股份有限公司", 15),
                ("", "保险", "股份有限公司", 15),
                ("", "证券", "有限责任公司", 15),
                ("", "融资租赁", "有限公司", 15),
                ("", "信托", "有限责任公司", 10),
            ],
        ),
        "power" => pick(
            rng,
            &[
                ("", "供电", "局", 25),
                ("", "电力", "有限公司", 25),
                ("", "发电", "有限公司", 20),
                ("", "新能源", "股份有限公司", 20),
                ("", "能源", "集团有限公司", 10),
            ],
        ),
        "telecom" => pick(
            rng,
            &[
                ("", "通信", "有限公司", 35),
                ("", "网络科技", "有限公司", 30),
                ("", "信息通信", "有限公司", 20),
                ("", "数据", "有限公司", 15),
            ],
        ),
        "military" => pick(
            rng,
            &[
                ("", "电子", "研究所", 40),
                ("", "装备", "研究院", 25),
                ("", "光电", "研究所", 20),
                ("", "机械", "厂", 15),
            ],
        ),
        _ => pick(
            rng,
            &[
                ("", "人民", "医院", 20),
                ("", "物流", "有限公司", 25),
                ("", "商贸", "有限公司", 20),
                ("", "建设集团", "有限公司", 20),
                ("", "文化传媒", "有限公司", 15),
            ],
        ),
    }
}

/// 31^9: the number of 9-character organisation parts of a credit code.
const CODE_SPACE: u64 = 26_439_622_160_671;
const CODE_CHARS: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// One account; `i` is its index (id − 1), which makes its credit code unique.
fn account(
    rng: &mut Rng,
    i: usize,
    n: usize,
    region: usize,
    branch: usize,
    org_off: u64,
    names: &mut HashSet<String>,
) -> anyhow::Result<Acct> {
    let industry = INDUSTRIES[rng.weighted(&INDUSTRIES.iter().map(|x| x.1).collect::<Vec<_>>())].0;
    let level = ["L1", "L2", "L3"][rng.weighted(&[3, 12, 85])];
    let (city, division) = REGIONS[region].cities[branch];

    // Name: city + trade name (2–3 characters, a permuted counter) + pattern; unique by
    // construction for the counter, and checked, since patterns of different lengths could meet.
    let (joiner, middle, suffix) = name_parts(rng, industry);
    let p = TRADE.len() as u64;
    let space = p * p * p;
    let mut attempt = 0u64;
    let (name, trade) = loop {
        // 7919 is prime and coprime with 100³: multiplication permutes the counter space.
        let x = ((i as u64 + attempt * n as u64) * 7919 + 104_729) % space;
        let (d0, d1, d2) = (x / (p * p), (x / p) % p, x % p);
        let mut trade = String::new();
        if d0 >= 25 {
            trade.push(TRADE[d0 as usize]);
        }
        trade.push(TRADE[d1 as usize]);
        trade.push(TRADE[d2 as usize]);
        let name = format!("{city}{joiner}{trade}{middle}{suffix}");
        if names.insert(name.clone()) {
            break (name, trade);
        }
        attempt += 1;
        anyhow::ensure!(attempt < 1000, "cannot find a unique account name for #{i}");
    };
    let short_name = format!("{trade}{}", middle.trim_start_matches('区'));

    // Credit code: registration authority and type by industry, the city's division, and a
    // 9-character organisation part from the index (a bijection on 31^9), then the check char.
    let authority = match industry {
        "government" => "11",
        "education" | "military" => "12",
        _ => "91",
    };
    let mut x = ((i as u128 * 4_294_967_311u128 + org_off as u128) % CODE_SPACE as u128) as u64;
    let mut org = [b'0'; 9];
    for c in org.iter_mut().rev() {
        *c = CODE_CHARS[(x % 31) as usize];
        x /= 31;
    }
    let first17 = format!("{authority}{division}{}", std::str::from_utf8(&org)?);
    let credit_code = CreditCode::complete(&first17).context("credit code")?.as_str().to_string();

    // Buying power: a mantissa 100–999 times a power of ten of yuan, by level.
    let exp_weights: &[u64] = match level {
        "L1" => &[0, 10, 50, 40],
        "L2" => &[0, 45, 50, 5],
        _ => &[35, 50, 15, 0],
    };
    let decade = 10i64.pow(2 + rng.weighted(exp_weights) as u32); // 100 → 10k–99.9k yuan
    let bp_yuan = rng.range(100, 999) * decade;
    let buying_power = (!rng.pct(5)).then_some(bp_yuan * 100);
    // Share of wallet: R > 50%, D 10–50%, A < 10% (top accounts are better penetrated).
    let sow_weights: &[u64] = match level {
        "L1" => &[40, 40, 20],
        "L2" => &[25, 40, 35],
        _ => &[10, 30, 60],
    };
    let sow = match rng.weighted(sow_weights) {
        0 => rng.range(5_100, 9_500),
        1 => rng.range(1_000, 4_900),
        _ => {
            if rng.pct(40) {
                0
            } else {
                rng.range(50, 950)
            }
        }
    };
    let sales_12m = (sow > 0).then(|| bp_yuan * 100 * sow / 10_000 + rng.range(0, 99));

    let (status, tier) = match level {
        "L1" => ("key_account", Some(if rng.pct(30) { "strategic" } else { "A" })),
        "L2" => (if rng.pct(25) { "candidate" } else { "prospect" }, Some("B")),
        _ => (if rng.pct(2) { "downgraded" } else { "prospect" }, rng.pct(20).then_some("C")),
    };

    let (credit_grade, credit_limit, credit_score) = if rng.pct(70) {
        let g = ["green", "yellow", "red", "black"][rng.weighted(&[55, 30, 10, 5])];
        let (limit_share, score) = match g {
            "green" => (10, rng.range(80, 100)),
            "yellow" => (5, rng.range(60, 79)),
            "red" => (0, rng.range(40, 59)),
            _ => (0, rng.range(0, 39)),
        };
        // Limits in whole thousands of yuan.
        let limit = buying_power.map(|bp| bp * limit_share / 100 / 100_000 * 100_000);
        (Some(g), limit, Some(score))
    } else {
        (None, None, None)
    };

    let address = rng.pct(80).then(|| {
        let road = *rng.pick(&["人民路", "建设路", "解放路", "中山路", "科技路", "创新大道", "高新大道", "学府路"]);
        format!("{city}市{road}{}号", rng.range(1, 999))
    });

    Ok(Acct {
        region,
        branch,
        name,
        short_name,
        credit_code,
        industry,
        level,
        status,
        tier,
        address,
        buying_power,
        sales_12m,
        credit_grade,
        credit_limit,
        credit_score,
        owner: None,
        inside_owner: None,
    })
}

// ---------------------------------------------------------------------------------------------
// People.

#[rustfmt::skip]
const SURNAMES: &[(&str, u64)] = &[
    ("王", 72), ("李", 72), ("张", 69), ("刘", 53), ("陈", 45), ("杨", 31), ("黄", 23), ("赵", 20),
    ("吴", 20), ("周", 19), ("徐", 15), ("孙", 15), ("马", 13), ("朱", 13), ("胡", 12), ("郭", 11),
    ("何", 11), ("高", 10), ("林", 10), ("罗", 10), ("郑", 9), ("梁", 9), ("谢", 8), ("宋", 7),
    ("唐", 7), ("许", 7), ("韩", 6), ("冯", 6), ("邓", 6), ("曹", 6), ("彭", 5), ("曾", 5),
    ("肖", 5), ("田", 5), ("董", 5), ("袁", 5), ("潘", 4), ("于", 4), ("蒋", 4), ("蔡", 4),
    ("余", 4), ("杜", 4), ("叶", 4), ("程", 4), ("苏", 4), ("魏", 4), ("吕", 4), ("丁", 4),
    ("任", 3), ("沈", 3), ("姚", 3), ("卢", 3), ("姜", 3), ("崔", 3), ("钟", 3), ("谭", 3),
    ("陆", 3), ("汪", 3), ("范", 3), ("金", 3), ("石", 3), ("廖", 3), ("贾", 3), ("夏", 3),
];
#[rustfmt::skip]
const GIVEN_M: &[&str] = &[
    "伟", "强", "磊", "军", "洋", "勇", "杰", "涛", "明", "超", "斌", "鹏", "辉", "华", "建", "国", "志", "海", "波", "宇", "浩", "俊", "峰", "刚", "飞", "东", "晨", "凯", "文", "平", "林", "亮",
];
#[rustfmt::skip]
const GIVEN_F: &[&str] = &[
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "婷", "雪", "琳", "洁", "颖", "慧", "欣", "倩", "玲", "燕", "晶", "萍", "红", "梅", "佳", "悦", "璐", "怡", "瑶", "岚", "蕾", "雯", "莉", "薇",
];

/// A Chinese name and its gender code.
fn person_name(rng: &mut Rng) -> (String, &'static str) {
    let w: Vec<u64> = SURNAMES.iter().map(|s| s.1).collect();
    let surname = SURNAMES[rng.weighted(&w)].0;
    let (pool, gender) = if rng.pct(65) { (GIVEN_M, "male") } else { (GIVEN_F, "female") };
    let mut name = surname.to_string();
    for _ in 0..rng.range(1, 2) {
        let given = *rng.pick::<&str>(pool);
        name.push_str(given);
    }
    (name, gender)
}

/// Departments and titles of a buying committee; the first is the decision maker.
fn committee(industry: &str) -> &'static [(&'static str, &'static str)] {
    match industry {
        "government" => &[
            ("局领导", "局长"),
            ("办公室", "办公室主任"),
            ("信息中心", "信息中心主任"),
            ("规划财务科", "科长"),
            ("信息中心", "工程师"),
            ("办公室", "科员"),
        ],
        "education" => &[
            ("校领导", "副校长"),
            ("信息化建设与管理处", "处长"),
            ("资产与实验室管理处", "处长"),
            ("招标采购中心", "采购专员"),
            ("计算机学院", "教授"),
            ("网络中心", "工程师"),
        ],
        "finance" => &[
            ("行领导", "副行长"),
            ("金融科技部", "总经理"),
            ("集中采购部", "采购主管"),
            ("运营管理部", "经理"),
            ("信息安全部", "高级工程师"),
            ("办公室", "主任"),
        ],
        "power" | "telecom" => &[
            ("公司领导", "副总经理"),
            ("信息通信分公司", "主任"),
            ("物资部", "主任"),
            ("运维检修部", "专责"),
            ("科技互联网部", "处长"),
            ("调度控制中心", "工程师"),
        ],
        "military" => &[
            ("所领导", "副所长"),
            ("科研计划处", "处长"),
            ("物资保障处", "采购主管"),
            ("总体设计部", "主任设计师"),
            ("质量部", "质量工程师"),
            ("信息中心", "工程师"),
        ],
        _ => &[
            ("总经理办公室", "总经理"),
            ("信息中心", "信息中心主任"),
            ("采购部", "采购经理"),
            ("技术部", "技术总监"),
            ("财务部", "财务总监"),
            ("研发中心", "研发工程师"),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn scalar(db: &Db, sql: &str) -> i64 {
        sqlx::query(sql).fetch_one(&db.pool).await.unwrap().try_get::<i64, _>("n").unwrap()
    }

    const TINY: Scale = Scale {
        regions: 2,
        branches_per_region: 3,
        aes: 4,
        srs: 6,
        accounts: 600,
        contacts_per_account: 4,
        opportunities: 2_000,
    };

    async fn fresh(dir: &tempfile::TempDir, file: &str) -> Db {
        let db = Db::connect(&format!("sqlite://{}", dir.path().join(file).display())).await.unwrap();
        db.migrate().await.unwrap();
        db
    }

    #[tokio::test]
    async fn generates_a_tiny_dataset_once() {
        let dir = tempfile::tempdir().unwrap();
        let db = fresh(&dir, "tiny.db").await;
        let s = generate_scaled(&db, "tiny", TINY, 42, "bench-pass").await.unwrap();
        assert_eq!(
            s,
            Summary {
                org_units: 1 + 2 + 6,
                users: 2 + 2 + 6 + 2 + 4 + 6,
                accounts: 600,
                contacts: 2400,
                opportunities: 2000
            }
        );
        // Every stage is populated, and each opportunity's current stage ends its history.
        assert_eq!(scalar(&db, "SELECT COUNT(DISTINCT stage) AS n FROM opportunities").await, 7);
        assert_eq!(
            scalar(
                &db,
                "SELECT COUNT(*) AS n FROM opportunities o WHERE o.stage <> (SELECT h.stage FROM opportunity_history h \
                 WHERE h.opportunity_id = o.id ORDER BY h.at DESC, h.id DESC LIMIT 1)"
            )
            .await,
            0
        );
        assert_eq!(scalar(&db, "SELECT COUNT(*) AS n FROM org_units").await, 9);
        assert_eq!(scalar(&db, "SELECT COUNT(*) AS n FROM users").await, s.users as i64);
        assert_eq!(scalar(&db, "SELECT COUNT(*) AS n FROM accounts").await, 600);
        assert_eq!(scalar(&db, "SELECT COUNT(*) AS n FROM contacts").await, 2400);
        assert_eq!(scalar(&db, "SELECT COUNT(DISTINCT name) AS n FROM accounts").await, 600);

        for r in sqlx::query("SELECT credit_code FROM accounts").fetch_all(&db.pool).await.unwrap() {
            let code: Option<String> = r.try_get("credit_code").unwrap();
            let code = code.expect("every account has a credit code");
            assert!(CreditCode::parse(&code).is_ok(), "{code}");
        }
        let rad: HashSet<String> = sqlx::query("SELECT DISTINCT rad_class FROM accounts WHERE rad_class IS NOT NULL")
            .fetch_all(&db.pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.try_get::<String, _>("rad_class").unwrap())
            .collect();
        assert!(rad.len() >= 8, "RAD classes present: {rad:?}");

        // Scope depends on access rows: one per owner, inside owner and KA manager.
        for (col, via) in [("owner_id", "owner"), ("inside_owner_id", "inside_owner"), ("ka_manager_id", "ka_manager")]
        {
            let missing = scalar(
                &db,
                &format!(
                    "SELECT COUNT(*) AS n FROM accounts a WHERE a.{col} IS NOT NULL AND NOT EXISTS \
                     (SELECT 1 FROM account_access x WHERE x.account_id = a.id AND x.user_id = a.{col} AND x.via = '{via}')"
                ),
            )
            .await;
            assert_eq!(missing, 0, "{via}");
            let owned = scalar(&db, &format!("SELECT COUNT(*) AS n FROM accounts WHERE {col} IS NOT NULL")).await;
            assert!(owned > 0, "no account has a {via}");
            let rows = scalar(&db, &format!("SELECT COUNT(*) AS n FROM account_access WHERE via = '{via}'")).await;
            assert_eq!(rows, owned, "{via}");
        }
        // Outside reps own top accounts of their own region; inside sales most of the base.
        let wrong_region = scalar(
            &db,
            "SELECT COUNT(*) AS n FROM accounts a JOIN users u ON u.id = a.owner_id JOIN org_units b ON b.id = u.org_unit_id \
             WHERE b.parent_id <> a.region_id OR a.level = 'L3' OR u.sales_type <> 'ae'",
        )
        .await;
        assert_eq!(wrong_region, 0);
        let unowned =
            scalar(&db, "SELECT COUNT(*) AS n FROM accounts WHERE owner_id IS NULL AND inside_owner_id IS NULL").await;
        assert!((20..=110).contains(&unowned), "unowned: {unowned}");
        // Contacts: the first of each account is the boss, everyone else reports within the account.
        let bosses = scalar(&db, "SELECT COUNT(*) AS n FROM contacts WHERE reports_to IS NULL").await;
        assert_eq!(bosses, 600);
        let cross = scalar(
            &db,
            "SELECT COUNT(*) AS n FROM contacts c JOIN contacts b ON b.id = c.reports_to WHERE b.account_id <> c.account_id",
        )
        .await;
        assert_eq!(cross, 0);
        assert!(scalar(&db, "SELECT COUNT(*) AS n FROM audit_log WHERE entity = 'dataset'").await == 1);

        // The password works for a generated user.
        let app = crate::app::App { db: db.clone(), settings: Default::default() };
        assert!(crate::app::auth::login(&app, "sr001", "bench-pass", None, "t").await.is_ok());

        // A second run refuses.
        let err = generate_scaled(&db, "tiny", TINY, 42, "bench-pass").await.unwrap_err();
        assert!(err.to_string().contains("empty database"), "{err}");
        // Unknown profiles are refused.
        assert!(generate(&db, "l9-1m", 1, "bench-pass").await.is_err());
    }

    #[tokio::test]
    async fn is_deterministic_for_a_seed() {
        let dir = tempfile::tempdir().unwrap();
        let small = Scale { accounts: 150, ..TINY };
        let dump = |db: Db| async move {
            sqlx::query(
                "SELECT a.id, a.name, a.credit_code, a.buying_power, a.sales_12m, a.owner_id, a.inside_owner_id, \
                 c.name AS contact FROM accounts a JOIN contacts c ON c.account_id = a.id ORDER BY c.id",
            )
            .fetch_all(&db.pool)
            .await
            .unwrap()
            .iter()
            .map(|r| {
                format!(
                    "{}|{}|{:?}|{:?}|{:?}|{:?}|{:?}|{}",
                    r.try_get::<i64, _>("id").unwrap(),
                    r.try_get::<String, _>("name").unwrap(),
                    r.try_get::<Option<String>, _>("credit_code").unwrap(),
                    r.try_get::<Option<i64>, _>("buying_power").unwrap(),
                    r.try_get::<Option<i64>, _>("sales_12m").unwrap(),
                    r.try_get::<Option<i64>, _>("owner_id").unwrap(),
                    r.try_get::<Option<i64>, _>("inside_owner_id").unwrap(),
                    r.try_get::<String, _>("contact").unwrap(),
                )
            })
            .collect::<Vec<_>>()
        };
        let a = fresh(&dir, "a.db").await;
        let b = fresh(&dir, "b.db").await;
        let c = fresh(&dir, "c.db").await;
        generate_scaled(&a, "tiny", small, 7, "bench-pass").await.unwrap();
        generate_scaled(&b, "tiny", small, 7, "bench-pass").await.unwrap();
        generate_scaled(&c, "tiny", small, 8, "bench-pass").await.unwrap();
        let (da, db_, dc) = (dump(a).await, dump(b).await, dump(c).await);
        assert_eq!(da, db_);
        assert_ne!(da, dc);
    }
}
