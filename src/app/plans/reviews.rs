//! A plan's reviews on the cadence of its account's importance (issue 23 item 4, seed 004 phase
//! 3): submitting a draft schedules its reviews — a strategic account's review and four
//! quarterly ones, an A account's yearly one, a B or C account's collective one (the cadence is
//! the company's, `calendar::settings_of`) — and opens the first as an `account_plan` request
//! in the engine, decided by the reviewer its tier gives. The reviewer answers the checklist,
//! accepts (the plan goes into execution) or returns it to be revised by a date (back to
//! drafting; resubmitting asks again), and sets actions. Later reviews open by the daily pass
//! once within the lead days of their due date; the same pass flags slipping objectives and
//! milestones to the plan's owner and the account's KA manager, once per item and due date.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

use crate::app::approvals::{self, Closed, HookFuture, OutcomeHook, ScopeFuture, Subject, SubjectScope};
use crate::app::plans::calendar;
use crate::app::plans::plans::{self, PlanRow};
use crate::app::records::{audit, notify};
use crate::app::{Caller, Ctx, Error, Result};
use crate::db::{ts, Db, RowLock, WriteTx};
use crate::domain::account_plan::{self as ap, Cadence, ChecklistAnswer, Phase};
use crate::domain::approval::{Flow, State as ApprovalState};
use crate::domain::error::Errors;
use crate::domain::text;

/// The approval subject's kind.
pub const KIND: &str = "account_plan";

/// The outcome a reviewer gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlanReviewOutcome {
    /// The plan is accepted (the request approved): it goes into execution.
    Accepted,
    /// The plan goes back to its owner to be revised by `revise_by` (the request returned).
    Revise,
}

/// One answer of the review checklist (seed 004 phase 3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanChecklistAnswer {
    /// The question: `realistic`, `linked`, `return`, `product_mix`, `competition`,
    /// `new_initiatives`, `profit_risk`.
    pub question: String,
    /// `yes`, `partly` or `no`.
    #[serde(default)]
    #[schema(value_type = Option<String>, pattern = "^(yes|partly|no)$")]
    pub answer: Option<ap::Answer>,
    /// The reviewer's comment (required; at most 2000 characters).
    #[serde(default)]
    pub comment: Option<String>,
}

impl From<PlanChecklistAnswer> for ChecklistAnswer {
    fn from(c: PlanChecklistAnswer) -> Self {
        ChecklistAnswer { question: c.question, answer: c.answer, comment: c.comment }
    }
}

impl From<ChecklistAnswer> for PlanChecklistAnswer {
    fn from(c: ChecklistAnswer) -> Self {
        PlanChecklistAnswer { question: c.question, answer: c.answer, comment: c.comment }
    }
}

/// An action a review sets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanReviewAction {
    /// What is to be done (at most 200 characters).
    pub text: String,
    /// Username of who does it.
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    #[schema(format = Date)]
    pub due_on: Option<String>,
}

/// A review's decision: the checklist whole, the outcome, the actions it sets, a comment.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanReviewDecision {
    /// Every question of the checklist answered (`yes`, `partly`, `no`) with a comment; a
    /// question left out is 422 `checklist.<question>`.
    pub checklist: Vec<PlanChecklistAnswer>,
    pub outcome: PlanReviewOutcome,
    /// The date the revision is due (required when revising; today or later).
    #[serde(default)]
    #[schema(format = Date)]
    pub revise_by: Option<String>,
    #[serde(default)]
    pub actions: Vec<PlanReviewAction>,
    /// The reviewer's comment (required when revising; at most 2000 characters).
    #[serde(default)]
    pub comment: Option<String>,
    /// The step position the reviewer was shown (a decision made meanwhile is 409).
    #[serde(default)]
    pub step: Option<i64>,
}

/// One review of a plan.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlanReviewView {
    pub id: i64,
    pub plan_id: i64,
    pub account_id: i64,
    pub account_name: String,
    pub year: i32,
    pub tier: Option<String>,
    /// `2027` (the plan's review) or `2027-Q1` … (a strategic account's quarterly ones).
    pub period: String,
    pub cadence: Cadence,
    #[schema(format = Date)]
    pub due_on: String,
    /// `scheduled`, `open`, `accepted`, `returned`.
    pub state: String,
    /// Past its due date and not decided.
    pub overdue: bool,
    /// Its request in the engine (the latest when it was asked again).
    pub approval_id: Option<i64>,
    /// The checklist's answers, in order (empty until decided).
    pub checklist: Vec<PlanChecklistAnswer>,
    pub actions: Vec<PlanReviewAction>,
    #[schema(format = Date)]
    pub revise_by: Option<String>,
    /// Who decided, username and name, and when.
    pub reviewed_by: Option<String>,
    pub reviewed_by_name: Option<String>,
    #[schema(format = DateTime)]
    pub reviewed_at: Option<String>,
    /// The reviewer's comment (the request's step's).
    pub comment: Option<String>,
    /// The open step's position, when the caller may decide it now.
    pub can_decide: Option<i64>,
}

