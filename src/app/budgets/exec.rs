//! Executive resource requests (高层资源支持申请表; issue 25 item 4): an account's team asks an
//! executive — the general manager, the marketing director or the sales department manager —
//! to support the account, with the purpose, the result expected and the day. The KA director
//! approves (`exec_resource`); approved, the visit is on the account as an executive visit: a
//! visit of purpose `executive_visit`, recorded for the requester — done when its day has
//! come (the tiers' service standards count it at once), planned when it lies ahead (counted
//! once recorded as done). Whoever sees the account sees its requests (404 otherwise).
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

use crate::app::approvals::{self, Closed, HookFuture, OutcomeHook, ScopeFuture, SubjectScope};
use crate::app::customers::accounts::{self, push_scope};
use crate::app::records::{audit, input::Input};
use crate::app::{Caller, Ctx, Error, Result};
use crate::db::sql::Sql;
use crate::db::{ts, Db, RowLock, WriteTx};
use crate::domain::approval::{Flow, State as ApprovalState};
use crate::domain::error::Errors;
use crate::domain::role::Role;
use crate::domain::text;

/// The approval subject's kind.
pub const KIND: &str = "exec_request";
pub const STATES: &[&str] = &["in_approval", "approved", "rejected", "returned", "cancelled"];
/// The roles an executive request may name.
pub const EXECUTIVE_ROLES: &[Role] = &[Role::Gm, Role::MarketingDirector, Role::SalesDeptManager];

/// A request as given.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExecRequestIn {
    /// The account (one the caller sees and works).
    #[serde(default)]
    pub account_id: Option<i64>,
    /// The executive: an active user who is the general manager, the marketing director or the
    /// sales department manager.
    #[serde(default)]
    pub executive_id: Option<i64>,
    /// What the executive is asked for (1–2000 characters).
    #[serde(default)]
    #[schema(value_type = String)]
    pub purpose: Option<String>,
    /// The result expected (1–2000 characters).
    #[serde(default)]
    #[schema(value_type = String)]
    pub expected_result: Option<String>,
    /// The day of the visit (not before today).
    #[serde(default)]
    #[schema(value_type = String, format = Date)]
    pub visit_on: Option<String>,
}

/// A request.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ExecRequestView {
    pub id: i64,
    pub account_id: i64,
    pub account_name: String,
    pub executive_id: i64,
    pub executive_name: String,
    #[schema(value_type = crate::domain::role::Role)]
    pub executive_role: String,
    pub purpose: String,
    pub expected_result: String,
    #[schema(format = Date)]
    pub visit_on: String,
    /// `in_approval`, `approved`, `rejected`, `returned`, `cancelled`.
    pub state: String,
    pub approval_id: Option<i64>,
    /// The executive visit on the account, once approved.
    pub activity_id: Option<i64>,
    pub requested_by_name: String,
    pub version: i64,
    #[schema(format = DateTime)]
    pub created_at: String,
}

/// An executive one may name.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Executive {
    pub id: i64,
    pub display_name: String,
    #[schema(value_type = crate::domain::role::Role)]
    pub role: String,
}

/// What narrows the list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub account_id: Option<i64>,
    pub state: Option<String>,
}

const SELECT: &str = "SELECT x.*, a.name AS account_name, e.display_name AS executive_name, e.role AS executive_role, \
     r.display_name AS requested_by_name FROM exec_requests x JOIN accounts a ON a.id = x.account_id \
     JOIN users e ON e.id = x.executive_id JOIN users r ON r.id = x.requested_by";

