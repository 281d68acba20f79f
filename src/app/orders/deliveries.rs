//! Delivery (出库单, 发货, 到货, 验收; DOMAIN.md §12.2, issue 21): outbounds against a signed
//! order, their steps, the order's delivery and acceptance events, and the logistics worklist.
//!
//! An outbound sends quantities of the lines of the order's version in force (partial
//! deliveries allowed; never more of a line than is left of it once every outbound that is not
//! cancelled is counted). It is `prepared` (by logistics or the order's sales roles), `shipped`
//! (carrier, waybill, day), `delivered` (day) and `accepted` by the customer (验收: day, note, and
//! the acceptance document as an attachment of the outbound); a prepared one may be cancelled
//! with a reason. Every step is versioned and audited on the order (`outbound`, `shipped`,
//! `delivered`, `accepted`, `outbound_cancel`).
//!
//! Events for the receivables (`receivables::event_happened`, in the step's transaction):
//! - **delivery**: the first outbound recorded as delivered; its day is that outbound's
//!   `delivered_on`, and stays the order's delivery day.
//! - **acceptance**: the step that leaves every line of the version in force delivered and
//!   accepted in full; its day is the latest `accepted_on` among the order's accepted outbounds.
//!
//! Both are kept in `order_fulfilment` with the counts of lines not yet planned, delivered and
//! accepted, refreshed by every step and by every signing (a new version may order more), so
//! `receivables::event_day` finds them for a re-signed order.
use crate::app::records::files::Storage;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::app::customers::accounts;
use crate::app::orders::receivables;
use crate::app::records::attachments::{self, Attachment, FileIn};
use crate::app::records::audit;
use crate::app::{Caller, Ctx, Error, Result};
use crate::db::sql::Sql;
use crate::db::{now, Db, RowLock, WriteTx};
use crate::domain::delivery::{self as d, LineLeft, OutboundState};
use crate::domain::error::Errors;
use crate::domain::money::format_fen;
use crate::domain::order::DueEvent;
use crate::domain::quote::{format_quantity, parse_quantity};
use crate::domain::receivable::CreditStage;
use crate::domain::role::Role;
use crate::domain::text;

/// The subject kind of an outbound's files and of nothing else (its steps are audited on the
/// order).
pub const OUTBOUND: &str = "outbound";

// ---------------------------------------------------------------------------------------------
// Views

/// One line of an outbound.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OutboundLineView {
    /// The order line's position (as in the order's `lines`).
    pub position: i64,
    pub description: String,
    pub unit: String,
    pub quantity: String,
}

/// An outbound (出库单).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OutboundView {
    pub id: i64,
    /// `CK<year>-<id>`.
    pub number: String,
    pub order_id: i64,
    pub order_number: String,
    /// The order's signed version it was prepared against.
    pub order_version: i64,
    pub state: OutboundState,
    pub note: Option<String>,
    pub carrier: Option<String>,
    pub waybill: Option<String>,
    #[schema(format = Date)]
    pub shipped_on: Option<String>,
    #[schema(format = Date)]
    pub delivered_on: Option<String>,
    #[schema(format = Date)]
    pub accepted_on: Option<String>,
    pub acceptance_note: Option<String>,
    pub cancel_reason: Option<String>,
    pub lines: Vec<OutboundLineView>,
    /// Its files (the acceptance document, 验收单), oldest first.
    pub files: Vec<Attachment>,
    /// The row version for its next step.
    pub version: i64,
    pub created_by: String,
    pub created_by_name: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// One line of the order as delivery sees it (the version in force).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeliveryLineView {
    pub position: i64,
    pub description: String,
    pub unit: String,
    pub ordered: String,
    /// On outbounds that are not cancelled (prepared, shipped, delivered, accepted).
    pub outbound: String,
    pub delivered: String,
    pub accepted: String,
    /// What may still go on an outbound.
    pub left: String,
}

/// An order's delivery: its lines' progress, its outbounds, its events and lateness.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrderDelivery {
    pub order_id: i64,
    /// The version in force (null until the order is signed: nothing to deliver yet).
    pub signed_version: Option<i64>,
    #[schema(format = Date)]
    pub requested_delivery: Option<String>,
    /// The order's delivery event: the day of the first delivery recorded.
    #[schema(format = Date)]
    pub delivered_on: Option<String>,
    /// The order's acceptance event: the day every line was delivered and accepted in full.
    #[schema(format = Date)]
    pub accepted_on: Option<String>,
    /// Every line delivered in full.
    pub delivered_in_full: bool,
    /// Days past the requested delivery without every line delivered (null when not late).
    pub days_late: Option<i64>,
    /// A new outbound may be prepared (signed, not cancelled, something left).
    pub may_prepare: bool,
    pub lines: Vec<DeliveryLineView>,
    /// Newest first.
    pub outbounds: Vec<OutboundView>,
}

// ---------------------------------------------------------------------------------------------
// Who

