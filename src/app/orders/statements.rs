//! Bank statements (银行对账单导入; DOMAIN.md M7, issue 21): finance imports the bank's file — CSV
//! (UTF-8 or GBK) or XLSX with the columns date, payer, amount and reference (日期, 付款人, 金额,
//! 摘要/流水号) — all rows or none. Each line gets a proposed match:
//!
//! 1. by the reference: an order's contract number or an invoice number in it (the open
//!    receivables of that order), or the reference of an earlier payment (that payment's
//!    account, the oldest due first);
//! 2. by the amount: one open receivable owing exactly the amount, or one account whose open
//!    receivables together owe it; among several, the account whose name or invoicing name (开票
//!    抬头) is the payer's wins, then the oldest due;
//! 3. by the payer alone: the account of that name (the oldest due first).
//!
//! Finance confirms a line — the payment is recorded and allocated by
//! [`receivables::record_payment_in`] in the same transaction, and the line keeps the payment —
//! or ignores it with a reason. A confirmed line is never confirmed again (409).
//!
//! Who: finance (`finance_manager`) imports and confirms; the administrator may import and read
//! statements but records no payment (it sees no customer's money). Everyone else: 403.
use std::collections::HashMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::app::orders::receivables::{self, AllocationIn, PaymentIn};
use crate::app::records::audit;
use crate::app::spreadsheets::import::{self as sheets, Report, RowError, Source};
use crate::app::{Caller, Ctx, Error, Result};
use crate::db::sql::Sql;
use crate::db::{now, Db, RowLock, WriteTx};
use crate::domain::error::Errors;
use crate::domain::money::format_fen;
use crate::domain::receivable::PaymentMethod;
use crate::domain::role::Role;
use crate::domain::text;

/// The most lines a statement file holds.
pub const MAX_LINES: usize = 5_000;

/// Who may import and read statements: finance, and the administrator.
pub fn may_read(caller: &Caller) -> bool {
    matches!(caller.role, Role::FinanceManager | Role::Admin)
}

