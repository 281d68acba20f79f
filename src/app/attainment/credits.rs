//! Attainment by org unit and month under the sales-credit split, and the KA department's
//! virtual profit centre.
//!
//! Every signed order that is not cancelled credits two sides, read from the orders themselves
//! (a revised order counts by its latest signed version, a cancelled one not at all):
//! - **the KA team**: the org unit where the account's KA manager sits (the account's region
//!   when it has none);
//! - **the branch where the deal happened**: the account's branch.
//!
//! Each side is credited its share of the order's signed total (revenue) and of its margin over
//! the catalogue's standard cost (profit), by the split in force when the order was signed
//! (the share applies to a unit's month's sum, rounded to the fen). Quotas are the org unit's
//! monthly quotas (revenue and profit). The region and HQ totals count each order once, whole —
//! never the two sides' credits added up.
//!
//! The virtual profit centre of the KA department: the KA teams' credited revenue and profit
//! by month, minus the KA department's costs — the spending signed or approved (spent) on its
//! cost centres: headquarters (the KA department) and every KA team's org unit.
//!
//! Who sees it: the KA director, the sales department manager, the general manager and the
//! finance manager everything; branch managers and KA managers the units of their own part of
//! the org tree (another unit: 404); anyone else 403. The profit centre is the department's:
//! those who see everything.
use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use sqlx::Row;

use super::split::{self, sees_own_part, Shares, FULL};
pub use super::split::{may_see, sees_all};
use crate::app::spreadsheets::export::Table;
use crate::app::{Caller, Error, Result};
use crate::db::Db;
use crate::domain::money::{div_round, format_bp, format_fen};

/// Credited (or counted) revenue and profit against the quota of one month or a year.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct AttainmentCell {
    /// `YYYY-MM`, or empty for the year.
    pub month: String,
    /// Orders counted.
    pub orders: i64,
    #[schema(value_type = crate::web::api::contract::Money)]
    pub revenue: String,
    #[schema(value_type = crate::web::api::contract::Money)]
    pub profit: String,
    #[schema(value_type = crate::web::api::contract::Money)]
    pub quota_revenue: String,
    #[schema(value_type = crate::web::api::contract::Money)]
    pub quota_profit: String,
    /// Revenue ÷ its quota in percent ("87.50"), null without a quota.
    pub revenue_pct: Option<String>,
    /// Profit ÷ its quota in percent, null without a quota.
    pub profit_pct: Option<String>,
}

/// One org unit's attainment as one side of the split.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UnitAttainment {
    /// `ka_team` or `branch`.
    pub side: String,
    pub code: String,
    pub name: String,
    /// `hq`, `region` or `branch`.
    pub kind: String,
    /// The side's share in force now, in percent.
    pub share: String,
    pub months: Vec<AttainmentCell>,
    pub total: AttainmentCell,
}

/// A region's (or headquarters') orders, each counted once.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OnceTotal {
    pub code: String,
    pub name: String,
    pub months: Vec<AttainmentCell>,
    pub total: AttainmentCell,
}

/// Attainment of a year.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Attainment {
    pub year: i32,
    /// The split in force now ("100.00" / "100.00" by default).
    pub team_share: String,
    pub branch_share: String,
    /// The KA teams, credited.
    pub teams: Vec<UnitAttainment>,
    /// The branches, credited.
    pub branches: Vec<UnitAttainment>,
    /// The regions the caller sees, each order once.
    pub regions: Vec<OnceTotal>,
    /// Headquarters: every order once (those who see everything).
    pub hq: Option<OnceTotal>,
}

#[derive(Default, Clone, Copy)]
struct Sum {
    n: i64,
    rev: i64,
    prof: i64,
    qr: i64,
    qp: i64,
}

impl Sum {
    fn add(&mut self, o: Sum) {
        self.n += o.n;
        self.rev += o.rev;
        self.prof += o.prof;
        self.qr += o.qr;
        self.qp += o.qp;
    }
    fn cell(self, month: String) -> AttainmentCell {
        AttainmentCell {
            month,
            orders: self.n,
            revenue: format_fen(self.rev),
            profit: format_fen(self.prof),
            quota_revenue: format_fen(self.qr),
            quota_profit: format_fen(self.qp),
            revenue_pct: pct(self.rev, self.qr),
            profit_pct: pct(self.prof, self.qp),
        }
    }
}

