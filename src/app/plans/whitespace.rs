//! The whitespace grid of an account (issue 23 item 8, beyond the seeds; Altify's whitespace):
//! the customer's business units × our product lines, each cell sold, in the pipeline, held by
//! a competitor or not addressed. From the data where it can be — `sold` when a signed order
//! of the account has a product of the line, `pipeline` when an open opportunity's quote has
//! one — and set by hand otherwise (a cell set by hand overrides the data; `competitor` only by
//! hand). Orders and quotes do not name the customer's business unit, so what the data gives
//! holds for every business unit of the account. Who sees the account reads the grid; who
//! edits accounts and sees it sets cells.
use std::collections::{BTreeSet, HashMap};

use serde::Serialize;
use sqlx::Row;

use crate::app::customers::accounts;
use crate::app::records::audit;
use crate::app::{Caller, Ctx, Error, Result};
use crate::db::{ts, Db};
use crate::domain::account_plan::Whitespace;
use crate::domain::error::Errors;
use crate::domain::money;

/// The row of an account that names no business unit: the whole account.
pub const WHOLE_ACCOUNT: &str = "整体";

/// A note's length at most, in characters.
pub const NOTE_MAX: usize = 1000;

/// The customer's business units from the account's free-text field: split on new lines,
/// commas, 、 and semicolons, trimmed, without empties or repeats, in their order.
pub fn business_units(text: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    for part in text.unwrap_or("").split(['\n', '\r', ',', '，', '、', ';', '；']) {
        let p = part.trim();
        if !p.is_empty() && !out.iter().any(|x| x == p) {
            out.push(p.to_string());
        }
    }
    out
}

/// One cell of the grid.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = WhitespaceCell)]
pub struct Cell {
    pub business_unit: String,
    pub product_line: String,
    /// What the cell shows: set by hand, else what the data gives.
    pub state: Whitespace,
    /// What the data gives (`sold`, `pipeline` or `open`).
    pub data_state: Whitespace,
    /// Set by hand (then `note`, `set_by` and `set_at` say by whom and when).
    pub by_hand: bool,
    pub note: Option<String>,
    /// Username of who set it, and their name.
    pub set_by: Option<String>,
    pub set_by_name: Option<String>,
    pub set_at: Option<String>,
}

/// A business unit's row.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = WhitespaceRow)]
pub struct GridRow {
    pub business_unit: String,
    pub cells: Vec<Cell>,
}

/// An account's whitespace grid.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = WhitespaceGrid)]
pub struct Grid {
    pub account_id: i64,
    pub account_name: String,
    /// The account names no business unit: one row, the whole account (`整体`).
    pub whole_account: bool,
    /// Our product lines (the categories of active products), in order: the columns.
    pub product_lines: Vec<String>,
    pub rows: Vec<GridRow>,
    /// The caller may set cells.
    pub editable: bool,
}

async fn names_of(conn: &mut sqlx::AnyConnection, users: &BTreeSet<String>) -> Result<HashMap<String, String>> {
    let mut out = HashMap::new();
    if users.is_empty() {
        return Ok(out);
    }
    let list: Vec<String> = users.iter().cloned().collect();
    let mut s = crate::db::sql::Sql::new(
        "SELECT username, COALESCE(display_name, username) AS n FROM users WHERE username IN (",
    );
    s.bind_texts(&list).push(")");
    for r in s.query().fetch_all(conn).await? {
        out.insert(r.try_get("username")?, r.try_get("n")?);
    }
    Ok(out)
}

/// Our product lines: the distinct non-empty categories of active products, in order.
pub async fn product_lines(conn: &mut sqlx::AnyConnection) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT DISTINCT category FROM products WHERE active = 1 AND category IS NOT NULL ORDER BY category",
    )
    .fetch_all(conn)
    .await?;
    let mut out: Vec<String> = vec![];
    for r in rows {
        let c: String = r.try_get("category")?;
        let c = c.trim().to_string();
        if !c.is_empty() && !out.contains(&c) {
            out.push(c);
        }
    }
    out.sort();
    Ok(out)
}

/// The account's name and business units (the caller sees it: 404 otherwise).
async fn account_of(conn: &mut sqlx::AnyConnection, caller: &Caller, account_id: i64) -> Result<(String, Vec<String>)> {
    accounts::ensure_visible_in(conn, caller, account_id).await?;
    let r =
        sqlx::query("SELECT name, business_units FROM accounts WHERE id = $1").bind(account_id).fetch_one(conn).await?;
    Ok((r.try_get("name")?, business_units(r.try_get::<Option<String>, _>("business_units")?.as_deref())))
}

