//! Classifying and covering key accounts (docs/DOMAIN.md#7-classification): the settings (RAD thresholds, tier
//! bands and weights, service standards), the derived figures kept on each account (trailing
//! sales from won opportunities, SOW, RAD class, tier and score) with their history, and the
//! reports: the RAD grid with each outside salesperson's portfolio, service standards overdue,
//! and coverage (SOA, aggregated SOW, activations, unowned and untouched accounts).
//!
//! The rules are in `domain::classify`; this module gathers their inputs, keeps the derived
//! columns in step inside the transaction of every change that moves an input, and reads
//! the reports in the caller's scope.

use chrono::{DateTime, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;

use crate::app::{records::audit, Caller, Ctx, Error, Result};
use crate::db::sql::Sql;
use crate::db::{now, Db, WriteTx};
use crate::domain::classify::{self as cls, Rad, RadWire, ServiceStandards, TierInputs, TierResult, Tiers, TiersWire};

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

pub(crate) const KEYS: [&str; 3] = ["rad", "tiers", "service_standards"];

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
        Error::invalid(field, if msg.starts_with("unknown field") { "unknown_field" } else { "invalid_shape" })
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
    let by = ctx.caller.username.clone();
    if !crate::app::records::settings::write(&mut tx, key, &stored, version, &by).await? {
        return Ok((view(&before), 0));
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
pub(crate) struct Derived {
    pub(crate) sales_12m_won: i64,
    pub(crate) sales_12m: Option<i64>,
    pub(crate) sow_bp: Option<i64>,
    pub(crate) rad_class: Option<String>,
    pub(crate) tier: Option<String>,
    pub(crate) tier_score: Option<i64>,
}

/// The inputs stored on the account.
#[derive(Debug, Clone, Default)]
pub(crate) struct Inputs {
    pub(crate) buying_power: Option<i64>,
    pub(crate) sales_12m_entered: Option<i64>,
    pub(crate) status: String,
    pub(crate) profit_margin_bp: Option<i64>,
    pub(crate) payment_terms_days: Option<i64>,
    pub(crate) expense_ratio_bp: Option<i64>,
}

/// Trailing sales: won opportunities plus the entered figure; none when neither says anything.
pub(crate) fn total_sales(entered: Option<i64>, won: i64) -> Option<i64> {
    if entered.is_none() && won == 0 {
        None
    } else {
        Some(entered.unwrap_or(0).saturating_add(won))
    }
}

pub(crate) fn tier_inputs(i: &Inputs, sales: Option<i64>, sow: Option<i64>) -> TierInputs {
    TierInputs {
        sales_12m: sales,
        sow_bp: sow,
        profit_margin_bp: i.profit_margin_bp,
        payment_terms_days: i.payment_terms_days,
        expense_ratio_bp: i.expense_ratio_bp,
    }
}

/// The tier applies to confirmed key accounts only (002 tiers key accounts).
pub(crate) fn tier_of(s: &Settings, i: &Inputs, sales: Option<i64>, sow: Option<i64>) -> TierResult {
    let r = cls::tier(&tier_inputs(i, sales, sow), &s.tiers);
    if i.status == "key_account" {
        r
    } else {
        TierResult { tier: None, score: None, ..r }
    }
}

pub(crate) fn derive(s: &Settings, i: &Inputs, won: i64) -> Derived {
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

pub(crate) fn read_inputs(r: &sqlx::any::AnyRow) -> Result<(Inputs, Derived)> {
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

pub(crate) const INPUT_COLUMNS: &str =
    "id, buying_power, sales_12m_entered, status, profit_margin_bp, payment_terms_days, \
    expense_ratio_bp, sales_12m_won, sales_12m, sow_bp, rad_class, tier, tier_score";

/// The first day of the trailing twelve months ending today: won with a booking date after
/// it counts.
pub(crate) fn window_start(today: NaiveDate) -> String {
    today.checked_sub_months(Months::new(12)).unwrap_or(today).format("%Y-%m-%d").to_string()
}

pub(crate) async fn won_12m(conn: &mut sqlx::AnyConnection, account_id: i64, today: NaiveDate) -> Result<i64> {
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
pub(crate) enum History {
    Latest,
    Stored,
    None,
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn store(
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
pub(crate) async fn recompute_all(tx: &mut WriteTx, s: &Settings, by: &str, reason: &str) -> Result<usize> {
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
    let Some(last) = crate::app::records::settings::claim_day(&mut tx, "sales_window_day", &today).await? else {
        return Ok(0);
    };
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
    let done = tx.indexed_by("activities t", "activities_service");
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
    let mut changed: Vec<Vec<crate::db::sql::Val>> = vec![];
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

pub fn source(entered: Option<i64>, won: i64) -> Option<&'static str> {
    match (entered.is_some(), won != 0) {
        (false, false) => None,
        (false, true) => Some("opportunities"),
        (true, false) => Some("entered"),
        (true, true) => Some("both"),
    }
}
