//! A suggestion's life: recorded with thanks and classified (`create`); its report — cause and
//! feasibility — and the departments concerned, each with its own deadline, start the
//! `suggestion` flow (`submit`): the KA department manager reviews, the departments give their
//! opinions in parallel (`opinion`; a department not asked is refused), the marketing director
//! reviews, the general manager approves. Approved, it is carried out (`execute`); approved,
//! carried out or rejected, the customer is answered with the feedback form (`reply`). A reply
//! past its promised date is flagged once to the KA department managers (`daily`). Whoever sees
//! the account sees its suggestions; every change is audited.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

use crate::app::approvals::{self, Closed, HookFuture, OutcomeHook, ScopeFuture, SubjectScope};
use crate::app::customers::accounts::{self, push_scope};
use crate::app::records::{audit, notify};
use crate::app::{Caller, Ctx, Error, Result};
use crate::db::sql::Sql;
use crate::db::{ts, Db, RowLock, WriteTx};
use crate::domain::approval::{Flow, Pick, State as ApprovalState};
use crate::domain::error::Errors;
use crate::domain::suggestion as sg;
use crate::domain::text;

/// The approval subject's kind.
pub const KIND: &str = "suggestion";

/// A suggestion as received.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuggestionIn {
    /// `in_person`, `phone`, `web`, `email`.
    #[serde(default)]
    #[schema(value_type = String)]
    pub channel: Option<String>,
    /// `product`, `service`, `delivery`, `quality`, `price`, `other`.
    #[serde(default)]
    #[schema(value_type = String)]
    pub category: Option<String>,
    /// The day it was received (today when absent; not in the future).
    #[serde(default)]
    #[schema(format = Date)]
    pub received_on: Option<String>,
    /// The customer's contact who made it (one of the account's contacts).
    #[serde(default)]
    pub contact_id: Option<i64>,
    /// What the customer suggests (required; at most 4000 characters).
    #[serde(default)]
    #[schema(value_type = String)]
    pub content: Option<String>,
    /// How we thanked them.
    #[serde(default)]
    pub thanks: Option<String>,
    /// The date the customer was promised a reply by (not before it was received).
    #[serde(default)]
    #[schema(value_type = String, format = Date)]
    pub reply_due: Option<String>,
}

/// The suggestion report and the departments asked for their opinion.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuggestionReportIn {
    /// Why the customer suggests it (required).
    #[serde(default)]
    #[schema(value_type = String)]
    pub cause: Option<String>,
    /// Whether and how it can be done (required).
    #[serde(default)]
    #[schema(value_type = String)]
    pub feasibility: Option<String>,
    /// The departments concerned: roles among the flow's picked steps (marketing,
    /// logistics_manager, finance_manager, commercial_manager), each with its own deadline.
    #[serde(default)]
    pub departments: Vec<Pick>,
    /// The version shown (a change meanwhile is 409).
    pub version: i64,
}

/// A department's opinion.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuggestionOpinionIn {
    /// The opinion (required; at most 2000 characters).
    #[serde(default)]
    #[schema(value_type = String)]
    pub opinion: Option<String>,
    /// `approve` (agrees), `return` (send back for changes) or `reject`.
    #[serde(default = "approve")]
    pub decision: String,
}

fn approve() -> String {
    "approve".into()
}

/// What was done.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuggestionExecutionIn {
    #[serde(default)]
    #[schema(value_type = String)]
    pub execution: Option<String>,
    pub version: i64,
}

/// The reply to the customer and their feedback (建议反馈表).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuggestionReplyIn {
    /// What the customer was told (required).
    #[serde(default)]
    #[schema(value_type = String)]
    pub reply: Option<String>,
    /// The customer's satisfaction with the handling, 1–5.
    #[serde(default)]
    pub feedback_score: Option<i64>,
    /// The customer's comment on it.
    #[serde(default)]
    pub feedback: Option<String>,
    pub version: i64,
}