/// The product lines the account has signed orders of.
async fn sold_lines(conn: &mut sqlx::AnyConnection, account_id: i64) -> Result<BTreeSet<String>> {
    let rows = sqlx::query(
        "SELECT DISTINCT p.category FROM orders o \
         JOIN order_versions v ON v.order_id = o.id AND v.version_no = o.signed_version \
         JOIN order_lines l ON l.version_id = v.id JOIN products p ON p.id = l.product_id \
         WHERE o.account_id = $1 AND o.state <> 'cancelled' AND o.signed_version IS NOT NULL AND p.category IS NOT NULL",
    )
    .bind(account_id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(|r| Ok(r.try_get::<String, _>("category")?.trim().to_string())).collect()
}

/// The product lines an open opportunity of the account has a quote line of.
async fn pipeline_lines(conn: &mut sqlx::AnyConnection, account_id: i64) -> Result<BTreeSet<String>> {
    let rows = sqlx::query(
        "SELECT DISTINCT p.category FROM opportunities op JOIN quotes q ON q.opportunity_id = op.id \
         JOIN quote_versions v ON v.quote_id = q.id AND v.version_no = q.current_version \
         JOIN quote_lines l ON l.version_id = v.id JOIN products p ON p.id = l.product_id \
         WHERE op.account_id = $1 AND op.deleted_at IS NULL AND op.stage NOT IN ('won', 'lost') \
         AND q.state <> 'lost' AND p.category IS NOT NULL",
    )
    .bind(account_id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(|r| Ok(r.try_get::<String, _>("category")?.trim().to_string())).collect()
}

struct HandCell {
    state: Whitespace,
    note: Option<String>,
    set_by: String,
    set_at: String,
}

async fn hand_cells(conn: &mut sqlx::AnyConnection, account_id: i64) -> Result<HashMap<(String, String), HandCell>> {
    let rows = sqlx::query(
        "SELECT business_unit, product_line, state, note, set_by, set_at FROM whitespace_cells WHERE account_id = $1",
    )
    .bind(account_id)
    .fetch_all(conn)
    .await?;
    let mut out = HashMap::new();
    for r in rows {
        let Ok(state) = Whitespace::parse(&r.try_get::<String, _>("state")?) else { continue };
        out.insert(
            (r.try_get("business_unit")?, r.try_get("product_line")?),
            HandCell { state, note: r.try_get("note")?, set_by: r.try_get("set_by")?, set_at: r.try_get("set_at")? },
        );
    }
    Ok(out)
}

async fn grid_in(conn: &mut sqlx::AnyConnection, caller: &Caller, account_id: i64) -> Result<Grid> {
    let (account_name, units) = account_of(conn, caller, account_id).await?;
    let whole_account = units.is_empty();
    let units = if whole_account { vec![WHOLE_ACCOUNT.to_string()] } else { units };
    let lines = product_lines(conn).await?;
    let sold = sold_lines(conn, account_id).await?;
    let pipeline = pipeline_lines(conn, account_id).await?;
    let hand = hand_cells(conn, account_id).await?;
    let people: BTreeSet<String> = hand.values().map(|h| h.set_by.clone()).collect();
    let names = names_of(conn, &people).await?;
    let rows = units
        .iter()
        .map(|bu| GridRow {
            business_unit: bu.clone(),
            cells: lines
                .iter()
                .map(|line| {
                    let data_state = if sold.contains(line) {
                        Whitespace::Sold
                    } else if pipeline.contains(line) {
                        Whitespace::Pipeline
                    } else {
                        Whitespace::Open
                    };
                    let h = hand.get(&(bu.clone(), line.clone()));
                    Cell {
                        business_unit: bu.clone(),
                        product_line: line.clone(),
                        state: h.map(|h| h.state).unwrap_or(data_state),
                        data_state,
                        by_hand: h.is_some(),
                        note: h.and_then(|h| h.note.clone()),
                        set_by: h.map(|h| h.set_by.clone()),
                        set_by_name: h.map(|h| names.get(&h.set_by).cloned().unwrap_or_else(|| h.set_by.clone())),
                        set_at: h.map(|h| h.set_at.clone()),
                    }
                })
                .collect(),
        })
        .collect();
    Ok(Grid {
        account_id,
        account_name,
        whole_account,
        product_lines: lines,
        rows,
        editable: caller.role.edits_accounts(),
    })
}

/// The account's whitespace grid (404 when the caller does not see the account).
pub async fn grid(db: &Db, caller: &Caller, account_id: i64) -> Result<Grid> {
    let mut conn = db.pool.acquire().await?;
    grid_in(&mut conn, caller, account_id).await
}

/// `business_unit` among the account's units (or the whole account when it names none) and
/// `product_line` among ours: 422 naming each that is not.
fn check_cell(e: &mut Errors, units: &[String], lines: &[String], bu: &str, line: &str) {
    let bu = bu.trim();
    if bu.is_empty() {
        e.add("business_unit", "required");
    } else if !(units.iter().any(|u| u == bu) || units.is_empty() && bu == WHOLE_ACCOUNT) {
        e.add("business_unit", "not_a_business_unit");
    }
    let line = line.trim();
    if line.is_empty() {
        e.add("product_line", "required");
    } else if !lines.iter().any(|l| l == line) {
        e.add("product_line", "unknown_product_line");
    }
}

/// Sets a cell by hand (`state` one of sold, pipeline, competitor, open, with a note), or
/// clears it (`state` none: back to what the data gives). Who edits accounts and sees this
/// one; 422 naming `state`, `business_unit`, `product_line` or `note`, nothing saved; audited.
/// Answers the grid as it now is.
pub async fn set_cell(
    db: &Db,
    ctx: &Ctx,
    account_id: i64,
    business_unit: &str,
    product_line: &str,
    state: Option<&str>,
    note: Option<&str>,
) -> Result<Grid> {
    let caller = &ctx.caller;
    let mut tx = db.begin().await?;
    let (_, units) = account_of(tx.conn(), caller, account_id).await?;
    if !caller.role.edits_accounts() {
        return Err(Error::Forbidden);
    }
    let lines = product_lines(tx.conn()).await?;
    let mut e = Errors::default();
    check_cell(&mut e, &units, &lines, business_unit, product_line);
    let state = match state.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => match Whitespace::parse(s) {
            Ok(w) => Some(w),
            Err(c) => {
                e.add("state", c);
                None
            }
        },
    };
    let note = match crate::domain::text::optional(note, NOTE_MAX) {
        Ok(n) => n,
        Err(c) => {
            e.add("note", c);
            None
        }
    };
    e.finish()?;
    let (bu, line) = (business_unit.trim(), product_line.trim());
    let before = sqlx::query(
        "SELECT state, note FROM whitespace_cells WHERE account_id = $1 AND business_unit = $2 AND product_line = $3",
    )
    .bind(account_id)
    .bind(bu)
    .bind(line)
    .fetch_optional(tx.conn())
    .await?
    .map(|r| -> Result<serde_json::Value> {
        Ok(serde_json::json!({"business_unit": bu, "product_line": line, "state": r.try_get::<String, _>("state")?,
            "note": r.try_get::<Option<String>, _>("note")?}))
    })
    .transpose()?;
    sqlx::query("DELETE FROM whitespace_cells WHERE account_id = $1 AND business_unit = $2 AND product_line = $3")
        .bind(account_id)
        .bind(bu)
        .bind(line)
        .execute(tx.conn())
        .await?;
    match state {
        Some(w) => {
            sqlx::query(
                "INSERT INTO whitespace_cells (account_id, business_unit, product_line, state, note, set_by, set_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(account_id)
            .bind(bu)
            .bind(line)
            .bind(w.code())
            .bind(note.clone())
            .bind(caller.username.as_str())
            .bind(ts(crate::app::clock::now()))
            .execute(tx.conn())
            .await?;
            let after = serde_json::json!({"business_unit": bu, "product_line": line, "state": w.code(), "note": note});
            audit::record(
                &mut tx,
                ctx,
                "whitespace_cell",
                &account_id.to_string(),
                "update",
                before.as_ref(),
                Some(&after),
            )
            .await?;
        }
        None => {
            if before.is_some() {
                audit::record(
                    &mut tx,
                    ctx,
                    "whitespace_cell",
                    &account_id.to_string(),
                    "delete",
                    before.as_ref(),
                    None,
                )
                .await?;
            }
        }
    }
    let g = grid_in(tx.conn(), caller, account_id).await?;
    tx.commit().await?;
    Ok(g)
}

/// An opportunity of the account with quote lines of the product line.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = WhitespaceOpportunity)]
pub struct CellOpportunity {
    pub id: i64,
    pub name: String,
    pub stage: String,
    #[schema(value_type = crate::web::api::contract::Money)]
    pub amount: String,
    #[schema(format = Date)]
    pub expected_close: String,
    /// Its quote with such lines (the latest), and how many of its lines are of the line.
    pub quote_id: i64,
    pub quote_number: String,
    pub lines: i64,
}

/// An order of the account with lines of the product line.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = WhitespaceOrder)]
pub struct CellOrder {
    pub id: i64,
    pub number: String,
    pub state: String,
    #[schema(value_type = crate::web::api::contract::Money)]
    pub total: String,
    /// The total of its signed version, when signed.
    #[schema(value_type = Option<crate::web::api::contract::Money>)]
    pub signed_total: Option<String>,
    pub signed_at: Option<String>,
}

/// A cell with what stands behind it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = WhitespaceCellDetail)]
pub struct CellDetail {
    pub account_id: i64,
    pub account_name: String,
    pub whole_account: bool,
    pub cell: Cell,
    pub opportunities: Vec<CellOpportunity>,
    pub orders: Vec<CellOrder>,
    pub editable: bool,
}

/// A cell of the account's grid with its opportunities (those whose quotes have lines of the
/// product line, in any stage) and its orders (those with lines of it): 404 out of scope, 422
/// for a business unit or product line the grid does not have.
pub async fn cell(
    db: &Db,
    caller: &Caller,
    account_id: i64,
    business_unit: &str,
    product_line: &str,
) -> Result<CellDetail> {
    let mut conn = db.pool.acquire().await?;
    let g = grid_in(&mut conn, caller, account_id).await?;
    let units: Vec<String> =
        if g.whole_account { vec![] } else { g.rows.iter().map(|r| r.business_unit.clone()).collect() };
    let mut e = Errors::default();
    check_cell(&mut e, &units, &g.product_lines, business_unit, product_line);
    e.finish()?;
    let (bu, line) = (business_unit.trim(), product_line.trim());
    let cell = g
        .rows
        .iter()
        .flat_map(|r| r.cells.iter())
        .find(|c| c.business_unit == bu && c.product_line == line)
        .cloned()
        .ok_or(Error::NotFound)?;
    let rows = sqlx::query(
        "SELECT op.id, op.name, op.stage, op.amount, op.expected_close, q.id AS quote_id, q.number AS quote_number, \
         COUNT(l.id) AS n FROM opportunities op JOIN quotes q ON q.opportunity_id = op.id \
         JOIN quote_versions v ON v.quote_id = q.id AND v.version_no = q.current_version \
         JOIN quote_lines l ON l.version_id = v.id JOIN products p ON p.id = l.product_id \
         WHERE op.account_id = $1 AND op.deleted_at IS NULL AND TRIM(p.category) = $2 \
         GROUP BY op.id, op.name, op.stage, op.amount, op.expected_close, q.id, q.number \
         ORDER BY op.expected_close DESC, op.id DESC, q.id DESC",
    )
    .bind(account_id)
    .bind(line)
    .fetch_all(&mut *conn)
    .await?;
    let mut opportunities: Vec<CellOpportunity> = vec![];
    for r in rows {
        let id: i64 = r.try_get("id")?;
        if opportunities.iter().any(|o| o.id == id) {
            continue;
        }
        opportunities.push(CellOpportunity {
            id,
            name: r.try_get("name")?,
            stage: r.try_get("stage")?,
            amount: money::format_fen(r.try_get("amount")?),
            expected_close: r.try_get("expected_close")?,
            quote_id: r.try_get("quote_id")?,
            quote_number: r.try_get("quote_number")?,
            lines: r.try_get("n")?,
        });
    }
    let rows = sqlx::query(
        "SELECT DISTINCT o.id, o.number, o.state, o.total, o.signed_total, o.signed_at FROM orders o \
         JOIN order_versions v ON v.order_id = o.id AND (v.version_no = o.current_version OR v.version_no = o.signed_version) \
         JOIN order_lines l ON l.version_id = v.id JOIN products p ON p.id = l.product_id \
         WHERE o.account_id = $1 AND TRIM(p.category) = $2 ORDER BY o.id DESC",
    )
    .bind(account_id)
    .bind(line)
    .fetch_all(&mut *conn)
    .await?;
    let mut orders = vec![];
    for r in rows {
        orders.push(CellOrder {
            id: r.try_get("id")?,
            number: r.try_get("number")?,
            state: r.try_get("state")?,
            total: money::format_fen(r.try_get("total")?),
            signed_total: r.try_get::<Option<i64>, _>("signed_total")?.map(money::format_fen),
            signed_at: r.try_get("signed_at")?,
        });
    }
    Ok(CellDetail {
        account_id,
        account_name: g.account_name,
        whole_account: g.whole_account,
        cell,
        opportunities,
        orders,
        editable: g.editable,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn business_units_split_on_every_separator() {
        let t = "乘用车事业部，商用车事业部\n 新能源事业部、零部件;海外事业部；乘用车事业部\n\n";
        assert_eq!(business_units(Some(t)), ["乘用车事业部", "商用车事业部", "新能源事业部", "零部件", "海外事业部"]);
        assert!(business_units(Some(" ,、; ")).is_empty());
        assert!(business_units(None).is_empty());
    }
}
