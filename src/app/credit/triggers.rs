//! Credit triggers (issue 22, seed 003 §三.五): what calls for a credit change request — a
//! downgrade, a grade the figures now give, a person's proposal, the 90-day dunning level —
//! recorded with its date. The account's KA manager (the account's `ka_manager`, else the
//! owner's manager) files the request from it within 2 days; an unfiled trigger past 2 days is
//! escalated to the KA director once (the scheduler's [`escalate_unfiled`]), who may then file
//! it too. At most one live (open or filed) trigger per account and kind.
//!
//! Who sees what: the proposed grade is credit information (only `Caller::sees_credit`); the
//! KA managers who file see the trigger, its kind, note, dates and deadlines. A trigger's note
//! is read by them, so the callers that record one put no grade, limit or score in it.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::app::customers::accounts;
use crate::app::records::{audit, notify};
use crate::app::{Caller, Ctx, Error, Result};
use crate::db::{parse_ts, ts, Db, WriteTx};
use crate::domain::account::CreditGrade;
use crate::domain::credit_change::{self as cc, CreditTriggerKind, CreditTriggerState};
use crate::domain::error::Errors;
use crate::domain::role::Role;
use crate::domain::text;

/// A trigger as its filer (and those who see credit) read it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreditTriggerView {
    pub id: i64,
    pub account_id: i64,
    pub account_name: String,
    pub kind: CreditTriggerKind,
    /// The grade proposed (credit information: null for those who may not see credit, and
    /// when none was proposed).
    #[schema(value_type = Option<crate::domain::account::CreditGrade>)]
    pub proposed_grade: Option<String>,
    pub note: String,
    #[schema(format = DateTime)]
    pub triggered_at: String,
    /// The request must be filed by then (the trigger + 2 days).
    #[schema(format = DateTime)]
    pub file_by: String,
    /// The whole change must end by then (the trigger + 10 days).
    #[schema(format = DateTime)]
    pub deadline_cap: String,
    /// Still open past `file_by`.
    pub overdue: bool,
    pub state: CreditTriggerState,
    /// The request filed from it (`/api/v1/credit/changes/{id}`).
    pub request_id: Option<i64>,
    /// Who files it, by username and name.
    pub filer: Option<String>,
    pub filer_name: Option<String>,
    /// When it was escalated to the KA director, unfiled, and to whom.
    #[schema(format = DateTime)]
    pub escalated_at: Option<String>,
    pub escalated_to: Option<String>,
    /// Who recorded it (`system` for the daily passes).
    pub created_by: String,
    /// How it closed: `approved`, `rejected: <reason>`, …
    pub outcome: Option<String>,
}

pub(crate) const TRIGGER_SELECT: &str = "SELECT t.*, a.name AS account_name, \
     f.username AS filer, COALESCE(f.display_name, f.username) AS filer_name, e.username AS escalated_user \
     FROM credit_triggers t JOIN accounts a ON a.id = t.account_id \
     LEFT JOIN users o ON o.id = a.owner_id \
     LEFT JOIN users f ON f.id = COALESCE(a.ka_manager_id, o.manager_id) \
     LEFT JOIN users e ON e.id = t.escalated_to";

pub(crate) fn trigger_view(r: &AnyRow, caller: &Caller, now: DateTime<Utc>) -> Result<CreditTriggerView> {
    let at: String = r.try_get("triggered_at")?;
    let t = parse_ts(&at).unwrap_or(now);
    let state: CreditTriggerState = r.try_get("state")?;
    Ok(CreditTriggerView {
        id: r.try_get("id")?,
        account_id: r.try_get("account_id")?,
        account_name: r.try_get("account_name")?,
        kind: r.try_get("kind")?,
        proposed_grade: if caller.sees_credit() { r.try_get("proposed_grade")? } else { None },
        note: r.try_get("note")?,
        file_by: ts(cc::file_by(t)),
        deadline_cap: ts(cc::deadline_cap(t)),
        overdue: state == CreditTriggerState::Open && cc::filing_overdue(t, now),
        triggered_at: at,
        state,
        request_id: r.try_get("request_id")?,
        filer: r.try_get("filer")?,
        filer_name: r.try_get("filer_name")?,
        escalated_at: r.try_get("escalated_at")?,
        escalated_to: r.try_get("escalated_user")?,
        created_by: r.try_get("created_by")?,
        outcome: r.try_get("outcome")?,
    })
}

