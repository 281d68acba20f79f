//! The credit change request (大客户信用等级变更申请表; seed 003 §三.五, issue 22) on the seed's
//! clock. The account's KA manager files it from a trigger (within 2 days of it; the KA director
//! once the trigger escalated); it runs through the built-in flow `credit_change`: verification
//! by the region's KA department (a KA manager placed on the account's region; the head of the
//! region when that is the filer) within 3 days, then approval by HQ's KA centre (the KA
//! director) within 3 days, which the marketing director may extend once, for that step only,
//! to at most 7. Every step's deadline is capped at the trigger + 10 days and an extension is
//! granted only up to that cap; once less than a day is left to it the open step escalates at
//! once (the approval engine's cap), so the whole change ends within 10 days.
//!
//! Approved, the proposed grade (and limit, when the request carries one) becomes the account's
//! stored `credit_grade` / `credit_limit`, with a history row (`credit_grade_changes`) and an
//! audit row; the trigger closes. Rejected: closed with the reason. Returned or withdrawn: the
//! trigger is open again, to be filed anew.
//!
//! Who sees what: grade, limit and score only `Caller::sees_credit`; the KA managers who file
//! and verify see the trigger, the dates, deadlines and reasons.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::triggers::{self, CreditTriggerView, TRIGGER_SELECT};
use crate::app::approvals::{self, Closed, HookFuture, OutcomeHook, ScopeFuture, Subject, SubjectScope};
use crate::app::customers::accounts;
use crate::app::records::audit;
use crate::app::{Caller, Ctx, Error, Result};
use crate::db::{parse_ts, ts, Db, RowLock, WriteTx};
use crate::domain::account::CreditGrade;
use crate::domain::approval::{Flow, State as ApprovalState};
use crate::domain::credit_change::{self as cc, CreditChangeState, CreditTriggerState};
use crate::domain::error::Errors;
use crate::domain::money::{format_fen, parse_fen};
use crate::domain::text;

/// The approval subject kind of a credit change request.
pub const KIND: &str = "credit_change";

/// A request filed from a trigger.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditFilingIn {
    /// Why the grade should change (申请理由), required: the verifiers read it.
    #[schema(required = true, nullable = false, min_length = 1, max_length = 2000)]
    pub reason: Option<String>,
    /// The grade proposed; the trigger's when absent. Only those who see credit may give it.
    #[schema(value_type = Option<String>, max_length = 20)]
    pub proposed_grade: Option<String>,
    /// The credit limit proposed, in yuan. Only those who see credit may give it.
    #[schema(pattern = r"^\d{1,15}(\.\d{1,2})?$", value_type = Option<String>)]
    pub proposed_limit: Option<String>,
}

/// The credit figures of a request: current and proposed (only for those who see credit).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreditFigures {
    #[schema(value_type = Option<crate::domain::account::CreditGrade>)]
    pub from_grade: Option<String>,
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub from_limit: Option<String>,
    #[schema(value_type = Option<crate::domain::account::CreditGrade>)]
    pub to_grade: Option<String>,
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub to_limit: Option<String>,
    /// The account's current evaluation score.
    pub score: Option<i64>,
}

/// A credit change request whole: the account, the trigger, the clock, who filed it, and —
/// for those who see credit — the current and proposed grade and limit and the score.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreditChangeView {
    pub id: i64,
    pub account_id: i64,
    pub account_name: String,
    pub trigger: CreditTriggerView,
    pub reason: String,
    pub state: CreditChangeState,
    /// The `credit_change` request (`/api/v1/approvals/{id}`).
    pub approval_id: Option<i64>,
    /// Username and name of who filed it.
    pub filed_by: String,
    pub filed_by_name: String,
    #[schema(format = DateTime)]
    pub filed_at: String,
    /// Filed after the trigger's 2 days.
    pub filed_late: bool,
    /// No step's deadline passes this (the trigger + 10 days).
    #[schema(format = DateTime)]
    pub deadline_cap: String,
    #[schema(format = DateTime)]
    pub closed_at: Option<String>,
    /// Why it was rejected or returned.
    pub close_reason: Option<String>,
    /// Grade, limit and score: null for those who may not see credit (`credit_hidden`).
    pub credit: Option<CreditFigures>,
    pub credit_hidden: bool,
}

