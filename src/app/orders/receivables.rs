//! From invoice to cash (发票, 应收帐款, 收款, 冲销票据; DOMAIN.md M7, issue 21): a signed order's
//! payment terms become its receivables, finance records invoices (partial invoicing; a
//! red-letter invoice reverses one) and payments, and a payment is allocated to what the
//! customer owes — the oldest due first, or by hand — with what is left over kept as the
//! customer's credit balance. The aging report and an account's statement read the result.
//!
//! Receivables: one per installment of the order's signed terms, its amount the installment's
//! share of the signed total (the last takes the rounding). An installment is `scheduled` until
//! its event happens — the order signed (an advance), the first invoice, the delivery, the
//! acceptance — and then `open`, due its days after that day; `paid` once allocations cover
//! it. Terms agreed in words only (none given) are one installment, the whole total, due on the
//! first invoice. A new signed version re-plans the installments nothing has been paid on.
//!
//! Who: finance (`finance_manager`) records invoices and payments; everyone reads them as they
//! see the account (finance sees all).
use std::collections::HashMap;

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::app::customers::accounts;
use crate::app::orders::aging_summary;
use crate::app::records::audit;
use crate::app::{Caller, Ctx, Error, Result};
use crate::db::sql::Sql;
use crate::db::{now, Db, RowLock, WriteTx};
use crate::domain::error::Errors;
use crate::domain::money::{div_round, format_fen, parse_fen};
use crate::domain::order::{DueEvent, OrderInstallment};
use crate::domain::quote::{InstallmentKind, FULL_BP};
use crate::domain::receivable::{self as rc, Open, PaymentMethod, ReceivableState};
use crate::domain::role::Role;
use crate::domain::text;