fn reader(caller: &Caller) -> Result<()> {
    if may_read(caller) {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

/// Who confirms lines (records payments): finance.
pub fn may_confirm(caller: &Caller) -> bool {
    caller.role == Role::FinanceManager
}

// ---------------------------------------------------------------------------------------------
// Reading a file: shared with the opening-balance import

/// A header as compared: trimmed, spaces dropped, lower-cased, full-width brackets made ASCII.
pub(crate) fn clean_header(h: &str) -> String {
    h.trim()
        .trim_start_matches('\u{feff}')
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_lowercase()
        .replace('（', "(")
        .replace('）', ")")
}

/// Each column's field by its header (`headers`: cleaned header → field); a field's second
/// column is kept only where `joins` names it (its cells are joined with a space).
pub(crate) fn map_columns(
    header: &[String],
    headers: &[(&str, &'static str)],
    joins: &[&str],
    report: &mut Report,
) -> Vec<Option<&'static str>> {
    let mut cols: Vec<Option<&'static str>> = vec![];
    for h in header {
        let c = clean_header(h);
        let f = headers
            .iter()
            .find(|(k, _)| *k == c)
            .map(|(_, f)| *f)
            .filter(|f| joins.contains(f) || !cols.contains(&Some(*f)));
        if f.is_none() && !h.trim().is_empty() {
            report.unknown_columns.push(h.trim().to_string());
        }
        cols.push(f);
    }
    cols
}

/// The row's value of `field` (several columns of it joined with a space).
pub(crate) fn cell(cols: &[Option<&'static str>], cells: &[String], field: &str) -> String {
    cols.iter()
        .zip(cells)
        .filter(|(c, _)| **c == Some(field))
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A day as files write it: `2027-03-10`, `2027/3/10`, `20270310`, `2027年3月10日`, with or
/// without a time after it.
pub(crate) fn parse_day(v: &str) -> std::result::Result<NaiveDate, &'static str> {
    let v = v.trim();
    if v.is_empty() {
        return Err("required");
    }
    let first = v.split([' ', 'T']).next().unwrap_or(v);
    let first = first.replace(['年', '月'], "-").replace('日', "").replace(['/', '.'], "-");
    for f in ["%Y-%m-%d", "%Y%m%d"] {
        if let Ok(d) = NaiveDate::parse_from_str(&first, f) {
            if (1990..=2200).contains(&chrono::Datelike::year(&d)) {
                return Ok(d);
            }
        }
    }
    Err("date_format")
}

/// An amount as files write it (`1,280,000.00`, `¥500`, `128万`), in fen; above 0 when
/// `positive`, else 0 or above.
pub(crate) fn parse_money(v: &str, positive: bool) -> std::result::Result<i64, &'static str> {
    let t = v.trim().trim_start_matches(['¥', '￥']).trim_end_matches('元').trim();
    if t.is_empty() {
        return Err("required");
    }
    if t.starts_with('-') {
        return Err(if positive { "amount_not_positive" } else { "negative" });
    }
    let fen = crate::domain::money::parse_amount(t)?;
    if positive && fen == 0 {
        return Err("amount_not_positive");
    }
    Ok(fen)
}

pub(crate) fn fmt_day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Refuses a cell of `row`.
pub(crate) fn refuse(report: &mut Report, row: usize, column: &str, value: &str, code: &str, max: usize) {
    report
        .refuse(RowError { row, column: column.to_string(), value: sheets::shown(value), code: code.to_string() }, max);
}

/// Header texts (as [`clean_header`] leaves them) and the field each means.
const HEADERS: &[(&str, &str)] = &[
    ("date", "date"),
    ("received_on", "date"),
    ("日期", "date"),
    ("交易日期", "date"),
    ("记账日期", "date"),
    ("入账日期", "date"),
    ("到账日期", "date"),
    ("payer", "payer"),
    ("付款人", "payer"),
    ("付款方", "payer"),
    ("付款人名称", "payer"),
    ("付款单位", "payer"),
    ("对方户名", "payer"),
    ("对方名称", "payer"),
    ("对方账户名称", "payer"),
    ("amount", "amount"),
    ("金额", "amount"),
    ("收入金额", "amount"),
    ("贷方金额", "amount"),
    ("交易金额", "amount"),
    ("到账金额", "amount"),
    ("金额(元)", "amount"),
    ("reference", "reference"),
    ("摘要", "reference"),
    ("流水号", "reference"),
    ("摘要或流水号", "reference"),
    ("交易流水号", "reference"),
    ("银行流水号", "reference"),
    ("用途", "reference"),
    ("附言", "reference"),
    ("备注", "reference"),
];

// ---------------------------------------------------------------------------------------------
// Views

// Where a statement line stands.
crate::domain::role::string_enum!(StatementLineState {
    Proposed = "proposed",
    Unmatched = "unmatched",
    Confirmed = "confirmed",
    Ignored = "ignored",
});

/// A receivable a line would pay.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProposedReceivable {
    pub id: i64,
    pub order_id: i64,
    pub order_number: String,
    pub contract_no: Option<String>,
    #[schema(format = Date)]
    pub due_on: Option<String>,
    /// What it still owes now.
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub outstanding: String,
}

/// One line of a bank statement, with its proposed (or confirmed) match.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatementLineView {
    pub id: i64,
    /// The file's row (1 = the header row).
    pub row: i64,
    #[schema(format = Date)]
    pub received_on: String,
    pub payer: Option<String>,
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub amount: String,
    pub reference: Option<String>,
    pub state: StatementLineState,
    /// How the match was found: `reference`, `amount` or `payer` (null: none).
    pub match_by: Option<String>,
    pub account_id: Option<i64>,
    pub account_name: Option<String>,
    /// The receivables the payment would go to (empty: the account's oldest due first).
    pub receivables: Vec<ProposedReceivable>,
    /// The payment a confirmed line recorded.
    pub payment_id: Option<i64>,
    pub ignore_reason: Option<String>,
    pub version: i64,
    pub updated_by: Option<String>,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// A bank statement as listed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatementRow {
    pub id: i64,
    pub file_name: Option<String>,
    pub line_count: i64,
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub total: String,
    /// Lines by state.
    pub proposed: i64,
    pub unmatched: i64,
    pub confirmed: i64,
    pub ignored: i64,
    pub created_by: String,
    pub created_by_name: String,
    #[schema(format = DateTime)]
    pub created_at: String,
}

/// A bank statement with its lines.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatementView {
    pub statement: StatementRow,
    pub lines: Vec<StatementLineView>,
    /// A dry run: the statement as it would be, not kept (its ids mean nothing).
    pub dry_run: bool,
}

const ROW_SELECT: &str = "SELECT s.*, COALESCE(u.display_name, s.created_by) AS by_name, \
     (SELECT COUNT(*) FROM bank_statement_lines l WHERE l.statement_id = s.id AND l.state = 'proposed') AS n_proposed, \
     (SELECT COUNT(*) FROM bank_statement_lines l WHERE l.statement_id = s.id AND l.state = 'unmatched') AS n_unmatched, \
     (SELECT COUNT(*) FROM bank_statement_lines l WHERE l.statement_id = s.id AND l.state = 'confirmed') AS n_confirmed, \
     (SELECT COUNT(*) FROM bank_statement_lines l WHERE l.statement_id = s.id AND l.state = 'ignored') AS n_ignored \
     FROM bank_statements s LEFT JOIN users u ON u.username = s.created_by";

