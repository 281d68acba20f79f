//! The development plan of a target account (大客户开发方案, seed 003 §二.1; issue 22 item 9):
//! per prospect or candidate (or downgraded account being developed again), its development value,
//! our competitive advantages, the development method, the competitors and their positions, and
//! the planned steps (who, by when, done). It also holds the plan's assessment of the account's
//! market influence and loyalty (1–5), which the identification criteria read (seed 002 §一).
//!
//! Whoever sees the account reads its plan; whoever edits accounts and sees it saves it, over the
//! version read (409 when stale). Every saved version is kept whole (its history) and audited.
//! Text longer than its limit is refused (422 naming the field), never cut.
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sqlx::Row;

use crate::app::customers::accounts::{self, AccountRef};
use crate::app::records::audit;
use crate::app::{Caller, Ctx, Error, Result};
use crate::db::{ts, Db, RowLock};
use crate::domain::error::Errors;
use crate::domain::text;

/// The limits of the plan's texts, in characters.
pub const TEXT_MAX: usize = 4000;
pub const NAME_MAX: usize = 200;
pub const POSITION_MAX: usize = 1000;
pub const STEP_MAX: usize = 1000;
pub const MAX_ROWS: usize = 50;

/// A competitor and its position with the customer.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DevCompetitor {
    /// The competitor (at most 200 characters).
    pub name: String,
    /// Its position and strength with the customer (at most 1000 characters).
    #[serde(default)]
    pub position: Option<String>,
}

/// A planned step as given.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DevStepIn {
    /// What is to be done (at most 1000 characters).
    pub step: String,
    /// Username of who does it (an active user).
    pub owner: Option<String>,
    /// By when.
    #[schema(format = Date)]
    pub due_on: Option<String>,
    #[serde(default)]
    pub done: bool,
}

/// A planned step.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DevStep {
    pub step: String,
    /// Username and name of who does it.
    pub owner: Option<String>,
    pub owner_name: Option<String>,
    #[schema(format = Date)]
    pub due_on: Option<String>,
    pub done: bool,
}

/// The plan as given; every part replaces the stored one.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DevPlanIn {
    /// The development value (开发价值): why the account is worth developing (at most 4000 characters).
    pub dev_value: Option<String>,
    /// Our competitive advantages (竞争优势) with this customer (at most 4000 characters).
    pub advantages: Option<String>,
    /// The development method (开发方式): product presentations, materials, visits … (at most 4000).
    pub method: Option<String>,
    #[serde(default)]
    pub competitors: Vec<DevCompetitor>,
    #[serde(default)]
    pub steps: Vec<DevStepIn>,
    /// The account's market influence (1–5).
    #[schema(minimum = 1, maximum = 5)]
    pub market_influence: Option<i64>,
    /// The account's loyalty (1–5).
    #[schema(minimum = 1, maximum = 5)]
    pub loyalty: Option<i64>,
    /// The version read (0 when there is no plan yet).
    pub version: i64,
}

/// The plan as stored and shown.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DevPlanBody {
    pub dev_value: Option<String>,
    pub advantages: Option<String>,
    pub method: Option<String>,
    pub competitors: Vec<DevCompetitor>,
    pub steps: Vec<DevStep>,
    pub market_influence: Option<i64>,
    pub loyalty: Option<i64>,
}

/// One saved version of the plan.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DevPlanVersion {
    pub version: i64,
    pub plan: DevPlanBody,
    /// Username and name of who saved it.
    pub saved_by: String,
    pub saved_by_name: Option<String>,
    #[schema(format = DateTime)]
    pub saved_at: String,
}

/// An account's development plan, with its history.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DevPlanView {
    pub account_id: i64,
    /// Null when no plan was saved yet.
    pub plan: Option<DevPlanBody>,
    /// 0 when none was saved; give it back to save.
    pub version: i64,
    pub updated_by: Option<String>,
    #[schema(format = DateTime)]
    pub updated_at: Option<String>,
    /// Whether the caller may save it (edits accounts, and the account is a prospect, candidate
    /// or downgraded account).
    pub editable: bool,
    /// Every saved version, newest first.
    pub history: Vec<DevPlanVersion>,
}

/// Statuses whose accounts are developed with a plan.
pub fn planned_status(status: &str) -> bool {
    matches!(status, "prospect" | "candidate" | "downgraded")
}

async fn names(conn: &mut sqlx::AnyConnection, body: &mut DevPlanBody) -> Result<()> {
    for s in &mut body.steps {
        if let Some(u) = &s.owner {
            s.owner_name = sqlx::query("SELECT display_name FROM users WHERE username = $1")
                .bind(u.as_str())
                .fetch_optional(&mut *conn)
                .await?
                .map(|r| r.try_get("display_name"))
                .transpose()?;
        }
    }
    Ok(())
}