fn pct(v: i64, of: i64) -> Option<String> {
    (of > 0).then(|| format_bp(div_round(v.saturating_mul(10_000), of)))
}

fn months(year: i32) -> Vec<String> {
    (1..=12).map(|m| format!("{year:04}-{m:02}")).collect()
}

fn month_idx(m: &str) -> Option<usize> {
    m.get(5..7).and_then(|x| x.parse::<usize>().ok()).filter(|x| (1..=12).contains(x)).map(|x| x - 1)
}

/// An org unit: (code, name, kind, path, parent id).
#[derive(Clone)]
struct Unit {
    code: String,
    name: String,
    kind: String,
    path: String,
}

async fn units(conn: &mut sqlx::AnyConnection) -> Result<BTreeMap<i64, Unit>> {
    let mut out = BTreeMap::new();
    for r in sqlx::query("SELECT id, code, name, kind, path FROM org_units ORDER BY path").fetch_all(conn).await? {
        out.insert(
            r.try_get("id")?,
            Unit {
                code: r.try_get("code")?,
                name: r.try_get("name")?,
                kind: r.try_get("kind")?,
                path: r.try_get("path")?,
            },
        );
    }
    Ok(out)
}

/// One group of a year's orders: the sides it credits, its region, month and split.
struct Group {
    team: Option<i64>,
    branch: Option<i64>,
    region: Option<i64>,
    month: usize,
    split: Option<i64>,
    n: i64,
    rev: i64,
    prof: i64,
}

/// The year's signed orders (not cancelled), grouped by side, region, month and split.
async fn groups(conn: &mut sqlx::AnyConnection, year: i32) -> Result<Vec<Group>> {
    let (from, to) = (format!("{year:04}-01-01"), format!("{:04}-01-01", year + 1));
    let rows = sqlx::query(
        "SELECT t.team_unit, t.branch_unit, t.region_id, t.month, t.split_id, COUNT(*) AS n, \
         CAST(COALESCE(SUM(t.revenue), 0) AS BIGINT) AS rev, CAST(COALESCE(SUM(t.profit), 0) AS BIGINT) AS prof FROM \
         (SELECT COALESCE(km.org_unit_id, a.region_id) AS team_unit, a.branch_id AS branch_unit, a.region_id, \
          SUBSTR(o.signed_at, 1, 7) AS month, o.signed_total AS revenue, v.total_excl - v.cost AS profit, \
          (SELECT MAX(s.id) FROM credit_splits s WHERE s.effective_at <= o.signed_at) AS split_id \
          FROM orders o JOIN order_versions v ON v.order_id = o.id AND v.version_no = o.signed_version \
          JOIN accounts a ON a.id = o.account_id LEFT JOIN users km ON km.id = a.ka_manager_id \
          WHERE o.signed_version IS NOT NULL AND o.state <> 'cancelled' AND o.signed_at >= $1 AND o.signed_at < $2) t \
         GROUP BY t.team_unit, t.branch_unit, t.region_id, t.month, t.split_id",
    )
    .bind(from)
    .bind(to)
    .fetch_all(conn)
    .await?;
    let mut out = vec![];
    for r in rows {
        let m: String = r.try_get("month")?;
        let Some(month) = month_idx(&m) else { continue };
        out.push(Group {
            team: r.try_get("team_unit")?,
            branch: r.try_get("branch_unit")?,
            region: r.try_get("region_id")?,
            month,
            split: r.try_get("split_id")?,
            n: r.try_get("n")?,
            rev: r.try_get("rev")?,
            prof: r.try_get("prof")?,
        });
    }
    Ok(out)
}

/// The credits of one side: unit → month → (orders, revenue, profit), the share applied to each
/// split's sum.
fn credit(gs: &[Group], splits: &[Shares], team_side: bool) -> HashMap<i64, [Sum; 12]> {
    // (unit, month, split) → raw sums first, then the share.
    let mut raw: HashMap<(i64, usize, Option<i64>), Sum> = HashMap::new();
    for g in gs {
        let Some(unit) = (if team_side { g.team } else { g.branch }) else { continue };
        let s = raw.entry((unit, g.month, g.split)).or_default();
        s.n += g.n;
        s.rev += g.rev;
        s.prof += g.prof;
    }
    let mut out: HashMap<i64, [Sum; 12]> = HashMap::new();
    for ((unit, month, split_id), s) in raw {
        let bp = split_id
            .and_then(|id| splits.iter().find(|x| x.id == id))
            .map(|x| if team_side { x.team_bp } else { x.branch_bp })
            .unwrap_or(FULL);
        let cell = &mut out.entry(unit).or_insert([Sum::default(); 12])[month];
        cell.n += s.n;
        cell.rev += div_round(s.rev.saturating_mul(bp), FULL);
        cell.prof += div_round(s.prof.saturating_mul(bp), FULL);
    }
    out
}