/// A department's part in the review.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DepartmentOpinion {
    #[schema(value_type = crate::domain::role::Role)]
    pub role: String,
    /// The step's position in the request.
    pub step: i64,
    /// `waiting`, `open`, `approved`, `returned`, `rejected`, `cancelled`.
    pub state: String,
    #[schema(format = DateTime)]
    pub due_at: Option<String>,
    pub overdue: bool,
    pub escalated: bool,
    pub decided_by_name: Option<String>,
    #[schema(format = DateTime)]
    pub decided_at: Option<String>,
    pub opinion: Option<String>,
}

/// A suggestion, whole.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SuggestionView {
    pub id: i64,
    pub account_id: i64,
    pub account_name: String,
    pub channel: String,
    pub category: String,
    #[schema(format = Date)]
    pub received_on: String,
    pub received_by_name: Option<String>,
    pub contact_id: Option<i64>,
    pub contact_name: Option<String>,
    pub content: String,
    pub thanks: Option<String>,
    pub cause: Option<String>,
    pub feasibility: Option<String>,
    /// The departments asked, with their deadlines.
    pub departments: Vec<Pick>,
    #[schema(format = Date)]
    pub reply_due: String,
    /// `received`, `in_review`, `returned`, `approved`, `rejected`, `done`, `replied`.
    pub state: String,
    /// The reply is past its promised date.
    pub reply_overdue: bool,
    pub approval_id: Option<i64>,
    /// The departments' opinions (of the latest request).
    pub opinions: Vec<DepartmentOpinion>,
    pub execution: Option<String>,
    #[schema(format = DateTime)]
    pub executed_at: Option<String>,
    pub reply: Option<String>,
    #[schema(format = DateTime)]
    pub replied_at: Option<String>,
    pub replied_by_name: Option<String>,
    pub feedback_score: Option<i64>,
    pub feedback: Option<String>,
    pub version: i64,
    /// What the caller may do now.
    pub may_edit: bool,
    /// The department role the caller may give an opinion as now.
    pub may_give_opinion: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
}

/// A suggestion in a list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SuggestionItem {
    pub id: i64,
    pub account_id: i64,
    pub account_name: String,
    pub channel: String,
    pub category: String,
    #[schema(format = Date)]
    pub received_on: String,
    /// The first 80 characters of the content.
    pub summary: String,
    #[schema(format = Date)]
    pub reply_due: String,
    pub state: String,
    pub reply_overdue: bool,
}

/// What narrows the list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub account_id: Option<i64>,
    pub state: Option<String>,
    /// Only replies past their promised date.
    pub overdue: bool,
    pub q: Option<String>,
}

/// Who records and handles suggestions: those who work accounts (and the KA director).
fn may_edit(caller: &Caller) -> bool {
    caller.role.edits_accounts()
}

const COLUMNS: &str = "s.id, s.account_id, a.name AS account_name, s.channel, s.category, s.received_on, \
     s.contact_id, s.content, s.thanks, s.cause, s.feasibility, s.departments, s.reply_due, s.state, s.approval_id, \
     s.execution, s.executed_at, s.reply, s.replied_at, s.feedback_score, s.feedback, s.version, s.created_at, \
     ru.display_name AS received_by_name, pu.display_name AS replied_by_name, c.name AS contact_name";

const FROM: &str = "FROM suggestions s JOIN accounts a ON a.id = s.account_id \
     LEFT JOIN users ru ON ru.id = s.received_by LEFT JOIN users pu ON pu.id = s.replied_by \
     LEFT JOIN contacts c ON c.id = s.contact_id";

/// The roles the flow lets a suggestion pick (its `pick` steps), in order.
pub async fn department_roles(conn: &mut sqlx::AnyConnection) -> Result<Vec<String>> {
    let (_, d) = approvals::definition(conn, Flow::Suggestion).await?;
    Ok(d.steps.iter().filter(|s| s.pick).map(|s| s.role.clone()).collect())
}