/// The plan in force with its version, who saved it and when (None: no plan yet).
async fn current(
    conn: &mut sqlx::AnyConnection,
    account_id: i64,
) -> Result<Option<(DevPlanBody, i64, Option<String>, Option<String>)>> {
    let r = sqlx::query(
        "SELECT p.dev_value, p.advantages, p.method, p.competitors, p.steps, p.market_influence, p.loyalty, p.version, \
         p.updated_by, p.updated_at FROM development_plans p WHERE p.account_id = $1",
    )
    .bind(account_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(r) = r else { return Ok(None) };
    let mut body = DevPlanBody {
        dev_value: r.try_get("dev_value")?,
        advantages: r.try_get("advantages")?,
        method: r.try_get("method")?,
        competitors: serde_json::from_str(&r.try_get::<String, _>("competitors")?).unwrap_or_default(),
        steps: serde_json::from_str(&r.try_get::<String, _>("steps")?).unwrap_or_default(),
        market_influence: r.try_get("market_influence")?,
        loyalty: r.try_get("loyalty")?,
    };
    names(conn, &mut body).await?;
    Ok(Some((body, r.try_get("version")?, r.try_get("updated_by")?, r.try_get("updated_at")?)))
}

/// The plan in force of an account the caller was shown (the development record reads it).
pub async fn in_force(db: &Db, account_id: i64) -> Result<Option<DevPlanBody>> {
    let mut conn = db.pool.acquire().await?;
    Ok(current(&mut conn, account_id).await?.map(|c| c.0))
}

async fn read(conn: &mut sqlx::AnyConnection, caller: &Caller, account_id: i64, status: &str) -> Result<DevPlanView> {
    let editable = caller.role.edits_accounts() && planned_status(status);
    let mut v = DevPlanView {
        account_id,
        plan: None,
        version: 0,
        updated_by: None,
        updated_at: None,
        editable,
        history: vec![],
    };
    if let Some((body, version, by, at)) = current(conn, account_id).await? {
        v.plan = Some(body);
        v.version = version;
        v.updated_by = by;
        v.updated_at = at;
    }
    let rows = sqlx::query(
        "SELECT h.version, h.plan, h.saved_by, h.saved_at, u.display_name FROM development_plan_versions h \
         LEFT JOIN users u ON u.username = h.saved_by WHERE h.account_id = $1 ORDER BY h.version DESC",
    )
    .bind(account_id)
    .fetch_all(&mut *conn)
    .await?;
    for r in rows {
        let Ok(mut plan) = serde_json::from_str::<DevPlanBody>(&r.try_get::<String, _>("plan")?) else { continue };
        names(conn, &mut plan).await?;
        v.history.push(DevPlanVersion {
            version: r.try_get("version")?,
            plan,
            saved_by: r.try_get("saved_by")?,
            saved_by_name: r.try_get("display_name")?,
            saved_at: r.try_get("saved_at")?,
        });
    }
    Ok(v)
}

async fn status_of(conn: &mut sqlx::AnyConnection, account_id: i64) -> Result<String> {
    Ok(sqlx::query("SELECT status FROM accounts WHERE id = $1")
        .bind(account_id)
        .fetch_one(conn)
        .await?
        .try_get("status")?)
}

/// The account's plan and its history, to whoever sees the account (404 otherwise).
pub async fn get(db: &Db, caller: &Caller, account: impl Into<AccountRef>) -> Result<DevPlanView> {
    let account_id = account.into().check(db, caller).await?;
    let mut conn = db.pool.acquire().await?;
    let status = status_of(&mut conn, account_id).await?;
    read(&mut conn, caller, account_id, &status).await
}

/// Saves the account's plan over the version read.
pub async fn save(db: &Db, ctx: &Ctx, account_id: i64, inp: &DevPlanIn) -> Result<DevPlanView> {
    let caller = &ctx.caller;
    let mut tx = db.begin().await?;
    accounts::ensure_visible_in(tx.conn(), caller, account_id).await?;
    if !caller.role.edits_accounts() {
        return Err(Error::Forbidden);
    }
    tx.lock_row("accounts", account_id, RowLock::NoKeyUpdate).await?;
    let status = status_of(tx.conn(), account_id).await?;
    let mut e = Errors::default();
    if !planned_status(&status) {
        e.add("status", "plan_not_target");
    }
    let dev_value = e.take("dev_value", text::optional(inp.dev_value.as_deref(), TEXT_MAX)).flatten();
    let advantages = e.take("advantages", text::optional(inp.advantages.as_deref(), TEXT_MAX)).flatten();
    let method = e.take("method", text::optional(inp.method.as_deref(), TEXT_MAX)).flatten();
    for (f, v) in [("market_influence", inp.market_influence), ("loyalty", inp.loyalty)] {
        if v.is_some_and(|v| !(1..=5).contains(&v)) {
            e.add(f, "score_range");
        }
    }
    if inp.competitors.len() > MAX_ROWS {
        e.add("competitors", "too_many");
    }
    if inp.steps.len() > MAX_ROWS {
        e.add("steps", "too_many");
    }
    let mut competitors = vec![];
    for (i, c) in inp.competitors.iter().enumerate() {
        let name = e.take(&format!("competitors[{i}].name"), text::required(Some(c.name.as_str()), NAME_MAX));
        let position =
            e.take(&format!("competitors[{i}].position"), text::optional(c.position.as_deref(), POSITION_MAX));
        if let (Some(name), Some(position)) = (name, position) {
            competitors.push(DevCompetitor { name, position });
        }
    }
    let mut steps = vec![];
    for (i, s) in inp.steps.iter().enumerate() {
        let step = e.take(&format!("steps[{i}].step"), text::required(Some(s.step.as_str()), STEP_MAX));
        let due_on = match s.due_on.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
            None => None,
            Some(d) => match chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d") {
                Ok(d) => Some(d.format("%Y-%m-%d").to_string()),
                Err(_) => {
                    e.add(&format!("steps[{i}].due_on"), "date_format");
                    None
                }
            },
        };
        let owner = match s.owner.as_deref().map(str::trim).filter(|o| !o.is_empty()) {
            None => None,
            Some(u) => {
                let found = sqlx::query("SELECT username, display_name FROM users WHERE username = $1 AND active = 1")
                    .bind(u)
                    .fetch_optional(tx.conn())
                    .await?;
                match found {
                    Some(r) => Some((r.try_get::<String, _>("username")?, r.try_get::<String, _>("display_name")?)),
                    None => {
                        e.add(&format!("steps[{i}].owner"), "unknown_user");
                        None
                    }
                }
            }
        };
        if let Some(step) = step {
            let (owner, owner_name) = owner.map_or((None, None), |(u, n)| (Some(u), Some(n)));
            steps.push(DevStep { step, owner, owner_name, due_on, done: s.done });
        }
    }
    e.finish()?;
    let current: i64 = sqlx::query("SELECT version FROM development_plans WHERE account_id = $1")
        .bind(account_id)
        .fetch_optional(tx.conn())
        .await?
        .map(|r| r.try_get("version"))
        .transpose()?
        .unwrap_or(0);
    if inp.version != current {
        return Err(Error::StaleVersion { current });
    }
    let body = DevPlanBody {
        dev_value,
        advantages,
        method,
        competitors,
        steps,
        market_influence: inp.market_influence,
        loyalty: inp.loyalty,
    };
    // Names are read when shown; the stored steps name their owners by username.
    let stored_steps: Vec<Value> = body
        .steps
        .iter()
        .map(|s| json!({"step": s.step, "owner": s.owner, "owner_name": null, "due_on": s.due_on, "done": s.done}))
        .collect();
    let competitors_json = serde_json::to_string(&body.competitors).map_err(anyhow::Error::from)?;
    let steps_json = Value::Array(stored_steps.clone()).to_string();
    let now = ts(crate::app::clock::now());
    let before = read(tx.conn(), caller, account_id, &status).await?.plan;
    if current == 0 {
        sqlx::query(
            "INSERT INTO development_plans (account_id, dev_value, advantages, method, competitors, steps, \
             market_influence, loyalty, version, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $10)",
        )
        .bind(account_id)
        .bind(body.dev_value.clone())
        .bind(body.advantages.clone())
        .bind(body.method.clone())
        .bind(competitors_json)
        .bind(steps_json)
        .bind(body.market_influence)
        .bind(body.loyalty)
        .bind(caller.username.as_str())
        .bind(now.clone())
        .execute(tx.conn())
        .await?;
    } else {
        sqlx::query(
            "UPDATE development_plans SET dev_value = $1, advantages = $2, method = $3, competitors = $4, steps = $5, \
             market_influence = $6, loyalty = $7, version = version + 1, updated_by = $8, updated_at = $9 \
             WHERE account_id = $10",
        )
        .bind(body.dev_value.clone())
        .bind(body.advantages.clone())
        .bind(body.method.clone())
        .bind(competitors_json)
        .bind(steps_json)
        .bind(body.market_influence)
        .bind(body.loyalty)
        .bind(caller.username.as_str())
        .bind(now.clone())
        .bind(account_id)
        .execute(tx.conn())
        .await?;
    }
    let mut stored = serde_json::to_value(&body).map_err(anyhow::Error::from)?;
    stored["steps"] = Value::Array(stored_steps);
    sqlx::query(
        "INSERT INTO development_plan_versions (account_id, version, plan, saved_by, saved_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(account_id)
    .bind(current + 1)
    .bind(stored.to_string())
    .bind(caller.username.as_str())
    .bind(now)
    .execute(tx.conn())
    .await?;
    audit::record(
        &mut tx,
        ctx,
        "development_plan",
        &account_id.to_string(),
        if current == 0 { "create" } else { "update" },
        before.map(|b| serde_json::to_value(b).unwrap_or(Value::Null)).as_ref(),
        Some(&stored),
    )
    .await?;
    let v = read(tx.conn(), caller, account_id, &status).await?;
    tx.commit().await?;
    Ok(v)
}
