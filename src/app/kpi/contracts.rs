//! The performance contract (业绩合同) of a person and year: issued by their manager (发约人)
//! from their role's template (a role without one is 422 `user_id` no_template), targets and
//! weights adjustable (still summing to 100), acknowledged by the holder (受约人) and the issuer
//! side (who and when, the paper's signature lines), the manager's actuals for the indicators
//! KAM holds no data for, the veto item recorded with a reason, and at the year's end closed:
//! its yearly score frozen (what the promotion rule reads).
use chrono::Datelike;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

use super::templates::{self, check_indicators, Indicator, Veto};
use super::{format_dec, may_issue, parse_dec, person_in, person_of, row_of, Period, Person, ROW_SQL};
use crate::app::records::audit;
use crate::app::{Caller, Ctx, Error, Result};
use crate::db::{ts, Db, RowLock, WriteTx};
use crate::domain::error::Errors;
use crate::domain::money::{format_fen, parse_fen};
use crate::domain::text;

/// The audit's record kinds.
pub const KIND: &str = "kpi_contract";
pub const ACTUAL_KIND: &str = "kpi_actual";
/// A contract's states.
pub const STATES: &[&str] = &["issued", "acknowledged", "closed"];

/// A new contract.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = KpiContractIn)]
pub struct ContractIn {
    /// The holder (受约人).
    pub user_id: i64,
    #[schema(minimum = 2000, maximum = 2100)]
    pub year: i64,
    /// The year's bonus base in yuan (0 when absent).
    #[serde(default)]
    #[schema(value_type = Option<crate::web::api::contract::Money>)]
    pub bonus_base: Option<String>,
    /// The indicators with their weights and targets; the role's template's when absent.
    #[serde(default)]
    #[schema(max_items = 40)]
    pub indicators: Option<Vec<Indicator>>,
}

/// New indicators (targets, weights) and bonus base over the version shown. Changed
/// indicators take the acknowledgements back: both sign again.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = KpiContractUpdate)]
pub struct ContractUpdate {
    #[schema(max_items = 40)]
    pub indicators: Vec<Indicator>,
    #[serde(default)]
    #[schema(value_type = Option<crate::web::api::contract::Money>)]
    pub bonus_base: Option<String>,
    pub version: i64,
}

/// The version shown.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = KpiVersionIn)]
pub struct VersionIn {
    pub version: i64,
}

/// A manager's actual for an indicator without data in KAM.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = KpiActualIn)]
pub struct ActualIn {
    /// The indicator's key (a `manual` one).
    pub indicator: String,
    /// `2027` or `2027-Q1` … of the contract's year.
    pub period: String,
    /// A decimal with at most two places, in the indicator's kind (yuan, percent, count).
    #[schema(pattern = r"^-?\d{1,15}(\.\d{1,2})?$")]
    pub value: String,
    #[serde(default)]
    pub note: Option<String>,
    /// The actual's version (0 for a new one).
    pub version: i64,
}

/// The veto item hit (with a reason) or cleared, over the contract's version.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = KpiVetoIn)]
pub struct VetoIn {
    pub hit: bool,
    /// Required when hit, 1–500 characters.
    #[serde(default)]
    pub reason: Option<String>,
    pub version: i64,
}

/// A manager's actual.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = KpiActual)]
pub struct ActualView {
    pub id: i64,
    pub indicator: String,
    pub period: String,
    pub value: String,
    pub note: Option<String>,
    pub entered_by_name: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    pub version: i64,
}