async fn load_in(conn: &mut sqlx::AnyConnection, caller: &Caller, id: i64) -> Result<SuggestionView> {
    let r = sqlx::query(&format!("SELECT {COLUMNS} {FROM} WHERE s.id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(Error::NotFound)?;
    let account_id: i64 = r.try_get("account_id")?;
    accounts::ensure_visible_in(conn, caller, account_id).await?;
    let state: String = r.try_get("state")?;
    let reply_due: String = r.try_get("reply_due")?;
    let approval_id: Option<i64> = r.try_get("approval_id")?;
    let departments: Vec<Pick> =
        r.try_get::<Option<String>, _>("departments")?.and_then(|d| serde_json::from_str(&d).ok()).unwrap_or_default();
    let now = crate::app::clock::now();
    let mut opinions = vec![];
    let mut may_give_opinion = None;
    if let Some(aid) = approval_id {
        let picked: Vec<&str> = departments.iter().map(|p| p.role.as_str()).collect();
        let steps = sqlx::query(
            "SELECT st.position, st.role, st.state, st.due_at, st.escalated_at, st.decided_at, st.comment, \
             u.display_name AS decided_by_name FROM approval_steps st LEFT JOIN users u ON u.id = st.decided_by \
             WHERE st.approval_id = $1 ORDER BY st.position",
        )
        .bind(aid)
        .fetch_all(&mut *conn)
        .await?;
        for st in &steps {
            let role: String = st.try_get("role")?;
            let state: String = st.try_get("state")?;
            if !picked.contains(&role.as_str()) || state == "skipped" {
                continue;
            }
            let due_at: Option<String> = st.try_get("due_at")?;
            if state == "open" && role == caller.role.code() && may_give_opinion.is_none() {
                may_give_opinion = Some(role.clone());
            }
            opinions.push(DepartmentOpinion {
                overdue: state == "open" && notify::is_past(due_at.as_deref(), now),
                escalated: st.try_get::<Option<String>, _>("escalated_at")?.is_some(),
                step: st.try_get("position")?,
                role,
                state,
                due_at,
                decided_by_name: st.try_get("decided_by_name")?,
                decided_at: st.try_get("decided_at")?,
                opinion: st.try_get("comment")?,
            });
        }
    }
    let today = caller.day();
    Ok(SuggestionView {
        id: r.try_get("id")?,
        account_id,
        account_name: r.try_get("account_name")?,
        channel: r.try_get("channel")?,
        category: r.try_get("category")?,
        received_on: r.try_get("received_on")?,
        received_by_name: r.try_get("received_by_name")?,
        contact_id: r.try_get("contact_id")?,
        contact_name: r.try_get("contact_name")?,
        content: r.try_get("content")?,
        thanks: r.try_get("thanks")?,
        cause: r.try_get("cause")?,
        feasibility: r.try_get("feasibility")?,
        departments,
        reply_overdue: sg::reply_overdue(&state, &reply_due, today),
        reply_due,
        state,
        approval_id,
        opinions,
        execution: r.try_get("execution")?,
        executed_at: r.try_get("executed_at")?,
        reply: r.try_get("reply")?,
        replied_at: r.try_get("replied_at")?,
        replied_by_name: r.try_get("replied_by_name")?,
        feedback_score: r.try_get("feedback_score")?,
        feedback: r.try_get("feedback")?,
        version: r.try_get("version")?,
        may_edit: may_edit(caller),
        may_give_opinion,
        created_at: r.try_get("created_at")?,
    })
}

/// A suggestion the caller sees.
pub async fn get(db: &Db, caller: &Caller, id: i64) -> Result<SuggestionView> {
    let mut conn = db.pool.acquire().await?;
    load_in(&mut conn, caller, id).await
}

/// The suggestions the caller sees, latest received first (at most 500).
pub async fn list(db: &Db, caller: &Caller, f: &Filter) -> Result<Vec<SuggestionItem>> {
    let mut conn = db.pool.acquire().await?;
    let mut s = Sql::new(
        "SELECT s.id, s.account_id, a.name AS account_name, s.channel, s.category, s.received_on, s.content, \
         s.reply_due, s.state FROM suggestions s JOIN accounts a ON a.id = s.account_id WHERE 1 = 1",
    );
    push_scope(&mut s, caller);
    if let Some(a) = f.account_id {
        s.push(" AND s.account_id = ").bind(a);
    }
    if let Some(st) = f.state.as_deref().filter(|s| !s.is_empty()) {
        if !sg::STATES.contains(&st) {
            return Err(Error::invalid("state", "invalid_choice"));
        }
        s.push(" AND s.state = ").bind(st.to_string());
    }
    if f.overdue {
        s.push(" AND s.state <> 'replied' AND s.reply_due < ").bind(caller.day().to_string());
    }
    if let Some(q) = text::search(f.q.as_deref()).map_err(|c| Error::invalid("q", c))? {
        let like = format!("%{}%", q.replace('%', ""));
        s.push(" AND (a.name LIKE ").bind(like.clone()).push(" OR s.content LIKE ").bind(like).push(")");
    }
    s.push(" ORDER BY s.received_on DESC, s.id DESC LIMIT 500");
    let today = caller.day();
    let rows = s.query().fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|r| {
            let state: String = r.try_get("state")?;
            let reply_due: String = r.try_get("reply_due")?;
            let content: String = r.try_get("content")?;
            Ok(SuggestionItem {
                id: r.try_get("id")?,
                account_id: r.try_get("account_id")?,
                account_name: r.try_get("account_name")?,
                channel: r.try_get("channel")?,
                category: r.try_get("category")?,
                received_on: r.try_get("received_on")?,
                summary: content.chars().take(80).collect(),
                reply_overdue: sg::reply_overdue(&state, &reply_due, today),
                reply_due,
                state,
            })
        })
        .collect()
}

/// Records a suggestion of an account the caller sees, with thanks.
pub async fn create(db: &Db, ctx: &Ctx, account_id: i64, inp: &SuggestionIn) -> Result<SuggestionView> {
    let caller = &ctx.caller;
    let mut tx = db.begin().await?;
    accounts::ensure_visible_in(tx.conn(), caller, account_id).await?;
    if !may_edit(caller) {
        return Err(Error::Forbidden);
    }
    let r = sg::receive(
        inp.channel.as_deref(),
        inp.category.as_deref(),
        inp.received_on.as_deref(),
        inp.content.as_deref(),
        inp.thanks.as_deref(),
        inp.reply_due.as_deref(),
        caller.day(),
    )?;
    if let Some(c) = inp.contact_id {
        let found = sqlx::query("SELECT id FROM contacts WHERE id = $1 AND account_id = $2 AND deleted_at IS NULL")
            .bind(c)
            .bind(account_id)
            .fetch_optional(tx.conn())
            .await?;
        if found.is_none() {
            return Err(Error::invalid("contact_id", "unknown_contact"));
        }
    }
    let at = ts(crate::app::clock::now());
    let id: i64 = sqlx::query(
        "INSERT INTO suggestions (account_id, channel, category, received_on, received_by, contact_id, content, thanks, \
         reply_due, state, version, created_by, created_at, updated_by, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'received', 1, $10, $11, $10, $11) RETURNING id",
    )
    .bind(account_id)
    .bind(r.channel.clone())
    .bind(r.category.clone())
    .bind(r.received_on.clone())
    .bind(caller.user_id)
    .bind(inp.contact_id)
    .bind(r.content.clone())
    .bind(r.thanks.clone())
    .bind(r.reply_due.clone())
    .bind(caller.username.as_str())
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
        Some(&json!({"account_id": account_id, "channel": r.channel, "category": r.category, "received_on": r.received_on, "reply_due": r.reply_due, "content": r.content})),
    )
    .await?;
    let v = load_in(tx.conn(), caller, id).await?;
    tx.commit().await?;
    Ok(v)
}

