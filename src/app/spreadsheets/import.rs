//! Importing accounts and contacts from a spreadsheet: CSV in UTF-8 (with or without BOM) or
//! GB18030/GBK as Excel on Chinese Windows writes it (detected), or XLSX; Chinese or English
//! headers, or a mapping the user chose for headers we do not know.
//!
//! The file is streamed: a blocking thread reads rows (CSV record by record, XLSX cell by cell)
//! and hands them over in batches, so memory stays flat however long the file is. Accounts are
//! checked row by row by the same rules as the form ([`accounts::prepare_new`]), matched against
//! existing accounts and earlier rows per batch, and written with multi-row statements.
//! Everything goes in one transaction: any rejected row means nothing is written (and a dry run
//! never writes). Every problem is reported by row, column, value and reason.
use std::collections::{HashMap, HashSet};
use std::io::{Read, Seek};

use serde::Serialize;
use sqlx::Row as _;

use super::bounds;
use crate::app::records::input::Input;
use crate::app::{customers::accounts, customers::contacts, Ctx, Error, Result};
use crate::db::{Db, WriteTx};
use crate::domain::{money, text};

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Accounts,
    Contacts,
}

impl Kind {
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "accounts" => Some(Kind::Accounts),
            "contacts" => Some(Kind::Contacts),
            _ => None,
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            Kind::Accounts => "accounts",
            Kind::Contacts => "contacts",
        }
    }
    /// The fields a column can fill, in the order a mapping form offers them: those the form
    /// edits (and a contact's account, by name or credit code).
    pub fn fields(self) -> &'static [&'static str] {
        static ACCOUNTS: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
        static CONTACTS: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
        match self {
            Kind::Accounts => {
                ACCOUNTS.get_or_init(|| accounts::EDIT_FIELDS.iter().chain(accounts::ASSIGN_FIELDS).copied().collect())
            }
            Kind::Contacts => CONTACTS.get_or_init(|| {
                ["account", "account_credit_code"].into_iter().chain(contacts::EDIT_FIELDS.iter().copied()).collect()
            }),
        }
    }
    fn headers(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Kind::Accounts => ACCOUNT_HEADERS,
            Kind::Contacts => CONTACT_HEADERS,
        }
    }
}

/// A mapping given as `HEADER:field` items (`HEADER:` ignores the column), checked against the
/// fields of the kind.
pub fn parse_mapping<'a>(kind: Kind, items: impl IntoIterator<Item = &'a str>) -> Result<Vec<(String, String)>> {
    let mut out = vec![];
    for m in items {
        let (h, f) = m.rsplit_once(':').ok_or_else(|| Error::invalid("map", "map_format"))?;
        if !f.is_empty() && !kind.fields().contains(&f) {
            return Err(Error::invalid("map", "invalid_choice"));
        }
        out.push((h.to_string(), f.to_string()));
    }
    Ok(out)
}

/// Who may import accounts and contacts: whoever may create them (the pages ask this too).
pub fn may_import(caller: &crate::app::Caller) -> bool {
    caller.role.edits_accounts()
}

/// Header texts (lower-cased, spaces removed, full-width brackets made ASCII) and the field
/// each means, besides the field codes themselves and their labels in either language.
const ACCOUNT_HEADERS: &[(&str, &str)] = &[
    ("名称", "name"),
    ("客户名称", "name"),
    ("单位名称", "name"),
    ("企业名称", "name"),
    ("简称", "short_name"),
    ("客户简称", "short_name"),
    ("统一社会信用代码", "credit_code"),
    ("信用代码", "credit_code"),
    ("行业", "industry"),
    ("所属行业", "industry"),
    ("级别", "level"),
    ("客户级别", "level"),
    ("大区", "region"),
    ("分公司", "branch"),
    ("客户经理", "owner"),
    ("客户经理(ae)", "owner"),
    ("内部销售", "inside_owner"),
    ("内部销售(sr)", "inside_owner"),
    ("大客户经理", "ka_manager"),
    ("地址", "address"),
    ("网址", "website"),
    ("服务业务部门", "business_units"),
    ("年度采购量", "buying_power"),
    ("年度采购量(元)", "buying_power"),
    ("近12个月销售额", "sales_12m"),
    ("近12个月销售额(元)", "sales_12m"),
    ("利润率", "profit_margin"),
    ("利润率(%)", "profit_margin"),
    ("付款期限", "payment_terms_days"),
    ("付款期限(天)", "payment_terms_days"),
    ("销售费用率", "sales_expense_ratio"),
    ("销售费用率(%)", "sales_expense_ratio"),
    ("标签", "tags"),
    ("备注", "notes"),
];

const CONTACT_HEADERS: &[(&str, &str)] = &[
    ("客户", "account"),
    ("客户名称", "account"),
    ("单位名称", "account"),
    ("account_name", "account"),
    ("统一社会信用代码", "account_credit_code"),
    ("信用代码", "account_credit_code"),
    ("credit_code", "account_credit_code"),
    ("姓名", "name"),
    ("联系人", "name"),
    ("联系人姓名", "name"),
    ("性别", "gender"),
    ("生日", "birthday"),
    ("出生日期", "birthday"),
    ("部门", "department"),
    ("职务", "title"),
    ("职位", "title"),
    ("直接上级", "reports_to"),
    ("上级", "reports_to"),
    ("汇报对象", "reports_to"),
    ("决策角色", "decision_role"),
    ("角色", "decision_role"),
    ("态度", "attitude"),
    ("关系", "relationship"),
    ("关系强度", "relationship"),
    ("关系程度", "relationship"),
    ("兴趣爱好", "interests"),
    ("爱好", "interests"),
    ("电话", "phone"),
    ("手机", "phone"),
    ("邮箱", "email"),
    ("电子邮件", "email"),
    ("最近联系", "last_contact_on"),
    ("最近联系日期", "last_contact_on"),
];

/// Fields whose values are codes, also accepted as their label in either language.
const CHOICES: &[(&str, &[&str])] = &[
    ("industry", &["government", "military", "enterprise", "education", "finance", "power", "telecom", "other"]),
    ("level", &["L1", "L2", "L3"]),
    ("decision_role", &["decision_maker", "policy_maker", "influencer", "end_user", "gatekeeper"]),
    ("attitude", &["supporter", "neutral", "opponent"]),
    ("gender", &["male", "female"]),
];

