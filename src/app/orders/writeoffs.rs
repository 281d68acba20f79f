//! Bad-debt write-offs (坏账核销; DOMAIN.md §12.3, issue 21): finance or a sales manager above
//! the owner proposes to write off part or all of what an open receivable still owes, with a
//! reason; the request runs through the approval flow `bad_debt_writeoff` (a finance manager
//! other than the proposer decides). While it is pending its amount is reserved (no second
//! write-off beyond what is owed; payments still come in). Approved, the receivable's
//! `written_off` grows and it is `written_off` once nothing is left; if payments meanwhile left
//! less owed than the request's amount, the approval fails with 409 `writeoff_beyond_outstanding`
//! and the request stays pending (rejected or withdrawn, nothing changes). Aging, the
//! statement and the collection worklist read `amount - paid - written_off` of open receivables,
//! so a written-off amount stops counting there at once. Every step is audited on the
//! receivable (`writeoff_request`, `writeoff`, `writeoff_closed`).
use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::app::approvals::{self, Closed, HookFuture, OutcomeHook, ScopeFuture, Subject, SubjectScope};
use crate::app::customers::accounts;
use crate::app::orders::collection::{self, CollectionContact};
use crate::app::orders::receivables::{self as rcv, ReceivableView, REC_SELECT};
use crate::app::records::audit;
use crate::app::{Caller, Ctx, Error, Result};
use crate::db::sql::Sql;
use crate::db::{now, Db, RowLock, WriteTx};
use crate::domain::approval::{Flow, State as ApprovalState};
use crate::domain::error::Errors;
use crate::domain::money::format_fen;
use crate::domain::text;
use crate::domain::writeoff::{self as wo, WriteoffState};

/// The approval subject kind of a write-off.
pub const KIND: &str = "writeoff";

/// A proposed write-off.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WriteoffIn {
    /// In yuan, above 0, at most what the receivable still owes less pending write-offs.
    #[serde(default)]
    #[schema(pattern = r"^\d{1,15}(\.\d{1,2})?$", value_type = String)]
    pub amount: Option<String>,
    /// Why it cannot be collected (required).
    #[serde(default)]
    #[schema(value_type = String)]
    pub reason: Option<String>,
}

/// A write-off and where its request stands.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WriteoffView {
    pub id: i64,
    pub receivable_id: i64,
    pub account_id: i64,
    pub account_name: String,
    pub order_id: i64,
    pub order_number: String,
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub amount: String,
    pub reason: String,
    pub state: WriteoffState,
    /// The `bad_debt_writeoff` request (`/api/v1/approvals/{id}`).
    pub approval_id: Option<i64>,
    /// Username of the proposer, and their name.
    pub requested_by: String,
    pub requested_by_name: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub closed_at: Option<String>,
}

const WO_SELECT: &str = "SELECT w.*, a.name AS account_name, d.number AS order_number, \
     COALESCE(u.display_name, w.requested_by) AS requester FROM writeoffs w JOIN accounts a ON a.id = w.account_id \
     JOIN orders d ON d.id = w.order_id LEFT JOIN users u ON u.username = w.requested_by";

fn view(r: &AnyRow) -> Result<WriteoffView> {
    Ok(WriteoffView {
        id: r.try_get("id")?,
        receivable_id: r.try_get("receivable_id")?,
        account_id: r.try_get("account_id")?,
        account_name: r.try_get("account_name")?,
        order_id: r.try_get("order_id")?,
        order_number: r.try_get("order_number")?,
        amount: format_fen(r.try_get("amount")?),
        reason: r.try_get("reason")?,
        state: r.try_get("state")?,
        approval_id: r.try_get("approval_id")?,
        requested_by: r.try_get("requested_by")?,
        requested_by_name: r.try_get("requester")?,
        created_at: r.try_get("created_at")?,
        closed_at: r.try_get("closed_at")?,
    })
}

async fn one(conn: &mut sqlx::AnyConnection, id: i64) -> Result<WriteoffView> {
    view(&sqlx::query(&format!("{WO_SELECT} WHERE w.id = $1")).bind(id).fetch_one(conn).await?)
}

/// The receivable in the caller's scope (its account's), or not found.
async fn receivable_scoped(conn: &mut sqlx::AnyConnection, caller: &Caller, id: i64) -> Result<AnyRow> {
    let mut s = Sql::new(
        "SELECT r.id, r.account_id, r.order_id, r.owner_id, r.state, r.amount, r.paid, r.written_off, \
         a.name AS account_name, a.region_id, a.branch_id, d.number AS order_number FROM receivables r \
         JOIN accounts a ON a.id = r.account_id JOIN orders d ON d.id = r.order_id WHERE r.id = ",
    );
    s.bind(id);
    accounts::push_scope_one(&mut s, caller);
    s.query().fetch_optional(conn).await?.ok_or(Error::NotFound)
}

