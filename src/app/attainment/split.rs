//! The sales-credit split: the share of each signed order credited to the KA team and to the
//! branch where the deal happened, in basis points (10000 = 100 %). By default each side is
//! credited the whole order (the manual's dual crediting); the KA director or the administrator
//! may choose other shares (e.g. 60 / 40). Each saved split is kept (versions 1, 2, …) and is in
//! force for orders signed from the moment it was saved; an order counts by the split in force
//! when it was signed.
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

use crate::app::records::audit;
use crate::app::{Caller, Ctx, Error, Result};
use crate::db::{ts, Db};
use crate::domain::error::Errors;
use crate::domain::money::{format_bp, parse_bp};
use crate::domain::role::Role;
use crate::domain::text;

/// The audit entity.
pub const KIND: &str = "credit_split";
/// The default share of each side: the whole order.
pub const FULL: i64 = 10_000;

/// One split as it was saved.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreditSplitEntry {
    pub version: i64,
    /// The KA team's share in percent ("100.00").
    pub team_share: String,
    /// The branch's share in percent ("100.00").
    pub branch_share: String,
    pub note: Option<String>,
    /// In force for orders signed from this instant.
    #[schema(format = DateTime)]
    pub effective_at: String,
    pub set_by_name: String,
}

/// The split in force and the ones before it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreditSplitView {
    /// The KA team's share in percent ("100.00").
    pub team_share: String,
    /// The branch's share in percent ("100.00").
    pub branch_share: String,
    pub note: Option<String>,
    /// The setting's version (0: the default, never saved); send it with a change.
    pub version: i64,
    #[schema(format = DateTime)]
    pub effective_at: Option<String>,
    pub set_by_name: Option<String>,
    /// The caller may change it (the KA director or the administrator).
    pub may_edit: bool,
    /// Every saved split, latest first.
    pub history: Vec<CreditSplitEntry>,
}

/// A new split.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditSplitIn {
    /// The KA team's share in percent, 0–100 ("60", "62.5").
    #[serde(default)]
    #[schema(value_type = String, pattern = r"^\d{1,3}(\.\d{1,2})?$")]
    pub team_share: Option<String>,
    /// The branch's share in percent, 0–100.
    #[serde(default)]
    #[schema(value_type = String, pattern = r"^\d{1,3}(\.\d{1,2})?$")]
    pub branch_share: Option<String>,
    /// Why (at most 500 characters).
    #[serde(default)]
    pub note: Option<String>,
    /// The version shown (stale: 409).
    pub version: i64,
}

/// Sees every unit and the profit centre.
pub fn sees_all(caller: &Caller) -> bool {
    matches!(caller.role, Role::KaDirector | Role::SalesDeptManager | Role::Gm | Role::FinanceManager)
}

/// Sees the units of their own part of the org tree.
pub fn sees_own_part(caller: &Caller) -> bool {
    matches!(caller.role, Role::BranchManager | Role::KaManager)
}

/// Whether the caller reads attainment at all.
pub fn may_see(caller: &Caller) -> bool {
    sees_all(caller) || sees_own_part(caller)
}

/// Who changes the split.
pub fn may_edit(caller: &Caller) -> bool {
    matches!(caller.role, Role::KaDirector | Role::Admin)
}

/// A saved split: (id, team bp, branch bp).
#[derive(Debug, Clone, Copy)]
pub struct Shares {
    pub id: i64,
    pub team_bp: i64,
    pub branch_bp: i64,
}

/// Every saved split, by id.
pub async fn all_shares(conn: &mut sqlx::AnyConnection) -> Result<Vec<Shares>> {
    let rows = sqlx::query("SELECT id, team_bp, branch_bp FROM credit_splits ORDER BY id").fetch_all(conn).await?;
    rows.iter()
        .map(|r| {
            Ok(Shares { id: r.try_get("id")?, team_bp: r.try_get("team_bp")?, branch_bp: r.try_get("branch_bp")? })
        })
        .collect()
}

