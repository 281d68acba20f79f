//! Team performance (issue 25 item 6; seed 002 §五): each quarter a team's evaluation — the
//! targets met (text and the share met) and the next targets (text and a revenue target) — by
//! the team's manager or the KA director; the team coefficient (at most 1.0) per team and
//! quarter or year, which multiplies each member's bonus base on the scorecard; the yearly
//! best-team award and the quarterly awards. Every change audited.
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

use super::{format_dec, may_evaluate, parse_dec, sees_team, team_in, Period};
use crate::app::records::audit;
use crate::app::{Caller, Ctx, Error, Result};
use crate::db::{ts, Db};
use crate::domain::error::Errors;
use crate::domain::money::{format_fen, parse_fen};
use crate::domain::role::Role;
use crate::domain::text;

pub const EVALUATION_KIND: &str = "kpi_team_evaluation";
pub const COEFFICIENT_KIND: &str = "kpi_coefficient";
pub const AWARD_KIND: &str = "kpi_award";
/// The kinds of award.
pub const AWARD_KINDS: &[&str] = &["best_team", "quarterly"];

/// Who sets coefficients and records awards: the KA director, the sales department manager,
/// the general manager.
pub fn may_decide(caller: &Caller) -> bool {
    matches!(caller.role, Role::KaDirector | Role::SalesDeptManager | Role::Gm)
}

/// A team's evaluation of a quarter (a second one of the same quarter replaces it, over its
/// version).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = KpiEvaluationIn)]
pub struct EvaluationIn {
    pub org_unit_id: i64,
    /// A quarter, `2027-Q1`.
    pub period: String,
    /// The targets met, 1–2000 characters.
    #[serde(default)]
    #[schema(value_type = String)]
    pub targets_met: Option<String>,
    /// The share of the targets met in percent (0–999.99).
    #[schema(pattern = r"^\d{1,3}(\.\d{1,2})?$")]
    pub met_pct: String,
    /// The next targets, 1–2000 characters.
    #[serde(default)]
    #[schema(value_type = String)]
    pub next_targets: Option<String>,
    /// The next quarter's revenue target (yuan).
    #[schema(value_type = crate::web::api::contract::Money)]
    pub next_revenue: String,
    /// The evaluation's version (0 for a new one).
    pub version: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = KpiEvaluation)]
pub struct EvaluationView {
    pub id: i64,
    pub org_unit_id: i64,
    pub team_name: String,
    pub period: String,
    pub targets_met: String,
    pub met_pct: String,
    pub next_targets: String,
    #[schema(value_type = crate::web::api::contract::Money)]
    pub next_revenue: String,
    pub recorded_by_name: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    pub version: i64,
}

/// A team's coefficient for a quarter or a year.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = KpiCoefficientIn)]
pub struct CoefficientIn {
    pub org_unit_id: i64,
    /// `2027` or `2027-Q1`.
    pub period: String,
    /// 0–1.0 with at most four places (`"0.95"`); above 1.0 is 422 coefficient_above_one.
    #[schema(pattern = r"^\d(\.\d{1,4})?$")]
    pub coefficient: String,
    /// The coefficient's version (0 for a new one).
    pub version: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = KpiCoefficient)]
pub struct CoefficientView {
    pub id: i64,
    pub org_unit_id: i64,
    pub team_name: String,
    pub period: String,
    pub coefficient: String,
    pub set_by_name: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    pub version: i64,
}

/// An award.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = KpiAwardIn)]
pub struct AwardIn {
    /// `best_team` (a year's best team: `period` a year, `org_unit_id`) or `quarterly` (a quarter,
    /// a person or a team).
    pub kind: String,
    pub period: String,
    #[serde(default)]
    pub org_unit_id: Option<i64>,
    #[serde(default)]
    pub user_id: Option<i64>,
    /// 1–100 characters.
    #[serde(default)]
    #[schema(value_type = String)]
    pub title: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = KpiAward)]
