//! An account's plan of a year (issue 23 items 1, 2, 7): its row, the scoped read every part of
//! `plans` goes through, and its creation. Who sees the account reads its plan (the functions
//! that serve it — marketing, finance, logistics — read it, read-only); who edits accounts and
//! sees it edits it.
use serde::Serialize;
use sqlx::Row;

use crate::app::customers::accounts;
use crate::app::records::audit;
use crate::app::{Caller, Ctx, Error, Result};
use crate::db::{ts, WriteTx};
use crate::domain::account_plan::{Phase, PlanBody};

/// A plan as stored.
#[derive(Debug, Clone, Serialize)]
pub struct PlanRow {
    pub id: i64,
    pub account_id: i64,
    pub account_name: String,
    pub year: i32,
    pub owner_id: Option<i64>,
    /// The account's tier when the plan was begun (its review cadence and reviewer).
    pub tier: Option<String>,
    pub phase: Phase,
    pub priorities: Option<String>,
    pub reviewer_id: Option<i64>,
    pub body: PlanBody,
    pub submitted_at: Option<String>,
    pub accepted_at: Option<String>,
    pub revise_by: Option<String>,
    pub version: i64,
    pub updated_by: String,
    pub updated_at: String,
}

/// The columns [`row`] reads (plan `p`, account `a`).
pub const COLUMNS: &str = "p.id, p.account_id, a.name AS account_name, p.year, p.owner_id, p.tier, p.phase, \
     p.priorities, p.reviewer_id, p.body, p.submitted_at, p.accepted_at, p.revise_by, p.version, p.updated_by, \
     p.updated_at";

