//! The classification as users read it (docs/DOMAIN.md#7-classification): one account's
//! classes, tier breakdown and service standards; the RAD grid with each outside
//! salesperson's portfolio; service standards overdue; coverage (SOA, aggregated SOW,
//! activations, unowned and untouched accounts) — all in the caller's scope. The derived
//! figures themselves are kept by `classify`.
use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, Utc};
use serde::Serialize;
use sqlx::{FromRow, Row};

use crate::app::classification::classify::*;
use crate::app::funnel::opportunities::OrgFilter;
use crate::app::spreadsheets::export::Table;
use crate::app::{Caller, Error, Result};
use crate::db::sql::Sql;
use crate::db::Db;
use crate::domain::classify::{self as cls, RadWire, ServiceStandards, StandardStatus};
use crate::domain::money::{format_bp, format_fen};
use crate::domain::quota::Period;

// ---------------------------------------------------------------- one account

/// One change of an account's classification.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = ClassificationChange)]
pub struct HistoryRow {
    #[schema(format = DateTime)]
    pub at: String,
    /// The username who caused it (or the system's job).
    pub by: String,
    /// Why: the change or job that recomputed it (`settings_rad`, …).
    pub reason: String,
    #[schema(value_type = Option<crate::web::api::contract::Money>)]
    pub buying_power: Option<String>,
    #[schema(value_type = Option<crate::web::api::contract::Money>)]
    pub sales_12m: Option<String>,
    /// Share of wallet, percent with two decimals.
    pub sow: Option<String>,
    /// `R1`…`A3`; null: unclassified.
    pub rad_class: Option<String>,
    #[schema(value_type = Option<crate::domain::account::Tier>)]
    pub tier: Option<String>,
    /// 1.00–5.00.
    pub tier_score: Option<String>,
}

/// An account's classification as its page shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AccountClasses {
    pub account_id: i64,
    pub status: crate::domain::account::Status,
    /// Yuan a year the customer buys of what we sell.
    #[schema(value_type = Option<crate::web::api::contract::Money>)]
    pub buying_power: Option<String>,
    /// The trailing-12-month sales and where they come from.
    #[schema(value_type = Option<crate::web::api::contract::Money>)]
    pub sales_12m: Option<String>,
    /// Won opportunities booked in the trailing twelve months.
    #[schema(value_type = crate::web::api::contract::Money)]
    pub sales_12m_won: String,
    /// Sales entered on the account.
    #[schema(value_type = Option<crate::web::api::contract::Money>)]
    pub sales_12m_entered: Option<String>,
    /// `opportunities`, `entered`, `both`, or null when there is none.
    #[schema(value_type = Option<String>)]
    pub sales_12m_source: Option<&'static str>,
    /// Share of wallet, percent with two decimals.
    pub sow: Option<String>,
    /// `R1`…`A3`. Null: unclassified (no buying power).
    pub rad_class: Option<String>,
    #[schema(value_type = Option<crate::domain::account::Tier>)]
    pub tier: Option<String>,
    /// 1.00–5.00.
    pub tier_score: Option<String>,
    /// When the account took its tier.
    pub tier_since: Option<String>,
    /// Each dimension's value, band, weight and points (also for accounts that are not key
    /// accounts, to show what their tier would rest on).
    pub breakdown: Vec<cls::DimensionScore>,
    /// Inputs the tier lacks.
    #[schema(value_type = Vec<String>)]
    pub missing: Vec<&'static str>,
    /// The tier's service standards: when each was last met, when it is due, overdue or not.
    pub service: Vec<StandardStatus>,
    pub history: Vec<HistoryRow>,
}

/// The caller's time zone (else Beijing time).
fn tz_of(caller: &Caller) -> chrono_tz::Tz {
    crate::domain::activity::parse_tz(&caller.time_zone).unwrap_or(chrono_tz::Asia::Shanghai)
}

/// Today where the caller is: what "overdue" is measured against, as the days of the
/// activities are.
fn today_of(caller: &Caller) -> NaiveDate {
    crate::domain::activity::local_day(Utc::now(), tz_of(caller))
}

/// The caller's day of a stored time (when an account took its tier).
fn local_day_of(ts: &str, caller: &Caller) -> Option<NaiveDate> {
    let at = chrono::DateTime::parse_from_rfc3339(ts).ok()?.with_timezone(&Utc);
    Some(crate::domain::activity::local_day(at, tz_of(caller)))
}