pub struct AwardView {
    pub id: i64,
    pub kind: String,
    pub period: String,
    pub org_unit_id: Option<i64>,
    pub team_name: Option<String>,
    pub user_id: Option<i64>,
    pub person_name: Option<String>,
    pub title: String,
    pub reason: Option<String>,
    pub awarded_by_name: String,
    #[schema(format = DateTime)]
    pub created_at: String,
}

/// A coefficient in basis points from `"0.95"`: 0–10000, at most four places.
pub fn parse_coefficient(s: &str) -> std::result::Result<i64, &'static str> {
    let s = s.trim();
    let (i, f) = s.split_once('.').unwrap_or((s, ""));
    if i.is_empty() || !i.bytes().all(|c| c.is_ascii_digit()) || f.len() > 4 || !f.bytes().all(|c| c.is_ascii_digit()) {
        return Err("number_format");
    }
    if s.ends_with('.') {
        return Err("number_format");
    }
    let i: i64 = i.parse().map_err(|_| "coefficient_above_one")?;
    let f: i64 = format!("{f:0<4}").parse().map_err(|_| "number_format")?;
    let bp = i.saturating_mul(10000).saturating_add(f);
    if bp > 10000 {
        return Err("coefficient_above_one");
    }
    Ok(bp)
}

/// Basis points as a coefficient (`9500` → `"0.95"`, `10000` → `"1.0"`).
pub fn format_coefficient(bp: i64) -> String {
    let s = format!("{}.{:04}", bp / 10000, bp % 10000);
    let s = s.trim_end_matches('0');
    if s.ends_with('.') {
        format!("{s}0")
    } else {
        s.to_string()
    }
}

/// The evaluations of a year of the teams the caller sees.
pub async fn evaluations(db: &Db, caller: &Caller, year: i32) -> Result<Vec<EvaluationView>> {
    let mut conn = db.pool.acquire().await?;
    let rows = sqlx::query(
        "SELECT e.*, o.name AS team_name, o.path, u.display_name AS recorded_by_name FROM kpi_team_evaluations e \
         JOIN org_units o ON o.id = e.org_unit_id JOIN users u ON u.id = e.recorded_by WHERE e.period LIKE $1 \
         ORDER BY e.period, o.path",
    )
    .bind(format!("{year:04}%"))
    .fetch_all(&mut *conn)
    .await?;
    let mut out = vec![];
    for r in rows {
        if !sees_team(caller, &r.try_get::<String, _>("path")?) {
            continue;
        }
        out.push(EvaluationView {
            id: r.try_get("id")?,
            org_unit_id: r.try_get("org_unit_id")?,
            team_name: r.try_get("team_name")?,
            period: r.try_get("period")?,
            targets_met: r.try_get("targets_met")?,
            met_pct: format_dec(r.try_get("met_bp")?),
            next_targets: r.try_get("next_targets")?,
            next_revenue: format_fen(r.try_get("next_revenue")?),
            recorded_by_name: r.try_get("recorded_by_name")?,
            updated_at: r.try_get("updated_at")?,
            version: r.try_get("version")?,
        });
    }
    Ok(out)
}