/// A contract, whole.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = KpiContract)]
pub struct ContractView {
    pub id: i64,
    pub user_id: i64,
    pub holder_name: String,
    /// The holder's role when issued.
    pub role: String,
    pub title: String,
    pub org_unit_id: i64,
    pub team_name: String,
    pub year: i64,
    pub issuer_id: i64,
    pub issuer_name: String,
    pub indicators: Vec<Indicator>,
    pub veto: Veto,
    #[schema(value_type = crate::web::api::contract::Money)]
    pub bonus_base: String,
    /// `issued`, `acknowledged` (both signed), `closed` (the year's score frozen).
    pub state: String,
    /// When the holder (受约人) acknowledged it.
    #[schema(format = DateTime)]
    pub holder_ack_at: Option<String>,
    /// Who acknowledged it on the issuer's side (发约人) and when.
    pub issuer_ack_name: Option<String>,
    #[schema(format = DateTime)]
    pub issuer_ack_at: Option<String>,
    pub veto_hit: bool,
    pub veto_reason: Option<String>,
    pub veto_by_name: Option<String>,
    #[schema(format = DateTime)]
    pub veto_at: Option<String>,
    /// The frozen yearly score in percent (`"92.50"`) once closed.
    pub final_score: Option<String>,
    #[schema(format = DateTime)]
    pub closed_at: Option<String>,
    pub actuals: Vec<ActualView>,
    pub version: i64,
    /// The caller keeps it (the issuer's side): targets, actuals, veto, close.
    pub may_edit: bool,
    /// The caller may acknowledge it now (as holder or on the issuer's side).
    pub may_acknowledge: bool,
}

/// The manager's actuals of a contract: (indicator, period) → value.
pub(crate) async fn actuals_of(conn: &mut sqlx::AnyConnection, id: i64) -> Result<Vec<ActualView>> {
    sqlx::query(
        "SELECT a.*, u.display_name AS entered_by_name FROM kpi_actuals a JOIN users u ON u.id = a.entered_by \
         WHERE a.contract_id = $1 ORDER BY a.period, a.indicator",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok(ActualView {
            id: r.try_get("id")?,
            indicator: r.try_get("indicator")?,
            period: r.try_get("period")?,
            value: format_dec(r.try_get("value")?),
            note: r.try_get("note")?,
            entered_by_name: r.try_get("entered_by_name")?,
            updated_at: r.try_get("updated_at")?,
            version: r.try_get("version")?,
        })
    })
    .collect()
}

async fn title_of(conn: &mut sqlx::AnyConnection, role: &str) -> Result<String> {
    Ok(templates::templates_of(conn)
        .await?
        .templates
        .into_iter()
        .find(|t| t.role == role)
        .map(|t| t.title)
        .unwrap_or_default())
}

