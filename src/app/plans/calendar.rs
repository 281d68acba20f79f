//! The planning year (issue 23 item 3, seed 004 phase 1): the year's calendar of drafting and
//! review dates with senior management's priorities and the guidelines (set by the KA director
//! and those above), each account's priorities and reviewer, the plan settings (the review
//! cadence by tier, the lead days, the report's tiers), and the planning calendar: every key
//! account of the year with its plan's phase and dates, late plans marked.
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::app::records::audit;
use crate::app::{Ctx, Error, Result};
use crate::db::Db;
use crate::domain::account_plan::{Cadence, PlanSettings};
use crate::domain::role::Role;

/// The settings key the plan settings are kept under.
pub const KEY: &str = "account_plans";

/// The plan settings in force (the defaults until the company saves its own).
pub async fn settings_of(conn: &mut sqlx::AnyConnection) -> Result<PlanSettings> {
    Ok(settings_in(conn).await?.0)
}

async fn settings_in(conn: &mut sqlx::AnyConnection) -> Result<(PlanSettings, bool, i64)> {
    let r = sqlx::query("SELECT value, version FROM settings WHERE key = $1").bind(KEY).fetch_optional(conn).await?;
    Ok(match r {
        None => (PlanSettings::default(), true, 0),
        Some(r) => {
            let v: String = r.try_get("value")?;
            let version: i64 = r.try_get("version")?;
            match serde_json::from_str::<PlanSettings>(&v).ok().filter(|s| s.validate().is_ok()) {
                Some(s) => (s, false, version),
                None => (PlanSettings::default(), true, version),
            }
        }
    })
}

/// The plan settings as the API shows them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlanSettingsView {
    /// How often a strategic account's plan is reviewed.
    pub strategic: Cadence,
    pub a: Cadence,
    pub b: Cadence,
    pub c: Cadence,
    /// How many days before a review falls due its request is opened.
    pub lead_days: i64,
    /// The tiers the six-monthly progress report covers.
    pub report_tiers: Vec<String>,
    /// Whether these are the shipped defaults (issue 23's).
    pub is_default: bool,
    /// The setting's version (0: never saved); give it back to save.
    pub version: i64,
}

/// The plan settings as given (all of them) over the version read.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanSettingsIn {
    pub strategic: Cadence,
    pub a: Cadence,
    pub b: Cadence,
    pub c: Cadence,
    /// 0–60.
    pub lead_days: i64,
    /// Tiers among `strategic`, `A`, `B`, `C` (at least one).
    pub report_tiers: Vec<String>,
    pub version: i64,
}

fn settings_view((s, is_default, version): (PlanSettings, bool, i64)) -> PlanSettingsView {
    PlanSettingsView {
        strategic: s.strategic,
        a: s.a,
        b: s.b,
        c: s.c,
        lead_days: s.lead_days,
        report_tiers: s.report_tiers,
        is_default,
        version,
    }
}

/// Who sets the year's calendar, the accounts' priorities and the plan settings: the KA
/// director and those above.
pub fn may_plan(role: Role) -> bool {
    matches!(role, Role::KaDirector | Role::Gm | Role::MarketingDirector | Role::SalesDeptManager)
}

/// Who changes the plan settings: the administrator (who keeps settings) and the planners.
pub fn may_edit_settings(role: Role) -> bool {
    role.is_admin() || may_plan(role)
}

/// The plan settings; everyone reads them.
pub async fn load_settings(db: &Db) -> Result<PlanSettingsView> {
    let mut conn = db.pool.acquire().await?;
    Ok(settings_view(settings_in(&mut conn).await?))
}

/// Saves the plan settings over the version read; every problem is named, nothing saved.
pub async fn save_settings(db: &Db, ctx: &Ctx, inp: &PlanSettingsIn) -> Result<PlanSettingsView> {
    if !may_edit_settings(ctx.caller.role) {
        return Err(Error::Forbidden);
    }
    let mut tiers: Vec<String> = vec![];
    for t in &inp.report_tiers {
        let t = t.trim().to_string();
        if !tiers.contains(&t) {
            tiers.push(t);
        }
    }
    let s = PlanSettings {
        strategic: inp.strategic,
        a: inp.a,
        b: inp.b,
        c: inp.c,
        lead_days: inp.lead_days,
        report_tiers: tiers,
    };
    s.validate()?;
    let value = serde_json::to_string(&s).map_err(anyhow::Error::from)?;
    let mut tx = db.begin().await?;
    let before = settings_in(tx.conn()).await?.0;
    if crate::app::records::settings::write(&mut tx, KEY, &value, inp.version, &ctx.caller.username).await? {
        audit::record(
            &mut tx,
            ctx,
            "settings",
            KEY,
            "update",
            Some(&serde_json::to_value(&before).map_err(anyhow::Error::from)?),
            Some(&serde_json::to_value(&s).map_err(anyhow::Error::from)?),
        )
        .await?;
    }
    let after = settings_in(tx.conn()).await?;
    tx.commit().await?;
    Ok(settings_view(after))
}