fn view(r: &sqlx::any::AnyRow) -> Result<ExecRequestView> {
    Ok(ExecRequestView {
        id: r.try_get("id")?,
        account_id: r.try_get("account_id")?,
        account_name: r.try_get("account_name")?,
        executive_id: r.try_get("executive_id")?,
        executive_name: r.try_get("executive_name")?,
        executive_role: r.try_get("executive_role")?,
        purpose: r.try_get("purpose")?,
        expected_result: r.try_get("expected_result")?,
        visit_on: r.try_get("visit_on")?,
        state: r.try_get("state")?,
        approval_id: r.try_get("approval_id")?,
        activity_id: r.try_get("activity_id")?,
        requested_by_name: r.try_get("requested_by_name")?,
        version: r.try_get("version")?,
        created_at: r.try_get("created_at")?,
    })
}

async fn load_in(conn: &mut sqlx::AnyConnection, caller: &Caller, id: i64) -> Result<ExecRequestView> {
    let r = sqlx::query(&format!("{SELECT} WHERE x.id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(Error::NotFound)?;
    accounts::ensure_visible_in(conn, caller, r.try_get("account_id")?).await?;
    view(&r)
}

pub async fn get(db: &Db, caller: &Caller, id: i64) -> Result<ExecRequestView> {
    let mut conn = db.pool.acquire().await?;
    load_in(&mut conn, caller, id).await
}

/// The requests of the accounts the caller sees, latest day first (at most 500).
pub async fn list(db: &Db, caller: &Caller, f: &Filter) -> Result<Vec<ExecRequestView>> {
    let mut conn = db.pool.acquire().await?;
    let mut s = Sql::new(SELECT);
    s.push(" WHERE 1 = 1");
    push_scope(&mut s, caller);
    if let Some(a) = f.account_id {
        s.push(" AND x.account_id = ").bind(a);
    }
    if let Some(st) = f.state.as_deref().filter(|s| !s.is_empty()) {
        if !STATES.contains(&st) {
            return Err(Error::invalid("state", "invalid_choice"));
        }
        s.push(" AND x.state = ").bind(st.to_string());
    }
    s.push(" ORDER BY x.visit_on DESC, x.id DESC LIMIT 500");
    s.query().fetch_all(&mut *conn).await?.iter().map(view).collect()
}

/// The executives one may name, by name.
pub async fn executives(db: &Db) -> Result<Vec<Executive>> {
    let roles: Vec<String> = EXECUTIVE_ROLES.iter().map(|r| format!("'{}'", r.code())).collect();
    sqlx::query(&format!(
        "SELECT id, display_name, role FROM users WHERE active = 1 AND role IN ({}) ORDER BY display_name, id",
        roles.join(", ")
    ))
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|r| Ok(Executive { id: r.try_get("id")?, display_name: r.try_get("display_name")?, role: r.try_get("role")? }))
    .collect()
}

/// Files a request and asks the KA director (`exec_resource`).
pub async fn create(db: &Db, ctx: &Ctx, inp: &ExecRequestIn) -> Result<ExecRequestView> {
    let caller = &ctx.caller;
    let now = crate::app::clock::now();
    let mut tx = db.begin().await?;
    let Some(account_id) = inp.account_id else { return Err(Error::invalid("account_id", "required")) };
    accounts::ensure_visible_in(tx.conn(), caller, account_id).await?;
    if !caller.role.edits_accounts() {
        return Err(Error::Forbidden);
    }
    let mut e = Errors::default();
    let mut executive = None;
    match inp.executive_id {
        None => e.add("executive_id", "required"),
        Some(x) => {
            let r = sqlx::query("SELECT display_name, role, active FROM users WHERE id = $1")
                .bind(x)
                .fetch_optional(tx.conn())
                .await?;
            match r {
                Some(r)
                    if r.try_get::<i64, _>("active")? == 1
                        && EXECUTIVE_ROLES
                            .iter()
                            .any(|ro| ro.code() == r.try_get::<String, _>("role").unwrap_or_default()) =>
                {
                    executive = Some(r.try_get::<String, _>("display_name")?)
                }
                _ => e.add("executive_id", "not_an_executive"),
            }
        }
    }
    let purpose = e.take("purpose", text::required(inp.purpose.as_deref(), 2000));
    let expected = e.take("expected_result", text::required(inp.expected_result.as_deref(), 2000));
    let today = caller.day();
    let visit_on = match inp.visit_on.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => {
            e.add("visit_on", "required");
            None
        }
        Some(d) => match NaiveDate::parse_from_str(d, "%Y-%m-%d") {
            Ok(d) if d < today => {
                e.add("visit_on", "in_past");
                None
            }
            Ok(d) => Some(d),
            Err(_) => {
                e.add("visit_on", "date_format");
                None
            }
        },
    };
    e.finish()?;
    let (Some(executive), Some(purpose), Some(expected), Some(visit_on), Some(executive_id)) =
        (executive, purpose, expected, visit_on, inp.executive_id)
    else {
        return Err(Error::invalid("body", "required"));
    };
    let at = ts(now);
    let id: i64 = sqlx::query(
        "INSERT INTO exec_requests (account_id, executive_id, purpose, expected_result, visit_on, state, requested_by, \
         version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'in_approval', $6, 1, $7, $7) RETURNING id",
    )
    .bind(account_id)
    .bind(executive_id)
    .bind(purpose.clone())
    .bind(expected.clone())
    .bind(visit_on.to_string())
    .bind(caller.user_id)
    .bind(at)
    .fetch_one(tx.conn())
    .await?
    .try_get("id")?;
    let a = sqlx::query("SELECT name, region_id, branch_id, owner_id FROM accounts WHERE id = $1")
        .bind(account_id)
        .fetch_one(tx.conn())
        .await?;
    let subject = approvals::Subject {
        kind: KIND,
        id,
        label: format!("{} · {} · {}", a.try_get::<String, _>("name")?, executive, visit_on),
        region_id: a.try_get("region_id")?,
        branch_id: a.try_get("branch_id")?,
        owner_id: a.try_get("owner_id")?,
        figure: None,
        class: None,
    };
    let payload = json!({"executive_id": executive_id, "visit_on": visit_on.to_string()});
    let aid = approvals::start(&mut tx, ctx, Flow::ExecResource, &subject, &payload, &payload, now).await?;
    sqlx::query("UPDATE exec_requests SET approval_id = $1 WHERE id = $2")
        .bind(aid)
        .bind(id)
        .execute(tx.conn())
        .await?;
    audit::record(
        &mut tx,
        ctx,
        KIND,
        &id.to_string(),
        "create",
        None,
        Some(&json!({"account_id": account_id, "executive_id": executive_id, "purpose": purpose,
            "expected_result": expected, "visit_on": visit_on.to_string(), "approval_id": aid})),
    )
    .await?;
    let v = load_in(tx.conn(), caller, id).await?;
    tx.commit().await?;
    Ok(v)
}