fn row_view(r: &AnyRow) -> Result<StatementRow> {
    Ok(StatementRow {
        id: r.try_get("id")?,
        file_name: r.try_get("file_name")?,
        line_count: r.try_get("line_count")?,
        total: format_fen(r.try_get("total")?),
        proposed: r.try_get("n_proposed")?,
        unmatched: r.try_get("n_unmatched")?,
        confirmed: r.try_get("n_confirmed")?,
        ignored: r.try_get("n_ignored")?,
        created_by: r.try_get("created_by")?,
        created_by_name: r.try_get("by_name")?,
        created_at: r.try_get("created_at")?,
    })
}

fn line_state(r: &AnyRow) -> Result<StatementLineState> {
    let s: String = r.try_get("state")?;
    StatementLineState::parse(&s).map_err(|_| anyhow::anyhow!("a stored line state {s:?}").into())
}

fn ids_of(json: &str) -> Vec<i64> {
    serde_json::from_str(json).unwrap_or_default()
}

async fn line_view(conn: &mut sqlx::AnyConnection, r: &AnyRow) -> Result<StatementLineView> {
    let ids = ids_of(&r.try_get::<String, _>("receivable_ids")?);
    let mut receivables = vec![];
    if !ids.is_empty() {
        let mut s = Sql::new(
            "SELECT r.id, r.order_id, r.due_on, r.amount - r.paid - r.written_off AS left, d.number, d.contract_no \
             FROM receivables r JOIN orders d ON d.id = r.order_id WHERE r.id IN (",
        );
        s.bind_list(&ids).push(") ORDER BY r.due_on, r.id");
        for x in s.query().fetch_all(&mut *conn).await? {
            receivables.push(ProposedReceivable {
                id: x.try_get("id")?,
                order_id: x.try_get("order_id")?,
                order_number: x.try_get("number")?,
                contract_no: x.try_get("contract_no")?,
                due_on: x.try_get("due_on")?,
                outstanding: format_fen(x.try_get("left")?),
            });
        }
    }
    Ok(StatementLineView {
        id: r.try_get("id")?,
        row: r.try_get("row_no")?,
        received_on: r.try_get("received_on")?,
        payer: r.try_get("payer")?,
        amount: format_fen(r.try_get("amount")?),
        reference: r.try_get("reference")?,
        state: line_state(r)?,
        match_by: r.try_get("match_by")?,
        account_id: r.try_get("account_id")?,
        account_name: r.try_get("account_name")?,
        receivables,
        payment_id: r.try_get("payment_id")?,
        ignore_reason: r.try_get("ignore_reason")?,
        version: r.try_get("version")?,
        updated_by: r.try_get("updated_by")?,
        updated_at: r.try_get("updated_at")?,
    })
}

const LINE_SELECT: &str =
    "SELECT l.*, a.name AS account_name FROM bank_statement_lines l LEFT JOIN accounts a ON a.id = l.account_id";

async fn view_in(conn: &mut sqlx::AnyConnection, id: i64, dry_run: bool) -> Result<StatementView> {
    let r = sqlx::query(&format!("{ROW_SELECT} WHERE s.id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(Error::NotFound)?;
    let head = row_view(&r)?;
    let rows = sqlx::query(&format!("{LINE_SELECT} WHERE l.statement_id = $1 ORDER BY l.row_no, l.id"))
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
    let mut lines = Vec::with_capacity(rows.len());
    for l in &rows {
        lines.push(line_view(conn, l).await?);
    }
    Ok(StatementView { statement: head, lines, dry_run })
}

/// One statement with its lines.
pub async fn get(db: &Db, caller: &Caller, id: i64) -> Result<StatementView> {
    reader(caller)?;
    let mut conn = db.pool.acquire().await?;
    view_in(&mut conn, id, false).await
}

/// The statements, the latest first (at most 200).
pub async fn list(db: &Db, caller: &Caller) -> Result<Vec<StatementRow>> {
    reader(caller)?;
    sqlx::query(&format!("{ROW_SELECT} ORDER BY s.created_at DESC, s.id DESC LIMIT 200"))
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(row_view)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Matching

/// A proposed match: how, the account, the receivables (empty: the oldest due first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Proposal {
    pub by: &'static str,
    pub account_id: i64,
    pub receivables: Vec<i64>,
}

/// The reference's words that could be a number: runs of ASCII letters, digits and `-_/.`, at
/// least 4 long.
fn tokens(reference: &str) -> Vec<String> {
    let mut out: Vec<String> = reference
        .split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '/' | '.')))
        .map(|t| t.trim_matches(['-', '.', '/', '_']).to_string())
        .filter(|t| t.len() >= 4)
        .collect();
    let whole = reference.trim().to_string();
    if whole.len() >= 4 && !out.contains(&whole) {
        out.push(whole);
    }
    out.sort();
    out.dedup();
    out.truncate(50);
    out
}

