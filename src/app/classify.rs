//! Classifying and covering key accounts (DOMAIN.md M2): the settings (RAD thresholds, tier
//! bands and weights, service standards), the derived figures kept on each account (trailing
//! sales from won opportunities, SOW, RAD class, tier and score) with their history, and the
//! reports: the RAD grid with each outside salesperson's portfolio, service standards overdue,
//! and coverage (SOA, aggregated SOW, activations, unowned and untouched accounts).
//!
//! The rules are in `domain::classify`; this module gathers their inputs, keeps the derived
//! columns in step inside the transaction of every change that moves an input, and reads
//! the reports in the caller's scope.
use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;

use super::export::Table;
use super::opportunities::OrgFilter;
use super::sql::Sql;
use super::{audit, Caller, Ctx, Error, Result};
use crate::db::{now, Db, WriteTx};
use crate::domain::classify::{
    self as cls, Rad, RadWire, ServiceStandards, StandardStatus, TierInputs, TierResult, Tiers, TiersWire,
};
use crate::domain::money::{format_bp, format_fen};
use crate::domain::quota::Period;

// ---------------------------------------------------------------- settings

/// The classification settings in force.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub rad: Rad,
    pub tiers: Tiers,
    pub service: ServiceStandards,
    /// Each part's version (0: the shipped default, never saved).
    pub versions: [i64; 3],
}

const KEYS: [&str; 3] = ["rad", "tiers", "service_standards"];

pub async fn load(conn: &mut sqlx::AnyConnection) -> Result<Settings> {
    let mut s = Settings::default();
    for r in sqlx::query("SELECT key, value, version FROM settings WHERE key IN ('rad', 'tiers', 'service_standards')")
        .fetch_all(conn)
        .await?
    {
        let key: String = r.try_get("key")?;
        let value: String = r.try_get("value")?;
        let version: i64 = r.try_get("version")?;
        // Stored values were checked when saved; one that no longer reads keeps the default.
        match key.as_str() {
            "rad" => {
                if let Some(v) = serde_json::from_str::<RadWire>(&value).ok().and_then(|w| Rad::parse(&w).ok()) {
                    s.rad = v;
                    s.versions[0] = version;
                }
            }
            "tiers" => {
                if let Some(v) = serde_json::from_str::<TiersWire>(&value).ok().and_then(|w| Tiers::parse(&w).ok()) {
                    s.tiers = v;
                    s.versions[1] = version;
                }
            }
            "service_standards" => {
                if let Some(v) = serde_json::from_str::<ServiceStandards>(&value).ok().filter(|v| v.check().is_ok()) {
                    s.service = v;
                    s.versions[2] = version;
                }
            }
            _ => {}
        }
    }
    Ok(s)
}

/// The settings as the API shows them: each part with its version.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SettingsView {
    #[schema(value_type = RadSettings)]
    pub rad: Value,
    #[schema(value_type = TierSettings)]
    pub tiers: Value,
    #[schema(value_type = ServiceSettings)]
    pub service_standards: Value,
}

/// The RAD thresholds with their version (0: the shipped default, never saved). To change
/// them, send all four with the version read.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RadSettings {
    /// Percent, e.g. "50.00": R above it.
    #[schema(pattern = r"^[0-9]{1,15}(\.[0-9]{1,2})?$", examples("50.00"))]
    pub sow_r_above: String,
    /// Percent: D from it (up to R), A below.
    #[schema(pattern = r"^[0-9]{1,15}(\.[0-9]{1,2})?$", examples("10.00"))]
    pub sow_d_from: String,
    /// Yuan: buying power class 1 above it.
    #[schema(value_type = crate::web::api::contract::Money)]
    pub bp_1_above: String,
    /// Yuan: class 2 from it (up to class 1), 3 below.
    #[schema(value_type = crate::web::api::contract::Money)]
    pub bp_2_from: String,
    pub version: i64,
}