/// A plan from a row of [`COLUMNS`].
pub fn row(r: &sqlx::any::AnyRow) -> Result<PlanRow> {
    let phase: String = r.try_get("phase")?;
    Ok(PlanRow {
        id: r.try_get("id")?,
        account_id: r.try_get("account_id")?,
        account_name: r.try_get("account_name")?,
        year: r.try_get::<i64, _>("year")? as i32,
        owner_id: r.try_get("owner_id")?,
        tier: r.try_get("tier")?,
        phase: Phase::parse(&phase).unwrap_or(Phase::Drafting),
        priorities: r.try_get("priorities")?,
        reviewer_id: r.try_get("reviewer_id")?,
        body: serde_json::from_str(&r.try_get::<String, _>("body")?).unwrap_or_default(),
        submitted_at: r.try_get("submitted_at")?,
        accepted_at: r.try_get("accepted_at")?,
        revise_by: r.try_get("revise_by")?,
        version: r.try_get("version")?,
        updated_by: r.try_get("updated_by")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// The plan `id` if the caller sees its account ("not found" otherwise).
pub async fn load_in(conn: &mut sqlx::AnyConnection, caller: &Caller, id: i64) -> Result<PlanRow> {
    let r = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM account_plans p JOIN accounts a ON a.id = p.account_id WHERE p.id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(Error::NotFound)?;
    let plan = row(&r)?;
    accounts::ensure_visible_in(conn, caller, plan.account_id).await?;
    Ok(plan)
}

/// The id of the account's plan of `year`, if there is one (the caller has seen the account).
pub async fn id_of(conn: &mut sqlx::AnyConnection, account_id: i64, year: i32) -> Result<Option<i64>> {
    Ok(sqlx::query("SELECT id FROM account_plans WHERE account_id = $1 AND year = $2")
        .bind(account_id)
        .bind(year as i64)
        .fetch_optional(conn)
        .await?
        .map(|r| r.try_get("id"))
        .transpose()?)
}

/// Whether the caller may change the plans of accounts they see (read-only for everyone else:
/// the functions that serve the account).
pub fn edits(caller: &Caller) -> bool {
    caller.role.edits_accounts()
}

/// Begins the plan of `year` for a key account the caller sees (inside the caller's
/// transaction): owned by the account's owner, of the account's tier, in the phase the year's
/// calendar gives today (drafting when the year has none), with `body` as its first version.
/// A plan the account already has for the year is a conflict naming it.
pub async fn create_in(
    tx: &mut WriteTx,
    ctx: &Ctx,
    account_id: i64,
    year: i32,
    body: &PlanBody,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<i64> {
    let caller = &ctx.caller;
    accounts::ensure_visible_in(tx.conn(), caller, account_id).await?;
    if !edits(caller) {
        return Err(Error::Forbidden);
    }
    if !(2000..=2100).contains(&year) {
        return Err(Error::invalid("year", "out_of_range"));
    }
    let a = sqlx::query("SELECT status, tier, owner_id FROM accounts WHERE id = $1")
        .bind(account_id)
        .fetch_one(tx.conn())
        .await?;
    let status: String = a.try_get("status")?;
    if status != "key_account" {
        return Err(Error::invalid("account_id", "plan_needs_key_account"));
    }
    if let Some(existing) = id_of(tx.conn(), account_id, year).await? {
        return Err(Error::Duplicate { field: "year", existing_id: existing });
    }
    let tier: Option<String> = a.try_get("tier")?;
    let owner: Option<i64> = a.try_get("owner_id")?;
    let phase = match calendar_of(tx.conn(), year).await? {
        Some(c) if c.phase_on(now.date_naive()) == Phase::Preparation => Phase::Preparation,
        Some(_) => Phase::Drafting,
        None => Phase::Drafting,
    };
    let json = serde_json::to_string(body).map_err(anyhow::Error::from)?;
    let at = ts(now);
    let id: i64 = sqlx::query(
        "INSERT INTO account_plans (account_id, year, owner_id, tier, phase, body, version, created_by, created_at, \
         updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8, $7, $8) RETURNING id",
    )
    .bind(account_id)
    .bind(year as i64)
    .bind(owner)
    .bind(tier.clone())
    .bind(phase.code())
    .bind(json.clone())
    .bind(caller.username.as_str())
    .bind(at.clone())
    .fetch_one(tx.conn())
    .await?
    .try_get("id")?;
    sqlx::query(
        "INSERT INTO account_plan_versions (plan_id, version, body, saved_by, saved_at) VALUES ($1, 1, $2, $3, $4)",
    )
    .bind(id)
    .bind(json)
    .bind(caller.username.as_str())
    .bind(at)
    .execute(tx.conn())
    .await?;
    audit::record(
        tx,
        ctx,
        "account_plan",
        &id.to_string(),
        "create",
        None,
        Some(&serde_json::json!({"account_id": account_id, "year": year, "tier": tier, "phase": phase.code()})),
    )
    .await?;
    Ok(id)
}

/// The calendar of plan year `year`, when the KA director has set it.
pub async fn calendar_of(
    conn: &mut sqlx::AnyConnection,
    year: i32,
) -> Result<Option<crate::domain::account_plan::Calendar>> {
    let r = sqlx::query(
        "SELECT prepare_from, draft_from, draft_due, review_due, execute_from FROM plan_years WHERE year = $1",
    )
    .bind(year as i64)
    .fetch_optional(conn)
    .await?;
    let Some(r) = r else { return Ok(None) };
    Ok(Some(crate::domain::account_plan::Calendar {
        prepare_from: r.try_get("prepare_from")?,
        draft_from: r.try_get("draft_from")?,
        draft_due: r.try_get("draft_due")?,
        review_due: r.try_get("review_due")?,
        execute_from: r.try_get("execute_from")?,
    }))
}

/// What a new plan of `year` begins with: what last year's plan of the account said of the
/// customer, the competition and the team, its 5-year outline and forecast for the years still
/// ahead; without one, the account's people (owner, inside owner, KA manager, team) as the
/// team. The owner edits from there.
pub async fn initial_body(conn: &mut sqlx::AnyConnection, account_id: i64, year: i32) -> Result<PlanBody> {
    let last = sqlx::query("SELECT body FROM account_plans WHERE account_id = $1 AND year = $2")
        .bind(account_id)
        .bind((year - 1) as i64)
        .fetch_optional(&mut *conn)
        .await?;
    let horizon = year..year + crate::domain::account_plan::HORIZON_YEARS;
    if let Some(r) = last {
        let prev: PlanBody = serde_json::from_str(&r.try_get::<String, _>("body")?).unwrap_or_default();
        let mut b =
            PlanBody { customer: prev.customer, competition: prev.competition, team: prev.team, ..PlanBody::default() };
        b.performance.shares = prev.performance.shares;
        b.actions.outline = prev.actions.outline.into_iter().filter(|o| horizon.contains(&o.year)).collect();
        b.forecast = prev.forecast.into_iter().filter(|f| horizon.contains(&f.year)).collect();
        return Ok(b);
    }
    let people = sqlx::query(
        "SELECT u.username, x.via FROM account_access x JOIN users u ON u.id = x.user_id \
         WHERE x.account_id = $1 AND u.active = 1 ORDER BY x.via, u.username",
    )
    .bind(account_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut b = PlanBody::default();
    for r in people {
        let user: String = r.try_get("username")?;
        if b.team.iter().any(|m| m.user.as_deref() == Some(user.as_str())) {
            continue;
        }
        b.team.push(crate::domain::account_plan::Member {
            user: Some(user),
            name: None,
            role: r.try_get("via")?,
            responsibilities: None,
            resources: None,
            function_input: None,
            development: None,
        });
    }
    Ok(b)
}