/// Open receivables as (id, account, due, outstanding).
type OpenRec = (i64, i64, Option<String>, i64);

fn open_recs(rows: &[AnyRow]) -> Result<Vec<OpenRec>> {
    rows.iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("account_id")?, r.try_get("due_on")?, r.try_get("left")?)))
        .collect()
}

/// Whether the payer is the account: its name or its invoicing name, normalized.
async fn payer_accounts(conn: &mut sqlx::AnyConnection, payer: &str) -> Result<Vec<i64>> {
    let norm = text::normalize_name(payer);
    if norm.is_empty() {
        return Ok(vec![]);
    }
    let mut ids: Vec<i64> =
        sqlx::query("SELECT id FROM accounts WHERE name_norm = $1 AND deleted_at IS NULL ORDER BY id")
            .bind(norm.clone())
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| r.try_get("id"))
            .collect::<std::result::Result<_, _>>()?;
    // Invoicing names are few: compared in memory.
    for r in sqlx::query("SELECT account_id, title FROM account_invoicing").fetch_all(&mut *conn).await? {
        let title: String = r.try_get("title")?;
        let id: i64 = r.try_get("account_id")?;
        if text::normalize_name(&title) == norm && !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

const OPEN_SELECT: &str =
    "SELECT r.id, r.account_id, r.due_on, r.amount - r.paid - r.written_off AS left FROM receivables r \
     JOIN accounts a ON a.id = r.account_id WHERE r.state = 'open' AND a.deleted_at IS NULL";

/// The proposed match of a line (see the module's comment for the order of the rules).
pub(crate) async fn propose(
    conn: &mut sqlx::AnyConnection,
    amount: i64,
    payer: Option<&str>,
    reference: Option<&str>,
) -> Result<Option<Proposal>> {
    let payers = match payer {
        Some(p) => payer_accounts(conn, p).await?,
        None => vec![],
    };
    // 1. The reference: a contract number, an invoice number, an earlier payment's reference.
    if let Some(rf) = reference {
        let toks = tokens(rf);
        if !toks.is_empty() {
            let mut s =
                Sql::new(&format!("{OPEN_SELECT} AND (r.order_id IN (SELECT id FROM orders WHERE contract_no IN ("));
            s.bind_texts(&toks)
                .push(")) OR r.order_id IN (SELECT order_id FROM invoices WHERE number IN (")
                .bind_texts(&toks)
                .push("))) ORDER BY r.due_on, r.id LIMIT 200");
            let recs = open_recs(&s.query().fetch_all(&mut *conn).await?)?;
            if let Some(account) = choose_account(&recs, &payers) {
                let ids = recs.iter().filter(|r| r.1 == account).map(|r| r.0).collect();
                return Ok(Some(Proposal { by: "reference", account_id: account, receivables: ids }));
            }
            let mut s = Sql::new(
                "SELECT p.account_id FROM payments p JOIN accounts a ON a.id = p.account_id \
                 WHERE a.deleted_at IS NULL AND p.reference IN (",
            );
            s.bind_texts(&toks).push(") ORDER BY p.received_on DESC, p.id DESC LIMIT 1");
            if let Some(r) = s.query().fetch_optional(&mut *conn).await? {
                return Ok(Some(Proposal {
                    by: "reference",
                    account_id: r.try_get("account_id")?,
                    receivables: vec![],
                }));
            }
        }
    }
    // 2. The amount: one receivable owing exactly it, or one account's open receivables together.
    let recs = open_recs(
        &sqlx::query(&format!(
            "{OPEN_SELECT} AND r.amount - r.paid - r.written_off = $1 ORDER BY r.due_on, r.id LIMIT 200"
        ))
        .bind(amount)
        .fetch_all(&mut *conn)
        .await?,
    )?;
    if let Some(account) = choose_account(&recs, &payers) {
        let id = recs.iter().find(|r| r.1 == account).map(|r| r.0).into_iter().collect();
        return Ok(Some(Proposal { by: "amount", account_id: account, receivables: id }));
    }
    let sums: Vec<i64> = sqlx::query(
        "SELECT r.account_id FROM receivables r JOIN accounts a ON a.id = r.account_id \
         WHERE r.state = 'open' AND a.deleted_at IS NULL GROUP BY r.account_id \
         HAVING SUM(r.amount - r.paid - r.written_off) = $1 ORDER BY MIN(r.due_on), r.account_id LIMIT 50",
    )
    .bind(amount)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| r.try_get("account_id"))
    .collect::<std::result::Result<_, _>>()?;
    if let Some(account) = sums.iter().find(|a| payers.contains(a)).or(sums.first()) {
        let ids = open_recs(
            &sqlx::query(&format!("{OPEN_SELECT} AND r.account_id = $1 ORDER BY r.due_on, r.id LIMIT 200"))
                .bind(*account)
                .fetch_all(&mut *conn)
                .await?,
        )?
        .iter()
        .map(|r| r.0)
        .collect();
        return Ok(Some(Proposal { by: "amount", account_id: *account, receivables: ids }));
    }
    // 3. The payer alone.
    Ok(payers.first().map(|a| Proposal { by: "payer", account_id: *a, receivables: vec![] }))
}