const CHANGE_SELECT: &str = "SELECT c.*, a.name AS account_name, a.credit_score, \
     COALESCE(u.display_name, c.filed_by) AS filer_display FROM credit_change_requests c \
     JOIN accounts a ON a.id = c.account_id LEFT JOIN users u ON u.username = c.filed_by";

fn yuan(fen: Option<i64>) -> Option<String> {
    fen.map(format_fen)
}

async fn change_view(
    conn: &mut sqlx::AnyConnection,
    r: &AnyRow,
    caller: &Caller,
    now: DateTime<Utc>,
) -> Result<CreditChangeView> {
    let trigger_id: i64 = r.try_get("trigger_id")?;
    let t = sqlx::query(&format!("{TRIGGER_SELECT} WHERE t.id = $1")).bind(trigger_id).fetch_one(&mut *conn).await?;
    let trigger = triggers::trigger_view(&t, caller, now)?;
    let filed_at: String = r.try_get("filed_at")?;
    let late = match (parse_ts(&trigger.triggered_at), parse_ts(&filed_at)) {
        (Some(t), Some(f)) => f > cc::file_by(t),
        _ => false,
    };
    let sees = caller.sees_credit();
    Ok(CreditChangeView {
        id: r.try_get("id")?,
        account_id: r.try_get("account_id")?,
        account_name: r.try_get("account_name")?,
        trigger,
        reason: r.try_get("reason")?,
        state: r.try_get("state")?,
        approval_id: r.try_get("approval_id")?,
        filed_by: r.try_get("filed_by")?,
        filed_by_name: r.try_get("filer_display")?,
        filed_at,
        filed_late: late,
        deadline_cap: r.try_get("deadline_cap")?,
        closed_at: r.try_get("closed_at")?,
        close_reason: r.try_get("close_reason")?,
        credit: if sees {
            Some(CreditFigures {
                from_grade: r.try_get("from_grade")?,
                from_limit: yuan(r.try_get("from_limit")?),
                to_grade: r.try_get("to_grade")?,
                to_limit: yuan(r.try_get("to_limit")?),
                score: r.try_get("credit_score")?,
            })
        } else {
            None
        },
        credit_hidden: !sees,
    })
}