/// A plan's reviews.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlanReviews {
    pub plan_id: i64,
    pub account_id: i64,
    pub account_name: String,
    pub year: i32,
    pub phase: Phase,
    pub tier: Option<String>,
    /// The cadence the plan's tier is reviewed on.
    pub cadence: Cadence,
    #[schema(format = DateTime)]
    pub submitted_at: Option<String>,
    #[schema(format = DateTime)]
    pub accepted_at: Option<String>,
    #[schema(format = Date)]
    pub revise_by: Option<String>,
    /// Whether the caller may submit the plan for review now (its owner, while drafting).
    pub may_submit: bool,
    pub reviews: Vec<PlanReviewView>,
}

/// A review due for a reviewer, or a plan due for its owner.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlanReviewDue {
    pub review_id: i64,
    pub plan_id: i64,
    pub account_name: String,
    pub year: i32,
    pub period: String,
    #[schema(format = Date)]
    pub due_on: String,
    /// `scheduled` (its request opens within the lead days) or `open`.
    pub state: String,
    pub overdue: bool,
    pub approval_id: Option<i64>,
}

/// A plan due from its owner: a draft to submit, or a revision.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlanDue {
    pub plan_id: i64,
    pub account_name: String,
    pub year: i32,
    pub phase: Phase,
    /// The draft's due date (the year's), or the revision's.
    #[schema(format = Date)]
    pub due_on: String,
    pub revising: bool,
    pub overdue: bool,
}

const REVIEW_COLUMNS: &str = "r.id, r.plan_id, r.period, r.cadence, r.due_on, r.state, r.approval_id, r.checklist, \
     r.review_actions, r.revise_by, r.reviewed_by, r.reviewed_at, p.account_id, a.name AS account_name, p.year, p.tier, \
     COALESCE(u.display_name, u.username) AS reviewed_by_name, \
     (SELECT s.comment FROM approval_steps s WHERE s.approval_id = r.approval_id AND s.decided_at IS NOT NULL \
      ORDER BY s.position DESC LIMIT 1) AS step_comment";

const REVIEW_FROM: &str = "FROM account_plan_reviews r JOIN account_plans p ON p.id = r.plan_id \
     JOIN accounts a ON a.id = p.account_id LEFT JOIN users u ON u.username = r.reviewed_by";

fn today_of(now: DateTime<Utc>) -> String {
    crate::domain::activity::local_day(now, chrono_tz::Asia::Shanghai).format("%Y-%m-%d").to_string()
}

fn review_of(r: &sqlx::any::AnyRow, today: &str) -> Result<PlanReviewView> {
    let state: String = r.try_get("state")?;
    let due_on: String = r.try_get("due_on")?;
    let cadence: String = r.try_get("cadence")?;
    Ok(PlanReviewView {
        id: r.try_get("id")?,
        plan_id: r.try_get("plan_id")?,
        account_id: r.try_get("account_id")?,
        account_name: r.try_get("account_name")?,
        year: r.try_get::<i64, _>("year")? as i32,
        tier: r.try_get("tier")?,
        period: r.try_get("period")?,
        cadence: Cadence::parse(&cadence).unwrap_or(Cadence::Yearly),
        overdue: matches!(state.as_str(), "scheduled" | "open") && today > due_on.as_str(),
        due_on,
        state,
        approval_id: r.try_get("approval_id")?,
        checklist: r
            .try_get::<Option<String>, _>("checklist")?
            .and_then(|c| serde_json::from_str(&c).ok())
            .unwrap_or_default(),
        actions: r
            .try_get::<Option<String>, _>("review_actions")?
            .and_then(|c| serde_json::from_str(&c).ok())
            .unwrap_or_default(),
        revise_by: r.try_get("revise_by")?,
        reviewed_by: r.try_get("reviewed_by")?,
        reviewed_by_name: r.try_get("reviewed_by_name")?,
        reviewed_at: r.try_get("reviewed_at")?,
        comment: r.try_get("step_comment")?,
        can_decide: None,
    })
}

/// The tier a plan is reviewed as (a plan without one: as a C account).
fn class_of(plan: &PlanRow) -> String {
    plan.tier.clone().unwrap_or_else(|| "C".into())
}