pub(crate) async fn load_in(conn: &mut sqlx::AnyConnection, caller: &Caller, id: i64) -> Result<ContractView> {
    let r = sqlx::query(
        "SELECT c.*, h.display_name AS holder_name, i.display_name AS issuer_name, o.name AS team_name, \
         a.display_name AS issuer_ack_name, v.display_name AS veto_by_name FROM kpi_contracts c \
         JOIN users h ON h.id = c.user_id JOIN users i ON i.id = c.issuer_id JOIN org_units o ON o.id = c.org_unit_id \
         LEFT JOIN users a ON a.id = c.issuer_ack_by LEFT JOIN users v ON v.id = c.veto_by WHERE c.id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(Error::NotFound)?;
    let holder = person_in(conn, caller, r.try_get("user_id")?).await?;
    let state: String = r.try_get("state")?;
    let role: String = r.try_get("role")?;
    let editable = may_issue(caller, &holder);
    let holder_ack_at: Option<String> = r.try_get("holder_ack_at")?;
    let issuer_ack_at: Option<String> = r.try_get("issuer_ack_at")?;
    let may_acknowledge = state == "issued"
        && ((caller.user_id == holder.id && holder_ack_at.is_none()) || (editable && issuer_ack_at.is_none()));
    Ok(ContractView {
        id,
        user_id: holder.id,
        holder_name: r.try_get("holder_name")?,
        title: title_of(conn, &role).await?,
        role,
        org_unit_id: r.try_get("org_unit_id")?,
        team_name: r.try_get("team_name")?,
        year: r.try_get("year")?,
        issuer_id: r.try_get("issuer_id")?,
        issuer_name: r.try_get("issuer_name")?,
        indicators: serde_json::from_str(&r.try_get::<String, _>("indicators")?)
            .map_err(|e| anyhow::anyhow!("stored indicators: {e}"))?,
        veto: serde_json::from_str(&r.try_get::<String, _>("veto")?)
            .map_err(|e| anyhow::anyhow!("stored veto: {e}"))?,
        bonus_base: format_fen(r.try_get("bonus_base")?),
        holder_ack_at,
        issuer_ack_name: r.try_get("issuer_ack_name")?,
        issuer_ack_at,
        veto_hit: r.try_get::<i64, _>("veto_hit")? != 0,
        veto_reason: r.try_get("veto_reason")?,
        veto_by_name: r.try_get("veto_by_name")?,
        veto_at: r.try_get("veto_at")?,
        final_score: r.try_get::<Option<i64>, _>("final_score_bp")?.map(format_dec),
        closed_at: r.try_get("closed_at")?,
        actuals: actuals_of(conn, id).await?,
        version: r.try_get("version")?,
        may_edit: editable && state != "closed",
        may_acknowledge,
        state,
    })
}

pub async fn get(db: &Db, caller: &Caller, id: i64) -> Result<ContractView> {
    let mut conn = db.pool.acquire().await?;
    load_in(&mut conn, caller, id).await
}

/// A contract in a list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = KpiContractItem)]
pub struct ContractItem {
    pub id: i64,
    pub user_id: i64,
    pub holder_name: String,
    pub role: String,
    pub team_name: String,
    pub year: i64,
    pub issuer_name: String,
    pub state: String,
    #[schema(value_type = crate::web::api::contract::Money)]
    pub bonus_base: String,
    pub holder_acknowledged: bool,
    pub issuer_acknowledged: bool,
}

/// The contracts of a year the caller sees, by team and name (at most 2000).
pub async fn list(db: &Db, caller: &Caller, year: i64, org_unit_id: Option<i64>) -> Result<Vec<ContractItem>> {
    if !super::may_see(caller) {
        return Err(Error::Forbidden);
    }
    let mut conn = db.pool.acquire().await?;
    let rows = sqlx::query(
        "SELECT c.id, c.user_id, h.display_name AS holder_name, h.manager_id, c.role, o.name AS team_name, o.path, \
         hp.path AS holder_path, c.org_unit_id, c.year, i.display_name AS issuer_name, c.state, c.bonus_base, \
         c.holder_ack_at, c.issuer_ack_at FROM kpi_contracts c JOIN users h ON h.id = c.user_id \
         JOIN users i ON i.id = c.issuer_id JOIN org_units o ON o.id = c.org_unit_id \
         JOIN org_units hp ON hp.id = h.org_unit_id WHERE c.year = $1 ORDER BY o.path, h.display_name, c.id",
    )
    .bind(year)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = vec![];
    for r in rows {
        let user_id: i64 = r.try_get("user_id")?;
        let holder_path: String = r.try_get("holder_path")?;
        let manager_id: Option<i64> = r.try_get("manager_id")?;
        let seen = caller.user_id == user_id
            || super::sees_all(caller.role)
            || (super::leads(caller.role)
                && (manager_id == Some(caller.user_id) || holder_path.starts_with(&caller.org_path)));
        if !seen || org_unit_id.is_some_and(|o| r.try_get::<i64, _>("org_unit_id").ok() != Some(o)) {
            continue;
        }
        out.push(ContractItem {
            id: r.try_get("id")?,
            user_id,
            holder_name: r.try_get("holder_name")?,
            role: r.try_get("role")?,
            team_name: r.try_get("team_name")?,
            year: r.try_get("year")?,
            issuer_name: r.try_get("issuer_name")?,
            state: r.try_get("state")?,
            bonus_base: format_fen(r.try_get("bonus_base")?),
            holder_acknowledged: r.try_get::<Option<String>, _>("holder_ack_at")?.is_some(),
            issuer_acknowledged: r.try_get::<Option<String>, _>("issuer_ack_at")?.is_some(),
        });
        if out.len() >= 2000 {
            break;
        }
    }
    Ok(out)
}

fn bonus_of(e: &mut Errors, s: Option<&str>) -> Option<i64> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Some(0),
        Some(s) => e.take("bonus_base", parse_fen(s)),
    }
}