/// Who records invoices and payments.
fn keeps_the_books(caller: &Caller) -> Result<()> {
    if caller.role == Role::FinanceManager {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

pub(crate) fn day_of(s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s.get(..10).unwrap_or(s), "%Y-%m-%d")
        .map_err(|e| anyhow::anyhow!("a stored day {s}: {e}").into())
}

fn fmt_day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

// ---------------------------------------------------------------------------------------------
// Receivables from the order's terms

/// The installments' amounts: each its share of `total`, the last the rest.
fn shares(total: i64, terms: &[OrderInstallment]) -> Vec<i64> {
    let mut out = vec![];
    let mut left = total;
    for (i, t) in terms.iter().enumerate() {
        let a = if i + 1 == terms.len() { left } else { div_round(total * t.percent_bp, FULL_BP) };
        left -= a;
        out.push(a);
    }
    out
}

/// The day the order's `event` first happened, if it has.
async fn event_day(tx: &mut WriteTx, order_id: i64, event: DueEvent) -> Result<Option<String>> {
    let q = match event {
        DueEvent::Order => "SELECT signed_at AS d FROM orders WHERE id = $1",
        DueEvent::Invoice => "SELECT MIN(issued_on) AS d FROM invoices WHERE order_id = $1 AND amount > 0",
        // Kept by the delivery part (`deliveries`) against the version in force: the first
        // delivery recorded, and the day every line was accepted in full.
        DueEvent::Delivery => "SELECT MAX(delivered_on) AS d FROM order_fulfilment WHERE order_id = $1",
        DueEvent::Acceptance => "SELECT MAX(accepted_on) AS d FROM order_fulfilment WHERE order_id = $1",
    };
    let d: Option<String> = sqlx::query(q).bind(order_id).fetch_one(tx.conn()).await?.try_get("d")?;
    if event != DueEvent::Order {
        return Ok(d);
    }
    // The signing is a moment: its day is the owner's (their time zone's) day.
    let Some(at) = d.as_deref().and_then(crate::db::parse_ts) else { return Ok(None) };
    let tz: Option<String> =
        sqlx::query("SELECT u.time_zone FROM orders o JOIN users u ON u.id = o.owner_id WHERE o.id = $1")
            .bind(order_id)
            .fetch_one(tx.conn())
            .await?
            .try_get("time_zone")?;
    let tz = tz.as_deref().and_then(|z| crate::domain::activity::parse_tz(z).ok()).unwrap_or(chrono_tz::Asia::Shanghai);
    Ok(Some(fmt_day(crate::domain::activity::local_day(at, tz))))
}

/// A signed version's terms become the order's receivables (called in the signing's
/// transaction): the installments nothing has been paid on are planned again from the signed
/// total; those whose event has happened are open at once.
pub(crate) async fn on_signed(tx: &mut WriteTx, order_id: i64) -> Result<()> {
    let r = sqlx::query(
        "SELECT o.account_id, o.owner_id, o.signed_total, v.payment_terms FROM orders o \
         JOIN order_versions v ON v.order_id = o.id AND v.version_no = o.signed_version WHERE o.id = $1",
    )
    .bind(order_id)
    .fetch_one(tx.conn())
    .await?;
    let total: i64 = r.try_get::<Option<i64>, _>("signed_total")?.unwrap_or(0);
    let mut terms: Vec<OrderInstallment> =
        serde_json::from_str(&r.try_get::<String, _>("payment_terms")?).map_err(anyhow::Error::from)?;
    if terms.is_empty() {
        terms.push(OrderInstallment {
            kind: InstallmentKind::OnDelivery,
            percent_bp: FULL_BP,
            days: 0,
            event: DueEvent::Invoice,
        });
    }
    let (account, owner): (i64, i64) = (r.try_get("account_id")?, r.try_get("owner_id")?);
    // What has been paid on stays as it is.
    let kept: Vec<i64> =
        sqlx::query("SELECT position FROM receivables WHERE order_id = $1 AND (paid > 0 OR written_off > 0)")
            .bind(order_id)
            .fetch_all(tx.conn())
            .await?
            .iter()
            .map(|r| r.try_get("position"))
            .collect::<std::result::Result<_, _>>()?;
    sqlx::query("DELETE FROM receivables WHERE order_id = $1 AND paid = 0 AND written_off = 0")
        .bind(order_id)
        .execute(tx.conn())
        .await?;
    let at = now();
    for (i, (t, amount)) in terms.iter().zip(shares(total, &terms)).enumerate() {
        if kept.contains(&(i as i64)) {
            continue;
        }
        let happened = event_day(tx, order_id, t.event).await?;
        let due = happened.as_deref().map(|d| day_of(d).map(|d| fmt_day(d + Duration::days(t.days)))).transpose()?;
        let state = if due.is_some() { ReceivableState::Open } else { ReceivableState::Scheduled };
        sqlx::query(
            "INSERT INTO receivables (account_id, order_id, owner_id, position, kind, event, days, amount, event_on, \
             due_on, state, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
        )
        .bind(account)
        .bind(order_id)
        .bind(owner)
        .bind(i as i64)
        .bind(t.kind.code())
        .bind(t.event.code())
        .bind(t.days)
        .bind(amount)
        .bind(happened)
        .bind(due)
        .bind(state.code())
        .bind(at.clone())
        .execute(tx.conn())
        .await?;
    }
    aging_summary::touch(tx, account).await
}

/// A cancelled order is owed no more: its receivables nothing has been paid on go; those paid
/// on stay (a refund or a red-letter invoice settles them).
pub(crate) async fn on_cancelled(tx: &mut WriteTx, order_id: i64) -> Result<()> {
    sqlx::query("DELETE FROM receivables WHERE order_id = $1 AND paid = 0 AND written_off = 0")
        .bind(order_id)
        .execute(tx.conn())
        .await?;
    aging_summary::touch_order(tx, order_id).await
}

/// The order's `event` happened on `day`: its scheduled installments counting from it fall
/// due.
pub(crate) async fn event_happened(tx: &mut WriteTx, order_id: i64, event: DueEvent, day: NaiveDate) -> Result<()> {
    let rows =
        sqlx::query("SELECT id, days FROM receivables WHERE order_id = $1 AND event = $2 AND state = 'scheduled'")
            .bind(order_id)
            .bind(event.code())
            .fetch_all(tx.conn())
            .await?;
    for r in &rows {
        let days: i64 = r.try_get("days")?;
        sqlx::query(
            "UPDATE receivables SET state = 'open', event_on = $1, due_on = $2, version = version + 1, updated_at = $3 \
             WHERE id = $4",
        )
        .bind(fmt_day(day))
        .bind(fmt_day(day + Duration::days(days)))
        .bind(now())
        .bind(r.try_get::<i64, _>("id")?)
        .execute(tx.conn())
        .await?;
    }
    if rows.is_empty() {
        return Ok(());
    }
    aging_summary::touch_order(tx, order_id).await
}

// ---------------------------------------------------------------------------------------------
// Invoices

/// An invoice as finance records it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoiceIn {
    /// The invoice number (发票号码), unique.
    #[serde(default)]
    #[schema(value_type = String)]
    pub number: Option<String>,
    #[serde(default)]
    #[schema(format = Date, value_type = String)]
    pub issued_on: Option<String>,
    /// Tax-inclusive, in yuan (`120000.00`); for a red-letter invoice, the amount it reverses.
    #[serde(default)]
    #[schema(pattern = r"^\d{1,15}(\.\d{1,2})?$", value_type = String)]
    pub amount: Option<String>,
    /// The tax in it, in yuan; absent: the order's share of tax.
    #[serde(default)]
    #[schema(pattern = r"^\d{1,15}(\.\d{1,2})?$")]
    pub tax: Option<String>,
    /// A red-letter invoice (红字发票): the invoice of the same order it reverses.
    #[serde(default)]
    pub reverses_id: Option<i64>,
    /// A red-letter invoice for a return (退货) of the same order: its amount, at most what the
    /// return still has to credit, comes off the order's receivables.
    #[serde(default)]
    pub return_id: Option<i64>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InvoiceView {
    pub id: i64,
    pub number: String,
    pub order_id: i64,
    pub account_id: i64,
    #[schema(format = Date)]
    pub issued_on: String,
    /// Tax-inclusive; negative for a red-letter invoice.
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub amount: String,
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub tax: String,
    pub reverses_id: Option<i64>,
    /// The return a red-letter invoice credits.
    pub return_id: Option<i64>,
    pub note: Option<String>,
    pub created_by: String,
    #[schema(format = DateTime)]
    pub created_at: String,
}

fn invoice_view(r: &AnyRow) -> Result<InvoiceView> {
    Ok(InvoiceView {
        id: r.try_get("id")?,
        number: r.try_get("number")?,
        order_id: r.try_get("order_id")?,
        account_id: r.try_get("account_id")?,
        issued_on: r.try_get("issued_on")?,
        amount: format_fen(r.try_get("amount")?),
        tax: format_fen(r.try_get("tax")?),
        reverses_id: r.try_get("reverses_id")?,
        return_id: r.try_get("return_id")?,
        note: r.try_get("note")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
    })
}

pub(crate) fn money(e: &mut Errors, field: &str, v: Option<&str>, required: bool) -> Option<i64> {
    match v.map(str::trim).filter(|v| !v.is_empty()) {
        None => {
            if required {
                e.add(field, "required");
            }
            None
        }
        Some(v) if v.starts_with('-') => {
            e.add(field, "negative");
            None
        }
        Some(v) => match parse_fen(v) {
            Ok(x) => Some(x),
            Err(c) => {
                e.add(field, c);
                None
            }
        },
    }
}

pub(crate) fn date(e: &mut Errors, field: &str, v: Option<&str>) -> Option<NaiveDate> {
    match v.map(str::trim).filter(|v| !v.is_empty()) {
        None => {
            e.add(field, "required");
            None
        }
        Some(v) => match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                e.add(field, "date_format");
                None
            }
        },
    }
}