/// Schedules the plan's reviews when it has none: the first on the year's review date (a week
/// from today when the year has no calendar, or when that date has passed), then the cadence's.
async fn schedule_in(tx: &mut WriteTx, plan: &PlanRow, now: DateTime<Utc>) -> Result<()> {
    let any = sqlx::query("SELECT id FROM account_plan_reviews WHERE plan_id = $1 LIMIT 1")
        .bind(plan.id)
        .fetch_optional(tx.conn())
        .await?;
    if any.is_some() {
        return Ok(());
    }
    let settings = calendar::settings_of(tx.conn()).await?;
    let cadence = settings.cadence(&class_of(plan));
    let today = crate::domain::activity::local_day(now, chrono_tz::Asia::Shanghai);
    let first = plans::calendar_of(tx.conn(), plan.year)
        .await?
        .and_then(|c| chrono::NaiveDate::parse_from_str(&c.review_due, "%Y-%m-%d").ok())
        .unwrap_or(today + chrono::Duration::days(7));
    for (period, due) in ap::review_dates(plan.year, cadence, first) {
        sqlx::query(
            "INSERT INTO account_plan_reviews (plan_id, period, cadence, due_on, state, version) \
             VALUES ($1, $2, $3, $4, 'scheduled', 1)",
        )
        .bind(plan.id)
        .bind(period)
        .bind(cadence.code())
        .bind(due.to_string())
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

/// Opens the review's request in the engine (inside the caller's transaction): asked by `ctx`'s
/// caller, decided by the reviewer the plan's tier gives. A review answered before is asked
/// afresh (its earlier answers stay in the audit trail and the earlier request).
async fn open_in(tx: &mut WriteTx, ctx: &Ctx, plan: &PlanRow, review_id: i64, now: DateTime<Utc>) -> Result<i64> {
    let r = sqlx::query("SELECT period, due_on FROM account_plan_reviews WHERE id = $1")
        .bind(review_id)
        .fetch_one(tx.conn())
        .await?;
    let (period, due_on): (String, String) = (r.try_get("period")?, r.try_get("due_on")?);
    let a = sqlx::query("SELECT region_id, branch_id FROM accounts WHERE id = $1")
        .bind(plan.account_id)
        .fetch_one(tx.conn())
        .await?;
    let subject = Subject {
        kind: KIND,
        id: plan.id,
        label: format!("{} {} 客户规划 · {period}", plan.account_name, plan.year),
        region_id: a.try_get("region_id")?,
        branch_id: a.try_get("branch_id")?,
        owner_id: plan.owner_id,
        figure: None,
        class: Some(class_of(plan)),
    };
    let decisive = json!({"tier": plan.tier});
    let payload = json!({"review_id": review_id, "period": period, "due_on": due_on, "plan_id": plan.id});
    let aid = approvals::start(tx, ctx, Flow::AccountPlan, &subject, &decisive, &payload, now).await?;
    sqlx::query(
        "UPDATE account_plan_reviews SET state = 'open', approval_id = $1, checklist = NULL, review_actions = NULL, \
         revise_by = NULL, reviewed_by = NULL, reviewed_at = NULL, version = version + 1 WHERE id = $2",
    )
    .bind(aid)
    .bind(review_id)
    .execute(tx.conn())
    .await?;
    audit::record(
        tx,
        ctx,
        "account_plan_review",
        &review_id.to_string(),
        "open",
        None,
        Some(&json!({"plan_id": plan.id, "period": period, "approval_id": aid})),
    )
    .await?;
    Ok(aid)
}

/// Whether the caller may submit the plan: its owner (or someone who edits the account's plans
/// and sees it), while it is being prepared or drafted.
fn may_submit(caller: &Caller, plan: &PlanRow) -> bool {
    matches!(plan.phase, Phase::Preparation | Phase::Drafting)
        && (plan.owner_id == Some(caller.user_id) || plans::edits(caller))
}

/// The owner submits the plan for review: drafting → review. The first time its reviews are
/// scheduled on its tier's cadence; the review to answer (the one returned, else the first
/// still scheduled) is opened as an `account_plan` request.
pub async fn submit(db: &Db, ctx: &Ctx, plan_id: i64, now: DateTime<Utc>) -> Result<PlanReviews> {
    let caller = &ctx.caller;
    let mut tx = db.begin().await?;
    let lock = tx.lock_clause(RowLock::Update);
    sqlx::query(&format!("SELECT id FROM account_plans WHERE id = $1{lock}"))
        .bind(plan_id)
        .fetch_optional(tx.conn())
        .await?;
    let plan = plans::load_for_edit_in(tx.conn(), caller, plan_id).await?;
    if !plans::edits(caller) && plan.owner_id != Some(caller.user_id) {
        return Err(Error::Forbidden);
    }
    if !may_submit(caller, &plan) {
        return Err(Error::Conflict("plan_not_drafting"));
    }
    schedule_in(&mut tx, &plan, now).await?;
    let target = sqlx::query(
        "SELECT id FROM account_plan_reviews WHERE plan_id = $1 AND state IN ('returned', 'scheduled') \
         ORDER BY CASE state WHEN 'returned' THEN 0 ELSE 1 END, due_on, id LIMIT 1",
    )
    .bind(plan_id)
    .fetch_optional(tx.conn())
    .await?;
    let Some(target) = target else { return Err(Error::Conflict("plan_reviews_done")) };
    let review_id: i64 = target.try_get("id")?;
    let at = ts(now);
    let n = sqlx::query(
        "UPDATE account_plans SET phase = 'review', submitted_at = $1, revise_by = NULL, updated_by = $2, \
         updated_at = $1 WHERE id = $3 AND phase IN ('preparation', 'drafting')",
    )
    .bind(at)
    .bind(caller.username.as_str())
    .bind(plan_id)
    .execute(tx.conn())
    .await?;
    if n.rows_affected() != 1 {
        return Err(Error::Conflict("plan_not_drafting"));
    }
    open_in(&mut tx, ctx, &plan, review_id, now).await?;
    audit::record(
        &mut tx,
        ctx,
        "account_plan",
        &plan_id.to_string(),
        "submit",
        Some(&json!({"phase": plan.phase.code()})),
        Some(&json!({"phase": "review", "review_id": review_id})),
    )
    .await?;
    let v = of_plan_in(tx.conn(), caller, plan_id, now).await?;
    tx.commit().await?;
    Ok(v)
}

async fn of_plan_in(
    conn: &mut sqlx::AnyConnection,
    caller: &Caller,
    plan_id: i64,
    now: DateTime<Utc>,
) -> Result<PlanReviews> {
    let plan = plans::load_in(conn, caller, plan_id).await?;
    let today = today_of(now);
    let found =
        sqlx::query(&format!("SELECT {REVIEW_COLUMNS} {REVIEW_FROM} WHERE r.plan_id = $1 ORDER BY r.due_on, r.id"))
            .bind(plan_id)
            .fetch_all(&mut *conn)
            .await?;
    let mut reviews = vec![];
    for r in &found {
        reviews.push(review_of(r, &today)?);
    }
    let settings = calendar::settings_of(conn).await?;
    Ok(PlanReviews {
        plan_id,
        account_id: plan.account_id,
        account_name: plan.account_name.clone(),
        year: plan.year,
        phase: plan.phase,
        tier: plan.tier.clone(),
        cadence: settings.cadence(&class_of(&plan)),
        submitted_at: plan.submitted_at.clone(),
        accepted_at: plan.accepted_at.clone(),
        revise_by: plan.revise_by.clone(),
        may_submit: may_submit(caller, &plan),
        reviews,
    })
}

/// A plan's reviews (whoever sees the plan).
pub async fn of_plan(db: &Db, caller: &Caller, plan_id: i64) -> Result<PlanReviews> {
    let mut conn = db.pool.acquire().await?;
    of_plan_in(&mut conn, caller, plan_id, crate::app::clock::now()).await
}

async fn get_in(
    conn: &mut sqlx::AnyConnection,
    caller: &Caller,
    id: i64,
    now: DateTime<Utc>,
) -> Result<PlanReviewView> {
    let r = sqlx::query(&format!("SELECT {REVIEW_COLUMNS} {REVIEW_FROM} WHERE r.id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(Error::NotFound)?;
    let v = review_of(&r, &today_of(now))?;
    plans::load_in(conn, caller, v.plan_id).await?;
    Ok(v)
}

/// One review (whoever sees the plan), with whether the caller may decide it now.
pub async fn get(db: &Db, caller: &Caller, id: i64) -> Result<PlanReviewView> {
    let now = crate::app::clock::now();
    let mut conn = db.pool.acquire().await?;
    let mut v = get_in(&mut conn, caller, id, now).await?;
    drop(conn);
    if v.state == "open" {
        if let Some(aid) = v.approval_id {
            if let Ok(a) = approvals::get(db, caller, aid).await {
                v.can_decide = if a.can_decide.is_some() { a.decide_step } else { None };
            }
        }
    }
    Ok(v)
}

fn check_decision(
    inp: &PlanReviewDecision,
    today: &str,
) -> Result<(Vec<ChecklistAnswer>, Vec<PlanReviewAction>, Option<String>)> {
    let mut e = Errors::default();
    let mut answers: Vec<ChecklistAnswer> = inp.checklist.iter().cloned().map(Into::into).collect();
    if let Err(Error::Invalid(fs)) = ap::validate_checklist(&mut answers) {
        e.0.extend(fs);
    }
    let revise_by = inp.revise_by.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let revise_by = match (inp.outcome, revise_by) {
        (PlanReviewOutcome::Revise, None) => {
            e.add("revise_by", "required");
            None
        }
        (_, None) => None,
        (o, Some(d)) => match chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d") {
            Err(_) => {
                e.add("revise_by", "invalid_date");
                None
            }
            Ok(d) if d.to_string().as_str() < today => {
                e.add("revise_by", "date_in_past");
                None
            }
            Ok(d) => (o == PlanReviewOutcome::Revise).then(|| d.to_string()),
        },
    };
    if inp.actions.len() > ap::ROWS_MAX {
        e.add("actions", "too_many_rows");
    }
    let mut actions = vec![];
    for (i, a) in inp.actions.iter().enumerate() {
        let t = e.take(&format!("actions[{i}].text"), text::required(Some(a.text.as_str()), ap::LINE_MAX));
        let owner = e.take(&format!("actions[{i}].owner"), text::optional(a.owner.as_deref(), 64)).flatten();
        let due_on = match a.due_on.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(d) => match chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d") {
                Ok(d) => Some(d.to_string()),
                Err(_) => {
                    e.add(&format!("actions[{i}].due_on"), "invalid_date");
                    None
                }
            },
        };
        if let Some(text) = t {
            actions.push(PlanReviewAction { text, owner, due_on });
        }
    }
    let comment = e.take("comment", text::optional(inp.comment.as_deref(), 2000)).flatten();
    if inp.outcome == PlanReviewOutcome::Revise && comment.is_none() && !e.0.iter().any(|f| f.field == "comment") {
        e.add("comment", "required");
    }
    e.finish()?;
    Ok((answers, actions, revise_by.filter(|_| inp.outcome == PlanReviewOutcome::Revise)))
}

/// The reviewer decides the review: the checklist answered whole, the outcome (accepted, or to
/// revise by a date), the actions it sets, a comment. The answers are stored and the request's
/// step decided in one transaction; any fault is 422 naming its field and nothing is saved.
pub async fn decide(
    db: &Db,
    ctx: &Ctx,
    id: i64,
    inp: &PlanReviewDecision,
    now: DateTime<Utc>,
) -> Result<PlanReviewView> {
    let caller = &ctx.caller;
    let today = today_of(now);
    let mut tx = db.begin().await?;
    let v = get_in(tx.conn(), caller, id, now).await?;
    let Some(aid) = v.approval_id.filter(|_| v.state == "open") else {
        return Err(Error::Conflict("review_not_open"));
    };
    let (answers, actions, revise_by) = check_decision(inp, &today)?;
    // Unknown owners of actions are named.
    let mut e = Errors::default();
    for (i, a) in actions.iter().enumerate() {
        if let Some(o) = &a.owner {
            let found = sqlx::query("SELECT id FROM users WHERE username = $1")
                .bind(o.as_str())
                .fetch_optional(tx.conn())
                .await?;
            if found.is_none() {
                e.add(&format!("actions[{i}].owner"), "unknown_user");
            }
        }
    }
    e.finish()?;
    sqlx::query(
        "UPDATE account_plan_reviews SET checklist = $1, review_actions = $2, revise_by = $3, reviewed_by = $4, \
         reviewed_at = $5, version = version + 1 WHERE id = $6 AND state = 'open'",
    )
    .bind(serde_json::to_string(&answers).map_err(anyhow::Error::from)?)
    .bind(serde_json::to_string(&actions).map_err(anyhow::Error::from)?)
    .bind(revise_by.clone())
    .bind(caller.username.as_str())
    .bind(ts(now))
    .bind(id)
    .execute(tx.conn())
    .await?;
    let decision = match inp.outcome {
        PlanReviewOutcome::Accepted => "approve",
        PlanReviewOutcome::Revise => "return",
    };
    approvals::decide_step_in(&mut tx, ctx, aid, inp.step, decision, inp.comment.as_deref(), now).await?;
    audit::record(
        &mut tx,
        ctx,
        "account_plan_review",
        &id.to_string(),
        "decide",
        None,
        Some(&json!({"outcome": inp.outcome, "checklist": answers, "actions": actions, "revise_by": revise_by})),
    )
    .await?;
    let after = get_in(tx.conn(), caller, id, now).await?;
    tx.commit().await?;
    Ok(after)
}

/// What closing a review's request does to the review and its plan (inside the closing
/// transaction): approved — the review accepted, the plan in execution; returned (or
/// rejected) — the review returned, the plan back to drafting to be revised by the date the
/// reviewer gave; withdrawn or cancelled — the review is scheduled again and the plan drafting.
fn on_closed<'a>(tx: &'a mut WriteTx, ctx: &'a Ctx, c: Closed<'a>) -> HookFuture<'a> {
    Box::pin(async move {
        let r = sqlx::query("SELECT id, plan_id, revise_by FROM account_plan_reviews WHERE approval_id = $1")
            .bind(c.approval_id)
            .fetch_optional(tx.conn())
            .await?;
        let Some(r) = r else { return Ok(()) };
        let (review_id, plan_id): (i64, i64) = (r.try_get("id")?, r.try_get("plan_id")?);
        let revise_by: Option<String> = r.try_get("revise_by")?;
        let at = ts(crate::app::clock::now());
        let (review_state, phase) = match c.state {
            ApprovalState::Approved => ("accepted", "execution"),
            ApprovalState::Returned | ApprovalState::Rejected => ("returned", "drafting"),
            _ => ("scheduled", "drafting"),
        };
        sqlx::query("UPDATE account_plan_reviews SET state = $1, version = version + 1 WHERE id = $2")
            .bind(review_state)
            .bind(review_id)
            .execute(tx.conn())
            .await?;
        if review_state == "accepted" {
            sqlx::query(
                "UPDATE account_plans SET phase = 'execution', accepted_at = COALESCE(accepted_at, $1), \
                 revise_by = NULL, updated_by = $2, updated_at = $1 WHERE id = $3",
            )
            .bind(at)
            .bind(ctx.caller.username.as_str())
            .bind(plan_id)
            .execute(tx.conn())
            .await?;
        } else {
            sqlx::query(
                "UPDATE account_plans SET phase = $1, revise_by = $2, updated_by = $3, updated_at = $4 WHERE id = $5",
            )
            .bind(phase)
            .bind(revise_by.clone())
            .bind(ctx.caller.username.as_str())
            .bind(at)
            .bind(plan_id)
            .execute(tx.conn())
            .await?;
        }
        audit::record(
            tx,
            ctx,
            "account_plan",
            &plan_id.to_string(),
            "reviewed",
            None,
            Some(&json!({"review_id": review_id, "review": review_state, "phase": phase, "revise_by": revise_by})),
        )
        .await
    })
}