fn indicators_json(list: &[Indicator]) -> serde_json::Value {
    json!(list
        .iter()
        .map(|i| json!({"key": i.key, "name": i.name, "weight": i.weight, "target": i.target}))
        .collect::<Vec<_>>())
}

/// Issues a person's contract of a year (their manager, the KA director or the sales
/// department manager; one per person and year: a second is 409 contract_exists).
pub async fn create(db: &Db, ctx: &Ctx, inp: &ContractIn) -> Result<ContractView> {
    let caller = &ctx.caller;
    let mut tx = db.begin().await?;
    let holder: Person = match person_of(tx.conn(), inp.user_id).await? {
        Some(p) if p.active => p,
        _ => return Err(Error::invalid("user_id", "unknown_person")),
    };
    if !super::sees_person(caller, &holder) {
        return Err(Error::invalid("user_id", "unknown_person"));
    }
    if !may_issue(caller, &holder) {
        return Err(Error::Forbidden);
    }
    let tpl = templates::templates_of(tx.conn()).await?;
    let mut e = Errors::default();
    if !(2000..=2100).contains(&inp.year) {
        e.add("year", "year_range");
    }
    let template = tpl.templates.iter().find(|t| t.role == holder.role.code());
    if template.is_none() {
        e.add("user_id", "no_template");
    }
    let bonus = bonus_of(&mut e, inp.bonus_base.as_deref());
    let indicators = match (&inp.indicators, template) {
        (Some(list), _) => check_indicators("", list, &mut e),
        (None, Some(t)) => t.indicators.clone(),
        (None, None) => vec![],
    };
    e.finish()?;
    let template = template.expect("checked");
    let taken = sqlx::query("SELECT id FROM kpi_contracts WHERE user_id = $1 AND year = $2")
        .bind(holder.id)
        .bind(inp.year)
        .fetch_optional(tx.conn())
        .await?;
    if taken.is_some() {
        return Err(Error::Conflict("contract_exists"));
    }
    let at = ts(crate::app::clock::now());
    let ind = serde_json::to_string(&indicators).map_err(|e| anyhow::anyhow!("{e}"))?;
    let veto = serde_json::to_string(&template.veto).map_err(|e| anyhow::anyhow!("{e}"))?;
    let id: i64 = sqlx::query(
        "INSERT INTO kpi_contracts (user_id, year, role, org_unit_id, issuer_id, indicators, veto, bonus_base, state, \
         version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'issued', 1, $9, $9) RETURNING id",
    )
    .bind(holder.id)
    .bind(inp.year)
    .bind(holder.role.code())
    .bind(holder.org_unit_id)
    .bind(caller.user_id)
    .bind(ind)
    .bind(veto)
    .bind(bonus.unwrap_or(0))
    .bind(at)
    .fetch_one(tx.conn())
    .await?
    .try_get("id")?;
    audit::record(
        &mut tx,
        ctx,
        KIND,
        &id.to_string(),
        "create",
        None,
        Some(&json!({"user_id": holder.id, "year": inp.year, "bonus_base": format_fen(bonus.unwrap_or(0)),
            "indicators": indicators_json(&indicators)})),
    )
    .await?;
    let v = load_in(tx.conn(), caller, id).await?;
    tx.commit().await?;
    Ok(v)
}

/// Locks the contract, checks the caller sees it and that the version shown is current.
async fn lock_in(tx: &mut WriteTx, caller: &Caller, id: i64, version: Option<i64>) -> Result<ContractView> {
    let lock = tx.lock_clause(RowLock::Update);
    sqlx::query(&format!("SELECT id FROM kpi_contracts WHERE id = $1{lock}"))
        .bind(id)
        .fetch_optional(tx.conn())
        .await?;
    let v = load_in(tx.conn(), caller, id).await?;
    if version.is_some_and(|n| n != v.version) {
        return Err(Error::StaleVersion { current: v.version });
    }
    Ok(v)
}