/// The order as finance's writes see it: in scope, signed, locked.
async fn signed_order(tx: &mut WriteTx, caller: &Caller, order_id: i64) -> Result<AnyRow> {
    let mut s = Sql::new(
        "SELECT d.id, d.account_id, d.state, d.signed_total, v.total, v.tax FROM orders d \
         JOIN accounts a ON a.id = d.account_id \
         LEFT JOIN order_versions v ON v.order_id = d.id AND v.version_no = d.signed_version WHERE d.id = ",
    );
    s.bind(order_id);
    accounts::push_scope_one(&mut s, caller);
    let r = s.query().fetch_optional(tx.conn()).await?.ok_or(Error::NotFound)?;
    let lock = tx.lock_clause(RowLock::Update);
    sqlx::query(&format!("SELECT id FROM orders WHERE id = $1{lock}")).bind(order_id).fetch_one(tx.conn()).await?;
    if r.try_get::<Option<i64>, _>("signed_total")?.is_none() || r.try_get::<String, _>("state")? == "cancelled" {
        return Err(Error::Conflict("order_not_signed"));
    }
    Ok(r)
}

/// Records an invoice against a signed order: at most what is left to invoice (a red-letter
/// invoice at most what its original still counts); the first invoice makes the installments
/// counting from it fall due.
pub async fn record_invoice(db: &Db, ctx: &Ctx, order_id: i64, inp: &InvoiceIn) -> Result<InvoiceView> {
    let caller = &ctx.caller;
    keeps_the_books(caller)?;
    let mut e = Errors::default();
    let number = e.take("number", text::required(inp.number.as_deref(), 50));
    let issued = date(&mut e, "issued_on", inp.issued_on.as_deref());
    let amount = money(&mut e, "amount", inp.amount.as_deref(), true);
    let tax = money(&mut e, "tax", inp.tax.as_deref(), false);
    let note = e.take("note", text::optional(inp.note.as_deref(), 1000)).flatten();
    if amount == Some(0) {
        e.add("amount", "amount_not_positive");
    }
    if let (Some(a), Some(t)) = (amount, tax) {
        if t > a {
            e.add("tax", "tax_above_amount");
        }
    }
    if inp.return_id.is_some() && inp.reverses_id.is_none() {
        e.add("return_id", "red_letter_only");
    }
    e.finish()?;
    let (number, issued, amount) = (number.unwrap_or_default(), issued.unwrap_or_default(), amount.unwrap_or(0));
    let mut tx = db.begin().await?;
    let o = signed_order(&mut tx, caller, order_id).await?;
    let signed: i64 = o.try_get::<Option<i64>, _>("signed_total")?.unwrap_or(0);
    let invoiced: i64 =
        sqlx::query("SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS s FROM invoices WHERE order_id = $1")
            .bind(order_id)
            .fetch_one(tx.conn())
            .await?
            .try_get("s")?;
    let taken =
        sqlx::query("SELECT id FROM invoices WHERE number = $1").bind(number.clone()).fetch_optional(tx.conn()).await?;
    if taken.is_some() {
        return Err(Error::invalid("number", "invoice_number_taken"));
    }
    // The tax when not given: the signed version's share.
    let share_tax = |a: i64| -> Result<i64> {
        let (t, x): (Option<i64>, Option<i64>) = (o.try_get("total")?, o.try_get("tax")?);
        Ok(match (t, x) {
            (Some(t), Some(x)) if t > 0 => div_round(a * x, t),
            _ => 0,
        })
    };
    // Returns are no longer to invoice (DOMAIN.md §12.3).
    let returned = super::returns::returned_value(tx.conn(), order_id).await?;
    let (stored, stored_tax) = match inp.reverses_id {
        None => {
            if amount > signed - returned - invoiced {
                return Err(Error::invalid("amount", "beyond_left_to_invoice"));
            }
            (amount, tax.map(Ok).unwrap_or_else(|| share_tax(amount))?)
        }
        Some(rid) => {
            let orig = sqlx::query("SELECT amount, tax FROM invoices WHERE id = $1 AND order_id = $2 AND amount > 0")
                .bind(rid)
                .bind(order_id)
                .fetch_optional(tx.conn())
                .await?
                .ok_or_else(|| Error::invalid("reverses_id", "invoice_not_of_order"))?;
            let reversed: i64 = sqlx::query(
                "SELECT CAST(COALESCE(SUM(-amount), 0) AS BIGINT) AS s FROM invoices WHERE reverses_id = $1",
            )
            .bind(rid)
            .fetch_one(tx.conn())
            .await?
            .try_get("s")?;
            let (oa, ot): (i64, i64) = (orig.try_get("amount")?, orig.try_get("tax")?);
            if amount > oa - reversed {
                return Err(Error::invalid("amount", "beyond_invoice"));
            }
            if let Some(ret) = inp.return_id {
                super::returns::red_letter(&mut tx, ctx, order_id, ret, amount).await?;
            }
            (-amount, -tax.unwrap_or_else(|| div_round(amount * ot, oa.max(1))))
        }
    };
    let first = invoiced == 0 && stored > 0;
    let id: i64 = sqlx::query(
        "INSERT INTO invoices (number, order_id, account_id, issued_on, amount, tax, reverses_id, note, created_by, created_at, \
         return_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
    )
    .bind(number)
    .bind(order_id)
    .bind(o.try_get::<i64, _>("account_id")?)
    .bind(fmt_day(issued))
    .bind(stored)
    .bind(stored_tax)
    .bind(inp.reverses_id)
    .bind(note)
    .bind(caller.username.as_str())
    .bind(now())
    .bind(inp.return_id)
    .fetch_one(tx.conn())
    .await?
    .try_get("id")?;
    if first {
        event_happened(&mut tx, order_id, DueEvent::Invoice, issued).await?;
    }
    let v = invoice_view(&sqlx::query("SELECT * FROM invoices WHERE id = $1").bind(id).fetch_one(tx.conn()).await?)?;
    let after = json!({"invoice": v.id, "number": v.number, "issued_on": v.issued_on, "amount": v.amount, "tax": v.tax, "reverses_id": v.reverses_id, "return_id": v.return_id});
    audit::record(&mut tx, ctx, "order", &order_id.to_string(), "invoice", None, Some(&after)).await?;
    tx.commit().await?;
    Ok(v)
}