/// Among receivables (oldest due first), the account to propose: the payer's if among them,
/// else the first's.
fn choose_account(recs: &[OpenRec], payers: &[i64]) -> Option<i64> {
    recs.iter().find(|r| payers.contains(&r.1)).or(recs.first()).map(|r| r.1)
}

// ---------------------------------------------------------------------------------------------
// Import

/// What an import did: the statement, or the report of the refused rows (nothing kept).
#[derive(Debug)]
pub enum Imported {
    Statement(Box<StatementView>),
    Refused(Report),
}

struct Parsed {
    row: usize,
    day: NaiveDate,
    payer: Option<String>,
    amount: i64,
    reference: Option<String>,
}

/// Imports a bank statement: every row checked (a date, an amount above 0; the payer and the
/// reference at most 200 characters), all rows or none, each line proposed a match. A dry run
/// answers the statement as it would be and keeps nothing.
pub async fn import(
    db: &Db,
    ctx: &Ctx,
    file_name: Option<&str>,
    src: Source,
    dry_run: bool,
    max_errors: usize,
) -> Result<Imported> {
    reader(&ctx.caller)?;
    let rows = sheets::read_all(src, MAX_LINES, "too_many_rows").await?;
    let Some((_, header)) = rows.first() else {
        return Err(Error::invalid("file", "file_empty"));
    };
    let mut report = Report::default();
    report.dry_run = dry_run;
    let cols = map_columns(header, HEADERS, &["reference"], &mut report);
    for (field, code) in [("date", "statement_date_column_missing"), ("amount", "statement_amount_column_missing")] {
        if !cols.contains(&Some(field)) {
            return Err(Error::invalid("file", code));
        }
    }
    let mut lines = vec![];
    for (line, cells) in rows.iter().skip(1) {
        if report.errors_truncated {
            break;
        }
        report.rows += 1;
        let v = |f: &str| cell(&cols, cells, f);
        let mut bad = false;
        let day = match parse_day(&v("date")) {
            Ok(d) => Some(d),
            Err(c) => {
                refuse(&mut report, *line, "date", &v("date"), c, max_errors);
                bad = true;
                None
            }
        };
        let amount = match parse_money(&v("amount"), true) {
            Ok(a) => Some(a),
            Err(c) => {
                refuse(&mut report, *line, "amount", &v("amount"), c, max_errors);
                bad = true;
                None
            }
        };
        let mut opt = |f: &str| match text::optional(Some(&v(f)), 200) {
            Ok(x) => x,
            Err(c) => {
                refuse(&mut report, *line, f, &v(f), c, max_errors);
                bad = true;
                None
            }
        };
        let payer = opt("payer");
        let reference = opt("reference");
        if let (false, Some(day), Some(amount)) = (bad, day, amount) {
            lines.push(Parsed { row: *line, day, payer, amount, reference });
        }
    }
    if report.rows == 0 {
        return Err(Error::invalid("file", "file_no_rows"));
    }
    if report.refused() {
        return Ok(Imported::Refused(report));
    }
    let mut tx = db.begin().await?;
    let at = now();
    let total: i64 = lines.iter().map(|l| l.amount).sum();
    let id: i64 = sqlx::query(
        "INSERT INTO bank_statements (file_name, line_count, total, created_by, created_at) VALUES ($1, $2, $3, $4, $5) \
         RETURNING id",
    )
    .bind(file_name.map(str::to_string).filter(|f| !f.trim().is_empty()))
    .bind(lines.len() as i64)
    .bind(total)
    .bind(ctx.caller.username.as_str())
    .bind(at.clone())
    .fetch_one(tx.conn())
    .await?
    .try_get("id")?;
    let mut matched = 0;
    for l in &lines {
        let p = propose(tx.conn(), l.amount, l.payer.as_deref(), l.reference.as_deref()).await?;
        matched += p.is_some() as usize;
        let state = if p.is_some() { StatementLineState::Proposed } else { StatementLineState::Unmatched };
        sqlx::query(
            "INSERT INTO bank_statement_lines (statement_id, row_no, received_on, payer, amount, reference, state, \
             match_by, account_id, receivable_ids, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(id)
        .bind(l.row as i64)
        .bind(fmt_day(l.day))
        .bind(l.payer.clone())
        .bind(l.amount)
        .bind(l.reference.clone())
        .bind(state.code())
        .bind(p.as_ref().map(|p| p.by))
        .bind(p.as_ref().map(|p| p.account_id))
        .bind(
            serde_json::to_string(&p.as_ref().map(|p| p.receivables.clone()).unwrap_or_default())
                .map_err(anyhow::Error::from)?,
        )
        .bind(at.clone())
        .execute(tx.conn())
        .await?;
    }
    let v = view_in(tx.conn(), id, dry_run).await?;
    if dry_run {
        tx.rollback().await?;
    } else {
        let after = json!({"file_name": v.statement.file_name, "lines": lines.len(), "total": v.statement.total, "proposed": matched});
        audit::record(&mut tx, ctx, "bank_statement", &id.to_string(), "import", None, Some(&after)).await?;
        tx.commit().await?;
    }
    Ok(Imported::Statement(Box::new(v)))
}

// ---------------------------------------------------------------------------------------------
// Confirming and ignoring

/// A line's confirmation: by default the proposed account and receivables.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmLineIn {
    /// The line's version as read (optional; a stale one is 409).
    #[serde(default)]
    pub version: Option<i64>,
    /// Another account than the proposed one (its oldest due first unless `allocations`).
    #[serde(default)]
    pub account_id: Option<i64>,
    /// By hand, as for `POST /api/v1/payments`.
    #[serde(default)]
    pub allocations: Option<Vec<AllocationIn>>,
    /// One open receivable of the account to take the line, up to what it owes (the rest, if
    /// any, is the customer's credit); not with `allocations`.
    #[serde(default)]
    pub receivable_id: Option<i64>,
}