/// The tier bands, weights and thresholds with their version (0: the shipped default).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TierSettings {
    /// The five dimensions, each once.
    pub dimensions: Vec<cls::DimensionWire>,
    /// The lowest score (1.00–5.00, a decimal string) of a strategic account.
    #[schema(pattern = r"^[0-9](\.[0-9]{1,2})?$", examples("4.20"))]
    pub strategic: String,
    /// The lowest score of an A account (below strategic).
    #[serde(rename = "A")]
    #[schema(pattern = r"^[0-9](\.[0-9]{1,2})?$", examples("3.40"))]
    pub a: String,
    /// The lowest score of a B account (below A); C below.
    #[serde(rename = "B")]
    #[schema(pattern = r"^[0-9](\.[0-9]{1,2})?$", examples("2.60"))]
    pub b: String,
    pub version: i64,
}

/// The service standards per tier with their version (0: the shipped default).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceSettings {
    pub strategic: cls::Intervals,
    #[serde(rename = "A")]
    pub a: cls::Intervals,
    #[serde(rename = "B")]
    pub b: cls::Intervals,
    #[serde(rename = "C")]
    pub c: cls::Intervals,
    pub version: i64,
}

pub fn view(s: &Settings) -> SettingsView {
    let with = |mut v: Value, version: i64| {
        v["version"] = version.into();
        v
    };
    SettingsView {
        rad: with(serde_json::to_value(s.rad.wire()).unwrap_or_default(), s.versions[0]),
        tiers: with(serde_json::to_value(s.tiers.wire()).unwrap_or_default(), s.versions[1]),
        service_standards: with(serde_json::to_value(s.service).unwrap_or_default(), s.versions[2]),
    }
}

pub async fn get_settings(db: &Db) -> Result<SettingsView> {
    Ok(view(&load(&mut *db.pool.acquire().await?).await?))
}

/// Who may change the classification settings: the administrator, and the heads of sales
/// who own the method (KA director, sales department manager, marketing director, GM).
pub fn may_configure(caller: &Caller) -> bool {
    use crate::domain::role::Role::*;
    matches!(caller.role, Admin | KaDirector | SalesDeptManager | MarketingDirector | Gm)
}

/// Saves one part of the settings (`rad`, `tiers` or `service_standards`) from its wire JSON
/// with the version it was read at, and recomputes every account's classes under it in the
/// same transaction. Answers the new settings and how many accounts changed class.
pub async fn save(db: &Db, ctx: &Ctx, key: &str, body: &Value) -> Result<(SettingsView, usize)> {
    if !may_configure(&ctx.caller) {
        return Err(Error::Forbidden);
    }
    let Some(idx) = KEYS.iter().position(|k| *k == key) else {
        return Err(Error::NotFound);
    };
    let mut body = body.clone();
    let version = match body.as_object_mut().and_then(|o| o.remove("version")) {
        Some(Value::Number(n)) => n.as_i64().ok_or_else(|| Error::invalid("version", "expected_integer"))?,
        Some(_) => return Err(Error::invalid("version", "expected_integer")),
        None => return Err(Error::invalid("version", "required")),
    };
    let bad_shape = |e: serde_json::Error| {
        // Name the field serde stopped at when it says one.
        let msg = e.to_string();
        let field = msg.split('`').nth(1).unwrap_or("body").to_string();
        Error::invalid(field, "invalid_shape")
    };
    let stored = match idx {
        0 => {
            let w: RadWire = serde_json::from_value(body).map_err(bad_shape)?;
            serde_json::to_string(&Rad::parse(&w)?.wire())
        }
        1 => {
            let w: TiersWire = serde_json::from_value(body).map_err(bad_shape)?;
            serde_json::to_string(&Tiers::parse(&w)?.wire())
        }
        _ => {
            let s: ServiceStandards = serde_json::from_value(body).map_err(bad_shape)?;
            s.check()?;
            serde_json::to_string(&s)
        }
    }
    .map_err(|e| anyhow::anyhow!(e))?;
    let mut tx = db.begin().await?;
    let before = load(tx.conn()).await?;
    if before.versions[idx] != version {
        return Err(Error::StaleVersion { current: before.versions[idx] });
    }
    let ts = now();
    let by = ctx.caller.username.clone();
    let done = if version == 0 {
        sqlx::query(
            "INSERT INTO settings (key, value, version, updated_at, updated_by) VALUES ($1, $2, 1, $3, $4) \
             ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(stored.clone())
        .bind(ts.clone())
        .bind(by.clone())
        .execute(tx.conn())
        .await?
    } else {
        sqlx::query(
            "UPDATE settings SET value = $1, version = version + 1, updated_at = $2, updated_by = $3 \
             WHERE key = $4 AND version = $5",
        )
        .bind(stored.clone())
        .bind(ts.clone())
        .bind(by.clone())
        .bind(key)
        .bind(version)
        .execute(tx.conn())
        .await?
    };
    if done.rows_affected() != 1 {
        return Err(Error::StaleVersion { current: version });
    }
    let after = load(tx.conn()).await?;
    let changed = if idx < 2 { recompute_all(&mut tx, &after, &by, &format!("settings_{key}")).await? } else { 0 };
    let bv = view(&before);
    let av = view(&after);
    let pick = |v: &SettingsView| match idx {
        0 => v.rad.clone(),
        1 => v.tiers.clone(),
        _ => v.service_standards.clone(),
    };
    audit::record(&mut tx, ctx, "settings", key, "update", Some(&pick(&bv)), Some(&pick(&av))).await?;
    tx.commit().await?;
    Ok((av, changed))
}

// ---------------------------------------------------------------- derived figures

/// The figures derived for one account.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Derived {
    sales_12m_won: i64,
    sales_12m: Option<i64>,
    sow_bp: Option<i64>,
    rad_class: Option<String>,
    tier: Option<String>,
    tier_score: Option<i64>,
}