// ---------------------------------------------------------------------------------------------
// Receivables as read

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReceivableView {
    pub id: i64,
    pub account_id: i64,
    pub account_name: String,
    pub order_id: i64,
    pub order_number: String,
    /// Username of the order's owner, and their name.
    pub owner: String,
    pub owner_name: String,
    pub kind: InstallmentKind,
    pub event: DueEvent,
    pub days: i64,
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub amount: String,
    #[schema(format = Date)]
    pub event_on: Option<String>,
    #[schema(format = Date)]
    pub due_on: Option<String>,
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub paid: String,
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub written_off: String,
    /// What is still owed.
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub outstanding: String,
    pub state: ReceivableState,
    /// Days past due on the day asked (negative before the due date; null while scheduled).
    pub days_overdue: Option<i64>,
    #[schema(format = Date)]
    pub paid_in_full_on: Option<String>,
}

pub(crate) const REC_SELECT: &str =
    "SELECT r.*, a.name AS account_name, d.number AS order_number, u.username AS owner_username, \
     COALESCE(u.display_name, u.username) AS owner_display FROM receivables r JOIN accounts a ON a.id = r.account_id \
     JOIN orders d ON d.id = r.order_id JOIN users u ON u.id = r.owner_id";

pub(crate) fn rec_view(r: &AnyRow, today: NaiveDate) -> Result<ReceivableView> {
    let (amount, paid, off): (i64, i64, i64) = (r.try_get("amount")?, r.try_get("paid")?, r.try_get("written_off")?);
    let due: Option<String> = r.try_get("due_on")?;
    let days = due.as_deref().map(day_of).transpose()?.map(|d| rc::days_overdue(d, today));
    Ok(ReceivableView {
        id: r.try_get("id")?,
        account_id: r.try_get("account_id")?,
        account_name: r.try_get("account_name")?,
        order_id: r.try_get("order_id")?,
        order_number: r.try_get("order_number")?,
        owner: r.try_get("owner_username")?,
        owner_name: r.try_get("owner_display")?,
        kind: r.try_get("kind")?,
        event: r.try_get("event")?,
        days: r.try_get("days")?,
        amount: format_fen(amount),
        event_on: r.try_get("event_on")?,
        due_on: due,
        paid: format_fen(paid),
        written_off: format_fen(off),
        outstanding: format_fen(amount - paid - off),
        state: r.try_get("state")?,
        days_overdue: days,
        paid_in_full_on: r.try_get("paid_in_full_on")?,
    })
}

