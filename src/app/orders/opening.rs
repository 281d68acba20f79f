//! Opening balances (期初导入; issue 21): when a company starts with KAM, an administrator or
//! finance imports the ERP's open orders and what their customers still owe — XLSX or CSV
//! (UTF-8 or GBK), one row per order: account (name or 统一社会信用代码), contract number, order
//! date, amount, due date, amount still owed, owner (username; the account's owner when empty),
//! note. All rows or none; each refused cell named by row and column.
//!
//! Each row becomes an order signed on its order date without the sign-off flow, marked
//! `imported_at` (an audit row `import_opening` each), with one line (the amount) and one
//! installment — the whole amount, due `due − order date` days after the order — whose
//! receivable shows what was paid so far (amount − owed, no payment rows) and is open for the
//! rest (paid, when nothing is owed). The aging report, the account's statement and the
//! collection worklist read it as any other receivable. Imported orders do not enter the
//! logistics worklist (what the ERP delivered is not known).
use std::collections::HashMap;

use chrono::NaiveDate;
use serde_json::json;
use sqlx::Row;

use super::statements::{cell, fmt_day, map_columns, parse_day, parse_money, refuse};
use crate::app::customers::accounts;
use crate::app::records::audit;
use crate::app::spreadsheets::import::{self as sheets, Report, Source};
use crate::app::{Caller, Ctx, Error, Result};
use crate::db::{now, Db};
use crate::domain::role::Role;
use crate::domain::text;

/// The most rows a file holds.
pub const MAX_ROWS: usize = 50_000;

/// Who imports opening balances: the administrator and finance.
pub fn may_import(caller: &Caller) -> bool {
    matches!(caller.role, Role::Admin | Role::FinanceManager)
}

const HEADERS: &[(&str, &str)] = &[
    ("account", "account"),
    ("客户", "account"),
    ("客户名称", "account"),
    ("单位名称", "account"),
    ("客户编码", "account"),
    ("统一社会信用代码", "account"),
    ("contract_no", "contract_no"),
    ("contractnumber", "contract_no"),
    ("contract_number", "contract_no"),
    ("合同号", "contract_no"),
    ("合同编号", "contract_no"),
    ("合同编码", "contract_no"),
    ("order_date", "order_date"),
    ("订单日期", "order_date"),
    ("签订日期", "order_date"),
    ("合同日期", "order_date"),
    ("amount", "amount"),
    ("金额", "amount"),
    ("订单金额", "amount"),
    ("合同金额", "amount"),
    ("due_date", "due_on"),
    ("due_on", "due_on"),
    ("到期日", "due_on"),
    ("到期日期", "due_on"),
    ("应收到期日", "due_on"),
    ("owed", "owed"),
    ("outstanding", "owed"),
    ("amount_owed", "owed"),
    ("未收金额", "owed"),
    ("尚欠金额", "owed"),
    ("应收余额", "owed"),
    ("欠款金额", "owed"),
    ("owner", "owner"),
    ("负责人", "owner"),
    ("客户经理", "owner"),
    ("销售", "owner"),
    ("业务员", "owner"),
    ("note", "note"),
    ("notes", "note"),
    ("备注", "note"),
];

struct Row_ {
    line: usize,
    account: i64,
    owner: i64,
    contract_no: String,
    ordered: NaiveDate,
    amount: i64,
    due: NaiveDate,
    owed: i64,
    note: Option<String>,
}