/// The inputs stored on the account.
#[derive(Debug, Clone, Default)]
struct Inputs {
    buying_power: Option<i64>,
    sales_12m_entered: Option<i64>,
    status: String,
    profit_margin_bp: Option<i64>,
    payment_terms_days: Option<i64>,
    expense_ratio_bp: Option<i64>,
}

/// Trailing sales: won opportunities plus the entered figure; none when neither says anything.
fn total_sales(entered: Option<i64>, won: i64) -> Option<i64> {
    if entered.is_none() && won == 0 {
        None
    } else {
        Some(entered.unwrap_or(0).saturating_add(won))
    }
}

fn tier_inputs(i: &Inputs, sales: Option<i64>, sow: Option<i64>) -> TierInputs {
    TierInputs {
        sales_12m: sales,
        sow_bp: sow,
        profit_margin_bp: i.profit_margin_bp,
        payment_terms_days: i.payment_terms_days,
        expense_ratio_bp: i.expense_ratio_bp,
    }
}

/// The tier applies to confirmed key accounts only (002 tiers key accounts).
fn tier_of(s: &Settings, i: &Inputs, sales: Option<i64>, sow: Option<i64>) -> TierResult {
    let r = cls::tier(&tier_inputs(i, sales, sow), &s.tiers);
    if i.status == "key_account" {
        r
    } else {
        TierResult { tier: None, score: None, ..r }
    }
}

fn derive(s: &Settings, i: &Inputs, won: i64) -> Derived {
    let sales = total_sales(i.sales_12m_entered, won);
    let sow = cls::sow_bp(sales, i.buying_power);
    let t = tier_of(s, i, sales, sow);
    Derived {
        sales_12m_won: won,
        sales_12m: sales,
        sow_bp: sow,
        rad_class: s.rad.class(sales, i.buying_power).map(str::to_string),
        tier: t.tier.map(str::to_string),
        tier_score: t.score,
    }
}

/// The derived columns of a new account, as bulk loads write them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewClasses {
    pub sales_12m: Option<i64>,
    pub sow_bp: Option<i64>,
    pub rad_class: Option<String>,
    pub tier: Option<String>,
    pub tier_score: Option<i64>,
}

/// The derived columns of a new account (bulk loads: no opportunities yet), computed in memory.
/// `tier_inputs`: profit margin (bp), payment terms (days), sales expense ratio (bp).
pub fn derive_new(
    s: &Settings,
    buying_power: Option<i64>,
    sales_12m_entered: Option<i64>,
    status: &str,
    tier_inputs: (Option<i64>, Option<i64>, Option<i64>),
) -> NewClasses {
    let i = Inputs {
        buying_power,
        sales_12m_entered,
        status: status.to_string(),
        profit_margin_bp: tier_inputs.0,
        payment_terms_days: tier_inputs.1,
        expense_ratio_bp: tier_inputs.2,
    };
    let d = derive(s, &i, 0);
    NewClasses {
        sales_12m: d.sales_12m,
        sow_bp: d.sow_bp,
        rad_class: d.rad_class,
        tier: d.tier,
        tier_score: d.tier_score,
    }
}