inventory::submit! { OutcomeHook { flow: Flow::AccountPlan, run: on_closed } }

/// A plan's review request is seen by whoever sees the plan's account.
fn sees_plan<'a>(conn: &'a mut sqlx::AnyConnection, caller: &'a Caller, id: i64) -> ScopeFuture<'a> {
    Box::pin(async move { approvals::seen(plans::load_in(conn, caller, id).await) })
}

inventory::submit! { SubjectScope { kind: KIND, sees: sees_plan } }

/// The reviews due for the caller: the open requests they may decide now, and the reviews
/// still scheduled whose requests will open within the lead days and which the caller's role
/// decides for the plan's tier (in their scope) or names them — soonest first.
pub async fn due_for(db: &Db, caller: &Caller, now: DateTime<Utc>) -> Result<Vec<PlanReviewDue>> {
    let today = today_of(now);
    let mut out: Vec<PlanReviewDue> = vec![];
    let waiting = approvals::waiting_for(db, caller, now).await?;
    let ids: Vec<i64> = waiting.iter().filter(|i| i.flow == Flow::AccountPlan).map(|i| i.id).collect();
    let mut conn = db.pool.acquire().await?;
    let row = |r: &sqlx::any::AnyRow| -> Result<PlanReviewDue> {
        let due_on: String = r.try_get("due_on")?;
        let state: String = r.try_get("state")?;
        Ok(PlanReviewDue {
            review_id: r.try_get("id")?,
            plan_id: r.try_get("plan_id")?,
            account_name: r.try_get("account_name")?,
            year: r.try_get::<i64, _>("year")? as i32,
            period: r.try_get("period")?,
            overdue: today > due_on,
            due_on,
            state,
            approval_id: r.try_get("approval_id")?,
        })
    };
    for aid in ids {
        let r = sqlx::query(
            "SELECT r.id, r.plan_id, a.name AS account_name, p.year, r.period, r.due_on, r.state, r.approval_id \
             FROM account_plan_reviews r JOIN account_plans p ON p.id = r.plan_id JOIN accounts a ON a.id = p.account_id \
             WHERE r.approval_id = $1",
        )
        .bind(aid)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(r) = r {
            out.push(row(&r)?);
        }
    }
    let settings = calendar::settings_of(&mut conn).await?;
    let (_, def) = approvals::definition(&mut conn, Flow::AccountPlan).await?;
    let tiers: Vec<&str> = crate::domain::classify::TIERS
        .iter()
        .copied()
        .filter(|t| def.steps.iter().any(|s| s.role == caller.role.code() && s.applies_to(None, Some(t))))
        .collect();
    let until = (crate::domain::activity::local_day(now, chrono_tz::Asia::Shanghai)
        + chrono::Duration::days(settings.lead_days))
    .to_string();
    let mut s = crate::db::sql::Sql::new(
        "SELECT r.id, r.plan_id, a.name AS account_name, p.year, r.period, r.due_on, r.state, r.approval_id \
         FROM account_plan_reviews r JOIN account_plans p ON p.id = r.plan_id JOIN accounts a ON a.id = p.account_id \
         WHERE r.state = 'scheduled' AND r.due_on <= ",
    );
    s.bind(until).push(" AND (p.reviewer_id = ").bind(caller.user_id);
    if !tiers.is_empty() {
        s.push(" OR COALESCE(p.tier, 'C') IN (");
        for (i, t) in tiers.iter().enumerate() {
            if i > 0 {
                s.push(", ");
            }
            s.bind(t.to_string());
        }
        s.push(")");
    }
    s.push(")");
    crate::app::customers::accounts::push_scope(&mut s, caller);
    s.push(" ORDER BY r.due_on, r.id LIMIT 200");
    for r in s.query().fetch_all(&mut *conn).await? {
        out.push(row(&r)?);
    }
    out.sort_by(|a, b| a.due_on.cmp(&b.due_on).then(a.review_id.cmp(&b.review_id)));
    Ok(out)
}