/// Locks the suggestion, checks the caller sees it and may handle it, and that the version
/// shown is current.
async fn lock_in(tx: &mut WriteTx, caller: &Caller, id: i64, version: Option<i64>) -> Result<SuggestionView> {
    let lock = tx.lock_clause(RowLock::Update);
    sqlx::query(&format!("SELECT id FROM suggestions WHERE id = $1{lock}")).bind(id).fetch_optional(tx.conn()).await?;
    let v = load_in(tx.conn(), caller, id).await?;
    if version.is_some_and(|n| n != v.version) {
        return Err(Error::Conflict("stale_version"));
    }
    Ok(v)
}

/// The report and the departments concerned start the `suggestion` flow: received or
/// returned → in review.
pub async fn submit(db: &Db, ctx: &Ctx, id: i64, inp: &SuggestionReportIn) -> Result<SuggestionView> {
    let caller = &ctx.caller;
    let now = crate::app::clock::now();
    let mut tx = db.begin().await?;
    let v = lock_in(&mut tx, caller, id, Some(inp.version)).await?;
    if !may_edit(caller) {
        return Err(Error::Forbidden);
    }
    if !matches!(v.state.as_str(), "received" | "returned") {
        return Err(Error::Conflict("suggestion_not_open"));
    }
    let mut e = Errors::default();
    let cause = e.take("cause", text::required(inp.cause.as_deref(), 4000));
    let feasibility = e.take("feasibility", text::required(inp.feasibility.as_deref(), 4000));
    let roles = department_roles(tx.conn()).await?;
    for (i, p) in inp.departments.iter().enumerate() {
        if !roles.contains(&p.role) {
            e.add(&format!("departments[{i}].role"), "not_asked");
        }
        if inp.departments[..i].iter().any(|q| q.role == p.role) {
            e.add(&format!("departments[{i}].role"), "duplicate");
        }
        if p.days.is_some_and(|d| !(1..=crate::domain::approval::MAX_DAYS).contains(&d)) {
            e.add(&format!("departments[{i}].days"), "step_days_range");
        }
    }
    e.finish()?;
    let a = sqlx::query("SELECT region_id, branch_id, owner_id FROM accounts WHERE id = $1")
        .bind(v.account_id)
        .fetch_one(tx.conn())
        .await?;
    let subject = approvals::Subject {
        kind: KIND,
        id,
        label: format!("{} · {}", v.account_name, v.content.chars().take(30).collect::<String>()),
        region_id: a.try_get("region_id")?,
        branch_id: a.try_get("branch_id")?,
        owner_id: a.try_get("owner_id")?,
        figure: None,
        class: None,
    };
    let departments = serde_json::to_string(&inp.departments).unwrap_or_else(|_| "[]".into());
    let payload = json!({"departments": inp.departments, "reply_due": v.reply_due});
    let decisive = json!({"departments": inp.departments});
    let aid =
        approvals::start_picked(&mut tx, ctx, Flow::Suggestion, &subject, &inp.departments, &decisive, &payload, now)
            .await?;
    sqlx::query(
        "UPDATE suggestions SET cause = $1, feasibility = $2, departments = $3, state = 'in_review', approval_id = $4, \
         version = version + 1, updated_by = $5, updated_at = $6 WHERE id = $7",
    )
    .bind(cause.clone())
    .bind(feasibility.clone())
    .bind(departments)
    .bind(aid)
    .bind(caller.username.as_str())
    .bind(ts(now))
    .bind(id)
    .execute(tx.conn())
    .await?;
    audit::record(
        &mut tx,
        ctx,
        KIND,
        &id.to_string(),
        "submit",
        Some(&json!({"state": v.state})),
        Some(&json!({"state": "in_review", "cause": cause, "feasibility": feasibility, "departments": inp.departments, "approval_id": aid})),
    )
    .await?;
    let out = load_in(tx.conn(), caller, id).await?;
    tx.commit().await?;
    Ok(out)
}