/// The request an `exec_resource` request is about (404 when the caller does not see it).
pub async fn for_approval(db: &Db, caller: &Caller, approval_id: i64) -> Result<ExecRequestView> {
    let mut conn = db.pool.acquire().await?;
    let id = approvals::subject_of(&mut conn, approval_id, KIND).await?;
    load_in(&mut conn, caller, id).await
}

/// When the visit is put: 10:00 on its day in the requester's zone; a done visit not later
/// than now.
fn visit_time(day: NaiveDate, tz: &str, now: DateTime<Utc>) -> (bool, DateTime<Utc>) {
    let tz = crate::domain::activity::parse_tz(tz).unwrap_or(chrono_tz::Asia::Shanghai);
    let at = day
        .and_time(NaiveTime::from_hms_opt(10, 0, 0).unwrap_or_default())
        .and_local_timezone(tz)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(now);
    let today = crate::domain::activity::local_day(now, tz);
    if day <= today {
        (true, at.min(now))
    } else {
        (false, at)
    }
}

/// Approved: the executive visit goes on the account, for the requester (else the account's
/// owner). Rejected, returned, withdrawn or cancelled: as such.
fn on_closed<'a>(tx: &'a mut WriteTx, ctx: &'a Ctx, c: Closed<'a>) -> HookFuture<'a> {
    Box::pin(async move {
        let state = match c.state {
            ApprovalState::Approved => "approved",
            ApprovalState::Rejected => "rejected",
            ApprovalState::Returned => "returned",
            _ => "cancelled",
        };
        let lock = tx.lock_clause(RowLock::Update);
        let r = sqlx::query(&format!(
            "SELECT x.*, e.display_name AS executive_name, a.owner_id FROM exec_requests x \
             JOIN users e ON e.id = x.executive_id JOIN accounts a ON a.id = x.account_id \
             WHERE x.id = $1 AND x.approval_id = $2 AND x.state = 'in_approval'{lock}"
        ))
        .bind(c.subject_id)
        .bind(c.approval_id)
        .fetch_optional(tx.conn())
        .await?;
        let Some(r) = r else { return Ok(()) };
        let mut activity_id: Option<i64> = None;
        if state == "approved" {
            let requester: i64 = r.try_get("requested_by")?;
            let owner: Option<i64> = r.try_get("owner_id")?;
            let mut who = crate::app::people::auth::load_caller_in(tx.conn(), requester).await?;
            if who.is_none() {
                if let Some(o) = owner {
                    who = crate::app::people::auth::load_caller_in(tx.conn(), o).await?;
                }
            }
            let Some(who) = who else { return Err(Error::Conflict("exec_request_no_visitor")) };
            let day = NaiveDate::parse_from_str(&r.try_get::<String, _>("visit_on")?, "%Y-%m-%d")
                .map_err(|e| anyhow::anyhow!("stored visit_on: {e}"))?;
            let (done, at) = visit_time(day, &who.time_zone, crate::app::clock::now());
            let account = r.try_get::<i64, _>("account_id")?.to_string();
            let at = ts(at);
            let executive: String = r.try_get("executive_name")?;
            let purpose: String = r.try_get("purpose")?;
            let expected: String = r.try_get("expected_result")?;
            let mut pairs: Vec<(&str, Option<&str>)> = vec![
                ("account_id", Some(&account)),
                ("kind", Some("visit")),
                ("purpose", Some("executive_visit")),
                ("participants", Some(&executive)),
                ("objective", Some(&purpose)),
                ("next_steps", Some(&expected)),
            ];
            if done {
                pairs.push(("status", Some("done")));
                pairs.push(("occurred_at", Some(&at)));
            } else {
                pairs.push(("status", Some("planned")));
                pairs.push(("planned_at", Some(&at)));
            }
            let for_who = Ctx { caller: who, request_id: ctx.request_id.clone() };
            let v = crate::app::visits::activities::create_in(tx, &for_who, &Input::from_pairs(&pairs), None).await?;
            activity_id = Some(v.id);
        }
        sqlx::query(
            "UPDATE exec_requests SET state = $1, activity_id = $2, version = version + 1, updated_at = $3 WHERE id = $4",
        )
        .bind(state)
        .bind(activity_id)
        .bind(ts(crate::app::clock::now()))
        .bind(c.subject_id)
        .execute(tx.conn())
        .await?;
        audit::record(
            tx,
            ctx,
            KIND,
            &c.subject_id.to_string(),
            "review_closed",
            Some(&json!({"state": "in_approval"})),
            Some(
                &json!({"state": state, "approval_id": c.approval_id, "activity_id": activity_id, "reason": c.reason}),
            ),
        )
        .await?;
        Ok(())
    })
}

inventory::submit! { OutcomeHook { flow: Flow::ExecResource, run: on_closed } }

fn sees_request<'a>(conn: &'a mut sqlx::AnyConnection, caller: &'a Caller, id: i64) -> ScopeFuture<'a> {
    Box::pin(approvals::sees_account_of(conn, caller, "SELECT account_id FROM exec_requests WHERE id = $1", id))
}

inventory::submit! { SubjectScope { kind: KIND, sees: sees_request } }