/// Cell values reported back are cut to this many characters (the cell itself is refused whole).
const SHOWN_CHARS: usize = 200;
/// Rows handed over from the reader at a time, or fewer when they hold this many bytes.
const BATCH: usize = 500;
const BATCH_BYTES: usize = 4 << 20;

#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct RowError {
    /// The spreadsheet row (1 = the header row).
    pub row: usize,
    pub column: String,
    pub value: String,
    pub code: String,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, Default, utoipa::ToSchema)]
pub struct Report {
    pub rows: usize,
    pub created: usize,
    /// Existing records a row matched and updated (only when asked to).
    pub updated: usize,
    pub dry_run: bool,
    pub committed: bool,
    pub unknown_columns: Vec<String>,
    pub errors: Vec<RowError>,
    /// More rows were refused than `errors` lists: the import stopped at its limit of refused
    /// rows, and the rest of the file was not checked.
    #[serde(default)]
    pub errors_truncated: bool,
    /// The rows `errors` names (what the limit counts).
    #[serde(skip)]
    refused_rows: HashSet<usize>,
}

impl Report {
    /// Whether any row was refused (listed or not).
    pub fn refused(&self) -> bool {
        !self.errors.is_empty() || self.errors_truncated
    }

    /// Lists a refused cell, unless `max` rows are listed already and this is another one:
    /// then it only notes that there are more.
    pub(crate) fn refuse(&mut self, e: RowError, max: usize) {
        if !self.refused_rows.contains(&e.row) {
            if self.refused_rows.len() >= max.max(1) {
                self.errors_truncated = true;
                return;
            }
            self.refused_rows.insert(e.row);
        }
        self.errors.push(e);
    }

    pub(crate) fn refuse_all(&mut self, es: impl IntoIterator<Item = RowError>, max: usize) {
        for e in es {
            self.refuse(e, max);
        }
    }
}

/// What to do with a row that matches an existing record (an account with the same credit code
/// or name, a contact of the same name on the same account).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnMatch {
    /// Report it as a row error (the default).
    #[default]
    Report,
    /// Update the existing record with the row's non-empty values.
    Update,
}

#[derive(Debug, Clone)]
pub struct Options {
    pub dry_run: bool,
    pub on_match: OnMatch,
    /// Header → field for headers the built-in names do not cover; field `""` ignores the
    /// column on purpose.
    pub mapping: Vec<(String, String)>,
    /// Refused rows listed before the import stops ([`bounds::MAX_ERRORS`] by default).
    pub max_errors: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options { dry_run: false, on_match: OnMatch::default(), mapping: vec![], max_errors: bounds::MAX_ERRORS }
    }
}

/// A spreadsheet to read: bytes in memory (an upload) or a file.
pub struct Source(Box<dyn ReadSeek>);

pub trait ReadSeek: Read + Seek + Send {}
impl<T: Read + Seek + Send> ReadSeek for T {}

impl Source {
    pub fn bytes(b: impl AsRef<[u8]> + Send + 'static) -> Source {
        Source(Box::new(std::io::Cursor::new(b)))
    }
    pub fn file(path: &std::path::Path) -> std::io::Result<Source> {
        Ok(Source(Box::new(std::io::BufReader::with_capacity(256 * 1024, std::fs::File::open(path)?))))
    }
}

// ---------------------------------------------------------------------------------------------
// Reading.

fn file_err(code: &'static str) -> Error {
    Error::invalid("file", code)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Utf8,
    Gb18030,
}

/// UTF-8 when the start of the file is valid UTF-8 (a BOM says so too), GB18030 (a superset of
/// GBK, as Excel on Chinese Windows saves "CSV") otherwise.
fn detect(prefix: &[u8]) -> Encoding {
    if prefix.starts_with(b"\xEF\xBB\xBF") {
        return Encoding::Utf8;
    }
    match std::str::from_utf8(prefix) {
        Ok(_) => Encoding::Utf8,
        // Cut in the middle of a character at the end of the prefix: still UTF-8.
        Err(e) if e.error_len().is_none() => Encoding::Utf8,
        Err(_) => Encoding::Gb18030,
    }
}

fn decode_cell(enc: Encoding, b: &[u8]) -> Result<String> {
    match enc {
        Encoding::Utf8 => std::str::from_utf8(b).map(str::to_string).map_err(|_| file_err("encoding_unknown")),
        Encoding::Gb18030 => encoding_rs::GB18030
            .decode_without_bom_handling_and_without_replacement(b)
            .map(|s| s.into_owned())
            .ok_or_else(|| file_err("encoding_unknown")),
    }
}

/// Reads every row, header first, giving each with its spreadsheet row number to `emit` (which
/// answers false to stop early). Rows with no cells are skipped. Each row is bounded as it comes
/// ([`bounds::Rows`]): a file past a limit is refused there, having been read no further.
fn read_rows(src: Source, mut emit: impl FnMut(usize, Vec<String>) -> bool) -> Result<()> {
    let mut rows = bounds::Rows::default();
    let mut refused = None;
    let res = read_rows_unbounded(src, |line, mut row| match rows.check(&mut row) {
        Ok(()) => emit(line, row),
        Err(code) => {
            refused = Some(code);
            false
        }
    });
    match refused {
        Some(code) => Err(file_err(code)),
        None => res,
    }
}