/// Records (or revises, over its version) a team's evaluation of a quarter.
pub async fn evaluate(db: &Db, ctx: &Ctx, inp: &EvaluationIn) -> Result<EvaluationView> {
    let caller = &ctx.caller;
    let mut tx = db.begin().await?;
    let t = team_in(tx.conn(), caller, inp.org_unit_id).await.map_err(|e| match e {
        Error::NotFound => Error::invalid("org_unit_id", "unknown_team"),
        e => e,
    })?;
    if !may_evaluate(caller, &t.path) {
        return Err(Error::Forbidden);
    }
    let mut e = Errors::default();
    let period = match Period::parse(&inp.period) {
        Some(p) if p.quarter.is_some() => Some(p),
        _ => {
            e.add("period", "quarter_format");
            None
        }
    };
    let met = e.take("targets_met", text::required(inp.targets_met.as_deref(), 2000));
    let next = e.take("next_targets", text::required(inp.next_targets.as_deref(), 2000));
    let met_bp = e.take(
        "met_pct",
        parse_dec(&inp.met_pct).and_then(|v| if (0..=99999).contains(&v) { Ok(v) } else { Err("pct_range") }),
    );
    let next_rev = e.take("next_revenue", parse_fen(&inp.next_revenue));
    e.finish()?;
    let (period, met, next, met_bp, next_rev) = (
        period.expect("checked").code(),
        met.expect("checked"),
        next.expect("checked"),
        met_bp.expect("checked"),
        next_rev.expect("checked"),
    );
    let at = ts(crate::app::clock::now());
    let old = sqlx::query("SELECT id, version, met_bp, targets_met, next_targets, next_revenue FROM kpi_team_evaluations WHERE org_unit_id = $1 AND period = $2")
        .bind(t.id)
        .bind(period.clone())
        .fetch_optional(tx.conn())
        .await?;
    let after = json!({"org_unit_id": t.id, "period": period, "targets_met": met, "met_pct": format_dec(met_bp),
        "next_targets": next, "next_revenue": format_fen(next_rev)});
    let (id, before) = match old {
        None if inp.version != 0 => return Err(Error::StaleVersion { current: 0 }),
        None => {
            let id: i64 = sqlx::query(
                "INSERT INTO kpi_team_evaluations (org_unit_id, period, targets_met, met_bp, next_targets, next_revenue, \
                 recorded_by, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $8) RETURNING id",
            )
            .bind(t.id)
            .bind(period.clone())
            .bind(met)
            .bind(met_bp)
            .bind(next)
            .bind(next_rev)
            .bind(caller.user_id)
            .bind(at)
            .fetch_one(tx.conn())
            .await?
            .try_get("id")?;
            (id, None)
        }
        Some(r) => {
            let (id, ver): (i64, i64) = (r.try_get("id")?, r.try_get("version")?);
            if ver != inp.version {
                return Err(Error::StaleVersion { current: ver });
            }
            let before = json!({"targets_met": r.try_get::<String, _>("targets_met")?,
                "met_pct": format_dec(r.try_get("met_bp")?), "next_targets": r.try_get::<String, _>("next_targets")?,
                "next_revenue": format_fen(r.try_get("next_revenue")?)});
            sqlx::query(
                "UPDATE kpi_team_evaluations SET targets_met = $1, met_bp = $2, next_targets = $3, next_revenue = $4, \
                 recorded_by = $5, version = version + 1, updated_at = $6 WHERE id = $7",
            )
            .bind(met)
            .bind(met_bp)
            .bind(next)
            .bind(next_rev)
            .bind(caller.user_id)
            .bind(at)
            .bind(id)
            .execute(tx.conn())
            .await?;
            (id, Some(before))
        }
    };
    audit::record(
        &mut tx,
        ctx,
        EVALUATION_KIND,
        &id.to_string(),
        if before.is_some() { "update" } else { "create" },
        before.as_ref(),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    let year = Period::parse(&inp.period).map(|p| p.year).unwrap_or_default();
    evaluations(db, caller, year).await?.into_iter().find(|v| v.id == id).ok_or(Error::NotFound)
}

/// The coefficients of a year of the teams the caller sees.
pub async fn coefficients(db: &Db, caller: &Caller, year: i32) -> Result<Vec<CoefficientView>> {
    let mut conn = db.pool.acquire().await?;
    let rows = sqlx::query(
        "SELECT k.*, o.name AS team_name, o.path, u.display_name AS set_by_name FROM kpi_coefficients k \
         JOIN org_units o ON o.id = k.org_unit_id JOIN users u ON u.id = k.set_by WHERE k.period LIKE $1 \
         ORDER BY k.period, o.path",
    )
    .bind(format!("{year:04}%"))
    .fetch_all(&mut *conn)
    .await?;
    let mut out = vec![];
    for r in rows {
        let path: String = r.try_get("path")?;
        // Their own team's (and its parents') coefficient is on every member's scorecard.
        if !(sees_team(caller, &path) || (super::may_see(caller) && caller.org_path.starts_with(&path))) {
            continue;
        }
        out.push(CoefficientView {
            id: r.try_get("id")?,
            org_unit_id: r.try_get("org_unit_id")?,
            team_name: r.try_get("team_name")?,
            period: r.try_get("period")?,
            coefficient: format_coefficient(r.try_get("coefficient_bp")?),
            set_by_name: r.try_get("set_by_name")?,
            updated_at: r.try_get("updated_at")?,
            version: r.try_get("version")?,
        });
    }
    Ok(out)
}

/// Sets a team's coefficient for a quarter or a year (at most 1.0: above is 422
/// `coefficient` coefficient_above_one, nothing saved).
pub async fn set_coefficient(db: &Db, ctx: &Ctx, inp: &CoefficientIn) -> Result<CoefficientView> {
    let caller = &ctx.caller;
    if !may_decide(caller) {
        return Err(Error::Forbidden);
    }
    let mut tx = db.begin().await?;
    let t = team_in(tx.conn(), caller, inp.org_unit_id).await.map_err(|e| match e {
        Error::NotFound => Error::invalid("org_unit_id", "unknown_team"),
        e => e,
    })?;
    let mut e = Errors::default();
    let period = e.take("period", Period::parse(&inp.period).ok_or("period_format"));
    let bp = e.take("coefficient", parse_coefficient(&inp.coefficient));
    e.finish()?;
    let (period, bp) = (period.expect("checked").code(), bp.expect("checked"));
    let at = ts(crate::app::clock::now());
    let old =
        sqlx::query("SELECT id, version, coefficient_bp FROM kpi_coefficients WHERE org_unit_id = $1 AND period = $2")
            .bind(t.id)
            .bind(period.clone())
            .fetch_optional(tx.conn())
            .await?;
    let (id, before) = match old {
        None if inp.version != 0 => return Err(Error::StaleVersion { current: 0 }),
        None => {
            let id: i64 = sqlx::query(
                "INSERT INTO kpi_coefficients (org_unit_id, period, coefficient_bp, set_by, version, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, 1, $5, $5) RETURNING id",
            )
            .bind(t.id)
            .bind(period.clone())
            .bind(bp)
            .bind(caller.user_id)
            .bind(at)
            .fetch_one(tx.conn())
            .await?
            .try_get("id")?;
            (id, None)
        }
        Some(r) => {
            let (id, ver, old): (i64, i64, i64) =
                (r.try_get("id")?, r.try_get("version")?, r.try_get("coefficient_bp")?);
            if ver != inp.version {
                return Err(Error::StaleVersion { current: ver });
            }
            sqlx::query(
                "UPDATE kpi_coefficients SET coefficient_bp = $1, set_by = $2, version = version + 1, updated_at = $3 WHERE id = $4",
            )
            .bind(bp)
            .bind(caller.user_id)
            .bind(at)
            .bind(id)
            .execute(tx.conn())
            .await?;
            (id, Some(json!({"coefficient": format_coefficient(old)})))
        }
    };
    audit::record(
        &mut tx,
        ctx,
        COEFFICIENT_KIND,
        &id.to_string(),
        if before.is_some() { "update" } else { "create" },
        before.as_ref(),
        Some(&json!({"org_unit_id": t.id, "period": period, "coefficient": format_coefficient(bp)})),
    )
    .await?;
    tx.commit().await?;
    let year = Period::parse(&inp.period).map(|p| p.year).unwrap_or_default();
    coefficients(db, caller, year).await?.into_iter().find(|v| v.id == id).ok_or(Error::NotFound)
}

/// The awards of a year (everyone who sees the KPI part reads them: they are announced).
pub async fn awards(db: &Db, caller: &Caller, year: i32) -> Result<Vec<AwardView>> {
    if !super::may_see(caller) {
        return Err(Error::Forbidden);
    }
    let mut conn = db.pool.acquire().await?;
    sqlx::query(
        "SELECT a.*, o.name AS team_name, p.display_name AS person_name, u.display_name AS awarded_by_name \
         FROM kpi_awards a LEFT JOIN org_units o ON o.id = a.org_unit_id LEFT JOIN users p ON p.id = a.user_id \
         JOIN users u ON u.id = a.awarded_by WHERE a.period LIKE $1 ORDER BY a.period, a.id",
    )
    .bind(format!("{year:04}%"))
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok(AwardView {
            id: r.try_get("id")?,
            kind: r.try_get("kind")?,
            period: r.try_get("period")?,
            org_unit_id: r.try_get("org_unit_id")?,
            team_name: r.try_get("team_name")?,
            user_id: r.try_get("user_id")?,
            person_name: r.try_get("person_name")?,
            title: r.try_get("title")?,
            reason: r.try_get("reason")?,
            awarded_by_name: r.try_get("awarded_by_name")?,
            created_at: r.try_get("created_at")?,
        })
    })
    .collect()
}