fn read_inputs(r: &sqlx::any::AnyRow) -> Result<(Inputs, Derived)> {
    Ok((
        Inputs {
            buying_power: r.try_get("buying_power")?,
            sales_12m_entered: r.try_get("sales_12m_entered")?,
            status: r.try_get("status")?,
            profit_margin_bp: r.try_get("profit_margin_bp")?,
            payment_terms_days: r.try_get("payment_terms_days")?,
            expense_ratio_bp: r.try_get("expense_ratio_bp")?,
        },
        Derived {
            sales_12m_won: r.try_get("sales_12m_won")?,
            sales_12m: r.try_get("sales_12m")?,
            sow_bp: r.try_get("sow_bp")?,
            rad_class: r.try_get("rad_class")?,
            tier: r.try_get("tier")?,
            tier_score: r.try_get("tier_score")?,
        },
    ))
}

const INPUT_COLUMNS: &str = "id, buying_power, sales_12m_entered, status, profit_margin_bp, payment_terms_days, \
    expense_ratio_bp, sales_12m_won, sales_12m, sow_bp, rad_class, tier, tier_score";

/// The first day of the trailing twelve months ending today: won with a booking date after
/// it counts.
fn window_start(today: NaiveDate) -> String {
    today.checked_sub_months(Months::new(12)).unwrap_or(today).format("%Y-%m-%d").to_string()
}

async fn won_12m(conn: &mut sqlx::AnyConnection, account_id: i64, today: NaiveDate) -> Result<i64> {
    Ok(sqlx::query(
        "SELECT CAST(COALESCE(SUM(COALESCE(booked_amount, amount)), 0) AS BIGINT) AS n FROM opportunities \
         WHERE account_id = $1 AND stage = 'won' AND deleted_at IS NULL AND booked_on > $2",
    )
    .bind(account_id)
    .bind(window_start(today))
    .fetch_one(conn)
    .await?
    .try_get("n")?)
}

/// What a change's history row is compared with: the latest history row (the inputs were
/// written before the recomputation), the stored values (only the classes moved), or no
/// history at all (bulk loads, which write no audit rows either).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum History {
    Latest,
    Stored,
    None,
}

#[allow(clippy::too_many_arguments)]
async fn store(
    conn: &mut sqlx::AnyConnection,
    id: i64,
    i: &Inputs,
    old: &Derived,
    new: &Derived,
    by: &str,
    reason: &str,
    history: History,
) -> Result<bool> {
    if old != new {
        let ts = now();
        let since_changed = old.tier != new.tier;
        let mut s = Sql::new("UPDATE accounts SET sales_12m_won = ");
        s.bind(new.sales_12m_won)
            .push(", sales_12m = ")
            .bind(new.sales_12m)
            .push(", sow_bp = ")
            .bind(new.sow_bp)
            .push(", rad_class = ")
            .bind(new.rad_class.clone())
            .push(", tier = ")
            .bind(new.tier.clone())
            .push(", tier_score = ")
            .bind(new.tier_score);
        if since_changed {
            s.push(", tier_since = ").bind(new.tier.as_ref().map(|_| ts.clone()));
        }
        s.push(" WHERE id = ").bind(id);
        s.query().execute(&mut *conn).await?;
    }
    // The history keeps the state after each change of an input or a class.
    let snap = (i.buying_power, new.sales_12m, new.sow_bp, new.rad_class.clone(), new.tier.clone(), new.tier_score);
    if history == History::None {
        return Ok(old != new);
    }
    let last = if history == History::Latest {
        sqlx::query(
            "SELECT buying_power, sales_12m, sow_bp, rad_class, tier, tier_score FROM account_class_history \
             WHERE account_id = $1 ORDER BY at DESC, id DESC LIMIT 1",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| -> Result<_> {
            Ok((
                r.try_get::<Option<i64>, _>("buying_power")?,
                r.try_get::<Option<i64>, _>("sales_12m")?,
                r.try_get::<Option<i64>, _>("sow_bp")?,
                r.try_get::<Option<String>, _>("rad_class")?,
                r.try_get::<Option<String>, _>("tier")?,
                r.try_get::<Option<i64>, _>("tier_score")?,
            ))
        })
        .transpose()?
    } else {
        Some((i.buying_power, old.sales_12m, old.sow_bp, old.rad_class.clone(), old.tier.clone(), old.tier_score))
    };
    let empty = (None, None, None, None, None, None);
    let record = match &last {
        Some(l) => *l != snap,
        None => snap != empty,
    };
    if record {
        sqlx::query(
            "INSERT INTO account_class_history (account_id, at, by_user, reason, buying_power, sales_12m, sow_bp, \
             rad_class, tier, tier_score) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(id)
        .bind(now())
        .bind(by)
        .bind(reason)
        .bind(snap.0)
        .bind(snap.1)
        .bind(snap.2)
        .bind(snap.3)
        .bind(snap.4)
        .bind(snap.5)
        .execute(&mut *conn)
        .await?;
    }
    Ok(old != new)
}

/// Recomputes one account's derived figures from its inputs and won opportunities, inside the
/// transaction of the change that moved an input; records the history when anything moved.
pub async fn refresh(conn: &mut sqlx::AnyConnection, account_id: i64, by: &str, reason: &str) -> Result<()> {
    let settings = load(&mut *conn).await?;
    let Some(r) = sqlx::query(&format!("SELECT {INPUT_COLUMNS} FROM accounts WHERE id = $1 AND deleted_at IS NULL"))
        .bind(account_id)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(());
    };
    let (inputs, old) = read_inputs(&r)?;
    let won = won_12m(&mut *conn, account_id, Utc::now().date_naive()).await?;
    let new = derive(&settings, &inputs, won);
    store(conn, account_id, &inputs, &old, &new, by, reason, History::Latest).await?;
    Ok(())
}