/// The order in the caller's scope: (account, number, state, signed version, requested delivery).
async fn order_scoped(conn: &mut sqlx::AnyConnection, caller: &Caller, order_id: i64) -> Result<AnyRow> {
    let mut s = Sql::new(
        "SELECT d.id, d.account_id, d.number, d.state, d.signed_version, d.requested_delivery, \
         v.requested_delivery AS signed_delivery FROM orders d JOIN accounts a ON a.id = d.account_id \
         LEFT JOIN order_versions v ON v.order_id = d.id AND v.version_no = d.signed_version WHERE d.id = ",
    );
    s.bind(order_id);
    accounts::push_scope_one(&mut s, caller);
    s.query().fetch_optional(&mut *conn).await?.ok_or(Error::NotFound)
}

/// Who prepares and moves outbounds: logistics, or a sales role that sees the order's account
/// (the order in scope already). Finance and the others read.
fn may_deliver(caller: &Caller) -> Result<()> {
    if caller.role == Role::LogisticsManager || caller.role.edits_accounts() {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

/// Whether the caller may prepare and move this order's outbounds (the pages' forms).
pub async fn may_write(db: &Db, caller: &Caller, order_id: i64) -> Result<bool> {
    let mut conn = db.pool.acquire().await?;
    order_scoped(&mut conn, caller, order_id).await?;
    Ok(may_deliver(caller).is_ok())
}

fn day_of(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.get(..10).unwrap_or(s), "%Y-%m-%d").ok()
}

fn today_of(caller: &Caller) -> NaiveDate {
    day_of(&caller.today()).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Reading

const OUTBOUND_SELECT: &str =
    "SELECT o.*, d.number AS order_number, COALESCE(u.display_name, o.created_by) AS creator \
     FROM outbounds o JOIN orders d ON d.id = o.order_id LEFT JOIN users u ON u.username = o.created_by";

async fn outbound_view(conn: &mut sqlx::AnyConnection, r: &AnyRow) -> Result<OutboundView> {
    let id: i64 = r.try_get("id")?;
    let lines = sqlx::query("SELECT * FROM outbound_lines WHERE outbound_id = $1 ORDER BY position")
        .bind(id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|l| {
            Ok(OutboundLineView {
                position: l.try_get("position")?,
                description: l.try_get("description")?,
                unit: l.try_get("unit")?,
                quantity: format_quantity(l.try_get("quantity")?),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let state: OutboundState = r.try_get("state")?;
    let mut files = attachments::of(conn, OUTBOUND, id).await?;
    for f in &mut files {
        f.removable = !matches!(state, OutboundState::Accepted | OutboundState::Cancelled);
    }
    Ok(OutboundView {
        id,
        number: r.try_get("number")?,
        order_id: r.try_get("order_id")?,
        order_number: r.try_get("order_number")?,
        order_version: r.try_get("order_version")?,
        state,
        note: r.try_get("note")?,
        carrier: r.try_get("carrier")?,
        waybill: r.try_get("waybill")?,
        shipped_on: r.try_get("shipped_on")?,
        delivered_on: r.try_get("delivered_on")?,
        accepted_on: r.try_get("accepted_on")?,
        acceptance_note: r.try_get("acceptance_note")?,
        cancel_reason: r.try_get("cancel_reason")?,
        lines,
        files,
        version: r.try_get("version")?,
        created_by: r.try_get("created_by")?,
        created_by_name: r.try_get("creator")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// The order's lines in force with what went out, arrived and was accepted of each:
/// (position, description, unit, ordered, outbound, delivered, accepted).
type LineSums = (i64, String, String, i64, i64, i64, i64);

async fn line_sums(conn: &mut sqlx::AnyConnection, order_id: i64) -> Result<Vec<LineSums>> {
    let lines = sqlx::query(
        "SELECT l.position, l.description, l.unit, l.quantity FROM order_lines l JOIN order_versions v ON v.id = l.version_id \
         JOIN orders d ON d.id = v.order_id AND v.version_no = d.signed_version WHERE d.id = $1 ORDER BY l.position",
    )
    .bind(order_id)
    .fetch_all(&mut *conn)
    .await?;
    let sums = sqlx::query(
        "SELECT l.position, o.state, CAST(SUM(l.quantity) AS BIGINT) AS q FROM outbound_lines l \
         JOIN outbounds o ON o.id = l.outbound_id WHERE o.order_id = $1 AND o.state <> 'cancelled' \
         GROUP BY l.position, o.state",
    )
    .bind(order_id)
    .fetch_all(&mut *conn)
    .await?;
    let returned = super::returns::returned_by_line(&mut *conn, order_id).await?;
    let mut out = vec![];
    for l in &lines {
        let pos: i64 = l.try_get("position")?;
        let (mut outb, mut dlv, mut acc) = (0, 0, 0);
        for s in &sums {
            if s.try_get::<i64, _>("position")? != pos {
                continue;
            }
            let st: OutboundState = s.try_get("state")?;
            let q: i64 = s.try_get("q")?;
            outb += q;
            if st.arrived() {
                dlv += q;
            }
            if st == OutboundState::Accepted {
                acc += q;
            }
        }
        // Returned goods (退货, §12.3) leave the order: counted neither as ordered nor as sent.
        let back: i64 = returned.iter().filter(|(p, _)| *p == pos).map(|(_, q)| q).sum();
        let ordered: i64 = l.try_get("quantity")?;
        let dlv = dlv - back;
        out.push((pos, l.try_get("description")?, l.try_get("unit")?, ordered - back, outb - back, dlv, acc.min(dlv)));
    }
    Ok(out)
}

/// An order's delivery (the order in scope).
pub async fn of_order(db: &Db, caller: &Caller, order_id: i64) -> Result<OrderDelivery> {
    let mut conn = db.pool.acquire().await?;
    let o = order_scoped(&mut conn, caller, order_id).await?;
    delivery_view(&mut conn, &o, today_of(caller)).await
}

async fn delivery_view(conn: &mut sqlx::AnyConnection, o: &AnyRow, today: NaiveDate) -> Result<OrderDelivery> {
    let order_id: i64 = o.try_get("id")?;
    let signed: Option<i64> = o.try_get("signed_version")?;
    let cancelled = o.try_get::<String, _>("state")? == "cancelled";
    let sums = if signed.is_some() { line_sums(conn, order_id).await? } else { vec![] };
    let p = d::progress(&sums.iter().map(|s| (s.3, s.4, s.5, s.6)).collect::<Vec<_>>());
    let f = sqlx::query("SELECT delivered_on, accepted_on FROM order_fulfilment WHERE order_id = $1")
        .bind(order_id)
        .fetch_optional(&mut *conn)
        .await?;
    let (delivered_on, accepted_on): (Option<String>, Option<String>) = match &f {
        Some(r) => (r.try_get("delivered_on")?, r.try_get("accepted_on")?),
        None => (None, None),
    };
    let requested: Option<String> =
        o.try_get::<Option<String>, _>("signed_delivery")?.or(o.try_get("requested_delivery")?);
    let open = signed.is_some() && !cancelled && p.undelivered > 0;
    let rows = sqlx::query(&format!("{OUTBOUND_SELECT} WHERE o.order_id = $1 ORDER BY o.id DESC"))
        .bind(order_id)
        .fetch_all(&mut *conn)
        .await?;
    let mut outbounds = vec![];
    for r in &rows {
        outbounds.push(outbound_view(conn, r).await?);
    }
    Ok(OrderDelivery {
        order_id,
        signed_version: signed,
        days_late: d::days_late(requested.as_deref().and_then(day_of), today, open),
        requested_delivery: requested,
        delivered_on,
        accepted_on,
        delivered_in_full: signed.is_some() && p.undelivered == 0,
        may_prepare: signed.is_some() && !cancelled && p.unplanned > 0,
        lines: sums
            .into_iter()
            .map(|(position, description, unit, ordered, outb, dlv, acc)| DeliveryLineView {
                position,
                description,
                unit,
                ordered: format_quantity(ordered),
                outbound: format_quantity(outb),
                delivered: format_quantity(dlv),
                accepted: format_quantity(acc),
                left: format_quantity((ordered - outb).max(0)),
            })
            .collect(),
        outbounds,
    })
}

/// The outbound in the caller's scope (its order's), or not found.
async fn outbound_scoped(conn: &mut sqlx::AnyConnection, caller: &Caller, id: i64) -> Result<AnyRow> {
    let mut s = Sql::new(&format!("{OUTBOUND_SELECT} JOIN accounts a ON a.id = d.account_id WHERE o.id = "));
    s.bind(id);
    accounts::push_scope_one(&mut s, caller);
    s.query().fetch_optional(&mut *conn).await?.ok_or(Error::NotFound)
}

/// One outbound (its order in scope).
pub async fn get(db: &Db, caller: &Caller, id: i64) -> Result<OutboundView> {
    let mut conn = db.pool.acquire().await?;
    let r = outbound_scoped(&mut conn, caller, id).await?;
    outbound_view(&mut conn, &r).await
}

/// The order an outbound belongs to (in scope): where its page is.
pub async fn order_of(db: &Db, caller: &Caller, id: i64) -> Result<i64> {
    let mut conn = db.pool.acquire().await?;
    Ok(outbound_scoped(&mut conn, caller, id).await?.try_get("order_id")?)
}

// ---------------------------------------------------------------------------------------------
// The order's progress and events

/// Recomputes the order's `order_fulfilment` row against its version in force and returns
/// (delivery day, acceptance day) before and after. The delivery day, once set, stays; the
/// acceptance day holds while every line is accepted in full.
async fn refresh(
    tx: &mut WriteTx,
    order_id: i64,
) -> Result<((Option<String>, Option<String>), (Option<String>, Option<String>))> {
    let o = sqlx::query("SELECT state, signed_version FROM orders WHERE id = $1")
        .bind(order_id)
        .fetch_one(tx.conn())
        .await?;
    let before = sqlx::query("SELECT delivered_on, accepted_on FROM order_fulfilment WHERE order_id = $1")
        .bind(order_id)
        .fetch_optional(tx.conn())
        .await?;
    let before: (Option<String>, Option<String>) = match &before {
        Some(r) => (r.try_get("delivered_on")?, r.try_get("accepted_on")?),
        None => (None, None),
    };
    let Some(signed) = o.try_get::<Option<i64>, _>("signed_version")? else { return Ok((before.clone(), before)) };
    let cancelled = o.try_get::<String, _>("state")? == "cancelled";
    let sums = line_sums(tx.conn(), order_id).await?;
    let p = d::progress(&sums.iter().map(|s| (s.3, s.4, s.5, s.6)).collect::<Vec<_>>());
    let delivered_on = match before.0.clone() {
        Some(x) => Some(x),
        None => sqlx::query(
            "SELECT delivered_on FROM outbounds WHERE order_id = $1 AND state IN ('delivered', 'accepted') \
             ORDER BY delivered_at, id LIMIT 1",
        )
        .bind(order_id)
        .fetch_optional(tx.conn())
        .await?
        .map(|r| r.try_get::<String, _>("delivered_on"))
        .transpose()?,
    };
    let accepted_on = if p.lines > 0 && p.unaccepted == 0 {
        match before.1.clone() {
            Some(x) => Some(x),
            None => {
                sqlx::query("SELECT MAX(accepted_on) AS d FROM outbounds WHERE order_id = $1 AND state = 'accepted'")
                    .bind(order_id)
                    .fetch_one(tx.conn())
                    .await?
                    .try_get::<Option<String>, _>("d")?
            }
        }
    } else {
        None
    };
    let open = i64::from(!cancelled && p.undelivered > 0);
    sqlx::query("DELETE FROM order_fulfilment WHERE order_id = $1").bind(order_id).execute(tx.conn()).await?;
    sqlx::query(
        "INSERT INTO order_fulfilment (order_id, version_no, line_count, lines_unplanned, lines_undelivered, \
         lines_unaccepted, open, delivered_on, accepted_on, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(order_id)
    .bind(signed)
    .bind(p.lines)
    .bind(p.unplanned)
    .bind(p.undelivered)
    .bind(p.unaccepted)
    .bind(open)
    .bind(delivered_on.clone())
    .bind(accepted_on.clone())
    .bind(now())
    .execute(tx.conn())
    .await?;
    Ok((before, (delivered_on, accepted_on)))
}

/// A version was signed (in the signing's transaction, before its receivables are planned):
/// the order's progress is counted against it again.
pub(crate) async fn on_signed(tx: &mut WriteTx, order_id: i64) -> Result<()> {
    refresh(tx, order_id).await.map(|_| ())
}

/// After a step: the progress again, and the events that have just happened make the
/// installments counting from them fall due.
async fn after_step(tx: &mut WriteTx, order_id: i64) -> Result<()> {
    let (before, after) = refresh(tx, order_id).await?;
    if let (None, Some(day)) = (&before.0, after.0.as_deref().and_then(day_of)) {
        receivables::event_happened(tx, order_id, DueEvent::Delivery, day).await?;
    }
    if let (None, Some(day)) = (&before.1, after.1.as_deref().and_then(day_of)) {
        receivables::event_happened(tx, order_id, DueEvent::Acceptance, day).await?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Writing

/// One line of a new outbound: the order line's position and how much of it goes.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutboundLineIn {
    /// The order line's position (as in the order's `lines`).
    pub position: i64,
    /// In the line's unit, up to three decimals; `0` leaves the line out.
    #[schema(example = "2")]
    pub quantity: String,
}

/// A new outbound (出库单).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutboundIn {
    #[serde(default)]
    #[schema(max_items = 500)]
    pub lines: Vec<OutboundLineIn>,
    #[serde(default)]
    pub note: Option<String>,
}

/// Prepares an outbound against a signed order: each line at most what is left of it (every
/// outbound not cancelled counted), at least one above 0.
pub async fn prepare(db: &Db, ctx: &Ctx, order_id: i64, inp: &OutboundIn) -> Result<OutboundView> {
    let caller = &ctx.caller;
    let mut e = Errors::default();
    let note = e.take("note", text::optional(inp.note.as_deref(), 1000)).flatten();
    let mut given = vec![];
    for (i, l) in inp.lines.iter().enumerate() {
        let t = l.quantity.trim();
        if t.chars().all(|c| c == '0' || c == '.') && !t.is_empty() {
            given.push((l.position, 0));
            continue;
        }
        match parse_quantity(t) {
            Ok(q) => given.push((l.position, q)),
            Err(c) => e.add(&format!("lines[{i}].quantity"), c),
        }
    }
    e.finish()?;
    let mut tx = db.begin().await?;
    order_scoped(tx.conn(), caller, order_id).await?;
    may_deliver(caller)?;
    let lock = tx.lock_clause(RowLock::Update);
    sqlx::query(&format!("SELECT id FROM orders WHERE id = $1{lock}")).bind(order_id).fetch_one(tx.conn()).await?;
    // Read again under the lock: a step or a signing that committed meanwhile is seen.
    let o = order_scoped(tx.conn(), caller, order_id).await?;
    if o.try_get::<String, _>("state")? == "cancelled" {
        return Err(Error::Conflict("order_cancelled"));
    }
    let Some(signed) = o.try_get::<Option<i64>, _>("signed_version")? else {
        return Err(Error::Conflict("order_not_signed"));
    };
    // A held order is not prepared (DOMAIN.md §12.5).
    crate::app::orders::holds::ensure_clear(tx.conn(), o.try_get("account_id")?, Some(order_id)).await?;
    // The credit check at delivery: an order it holds is not prepared; the hold is kept.
    if crate::app::orders::credit_check::check(&mut tx, ctx, order_id, CreditStage::Delivery).await?.is_some() {
        tx.commit().await?;
        return Err(Error::Conflict("held_for_credit"));
    }
    let sums = line_sums(tx.conn(), order_id).await?;
    let left: Vec<LineLeft> = sums.iter().map(|s| LineLeft { position: s.0, ordered: s.3, outbound: s.4 }).collect();
    let why = d::check_lines(&given, &left);
    if !why.is_empty() {
        let mut e = Errors::default();
        for (f, c) in why {
            e.add(&f, c);
        }
        e.finish()?;
    }
    let at = now();
    let id: i64 = sqlx::query(
        "INSERT INTO outbounds (number, order_id, order_version, state, note, version, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, 'prepared', $4, 1, $5, $6, $6) RETURNING id",
    )
    .bind(format!("tmp-{}-{}", ctx.request_id, at))
    .bind(order_id)
    .bind(signed)
    .bind(note.clone())
    .bind(caller.username.as_str())
    .bind(at.clone())
    .fetch_one(tx.conn())
    .await?
    .try_get("id")?;
    let number = format!("CK{}-{:06}", &caller.today()[..4], id);
    sqlx::query("UPDATE outbounds SET number = $1 WHERE id = $2")
        .bind(number.clone())
        .bind(id)
        .execute(tx.conn())
        .await?;
    let mut written = vec![];
    for (pos, qty) in given.iter().filter(|(_, q)| *q > 0) {
        let s = sums.iter().find(|s| s.0 == *pos).ok_or(Error::NotFound)?;
        sqlx::query(
            "INSERT INTO outbound_lines (outbound_id, position, description, unit, quantity) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(*pos)
        .bind(s.1.clone())
        .bind(s.2.clone())
        .bind(*qty)
        .execute(tx.conn())
        .await?;
        written.push(json!({"position": pos, "description": s.1, "quantity": format_quantity(*qty)}));
    }
    after_step(&mut tx, order_id).await?;
    let after = json!({"outbound": number, "outbound_state": "prepared", "lines": written, "note": note});
    audit::record(&mut tx, ctx, "order", &order_id.to_string(), "outbound", None, Some(&after)).await?;
    let r = sqlx::query(&format!("{OUTBOUND_SELECT} WHERE o.id = $1")).bind(id).fetch_one(tx.conn()).await?;
    let v = outbound_view(tx.conn(), &r).await?;
    tx.commit().await?;
    Ok(v)
}

/// Ship: the carrier (required), the waybill and the day it left.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipIn {
    /// The outbound's row version the caller saw.
    pub version: i64,
    #[serde(default)]
    #[schema(value_type = String)]
    pub carrier: Option<String>,
    /// The waybill number (运单号).
    #[serde(default)]
    pub waybill: Option<String>,
    #[serde(default)]
    #[schema(format = Date, value_type = String)]
    pub shipped_on: Option<String>,
}

/// Delivered: the day the goods arrived.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliverIn {
    pub version: i64,
    #[serde(default)]
    #[schema(format = Date, value_type = String)]
    pub delivered_on: Option<String>,
}

/// Accepted by the customer (验收): the day and a note; the acceptance document is the
/// outbound's attachment.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptIn {
    pub version: i64,
    #[serde(default)]
    #[schema(format = Date, value_type = String)]
    pub accepted_on: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

/// Cancel a prepared outbound: why.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutboundCancelIn {
    pub version: i64,
    #[serde(default)]
    #[schema(value_type = String)]
    pub reason: Option<String>,
}

fn date(e: &mut Errors, field: &str, v: Option<&str>, today: NaiveDate) -> Option<NaiveDate> {
    match v.map(str::trim).filter(|v| !v.is_empty()) {
        None => {
            e.add(field, "required");
            None
        }
        Some(v) => match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
            Ok(d) if d > today => {
                e.add(field, "date_in_future");
                None
            }
            Ok(d) => Some(d),
            Err(_) => {
                e.add(field, "date_format");
                None
            }
        },
    }
}

/// Takes the outbound for a step: in scope, the caller may deliver, its order locked, the row
/// version as seen, in the state the step moves from.
async fn lock(tx: &mut WriteTx, caller: &Caller, id: i64, version: i64, from: OutboundState) -> Result<AnyRow> {
    let r = outbound_scoped(tx.conn(), caller, id).await?;
    may_deliver(caller)?;
    let order_id: i64 = r.try_get("order_id")?;
    let lock = tx.lock_clause(RowLock::Update);
    sqlx::query(&format!("SELECT id FROM orders WHERE id = $1{lock}")).bind(order_id).fetch_one(tx.conn()).await?;
    let r = sqlx::query(&format!("{OUTBOUND_SELECT} WHERE o.id = $1")).bind(id).fetch_one(tx.conn()).await?;
    let current: i64 = r.try_get("version")?;
    if current != version {
        return Err(Error::StaleVersion { current });
    }
    if r.try_get::<OutboundState, _>("state")? != from {
        return Err(Error::Conflict("outbound_state"));
    }
    Ok(r)
}

/// Writes a step's columns over the row version and audits it on the order.
#[allow(clippy::too_many_arguments)]
async fn step(
    tx: &mut WriteTx,
    ctx: &Ctx,
    r: &AnyRow,
    to: OutboundState,
    set: &[(&str, Option<String>)],
    action: &str,
) -> Result<OutboundView> {
    let id: i64 = r.try_get("id")?;
    let order_id: i64 = r.try_get("order_id")?;
    let from: OutboundState = r.try_get("state")?;
    let at = now();
    let mut s = Sql::new("UPDATE outbounds SET state = ");
    s.bind(to.code().to_string());
    for (col, v) in set {
        s.push(&format!(", {col} = ")).bind(v.clone());
    }
    s.push(", version = version + 1, updated_at = ").bind(at.clone());
    s.push(" WHERE id = ").bind(id).push(" AND version = ").bind(r.try_get::<i64, _>("version")?);
    if s.query().execute(tx.conn()).await?.rows_affected() == 0 {
        return Err(Error::StaleVersion { current: r.try_get("version")? });
    }
    after_step(tx, order_id).await?;
    let mut after = serde_json::Map::new();
    after.insert("outbound".into(), json!(r.try_get::<String, _>("number")?));
    after.insert("outbound_state".into(), json!(to.code()));
    for (col, v) in set {
        if *col != "delivered_at" {
            after.insert((*col).into(), json!(v));
        }
    }
    let before = json!({"outbound": r.try_get::<String, _>("number")?, "outbound_state": from.code()});
    audit::record(
        tx,
        ctx,
        "order",
        &order_id.to_string(),
        action,
        Some(&before),
        Some(&serde_json::Value::Object(after)),
    )
    .await?;
    let r = sqlx::query(&format!("{OUTBOUND_SELECT} WHERE o.id = $1")).bind(id).fetch_one(tx.conn()).await?;
    outbound_view(tx.conn(), &r).await
}

/// Ships a prepared outbound (carrier and day required, not in the future).
pub async fn ship(db: &Db, ctx: &Ctx, id: i64, inp: &ShipIn) -> Result<OutboundView> {
    let mut e = Errors::default();
    let carrier = e.take("carrier", text::required(inp.carrier.as_deref(), 100));
    let waybill = e.take("waybill", text::optional(inp.waybill.as_deref(), 100)).flatten();
    let on = date(&mut e, "shipped_on", inp.shipped_on.as_deref(), today_of(&ctx.caller));
    e.finish()?;
    let mut tx = db.begin().await?;
    let r = lock(&mut tx, &ctx.caller, id, inp.version, OutboundState::Prepared).await?;
    // Nor shipped while held.
    let order_id: i64 = r.try_get("order_id")?;
    let account: i64 = sqlx::query("SELECT account_id FROM orders WHERE id = $1")
        .bind(order_id)
        .fetch_one(tx.conn())
        .await?
        .try_get("account_id")?;
    crate::app::orders::holds::ensure_clear(tx.conn(), account, Some(order_id)).await?;
    // The credit check at delivery: an order it holds is not shipped; the hold is kept.
    if crate::app::orders::credit_check::check(&mut tx, ctx, order_id, CreditStage::Delivery).await?.is_some() {
        tx.commit().await?;
        return Err(Error::Conflict("held_for_credit"));
    }
    let set =
        [("carrier", carrier), ("waybill", waybill), ("shipped_on", on.map(|d| d.format("%Y-%m-%d").to_string()))];
    let v = step(&mut tx, ctx, &r, OutboundState::Shipped, &set, "shipped").await?;
    tx.commit().await?;
    Ok(v)
}

/// Records a shipped outbound delivered (the day not before it shipped, not in the future);
/// the order's first delivery is its delivery event.
pub async fn deliver(db: &Db, ctx: &Ctx, id: i64, inp: &DeliverIn) -> Result<OutboundView> {
    let mut e = Errors::default();
    let on = date(&mut e, "delivered_on", inp.delivered_on.as_deref(), today_of(&ctx.caller));
    e.finish()?;
    let on = on.unwrap_or_default();
    let mut tx = db.begin().await?;
    let r = lock(&mut tx, &ctx.caller, id, inp.version, OutboundState::Shipped).await?;
    if r.try_get::<Option<String>, _>("shipped_on")?.as_deref().and_then(day_of).is_some_and(|s| on < s) {
        return Err(Error::invalid("delivered_on", "before_shipped"));
    }
    let set = [("delivered_on", Some(on.format("%Y-%m-%d").to_string())), ("delivered_at", Some(now()))];
    let v = step(&mut tx, ctx, &r, OutboundState::Delivered, &set, "delivered").await?;
    tx.commit().await?;
    Ok(v)
}

/// Records a delivered outbound accepted by the customer (the day not before delivery, not in
/// the future), with the acceptance document when one is given (the pages' form); the step
/// that leaves the whole order accepted is its acceptance event.
pub async fn accept(
    db: &Db,
    ctx: &Ctx,
    store: &Storage,
    id: i64,
    inp: &AcceptIn,
    document: Option<&FileIn<'_>>,
) -> Result<OutboundView> {
    let mut e = Errors::default();
    let on = date(&mut e, "accepted_on", inp.accepted_on.as_deref(), today_of(&ctx.caller));
    let note = e.take("note", text::optional(inp.note.as_deref(), 1000)).flatten();
    e.finish()?;
    let on = on.unwrap_or_default();
    let mut tx = db.begin().await?;
    let r = lock(&mut tx, &ctx.caller, id, inp.version, OutboundState::Delivered).await?;
    if r.try_get::<Option<String>, _>("delivered_on")?.as_deref().and_then(day_of).is_some_and(|s| on < s) {
        return Err(Error::invalid("accepted_on", "before_delivered"));
    }
    if let Some(f) = document {
        attachments::add_in(&mut tx, ctx, store, OUTBOUND, id, None, f).await?;
    }
    let set = [("accepted_on", Some(on.format("%Y-%m-%d").to_string())), ("acceptance_note", note)];
    let v = step(&mut tx, ctx, &r, OutboundState::Accepted, &set, "accepted").await?;
    tx.commit().await?;
    Ok(v)
}

/// Cancels a prepared outbound (a reason required): its quantities are free again.
pub async fn cancel(db: &Db, ctx: &Ctx, id: i64, inp: &OutboundCancelIn) -> Result<OutboundView> {
    let reason = text::required(inp.reason.as_deref(), 1000).map_err(|c| Error::invalid("reason", c))?;
    let mut tx = db.begin().await?;
    let r = lock(&mut tx, &ctx.caller, id, inp.version, OutboundState::Prepared).await?;
    let v =
        step(&mut tx, ctx, &r, OutboundState::Cancelled, &[("cancel_reason", Some(reason))], "outbound_cancel").await?;
    tx.commit().await?;
    Ok(v)
}

// ---------------------------------------------------------------------------------------------
// The outbound's files (the acceptance document)

/// An outbound's files (its order in scope).
pub async fn files(db: &Db, caller: &Caller, id: i64) -> Result<Vec<Attachment>> {
    Ok(get(db, caller, id).await?.files)
}

/// The outbound in scope (a file's read asks no more).
pub(crate) async fn seen(conn: &mut sqlx::AnyConnection, caller: &Caller, id: i64) -> Result<()> {
    outbound_scoped(conn, caller, id).await.map(|_| ())
}

/// Adds a file to an outbound (the acceptance document, a signed delivery note): whoever
/// moves outbounds, while it is not cancelled.
pub async fn attach(db: &Db, ctx: &Ctx, store: &Storage, id: i64, f: &FileIn<'_>) -> Result<Attachment> {
    let mut tx = db.begin().await?;
    let r = outbound_scoped(tx.conn(), &ctx.caller, id).await?;
    may_deliver(&ctx.caller)?;
    if r.try_get::<OutboundState, _>("state")? == OutboundState::Cancelled {
        return Err(Error::Conflict("outbound_state"));
    }
    let a = attachments::add_in(&mut tx, ctx, store, OUTBOUND, id, None, f).await?;
    tx.commit().await?;
    let removable = r.try_get::<OutboundState, _>("state")? != OutboundState::Accepted;
    Ok(Attachment { removable, ..a })
}

/// Removes an outbound's file until the outbound is accepted (the acceptance document then
/// stays with it).
pub async fn detach(db: &Db, ctx: &Ctx, id: i64, file_id: i64) -> Result<()> {
    let mut tx = db.begin().await?;
    let r = outbound_scoped(tx.conn(), &ctx.caller, id).await?;
    may_deliver(&ctx.caller)?;
    attachments::one(tx.conn(), OUTBOUND, id, file_id).await?;
    if matches!(r.try_get::<OutboundState, _>("state")?, OutboundState::Accepted | OutboundState::Cancelled) {
        return Err(Error::Conflict("attachment_fixed"));
    }
    attachments::remove_in(&mut tx, ctx, OUTBOUND, id, file_id).await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The logistics worklist

/// One order of the worklist.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LogisticsRow {
    pub order_id: i64,
    pub order_number: String,
    pub account_id: i64,
    pub account_name: String,
    pub owner: String,
    pub owner_name: String,
    pub contract_no: Option<String>,
    #[schema(format = Date)]
    pub requested_delivery: Option<String>,
    /// Days past the requested delivery (null when not late).
    pub days_late: Option<i64>,
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub signed_total: String,
    pub line_count: i64,
    /// Lines not yet wholly on outbounds (to prepare).
    pub lines_to_prepare: i64,
    /// Lines not yet wholly delivered.
    pub lines_undelivered: i64,
    /// Outbounds prepared or on the way.
    pub outbounds_open: i64,
    /// The day of the first delivery (a partial delivery has one).
    #[schema(format = Date)]
    pub delivered_on: Option<String>,
}

/// Signed orders with something left to deliver, the earliest requested delivery first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LogisticsWorklist {
    #[schema(format = Date)]
    pub as_of: String,
    pub items: Vec<LogisticsRow>,
    /// How many of the items are late.
    pub late: i64,
    /// More orders matched than the list shows (at most 500).
    pub truncated: bool,
}

/// The worklist's filter.
#[derive(Debug, Clone, Default)]
pub struct WorklistFilter {
    pub late_only: bool,
    pub account_id: Option<i64>,
}

const WORKLIST_MAX: i64 = 500;

/// The logistics worklist in the caller's scope (logistics, finance and HQ roles see every
/// order; salespeople and managers their accounts').
pub async fn worklist(db: &Db, caller: &Caller, f: &WorklistFilter) -> Result<LogisticsWorklist> {
    let today = today_of(caller);
    let today_s = today.format("%Y-%m-%d").to_string();
    let mut s = Sql::new(
        "SELECT d.id, d.number, d.account_id, a.name AS account_name, u.username, COALESCE(u.display_name, u.username) AS owner_name, \
         v.contract_no, v.requested_delivery, d.signed_total, f.line_count, f.lines_unplanned, f.lines_undelivered, f.delivered_on, \
         (SELECT COUNT(*) FROM outbounds o WHERE o.order_id = d.id AND o.state IN ('prepared', 'shipped')) AS open_out \
         FROM order_fulfilment f JOIN orders d ON d.id = f.order_id JOIN accounts a ON a.id = d.account_id \
         JOIN users u ON u.id = d.owner_id JOIN order_versions v ON v.order_id = d.id AND v.version_no = d.signed_version \
         WHERE f.open = 1 AND d.state <> 'cancelled'",
    );
    if let Some(a) = f.account_id {
        s.push(" AND d.account_id = ").bind(a);
    }
    if f.late_only {
        s.push(" AND v.requested_delivery < ").bind(today_s.clone());
    }
    accounts::push_scope(&mut s, caller);
    s.push(" ORDER BY COALESCE(v.requested_delivery, '9999-12-31'), d.id LIMIT ").bind(WORKLIST_MAX + 1);
    let rows = s.query().fetch_all(&db.pool).await?;
    let mut items = vec![];
    for r in rows.iter().take(WORKLIST_MAX as usize) {
        let requested: Option<String> = r.try_get("requested_delivery")?;
        items.push(LogisticsRow {
            order_id: r.try_get("id")?,
            order_number: r.try_get("number")?,
            account_id: r.try_get("account_id")?,
            account_name: r.try_get("account_name")?,
            owner: r.try_get("username")?,
            owner_name: r.try_get("owner_name")?,
            contract_no: r.try_get("contract_no")?,
            days_late: d::days_late(requested.as_deref().and_then(day_of), today, true),
            requested_delivery: requested,
            signed_total: format_fen(r.try_get::<Option<i64>, _>("signed_total")?.unwrap_or(0)),
            line_count: r.try_get("line_count")?,
            lines_to_prepare: r.try_get("lines_unplanned")?,
            lines_undelivered: r.try_get("lines_undelivered")?,
            outbounds_open: r.try_get("open_out")?,
            delivered_on: r.try_get("delivered_on")?,
        });
    }
    Ok(LogisticsWorklist {
        as_of: today_s,
        late: items.iter().filter(|i| i.days_late.is_some()).count() as i64,
        truncated: rows.len() as i64 > WORKLIST_MAX,
        items,
    })
}