fn read_rows_unbounded(src: Source, mut emit: impl FnMut(usize, Vec<String>) -> bool) -> Result<()> {
    let mut r = src.0;
    let mut magic = [0u8; 4];
    let n = read_full(&mut r, &mut magic)?;
    r.seek(std::io::SeekFrom::Start(0)).map_err(|_| file_err("file_unreadable"))?;
    if n == 0 {
        return Err(file_err("file_empty"));
    }
    if magic.starts_with(b"PK\x03\x04") {
        bounds::check_xlsx(&mut r).map_err(file_err)?;
        return read_xlsx(r, emit);
    }
    if magic.starts_with(b"\xD0\xCF\x11\xE0") {
        // The binary Excel 97–2003 format.
        return Err(file_err("xls_not_supported"));
    }
    // CSV: the structure characters are ASCII, and GBK/GB18030 never uses ASCII bytes inside a
    // character for them, so records split the same way in either encoding; cells are decoded
    // one by one.
    let mut prefix = vec![0u8; 64 * 1024];
    let got = read_full(&mut r, &mut prefix)?;
    prefix.truncate(got);
    let enc = detect(&prefix);
    let bom = if prefix.starts_with(b"\xEF\xBB\xBF") { 3 } else { 0 };
    let checked = QuoteCheck::new(bounds::CsvGuard::new(std::io::Cursor::new(prefix).chain(r)), bom);
    let mut rd = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(checked);
    let mut rec = csv::ByteRecord::new();
    let mut line = 0usize;
    loop {
        let read = rd.read_byte_record(&mut rec);
        // The check reads ahead of the records: stop at the record whose quoting broke.
        if let Some(q) = rd.get_ref().bad.filter(|q| q.row <= line + 1 || !matches!(read, Ok(true))) {
            return Err(Error::Internal(anyhow::Error::new(q)));
        }
        match read {
            Ok(false) => return Ok(()),
            Ok(true) => {}
            Err(e) => return Err(file_err(bounds::csv_error(&e))),
        }
        line += 1;
        let mut cells = Vec::with_capacity(rec.len());
        for (i, f) in rec.iter().enumerate() {
            let f = if line == 1 && i == 0 { f.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(f) } else { f };
            cells.push(decode_cell(enc, f)?);
        }
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if !emit(line, cells) {
            return Ok(());
        }
    }
}

/// Where a CSV's quoting breaks: the record (1 = the header row, as rows are numbered) and the
/// cell (from 0). Carried out of the reader as an error, and reported as the row's error by
/// [`run`] (or as the file's where there is no report yet).
#[derive(Debug, Clone, Copy)]
struct BadQuote {
    row: usize,
    col: usize,
    code: &'static str,
}

impl std::fmt::Display for BadQuote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "row {}, cell {}: {}", self.row, self.col + 1, self.code)
    }
}

impl std::error::Error for BadQuote {}

fn bad_quote(e: &Error) -> Option<BadQuote> {
    match e {
        Error::Internal(a) => a.downcast_ref::<BadQuote>().copied(),
        _ => None,
    }
}

/// A broken quoting as the file's error, for callers without a row report.
fn quote_as_file_error(e: Error) -> Error {
    match bad_quote(&e) {
        Some(q) => file_err(q.code),
        None => e,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Quoting {
    RecordStart,
    FieldStart,
    Unquoted,
    Quoted,
    /// A quote inside a quoted cell: it closes the cell, or (doubled) stands for itself.
    QuoteInQuoted,
}

/// Follows a CSV's quoting byte by byte as the `csv` reader reads through it, and keeps the
/// first place it breaks: a quote never closed (`csv_unclosed_quote`, which the reader takes
/// as the rest of the file in one cell) or text after a closing quote (`csv_text_after_quote`,
/// which it glues on). Records are counted as the reader counts them (blank lines skipped);
/// the structure characters are ASCII, so this holds for GB18030 as for UTF-8. A quote inside
/// an unquoted cell (`5"`) stays text, as Excel reads it.
struct QuoteCheck<R> {
    inner: R,
    /// Bytes of a byte-order mark still to pass over.
    skip: usize,
    state: Quoting,
    row: usize,
    col: usize,
    bad: Option<BadQuote>,
}

impl<R> QuoteCheck<R> {
    fn new(inner: R, skip: usize) -> Self {
        QuoteCheck { inner, skip, state: Quoting::RecordStart, row: 0, col: 0, bad: None }
    }

    fn byte(&mut self, b: u8) {
        use Quoting::*;
        if self.state == RecordStart {
            if matches!(b, b'\n' | b'\r') {
                return;
            }
            self.row += 1;
            self.col = 0;
            self.state = FieldStart;
        }
        let end = |s: &mut Self| {
            if b == b',' {
                s.col += 1;
                s.state = FieldStart;
            } else {
                s.state = RecordStart;
            }
        };
        match (self.state, b) {
            (FieldStart, b'"') => self.state = Quoted,
            (FieldStart | Unquoted | QuoteInQuoted, b',' | b'\n' | b'\r') => end(self),
            (FieldStart, _) => self.state = Unquoted,
            (Quoted, b'"') => self.state = QuoteInQuoted,
            (QuoteInQuoted, b'"') => self.state = Quoted,
            (QuoteInQuoted, _) => {
                self.bad.get_or_insert(BadQuote { row: self.row, col: self.col, code: "csv_text_after_quote" });
                self.state = Unquoted;
            }
            (Unquoted | Quoted | RecordStart, _) => {}
        }
    }
}

impl<R: Read> Read for QuoteCheck<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in &buf[..n] {
            if self.skip > 0 {
                self.skip -= 1;
            } else {
                self.byte(b);
            }
        }
        if n == 0 && self.state == Quoting::Quoted && !buf.is_empty() {
            self.bad.get_or_insert(BadQuote { row: self.row, col: self.col, code: "csv_unclosed_quote" });
        }
        Ok(n)
    }
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return Err(file_err("file_unreadable")),
        }
    }
    Ok(n)
}

fn read_xlsx(r: Box<dyn ReadSeek>, mut emit: impl FnMut(usize, Vec<String>) -> bool) -> Result<()> {
    use calamine::{DataRef, Reader};
    let mut wb = calamine::Xlsx::new(r).map_err(|_| file_err("xlsx_unreadable"))?;
    let sheet = wb.sheet_names().first().cloned().ok_or_else(|| file_err("xlsx_unreadable"))?;
    let mut cells = wb.worksheet_cells_reader(&sheet).map_err(|_| file_err("xlsx_unreadable"))?;
    let mut cur: Option<u32> = None;
    let mut row: Vec<String> = vec![];
    loop {
        let cell = cells.next_cell().map_err(|_| file_err("xlsx_unreadable"))?;
        let pos = cell.as_ref().map(|c| c.get_position());
        if cur.is_some() && pos.map(|p| p.0) != cur {
            let done = std::mem::take(&mut row);
            if !done.iter().all(|c| c.trim().is_empty()) && !emit(cur.unwrap_or(0) as usize + 1, done) {
                return Ok(());
            }
        }
        let Some(cell) = cell else { return Ok(()) };
        let (r, c) = cell.get_position();
        cur = Some(r);
        let text = match cell.get_value() {
            DataRef::Empty => String::new(),
            DataRef::String(s) => bounds::cell(s),
            DataRef::SharedString(s) => bounds::cell(s),
            DataRef::Int(i) => i.to_string(),
            DataRef::Float(f) => float_text(*f),
            DataRef::Bool(b) => b.to_string(),
            DataRef::DateTime(d) => date_text(d.as_f64()),
            DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
            DataRef::Error(e) => format!("#{e:?}"),
        };
        let c = c as usize;
        if c >= 16_384 {
            return Err(file_err("xlsx_unreadable"));
        }
        if row.len() <= c {
            row.resize(c + 1, String::new());
        }
        row[c] = text;
    }
}