/// A line finance leaves aside.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IgnoreLineIn {
    #[serde(default)]
    pub version: Option<i64>,
    /// Why (required, at most 500 characters).
    #[serde(default)]
    #[schema(value_type = String)]
    pub reason: Option<String>,
}

async fn locked_line(tx: &mut WriteTx, statement_id: i64, line_id: i64) -> Result<AnyRow> {
    let lock = tx.lock_clause(RowLock::Update);
    sqlx::query(&format!("SELECT * FROM bank_statement_lines WHERE id = $1 AND statement_id = $2{lock}"))
        .bind(line_id)
        .bind(statement_id)
        .fetch_optional(tx.conn())
        .await?
        .ok_or(Error::NotFound)
}

fn check_open(l: &AnyRow, version: Option<i64>) -> Result<()> {
    let state = line_state(l)?;
    match state {
        StatementLineState::Confirmed => return Err(Error::Conflict("line_confirmed")),
        StatementLineState::Ignored => return Err(Error::Conflict("line_ignored")),
        _ => {}
    }
    let current: i64 = l.try_get("version")?;
    match version {
        Some(v) if v != current => Err(Error::StaleVersion { current }),
        _ => Ok(()),
    }
}

/// Confirms one line inside `tx`: records the payment and keeps it on the line.
async fn confirm_in(tx: &mut WriteTx, ctx: &Ctx, statement_id: i64, line_id: i64, inp: &ConfirmLineIn) -> Result<i64> {
    let l = locked_line(tx, statement_id, line_id).await?;
    check_open(&l, inp.version)?;
    let proposed: Option<i64> = l.try_get("account_id")?;
    let Some(account) = inp.account_id.or(proposed) else {
        return Err(Error::invalid("account_id", "required"));
    };
    let amount: i64 = l.try_get("amount")?;
    // The proposed receivables, each what it still owes, the oldest due first, up to the amount.
    let allocations = match (&inp.allocations, inp.receivable_id) {
        (Some(_), Some(_)) => return Err(Error::invalid("receivable_id", "not_allowed")),
        (Some(a), None) => Some(a.clone()),
        (None, Some(r)) => {
            let mut s = Sql::new(&format!("{OPEN_SELECT} AND r.account_id = "));
            s.bind(account).push(" AND r.id = ").bind(r);
            let owes = open_recs(&s.query().fetch_all(tx.conn()).await?)?.into_iter().next().map(|x| x.3);
            let Some(owes) = owes.filter(|o| *o > 0) else {
                return Err(Error::invalid("receivable_id", "receivable_not_open"));
            };
            Some(vec![AllocationIn { receivable_id: r, amount: format_fen(amount.min(owes)) }])
        }
        (None, None) if Some(account) == proposed => {
            let ids = ids_of(&l.try_get::<String, _>("receivable_ids")?);
            if ids.is_empty() {
                None
            } else {
                let mut s = Sql::new(&format!("{OPEN_SELECT} AND r.account_id = "));
                s.bind(account).push(" AND r.id IN (").bind_list(&ids).push(") ORDER BY r.due_on, r.id");
                let mut left = amount;
                let mut out = vec![];
                for (id, _, _, owes) in open_recs(&s.query().fetch_all(tx.conn()).await?)? {
                    let take = left.min(owes);
                    if take > 0 {
                        out.push(AllocationIn { receivable_id: id, amount: format_fen(take) });
                        left -= take;
                    }
                }
                // None of them owes anything any more: the oldest due first.
                (!out.is_empty()).then_some(out)
            }
        }
        (None, None) => None,
    };
    let row: i64 = l.try_get("row_no")?;
    let payment = PaymentIn {
        account_id: Some(account),
        received_on: Some(l.try_get("received_on")?),
        amount: Some(format_fen(amount)),
        method: Some(PaymentMethod::Transfer),
        reference: l.try_get("reference")?,
        payer: l.try_get("payer")?,
        note: Some(format!("银行对账单 #{statement_id} 第 {row} 行")),
        allocations,
    };
    let p = receivables::record_payment_in(tx, ctx, &payment).await?;
    sqlx::query(
        "UPDATE bank_statement_lines SET state = 'confirmed', account_id = $1, payment_id = $2, version = version + 1, \
         updated_by = $3, updated_at = $4 WHERE id = $5",
    )
    .bind(account)
    .bind(p.id)
    .bind(ctx.caller.username.as_str())
    .bind(now())
    .bind(line_id)
    .execute(tx.conn())
    .await?;
    let after = json!({"line": line_id, "row": row, "account_id": account, "payment": p.id, "amount": p.amount,
        "allocations": p.allocations.iter().map(|a| json!({"receivable_id": a.receivable_id, "amount": a.amount})).collect::<Vec<_>>()});
    audit::record(tx, ctx, "bank_statement", &statement_id.to_string(), "confirm_line", None, Some(&after)).await?;
    Ok(p.id)
}