/// Files the request from an open trigger: by its filer (the account's KA manager, else the
/// owner's manager) or, once it escalated, the KA director it went to (else 403); the account
/// out of scope: 404; the trigger not open: 409 `trigger_not_open`. A reason is required; a
/// grade or limit may be given only by those who see credit (else 403). Starts the
/// `credit_change` request with its deadlines capped at the trigger + 10 days.
pub async fn file(
    db: &Db,
    ctx: &Ctx,
    trigger_id: i64,
    inp: &CreditFilingIn,
    now: DateTime<Utc>,
) -> Result<CreditChangeView> {
    let caller = &ctx.caller;
    let mut e = Errors::default();
    let reason = e.take("reason", text::required(inp.reason.as_deref(), 2000));
    let grade = match inp.proposed_grade.as_deref().map(str::trim).filter(|g| !g.is_empty()) {
        None => None,
        Some(g) => e.take("proposed_grade", CreditGrade::parse(g)),
    };
    let limit = match inp.proposed_limit.as_deref().map(str::trim).filter(|g| !g.is_empty()) {
        None => None,
        Some(l) => e.take("proposed_limit", parse_fen(l)),
    };
    let mut tx = db.begin().await?;
    let lock = tx.lock_clause(RowLock::Update);
    let t = sqlx::query(&format!(
        "SELECT id, account_id, state, proposed_grade, triggered_at, escalated_to FROM credit_triggers WHERE id = $1{lock}"
    ))
    .bind(trigger_id)
    .fetch_optional(tx.conn())
    .await?
    .ok_or(Error::NotFound)?;
    let account_id: i64 = t.try_get("account_id")?;
    let filer = triggers::filer_of(tx.conn(), account_id).await?;
    let escalated_to: Option<i64> = t.try_get("escalated_to")?;
    // The account's KA manager files for it whatever their own scope; others: out of scope
    // 404, else 403.
    if filer != Some(caller.user_id) && escalated_to != Some(caller.user_id) {
        accounts::ensure_visible_in(tx.conn(), caller, account_id).await?;
        return Err(Error::Forbidden);
    }
    if (inp.proposed_grade.is_some() || inp.proposed_limit.is_some()) && !caller.sees_credit() {
        return Err(Error::Forbidden);
    }
    e.finish()?;
    if t.try_get::<CreditTriggerState, _>("state")? != CreditTriggerState::Open {
        return Err(Error::Conflict("trigger_not_open"));
    }
    let triggered_at: String = t.try_get("triggered_at")?;
    let cap = cc::deadline_cap(parse_ts(&triggered_at).unwrap_or(now));
    let mut to_grade: Option<String> = grade.map(|g| g.code().to_string()).or(t.try_get("proposed_grade")?);
    // Filed without a grade (a KA manager may not see one): the grade the figures give —
    // the transaction amount and the fulfilment record — and the limit the stored score gives.
    let mut limit = limit;
    if to_grade.is_none() {
        let today = crate::domain::activity::local_day(now, chrono_tz::Asia::Shanghai);
        let f = crate::app::classification::downgrade::fulfilment(tx.conn(), account_id, today).await?;
        let computed = super::grades::computed_grade(tx.conn(), account_id, Some((f.due, f.fulfilled))).await?;
        to_grade = computed.map(|(g, _)| g.code().to_string());
        if limit.is_none() {
            let score: Option<i64> = sqlx::query("SELECT credit_score FROM accounts WHERE id = $1")
                .bind(account_id)
                .fetch_one(tx.conn())
                .await?
                .try_get("credit_score")?;
            if let Some(score) = score {
                limit = Some(super::grades::limit_for_score(tx.conn(), score).await?);
            }
        }
    }
    let a = sqlx::query(
        "SELECT name, region_id, branch_id, owner_id, credit_grade, credit_limit FROM accounts WHERE id = $1",
    )
    .bind(account_id)
    .fetch_one(tx.conn())
    .await?;
    let reason = reason.unwrap_or_default();
    let id: i64 = sqlx::query(
        "INSERT INTO credit_change_requests (trigger_id, account_id, from_grade, from_limit, to_grade, to_limit, reason, \
         state, filed_by, filed_at, deadline_cap) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9, $10) RETURNING id",
    )
    .bind(trigger_id)
    .bind(account_id)
    .bind(a.try_get::<Option<String>, _>("credit_grade")?)
    .bind(a.try_get::<Option<i64>, _>("credit_limit")?)
    .bind(to_grade.clone())
    .bind(limit)
    .bind(reason.clone())
    .bind(caller.username.as_str())
    .bind(ts(now))
    .bind(ts(cap))
    .fetch_one(tx.conn())
    .await?
    .try_get("id")?;
    let subject = Subject {
        kind: KIND,
        id,
        label: a.try_get("name")?,
        region_id: a.try_get("region_id")?,
        branch_id: a.try_get("branch_id")?,
        owner_id: a.try_get("owner_id")?,
        figure: None,
        class: None,
    };
    // Nothing of credit in the request's decisive fields or payload: the verifiers read them.
    let decisive = json!({"request_id": id});
    let payload = json!({"request_id": id, "trigger_id": trigger_id});
    let aid = approvals::start_capped(&mut tx, ctx, Flow::CreditChange, &subject, &decisive, &payload, Some(cap), now)
        .await?;
    sqlx::query("UPDATE credit_change_requests SET approval_id = $1 WHERE id = $2")
        .bind(aid)
        .bind(id)
        .execute(tx.conn())
        .await?;
    sqlx::query("UPDATE credit_triggers SET state = 'filed', request_id = $1 WHERE id = $2")
        .bind(id)
        .bind(trigger_id)
        .execute(tx.conn())
        .await?;
    audit::record(
        &mut tx,
        ctx,
        "credit_change",
        &id.to_string(),
        "create",
        None,
        Some(&json!({"trigger_id": trigger_id, "account_id": account_id, "approval_id": aid, "reason": reason,
                     "proposed_grade": to_grade, "proposed_limit": yuan(limit), "deadline_cap": ts(cap)})),
    )
    .await?;
    let r = sqlx::query(&format!("{CHANGE_SELECT} WHERE c.id = $1")).bind(id).fetch_one(tx.conn()).await?;
    let v = change_view(tx.conn(), &r, caller, now).await?;
    tx.commit().await?;
    Ok(v)
}

