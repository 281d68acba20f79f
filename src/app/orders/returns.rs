//! Returns (退货; DOMAIN.md §12.3, issue 21): goods delivered to the customer come back in
//! part — quantities of the order's lines (by position in the version in force), each at most
//! what was delivered less what was returned already, with a reason and a day.
//!
//! What a return reverses:
//! - **delivery**: the returned quantity leaves the order — its lines count it neither as
//!   ordered nor as delivered (`deliveries::line_sums`), so the goods are not sent again and
//!   the order's progress stays as it was;
//! - **money**: its value (each line's share of the line's amount, half up) comes off what the
//!   customer owes. The part not yet invoiced (what was left to invoice, net of earlier returns)
//!   comes off the receivables at once — the scheduled installments first, the last first, then
//!   the open ones due latest first; the rest was invoiced and is `to_credit`: finance issues a
//!   red-letter invoice naming the return (`return_id`), which takes its amount off the open
//!   receivables (due latest first, then the scheduled ones), at most what the return still
//!   has to credit. What is left to invoice is the signed total less returns less invoices.
//!
//! Logistics, finance and the sales roles that see the account record returns; audited on the
//! order (`return`) and on each receivable reduced (`credited`).
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::app::customers::accounts;
use crate::app::records::audit;
use crate::app::{Caller, Ctx, Error, Result};
use crate::db::sql::Sql;
use crate::db::{now, Db, RowLock, WriteTx};
use crate::domain::error::Errors;
use crate::domain::money::format_fen;
use crate::domain::quote::{format_quantity, parse_quantity};
use crate::domain::role::Role;
use crate::domain::text;
use crate::domain::writeoff as wo;

/// One line of a return as given.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnLineIn {
    /// The order line's position (as in the order's `lines`).
    pub position: i64,
    /// In the line's unit, up to three decimals; `0` leaves the line out.
    #[schema(example = "1")]
    pub quantity: String,
}

/// A return (退货).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnIn {
    #[serde(default)]
    #[schema(max_items = 500)]
    pub lines: Vec<ReturnLineIn>,
    /// Why the goods came back (required).
    #[serde(default)]
    #[schema(value_type = String)]
    pub reason: Option<String>,
    /// The day they came back (required, not in the future).
    #[serde(default)]
    #[schema(format = Date, value_type = String)]
    pub returned_on: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReturnLineView {
    pub position: i64,
    pub description: String,
    pub unit: String,
    pub quantity: String,
    /// The returned quantity's value (tax-inclusive).
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub amount: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReturnView {
    pub id: i64,
    /// `TH<year>-<id>`.
    pub number: String,
    pub order_id: i64,
    pub order_version: i64,
    #[schema(format = Date)]
    pub returned_on: String,
    pub reason: String,
    /// The returned goods' value (tax-inclusive).
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub value: String,
    /// Of it, what came off the receivables at once (it was not yet invoiced).
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub reduced: String,
    /// Of it, what was invoiced: for a red-letter invoice naming this return.
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub to_credit: String,
    /// What red-letter invoices naming this return credited so far.
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub credited: String,
    /// What is still to credit.
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub left_to_credit: String,
    pub lines: Vec<ReturnLineView>,
    pub created_by: String,
    pub created_by_name: String,
    #[schema(format = DateTime)]
    pub created_at: String,
}

/// One order line as a return sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReturnableLine {
    pub position: i64,
    pub description: String,
    pub unit: String,
    /// Delivered (outbounds delivered or accepted).
    pub delivered: String,
    pub returned: String,
    /// What may still come back.
    pub returnable: String,
}

/// An order's returns and what may still come back.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrderReturns {
    pub order_id: i64,
    /// Newest first.
    pub items: Vec<ReturnView>,
    pub lines: Vec<ReturnableLine>,
    /// The caller may record a return (something delivered is left to return).
    pub may_return: bool,
}

/// Who records returns: logistics, finance, and the sales roles that see the account.
fn may_record(caller: &Caller) -> bool {
    caller.role == Role::LogisticsManager || caller.role == Role::FinanceManager || caller.role.edits_accounts()
}

async fn order_scoped(conn: &mut sqlx::AnyConnection, caller: &Caller, order_id: i64) -> Result<AnyRow> {
    let mut s = Sql::new(
        "SELECT d.id, d.account_id, d.number, d.state, d.signed_version, d.signed_total FROM orders d \
         JOIN accounts a ON a.id = d.account_id WHERE d.id = ",
    );
    s.bind(order_id);
    accounts::push_scope_one(&mut s, caller);
    s.query().fetch_optional(conn).await?.ok_or(Error::NotFound)
}