fn day_of(ts: &str) -> Option<NaiveDate> {
    ts.get(..10).and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
}

/// Per account: the last day each standard was met, from its done activities (the day as their
/// owner lived it, `local_day`: a visit at 09:00 in Beijing is that day's, not the day before's
/// in UTC).
/// `accounts` appends the account ids asked about (a list, or a subquery over alias `a`).
async fn last_met(db: &Db, accounts: impl FnOnce(&mut Sql)) -> Result<HashMap<i64, [Option<NaiveDate>; 3]>> {
    let mut s = Sql::new(
        "SELECT t.account_id AS account_id, t.kind AS kind, t.purpose AS purpose, MAX(t.local_day) AS at \
         FROM activities t WHERE t.status = 'done' AND t.deleted_at IS NULL AND t.account_id IN (",
    );
    accounts(&mut s);
    s.push(") GROUP BY t.account_id, t.kind, t.purpose");
    let mut out: HashMap<i64, [Option<NaiveDate>; 3]> = HashMap::new();
    for r in s.query().fetch_all(db.reads()).await? {
        let id: i64 = r.try_get("account_id")?;
        let kind: String = r.try_get("kind")?;
        let purpose: Option<String> = r.try_get("purpose")?;
        let Some(at) = r.try_get::<Option<String>, _>("at")?.as_deref().and_then(day_of) else { continue };
        let slot = out.entry(id).or_default();
        for (i, st) in cls::STANDARDS.iter().enumerate() {
            if cls::counts_as(st, &kind, purpose.as_deref()) && slot[i].is_none_or(|d| at > d) {
                slot[i] = Some(at);
            }
        }
    }
    Ok(out)
}

fn statuses(
    s: &ServiceStandards,
    tier: &str,
    since: NaiveDate,
    last: &[Option<NaiveDate>; 3],
    today: NaiveDate,
) -> Vec<StandardStatus> {
    let Some(iv) = s.for_tier(tier) else { return vec![] };
    cls::STANDARDS
        .iter()
        .enumerate()
        .filter_map(|(i, st)| iv.of(st).map(|every| cls::standard_status(st, every, last[i], since, today)))
        .collect()
}

pub async fn of_account(db: &Db, caller: &Caller, id: i64) -> Result<AccountClasses> {
    crate::app::customers::accounts::ensure_visible(db, caller, id).await?;
    let mut conn = db.reads().acquire().await?;
    let settings = load(&mut conn).await?;
    let r = sqlx::query(&format!("SELECT {INPUT_COLUMNS}, tier_since FROM accounts WHERE id = $1"))
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    let (inputs, d) = read_inputs(&r)?;
    let tier_since: Option<String> = r.try_get("tier_since")?;
    let t = cls::tier(&tier_inputs(&inputs, d.sales_12m, d.sow_bp), &settings.tiers);
    drop(conn);
    let today = today_of(caller);
    let service = match (&d.tier, &tier_since) {
        (Some(tier), Some(since)) => {
            let last = last_met(db, |s| {
                s.bind(id);
            })
            .await?
            .remove(&id)
            .unwrap_or_default();
            statuses(&settings.service, tier, local_day_of(since, caller).unwrap_or(today), &last, today)
        }
        _ => vec![],
    };
    let history = sqlx::query(
        "SELECT at, by_user, reason, buying_power, sales_12m, sow_bp, rad_class, tier, tier_score \
         FROM account_class_history WHERE account_id = $1 ORDER BY at DESC, id DESC LIMIT 100",
    )
    .bind(id)
    .fetch_all(db.reads())
    .await?
    .iter()
    .map(|r| {
        Ok(HistoryRow {
            at: r.try_get("at")?,
            by: r.try_get("by_user")?,
            reason: r.try_get("reason")?,
            buying_power: r.try_get::<Option<i64>, _>("buying_power")?.map(format_fen),
            sales_12m: r.try_get::<Option<i64>, _>("sales_12m")?.map(format_fen),
            sow: r.try_get::<Option<i64>, _>("sow_bp")?.map(format_bp),
            rad_class: r.try_get("rad_class")?,
            tier: r.try_get("tier")?,
            tier_score: r.try_get::<Option<i64>, _>("tier_score")?.map(format_fen),
        })
    })
    .collect::<Result<Vec<_>>>()?;
    Ok(AccountClasses {
        account_id: id,
        status: crate::domain::account::Status::parse(&inputs.status)
            .map_err(|_| Error::Internal(anyhow::anyhow!("unknown account status {}", inputs.status)))?,
        buying_power: inputs.buying_power.map(format_fen),
        sales_12m: d.sales_12m.map(format_fen),
        sales_12m_won: format_fen(d.sales_12m_won),
        sales_12m_entered: inputs.sales_12m_entered.map(format_fen),
        sales_12m_source: source(inputs.sales_12m_entered, d.sales_12m_won),
        sow: d.sow_bp.map(format_bp),
        rad_class: d.rad_class,
        tier: d.tier,
        tier_score: d.tier_score.map(format_fen),
        tier_since,
        breakdown: t.breakdown,
        missing: t.missing,
        service,
        history,
    })
}