/// Records an award: the best team of a year (`period` a year, a team), or a quarterly award (a
/// quarter, a person or a team).
pub async fn award(db: &Db, ctx: &Ctx, inp: &AwardIn) -> Result<AwardView> {
    let caller = &ctx.caller;
    if !may_decide(caller) {
        return Err(Error::Forbidden);
    }
    let mut tx = db.begin().await?;
    let mut e = Errors::default();
    let period = Period::parse(&inp.period);
    match inp.kind.as_str() {
        "best_team" => {
            if period.is_none_or(|p| p.quarter.is_some()) {
                e.add("period", "year_format");
            }
            if inp.org_unit_id.is_none() {
                e.add("org_unit_id", "required");
            }
            if inp.user_id.is_some() {
                e.add("user_id", "not_for_best_team");
            }
        }
        "quarterly" => {
            if period.is_none_or(|p| p.quarter.is_none()) {
                e.add("period", "quarter_format");
            }
            if inp.org_unit_id.is_none() == inp.user_id.is_none() {
                e.add("user_id", "person_or_team");
            }
        }
        _ => e.add("kind", "invalid_choice"),
    }
    if let Some(o) = inp.org_unit_id {
        if team_in(tx.conn(), caller, o).await.is_err() {
            e.add("org_unit_id", "unknown_team");
        }
    }
    if let Some(u) = inp.user_id {
        match super::person_of(tx.conn(), u).await? {
            Some(p) if super::sees_person(caller, &p) => {}
            _ => e.add("user_id", "unknown_person"),
        }
    }
    let title = e.take("title", text::required(inp.title.as_deref(), 100));
    let reason = e.take("reason", text::optional(inp.reason.as_deref(), 1000));
    e.finish()?;
    let period = period.expect("checked").code();
    let at = ts(crate::app::clock::now());
    let id: i64 = sqlx::query(
        "INSERT INTO kpi_awards (kind, period, org_unit_id, user_id, title, reason, awarded_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(inp.kind.clone())
    .bind(period.clone())
    .bind(inp.org_unit_id)
    .bind(inp.user_id)
    .bind(title.clone())
    .bind(reason.clone().flatten())
    .bind(caller.user_id)
    .bind(at)
    .fetch_one(tx.conn())
    .await?
    .try_get("id")?;
    audit::record(
        &mut tx,
        ctx,
        AWARD_KIND,
        &id.to_string(),
        "create",
        None,
        Some(&json!({"kind": inp.kind, "period": period, "org_unit_id": inp.org_unit_id, "user_id": inp.user_id,
            "title": title, "reason": reason.flatten()})),
    )
    .await?;
    tx.commit().await?;
    let year = Period::parse(&inp.period).map(|p| p.year).unwrap_or_default();
    awards(db, caller, year).await?.into_iter().find(|v| v.id == id).ok_or(Error::NotFound)
}