/// One request: seen by whoever sees its approval (the filer, its deciders, and those who see
/// credit with the account in scope), else 404.
pub async fn get(db: &Db, caller: &Caller, id: i64, now: DateTime<Utc>) -> Result<CreditChangeView> {
    let approval_id: Option<i64> = sqlx::query("SELECT approval_id FROM credit_change_requests WHERE id = $1")
        .bind(id)
        .fetch_optional(&db.pool)
        .await?
        .ok_or(Error::NotFound)?
        .try_get("approval_id")?;
    approvals::get(db, caller, approval_id.ok_or(Error::NotFound)?).await?;
    let mut conn = db.pool.acquire().await?;
    let r = sqlx::query(&format!("{CHANGE_SELECT} WHERE c.id = $1")).bind(id).fetch_one(&mut *conn).await?;
    change_view(&mut conn, &r, caller, now).await
}

/// The request a `credit_change` approval asks about, for its page (the approval seen already).
pub async fn for_approval(db: &Db, caller: &Caller, approval_id: i64, now: DateTime<Utc>) -> Result<CreditChangeView> {
    let mut conn = db.pool.acquire().await?;
    let r = sqlx::query(&format!("{CHANGE_SELECT} WHERE c.approval_id = $1"))
        .bind(approval_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(Error::NotFound)?;
    change_view(&mut conn, &r, caller, now).await
}

/// One change of an account's stored grade and limit.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreditGradeChange {
    #[schema(value_type = Option<crate::domain::account::CreditGrade>)]
    pub from_grade: Option<String>,
    #[schema(value_type = Option<crate::domain::account::CreditGrade>)]
    pub to_grade: Option<String>,
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub from_limit: Option<String>,
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub to_limit: Option<String>,
    pub request_id: i64,
    pub approval_id: i64,
    #[schema(format = DateTime)]
    pub changed_at: String,
}