// ---------------------------------------------------------------- report scope

/// What a report covers within the caller's scope: an org unit's accounts, one person's.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub org: Option<String>,
    pub owner: Option<String>,
}

/// Resolves the filters once: an unknown org unit or user is a 422 naming it.
async fn resolve(db: &Db, f: &Scope) -> Result<(OrgFilter, Option<i64>)> {
    let org = crate::app::funnel::opportunities::org_filter(db, f.org.as_deref()).await?;
    let owner = match f.owner.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => None,
        Some(u) => Some(
            sqlx::query("SELECT id FROM users WHERE username = $1")
                .bind(u)
                .fetch_optional(db.reads())
                .await?
                .ok_or_else(|| Error::invalid("owner", "unknown_user"))?
                .try_get::<i64, _>("id")?,
        ),
    };
    Ok((org, owner))
}

/// ` AND …` for the accounts alias `a`: the caller's scope, then the org unit and the person.
fn push_filters(s: &mut Sql, caller: &Caller, org: OrgFilter, owner: Option<i64>) {
    crate::app::customers::accounts::push_scope(s, caller);
    match org {
        OrgFilter::All => {}
        OrgFilter::Region(id) => {
            s.push(" AND a.region_id = ").bind(id);
        }
        OrgFilter::Branch(id) => {
            s.push(" AND a.branch_id = ").bind(id);
        }
    }
    if let Some(u) = owner {
        s.push(" AND (a.owner_id = ").bind(u).push(" OR a.inside_owner_id = ").bind(u).push(")");
    }
}

/// Usernames and display names, managers and sales types of the users named by id.
struct People(HashMap<i64, (String, String, Option<i64>, Option<String>)>);

async fn people(db: &Db) -> Result<People> {
    let mut m = HashMap::new();
    for r in sqlx::query("SELECT id, username, display_name, manager_id, sales_type FROM users")
        .fetch_all(db.reads())
        .await?
    {
        m.insert(
            r.try_get("id")?,
            (r.try_get("username")?, r.try_get("display_name")?, r.try_get("manager_id")?, r.try_get("sales_type")?),
        );
    }
    Ok(People(m))
}

impl People {
    fn key(&self, id: i64) -> (String, String) {
        self.0.get(&id).map(|p| (p.0.clone(), p.1.clone())).unwrap_or_default()
    }
}

async fn region_names(db: &Db) -> Result<HashMap<i64, (String, String)>> {
    let mut m = HashMap::new();
    for r in sqlx::query("SELECT id, code, name FROM org_units").fetch_all(db.reads()).await? {
        m.insert(r.try_get("id")?, (r.try_get("code")?, r.try_get("name")?));
    }
    Ok(m)
}

// ---------------------------------------------------------------- the RAD grid

/// One cell of the RAD grid (or the unclassified, or the total).
#[derive(Debug, Clone, Serialize, Default, utoipa::ToSchema)]
pub struct Cell {
    /// `R1`…`A3`, `unclassified`, or `total`.
    pub rad_class: String,
    pub accounts: i64,
    /// Σ buying power (a sum: may pass the 15 digits one amount may have).
    #[schema(value_type = String, pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub buying_power: String,
    /// Σ trailing-12-month sales.
    #[schema(value_type = String, pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub sales_12m: String,
    /// Σ amount of open opportunities.
    #[schema(value_type = String, pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub pipeline: String,
}