/// A number as a person typed it: integers without ".0", others in the shortest exact form.
fn float_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

/// An Excel date serial as `YYYY-MM-DD` (with the time when it has one).
fn date_text(serial: f64) -> String {
    let base = chrono::NaiveDate::from_ymd_opt(1899, 12, 30).expect("a valid date");
    let days = serial.floor() as i64;
    let secs = ((serial - serial.floor()) * 86_400.0).round() as i64;
    let Some(d) = base.checked_add_signed(chrono::Duration::days(days)) else {
        return float_text(serial);
    };
    if secs == 0 {
        d.format("%Y-%m-%d").to_string()
    } else {
        (d.and_hms_opt(0, 0, 0).expect("midnight") + chrono::Duration::seconds(secs))
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    }
}

type Batch = Vec<(usize, Vec<String>)>;

/// Reads on a blocking thread, handing rows over in batches through a small channel (so the
/// reader waits while the database catches up, and memory stays bounded).
fn spawn_reader(src: Source) -> tokio::sync::mpsc::Receiver<Result<Batch>> {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Batch>>(4);
    tokio::task::spawn_blocking(move || {
        let mut buf: Batch = Vec::with_capacity(BATCH);
        let mut bytes = 0;
        let res = read_rows(src, |line, row| {
            bytes += row.iter().map(String::len).sum::<usize>();
            buf.push((line, row));
            if buf.len() >= BATCH || bytes >= BATCH_BYTES {
                bytes = 0;
                tx.blocking_send(Ok(std::mem::replace(&mut buf, Vec::with_capacity(BATCH)))).is_ok()
            } else {
                true
            }
        });
        let _ = match res {
            Ok(()) if buf.is_empty() => Ok(()),
            Ok(()) => tx.blocking_send(Ok(buf)),
            // The rows before the error first, so it can be reported as theirs.
            Err(e) if buf.is_empty() => tx.blocking_send(Err(e)),
            Err(e) => tx.blocking_send(Ok(buf)).and_then(|_| tx.blocking_send(Err(e))),
        };
    });
    rx
}

/// Every row of a small file (quotas, say), header first; refused past `max_rows` with the
/// field code `too_many`.
pub(crate) async fn read_all(
    src: Source,
    max_rows: usize,
    too_many: &'static str,
) -> Result<Vec<(usize, Vec<String>)>> {
    let too_many_code = too_many;
    tokio::task::spawn_blocking(move || {
        let mut rows = vec![];
        let mut too_many = false;
        read_rows(src, |line, row| {
            rows.push((line, row));
            too_many = rows.len() > max_rows + 1;
            !too_many
        })
        .map_err(quote_as_file_error)?;
        if too_many {
            return Err(file_err(too_many_code));
        }
        Ok(rows)
    })
    .await
    .map_err(|e| Error::Internal(anyhow::anyhow!("reading a file: {e}")))?
}

/// The header row of a file (for the mapping step).
pub async fn headers(src: Source) -> Result<Vec<String>> {
    let res = tokio::task::spawn_blocking(move || {
        let mut first = None;
        read_rows(src, |_, row| {
            first = Some(row);
            false
        })
        .map(|_| first)
        .map_err(quote_as_file_error)
    })
    .await
    .map_err(|e| Error::Internal(anyhow::anyhow!("reading headers: {e}")))??;
    res.ok_or_else(|| file_err("file_empty"))
}

fn clean_header(h: &str) -> String {
    h.trim()
        .trim_start_matches('\u{feff}')
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_lowercase()
        .replace('（', "(")
        .replace('）', ")")
}

/// The field a header means: the user's mapping first, then the built-in names, the field
/// codes, and the field labels in Chinese and English (so an export imports again).
fn field_of(kind: Kind, header: &str, mapping: &[(String, String)]) -> Option<Option<&'static str>> {
    let h = clean_header(header);
    if let Some((_, f)) = mapping.iter().find(|(k, _)| clean_header(k) == h) {
        return Some(kind.fields().iter().find(|x| **x == f.as_str()).copied());
    }
    if let Some((_, f)) = kind.headers().iter().find(|(k, _)| *k == h) {
        return Some(Some(f));
    }
    for f in kind.fields() {
        if *f == h {
            return Some(Some(f));
        }
        for lang in ["zh-CN", "en"] {
            let key = format!("field.{f}");
            let label = rust_i18n::t!(&key, locale = lang).into_owned();
            if clean_header(&label) == h {
                return Some(Some(f));
            }
        }
    }
    None
}

/// The field of each column, and the headers no field matched (a mapping may ignore them).
pub fn columns(
    kind: Kind,
    header: &[String],
    mapping: &[(String, String)],
) -> (Vec<Option<&'static str>>, Vec<String>) {
    let mut cols = vec![];
    let mut unknown = vec![];
    for h in header {
        match field_of(kind, h, mapping) {
            Some(f) => cols.push(f),
            None => {
                cols.push(None);
                if !h.trim().is_empty() {
                    unknown.push(h.trim().to_string());
                }
            }
        }
    }
    (cols, unknown)
}