/// The org units' quotas of the year: unit → month → (revenue, profit).
async fn quotas(conn: &mut sqlx::AnyConnection, year: i32) -> Result<HashMap<i64, [(i64, i64); 12]>> {
    let rows = sqlx::query(
        "SELECT org_unit_id, month, CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS r, \
         CAST(COALESCE(SUM(profit), 0) AS BIGINT) AS p FROM quotas WHERE org_unit_id IS NOT NULL \
         AND month >= $1 AND month <= $2 GROUP BY org_unit_id, month",
    )
    .bind(format!("{year:04}-01"))
    .bind(format!("{year:04}-12"))
    .fetch_all(conn)
    .await?;
    let mut out: HashMap<i64, [(i64, i64); 12]> = HashMap::new();
    for r in rows {
        let m: String = r.try_get("month")?;
        if let Some(i) = month_idx(&m) {
            out.entry(r.try_get("org_unit_id")?).or_insert([(0, 0); 12])[i] = (r.try_get("r")?, r.try_get("p")?);
        }
    }
    Ok(out)
}

fn row_of(ms: &[String], sums: &[Sum; 12], quota: Option<&[(i64, i64); 12]>) -> (Vec<AttainmentCell>, AttainmentCell) {
    let mut total = Sum::default();
    let mut cells = vec![];
    for (i, m) in ms.iter().enumerate() {
        let mut s = sums[i];
        if let Some(q) = quota {
            s.qr = q[i].0;
            s.qp = q[i].1;
        }
        total.add(s);
        cells.push(s.cell(m.clone()));
    }
    (cells, total.cell(String::new()))
}

/// Whether the caller sees a unit (by its path).
fn sees_unit(caller: &Caller, u: &Unit) -> bool {
    sees_all(caller) || (sees_own_part(caller) && u.path.starts_with(&caller.org_path))
}

/// The org units the caller sees here, in the tree's order: (code, name).
pub async fn units_seen(db: &Db, caller: &Caller) -> Result<Vec<(String, String)>> {
    if !may_see(caller) {
        return Err(Error::Forbidden);
    }
    let mut conn = db.pool.acquire().await?;
    let mut all: Vec<Unit> = units(&mut conn).await?.into_values().collect();
    all.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(all.into_iter().filter(|u| sees_unit(caller, u)).map(|u| (u.code, u.name)).collect())
}