/// An outside salesperson's accounts by RAD letter, against the 10–15 R / 10–15 D focus.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Portfolio {
    pub owner: String,
    pub name: String,
    pub r: i64,
    pub d: i64,
    pub a: i64,
    pub unclassified: i64,
    /// Against the 10–15 focus of 001: `below`, `within`, `above`.
    #[schema(value_type = String, pattern = "^(below|within|above)$")]
    pub r_focus: &'static str,
    #[schema(value_type = String, pattern = "^(below|within|above)$")]
    pub d_focus: &'static str,
}

/// The RAD grid (客户分类矩阵) of the accounts in the report's scope.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RadReport {
    /// Nine cells in the order R1 R2 R3 D1 D2 D3 A1 A2 A3, then the unclassified.
    pub cells: Vec<Cell>,
    pub unclassified: Cell,
    pub total: Cell,
    /// Each outside salesperson (sales type `ae`) owning accounts in the report.
    pub portfolios: Vec<Portfolio>,
    pub thresholds: RadWire,
}

#[derive(Default, Clone, Copy)]
struct Sums {
    n: i64,
    bp: i64,
    sales: i64,
    pipeline: i64,
}

impl Sums {
    fn add(&mut self, o: &Sums) {
        self.n += o.n;
        self.bp += o.bp;
        self.sales += o.sales;
        self.pipeline += o.pipeline;
    }
    fn cell(&self, class: &str) -> Cell {
        Cell {
            rad_class: class.to_string(),
            accounts: self.n,
            buying_power: format_fen(self.bp),
            sales_12m: format_fen(self.sales),
            pipeline: format_fen(self.pipeline),
        }
    }
}

pub async fn rad(db: &Db, caller: &Caller, f: &Scope) -> Result<RadReport> {
    let (org, owner) = resolve(db, f).await?;
    // The cells: one pass over an index in class order.
    let mut s = Sql::new(
        "SELECT a.rad_class AS rad_class, COUNT(*) AS n, \
         CAST(COALESCE(SUM(a.buying_power), 0) AS BIGINT) AS bp, CAST(COALESCE(SUM(a.sales_12m), 0) AS BIGINT) AS sales, \
         CAST(COALESCE(SUM(a.pipeline_open), 0) AS BIGINT) AS pipeline FROM accounts a WHERE 1 = 1",
    );
    push_filters(&mut s, caller, org, owner);
    s.push(" GROUP BY a.rad_class");
    // The portfolios: the outside salespeople's own accounts by row of the grid.
    let mut p = Sql::new(
        "SELECT a.owner_id AS owner_id, a.rad_class AS rad_class, COUNT(*) AS n FROM accounts a \
         WHERE a.owner_id IN (SELECT id FROM users WHERE sales_type = 'ae')",
    );
    push_filters(&mut p, caller, org, owner);
    p.push(" GROUP BY a.owner_id, a.rad_class");
    let (rows, prow, ppl, settings) = tokio::try_join!(
        async { Ok::<_, Error>(s.query().fetch_all(db.reads()).await?) },
        async { Ok::<_, Error>(p.query().fetch_all(db.reads()).await?) },
        people(db),
        async { load(&mut *db.reads().acquire().await?).await }
    )?;
    let mut cells: BTreeMap<String, Sums> = BTreeMap::new();
    for r in &rows {
        let class: Option<String> = r.try_get("rad_class")?;
        let sums = Sums {
            n: r.try_get("n")?,
            bp: r.try_get("bp")?,
            sales: r.try_get("sales")?,
            pipeline: r.try_get("pipeline")?,
        };
        cells.entry(class.unwrap_or_default()).or_default().add(&sums);
    }
    // Owner → [R, D, A, unclassified].
    let mut per_owner: BTreeMap<i64, [i64; 4]> = BTreeMap::new();
    for r in &prow {
        let class: Option<String> = r.try_get("rad_class")?;
        let i = match class.as_deref().and_then(|c| c.chars().next()) {
            Some('R') => 0,
            Some('D') => 1,
            Some('A') => 2,
            _ => 3,
        };
        per_owner.entry(r.try_get("owner_id")?).or_default()[i] += r.try_get::<i64, _>("n")?;
    }
    let mut total = Sums::default();
    let mut out = vec![];
    for c in cls::RAD_CLASSES {
        let v = cells.get(c).copied().unwrap_or_default();
        total.add(&v);
        out.push(v.cell(c));
    }
    let unc = cells.get("").copied().unwrap_or_default();
    total.add(&unc);
    let mut portfolios: Vec<Portfolio> = per_owner
        .into_iter()
        .map(|(id, [r, d, a, u])| {
            let (owner, name) = ppl.key(id);
            Portfolio { owner, name, r, d, a, unclassified: u, r_focus: cls::focus(r), d_focus: cls::focus(d) }
        })
        .collect();
    portfolios.sort_by(|x, y| x.owner.cmp(&y.owner));
    Ok(RadReport {
        cells: out,
        unclassified: unc.cell("unclassified"),
        total: total.cell("total"),
        portfolios,
        thresholds: settings.rad.wire(),
    })
}