async fn view_in(conn: &mut sqlx::AnyConnection, caller: &Caller) -> Result<CreditSplitView> {
    let rows = sqlx::query(
        "SELECT s.version, s.team_bp, s.branch_bp, s.note, s.effective_at, COALESCE(u.display_name, s.set_by) AS who \
         FROM credit_splits s LEFT JOIN users u ON u.username = s.set_by ORDER BY s.version DESC",
    )
    .fetch_all(conn)
    .await?;
    let mut history = vec![];
    for r in &rows {
        history.push(CreditSplitEntry {
            version: r.try_get("version")?,
            team_share: format_bp(r.try_get("team_bp")?),
            branch_share: format_bp(r.try_get("branch_bp")?),
            note: r.try_get("note")?,
            effective_at: r.try_get("effective_at")?,
            set_by_name: r.try_get("who")?,
        });
    }
    let cur = history.first().cloned();
    Ok(CreditSplitView {
        team_share: cur.as_ref().map(|c| c.team_share.clone()).unwrap_or_else(|| format_bp(FULL)),
        branch_share: cur.as_ref().map(|c| c.branch_share.clone()).unwrap_or_else(|| format_bp(FULL)),
        note: cur.as_ref().and_then(|c| c.note.clone()),
        version: cur.as_ref().map(|c| c.version).unwrap_or(0),
        effective_at: cur.as_ref().map(|c| c.effective_at.clone()),
        set_by_name: cur.as_ref().map(|c| c.set_by_name.clone()),
        may_edit: may_edit(caller),
        history,
    })
}

/// The split in force (everyone who reads attainment, and the administrator).
pub async fn get(db: &Db, caller: &Caller) -> Result<CreditSplitView> {
    if !may_edit(caller) && !may_see(caller) {
        return Err(Error::Forbidden);
    }
    let mut conn = db.pool.acquire().await?;
    view_in(&mut conn, caller).await
}

fn share(e: &mut Errors, field: &str, v: Option<&str>) -> Option<i64> {
    let v = v.map(str::trim).filter(|s| !s.is_empty());
    let Some(v) = v else {
        e.add(field, "required");
        return None;
    };
    match parse_bp(v) {
        Ok(bp) if (0..=FULL).contains(&bp) => Some(bp),
        Ok(_) => {
            e.add(field, "percent_range");
            None
        }
        Err(c) => {
            e.add(field, c);
            None
        }
    }
}

/// Saves a new split (the KA director or the administrator): each share 0–100 % (else 422
/// naming `team_share` / `branch_share`, nothing saved); in force for orders signed from now.
pub async fn set(db: &Db, ctx: &Ctx, inp: &CreditSplitIn) -> Result<CreditSplitView> {
    let caller = &ctx.caller;
    if !may_edit(caller) {
        return Err(Error::Forbidden);
    }
    let mut e = Errors::default();
    let team = share(&mut e, "team_share", inp.team_share.as_deref());
    let branch = share(&mut e, "branch_share", inp.branch_share.as_deref());
    let note = e.take("note", text::optional(inp.note.as_deref(), 500)).flatten();
    e.finish()?;
    let (team, branch) = (team.unwrap_or(FULL), branch.unwrap_or(FULL));
    let mut tx = db.begin().await?;
    let cur = sqlx::query(
        "SELECT version, team_bp, branch_bp FROM credit_splits WHERE version = (SELECT MAX(version) FROM credit_splits)",
    )
    .fetch_optional(tx.conn())
    .await?;
    let (version, before) = match &cur {
        Some(r) => (
            r.try_get::<i64, _>("version")?,
            json!({"team_share": format_bp(r.try_get("team_bp")?), "branch_share": format_bp(r.try_get("branch_bp")?)}),
        ),
        None => (0, json!({"team_share": format_bp(FULL), "branch_share": format_bp(FULL)})),
    };
    if version != inp.version {
        return Err(Error::StaleVersion { current: version });
    }
    // Unique on version: two saves over the same version cannot both land.
    sqlx::query(
        "INSERT INTO credit_splits (version, team_bp, branch_bp, note, effective_at, set_by) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(version + 1)
    .bind(team)
    .bind(branch)
    .bind(note.clone())
    .bind(ts(crate::app::clock::now()))
    .bind(caller.username.as_str())
    .execute(tx.conn())
    .await
    .map_err(|err| {
        if crate::db::is_unique_violation(&err) {
            Error::StaleVersion { current: version + 1 }
        } else {
            err.into()
        }
    })?;
    let after = json!({"team_share": format_bp(team), "branch_share": format_bp(branch), "note": note});
    audit::record(&mut tx, ctx, KIND, &(version + 1).to_string(), "update", Some(&before), Some(&after)).await?;
    tx.commit().await?;
    let mut conn = db.pool.acquire().await?;
    view_in(&mut conn, caller).await
}