/// Confirms a line: the payment recorded and allocated (the proposed receivables, or by hand,
/// or the account's oldest due first), all in one transaction. A confirmed or ignored line: 409.
pub async fn confirm(
    db: &Db,
    ctx: &Ctx,
    statement_id: i64,
    line_id: i64,
    inp: &ConfirmLineIn,
) -> Result<StatementLineView> {
    reader(&ctx.caller)?;
    if !may_confirm(&ctx.caller) {
        return Err(Error::Forbidden);
    }
    let mut tx = db.begin().await?;
    confirm_in(&mut tx, ctx, statement_id, line_id, inp).await?;
    let r = sqlx::query(&format!("{LINE_SELECT} WHERE l.id = $1")).bind(line_id).fetch_one(tx.conn()).await?;
    let v = line_view(tx.conn(), &r).await?;
    tx.commit().await?;
    Ok(v)
}

/// Confirms every proposed line of the statement as proposed, in one transaction (any refused:
/// none). Answers how many were confirmed.
pub async fn confirm_proposed(db: &Db, ctx: &Ctx, statement_id: i64) -> Result<usize> {
    reader(&ctx.caller)?;
    if !may_confirm(&ctx.caller) {
        return Err(Error::Forbidden);
    }
    let mut tx = db.begin().await?;
    sqlx::query("SELECT id FROM bank_statements WHERE id = $1")
        .bind(statement_id)
        .fetch_optional(tx.conn())
        .await?
        .ok_or(Error::NotFound)?;
    let ids: Vec<i64> = sqlx::query(
        "SELECT id FROM bank_statement_lines WHERE statement_id = $1 AND state = 'proposed' ORDER BY row_no, id",
    )
    .bind(statement_id)
    .fetch_all(tx.conn())
    .await?
    .iter()
    .map(|r| r.try_get("id"))
    .collect::<std::result::Result<_, _>>()?;
    for id in &ids {
        confirm_in(&mut tx, ctx, statement_id, *id, &ConfirmLineIn::default()).await?;
    }
    tx.commit().await?;
    Ok(ids.len())
}