pub fn rad_table(r: &RadReport) -> Table {
    let mut rows: Vec<Vec<String>> = r
        .cells
        .iter()
        .chain([&r.unclassified, &r.total])
        .map(|c| {
            vec![
                c.rad_class.clone(),
                c.accounts.to_string(),
                c.buying_power.clone(),
                c.sales_12m.clone(),
                c.pipeline.clone(),
            ]
        })
        .collect();
    for p in &r.portfolios {
        rows.push(vec![
            format!("{} {}", p.owner, p.name),
            format!("R {} ({})", p.r, p.r_focus),
            format!("D {} ({})", p.d, p.d_focus),
            format!("A {}", p.a),
            format!("- {}", p.unclassified),
        ]);
    }
    Table { keys: vec!["rad_class", "accounts", "buying_power", "sales_12m", "pipeline"], rows }
}

// ---------------------------------------------------------------- service standards

/// A key account overdue on one standard of its tier.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Overdue {
    pub account_id: i64,
    pub account_name: String,
    pub owner: Option<String>,
    pub owner_name: Option<String>,
    #[schema(value_type = crate::domain::account::Tier)]
    pub tier: String,
    /// `executive_visit`, `working_contact` or `technical_exchange`.
    #[schema(value_type = String)]
    pub standard: &'static str,
    /// The tier's interval for it, in days.
    pub every_days: i64,
    /// The last day it was met; null: never.
    #[schema(value_type = Option<String>, format = Date)]
    pub last: Option<NaiveDate>,
    #[schema(value_type = String, format = Date)]
    pub due: NaiveDate,
    pub days_overdue: i64,
}

/// Key accounts overdue on their tier's service standards.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ServiceReport {
    /// Key accounts with a tier in the report.
    pub accounts: i64,
    /// Per standard: how many of them are overdue.
    #[schema(value_type = BTreeMap<String, i64>)]
    pub overdue_counts: BTreeMap<&'static str, i64>,
    /// Every overdue standard, by owner, then most overdue first.
    pub overdue: Vec<Overdue>,
}

pub async fn service(
    db: &Db,
    caller: &Caller,
    f: &Scope,
    tier: Option<&str>,
    standard: Option<&str>,
) -> Result<ServiceReport> {
    let (org, owner) = resolve(db, f).await?;
    if let Some(t) = tier.filter(|t| !t.is_empty()) {
        if !cls::TIERS.contains(&t) {
            return Err(Error::invalid("tier", "invalid_choice"));
        }
    }
    if let Some(st) = standard.filter(|t| !t.is_empty()) {
        if !cls::STANDARDS.contains(&st) {
            return Err(Error::invalid("standard", "invalid_choice"));
        }
    }
    let tier = tier.filter(|t| !t.is_empty());
    let standard = standard.filter(|t| !t.is_empty());
    let filter = |s: &mut Sql| {
        s.push(" AND a.tier IS NOT NULL");
        if let Some(t) = tier {
            s.push(" AND a.tier = ").bind(t.to_string());
        }
        push_filters(s, caller, org, owner);
    };
    let mut s = Sql::new(
        "SELECT a.id, a.name, a.tier, a.tier_since, u.username, u.display_name FROM accounts a \
         LEFT JOIN users u ON u.id = a.owner_id WHERE 1 = 1",
    );
    filter(&mut s);
    let (rows, last, settings) = tokio::try_join!(
        async { Ok::<_, Error>(s.query().fetch_all(db.reads()).await?) },
        last_met(db, |q| {
            q.push("SELECT a.id FROM accounts a WHERE 1 = 1");
            filter(q);
        }),
        async { load(&mut *db.reads().acquire().await?).await }
    )?;
    let today = today_of(caller);
    let mut overdue = vec![];
    let mut counts: BTreeMap<&'static str, i64> = cls::STANDARDS.iter().map(|s| (*s, 0)).collect();
    for r in &rows {
        let id: i64 = r.try_get("id")?;
        let t: String = r.try_get("tier")?;
        let since = r
            .try_get::<Option<String>, _>("tier_since")?
            .as_deref()
            .and_then(|t| local_day_of(t, caller))
            .unwrap_or(today);
        let l = last.get(&id).copied().unwrap_or_default();
        for st in statuses(&settings.service, &t, since, &l, today) {
            if !st.overdue || standard.is_some_and(|x| x != st.standard) {
                continue;
            }
            *counts.entry(st.standard).or_default() += 1;
            overdue.push(Overdue {
                account_id: id,
                account_name: r.try_get("name")?,
                owner: r.try_get("username")?,
                owner_name: r.try_get("display_name")?,
                tier: t.clone(),
                standard: st.standard,
                every_days: st.every_days,
                last: st.last,
                due: st.due,
                days_overdue: st.days_overdue,
            });
        }
    }
    overdue.sort_by(|a, b| {
        a.owner.cmp(&b.owner).then(b.days_overdue.cmp(&a.days_overdue)).then(a.account_id.cmp(&b.account_id))
    });
    Ok(ServiceReport { accounts: rows.len() as i64, overdue_counts: counts, overdue })
}