/// Attainment of a year, for every unit the caller sees, or `unit` (a code) alone (a unit not
/// seen or unknown: 404).
pub async fn attainment(db: &Db, caller: &Caller, year: i32, unit: Option<&str>) -> Result<Attainment> {
    if !may_see(caller) {
        return Err(Error::Forbidden);
    }
    let mut conn = db.pool.acquire().await?;
    let all = units(&mut conn).await?;
    let only = match unit.map(str::trim).filter(|u| !u.is_empty()) {
        Some(code) => {
            let (id, u) = all.iter().find(|(_, u)| u.code == code).ok_or(Error::NotFound)?;
            if !sees_unit(caller, u) {
                return Err(Error::NotFound);
            }
            Some(*id)
        }
        None => None,
    };
    let splits = split::all_shares(&mut conn).await?;
    let cur = splits.last().copied();
    let gs = groups(&mut conn, year).await?;
    let qs = quotas(&mut conn, year).await?;
    let ms = months(year);
    let wanted = |id: i64, u: &Unit| only.map(|o| o == id).unwrap_or(true) && sees_unit(caller, u);
    let side = |team_side: bool| -> Vec<UnitAttainment> {
        let credits = credit(&gs, &splits, team_side);
        let share = cur.map(|c| if team_side { c.team_bp } else { c.branch_bp }).unwrap_or(FULL);
        all.iter()
            .filter(|(id, u)| credits.contains_key(id) && wanted(**id, u))
            .map(|(id, u)| {
                let (months, total) = row_of(&ms, &credits[id], qs.get(id));
                UnitAttainment {
                    side: if team_side { "ka_team" } else { "branch" }.into(),
                    code: u.code.clone(),
                    name: u.name.clone(),
                    kind: u.kind.clone(),
                    share: format_bp(share),
                    months,
                    total,
                }
            })
            .collect()
    };
    let teams = side(true);
    let branches = side(false);
    // Each order once: by the account's region, and over everything.
    let mut by_region: HashMap<i64, [Sum; 12]> = HashMap::new();
    let mut hq = [Sum::default(); 12];
    for g in &gs {
        let s = Sum { n: g.n, rev: g.rev, prof: g.prof, qr: 0, qp: 0 };
        hq[g.month].add(s);
        if let Some(r) = g.region {
            by_region.entry(r).or_insert([Sum::default(); 12])[g.month].add(s);
        }
    }
    let regions = all
        .iter()
        .filter(|(id, u)| u.kind == "region" && wanted(**id, u) && (by_region.contains_key(id) || qs.contains_key(id)))
        .map(|(id, u)| {
            let (months, total) = row_of(&ms, by_region.get(id).unwrap_or(&[Sum::default(); 12]), qs.get(id));
            OnceTotal { code: u.code.clone(), name: u.name.clone(), months, total }
        })
        .collect();
    let hq = match all.iter().find(|(_, u)| u.kind == "hq") {
        Some((id, u)) if sees_all(caller) && only.is_none() => {
            let (months, total) = row_of(&ms, &hq, qs.get(id));
            Some(OnceTotal { code: u.code.clone(), name: u.name.clone(), months, total })
        }
        _ => None,
    };
    Ok(Attainment {
        year,
        team_share: format_bp(cur.map(|c| c.team_bp).unwrap_or(FULL)),
        branch_share: format_bp(cur.map(|c| c.branch_bp).unwrap_or(FULL)),
        teams,
        branches,
        regions,
        hq,
    })
}

/// Attainment as a table: a row per side, unit and month (and its year), then the regions' and
/// headquarters' once-counted rows.
pub fn attainment_table(a: &Attainment) -> Table {
    let mut rows = vec![];
    let mut push = |side: &str, name: &str, c: &AttainmentCell| {
        rows.push(vec![
            side.to_string(),
            name.to_string(),
            c.month.clone(),
            c.orders.to_string(),
            c.revenue.clone(),
            c.quota_revenue.clone(),
            c.revenue_pct.clone().unwrap_or_default(),
            c.profit.clone(),
            c.quota_profit.clone(),
            c.profit_pct.clone().unwrap_or_default(),
        ]);
    };
    for u in a.teams.iter().chain(&a.branches) {
        for c in u.months.iter().chain(std::iter::once(&u.total)) {
            push(&u.side, &u.name, c);
        }
    }
    for r in a.regions.iter().chain(a.hq.iter()) {
        for c in r.months.iter().chain(std::iter::once(&r.total)) {
            push("once", &r.name, c);
        }
    }
    Table {
        keys: vec![
            "attainment_side",
            "org_unit",
            "month",
            "attainment_orders",
            "amount_attainment_revenue",
            "amount_attainment_quota_revenue",
            "attainment_revenue_pct",
            "amount_attainment_profit",
            "amount_attainment_quota_profit",
            "attainment_profit_pct",
        ],
        rows,
    }
}

// ---------------------------------------------------------------- the profit centre

/// One month (or the year) of the virtual profit centre.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct ProfitCentreCell {
    /// `YYYY-MM`, or empty for the year.
    pub month: String,
    /// The KA teams' credited revenue.
    #[schema(value_type = crate::web::api::contract::Money)]
    pub revenue: String,
    /// The KA teams' credited profit.
    #[schema(value_type = crate::web::api::contract::Money)]
    pub profit: String,
    /// Spending signed or approved on the KA department's cost centres.
    #[schema(value_type = crate::web::api::contract::Money)]
    pub costs: String,
    /// Profit − costs.
    #[schema(value_type = crate::web::api::contract::Money)]
    pub result: String,
}

/// A cost centre of the KA department.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProfitCentreUnit {
    pub code: String,
    pub name: String,
    /// Its spending of the year.
    #[schema(value_type = crate::web::api::contract::Money)]
    pub costs: String,
}