/// A choice given as its code or as its label in either language.
fn choice_code(field: &str, v: &str) -> String {
    // (field, lower-cased code or label) → code, built once from the locale files.
    static LABELS: std::sync::OnceLock<HashMap<(&'static str, String), &'static str>> = std::sync::OnceLock::new();
    let labels = LABELS.get_or_init(|| {
        let mut m = HashMap::new();
        for (f, codes) in CHOICES {
            for c in *codes {
                m.insert((*f, c.to_lowercase()), *c);
                for lang in ["zh-CN", "en"] {
                    let key = format!("{f}.{c}");
                    m.insert((*f, rust_i18n::t!(&key, locale = lang).to_lowercase()), *c);
                }
            }
        }
        m
    });
    let Some((f, _)) = CHOICES.iter().find(|(f, _)| *f == field) else { return v.to_string() };
    match labels.get(&(*f, v.trim().to_lowercase())) {
        Some(c) => c.to_string(),
        None => v.to_string(),
    }
}

/// A value as a report shows it: its first characters.
pub(crate) fn shown(v: &str) -> String {
    if v.chars().count() <= SHOWN_CHARS {
        v.to_string()
    } else {
        let mut s: String = v.chars().take(SHOWN_CHARS).collect();
        s.push('…');
        s
    }
}

/// Columns that hold an amount in yuan.
const MONEY_FIELDS: &[&str] = &["buying_power", "sales_12m", "sales_12m_entered", "credit_limit"];

/// The row's values by field (empty cells as `None`).
struct Row {
    line: usize,
    pairs: Vec<(&'static str, Option<String>)>,
}

impl Row {
    fn new(line: usize, cols: &[Option<&'static str>], cells: &[String]) -> Row {
        let mut pairs = vec![];
        for (c, v) in cols.iter().zip(cells) {
            let Some(f) = c else { continue };
            let v = v.trim();
            // Amounts as people write them (`1,280,000`, `128万`, `¥1.2亿`); what cannot be read
            // stays as it was and the row check refuses it, naming the column.
            let v =
                if MONEY_FIELDS.contains(f) && !v.is_empty() { money::normalize_amount(v) } else { choice_code(f, v) };
            pairs.push((*f, (!v.is_empty()).then_some(v)));
        }
        Row { line, pairs }
    }
    fn value(&self, field: &str) -> String {
        self.pairs.iter().find(|(f, _)| *f == field).and_then(|(_, v)| v.clone()).unwrap_or_default()
    }
    /// The row as input, leaving out `skip` fields; with `only_given`, empty cells are left out
    /// too (an update keeps what the record has).
    fn input(&self, skip: &[&str], only_given: bool, extra: &[(&str, &str)]) -> Input {
        let mut refs: Vec<(&str, Option<&str>)> = self
            .pairs
            .iter()
            .filter(|(f, v)| !skip.contains(f) && (!only_given || v.is_some()))
            .map(|(f, v)| (*f, v.as_deref()))
            .collect();
        for (f, v) in extra {
            if !refs.iter().any(|(k, _)| k == f) {
                refs.push((f, Some(v)));
            }
        }
        Input::from_pairs(&refs)
    }
    fn error(&self, field: &str, code: impl Into<String>) -> RowError {
        RowError { row: self.line, column: field.to_string(), value: shown(&self.value(field)), code: code.into() }
    }
}

// ---------------------------------------------------------------------------------------------
// Importing.

/// Imports accounts from bytes; see the module doc for the rules.
pub async fn accounts(db: &Db, ctx: &Ctx, bytes: &[u8], dry_run: bool) -> Result<Report> {
    accounts_with(db, ctx, bytes, dry_run, OnMatch::Report).await
}

pub async fn accounts_with(db: &Db, ctx: &Ctx, bytes: &[u8], dry_run: bool, on_match: OnMatch) -> Result<Report> {
    let opts = Options { dry_run, on_match, ..Options::default() };
    run(db, ctx, Kind::Accounts, Source::bytes(bytes.to_vec()), &opts).await
}

/// Imports a file of the given kind.
pub async fn run(db: &Db, ctx: &Ctx, kind: Kind, src: Source, opts: &Options) -> Result<Report> {
    if !may_import(&ctx.caller) {
        return Err(Error::Forbidden);
    }
    let mut rx = spawn_reader(src);
    let mut batch = match rx.recv().await {
        // Broken quoting in the header row: the file's error.
        Some(b) => b.map_err(quote_as_file_error)?,
        None => return Err(file_err("file_empty")),
    };
    let (_, header) = batch.remove(0);
    let (cols, unknown) = columns(kind, &header, &opts.mapping);
    // A column as rows' errors name it: its field, else its header.
    let column_name = |i: usize| match (cols.get(i).copied().flatten(), header.get(i)) {
        (Some(f), _) => f.to_string(),
        (None, Some(h)) if !h.trim().is_empty() => h.trim().to_string(),
        _ => format!("#{}", i + 1),
    };
    let column_names: Vec<String> = (0..header.len().max(1)).map(column_name).collect();
    if !cols.contains(&Some("name")) {
        return Err(file_err(match kind {
            Kind::Accounts => "name_column_missing",
            Kind::Contacts => "contact_name_column_missing",
        }));
    }
    if kind == Kind::Contacts && !cols.contains(&Some("account")) && !cols.contains(&Some("account_credit_code")) {
        return Err(file_err("account_column_missing"));
    }
    let mut report = Report { dry_run: opts.dry_run, unknown_columns: unknown, ..Default::default() };
    let mut tx = db.begin().await?;
    // A large import writes more pages in its one transaction than SQLite's default page cache
    // (2 MB) holds, and spilled pages are written and read back; this connection gets a bounded
    // 64 MB cache while it imports (measured: 60,000 rows 7.5 s → 5.8 s).
    tx.large_write_cache(true).await?;
    // PostgreSQL: the new rows travel by COPY on a connection of the import's own and land in
    // this transaction (db/copy.rs).
    tx.stage_copies().await?;
    let mut deferred = None;
    let body = async {
        match kind {
            Kind::Accounts => {
                let d = deferred.insert(
                    crate::db::bulk::DeferredIndexes::new(
                        &mut tx,
                        &[
                            // Every secondary index of the accounts: kept current row by row,
                            // the dozen whose keys arrive in order (owners, regions, classes)
                            // still cost more than one rebuild each (60,000 rows into the demo:
                            // 1.26 s with the name indexes set aside, 1.05 s with all).
                            (
                                "accounts",
                                &[
                                    "accounts_name",
                                    "accounts_name_norm",
                                    "accounts_pool",
                                    "accounts_owner",
                                    "accounts_inside_owner",
                                    "accounts_ka_manager",
                                    "accounts_region",
                                    "accounts_branch",
                                    "accounts_deleted",
                                    "accounts_rad",
                                    "accounts_owner_rad",
                                    "accounts_coverage",
                                    "accounts_unowned",
                                    "accounts_activated",
                                    "accounts_tier",
                                    // The pinyin sort key's, whose keys arrive in no order.
                                    "accounts_name_sort",
                                    "accounts_credit_grade",
                                    "accounts_key_accounts",
                                ],
                            ),
                            ("account_visibility", &["account_visibility_by_name", "account_visibility_account"]),
                            ("account_access", &["account_access_account"]),
                        ],
                    )
                    .await?,
                );
                // One time of creation for the whole import.
                let ts = crate::db::now();
                let checker = spawn_account_checker(db, ctx, opts, cols, ts.clone(), batch, rx);
                write_accounts(&mut tx, ctx, &ts, checker, d, opts.max_errors, &mut report).await?;
            }
            Kind::Contacts => {
                let mut con = ContactState::default();
                loop {
                    let rows: Vec<Row> = batch.iter().map(|(line, cells)| Row::new(*line, &cols, cells)).collect();
                    report.rows += rows.len();
                    contact_batch(&mut tx, ctx, opts, &mut con, rows, &mut report).await?;
                    if report.errors_truncated {
                        // Refused at its limit: the rest of the file is not read.
                        break;
                    }
                    batch = match rx.recv().await {
                        None => break,
                        Some(b) => b?,
                    };
                }
                if !report.errors_truncated {
                    write_contacts(&mut tx, ctx, &mut con, &mut report).await?;
                    contact_bosses(&mut tx, ctx, opts.max_errors, &mut con, &mut report).await?;
                    if report.created >= crate::db::bulk::DeferredIndexes::MIN_ROWS as usize {
                        tx.analyze("contacts").await?;
                    }
                }
            }
        }
        Ok::<_, Error>(())
    }
    .await;
    // Broken quoting is the row's error: reported like any refused row, and nothing is saved.
    let body = match body.as_ref().err().and_then(bad_quote) {
        Some(q) => {
            let column = column_names.get(q.col).cloned().unwrap_or_else(|| format!("#{}", q.col + 1));
            report.errors.push(RowError { row: q.row, column, value: String::new(), code: q.code.to_string() });
            Ok(())
        }
        None => body,
    };
    let commit = body.is_ok() && !report.refused() && !opts.dry_run;
    let finish = async {
        if commit {
            if let Some(d) = deferred.as_mut() {
                d.restore(&mut tx).await?;
            }
        }
        // The connection goes back to the pool with the default cache, also after a failure.
        tx.large_write_cache(false).await?;
        Ok::<_, Error>(())
    }
    .await;
    body?;
    finish?;
    report.errors.sort_by_key(|e| e.row);
    if commit {
        tx.commit().await?;
        report.committed = true;
    } else {
        tx.rollback().await?;
        if !opts.dry_run {
            report.created = 0;
            report.updated = 0;
        }
    }
    Ok(report)
}

/// Accounts before the import, and the rows of the file taken so far.
#[derive(Default)]
struct AccountState {
    lookups: accounts::Lookups,
    /// Accounts there were before the import: normalized name (live ones) and credit code (all).
    existing_names: HashMap<String, i64>,
    existing_codes: HashMap<String, i64>,
    /// Normalized names and credit codes of rows taken so far, with their row.
    names: HashMap<String, usize>,
    codes: HashMap<String, usize>,
}

/// One batch of rows after checking: what the writer is to do with it.
#[derive(Default)]
struct Checked {
    rows: usize,
    errors: Vec<RowError>,
    /// Rows matching an account that existed before the import (`on_match = update`).
    updates: Vec<(Row, i64)>,
    /// New accounts, with their audit text (see [`accounts::new_audit_text`]).
    new: Vec<(Row, accounts::AccountData, Option<String>)>,
}

/// Checks account rows on a task of its own, with a read connection of its own, one batch
/// ahead of the writer: checking (the form's rules, lookups, duplicates) and writing each take
/// about half the time of an import, and on two cores they overlap. The checker reads what was
/// committed before the import began, which is all it needs: rows repeating earlier rows of
/// the same file are caught in memory.
fn spawn_account_checker(
    db: &Db,
    ctx: &Ctx,
    opts: &Options,
    cols: Vec<Option<&'static str>>,
    ts: String,
    first: Batch,
    mut rx: tokio::sync::mpsc::Receiver<Result<Batch>>,
) -> tokio::sync::mpsc::Receiver<Result<Checked>> {
    let (out, checked) = tokio::sync::mpsc::channel::<Result<Checked>>(2);
    let (db, caller, on_match) = (db.clone(), ctx.caller.clone(), opts.on_match);
    tokio::spawn(async move {
        let res = async {
            let mut conn = db.pool.acquire().await?;
            let mut st = AccountState::default();
            st.lookups.rad = crate::app::classification::classify::load(&mut conn).await?.rad;
            // Existing accounts with the same credit code (live or not: the code is unique) or
            // a name that is the same after normalization, read once per import: one pass over
            // two columns instead of a lookup per row.
            let rows = sqlx::query("SELECT id, name_norm, credit_code, deleted_at FROM accounts ORDER BY id")
                .fetch_all(&mut *conn)
                .await?;
            for r in rows {
                let id: i64 = r.try_get("id")?;
                if let Some(c) = r.try_get::<Option<String>, _>("credit_code")? {
                    st.existing_codes.insert(c, id);
                }
                if r.try_get::<Option<String>, _>("deleted_at")?.is_none() {
                    st.existing_names.entry(r.try_get("name_norm")?).or_insert(id);
                }
            }
            let mut batch = Some(first);
            while let Some(b) = batch.take() {
                let rows: Vec<Row> = b.iter().map(|(line, cells)| Row::new(*line, &cols, cells)).collect();
                let c = check_accounts(&mut conn, &caller, &ts, on_match, &mut st, rows).await?;
                if out.send(Ok(c)).await.is_err() {
                    // The writer gave up (an error of its own).
                    return Ok(());
                }
                batch = rx.recv().await.transpose()?;
            }
            Ok::<_, Error>(())
        }
        .await;
        if let Err(e) = res {
            let _ = out.send(Err(e)).await;
        }
    });
    checked
}

async fn check_accounts(
    conn: &mut sqlx::AnyConnection,
    caller: &crate::app::Caller,
    ts: &str,
    on_match: OnMatch,
    st: &mut AccountState,
    rows: Vec<Row>,
) -> Result<Checked> {
    let mut c = Checked { rows: rows.len(), ..Default::default() };
    for row in rows {
        // A repeat of an earlier row is one first: the earlier row's account will already be in
        // the transaction and would otherwise look like an existing one.
        let (name, code) = (row.value("name"), row.value("credit_code").trim().to_ascii_uppercase());
        let vars = if name.trim().is_empty() { vec![] } else { text::name_variants(&name) };
        if let Some(line) = (!code.is_empty()).then(|| st.codes.get(&code)).flatten() {
            c.errors.push(row.error("credit_code", format!("duplicate_in_file:{line}")));
            continue;
        }
        if let Some(line) = vars.iter().find_map(|v| st.names.get(v)) {
            c.errors.push(row.error("name", format!("duplicate_in_file:{line}")));
            continue;
        }
        if on_match == OnMatch::Update {
            if let Some(existing) = accounts::find_match(conn, Some(&name), Some(&code)).await? {
                st.names.insert(text::normalize_name(&name), row.line);
                if !code.is_empty() {
                    st.codes.insert(code, row.line);
                }
                c.updates.push((row, existing));
                continue;
            }
        }
        let inp = row.input(&[], false, &[("industry", "other")]);
        let d = match accounts::prepare_new(conn, caller, &mut st.lookups, &inp).await {
            Ok(d) => d,
            Err(Error::Invalid(fs)) => {
                c.errors.extend(fs.iter().map(|f| row.error(&f.field, f.code)));
                continue;
            }
            Err(e) => return Err(e),
        };
        let vars = text::name_variants(&d.name);
        let code = d.credit_code.clone();
        if let Some(line) = code.as_ref().and_then(|c| st.codes.get(c)) {
            c.errors.push(row.error("credit_code", format!("duplicate_in_file:{line}")));
        } else if let Some(line) = vars.iter().find_map(|v| st.names.get(v)) {
            c.errors.push(row.error("name", format!("duplicate_in_file:{line}")));
        } else if let Some(id) = code.as_ref().and_then(|c| st.existing_codes.get(c)) {
            c.errors.push(row.error("credit_code", format!("matches_existing:{id}")));
        } else if let Some(id) = vars.iter().find_map(|v| st.existing_names.get(v)) {
            c.errors.push(row.error("name", format!("matches_existing:{id}")));
        } else {
            st.names.insert(text::normalize_name(&d.name), row.line);
            if let Some(code) = code {
                st.codes.insert(code, row.line);
            }
            let audit = accounts::new_audit_text(&st.lookups, &d, ts);
            c.new.push((row, d, audit));
        }
    }
    Ok(c)
}

/// The writer's side of an account import: takes checked batches in order and writes them.
async fn write_accounts(
    tx: &mut WriteTx,
    ctx: &Ctx,
    ts: &str,
    mut checked: tokio::sync::mpsc::Receiver<Result<Checked>>,
    deferred: &mut crate::db::bulk::DeferredIndexes,
    max_errors: usize,
    report: &mut Report,
) -> Result<()> {
    let mut viewers = crate::app::customers::visibility::Viewers::default();
    let mut pending = NewAccounts::default();
    // Once refused at its limit, the import stops: dropping the channel stops the checker and
    // the reader.
    while !report.errors_truncated {
        let Some(c) = checked.recv().await else { break };
        let c = c?;
        report.rows += c.rows;
        report.refuse_all(c.errors, max_errors);
        for (row, existing) in c.updates {
            match accounts::update_in(tx, ctx, existing, &row.input(&[], true, &[]), None).await {
                Ok(_) => report.updated += 1,
                Err(Error::Invalid(fs)) => {
                    report.refuse_all(fs.iter().map(|f| row.error(&f.field, f.code)), max_errors)
                }
                Err(Error::Duplicate { field, existing_id }) => {
                    report.refuse(row.error(field, format!("matches_existing:{existing_id}")), max_errors)
                }
                // The match lies outside the importer's scope (or is not theirs to change).
                Err(Error::NotFound | Error::Forbidden) => {
                    report.refuse(row.error("name", "matches_hidden"), max_errors)
                }
                Err(e) => return Err(e),
            }
        }
        for (row, d, audit) in c.new {
            pending.rows.push(row);
            pending.data.push(d);
            pending.audits.push(audit);
        }
        // By COPY (PostgreSQL) each batch written costs a round trip more per table: the
        // writer gathers a few of the checker's batches first.
        if pending.rows.len() >= if tx.copies() { COPY_BATCH } else { 1 } {
            write_new(tx, ctx, ts, &mut viewers, std::mem::take(&mut pending), max_errors, report).await?;
            deferred.check(tx).await?;
        }
    }
    if !report.errors_truncated {
        write_new(tx, ctx, ts, &mut viewers, pending, max_errors, report).await?;
    }
    Ok(())
}

/// Rows a writer gathers before writing them by COPY.
const COPY_BATCH: usize = 5_000;

/// New accounts checked and not yet written.
#[derive(Default)]
struct NewAccounts {
    rows: Vec<Row>,
    data: Vec<accounts::AccountData>,
    audits: Vec<Option<String>>,
}

async fn write_new(
    tx: &mut WriteTx,
    ctx: &Ctx,
    ts: &str,
    viewers: &mut crate::app::customers::visibility::Viewers,
    new: NewAccounts,
    max_errors: usize,
    report: &mut Report,
) -> Result<()> {
    if new.rows.is_empty() {
        return Ok(());
    }
    let ids = accounts::insert_many(tx, ctx, viewers, &new.data, new.audits, ts).await?;
    report.created += ids.len();
    // Each new account must stay within the importer's sight (a region they do not cover, say).
    let hidden: HashSet<i64> = accounts::outside_scope(tx.conn(), &ctx.caller, &ids).await?.into_iter().collect();
    for (row, id) in new.rows.iter().zip(&ids) {
        if hidden.contains(id) {
            report.created -= 1;
            let col = if row.value("branch").is_empty() { "region" } else { "branch" };
            report.refuse(row.error(col, "outside_scope"), max_errors);
        }
    }
    Ok(())
}

#[derive(Default)]
struct ContactState {
    /// (account, normalized name) → the row that brought the contact.
    seen: HashMap<(i64, String), usize>,
    /// (account name, credit code) → the account, or None when not found or not visible.
    accounts: HashMap<(String, String), Option<i64>>,
    /// The live contacts each account had before the import, by normalized name (read once
    /// per account, with the batch that first names it).
    existing: HashMap<i64, HashMap<String, i64>>,
    /// New contacts checked and not yet written: the row, and (account, contact).
    new: Vec<(Row, (i64, contacts::ContactData))>,
    /// Contacts whose manager is named: (row, contact id, account id, manager's name).
    bosses: Vec<(Row, i64, i64, String)>,
}

/// The accounts a batch of contact rows names and the import has not met yet: matched in bulk
/// ([`accounts::find_matches`]), kept only where the importer sees them, held live until the
/// import commits, with their contacts read once.
async fn contact_accounts(tx: &mut WriteTx, ctx: &Ctx, st: &mut ContactState, rows: &[Row]) -> Result<()> {
    let mut keys: Vec<(String, String)> = rows
        .iter()
        .map(|r| (r.value("account"), r.value("account_credit_code")))
        .filter(|k| !st.accounts.contains_key(k))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    if keys.is_empty() {
        return Ok(());
    }
    let found = accounts::find_matches(tx.conn(), &keys).await?;
    let mut ids: Vec<i64> = found.iter().flatten().copied().collect();
    ids.sort_unstable();
    ids.dedup();
    let hidden: HashSet<i64> = accounts::outside_scope(tx.conn(), &ctx.caller, &ids).await?.into_iter().collect();
    let fresh: Vec<i64> = ids.into_iter().filter(|id| !hidden.contains(id) && !st.existing.contains_key(id)).collect();
    let live = accounts::hold_live_many(tx, &fresh).await?;
    let fresh: Vec<i64> = fresh.into_iter().filter(|id| live.contains(id)).collect();
    st.existing.extend(contacts::names_on_accounts(tx.conn(), &fresh).await?);
    for (key, id) in keys.into_iter().zip(found) {
        st.accounts.insert(key, id.filter(|id| st.existing.contains_key(id)));
    }
    Ok(())
}

/// A batch of contact rows: rows matching an existing contact are updated one by one (or
/// refused); new contacts are checked row by row and written together, a few batches at a time
/// ([`contacts::insert_many`]: by `COPY` on PostgreSQL).
async fn contact_batch(
    tx: &mut WriteTx,
    ctx: &Ctx,
    opts: &Options,
    st: &mut ContactState,
    rows: Vec<Row>,
    report: &mut Report,
) -> Result<()> {
    const SKIP: &[&str] = &["account", "account_credit_code", "reports_to"];
    contact_accounts(tx, ctx, st, &rows).await?;
    for row in rows {
        if report.errors_truncated {
            break;
        }
        let key = (row.value("account"), row.value("account_credit_code"));
        let Some(account_id) = st.accounts.get(&key).copied().flatten() else {
            let col = if key.0.is_empty() { "account_credit_code" } else { "account" };
            report.refuse(row.error(col, "unknown_account"), opts.max_errors);
            continue;
        };
        let person = (account_id, text::normalize_name(&row.value("name")));
        if let Some(line) = st.seen.get(&person) {
            report.refuse(row.error("name", format!("duplicate_in_file:{line}")), opts.max_errors);
            continue;
        }
        let existing = st.existing.get(&account_id).and_then(|m| m.get(&person.1)).copied();
        if !person.1.is_empty() {
            st.seen.insert(person, row.line);
        }
        let outcome = match existing {
            Some(id) if opts.on_match == OnMatch::Report => {
                report.refuse(row.error("name", format!("contact_exists:{id}")), opts.max_errors);
                continue;
            }
            Some(id) => contacts::update_in(tx, ctx, id, &row.input(SKIP, true, &[]), None).await.map(|c| c.id),
            None => match contacts::prepare_new(tx.conn(), ctx, account_id, &row.input(SKIP, false, &[])).await {
                Ok(d) => {
                    st.new.push((row, (account_id, d)));
                    continue;
                }
                Err(e) => Err(e),
            },
        };
        match outcome {
            Ok(id) => {
                report.updated += 1;
                let boss = row.value("reports_to");
                if !boss.is_empty() {
                    st.bosses.push((row, id, account_id, boss));
                }
            }
            Err(Error::Invalid(fs)) => {
                report.refuse_all(fs.iter().map(|f| row.error(&f.field, f.code)), opts.max_errors)
            }
            Err(e) => return Err(e),
        }
    }
    if st.new.len() >= if tx.copies() { COPY_BATCH } else { 1 } {
        write_contacts(tx, ctx, st, report).await?;
    }
    Ok(())
}

/// Writes the new contacts gathered so far.
async fn write_contacts(tx: &mut WriteTx, ctx: &Ctx, st: &mut ContactState, report: &mut Report) -> Result<()> {
    let (rows, items): (Vec<Row>, Vec<(i64, contacts::ContactData)>) = std::mem::take(&mut st.new).into_iter().unzip();
    let ids = contacts::insert_many(tx, ctx, &items).await?;
    report.created += ids.len();
    for ((row, id), (account_id, _)) in rows.into_iter().zip(ids).zip(items) {
        let boss = row.value("reports_to");
        if !boss.is_empty() {
            st.bosses.push((row, id, account_id, boss));
        }
    }
    Ok(())
}

/// Links each contact to the manager the row names, once every row is in (a manager may come
/// later in the file than the people who report to them).
async fn contact_bosses(
    tx: &mut WriteTx,
    ctx: &Ctx,
    max_errors: usize,
    st: &mut ContactState,
    report: &mut Report,
) -> Result<()> {
    for (row, id, account_id, boss) in std::mem::take(&mut st.bosses) {
        let Some(boss_id) = contacts::find_on_account(tx.conn(), account_id, &boss).await? else {
            report.refuse(row.error("reports_to", "unknown_contact"), max_errors);
            continue;
        };
        let inp = Input::from_pairs(&[("reports_to", Some(boss_id.to_string().as_str()))]);
        match contacts::update_in(tx, ctx, id, &inp, None).await {
            Ok(_) => {}
            Err(Error::Invalid(fs)) => report.refuse_all(fs.iter().map(|f| row.error(&f.field, f.code)), max_errors),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