/// Imports the ERP's open orders and receivables (see the module's comment). A dry run checks
/// every row and writes nothing.
pub async fn import(db: &Db, ctx: &Ctx, src: Source, dry_run: bool, max_errors: usize) -> Result<Report> {
    if !may_import(&ctx.caller) {
        return Err(Error::Forbidden);
    }
    let rows = sheets::read_all(src, MAX_ROWS, "too_many_rows").await?;
    let Some((_, header)) = rows.first() else {
        return Err(Error::invalid("file", "file_empty"));
    };
    let mut report = Report::default();
    report.dry_run = dry_run;
    let cols = map_columns(header, HEADERS, &[], &mut report);
    for f in ["account", "contract_no", "order_date", "amount", "due_on", "owed"] {
        if !cols.contains(&Some(f)) {
            return Err(Error::invalid("file", "opening_column_missing"));
        }
    }
    let mut tx = db.begin().await?;
    // Accounts by the text a row gives (id and owner; None: none or several), owners by username.
    let mut account_of: HashMap<String, std::result::Result<(i64, Option<i64>), &'static str>> = HashMap::new();
    let mut owner_of: HashMap<String, Option<i64>> = HashMap::new();
    let mut first_row: HashMap<String, usize> = HashMap::new();
    let mut good = vec![];
    for (line, cells) in rows.iter().skip(1) {
        if report.errors_truncated {
            break;
        }
        report.rows += 1;
        let line = *line;
        let v = |f: &str| cell(&cols, cells, f);
        let before = report.errors.len();
        let bad = |report: &mut Report, f: &str, code: &str| refuse(report, line, f, &v(f), code, max_errors);
        // The account: by name (as written or normalized) or by credit code.
        let acc_text = v("account");
        let account = if acc_text.is_empty() {
            bad(&mut report, "account", "required");
            None
        } else {
            if !account_of.contains_key(&acc_text) {
                let found = sqlx::query(
                    "SELECT id, owner_id FROM accounts WHERE deleted_at IS NULL AND (name = $1 OR name_norm = $2 \
                     OR credit_code = $1) ORDER BY id LIMIT 2",
                )
                .bind(acc_text.clone())
                .bind(text::normalize_name(&acc_text))
                .fetch_all(tx.conn())
                .await?;
                let r = match found.as_slice() {
                    [one] => Ok((one.try_get("id")?, one.try_get("owner_id")?)),
                    [] => Err("account_unknown"),
                    _ => Err("account_ambiguous"),
                };
                account_of.insert(acc_text.clone(), r);
            }
            match account_of[&acc_text] {
                Ok(a) => Some(a),
                Err(code) => {
                    bad(&mut report, "account", code);
                    None
                }
            }
        };
        let contract_no = match text::required(Some(&v("contract_no")), 50) {
            Ok(c) => {
                if let Some(first) = first_row.get(&c) {
                    bad(&mut report, "contract_no", &format!("duplicate_in_file:{first}"));
                } else {
                    first_row.insert(c.clone(), line);
                    let taken = sqlx::query("SELECT id FROM orders WHERE contract_no = $1")
                        .bind(c.clone())
                        .fetch_optional(tx.conn())
                        .await?;
                    if taken.is_some() {
                        bad(&mut report, "contract_no", "contract_no_taken");
                    }
                }
                Some(c)
            }
            Err(code) => {
                bad(&mut report, "contract_no", code);
                None
            }
        };
        let day = |report: &mut Report, f: &str| match parse_day(&v(f)) {
            Ok(d) => Some(d),
            Err(code) => {
                refuse(report, line, f, &v(f), code, max_errors);
                None
            }
        };
        let ordered = day(&mut report, "order_date");
        let due = day(&mut report, "due_on");
        let amount = match parse_money(&v("amount"), true) {
            Ok(a) => Some(a),
            Err(code) => {
                bad(&mut report, "amount", code);
                None
            }
        };
        let owed = match parse_money(&v("owed"), false) {
            Ok(a) => Some(a),
            Err(code) => {
                bad(&mut report, "owed", code);
                None
            }
        };
        if let (Some(a), Some(o)) = (amount, owed) {
            if o > a {
                bad(&mut report, "owed", "owed_above_amount");
            }
        }
        if let (Some(o), Some(d)) = (ordered, due) {
            if d < o {
                bad(&mut report, "due_on", "due_before_order_date");
            }
        }
        let owner_text = v("owner");
        let owner = if owner_text.is_empty() {
            match account {
                Some((_, Some(o))) => Some(o),
                Some((_, None)) => {
                    bad(&mut report, "owner", "required");
                    None
                }
                None => None,
            }
        } else {
            if !owner_of.contains_key(&owner_text) {
                let id = accounts::active_user_id(tx.conn(), &owner_text).await?;
                owner_of.insert(owner_text.clone(), id);
            }
            let o = owner_of[&owner_text];
            if o.is_none() {
                bad(&mut report, "owner", "owner_unknown");
            }
            o
        };
        let note = match text::optional(Some(&v("note")), 1000) {
            Ok(n) => n,
            Err(code) => {
                bad(&mut report, "note", code);
                None
            }
        };
        if report.errors.len() > before || report.errors_truncated {
            continue;
        }
        if let (
            Some((account, _)),
            Some(owner),
            Some(contract_no),
            Some(ordered),
            Some(amount),
            Some(due),
            Some(owed),
        ) = (account, owner, contract_no, ordered, amount, due, owed)
        {
            good.push(Row_ { line, account, owner, contract_no, ordered, amount, due, owed, note });
        }
    }
    if report.rows == 0 {
        return Err(Error::invalid("file", "file_no_rows"));
    }
    if report.refused() {
        tx.rollback().await?;
        return Ok(report);
    }
    let at = now();
    for r in &good {
        write_row(&mut tx, ctx, r, &at).await?;
        report.created += 1;
    }
    let touched: std::collections::BTreeSet<i64> = good.iter().map(|r| r.account).collect();
    for account in touched {
        crate::app::orders::aging_summary::touch(&mut tx, account).await?;
        // The orders count as signed on their order dates: the months' actuals follow.
        let change = crate::app::customers::derived::Change::Orders;
        crate::app::customers::derived::refresh(&mut tx, account, &ctx.caller.username, change).await?;
    }
    if dry_run {
        tx.rollback().await?;
    } else {
        tx.commit().await?;
        report.committed = true;
    }
    Ok(report)
}