async fn reserved(conn: &mut sqlx::AnyConnection, receivable_id: i64) -> Result<i64> {
    Ok(sqlx::query(
        "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS s FROM writeoffs WHERE receivable_id = $1 AND state = 'pending'",
    )
    .bind(receivable_id)
    .fetch_one(conn)
    .await?
    .try_get("s")?)
}

/// Proposes a write-off of an open receivable: the receivable in scope (else 404), the caller
/// finance or a sales manager (else 403), the amount above 0 and at most what is owed less
/// pending write-offs (else 422 `amount`), a reason; starts the `bad_debt_writeoff` request.
pub async fn propose(db: &Db, ctx: &Ctx, receivable_id: i64, inp: &WriteoffIn) -> Result<WriteoffView> {
    let caller = &ctx.caller;
    let mut e = Errors::default();
    let amount = rcv::money(&mut e, "amount", inp.amount.as_deref(), true);
    let reason = e.take("reason", text::required(inp.reason.as_deref(), 1000));
    let mut tx = db.begin().await?;
    receivable_scoped(tx.conn(), caller, receivable_id).await?;
    if !wo::may_propose(caller.role) {
        return Err(Error::Forbidden);
    }
    e.finish()?;
    let (amount, reason) = (amount.unwrap_or(0), reason.unwrap_or_default());
    let lock = tx.lock_clause(RowLock::Update);
    sqlx::query(&format!("SELECT id FROM receivables WHERE id = $1{lock}"))
        .bind(receivable_id)
        .fetch_one(tx.conn())
        .await?;
    let r = receivable_scoped(tx.conn(), caller, receivable_id).await?;
    if r.try_get::<String, _>("state")? != "open" {
        return Err(Error::Conflict("receivable_not_open"));
    }
    let owes: i64 =
        r.try_get::<i64, _>("amount")? - r.try_get::<i64, _>("paid")? - r.try_get::<i64, _>("written_off")?;
    let held = reserved(tx.conn(), receivable_id).await?;
    wo::check_amount(amount, owes, held).map_err(|c| Error::invalid("amount", c))?;
    let at = now();
    let (account, order): (i64, i64) = (r.try_get("account_id")?, r.try_get("order_id")?);
    let id: i64 = sqlx::query(
        "INSERT INTO writeoffs (receivable_id, account_id, order_id, amount, reason, state, requested_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7) RETURNING id",
    )
    .bind(receivable_id)
    .bind(account)
    .bind(order)
    .bind(amount)
    .bind(reason.clone())
    .bind(caller.username.as_str())
    .bind(at)
    .fetch_one(tx.conn())
    .await?
    .try_get("id")?;
    let subject = Subject {
        kind: KIND,
        id,
        label: format!(
            "{} · {} · ¥{}",
            r.try_get::<String, _>("order_number")?,
            r.try_get::<String, _>("account_name")?,
            format_fen(amount)
        ),
        region_id: r.try_get("region_id")?,
        branch_id: r.try_get("branch_id")?,
        owner_id: r.try_get("owner_id")?,
        figure: None,
        class: None,
    };
    let decisive = json!({"receivable_id": receivable_id, "amount": format_fen(amount)});
    let payload = json!({"receivable_id": receivable_id, "amount": format_fen(amount), "reason": reason});
    let aid = approvals::start(&mut tx, ctx, Flow::BadDebtWriteoff, &subject, &decisive, &payload, Utc::now()).await?;
    sqlx::query("UPDATE writeoffs SET approval_id = $1 WHERE id = $2").bind(aid).bind(id).execute(tx.conn()).await?;
    audit::record(
        &mut tx,
        ctx,
        "receivable",
        &receivable_id.to_string(),
        "writeoff_request",
        None,
        Some(&json!({"writeoff": id, "approval_id": aid, "amount": format_fen(amount), "reason": reason, "outstanding": format_fen(owes)})),
    )
    .await?;
    let v = one(tx.conn(), id).await?;
    tx.commit().await?;
    Ok(v)
}