/// An account's grade history, newest first: those who see credit, the account in scope (else
/// 403 / 404).
pub async fn history(db: &Db, caller: &Caller, account_id: i64) -> Result<Vec<CreditGradeChange>> {
    let mut conn = db.pool.acquire().await?;
    accounts::ensure_visible_in(&mut conn, caller, account_id).await?;
    if !caller.sees_credit() {
        return Err(Error::Forbidden);
    }
    sqlx::query("SELECT * FROM credit_grade_changes WHERE account_id = $1 ORDER BY id DESC LIMIT 500")
        .bind(account_id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(CreditGradeChange {
                from_grade: r.try_get("from_grade")?,
                to_grade: r.try_get("to_grade")?,
                from_limit: yuan(r.try_get("from_limit")?),
                to_limit: yuan(r.try_get("to_limit")?),
                request_id: r.try_get("request_id")?,
                approval_id: r.try_get("approval_id")?,
                changed_at: r.try_get("changed_at")?,
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The approval engine's side

/// A credit change request closed. Approved: the proposed grade (and limit, when given)
/// becomes the account's, with history and audit (no grade proposed: 409
/// `credit_change_no_grade`, the request stays pending); the trigger closes. Rejected: closed
/// with the reason. Returned or withdrawn: the trigger is open to be filed again.
fn on_closed<'a>(tx: &'a mut WriteTx, ctx: &'a Ctx, c: Closed<'a>) -> HookFuture<'a> {
    Box::pin(async move {
        let r = sqlx::query(
            "SELECT id, trigger_id, account_id, to_grade, to_limit, state FROM credit_change_requests WHERE approval_id = $1",
        )
        .bind(c.approval_id)
        .fetch_optional(tx.conn())
        .await?;
        let Some(r) = r else { return Ok(()) };
        if r.try_get::<CreditChangeState, _>("state")? != CreditChangeState::Pending {
            return Ok(());
        }
        let (id, trigger_id, account_id): (i64, i64, i64) =
            (r.try_get("id")?, r.try_get("trigger_id")?, r.try_get("account_id")?);
        let at = ts(crate::app::clock::now());
        let state = match c.state {
            ApprovalState::Approved => CreditChangeState::Approved,
            ApprovalState::Rejected => CreditChangeState::Rejected,
            ApprovalState::Returned => CreditChangeState::Returned,
            _ => CreditChangeState::Cancelled,
        };
        if state == CreditChangeState::Approved {
            let to_grade: Option<String> = r.try_get("to_grade")?;
            let Some(to_grade) = to_grade else { return Err(Error::Conflict("credit_change_no_grade")) };
            let to_limit: Option<i64> = r.try_get("to_limit")?;
            let lock = tx.lock_clause(RowLock::Update);
            let acc = sqlx::query(&format!("SELECT credit_grade, credit_limit FROM accounts WHERE id = $1{lock}"))
                .bind(account_id)
                .fetch_one(tx.conn())
                .await?;
            let (from_grade, from_limit): (Option<String>, Option<i64>) =
                (acc.try_get("credit_grade")?, acc.try_get("credit_limit")?);
            let new_limit = to_limit.or(from_limit);
            sqlx::query(
                "UPDATE accounts SET credit_grade = $1, credit_limit = $2, version = version + 1, updated_at = $3 WHERE id = $4",
            )
            .bind(to_grade.clone())
            .bind(new_limit)
            .bind(at.clone())
            .bind(account_id)
            .execute(tx.conn())
            .await?;
            sqlx::query(
                "INSERT INTO credit_grade_changes (account_id, from_grade, to_grade, from_limit, to_limit, request_id, approval_id, changed_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(account_id)
            .bind(from_grade.clone())
            .bind(to_grade.clone())
            .bind(from_limit)
            .bind(new_limit)
            .bind(id)
            .bind(c.approval_id)
            .bind(at.clone())
            .execute(tx.conn())
            .await?;
            audit::record(
                tx,
                ctx,
                "account",
                &account_id.to_string(),
                "credit_change",
                Some(&json!({"credit_grade": from_grade, "credit_limit": yuan(from_limit)})),
                Some(&json!({"credit_grade": to_grade, "credit_limit": yuan(new_limit), "request_id": id, "approval_id": c.approval_id})),
            )
            .await?;
        }
        sqlx::query(
            "UPDATE credit_change_requests SET state = $1, closed_at = $2, close_reason = $3, version = version + 1 WHERE id = $4",
        )
        .bind(state.code())
        .bind(at.clone())
        .bind(c.reason.map(str::to_string))
        .bind(id)
        .execute(tx.conn())
        .await?;
        match state {
            CreditChangeState::Returned | CreditChangeState::Cancelled => {
                sqlx::query("UPDATE credit_triggers SET state = 'open' WHERE id = $1")
                    .bind(trigger_id)
                    .execute(tx.conn())
                    .await?;
            }
            _ => {
                let outcome = match (state, c.reason) {
                    (CreditChangeState::Rejected, Some(why)) => format!("rejected: {why}"),
                    _ => state.code().to_string(),
                };
                sqlx::query("UPDATE credit_triggers SET state = 'closed', closed_at = $1, outcome = $2 WHERE id = $3")
                    .bind(at.clone())
                    .bind(outcome)
                    .bind(trigger_id)
                    .execute(tx.conn())
                    .await?;
            }
        }
        audit::record(
            tx,
            ctx,
            "credit_change",
            &id.to_string(),
            "close",
            Some(&json!({"state": "pending"})),
            Some(&json!({"state": state.code(), "approval_id": c.approval_id, "reason": c.reason})),
        )
        .await?;
        Ok(())
    })
}

inventory::submit! { OutcomeHook { flow: Flow::CreditChange, run: on_closed } }

/// A credit change request's subject is credit information: beside those involved in it (the
/// engine's own rule), only those who see credit with the account in scope see it.
fn sees_change<'a>(conn: &'a mut sqlx::AnyConnection, caller: &'a Caller, id: i64) -> ScopeFuture<'a> {
    Box::pin(async move {
        if !caller.sees_credit() {
            return Ok(false);
        }
        approvals::sees_account_of(conn, caller, "SELECT account_id FROM credit_change_requests WHERE id = $1", id)
            .await
    })
}

inventory::submit! { SubjectScope { kind: KIND, sees: sees_change } }