pub fn service_table(r: &ServiceReport) -> Table {
    Table {
        keys: vec!["owner", "name", "account", "tier", "standard", "every_days", "last", "due", "days_overdue"],
        rows: r
            .overdue
            .iter()
            .map(|o| {
                vec![
                    o.owner.clone().unwrap_or_default(),
                    o.owner_name.clone().unwrap_or_default(),
                    o.account_name.clone(),
                    o.tier.clone(),
                    o.standard.to_string(),
                    o.every_days.to_string(),
                    o.last.map(|d| d.to_string()).unwrap_or_default(),
                    o.due.to_string(),
                    o.days_overdue.to_string(),
                ]
            })
            .collect(),
    }
}

// ---------------------------------------------------------------- coverage

/// Coverage of one person, team, region, or the total.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CoverageRow {
    /// `person`, `team`, `region`, `total`.
    #[schema(value_type = String, pattern = "^(person|team|region|total)$")]
    pub kind: &'static str,
    /// Username (person, team: the manager's), region code; empty for none.
    pub key: String,
    pub name: String,
    pub accounts: i64,
    /// With an owner and at least one done activity in the period.
    pub covered: i64,
    /// SOA, percent with two decimals; null when no accounts.
    pub soa: Option<String>,
    pub owned: i64,
    pub untouched: i64,
    pub unowned: i64,
    /// First opportunity in the period.
    pub activated: i64,
    /// Aggregated SOW over the accounts with buying power: Σ sales ÷ Σ BP.
    pub sow: Option<String>,
    #[schema(value_type = crate::web::api::contract::Money)]
    pub buying_power: String,
    #[schema(value_type = crate::web::api::contract::Money)]
    pub sales_12m: String,
}

/// An account in one of the coverage lists.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct Brief {
    pub id: i64,
    pub name: String,
    pub owner: Option<String>,
    /// The owner by name.
    pub owner_name: Option<String>,
    pub region: Option<String>,
    /// The region by name.
    pub region_name: Option<String>,
    #[schema(format = DateTime)]
    pub last_activity_at: Option<String>,
}

/// Coverage (客户覆盖率统计表) for a period.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Coverage {
    /// `YYYY-MM`, `YYYY-Qn` or `YYYY`.
    pub period: String,
    /// The period's first and last days.
    #[schema(format = Date)]
    pub from: String,
    #[schema(format = Date)]
    pub to: String,
    pub people: Vec<CoverageRow>,
    pub teams: Vec<CoverageRow>,
    pub regions: Vec<CoverageRow>,
    pub total: CoverageRow,
    /// The first 50 of each list (the counts are in `total`): unowned and untouched by name,
    /// activated newest first.
    pub unowned: Vec<Brief>,
    pub untouched: Vec<Brief>,
    pub activated: Vec<Brief>,
}

#[derive(Default, Clone, Copy)]
struct Cov {
    n: i64,
    covered: i64,
    owned: i64,
    activated: i64,
    bp: i64,
    sales: i64,
}