/// A department gives its opinion: the caller's role must be one of the departments whose
/// step is open now (else 422 `department` `not_asked`); the opinion is the step's decision.
pub async fn opinion(db: &Db, ctx: &Ctx, id: i64, inp: &SuggestionOpinionIn) -> Result<SuggestionView> {
    let caller = &ctx.caller;
    let now = crate::app::clock::now();
    let mut tx = db.begin().await?;
    let v = lock_in(&mut tx, caller, id, None).await?;
    let Some(aid) = v.approval_id.filter(|_| v.state == "in_review") else {
        return Err(Error::Conflict("suggestion_not_in_review"));
    };
    let Some(step) = v.opinions.iter().find(|o| o.state == "open" && o.role == caller.role.code()) else {
        return Err(Error::invalid("department", "not_asked"));
    };
    let opinion = text::required(inp.opinion.as_deref(), 2000).map_err(|c| Error::invalid("opinion", c))?;
    approvals::decide_step_in(&mut tx, ctx, aid, Some(step.step), &inp.decision, Some(&opinion), now).await?;
    let out = load_in(tx.conn(), caller, id).await?;
    tx.commit().await?;
    Ok(out)
}

/// What was done about an approved suggestion: approved → done.
pub async fn execute(db: &Db, ctx: &Ctx, id: i64, inp: &SuggestionExecutionIn) -> Result<SuggestionView> {
    let caller = &ctx.caller;
    let mut tx = db.begin().await?;
    let v = lock_in(&mut tx, caller, id, Some(inp.version)).await?;
    if !may_edit(caller) {
        return Err(Error::Forbidden);
    }
    if v.state != "approved" {
        return Err(Error::Conflict("suggestion_not_approved"));
    }
    let execution = text::required(inp.execution.as_deref(), 4000).map_err(|c| Error::invalid("execution", c))?;
    let at = ts(crate::app::clock::now());
    sqlx::query(
        "UPDATE suggestions SET execution = $1, executed_at = $2, state = 'done', version = version + 1, \
         updated_by = $3, updated_at = $2 WHERE id = $4",
    )
    .bind(execution.clone())
    .bind(at)
    .bind(caller.username.as_str())
    .bind(id)
    .execute(tx.conn())
    .await?;
    audit::record(
        &mut tx,
        ctx,
        KIND,
        &id.to_string(),
        "execute",
        Some(&json!({"state": v.state})),
        Some(&json!({"state": "done", "execution": execution})),
    )
    .await?;
    let out = load_in(tx.conn(), caller, id).await?;
    tx.commit().await?;
    Ok(out)
}