/// An order's money: its invoices, its receivables, what is invoiced and what is left to invoice.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrderMoney {
    pub invoices: Vec<InvoiceView>,
    pub receivables: Vec<ReceivableView>,
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub invoiced: String,
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub left_to_invoice: String,
}

/// An order's invoices and receivables (the order in scope).
pub async fn of_order(db: &Db, caller: &Caller, order_id: i64, today: NaiveDate) -> Result<OrderMoney> {
    let mut conn = db.pool.acquire().await?;
    let mut s = Sql::new("SELECT d.signed_total FROM orders d JOIN accounts a ON a.id = d.account_id WHERE d.id = ");
    s.bind(order_id);
    accounts::push_scope_one(&mut s, caller);
    let o = s.query().fetch_optional(&mut *conn).await?.ok_or(Error::NotFound)?;
    let signed: i64 = o.try_get::<Option<i64>, _>("signed_total")?.unwrap_or(0);
    let invoices = sqlx::query("SELECT * FROM invoices WHERE order_id = $1 ORDER BY issued_on, id")
        .bind(order_id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(invoice_view)
        .collect::<Result<Vec<_>>>()?;
    let invoiced: i64 = invoices.iter().map(|i| parse_signed(&i.amount)).sum();
    let receivables = sqlx::query(&format!("{REC_SELECT} WHERE r.order_id = $1 ORDER BY r.position"))
        .bind(order_id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| rec_view(r, today))
        .collect::<Result<Vec<_>>>()?;
    let returned = super::returns::returned_value(&mut conn, order_id).await?;
    Ok(OrderMoney {
        invoices,
        receivables,
        invoiced: format_fen(invoiced),
        left_to_invoice: format_fen((signed - returned - invoiced).max(0)),
    })
}

fn parse_signed(s: &str) -> i64 {
    match s.strip_prefix('-') {
        Some(x) => -parse_fen(x).unwrap_or(0),
        None => parse_fen(s).unwrap_or(0),
    }
}

// ---------------------------------------------------------------------------------------------
// Payments

/// One allocation given by hand.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AllocationIn {
    pub receivable_id: i64,
    #[schema(pattern = r"^\d{1,15}(\.\d{1,2})?$")]
    pub amount: String,
}