impl Cov {
    fn add(&mut self, o: &Cov) {
        self.n += o.n;
        self.covered += o.covered;
        self.owned += o.owned;
        self.activated += o.activated;
        self.bp += o.bp;
        self.sales += o.sales;
    }
    fn row(&self, kind: &'static str, key: String, name: String) -> CoverageRow {
        CoverageRow {
            kind,
            key,
            name,
            accounts: self.n,
            covered: self.covered,
            soa: cls::ratio_bp(self.covered, self.n).map(format_bp),
            owned: self.owned,
            untouched: self.owned - self.covered,
            unowned: self.n - self.owned,
            activated: self.activated,
            sow: cls::ratio_bp(self.sales, self.bp).map(format_bp),
            buying_power: format_fen(self.bp),
            sales_12m: format_fen(self.sales),
        }
    }
}

/// `touched`: SQL over alias `a` that is 1 when the account had a done activity in the period.
/// While the period runs, the latest activity kept on the account answers it; a past period
/// asks the activities.
fn touched_sql(s: &mut Sql, p: &Period, from: &str, to: &str) {
    crate::app::customers::accounts::push_touched(s, p, from, to);
}

pub async fn coverage(db: &Db, caller: &Caller, f: &Scope, period: Option<&str>) -> Result<Coverage> {
    let p = match period.map(str::trim).filter(|v| !v.is_empty()) {
        None => Period::month_of(Utc::now().date_naive()),
        Some(v) => Period::parse(v).map_err(|c| Error::invalid("period", c))?,
    };
    let (org, owner) = resolve(db, f).await?;
    let from = format!("{}T00:00:00.000000Z", p.start.format("%Y-%m-%d"));
    let to = format!("{}T00:00:00.000000Z", p.end.format("%Y-%m-%d"));
    let owned = "(a.owner_id IS NOT NULL OR a.inside_owner_id IS NOT NULL)";
    // Per (region, owner, inside owner): one pass over an index in that order. Whether a group
    // is owned is in its key, so `covered` counts touched accounts and Rust keeps the owned.
    let mut s = Sql::new(
        "SELECT a.region_id AS region_id, a.owner_id AS owner_id, a.inside_owner_id AS inside_id, COUNT(*) AS n, \
         CAST(COALESCE(SUM(CASE WHEN ",
    );
    touched_sql(&mut s, &p, &from, &to);
    s.push(" THEN 1 END), 0) AS BIGINT) AS covered, ");
    s.push("CAST(COALESCE(SUM(CASE WHEN a.activated_at >= ")
        .bind(from.clone())
        .push(" AND a.activated_at < ")
        .bind(to.clone());
    s.push(" THEN 1 END), 0) AS BIGINT) AS activated, ");
    s.push("CAST(COALESCE(SUM(a.buying_power), 0) AS BIGINT) AS bp, ");
    s.push("CAST(COALESCE(SUM(CASE WHEN a.buying_power > 0 THEN a.sales_12m END), 0) AS BIGINT) AS sales ");
    s.push("FROM accounts a WHERE 1 = 1");
    push_filters(&mut s, caller, org, owner);
    s.push(" GROUP BY a.region_id, a.owner_id, a.inside_owner_id");

    let brief = |cond: &str| {
        let mut q = Sql::new(
            "SELECT a.id, a.name, a.last_activity_at, u.username AS owner, u.display_name AS owner_name, r.code AS region, \
             r.name AS region_name FROM accounts a \
             LEFT JOIN users u ON u.id = COALESCE(a.owner_id, a.inside_owner_id) LEFT JOIN org_units r ON r.id = a.region_id \
             WHERE ",
        );
        q.push(cond);
        q
    };
    // Spelled as the index on unowned accounts is, so it is used.
    let mut unowned = brief("a.owner_id IS NULL AND a.inside_owner_id IS NULL");
    push_filters(&mut unowned, caller, org, owner);
    unowned.push(" ORDER BY a.name, a.id LIMIT 50");
    let mut untouched = brief(&format!("{owned} AND NOT "));
    touched_sql(&mut untouched, &p, &from, &to);
    // `last_activity_at` may be NULL: NOT (NULL >= x) is NULL, so say it.
    if p.end > Utc::now().date_naive() {
        untouched.text = untouched.text.replacen(
            "AND NOT (a.last_activity_at >= ",
            "AND NOT (a.last_activity_at IS NOT NULL AND a.last_activity_at >= ",
            1,
        );
    }
    push_filters(&mut untouched, caller, org, owner);
    untouched.push(" ORDER BY a.name, a.id LIMIT 50");
    let mut activated = brief("a.activated_at >= ");
    activated.bind(from.clone()).push(" AND a.activated_at < ").bind(to.clone());
    push_filters(&mut activated, caller, org, owner);
    activated.push(" ORDER BY a.activated_at DESC, a.id LIMIT 50");

    let (rows, ppl, regions, unowned, untouched, activated) = tokio::try_join!(
        async { Ok::<_, Error>(s.query().fetch_all(db.reads()).await?) },
        people(db),
        region_names(db),
        async { Ok::<_, Error>(unowned.query().try_map(|r| Brief::from_row(&r)).fetch_all(db.reads()).await?) },
        async { Ok::<_, Error>(untouched.query().try_map(|r| Brief::from_row(&r)).fetch_all(db.reads()).await?) },
        async { Ok::<_, Error>(activated.query().try_map(|r| Brief::from_row(&r)).fetch_all(db.reads()).await?) },
    )?;
    let mut by_person: BTreeMap<i64, Cov> = BTreeMap::new();
    let mut by_region: BTreeMap<i64, Cov> = BTreeMap::new();
    let mut total = Cov::default();
    for r in &rows {
        let o: Option<i64> = r.try_get("owner_id")?;
        let i: Option<i64> = r.try_get("inside_id")?;
        let n: i64 = r.try_get("n")?;
        let is_owned = o.is_some() || i.is_some();
        let c = Cov {
            n,
            covered: if is_owned { r.try_get("covered")? } else { 0 },
            owned: if is_owned { n } else { 0 },
            activated: r.try_get("activated")?,
            bp: r.try_get("bp")?,
            sales: r.try_get("sales")?,
        };
        total.add(&c);
        by_region.entry(r.try_get::<Option<i64>, _>("region_id")?.unwrap_or(0)).or_default().add(&c);
        if let Some(o) = o {
            by_person.entry(o).or_default().add(&c);
        }
        if let Some(i) = i.filter(|i| Some(*i) != o) {
            by_person.entry(i).or_default().add(&c);
        }
    }
    // A team is a manager's direct reports; an account held by two of them counts once per person.
    let mut by_team: BTreeMap<i64, Cov> = BTreeMap::new();
    for (id, c) in &by_person {
        if let Some(m) = ppl.0.get(id).and_then(|p| p.2) {
            by_team.entry(m).or_default().add(c);
        }
    }
    let people_rows: Vec<CoverageRow> = by_person
        .iter()
        .map(|(id, c)| {
            let (k, n) = ppl.key(*id);
            c.row("person", k, n)
        })
        .collect();
    let team_rows: Vec<CoverageRow> = by_team
        .iter()
        .map(|(id, c)| {
            let (k, n) = ppl.key(*id);
            c.row("team", k, n)
        })
        .collect();
    let region_rows: Vec<CoverageRow> = by_region
        .iter()
        .map(|(id, c)| {
            let (k, n) = regions.get(id).cloned().unwrap_or_default();
            c.row("region", k, n)
        })
        .collect();
    Ok(Coverage {
        period: p.code.clone(),
        from: p.start.to_string(),
        to: (p.end - chrono::Duration::days(1)).to_string(),
        people: people_rows,
        teams: team_rows,
        regions: region_rows,
        total: total.row("total", String::new(), String::new()),
        unowned,
        untouched,
        activated,
    })
}

pub fn coverage_table(c: &Coverage) -> Table {
    let keys = vec![
        "period",
        "kind",
        "key",
        "name",
        "accounts",
        "covered",
        "soa",
        "owned",
        "untouched",
        "unowned",
        "activated",
        "sow",
        "buying_power",
        "sales_12m",
    ];
    let rows = c
        .people
        .iter()
        .chain(&c.teams)
        .chain(&c.regions)
        .chain(std::iter::once(&c.total))
        .map(|r| {
            vec![
                c.period.clone(),
                r.kind.to_string(),
                r.key.clone(),
                r.name.clone(),
                r.accounts.to_string(),
                r.covered.to_string(),
                r.soa.clone().unwrap_or_default(),
                r.owned.to_string(),
                r.untouched.to_string(),
                r.unowned.to_string(),
                r.activated.to_string(),
                r.sow.clone().unwrap_or_default(),
                r.buying_power.clone(),
                r.sales_12m.clone(),
            ]
        })
        .collect();
    Table { keys, rows }
}