/// Recomputes every live account under `s` (a change of settings); answers how many changed.
async fn recompute_all(tx: &mut WriteTx, s: &Settings, by: &str, reason: &str) -> Result<usize> {
    let rows = sqlx::query(&format!("SELECT {INPUT_COLUMNS} FROM accounts WHERE deleted_at IS NULL ORDER BY id"))
        .fetch_all(tx.conn())
        .await?;
    let mut changed = 0;
    for r in &rows {
        let (inputs, old) = read_inputs(r)?;
        let new = derive(s, &inputs, old.sales_12m_won);
        if new != old {
            store(tx.conn(), r.try_get("id")?, &inputs, &old, &new, by, reason, History::Stored).await?;
            changed += 1;
        }
    }
    Ok(changed)
}

/// Once a day (the first scheduler pass of the day, on whichever server claims it): accounts
/// whose won opportunities left the trailing twelve months since are recomputed.
pub async fn refresh_window(db: &Db, now_at: DateTime<Utc>) -> Result<usize> {
    let today = now_at.date_naive().format("%Y-%m-%d").to_string();
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO settings (key, value, version, updated_at, updated_by) VALUES ('sales_window_day', '', 1, $1, 'system') \
         ON CONFLICT (key) DO NOTHING",
    )
    .bind(now())
    .execute(tx.conn())
    .await?;
    let last: String = sqlx::query("SELECT value FROM settings WHERE key = 'sales_window_day'")
        .fetch_one(tx.conn())
        .await?
        .try_get("value")?;
    if last == today {
        return Ok(0);
    }
    let claimed =
        sqlx::query("UPDATE settings SET value = $1, updated_at = $2 WHERE key = 'sales_window_day' AND value = $3")
            .bind(today.clone())
            .bind(now())
            .bind(last.clone())
            .execute(tx.conn())
            .await?;
    if claimed.rows_affected() != 1 {
        return Ok(0);
    }
    // Bookings that left the window after the last run (at most 40 days back when it never ran).
    let end = window_start(now_at.date_naive());
    let last_day = NaiveDate::parse_from_str(&last, "%Y-%m-%d").ok();
    let begin = match last_day {
        Some(d) => window_start(d),
        None => window_start(now_at.date_naive() - chrono::Duration::days(40)),
    };
    let ids: Vec<i64> = sqlx::query(
        "SELECT DISTINCT account_id FROM opportunities WHERE stage = 'won' AND deleted_at IS NULL \
         AND booked_on > $1 AND booked_on <= $2",
    )
    .bind(begin)
    .bind(end)
    .fetch_all(tx.conn())
    .await?
    .iter()
    .map(|r| r.try_get("account_id"))
    .collect::<std::result::Result<_, _>>()?;
    for id in &ids {
        refresh(tx.conn(), *id, "system", "sales_window").await?;
    }
    if !ids.is_empty() {
        let ctx = Ctx { caller: Ctx::system().caller, request_id: "scheduler".into() };
        let after = serde_json::json!({"accounts": ids.len(), "day": today});
        audit::record(&mut tx, &ctx, "classification", "sales_window", "recompute", None, Some(&after)).await?;
    }
    tx.commit().await?;
    Ok(ids.len())
}