/// The reply to the customer with their feedback: approved, done or rejected → replied.
pub async fn reply(db: &Db, ctx: &Ctx, id: i64, inp: &SuggestionReplyIn) -> Result<SuggestionView> {
    let caller = &ctx.caller;
    let mut tx = db.begin().await?;
    let v = lock_in(&mut tx, caller, id, Some(inp.version)).await?;
    if !may_edit(caller) {
        return Err(Error::Forbidden);
    }
    if !matches!(v.state.as_str(), "approved" | "done" | "rejected") {
        return Err(Error::Conflict("suggestion_not_decided"));
    }
    let mut e = Errors::default();
    let reply = e.take("reply", text::required(inp.reply.as_deref(), 4000));
    let score = e.take("feedback_score", sg::feedback_score(inp.feedback_score.map(|n| n.to_string()).as_deref()));
    let feedback = e.take("feedback", text::optional(inp.feedback.as_deref(), 2000));
    e.finish()?;
    let at = ts(crate::app::clock::now());
    sqlx::query(
        "UPDATE suggestions SET reply = $1, feedback_score = $2, feedback = $3, replied_at = $4, replied_by = $5, \
         state = 'replied', version = version + 1, updated_by = $6, updated_at = $4 WHERE id = $7",
    )
    .bind(reply.clone())
    .bind(score.flatten())
    .bind(feedback.clone().flatten())
    .bind(at)
    .bind(caller.user_id)
    .bind(caller.username.as_str())
    .bind(id)
    .execute(tx.conn())
    .await?;
    audit::record(
        &mut tx,
        ctx,
        KIND,
        &id.to_string(),
        "reply",
        Some(&json!({"state": v.state})),
        Some(&json!({"state": "replied", "reply": reply, "feedback_score": score.flatten(), "late": v.reply_overdue})),
    )
    .await?;
    let out = load_in(tx.conn(), caller, id).await?;
    tx.commit().await?;
    Ok(out)
}