/// Who files the account's request: its KA manager, else its owner's manager.
pub(crate) async fn filer_of(conn: &mut sqlx::AnyConnection, account_id: i64) -> Result<Option<i64>> {
    Ok(sqlx::query(
        "SELECT COALESCE(a.ka_manager_id, o.manager_id) AS filer FROM accounts a \
         LEFT JOIN users o ON o.id = a.owner_id WHERE a.id = $1",
    )
    .bind(account_id)
    .fetch_optional(conn)
    .await?
    .map(|r| r.try_get::<Option<i64>, _>("filer"))
    .transpose()?
    .flatten())
}

/// Records a trigger for the account (inside the caller's transaction) and tells its filer.
/// At most one live (open or filed) trigger per account and kind: when one is live already,
/// nothing is recorded and the answer is `None`; else the new trigger's id. `note` is read by
/// the KA managers who file: no grade, limit or score in it.
pub async fn record(
    tx: &mut WriteTx,
    ctx: &Ctx,
    account_id: i64,
    kind: CreditTriggerKind,
    proposed_grade: Option<CreditGrade>,
    note: &str,
    now: DateTime<Utc>,
) -> Result<Option<i64>> {
    let live = sqlx::query(
        "SELECT id FROM credit_triggers WHERE account_id = $1 AND kind = $2 AND state IN ('open', 'filed') LIMIT 1",
    )
    .bind(account_id)
    .bind(kind.code())
    .fetch_optional(tx.conn())
    .await?;
    if live.is_some() {
        return Ok(None);
    }
    let name: String = sqlx::query("SELECT name FROM accounts WHERE id = $1")
        .bind(account_id)
        .fetch_optional(tx.conn())
        .await?
        .ok_or(Error::NotFound)?
        .try_get("name")?;
    let id: i64 = sqlx::query(
        "INSERT INTO credit_triggers (account_id, kind, proposed_grade, note, triggered_at, state, created_by) \
         VALUES ($1, $2, $3, $4, $5, 'open', $6) RETURNING id",
    )
    .bind(account_id)
    .bind(kind.code())
    .bind(proposed_grade.map(|g| g.code()))
    .bind(note.to_string())
    .bind(ts(now))
    .bind(ctx.caller.username.as_str())
    .fetch_one(tx.conn())
    .await?
    .try_get("id")?;
    audit::record(
        tx,
        ctx,
        "credit_trigger",
        &id.to_string(),
        "create",
        None,
        Some(&json!({"account_id": account_id, "kind": kind.code(), "proposed_grade": proposed_grade.map(|g| g.code()), "note": note, "triggered_at": ts(now)})),
    )
    .await?;
    if let Some(filer) = filer_of(tx.conn(), account_id).await? {
        let due = cc::file_by(now).format("%Y-%m-%d").to_string();
        notify::send(tx, &[filer], "credit_trigger", None, |loc| {
            (
                rust_i18n::t!("notify.credit_trigger.title", locale = loc, account = name).into_owned(),
                rust_i18n::t!("notify.credit_trigger.body", locale = loc, due = due).into_owned(),
            )
        })
        .await?;
    }
    Ok(Some(id))
}

/// A person's proposal of a credit review.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditProposalIn {
    #[schema(required = true, nullable = false)]
    pub account_id: Option<i64>,
    /// The grade proposed (`green`, `yellow`, `red`, `black`): only those who see credit; a KA
    /// manager proposes a review without one.
    #[schema(value_type = Option<String>, max_length = 20)]
    pub proposed_grade: Option<String>,
    /// Why (required): no grade, limit or score here, the KA managers read it.
    #[schema(required = true, nullable = false, min_length = 1, max_length = 1000)]
    pub note: Option<String>,
}

/// A person proposes a credit review of an account (a trigger of kind `proposal`): those who
/// see credit, with or without a proposed grade; a KA manager without one (a grade from them:
/// 403). The account out of scope: 404; another proposal still live: 409 `trigger_exists`.
pub async fn propose(db: &Db, ctx: &Ctx, inp: &CreditProposalIn, now: DateTime<Utc>) -> Result<CreditTriggerView> {
    let caller = &ctx.caller;
    let mut e = Errors::default();
    let note = e.take("note", text::required(inp.note.as_deref(), 1000));
    let grade = match inp.proposed_grade.as_deref().map(str::trim).filter(|g| !g.is_empty()) {
        None => None,
        Some(g) => e.take("proposed_grade", CreditGrade::parse(g)),
    };
    let account_id = inp.account_id.ok_or_else(|| Error::invalid("account_id", "required"))?;
    let mut tx = db.begin().await?;
    accounts::ensure_visible_in(tx.conn(), caller, account_id).await?;
    if !(caller.sees_credit() || caller.role == Role::KaManager) {
        return Err(Error::Forbidden);
    }
    if inp.proposed_grade.is_some() && !caller.sees_credit() {
        return Err(Error::Forbidden);
    }
    e.finish()?;
    let note = note.unwrap_or_default();
    let Some(id) = record(&mut tx, ctx, account_id, CreditTriggerKind::Proposal, grade, &note, now).await? else {
        return Err(Error::Conflict("trigger_exists"));
    };
    let r = sqlx::query(&format!("{TRIGGER_SELECT} WHERE t.id = $1")).bind(id).fetch_one(tx.conn()).await?;
    let v = trigger_view(&r, caller, now)?;
    tx.commit().await?;
    Ok(v)
}