/// The returned quantity of each line position of the order (every return counted).
pub(crate) async fn returned_by_line(conn: &mut sqlx::AnyConnection, order_id: i64) -> Result<Vec<(i64, i64)>> {
    sqlx::query(
        "SELECT l.position, CAST(SUM(l.quantity) AS BIGINT) AS q FROM order_return_lines l \
         JOIN order_returns r ON r.id = l.return_id WHERE r.order_id = $1 GROUP BY l.position",
    )
    .bind(order_id)
    .fetch_all(conn)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("position")?, r.try_get("q")?)))
    .collect()
}

/// The value of every return of the order (what is no longer to invoice).
pub(crate) async fn returned_value(conn: &mut sqlx::AnyConnection, order_id: i64) -> Result<i64> {
    Ok(sqlx::query("SELECT CAST(COALESCE(SUM(value), 0) AS BIGINT) AS s FROM order_returns WHERE order_id = $1")
        .bind(order_id)
        .fetch_one(conn)
        .await?
        .try_get("s")?)
}

/// A line in force: (position, description, unit, quantity, amount, delivered).
type LineInForce = (i64, String, String, i64, i64, i64);

async fn lines_in_force(conn: &mut sqlx::AnyConnection, order_id: i64) -> Result<Vec<LineInForce>> {
    let lines = sqlx::query(
        "SELECT l.position, l.description, l.unit, l.quantity, l.amount FROM order_lines l \
         JOIN order_versions v ON v.id = l.version_id JOIN orders d ON d.id = v.order_id \
         AND v.version_no = d.signed_version WHERE d.id = $1 ORDER BY l.position",
    )
    .bind(order_id)
    .fetch_all(&mut *conn)
    .await?;
    let delivered = sqlx::query(
        "SELECT l.position, CAST(SUM(l.quantity) AS BIGINT) AS q FROM outbound_lines l \
         JOIN outbounds o ON o.id = l.outbound_id WHERE o.order_id = $1 AND o.state IN ('delivered', 'accepted') \
         GROUP BY l.position",
    )
    .bind(order_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = vec![];
    for l in &lines {
        let pos: i64 = l.try_get("position")?;
        let mut d = 0;
        for r in &delivered {
            if r.try_get::<i64, _>("position")? == pos {
                d += r.try_get::<i64, _>("q")?;
            }
        }
        out.push((pos, l.try_get("description")?, l.try_get("unit")?, l.try_get("quantity")?, l.try_get("amount")?, d));
    }
    Ok(out)
}

async fn return_view(conn: &mut sqlx::AnyConnection, r: &AnyRow) -> Result<ReturnView> {
    let id: i64 = r.try_get("id")?;
    let lines = sqlx::query("SELECT * FROM order_return_lines WHERE return_id = $1 ORDER BY position")
        .bind(id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|l| {
            Ok(ReturnLineView {
                position: l.try_get("position")?,
                description: l.try_get("description")?,
                unit: l.try_get("unit")?,
                quantity: format_quantity(l.try_get("quantity")?),
                amount: format_fen(l.try_get("amount")?),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let credited = credited_of(conn, id).await?;
    let to_credit: i64 = r.try_get("to_credit")?;
    Ok(ReturnView {
        id,
        number: r.try_get("number")?,
        order_id: r.try_get("order_id")?,
        order_version: r.try_get("order_version")?,
        returned_on: r.try_get("returned_on")?,
        reason: r.try_get("reason")?,
        value: format_fen(r.try_get("value")?),
        reduced: format_fen(r.try_get("reduced")?),
        to_credit: format_fen(to_credit),
        credited: format_fen(credited),
        left_to_credit: format_fen((to_credit - credited).max(0)),
        lines,
        created_by: r.try_get("created_by")?,
        created_by_name: r.try_get("creator")?,
        created_at: r.try_get("created_at")?,
    })
}

/// What red-letter invoices naming the return credited (positive).
async fn credited_of(conn: &mut sqlx::AnyConnection, return_id: i64) -> Result<i64> {
    Ok(sqlx::query("SELECT CAST(COALESCE(SUM(-amount), 0) AS BIGINT) AS s FROM invoices WHERE return_id = $1")
        .bind(return_id)
        .fetch_one(conn)
        .await?
        .try_get("s")?)
}

const RETURN_SELECT: &str = "SELECT r.*, COALESCE(u.display_name, r.created_by) AS creator FROM order_returns r \
     LEFT JOIN users u ON u.username = r.created_by";

/// An order's returns and its lines' returnable quantities (the order in scope).
pub async fn of_order(db: &Db, caller: &Caller, order_id: i64) -> Result<OrderReturns> {
    let mut conn = db.pool.acquire().await?;
    let o = order_scoped(&mut conn, caller, order_id).await?;
    let signed = o.try_get::<Option<i64>, _>("signed_version")?.is_some();
    let lines = if signed { lines_in_force(&mut conn, order_id).await? } else { vec![] };
    let back = returned_by_line(&mut conn, order_id).await?;
    let lines: Vec<ReturnableLine> = lines
        .into_iter()
        .map(|(position, description, unit, _, _, delivered)| {
            let returned = back.iter().filter(|(p, _)| *p == position).map(|(_, q)| q).sum::<i64>();
            ReturnableLine {
                position,
                description,
                unit,
                delivered: format_quantity(delivered),
                returned: format_quantity(returned),
                returnable: format_quantity((delivered - returned).max(0)),
            }
        })
        .collect();
    let rows = sqlx::query(&format!("{RETURN_SELECT} WHERE r.order_id = $1 ORDER BY r.id DESC"))
        .bind(order_id)
        .fetch_all(&mut *conn)
        .await?;
    let mut items = vec![];
    for r in &rows {
        items.push(return_view(&mut conn, r).await?);
    }
    let something = lines.iter().any(|l| l.returnable != format_quantity(0));
    Ok(OrderReturns {
        order_id,
        items,
        lines,
        may_return: something && may_record(caller) && o.try_get::<String, _>("state")? != "cancelled",
    })
}

/// One return (its order in scope).
pub async fn get(db: &Db, caller: &Caller, id: i64) -> Result<ReturnView> {
    let mut conn = db.pool.acquire().await?;
    let r = sqlx::query(&format!("{RETURN_SELECT} WHERE r.id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(Error::NotFound)?;
    order_scoped(&mut conn, caller, r.try_get("order_id")?).await?;
    return_view(&mut conn, &r).await
}

/// Records a return against a delivered order: each line at most what was delivered less what
/// came back already (422 `lines[i].quantity` `beyond_delivered`), at least one above 0; its
/// value not yet invoiced comes off the receivables at once.
pub async fn record(db: &Db, ctx: &Ctx, order_id: i64, inp: &ReturnIn) -> Result<ReturnView> {
    let caller = &ctx.caller;
    let mut e = Errors::default();
    let reason = e.take("reason", text::required(inp.reason.as_deref(), 1000));
    let day = match inp.returned_on.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => {
            e.add("returned_on", "required");
            None
        }
        Some(v) => e.take("returned_on", NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| "date_format")),
    };
    let today = NaiveDate::parse_from_str(&caller.today(), "%Y-%m-%d").unwrap_or_default();
    if day.is_some_and(|d| d > today) {
        e.add("returned_on", "date_in_future");
    }
    let mut given = vec![];
    for (i, l) in inp.lines.iter().enumerate() {
        let t = l.quantity.trim();
        if !t.is_empty() && t.chars().all(|c| c == '0' || c == '.') {
            given.push((l.position, 0));
            continue;
        }
        match parse_quantity(t) {
            Ok(q) => given.push((l.position, q)),
            Err(c) => e.add(&format!("lines[{i}].quantity"), c),
        }
    }
    let mut tx = db.begin().await?;
    order_scoped(tx.conn(), caller, order_id).await?;
    if !may_record(caller) {
        return Err(Error::Forbidden);
    }
    e.finish()?;
    let lock = tx.lock_clause(RowLock::Update);
    sqlx::query(&format!("SELECT id FROM orders WHERE id = $1{lock}")).bind(order_id).fetch_one(tx.conn()).await?;
    let o = order_scoped(tx.conn(), caller, order_id).await?;
    if o.try_get::<String, _>("state")? == "cancelled" {
        return Err(Error::Conflict("order_cancelled"));
    }
    let Some(signed) = o.try_get::<Option<i64>, _>("signed_version")? else {
        return Err(Error::Conflict("order_not_signed"));
    };
    let lines = lines_in_force(tx.conn(), order_id).await?;
    let back = returned_by_line(tx.conn(), order_id).await?;
    let mut e = Errors::default();
    let mut seen = vec![];
    for (i, (pos, qty)) in given.iter().enumerate() {
        let Some(l) = lines.iter().find(|l| l.0 == *pos) else {
            e.add(&format!("lines[{i}].position"), "unknown_order_line");
            continue;
        };
        if seen.contains(pos) {
            e.add(&format!("lines[{i}].position"), "duplicate_order_line");
            continue;
        }
        seen.push(*pos);
        let returned = back.iter().filter(|(p, _)| p == pos).map(|(_, q)| q).sum::<i64>();
        if *qty > l.5 - returned {
            e.add(&format!("lines[{i}].quantity"), "beyond_delivered");
        }
    }
    if e.0.is_empty() && !given.iter().any(|(_, q)| *q > 0) {
        e.add("lines", "nothing_to_return");
    }
    e.finish()?;
    let (reason, day) = (reason.unwrap_or_default(), day.unwrap_or(today));
    let mut value = 0;
    let mut rows = vec![];
    for (pos, qty) in given.iter().filter(|(_, q)| *q > 0) {
        let l = lines.iter().find(|l| l.0 == *pos).ok_or(Error::NotFound)?;
        let amount = wo::return_value(l.4, l.3, *qty);
        value += amount;
        rows.push((l.clone(), *qty, amount));
    }
    let signed_total: i64 = o.try_get::<Option<i64>, _>("signed_total")?.unwrap_or(0);
    let invoiced: i64 =
        sqlx::query("SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS s FROM invoices WHERE order_id = $1")
            .bind(order_id)
            .fetch_one(tx.conn())
            .await?
            .try_get("s")?;
    let before = returned_value(tx.conn(), order_id).await?;
    let (reduced, to_credit) = wo::split_return(value, signed_total - before - invoiced);
    let at = now();
    let id: i64 = sqlx::query(
        "INSERT INTO order_returns (number, order_id, order_version, returned_on, reason, value, reduced, to_credit, \
         created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(format!("tmp-{}-{}", ctx.request_id, at))
    .bind(order_id)
    .bind(signed)
    .bind(day.format("%Y-%m-%d").to_string())
    .bind(reason.clone())
    .bind(value)
    .bind(reduced)
    .bind(to_credit)
    .bind(caller.username.as_str())
    .bind(at.clone())
    .fetch_one(tx.conn())
    .await?
    .try_get("id")?;
    let number = format!("TH{}-{:06}", &caller.today()[..4], id);
    sqlx::query("UPDATE order_returns SET number = $1 WHERE id = $2")
        .bind(number.clone())
        .bind(id)
        .execute(tx.conn())
        .await?;
    let mut written = vec![];
    for (l, qty, amount) in &rows {
        sqlx::query(
            "INSERT INTO order_return_lines (return_id, position, description, unit, quantity, amount) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(l.0)
        .bind(l.1.clone())
        .bind(l.2.clone())
        .bind(*qty)
        .bind(*amount)
        .execute(tx.conn())
        .await?;
        written.push(json!({"position": l.0, "description": l.1, "quantity": format_quantity(*qty), "amount": format_fen(*amount)}));
    }
    let left = take_off(&mut tx, ctx, order_id, reduced, true, &format!("return {number}")).await?;
    let after = json!({"return": number, "returned_on": day.format("%Y-%m-%d").to_string(), "reason": reason,
        "lines": written, "value": format_fen(value), "reduced": format_fen(reduced), "to_credit": format_fen(to_credit),
        "not_taken": format_fen(left)});
    audit::record(&mut tx, ctx, "order", &order_id.to_string(), "goods_return", None, Some(&after)).await?;
    let r = sqlx::query(&format!("{RETURN_SELECT} WHERE r.id = $1")).bind(id).fetch_one(tx.conn()).await?;
    let v = return_view(tx.conn(), &r).await?;
    tx.commit().await?;
    Ok(v)
}

/// A red-letter invoice names a return (in the invoice's transaction, before it is stored):
/// the return is the order's and its amount at most what the return still has to credit
/// (422 `amount` `beyond_return_credit`); the amount comes off the order's receivables.
pub(crate) async fn red_letter(tx: &mut WriteTx, ctx: &Ctx, order_id: i64, return_id: i64, amount: i64) -> Result<()> {
    let r = sqlx::query("SELECT number, to_credit FROM order_returns WHERE id = $1 AND order_id = $2")
        .bind(return_id)
        .bind(order_id)
        .fetch_optional(tx.conn())
        .await?
        .ok_or_else(|| Error::invalid("return_id", "return_not_of_order"))?;
    let to_credit: i64 = r.try_get("to_credit")?;
    let credited = credited_of(tx.conn(), return_id).await?;
    if amount > to_credit - credited {
        return Err(Error::invalid("amount", "beyond_return_credit"));
    }
    let number: String = r.try_get("number")?;
    take_off(tx, ctx, order_id, amount, false, &format!("red-letter invoice for {number}")).await?;
    Ok(())
}

/// Takes `amount` off the order's receivables that still owe something (less what pending
/// write-offs reserve): the scheduled ones first (the last installment first) when
/// `scheduled_first`, else the open ones first (due latest first). A receivable left owing
/// nothing is `paid` when something was paid on it, `written_off` when only written off, and
/// goes when nothing was (and nothing refers to it). Returns what no receivable could take.
async fn take_off(
    tx: &mut WriteTx,
    ctx: &Ctx,
    order_id: i64,
    amount: i64,
    scheduled_first: bool,
    why: &str,
) -> Result<i64> {
    if amount <= 0 {
        return Ok(0);
    }
    let rows = sqlx::query(
        "SELECT r.id, r.state, r.amount, r.paid, r.written_off, r.position, r.due_on, \
         (SELECT CAST(COALESCE(SUM(w.amount), 0) AS BIGINT) FROM writeoffs w WHERE w.receivable_id = r.id AND w.state = 'pending') AS held \
         FROM receivables r WHERE r.order_id = $1 AND r.state IN ('scheduled', 'open')",
    )
    .bind(order_id)
    .fetch_all(tx.conn())
    .await?;
    // (scheduled, due day, position, id, owes)
    type Giving = (bool, String, i64, i64, i64);
    let mut rs: Vec<Giving> = vec![];
    for r in &rows {
        let owes = r.try_get::<i64, _>("amount")?
            - r.try_get::<i64, _>("paid")?
            - r.try_get::<i64, _>("written_off")?
            - r.try_get::<i64, _>("held")?;
        let scheduled = r.try_get::<String, _>("state")? == "scheduled";
        let due: Option<String> = r.try_get("due_on")?;
        rs.push((scheduled, due.unwrap_or_default(), r.try_get("position")?, r.try_get("id")?, owes));
    }
    // Scheduled (or open) first; then the latest due, the last installment first.
    rs.sort_by(|a, b| {
        let ka = a.0 == scheduled_first;
        let kb = b.0 == scheduled_first;
        kb.cmp(&ka).then(b.1.cmp(&a.1)).then(b.2.cmp(&a.2))
    });
    let order: Vec<(i64, i64)> = rs.iter().map(|r| (r.3, r.4)).collect();
    let (takes, left) = wo::spread(amount, &order);
    let at = now();
    let today = ctx.caller.today();
    for (rid, take) in &takes {
        let r = sqlx::query("SELECT amount, paid, written_off, credited, state FROM receivables WHERE id = $1")
            .bind(*rid)
            .fetch_one(tx.conn())
            .await?;
        let (a, p, off, cr): (i64, i64, i64, i64) =
            (r.try_get("amount")?, r.try_get("paid")?, r.try_get("written_off")?, r.try_get("credited")?);
        let state: String = r.try_get("state")?;
        let new_amount = a - take;
        let settled = new_amount - p - off <= 0;
        let referred = sqlx::query(
            "SELECT 1 AS x FROM collection_contacts WHERE receivable_id = $1 UNION ALL \
             SELECT 1 AS x FROM writeoffs WHERE receivable_id = $1 UNION ALL SELECT 1 AS x FROM allocations WHERE receivable_id = $1",
        )
        .bind(*rid)
        .fetch_optional(tx.conn())
        .await?
        .is_some();
        let new_state = match (settled, p > 0, off > 0) {
            (false, _, _) => state.clone(),
            (true, true, _) => "paid".to_string(),
            (true, false, true) => "written_off".to_string(),
            (true, false, false) => "gone".to_string(),
        };
        if new_state == "gone" && !referred {
            sqlx::query("DELETE FROM receivables WHERE id = $1").bind(*rid).execute(tx.conn()).await?;
        } else {
            let st = if new_state == "gone" { "paid".to_string() } else { new_state.clone() };
            sqlx::query(
                "UPDATE receivables SET amount = $1, credited = credited + $2, state = $3, version = version + 1, \
                 updated_at = $4, paid_in_full_on = CASE WHEN $3 = 'paid' AND paid_in_full_on IS NULL THEN $5 ELSE paid_in_full_on END \
                 WHERE id = $6",
            )
            .bind(new_amount)
            .bind(*take)
            .bind(st)
            .bind(at.clone())
            .bind(today.clone())
            .bind(*rid)
            .execute(tx.conn())
            .await?;
        }
        audit::record(
            tx,
            ctx,
            "receivable",
            &rid.to_string(),
            "credited",
            Some(&json!({"amount": format_fen(a), "credited": format_fen(cr), "state": state})),
            Some(&json!({"amount": format_fen(new_amount), "credited": format_fen(cr + take), "state": new_state, "why": why})),
        )
        .await?;
    }
    if !takes.is_empty() {
        crate::app::orders::aging_summary::touch_order(tx, order_id).await?;
    }
    Ok(left)
}