fn editable(v: &ContractView) -> Result<()> {
    if v.state == "closed" {
        return Err(Error::Conflict("contract_closed"));
    }
    if !v.may_edit {
        return Err(Error::Forbidden);
    }
    Ok(())
}

async fn bump(tx: &mut WriteTx, id: i64) -> Result<()> {
    sqlx::query("UPDATE kpi_contracts SET version = version + 1, updated_at = $1 WHERE id = $2")
        .bind(ts(crate::app::clock::now()))
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Adjusts the indicators (targets, weights: still summing to 100) and the bonus base.
pub async fn update(db: &Db, ctx: &Ctx, id: i64, inp: &ContractUpdate) -> Result<ContractView> {
    let caller = &ctx.caller;
    let mut tx = db.begin().await?;
    let v = lock_in(&mut tx, caller, id, Some(inp.version)).await?;
    editable(&v)?;
    let mut e = Errors::default();
    let indicators = check_indicators("", &inp.indicators, &mut e);
    let bonus = match inp.bonus_base.as_deref() {
        None => parse_fen(&v.bonus_base).ok(),
        s => bonus_of(&mut e, s),
    };
    e.finish()?;
    let changed = indicators != v.indicators;
    let ind = serde_json::to_string(&indicators).map_err(|e| anyhow::anyhow!("{e}"))?;
    sqlx::query("UPDATE kpi_contracts SET indicators = $1, bonus_base = $2 WHERE id = $3")
        .bind(ind)
        .bind(bonus.unwrap_or(0))
        .bind(id)
        .execute(tx.conn())
        .await?;
    if changed {
        sqlx::query(
            "UPDATE kpi_contracts SET state = 'issued', holder_ack_at = NULL, issuer_ack_by = NULL, issuer_ack_at = NULL \
             WHERE id = $1",
        )
        .bind(id)
        .execute(tx.conn())
        .await?;
    }
    bump(&mut tx, id).await?;
    audit::record(
        &mut tx,
        ctx,
        KIND,
        &id.to_string(),
        "update",
        Some(&json!({"indicators": indicators_json(&v.indicators), "bonus_base": v.bonus_base})),
        Some(&json!({"indicators": indicators_json(&indicators), "bonus_base": format_fen(bonus.unwrap_or(0))})),
    )
    .await?;
    let out = load_in(tx.conn(), caller, id).await?;
    tx.commit().await?;
    Ok(out)
}

/// The holder (受约人) or the issuer's side (发约人) acknowledges the contract; both have, it
/// is `acknowledged`.
pub async fn acknowledge(db: &Db, ctx: &Ctx, id: i64, inp: &VersionIn) -> Result<ContractView> {
    let caller = &ctx.caller;
    let mut tx = db.begin().await?;
    let v = lock_in(&mut tx, caller, id, Some(inp.version)).await?;
    if v.state != "issued" {
        return Err(Error::Conflict("contract_acknowledged"));
    }
    if !v.may_acknowledge {
        return Err(if caller.user_id == v.user_id || v.may_edit {
            Error::Conflict("contract_acknowledged")
        } else {
            Error::Forbidden
        });
    }
    let at = ts(crate::app::clock::now());
    let side = if caller.user_id == v.user_id { "holder" } else { "issuer" };
    if side == "holder" {
        sqlx::query("UPDATE kpi_contracts SET holder_ack_at = $1 WHERE id = $2")
            .bind(at.clone())
            .bind(id)
            .execute(tx.conn())
            .await?;
    } else {
        sqlx::query("UPDATE kpi_contracts SET issuer_ack_by = $1, issuer_ack_at = $2 WHERE id = $3")
            .bind(caller.user_id)
            .bind(at.clone())
            .bind(id)
            .execute(tx.conn())
            .await?;
    }
    let both = (side == "holder" && v.issuer_ack_at.is_some()) || (side == "issuer" && v.holder_ack_at.is_some());
    if both {
        sqlx::query("UPDATE kpi_contracts SET state = 'acknowledged' WHERE id = $1")
            .bind(id)
            .execute(tx.conn())
            .await?;
    }
    bump(&mut tx, id).await?;
    audit::record(
        &mut tx,
        ctx,
        KIND,
        &id.to_string(),
        "acknowledge",
        Some(&json!({"state": v.state})),
        Some(&json!({"side": side, "state": if both { "acknowledged" } else { "issued" }})),
    )
    .await?;
    let out = load_in(tx.conn(), caller, id).await?;
    tx.commit().await?;
    Ok(out)
}

/// Enters (or corrects, over its version) the actual of a `manual` indicator for a period of
/// the contract's year. A computed indicator is 422 `indicator` computed_indicator.
pub async fn set_actual(db: &Db, ctx: &Ctx, id: i64, inp: &ActualIn) -> Result<ContractView> {
    let caller = &ctx.caller;
    let mut tx = db.begin().await?;
    let v = lock_in(&mut tx, caller, id, None).await?;
    editable(&v)?;
    let mut e = Errors::default();
    match v.indicators.iter().find(|i| i.key == inp.indicator) {
        None => e.add("indicator", "unknown_indicator"),
        Some(i) if i.measure != "manual" => e.add("indicator", "computed_indicator"),
        Some(_) => {}
    }
    match Period::parse(&inp.period) {
        Some(p) if i64::from(p.year) == v.year => {}
        Some(_) => e.add("period", "period_not_in_year"),
        None => e.add("period", "period_format"),
    }
    let value = e.take("value", parse_dec(&inp.value));
    let note = e.take("note", text::optional(inp.note.as_deref(), 500));
    e.finish()?;
    let period = Period::parse(&inp.period).expect("checked").code();
    let (value, note) = (value.expect("checked"), note.flatten());
    let at = ts(crate::app::clock::now());
    let old = sqlx::query(
        "SELECT id, value, version FROM kpi_actuals WHERE contract_id = $1 AND indicator = $2 AND period = $3",
    )
    .bind(id)
    .bind(inp.indicator.clone())
    .bind(period.clone())
    .fetch_optional(tx.conn())
    .await?;
    let (aid, before) = match old {
        None if inp.version != 0 => return Err(Error::StaleVersion { current: 0 }),
        None => {
            let aid: i64 = sqlx::query(
                "INSERT INTO kpi_actuals (contract_id, indicator, period, value, note, entered_by, version, created_at, \
                 updated_at) VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7) RETURNING id",
            )
            .bind(id)
            .bind(inp.indicator.clone())
            .bind(period.clone())
            .bind(value)
            .bind(note.clone())
            .bind(caller.user_id)
            .bind(at)
            .fetch_one(tx.conn())
            .await?
            .try_get("id")?;
            (aid, None)
        }
        Some(r) => {
            let (aid, old_value, ver): (i64, i64, i64) = (r.try_get("id")?, r.try_get("value")?, r.try_get("version")?);
            if ver != inp.version {
                return Err(Error::StaleVersion { current: ver });
            }
            sqlx::query(
                "UPDATE kpi_actuals SET value = $1, note = $2, entered_by = $3, version = version + 1, updated_at = $4 \
                 WHERE id = $5",
            )
            .bind(value)
            .bind(note.clone())
            .bind(caller.user_id)
            .bind(at)
            .bind(aid)
            .execute(tx.conn())
            .await?;
            (aid, Some(json!({"value": format_dec(old_value)})))
        }
    };
    audit::record(
        &mut tx,
        ctx,
        ACTUAL_KIND,
        &aid.to_string(),
        if before.is_some() { "update" } else { "create" },
        before.as_ref(),
        Some(&json!({"contract_id": id, "indicator": inp.indicator, "period": period, "value": format_dec(value)})),
    )
    .await?;
    let out = load_in(tx.conn(), caller, id).await?;
    tx.commit().await?;
    Ok(out)
}

/// Records the veto item hit (a reason required) or clears it.
pub async fn set_veto(db: &Db, ctx: &Ctx, id: i64, inp: &VetoIn) -> Result<ContractView> {
    let caller = &ctx.caller;
    let mut tx = db.begin().await?;
    let v = lock_in(&mut tx, caller, id, Some(inp.version)).await?;
    editable(&v)?;
    let mut e = Errors::default();
    let reason = if inp.hit {
        e.take("reason", text::required(inp.reason.as_deref(), 500))
    } else {
        e.take("reason", text::optional(inp.reason.as_deref(), 500)).flatten()
    };
    e.finish()?;
    let at = ts(crate::app::clock::now());
    sqlx::query("UPDATE kpi_contracts SET veto_hit = $1, veto_reason = $2, veto_by = $3, veto_at = $4 WHERE id = $5")
        .bind(i64::from(inp.hit))
        .bind(reason.clone())
        .bind(caller.user_id)
        .bind(at)
        .bind(id)
        .execute(tx.conn())
        .await?;
    bump(&mut tx, id).await?;
    audit::record(
        &mut tx,
        ctx,
        KIND,
        &id.to_string(),
        "veto",
        Some(&json!({"veto_hit": v.veto_hit, "veto_reason": v.veto_reason})),
        Some(&json!({"veto_hit": inp.hit, "veto_reason": reason})),
    )
    .await?;
    let out = load_in(tx.conn(), caller, id).await?;
    tx.commit().await?;
    Ok(out)
}

/// Closes the contract once its year is over: the yearly score is computed and frozen (409
/// year_not_over before).
pub async fn close(db: &Db, ctx: &Ctx, id: i64, inp: &VersionIn) -> Result<ContractView> {
    let caller = &ctx.caller;
    let mut tx = db.begin().await?;
    let v = lock_in(&mut tx, caller, id, Some(inp.version)).await?;
    editable(&v)?;
    if v.year >= i64::from(caller.day().year()) {
        return Err(Error::Conflict("year_not_over"));
    }
    let row = sqlx::query(&format!("{ROW_SQL} WHERE c.id = $1")).bind(id).fetch_one(tx.conn()).await?;
    let row = row_of(&row)?;
    let cap = templates::templates_of(tx.conn()).await?.cap_pct;
    let cards = super::score::score_rows(tx.conn(), &[row], Period::year(v.year as i32), cap).await?;
    let score = cards.first().map(|c| c.score_bp).unwrap_or(0);
    let at = ts(crate::app::clock::now());
    sqlx::query("UPDATE kpi_contracts SET state = 'closed', final_score_bp = $1, closed_at = $2 WHERE id = $3")
        .bind(score)
        .bind(at)
        .bind(id)
        .execute(tx.conn())
        .await?;
    bump(&mut tx, id).await?;
    audit::record(
        &mut tx,
        ctx,
        KIND,
        &id.to_string(),
        "close",
        Some(&json!({"state": v.state})),
        Some(&json!({"state": "closed", "final_score": format_dec(score)})),
    )
    .await?;
    let out = load_in(tx.conn(), caller, id).await?;
    tx.commit().await?;
    Ok(out)
}

/// A person a contract may be issued to.
#[derive(Debug, Clone, Serialize)]
pub struct Issuable {
    pub id: i64,
    pub display_name: String,
    pub role: String,
    pub org_name: String,
}

/// The active people whose role has a template and to whom the caller may issue a contract.
pub async fn issuable(db: &Db, caller: &Caller) -> Result<Vec<Issuable>> {
    let mut conn = db.pool.acquire().await?;
    let roles: Vec<String> = templates::templates_of(&mut conn).await?.templates.into_iter().map(|t| t.role).collect();
    let ids: Vec<i64> = sqlx::query("SELECT id FROM users WHERE active = 1 ORDER BY display_name, id")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| r.try_get("id"))
        .collect::<std::result::Result<_, _>>()?;
    let mut out = vec![];
    for id in ids {
        if let Some(p) = person_of(&mut conn, id).await? {
            if roles.iter().any(|r| r == p.role.code()) && super::sees_person(caller, &p) && may_issue(caller, &p) {
                out.push(Issuable {
                    id: p.id,
                    display_name: p.display_name,
                    role: p.role.code().into(),
                    org_name: p.org_name,
                });
            }
        }
    }
    Ok(out)
}