/// The triggers waiting for the caller to file: open ones of accounts whose KA manager they
/// are (else whose owner's manager), and those escalated to them; oldest first.
pub async fn to_file(db: &Db, caller: &Caller, now: DateTime<Utc>) -> Result<Vec<CreditTriggerView>> {
    sqlx::query(&format!(
        "{TRIGGER_SELECT} WHERE t.state = 'open' AND (f.id = $1 OR t.escalated_to = $1) ORDER BY t.triggered_at, t.id LIMIT 500"
    ))
    .bind(caller.user_id)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|r| trigger_view(r, caller, now))
    .collect()
}

/// An account's triggers, newest first (the account in scope; those who see credit and KA
/// managers, else 403).
pub async fn of_account(
    db: &Db,
    caller: &Caller,
    account_id: i64,
    now: DateTime<Utc>,
) -> Result<Vec<CreditTriggerView>> {
    let mut conn = db.pool.acquire().await?;
    accounts::ensure_visible_in(&mut conn, caller, account_id).await?;
    if !caller.sees_credit() && caller.role != Role::KaManager {
        return Err(Error::Forbidden);
    }
    sqlx::query(&format!("{TRIGGER_SELECT} WHERE t.account_id = $1 ORDER BY t.id DESC LIMIT 200"))
        .bind(account_id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| trigger_view(r, caller, now))
        .collect()
}

/// The scheduler's pass: each open trigger past its 2 days is escalated to the KA director
/// once (claimed by a conditional update, however many servers run it), audited, the
/// director and the filer told. Returns how many were escalated.
pub async fn escalate_unfiled(db: &Db, now: DateTime<Utc>) -> Result<usize> {
    let system = Ctx::system();
    let before = ts(now - chrono::Duration::days(cc::FILE_WITHIN_DAYS));
    let rows = sqlx::query(
        "SELECT t.id, t.account_id, t.triggered_at, a.name FROM credit_triggers t JOIN accounts a ON a.id = t.account_id \
         WHERE t.state = 'open' AND t.escalated_at IS NULL AND t.triggered_at < $1 ORDER BY t.id LIMIT 1000",
    )
    .bind(before)
    .fetch_all(&db.pool)
    .await?;
    let mut n = 0;
    for r in rows {
        let (id, account_id, name): (i64, i64, String) =
            (r.try_get("id")?, r.try_get("account_id")?, r.try_get("name")?);
        let mut tx = db.begin().await?;
        let director: Option<i64> =
            sqlx::query("SELECT id FROM users WHERE role = 'ka_director' AND active = 1 ORDER BY id LIMIT 1")
                .fetch_optional(tx.conn())
                .await?
                .map(|r| r.try_get("id"))
                .transpose()?;
        let claimed = sqlx::query(
            "UPDATE credit_triggers SET escalated_at = $1, escalated_to = $2 WHERE id = $3 AND state = 'open' AND escalated_at IS NULL",
        )
        .bind(ts(now))
        .bind(director)
        .bind(id)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if claimed == 1 {
            let to_name: Option<String> = match director {
                None => None,
                Some(d) => sqlx::query("SELECT username FROM users WHERE id = $1")
                    .bind(d)
                    .fetch_optional(tx.conn())
                    .await?
                    .map(|r| r.try_get("username"))
                    .transpose()?,
            };
            audit::record(
                &mut tx,
                &system,
                "credit_trigger",
                &id.to_string(),
                "escalate",
                None,
                Some(&json!({"account_id": account_id, "to": to_name, "triggered_at": r.try_get::<String, _>("triggered_at")?})),
            )
            .await?;
            let mut to: Vec<i64> = director.into_iter().collect();
            to.extend(filer_of(tx.conn(), account_id).await?);
            notify::send(&mut tx, &to, "credit_trigger_escalated", None, |loc| {
                (
                    rust_i18n::t!("notify.credit_trigger_escalated.title", locale = loc, account = name).into_owned(),
                    rust_i18n::t!("notify.credit_trigger_escalated.body", locale = loc).into_owned(),
                )
            })
            .await?;
            n += 1;
        }
        tx.commit().await?;
    }
    Ok(n)
}