/// Once a day: replies past their promised date are flagged to the KA department managers,
/// once per suggestion. Returns how many were flagged.
pub async fn daily(db: &Db, now: DateTime<Utc>) -> Result<usize> {
    let today = crate::domain::activity::local_day(now, chrono_tz::Asia::Shanghai).to_string();
    let late = sqlx::query(
        "SELECT s.id, a.name, s.reply_due FROM suggestions s JOIN accounts a ON a.id = s.account_id \
         WHERE s.state <> 'replied' AND s.reply_due < $1 AND s.overdue_flagged_at IS NULL ORDER BY s.id LIMIT 1000",
    )
    .bind(today)
    .fetch_all(&db.pool)
    .await?;
    let mut flagged = 0;
    for r in late {
        let (id, name, due): (i64, String, String) = (r.try_get("id")?, r.try_get("name")?, r.try_get("reply_due")?);
        let mut tx = db.begin().await?;
        let n =
            sqlx::query("UPDATE suggestions SET overdue_flagged_at = $1 WHERE id = $2 AND overdue_flagged_at IS NULL")
                .bind(ts(now))
                .bind(id)
                .execute(tx.conn())
                .await?
                .rows_affected();
        if n == 1 {
            let to: Vec<i64> = sqlx::query("SELECT id FROM users WHERE role = 'ka_director' AND active = 1")
                .fetch_all(tx.conn())
                .await?
                .iter()
                .map(|r| r.try_get("id"))
                .collect::<Result<_, _>>()?;
            notify::send(&mut tx, &to, "suggestion_reply_overdue", None, |loc| {
                (
                    rust_i18n::t!("notify.suggestion_overdue.title", locale = loc, account = name).into_owned(),
                    rust_i18n::t!("notify.suggestion_overdue.body", locale = loc, id = id, due = due).into_owned(),
                )
            })
            .await?;
            audit::record(
                &mut tx,
                &Ctx::system(),
                KIND,
                &id.to_string(),
                "reply_overdue",
                None,
                Some(&json!({"reply_due": due})),
            )
            .await?;
            flagged += 1;
        }
        tx.commit().await?;
    }
    Ok(flagged)
}

/// The suggestion a `suggestion` request is about (404 when the caller does not see it).
pub async fn for_approval(db: &Db, caller: &Caller, approval_id: i64) -> Result<SuggestionView> {
    let mut conn = db.pool.acquire().await?;
    let id = approvals::subject_of(&mut conn, approval_id, KIND).await?;
    load_in(&mut conn, caller, id).await
}

/// The request closed: approved → approved (to carry out); rejected → rejected (still to be
/// answered); returned → returned (the report to rework); withdrawn or cancelled → received.
fn on_closed<'a>(tx: &'a mut WriteTx, ctx: &'a Ctx, c: Closed<'a>) -> HookFuture<'a> {
    Box::pin(async move {
        let state = match c.state {
            ApprovalState::Approved => "approved",
            ApprovalState::Rejected => "rejected",
            ApprovalState::Returned => "returned",
            _ => "received",
        };
        let n = sqlx::query(
            "UPDATE suggestions SET state = $1, version = version + 1, updated_at = $2 \
             WHERE id = $3 AND approval_id = $4 AND state = 'in_review'",
        )
        .bind(state)
        .bind(ts(crate::app::clock::now()))
        .bind(c.subject_id)
        .bind(c.approval_id)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if n == 1 && state == "approved" {
            // What the customer suggested, approved, is an open point of the account until it is
            // carried out, led by its KA manager and due by the promised reply.
            let r = sqlx::query("SELECT account_id, content, reply_due FROM suggestions WHERE id = $1")
                .bind(c.subject_id)
                .fetch_one(tx.conn())
                .await?;
            let content: String = r.try_get("content")?;
            let item = crate::app::voice::opl::OplNew {
                account_id: r.try_get("account_id")?,
                source: "suggestion",
                source_id: Some(c.subject_id),
                title: content.chars().take(200).collect(),
                detail: None,
                due_on: r.try_get("reply_due")?,
            };
            crate::app::voice::opl::raise_in(tx, ctx, &item).await?;
        }
        if n == 1 {
            crate::app::approvals::audit_closed(tx, ctx, KIND, &c, "in_review", state).await?;
        }
        Ok(())
    })
}

inventory::submit! { OutcomeHook { flow: Flow::Suggestion, run: on_closed } }

/// Whoever sees the account sees its suggestions' requests.
fn sees_suggestion<'a>(conn: &'a mut sqlx::AnyConnection, caller: &'a Caller, id: i64) -> ScopeFuture<'a> {
    Box::pin(approvals::sees_account_of(conn, caller, "SELECT account_id FROM suggestions WHERE id = $1", id))
}

inventory::submit! { SubjectScope { kind: KIND, sees: sees_suggestion } }