/// Leaves a line aside with a reason (not once confirmed).
pub async fn ignore(
    db: &Db,
    ctx: &Ctx,
    statement_id: i64,
    line_id: i64,
    inp: &IgnoreLineIn,
) -> Result<StatementLineView> {
    reader(&ctx.caller)?;
    if !may_confirm(&ctx.caller) {
        return Err(Error::Forbidden);
    }
    let mut e = Errors::default();
    let reason = e.take("reason", text::required(inp.reason.as_deref(), 500));
    e.finish()?;
    let mut tx = db.begin().await?;
    let l = locked_line(&mut tx, statement_id, line_id).await?;
    check_open(&l, inp.version)?;
    sqlx::query(
        "UPDATE bank_statement_lines SET state = 'ignored', ignore_reason = $1, version = version + 1, updated_by = $2, \
         updated_at = $3 WHERE id = $4",
    )
    .bind(reason.clone())
    .bind(ctx.caller.username.as_str())
    .bind(now())
    .bind(line_id)
    .execute(tx.conn())
    .await?;
    let after = json!({"line": line_id, "row": l.try_get::<i64, _>("row_no")?, "reason": reason});
    audit::record(&mut tx, ctx, "bank_statement", &statement_id.to_string(), "ignore_line", None, Some(&after)).await?;
    let r = sqlx::query(&format!("{LINE_SELECT} WHERE l.id = $1")).bind(line_id).fetch_one(tx.conn()).await?;
    let v = line_view(tx.conn(), &r).await?;
    tx.commit().await?;
    Ok(v)
}

/// For the statement page's pickers: the accounts with open receivables (id, name), by name,
/// and each one's open receivables.
pub async fn pick_accounts(db: &Db, caller: &Caller) -> Result<Vec<(i64, String)>> {
    reader(caller)?;
    sqlx::query(
        "SELECT a.id, a.name FROM accounts a WHERE a.deleted_at IS NULL AND EXISTS \
         (SELECT 1 FROM receivables r WHERE r.account_id = a.id AND r.state = 'open') ORDER BY a.name_norm, a.id LIMIT 1000",
    )
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("id")?, r.try_get("name")?)))
    .collect()
}

/// The open receivables of the accounts `ids`, by account (for the line forms' selects).
pub async fn open_of(db: &Db, ids: &[i64]) -> Result<HashMap<i64, Vec<ProposedReceivable>>> {
    let mut out: HashMap<i64, Vec<ProposedReceivable>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let mut s = Sql::new(
        "SELECT r.id, r.account_id, r.order_id, r.due_on, r.amount - r.paid - r.written_off AS left, d.number, \
         d.contract_no FROM receivables r JOIN orders d ON d.id = r.order_id WHERE r.state = 'open' AND r.account_id IN (",
    );
    s.bind_list(ids).push(") ORDER BY r.due_on, r.id");
    for x in s.query().fetch_all(&db.pool).await? {
        out.entry(x.try_get("account_id")?).or_default().push(ProposedReceivable {
            id: x.try_get("id")?,
            order_id: x.try_get("order_id")?,
            order_number: x.try_get("number")?,
            contract_no: x.try_get("contract_no")?,
            due_on: x.try_get("due_on")?,
            outstanding: format_fen(x.try_get("left")?),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_amounts_as_banks_write_them() {
        let d = NaiveDate::from_ymd_opt(2027, 3, 10).expect("day");
        for v in ["2027-03-10", "2027/3/10", "20270310", "2027年3月10日", "2027-03-10 14:22:01", "2027.03.10"] {
            assert_eq!(parse_day(v), Ok(d), "{v}");
        }
        assert_eq!(parse_day("2027-02-30"), Err("date_format"));
        assert_eq!(parse_day(""), Err("required"));
        assert_eq!(parse_money("1,280,000.00", true), Ok(128_000_000));
        assert_eq!(parse_money("¥500", true), Ok(50_000));
        assert_eq!(parse_money("0", true), Err("amount_not_positive"));
        assert_eq!(parse_money("-5", true), Err("amount_not_positive"));
        assert_eq!(parse_money("abc", true), Err("money_format"));
        assert_eq!(parse_money("", true), Err("required"));
    }

    #[test]
    fn a_reference_gives_its_numbers() {
        let t = tokens("货款HT-2027-001，发票04418821 星河");
        assert!(t.contains(&"HT-2027-001".to_string()) && t.contains(&"04418821".to_string()), "{t:?}");
    }
}