/// An account's write-offs, newest first (the account in scope).
pub async fn of_account(db: &Db, caller: &Caller, account_id: i64) -> Result<Vec<WriteoffView>> {
    let mut conn = db.pool.acquire().await?;
    accounts::ensure_visible_in(&mut conn, caller, account_id).await?;
    sqlx::query(&format!("{WO_SELECT} WHERE w.account_id = $1 ORDER BY w.id DESC LIMIT 500"))
        .bind(account_id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(view)
        .collect()
}

/// What the approval page shows of a write-off: the request, the receivable whole (due date,
/// amount, paid, days overdue), the order and account, and the collection contacts so far.
#[derive(Debug, Clone, Serialize)]
pub struct WriteoffSubject {
    pub writeoff: WriteoffView,
    pub receivable: ReceivableView,
    pub contacts: Vec<CollectionContact>,
    /// What pending write-offs of this receivable reserve (this one included).
    pub reserved: String,
}

/// The write-off a request asks about, for its approval page (the request seen already).
pub async fn for_approval(db: &Db, caller: &Caller, approval_id: i64, today: NaiveDate) -> Result<WriteoffSubject> {
    let mut conn = db.pool.acquire().await?;
    let r = sqlx::query(&format!("{WO_SELECT} WHERE w.approval_id = $1"))
        .bind(approval_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(Error::NotFound)?;
    let writeoff = view(&r)?;
    let rec = sqlx::query(&format!("{REC_SELECT} WHERE r.id = $1"))
        .bind(writeoff.receivable_id)
        .fetch_one(&mut *conn)
        .await?;
    let receivable = rcv::rec_view(&rec, today)?;
    let held = reserved(&mut conn, writeoff.receivable_id).await?;
    drop(conn);
    let contacts = match collection::contacts(db, caller, writeoff.receivable_id, today).await {
        Ok(c) => c,
        Err(Error::NotFound) => vec![],
        Err(e) => return Err(e),
    };
    Ok(WriteoffSubject { writeoff, receivable, contacts, reserved: format_fen(held) })
}

// ---------------------------------------------------------------------------------------------
// The approval engine's side

/// A write-off request closed: approved, the receivable's `written_off` grows by the amount
/// (written off when nothing is left); any other outcome only closes the write-off.
fn on_closed<'a>(tx: &'a mut WriteTx, ctx: &'a Ctx, c: Closed<'a>) -> HookFuture<'a> {
    Box::pin(async move {
        let w =
            sqlx::query("SELECT id, receivable_id, account_id, amount, state FROM writeoffs WHERE approval_id = $1")
                .bind(c.approval_id)
                .fetch_optional(tx.conn())
                .await?;
        let Some(w) = w else { return Ok(()) };
        if w.try_get::<String, _>("state")? != "pending" {
            return Ok(());
        }
        let (wid, rid, amount): (i64, i64, i64) = (w.try_get("id")?, w.try_get("receivable_id")?, w.try_get("amount")?);
        let account: i64 = w.try_get("account_id")?;
        let at = now();
        let state = match c.state {
            ApprovalState::Approved => WriteoffState::Approved,
            ApprovalState::Rejected => WriteoffState::Rejected,
            ApprovalState::Returned => WriteoffState::Returned,
            _ => WriteoffState::Cancelled,
        };
        let mut before = json!({"writeoff": wid, "state": "pending"});
        let mut after =
            json!({"writeoff": wid, "state": state.code(), "approval_id": c.approval_id, "amount": format_fen(amount)});
        if state == WriteoffState::Approved {
            let lock = tx.lock_clause(RowLock::Update);
            let r =
                sqlx::query(&format!("SELECT amount, paid, written_off, state FROM receivables WHERE id = $1{lock}"))
                    .bind(rid)
                    .fetch_one(tx.conn())
                    .await?;
            let (a, p, off): (i64, i64, i64) = (r.try_get("amount")?, r.try_get("paid")?, r.try_get("written_off")?);
            let rstate: String = r.try_get("state")?;
            // Payments came in meanwhile: the request asks more than is owed now.
            if rstate != "open" || amount > a - p - off {
                return Err(Error::Conflict("writeoff_beyond_outstanding"));
            }
            let gone = a - p - off - amount == 0;
            sqlx::query(
                "UPDATE receivables SET written_off = written_off + $1, version = version + 1, updated_at = $2, \
                 state = CASE WHEN $3 = 1 THEN 'written_off' ELSE state END WHERE id = $4",
            )
            .bind(amount)
            .bind(at.clone())
            .bind(i64::from(gone))
            .bind(rid)
            .execute(tx.conn())
            .await?;
            crate::app::orders::aging_summary::touch(tx, account).await?;
            before = json!({"writeoff": wid, "state": "pending", "written_off": format_fen(off), "receivable_state": rstate});
            after["written_off"] = json!(format_fen(off + amount));
            after["receivable_state"] = json!(if gone { "written_off" } else { "open" });
        }
        sqlx::query("UPDATE writeoffs SET state = $1, closed_at = $2 WHERE id = $3")
            .bind(state.code())
            .bind(at)
            .bind(wid)
            .execute(tx.conn())
            .await?;
        let action = if state == WriteoffState::Approved { "writeoff" } else { "writeoff_closed" };
        audit::record(tx, ctx, "receivable", &rid.to_string(), action, Some(&before), Some(&after)).await?;
        Ok(())
    })
}

inventory::submit! { OutcomeHook { flow: Flow::BadDebtWriteoff, run: on_closed } }

/// Whoever sees the receivable's account sees its write-off requests.
fn sees_writeoff<'a>(conn: &'a mut sqlx::AnyConnection, caller: &'a Caller, id: i64) -> ScopeFuture<'a> {
    Box::pin(approvals::sees_account_of(conn, caller, "SELECT account_id FROM writeoffs WHERE id = $1", id))
}

inventory::submit! { SubjectScope { kind: KIND, sees: sees_writeoff } }