/// A payment as finance records it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentIn {
    #[serde(default)]
    #[schema(value_type = i64)]
    pub account_id: Option<i64>,
    #[serde(default)]
    #[schema(format = Date, value_type = String)]
    pub received_on: Option<String>,
    #[serde(default)]
    #[schema(pattern = r"^\d{1,15}(\.\d{1,2})?$", value_type = String)]
    pub amount: Option<String>,
    /// `transfer` (default), `acceptance` (承兑汇票), `cheque`, `cash`, `other`.
    #[serde(default)]
    pub method: Option<PaymentMethod>,
    /// The bank's reference.
    #[serde(default)]
    pub reference: Option<String>,
    /// Who paid, as the bank shows it.
    #[serde(default)]
    pub payer: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    /// By hand; absent: the oldest due first.
    #[serde(default)]
    pub allocations: Option<Vec<AllocationIn>>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AllocationView {
    pub receivable_id: i64,
    pub order_number: String,
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub amount: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PaymentView {
    pub id: i64,
    pub account_id: i64,
    #[schema(format = Date)]
    pub received_on: String,
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub amount: String,
    pub method: PaymentMethod,
    pub reference: Option<String>,
    pub payer: Option<String>,
    /// What no receivable took: the customer's credit balance from this payment.
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub unallocated: String,
    pub note: Option<String>,
    pub allocations: Vec<AllocationView>,
    pub created_by: String,
    #[schema(format = DateTime)]
    pub created_at: String,
}

async fn payment_view(conn: &mut sqlx::AnyConnection, id: i64) -> Result<PaymentView> {
    payment_views(conn, &[id]).await?.pop().ok_or(Error::NotFound)
}

/// The payments `ids` in that order, each with its allocations: two statements whatever their
/// number (an account's page lists hundreds).
async fn payment_views(conn: &mut sqlx::AnyConnection, ids: &[i64]) -> Result<Vec<PaymentView>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
    let mut allocations: HashMap<i64, Vec<AllocationView>> = HashMap::new();
    for a in sqlx::query(&format!(
        "SELECT l.payment_id, l.receivable_id, l.amount, d.number FROM allocations l JOIN receivables r ON r.id = l.receivable_id \
         JOIN orders d ON d.id = r.order_id WHERE l.payment_id IN ({list}) ORDER BY l.id"
    ))
    .fetch_all(&mut *conn)
    .await?
    {
        allocations.entry(a.try_get("payment_id")?).or_default().push(AllocationView {
            receivable_id: a.try_get("receivable_id")?,
            order_number: a.try_get("number")?,
            amount: format_fen(a.try_get("amount")?),
        });
    }
    let mut by_id: HashMap<i64, PaymentView> = HashMap::new();
    for r in sqlx::query(&format!("SELECT * FROM payments WHERE id IN ({list})")).fetch_all(&mut *conn).await? {
        let id: i64 = r.try_get("id")?;
        by_id.insert(
            id,
            PaymentView {
                id,
                account_id: r.try_get("account_id")?,
                received_on: r.try_get("received_on")?,
                amount: format_fen(r.try_get("amount")?),
                method: r.try_get("method")?,
                reference: r.try_get("reference")?,
                payer: r.try_get("payer")?,
                unallocated: format_fen(r.try_get("unallocated")?),
                note: r.try_get("note")?,
                allocations: allocations.remove(&id).unwrap_or_default(),
                created_by: r.try_get("created_by")?,
                created_at: r.try_get("created_at")?,
            },
        );
    }
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

/// Records a payment and allocates it (清帐): to the receivables given by hand, or to the
/// account's open ones, the oldest due first; what no receivable takes stays as the customer's
/// credit balance. A receivable paid in full records the day.
pub async fn record_payment(db: &Db, ctx: &Ctx, inp: &PaymentIn) -> Result<PaymentView> {
    keeps_the_books(&ctx.caller)?;
    let mut tx = db.begin().await?;
    let v = record_payment_in(&mut tx, ctx, inp).await?;
    tx.commit().await?;
    Ok(v)
}

/// [`record_payment`] inside the caller's transaction (a bank-statement line's confirmation);
/// the caller has checked the role.
pub(crate) async fn record_payment_in(tx: &mut WriteTx, ctx: &Ctx, inp: &PaymentIn) -> Result<PaymentView> {
    let caller = &ctx.caller;
    let mut e = Errors::default();
    if inp.account_id.is_none() {
        e.add("account_id", "required");
    }
    let received = date(&mut e, "received_on", inp.received_on.as_deref());
    let amount = money(&mut e, "amount", inp.amount.as_deref(), true);
    if amount == Some(0) {
        e.add("amount", "amount_not_positive");
    }
    let reference = e.take("reference", text::optional(inp.reference.as_deref(), 100)).flatten();
    let payer = e.take("payer", text::optional(inp.payer.as_deref(), 200)).flatten();
    let note = e.take("note", text::optional(inp.note.as_deref(), 1000)).flatten();
    let mut by_hand = vec![];
    for (i, a) in inp.allocations.iter().flatten().enumerate() {
        if let Some(x) = money(&mut e, &format!("allocations[{i}].amount"), Some(&a.amount), true) {
            by_hand.push((a.receivable_id, x));
        }
    }
    e.finish()?;
    let (account, received, amount) = (inp.account_id.unwrap_or(0), received.unwrap_or_default(), amount.unwrap_or(0));
    accounts::ensure_visible_in(tx.conn(), caller, account).await?;
    let lock = tx.lock_clause(RowLock::Update);
    sqlx::query(&format!("SELECT id FROM accounts WHERE id = $1{lock}")).bind(account).fetch_one(tx.conn()).await?;
    let open: Vec<Open> = sqlx::query(
        "SELECT id, due_on, amount - paid - written_off AS left FROM receivables WHERE account_id = $1 AND state = 'open'",
    )
    .bind(account)
    .fetch_all(tx.conn())
    .await?
    .iter()
    .map(|r| {
        Ok(Open {
            id: r.try_get("id")?,
            due_on: day_of(&r.try_get::<String, _>("due_on")?)?,
            outstanding: r.try_get("left")?,
        })
    })
    .collect::<Result<_>>()?;
    let (allocs, left) = if inp.allocations.is_some() {
        let why = rc::check_allocations(amount, &by_hand, &open);
        if !why.is_empty() {
            let mut e = Errors::default();
            for (f, c) in why {
                e.add(&f, c);
            }
            e.finish()?;
        }
        let sum: i64 = by_hand.iter().map(|(_, a)| a).sum();
        (by_hand, amount - sum)
    } else {
        rc::allocate_oldest_first(amount, &open)
    };
    let at = now();
    let id: i64 = sqlx::query(
        "INSERT INTO payments (account_id, received_on, amount, method, reference, payer, unallocated, note, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(account)
    .bind(fmt_day(received))
    .bind(amount)
    .bind(inp.method.unwrap_or(PaymentMethod::Transfer).code())
    .bind(reference)
    .bind(payer)
    .bind(left)
    .bind(note)
    .bind(caller.username.as_str())
    .bind(at.clone())
    .fetch_one(tx.conn())
    .await?
    .try_get("id")?;
    for (rid, fen) in &allocs {
        sqlx::query("INSERT INTO allocations (payment_id, receivable_id, amount, created_by, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(id)
            .bind(*rid)
            .bind(*fen)
            .bind(caller.username.as_str())
            .bind(at.clone())
            .execute(tx.conn())
            .await?;
        sqlx::query(
            "UPDATE receivables SET paid = paid + $1, version = version + 1, updated_at = $2, \
             state = CASE WHEN paid + $1 + written_off >= amount THEN 'paid' ELSE state END, \
             paid_in_full_on = CASE WHEN paid + $1 + written_off >= amount THEN $3 ELSE paid_in_full_on END \
             WHERE id = $4",
        )
        .bind(*fen)
        .bind(at.clone())
        .bind(fmt_day(received))
        .bind(*rid)
        .execute(tx.conn())
        .await?;
    }
    if !allocs.is_empty() {
        aging_summary::touch(tx, account).await?;
    }
    let v = payment_view(tx.conn(), id).await?;
    let after = json!({"payment": id, "amount": v.amount, "received_on": v.received_on, "method": v.method,
        "reference": v.reference, "allocations": allocs.iter().map(|(r, a)| json!({"receivable_id": r, "amount": format_fen(*a)})).collect::<Vec<_>>(),
        "unallocated": v.unallocated});
    audit::record(tx, ctx, "account", &account.to_string(), "payment", None, Some(&after)).await?;
    Ok(v)
}

// ---------------------------------------------------------------------------------------------
// The account's statement and the aging report

/// An account's receivables and payments: what it owes, what it paid, its credit balance.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AccountMoney {
    pub receivables: Vec<ReceivableView>,
    pub payments: Vec<PaymentView>,
    /// Open receivables' outstanding sum.
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub outstanding: String,
    /// Payments no receivable took.
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub credit_balance: String,
}

/// An account's receivables (due first) and payments (latest first), the account in scope.
pub async fn of_account(db: &Db, caller: &Caller, account_id: i64, today: NaiveDate) -> Result<AccountMoney> {
    let mut conn = db.pool.acquire().await?;
    accounts::ensure_visible_in(&mut conn, caller, account_id).await?;
    let receivables = sqlx::query(&format!(
        "{REC_SELECT} WHERE r.account_id = $1 ORDER BY CASE WHEN r.due_on IS NULL THEN 1 ELSE 0 END, r.due_on, r.id LIMIT 2000"
    ))
    .bind(account_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| rec_view(r, today))
    .collect::<Result<Vec<_>>>()?;
    let ids: Vec<i64> =
        sqlx::query("SELECT id FROM payments WHERE account_id = $1 ORDER BY received_on DESC, id DESC LIMIT 500")
            .bind(account_id)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| r.try_get("id"))
            .collect::<std::result::Result<_, _>>()?;
    let payments = payment_views(&mut conn, &ids).await?;
    let sums = sqlx::query(
        "SELECT CAST(COALESCE(SUM(CASE WHEN state = 'open' THEN amount - paid - written_off ELSE 0 END), 0) AS BIGINT) AS o \
         FROM receivables WHERE account_id = $1",
    )
    .bind(account_id)
    .fetch_one(&mut *conn)
    .await?;
    let credit: i64 =
        sqlx::query("SELECT CAST(COALESCE(SUM(unallocated), 0) AS BIGINT) AS c FROM payments WHERE account_id = $1")
            .bind(account_id)
            .fetch_one(&mut *conn)
            .await?
            .try_get("c")?;
    Ok(AccountMoney {
        receivables,
        payments,
        outstanding: format_fen(sums.try_get("o")?),
        credit_balance: format_fen(credit),
    })
}