async fn write_row(tx: &mut crate::db::WriteTx, ctx: &Ctx, r: &Row_, at: &str) -> Result<()> {
    let days = (r.due - r.ordered).num_days();
    // Noon in China: the order date whatever the owner's time zone.
    let signed_at = format!("{}T04:00:00.000000Z", fmt_day(r.ordered));
    let id: i64 = sqlx::query(
        "INSERT INTO orders (number, account_id, owner_id, contract_no, current_version, state, total, line_count, \
         signed_version, signed_total, signed_at, version, created_by, created_at, updated_at, imported_at) \
         VALUES ($1, $2, $3, $4, 1, 'signed', $5, 1, 1, $5, $6, 1, $7, $8, $8, $8) RETURNING id",
    )
    .bind(format!("tmp-{}-{}-{}", ctx.request_id, r.line, at))
    .bind(r.account)
    .bind(r.owner)
    .bind(r.contract_no.clone())
    .bind(r.amount)
    .bind(signed_at.clone())
    .bind(ctx.caller.username.as_str())
    .bind(at.to_string())
    .fetch_one(tx.conn())
    .await?
    .try_get("id")?;
    let number = format!("SO{}-{:06}", r.ordered.format("%Y"), id);
    sqlx::query("UPDATE orders SET number = $1 WHERE id = $2").bind(number.clone()).bind(id).execute(tx.conn()).await?;
    let terms = json!([{"kind": "on_delivery", "percent_bp": 10000, "days": days, "event": "order"}]).to_string();
    let vid: i64 = sqlx::query(
        "INSERT INTO order_versions (order_id, version_no, state, contract_no, payment_terms, notes, total, total_excl, \
         tax, cost, cost_complete, within_authority, created_by, created_at, submitted_at, signed_at) \
         VALUES ($1, 1, 'signed', $2, $3, $4, $5, $5, 0, 0, 0, 1, $6, $7, $8, $8) RETURNING id",
    )
    .bind(id)
    .bind(r.contract_no.clone())
    .bind(terms)
    .bind(r.note.clone())
    .bind(r.amount)
    .bind(ctx.caller.username.as_str())
    .bind(at.to_string())
    .bind(signed_at)
    .fetch_one(tx.conn())
    .await?
    .try_get("id")?;
    sqlx::query(&format!(
        "{}($1, 0, NULL, NULL, $2, NULL, $3, 1000, NULL, $4, 0, $4, 0, $4, 0, NULL)",
        super::orders::LINE_COLUMNS
    ))
    .bind(vid)
    .bind(format!("期初导入 {}", r.contract_no))
    .bind("项")
    .bind(r.amount)
    .execute(tx.conn())
    .await?;
    let paid = r.amount - r.owed;
    let state = if r.owed > 0 { "open" } else { "paid" };
    sqlx::query(
        "INSERT INTO receivables (account_id, order_id, owner_id, position, kind, event, days, amount, event_on, due_on, \
         paid, paid_in_full_on, state, created_at, updated_at) \
         VALUES ($1, $2, $3, 0, 'on_delivery', 'order', $4, $5, $6, $7, $8, $9, $10, $11, $11)",
    )
    .bind(r.account)
    .bind(id)
    .bind(r.owner)
    .bind(days)
    .bind(r.amount)
    .bind(fmt_day(r.ordered))
    .bind(fmt_day(r.due))
    .bind(paid)
    .bind((r.owed == 0).then(|| fmt_day(r.due)))
    .bind(state)
    .bind(at.to_string())
    .execute(tx.conn())
    .await?;
    let after = json!({"order_number": number, "contract_no": r.contract_no, "order_date": fmt_day(r.ordered),
        "total": crate::domain::money::format_fen(r.amount), "due_on": fmt_day(r.due),
        "owed": crate::domain::money::format_fen(r.owed), "row": r.line});
    audit::record(tx, ctx, "order", &id.to_string(), "import_opening", None, Some(&after)).await?;
    Ok(())
}