/// The caller's plans due from them: drafts not yet submitted (the year's draft date) and
/// plans returned to be revised, soonest first.
pub async fn owner_due(db: &Db, caller: &Caller, now: DateTime<Utc>) -> Result<Vec<PlanDue>> {
    let today = today_of(now);
    let mut conn = db.pool.acquire().await?;
    let found = sqlx::query(
        "SELECT p.id, a.name AS account_name, p.year, p.phase, p.revise_by FROM account_plans p \
         JOIN accounts a ON a.id = p.account_id WHERE p.owner_id = $1 AND p.phase IN ('preparation', 'drafting') \
         AND a.deleted_at IS NULL ORDER BY p.year, p.id LIMIT 200",
    )
    .bind(caller.user_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = vec![];
    for r in found {
        let year = r.try_get::<i64, _>("year")? as i32;
        let revise_by: Option<String> = r.try_get("revise_by")?;
        let due_on = match &revise_by {
            Some(d) => d.clone(),
            None => calendar::calendar_or_default(&mut conn, year).await?.draft_due,
        };
        out.push(PlanDue {
            plan_id: r.try_get("id")?,
            account_name: r.try_get("account_name")?,
            year,
            phase: Phase::parse(&r.try_get::<String, _>("phase")?).unwrap_or(Phase::Drafting),
            overdue: today > due_on,
            due_on,
            revising: revise_by.is_some(),
        });
    }
    out.sort_by(|a, b| a.due_on.cmp(&b.due_on));
    Ok(out)
}

const DAY_KEY: &str = "account_plans_daily";

/// Once a day (across servers): opens the reviews of plans in execution whose due date is
/// within the lead days, and flags slipping objectives and milestones. Answers (opened, flagged).
pub async fn daily(db: &Db, now: DateTime<Utc>) -> Result<(usize, usize)> {
    let today = today_of(now);
    let mut tx = db.begin().await?;
    let Some(last) = crate::app::records::settings::claim_day(&mut tx, DAY_KEY, &today).await? else {
        return Ok((0, 0));
    };
    tx.commit().await?;
    let done = pass(db, now).await;
    if done.is_err() {
        // The next scheduler pass tries again.
        crate::app::records::settings::release_day(db, DAY_KEY, &last, &today).await;
    }
    done
}

async fn pass(db: &Db, now: DateTime<Utc>) -> Result<(usize, usize)> {
    Ok((open_due(db, now).await?, flag_slipping(db, now).await?))
}

/// Opens the scheduled reviews due within the lead days of plans in execution that have no
/// review open or returned, each asked by the plan's owner.
async fn open_due(db: &Db, now: DateTime<Utc>) -> Result<usize> {
    let day = crate::domain::activity::local_day(now, chrono_tz::Asia::Shanghai);
    let settings = {
        let mut conn = db.pool.acquire().await?;
        calendar::settings_of(&mut conn).await?
    };
    let until = (day + chrono::Duration::days(settings.lead_days)).to_string();
    let due = sqlx::query(
        "SELECT r.id, r.plan_id, p.owner_id FROM account_plan_reviews r JOIN account_plans p ON p.id = r.plan_id \
         WHERE r.state = 'scheduled' AND r.due_on <= $1 AND p.phase = 'execution' AND NOT EXISTS \
         (SELECT 1 FROM account_plan_reviews o WHERE o.plan_id = r.plan_id AND o.state IN ('open', 'returned')) \
         ORDER BY r.plan_id, r.due_on, r.id",
    )
    .bind(until)
    .fetch_all(&db.pool)
    .await?;
    let mut opened = 0;
    let mut done: Vec<i64> = vec![];
    for r in due {
        let (review_id, plan_id): (i64, i64) = (r.try_get("id")?, r.try_get("plan_id")?);
        if done.contains(&plan_id) {
            continue;
        }
        done.push(plan_id);
        let Some(owner) = r.try_get::<Option<i64>, _>("owner_id")? else { continue };
        let Some(caller) = crate::app::people::auth::load_caller(db, owner).await? else { continue };
        let ctx = Ctx { caller, request_id: "scheduler".into() };
        let mut tx = db.begin().await?;
        let plan = plans::load_in(tx.conn(), &ctx.caller, plan_id).await;
        let plan = match plan {
            Ok(p) => p,
            Err(Error::NotFound) => {
                // The owner no longer sees the account: the KA director's people will find it late.
                continue;
            }
            Err(e) => return Err(e),
        };
        match open_in(&mut tx, &ctx, &plan, review_id, now).await {
            Ok(_) => {
                tx.commit().await?;
                opened += 1;
            }
            Err(Error::Invalid(fs)) => {
                tracing::warn!(plan_id, review_id, ?fs, "a plan's review could not be opened");
            }
            Err(e) => return Err(e),
        }
    }
    Ok(opened)
}

/// Flags each slipping objective and milestone once per item and due date: a notification to
/// the plan's owner and the account's KA manager.
async fn flag_slipping(db: &Db, now: DateTime<Utc>) -> Result<usize> {
    let day = crate::domain::activity::local_day(now, chrono_tz::Asia::Shanghai);
    let year = chrono::Datelike::year(&day) as i64;
    let found = sqlx::query(
        "SELECT p.id, p.account_id, p.year, p.owner_id, p.body, a.name AS account_name, a.ka_manager_id \
         FROM account_plans p JOIN accounts a ON a.id = p.account_id \
         WHERE p.phase <> 'preparation' AND p.year BETWEEN $1 AND $2 AND a.deleted_at IS NULL ORDER BY p.id",
    )
    .bind(year - 1)
    .bind(year + 1)
    .fetch_all(&db.pool)
    .await?;
    let mut flagged = 0;
    let soon = (day + chrono::Duration::days(7)).to_string();
    for r in found {
        let body: ap::PlanBody = serde_json::from_str(&r.try_get::<String, _>("body")?).unwrap_or_default();
        let near = |d: &Option<String>| d.as_deref().is_some_and(|d| d <= soon.as_str());
        if !body.objectives.iter().any(|o| near(&o.due_on)) && !body.actions.actions.iter().any(|a| near(&a.due_on)) {
            continue;
        }
        let (plan_id, account_id): (i64, i64) = (r.try_get("id")?, r.try_get("account_id")?);
        let plan_year = r.try_get::<i64, _>("year")? as i32;
        let account_name: String = r.try_get("account_name")?;
        let mut to: Vec<i64> = vec![];
        if let Some(o) = r.try_get::<Option<i64>, _>("owner_id")? {
            to.push(o);
        }
        if let Some(m) = r.try_get::<Option<i64>, _>("ka_manager_id")? {
            to.push(m);
        }
        let mut conn = db.pool.acquire().await?;
        let measured =
            crate::app::plans::progress::measure(&mut conn, account_id, plan_year, &body.objectives, day).await?;
        let tracked = crate::app::plans::progress::track(&mut conn, &body.actions.actions, day).await?;
        drop(conn);
        let mut items: Vec<(String, String, String)> = vec![];
        for m in measured.iter().filter(|m| m.slipping) {
            if let Some(d) = &m.due_on {
                items.push((format!("objective:{}", m.key), m.title.clone(), d.clone()));
            }
        }
        for t in tracked.iter().filter(|t| t.slipping && (t.milestone || t.due_on.is_some())) {
            if let Some(d) = &t.due_on {
                items.push((format!("action:{}", t.key), t.title.clone(), d.clone()));
            }
        }
        for (key, title, due) in items {
            let mut tx = db.begin().await?;
            let n = sqlx::query(
                "INSERT INTO account_plan_flags (plan_id, item_key, due_on, flagged_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (plan_id, item_key, due_on) DO NOTHING",
            )
            .bind(plan_id)
            .bind(key.as_str())
            .bind(due.as_str())
            .bind(ts(now))
            .execute(tx.conn())
            .await?
            .rows_affected();
            if n == 1 {
                let (acc, t, d) = (account_name.clone(), title.clone(), due.clone());
                notify::send(&mut tx, &to, "plan_slipping", None, |loc| {
                    (
                        rust_i18n::t!("plan_review.notify.slipping_title", locale = loc, account = acc, item = t)
                            .into_owned(),
                        rust_i18n::t!(
                            "plan_review.notify.slipping_body",
                            locale = loc,
                            account = acc,
                            year = plan_year,
                            item = t,
                            due = d
                        )
                        .into_owned(),
                    )
                })
                .await?;
                flagged += 1;
            }
            tx.commit().await?;
        }
    }
    Ok(flagged)
}

/// The plan and the review an `account_plan` request asks about, for the request's page (whoever
/// sees the request sees the plan: its scope is the plan's).
pub async fn for_approval(db: &Db, caller: &Caller, approval_id: i64) -> Result<(PlanRow, PlanReviewView)> {
    let mut conn = db.pool.acquire().await?;
    let r = sqlx::query("SELECT id FROM account_plan_reviews WHERE approval_id = $1")
        .bind(approval_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(Error::NotFound)?;
    let review = get_in(&mut conn, caller, r.try_get("id")?, crate::app::clock::now()).await?;
    let plan = plans::load_in(&mut conn, caller, review.plan_id).await?;
    Ok((plan, review))
}