/// The latest done activity on an account, kept on the account for coverage (after every
/// change of its activities).
pub async fn touch_activity(conn: &mut sqlx::AnyConnection, account_id: i64) -> Result<()> {
    sqlx::query(
        "UPDATE accounts SET last_activity_at = (SELECT MAX(t.occurred_at) FROM activities t \
         WHERE t.account_id = $1 AND t.status = 'done' AND t.deleted_at IS NULL) WHERE id = $1",
    )
    .bind(account_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Derived columns recomputed for every account at once (after bulk loads: the demo, the
/// dataset): latest activity, activation, open pipeline, trailing sales from the won
/// opportunities, and the classes. One read of every account with its aggregates, the rules in
/// memory, and multi-row updates of the accounts that changed: a whole-table UPDATE per column
/// rewrites every row and its index entries each time (seconds apiece on PostgreSQL).
pub async fn rebuild_all(tx: &mut WriteTx) -> Result<()> {
    let s = load(tx.conn()).await?;
    let start = window_start(Utc::now().date_naive());
    // SQLite picked `activities_account` for the latest done activity and read a million
    // rows of the table for their status (3.5 s on l3-60k); `activities_service` holds just the
    // done ones, with the account and the time (0.8 s).
    let done = match tx.backend() {
        crate::db::Backend::Sqlite => "activities t INDEXED BY activities_service",
        crate::db::Backend::Postgres => "activities t",
    };
    let rows = sqlx::query(&format!(
        "SELECT {INPUT_COLUMNS}, tier_since, last_activity_at, activated_at, pipeline_open, \
         la.at AS new_last, ac.at AS new_activated, COALESCE(w.won, 0) AS new_won, COALESCE(p.open, 0) AS new_open \
         FROM accounts \
         LEFT JOIN (SELECT t.account_id AS account_id, MAX(t.occurred_at) AS at FROM {done} \
             WHERE t.status = 'done' AND t.deleted_at IS NULL GROUP BY t.account_id) la ON la.account_id = accounts.id \
         LEFT JOIN (SELECT o.account_id AS account_id, MIN(o.established_at) AS at FROM opportunities o \
             WHERE o.deleted_at IS NULL GROUP BY o.account_id) ac ON ac.account_id = accounts.id \
         LEFT JOIN (SELECT o.account_id AS account_id, CAST(SUM(COALESCE(o.booked_amount, o.amount)) AS BIGINT) AS won \
             FROM opportunities o WHERE o.stage = 'won' AND o.deleted_at IS NULL AND o.booked_on > $1 \
             GROUP BY o.account_id) w ON w.account_id = accounts.id \
         LEFT JOIN (SELECT t.account_id AS account_id, CAST(SUM(t.amount) AS BIGINT) AS open FROM opportunity_totals t \
             WHERE t.stage NOT IN ('won', 'lost') GROUP BY t.account_id) p ON p.account_id = accounts.id \
         WHERE accounts.deleted_at IS NULL ORDER BY accounts.id"
    ))
    .bind(start)
    .fetch_all(tx.conn())
    .await?;
    let ts = now();
    let mut changed: Vec<Vec<crate::app::sql::Val>> = vec![];
    for r in &rows {
        let (inputs, old) = read_inputs(r)?;
        let new = derive(&s, &inputs, r.try_get("new_won")?);
        let (last, activated, open): (Option<String>, Option<String>, i64) =
            (r.try_get("new_last")?, r.try_get("new_activated")?, r.try_get("new_open")?);
        let old_since: Option<String> = r.try_get("tier_since")?;
        let since = if old.tier != new.tier { new.tier.as_ref().map(|_| ts.clone()) } else { old_since.clone() };
        let same = new == old
            && last == r.try_get::<Option<String>, _>("last_activity_at")?
            && activated == r.try_get::<Option<String>, _>("activated_at")?
            && open == r.try_get::<i64, _>("pipeline_open")?
            && since == old_since;
        if !same {
            changed.push(vec![
                r.try_get::<i64, _>("id")?.into(),
                last.into(),
                activated.into(),
                open.into(),
                new.sales_12m_won.into(),
                new.sales_12m.into(),
                new.sow_bp.into(),
                new.rad_class.into(),
                new.tier.into(),
                new.tier_score.into(),
                since.into(),
            ]);
        }
    }
    for chunk in changed.chunks(500) {
        let mut q = Sql::new(
            "UPDATE accounts SET last_activity_at = v.c2, activated_at = v.c3, pipeline_open = v.c4, \
             sales_12m_won = v.c5, sales_12m = v.c6, sow_bp = v.c7, rad_class = v.c8, tier = v.c9, tier_score = v.c10, \
             tier_since = v.c11 FROM (SELECT column1 AS id, column2 AS c2, column3 AS c3, column4 AS c4, column5 AS c5, \
             column6 AS c6, column7 AS c7, column8 AS c8, column9 AS c9, column10 AS c10, column11 AS c11 FROM (VALUES ",
        );
        for (i, row) in chunk.iter().enumerate() {
            q.push(if i == 0 { "(" } else { ", (" });
            for (j, val) in row.iter().enumerate() {
                if j > 0 {
                    q.push(", ");
                }
                q.bind(val.clone());
            }
            q.push(")");
        }
        q.push(") AS x) v WHERE v.id = accounts.id");
        q.query().execute(tx.conn()).await?;
    }
    Ok(())
}

// ---------------------------------------------------------------- one account

/// One change of an account's classification.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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
    #[schema(value_type = crate::domain::account::Status)]
    pub status: String,
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

pub fn source(entered: Option<i64>, won: i64) -> Option<&'static str> {
    match (entered.is_some(), won != 0) {
        (false, false) => None,
        (false, true) => Some("opportunities"),
        (true, false) => Some("entered"),
        (true, true) => Some("both"),
    }
}

fn day_of(ts: &str) -> Option<NaiveDate> {
    ts.get(..10).and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
}

/// Per account: the last day each standard was met, from its done activities.
/// `accounts` appends the account ids asked about (a list, or a subquery over alias `a`).
async fn last_met(db: &Db, accounts: impl FnOnce(&mut Sql)) -> Result<HashMap<i64, [Option<NaiveDate>; 3]>> {
    let mut s = Sql::new(
        "SELECT t.account_id AS account_id, t.kind AS kind, t.purpose AS purpose, MAX(t.occurred_at) AS at \
         FROM activities t WHERE t.status = 'done' AND t.deleted_at IS NULL AND t.account_id IN (",
    );
    accounts(&mut s);
    s.push(") GROUP BY t.account_id, t.kind, t.purpose");
    let mut out: HashMap<i64, [Option<NaiveDate>; 3]> = HashMap::new();
    for r in s.query().fetch_all(&db.pool).await? {
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
    super::accounts::ensure_visible(db, caller, id).await?;
    let mut conn = db.pool.acquire().await?;
    let settings = load(&mut conn).await?;
    let r = sqlx::query(&format!("SELECT {INPUT_COLUMNS}, tier_since FROM accounts WHERE id = $1"))
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    let (inputs, d) = read_inputs(&r)?;
    let tier_since: Option<String> = r.try_get("tier_since")?;
    let t = cls::tier(&tier_inputs(&inputs, d.sales_12m, d.sow_bp), &settings.tiers);
    drop(conn);
    let today = Utc::now().date_naive();
    let service = match (&d.tier, &tier_since) {
        (Some(tier), Some(since)) => {
            let last = last_met(db, |s| {
                s.bind(id);
            })
            .await?
            .remove(&id)
            .unwrap_or_default();
            statuses(&settings.service, tier, day_of(since).unwrap_or(today), &last, today)
        }
        _ => vec![],
    };
    let history = sqlx::query(
        "SELECT at, by_user, reason, buying_power, sales_12m, sow_bp, rad_class, tier, tier_score \
         FROM account_class_history WHERE account_id = $1 ORDER BY at DESC, id DESC LIMIT 100",
    )
    .bind(id)
    .fetch_all(&db.pool)
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
        status: inputs.status.clone(),
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
    let org = super::opportunities::org_filter(db, f.org.as_deref()).await?;
    let owner = match f.owner.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => None,
        Some(u) => Some(
            sqlx::query("SELECT id FROM users WHERE username = $1")
                .bind(u)
                .fetch_optional(&db.pool)
                .await?
                .ok_or_else(|| Error::invalid("owner", "unknown_user"))?
                .try_get::<i64, _>("id")?,
        ),
    };
    Ok((org, owner))
}

/// ` AND …` for the accounts alias `a`: the caller's scope, then the org unit and the person.
fn push_filters(s: &mut Sql, caller: &Caller, org: OrgFilter, owner: Option<i64>) {
    super::accounts::push_scope(s, caller);
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
    for r in
        sqlx::query("SELECT id, username, display_name, manager_id, sales_type FROM users").fetch_all(&db.pool).await?
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
    for r in sqlx::query("SELECT id, code, name FROM org_units").fetch_all(&db.pool).await? {
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
    /// Σ buying power.
    #[schema(value_type = crate::web::api::contract::Money)]
    pub buying_power: String,
    /// Σ trailing-12-month sales.
    #[schema(value_type = crate::web::api::contract::Money)]
    pub sales_12m: String,
    /// Σ amount of open opportunities.
    #[schema(value_type = crate::web::api::contract::Money)]
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
        async { Ok::<_, Error>(s.query().fetch_all(&db.pool).await?) },
        async { Ok::<_, Error>(p.query().fetch_all(&db.pool).await?) },
        people(db),
        async { load(&mut *db.pool.acquire().await?).await }
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
        async { Ok::<_, Error>(s.query().fetch_all(&db.pool).await?) },
        last_met(db, |q| {
            q.push("SELECT a.id FROM accounts a WHERE 1 = 1");
            filter(q);
        }),
        async { load(&mut *db.pool.acquire().await?).await }
    )?;
    let today = Utc::now().date_naive();
    let mut overdue = vec![];
    let mut counts: BTreeMap<&'static str, i64> = cls::STANDARDS.iter().map(|s| (*s, 0)).collect();
    for r in &rows {
        let id: i64 = r.try_get("id")?;
        let t: String = r.try_get("tier")?;
        let since = r.try_get::<Option<String>, _>("tier_since")?.as_deref().and_then(day_of).unwrap_or(today);
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
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Brief {
    pub id: i64,
    pub name: String,
    pub owner: Option<String>,
    pub region: Option<String>,
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
    if p.end > Utc::now().date_naive() {
        s.push("(a.last_activity_at >= ").bind(from.to_string()).push(")");
    } else {
        s.push("(a.id IN (SELECT t.account_id FROM activities t WHERE t.status = 'done' AND t.deleted_at IS NULL AND t.occurred_at >= ")
            .bind(from.to_string())
            .push(" AND t.occurred_at < ")
            .bind(to.to_string())
            .push("))");
    }
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
            "SELECT a.id, a.name, a.last_activity_at, u.username AS owner, r.code AS region FROM accounts a \
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
        async { Ok::<_, Error>(s.query().fetch_all(&db.pool).await?) },
        people(db),
        region_names(db),
        async { Ok::<_, Error>(unowned.query().fetch_all(&db.pool).await?) },
        async { Ok::<_, Error>(untouched.query().fetch_all(&db.pool).await?) },
        async { Ok::<_, Error>(activated.query().fetch_all(&db.pool).await?) },
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
    let briefs = |rows: Vec<sqlx::any::AnyRow>| -> Result<Vec<Brief>> {
        rows.iter()
            .map(|r| {
                Ok(Brief {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    owner: r.try_get("owner")?,
                    region: r.try_get("region")?,
                    last_activity_at: r.try_get("last_activity_at")?,
                })
            })
            .collect()
    };
    Ok(Coverage {
        period: p.code.clone(),
        from: p.start.to_string(),
        to: (p.end - chrono::Duration::days(1)).to_string(),
        people: people_rows,
        teams: team_rows,
        regions: region_rows,
        total: total.row("total", String::new(), String::new()),
        unowned: briefs(unowned)?,
        untouched: briefs(untouched)?,
        activated: briefs(activated)?,
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