/// The KA department's virtual profit centre of a year.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProfitCentre {
    pub year: i32,
    pub team_share: String,
    pub months: Vec<ProfitCentreCell>,
    pub total: ProfitCentreCell,
    /// The cost centres whose spending counts: headquarters and the KA teams' units.
    pub cost_centres: Vec<ProfitCentreUnit>,
}

/// The KA department's virtual profit centre of a year (those who see everything; else 403).
pub async fn profit_centre(db: &Db, caller: &Caller, year: i32) -> Result<ProfitCentre> {
    if !sees_all(caller) {
        return Err(Error::Forbidden);
    }
    let mut conn = db.pool.acquire().await?;
    let all = units(&mut conn).await?;
    let splits = split::all_shares(&mut conn).await?;
    let gs = groups(&mut conn, year).await?;
    let credits = credit(&gs, &splits, true);
    // The KA department's cost centres: headquarters, and every unit a KA manager sits in or
    // that was credited as a KA team this year.
    let mut centres: Vec<i64> = all.iter().filter(|(_, u)| u.kind == "hq").map(|(id, _)| *id).collect();
    for r in
        sqlx::query("SELECT DISTINCT org_unit_id FROM users WHERE role = 'ka_manager'").fetch_all(&mut *conn).await?
    {
        centres.push(r.try_get("org_unit_id")?);
    }
    centres.extend(credits.keys().copied());
    centres.sort_unstable();
    centres.dedup();
    let mut costs: HashMap<i64, [i64; 12]> = HashMap::new();
    if !centres.is_empty() {
        let list = centres.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",");
        let rows = sqlx::query(&format!(
            "SELECT org_unit_id, SUBSTR(spent_on, 1, 7) AS month, CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS v \
             FROM spending WHERE state IN ('signed', 'approved') AND org_unit_id IN ({list}) \
             AND spent_on >= $1 AND spent_on < $2 GROUP BY org_unit_id, SUBSTR(spent_on, 1, 7)"
        ))
        .bind(format!("{year:04}-01-01"))
        .bind(format!("{:04}-01-01", year + 1))
        .fetch_all(&mut *conn)
        .await?;
        for r in rows {
            let m: String = r.try_get("month")?;
            if let Some(i) = month_idx(&m) {
                costs.entry(r.try_get("org_unit_id")?).or_insert([0; 12])[i] += r.try_get::<i64, _>("v")?;
            }
        }
    }
    let ms = months(year);
    let (mut tr, mut tp, mut tc) = (0i64, 0i64, 0i64);
    let mut cells = vec![];
    for (i, m) in ms.iter().enumerate() {
        let r: i64 = credits.values().map(|c| c[i].rev).sum();
        let p: i64 = credits.values().map(|c| c[i].prof).sum();
        let c: i64 = costs.values().map(|c| c[i]).sum();
        tr += r;
        tp += p;
        tc += c;
        cells.push(ProfitCentreCell {
            month: m.clone(),
            revenue: format_fen(r),
            profit: format_fen(p),
            costs: format_fen(c),
            result: format_fen(p - c),
        });
    }
    let cost_centres = centres
        .iter()
        .filter_map(|id| all.get(id).map(|u| (id, u)))
        .map(|(id, u)| ProfitCentreUnit {
            code: u.code.clone(),
            name: u.name.clone(),
            costs: format_fen(costs.get(id).map(|c| c.iter().sum()).unwrap_or(0)),
        })
        .collect();
    Ok(ProfitCentre {
        year,
        team_share: format_bp(splits.last().map(|s| s.team_bp).unwrap_or(FULL)),
        months: cells,
        total: ProfitCentreCell {
            month: String::new(),
            revenue: format_fen(tr),
            profit: format_fen(tp),
            costs: format_fen(tc),
            result: format_fen(tp - tc),
        },
        cost_centres,
    })
}

/// The profit centre as a table: a row per month, then the year.
pub fn profit_centre_table(p: &ProfitCentre) -> Table {
    let rows = p
        .months
        .iter()
        .chain(std::iter::once(&p.total))
        .map(|c| vec![c.month.clone(), c.revenue.clone(), c.profit.clone(), c.costs.clone(), c.result.clone()])
        .collect();
    Table {
        keys: vec![
            "month",
            "amount_attainment_revenue",
            "amount_attainment_profit",
            "amount_profit_centre_costs",
            "amount_profit_centre_result",
        ],
        rows,
    }
}
