//! Importing accounts from a spreadsheet: CSV in UTF-8 (with or without BOM) or GB18030/GBK as
//! Excel on Chinese Windows writes it (detected), or XLSX; Chinese or English headers. All rows
//! go in one transaction: any rejected row means nothing is written (and a dry run never
//! writes). Every problem is reported by row, column, value and reason.
use serde::Serialize;

use super::input::Input;
use super::{accounts, Ctx, Error, Result};
use crate::db::Db;

/// Header texts (lower-cased, spaces removed) and the field each means.
const HEADERS: &[(&str, &str)] = &[
    ("name", "name"),
    ("名称", "name"),
    ("客户名称", "name"),
    ("单位名称", "name"),
    ("企业名称", "name"),
    ("short_name", "short_name"),
    ("简称", "short_name"),
    ("客户简称", "short_name"),
    ("credit_code", "credit_code"),
    ("统一社会信用代码", "credit_code"),
    ("信用代码", "credit_code"),
    ("industry", "industry"),
    ("行业", "industry"),
    ("所属行业", "industry"),
    ("level", "level"),
    ("级别", "level"),
    ("客户级别", "level"),
    ("region", "region"),
    ("大区", "region"),
    ("branch", "branch"),
    ("分公司", "branch"),
    ("owner", "owner"),
    ("客户经理", "owner"),
    ("客户经理(ae)", "owner"),
    ("inside_owner", "inside_owner"),
    ("内部销售", "inside_owner"),
    ("内部销售(sr)", "inside_owner"),
    ("address", "address"),
    ("地址", "address"),
    ("website", "website"),
    ("网址", "website"),
    ("business_units", "business_units"),
    ("服务业务部门", "business_units"),
    ("buying_power", "buying_power"),
    ("年度采购量", "buying_power"),
    ("年度采购量(元)", "buying_power"),
    ("sales_12m", "sales_12m"),
    ("近12个月销售额", "sales_12m"),
    ("近12个月销售额(元)", "sales_12m"),
    ("tags", "tags"),
    ("标签", "tags"),
    ("notes", "notes"),
    ("备注", "notes"),
];

/// Industry names as people write them.
const INDUSTRIES: &[(&str, &str)] = &[
    ("政府", "government"),
    ("军工", "military"),
    ("企业", "enterprise"),
    ("教育", "education"),
    ("金融", "finance"),
    ("电力", "power"),
    ("电信", "telecom"),
    ("其他", "other"),
];

#[derive(Debug, Clone, Serialize)]
pub struct RowError {
    /// The spreadsheet row (1 = the header row).
    pub row: usize,
    pub column: String,
    pub value: String,
    pub code: String,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Report {
    pub rows: usize,
    pub created: usize,
    /// Existing accounts a row matched and updated (only when asked to).
    pub updated: usize,
    pub dry_run: bool,
    pub committed: bool,
    pub unknown_columns: Vec<String>,
    pub errors: Vec<RowError>,
}

/// Reads the cells of a CSV or XLSX file (header row first).
pub fn read_table(bytes: &[u8]) -> Result<Vec<Vec<String>>> {
    if bytes.starts_with(b"PK") {
        use calamine::Reader;
        let mut wb = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec()))
            .map_err(|_| Error::invalid("file", "xlsx_unreadable"))?;
        let range = wb
            .worksheet_range_at(0)
            .ok_or_else(|| Error::invalid("file", "xlsx_unreadable"))?
            .map_err(|_| Error::invalid("file", "xlsx_unreadable"))?;
        return Ok(range.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect());
    }
    let text = decode(bytes)?;
    let mut rd = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut out = vec![];
    for rec in rd.records() {
        let rec = rec.map_err(|_| Error::invalid("file", "csv_unreadable"))?;
        out.push(rec.iter().map(str::to_string).collect());
    }
    Ok(out)
}

/// UTF-8 (a BOM is dropped) when the bytes are valid UTF-8, GB18030 (a superset of GBK)
/// otherwise, as Excel on Chinese Windows saves "CSV".
pub fn decode(bytes: &[u8]) -> Result<String> {
    let b = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(s) = std::str::from_utf8(b) {
        return Ok(s.to_string());
    }
    let (s, _, bad) = encoding_rs::GB18030.decode(b);
    if bad {
        return Err(Error::invalid("file", "encoding_unknown"));
    }
    Ok(s.into_owned())
}

fn field_of(header: &str) -> Option<&'static str> {
    let h: String = header
        .trim()
        .trim_start_matches('\u{feff}')
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_lowercase();
    let h = h.replace('（', "(").replace('）', ")");
    HEADERS.iter().find(|(k, _)| *k == h).map(|(_, f)| *f)
}

/// What to do with a row that matches an existing account (same credit code or name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnMatch {
    /// Report it as a row error (the default).
    #[default]
    Report,
    /// Update the existing account with the row's values.
    Update,
}

/// Imports accounts; see the module doc for the rules.
pub async fn accounts(db: &Db, ctx: &Ctx, bytes: &[u8], dry_run: bool) -> Result<Report> {
    accounts_with(db, ctx, bytes, dry_run, OnMatch::Report).await
}

pub async fn accounts_with(db: &Db, ctx: &Ctx, bytes: &[u8], dry_run: bool, on_match: OnMatch) -> Result<Report> {
    let table = read_table(bytes)?;
    let mut it = table.into_iter();
    let header = it.next().ok_or_else(|| Error::invalid("file", "file_empty"))?;
    let mut report = Report { dry_run, ..Default::default() };
    let cols: Vec<Option<&'static str>> = header.iter().map(|h| field_of(h)).collect();
    for (h, c) in header.iter().zip(&cols) {
        if c.is_none() && !h.trim().is_empty() {
            report.unknown_columns.push(h.trim().to_string());
        }
    }
    if !cols.contains(&Some("name")) {
        return Err(Error::invalid("file", "name_column_missing"));
    }
    let mut tx = db.begin().await?;
    for (i, row) in it.enumerate() {
        let line = i + 2;
        if row.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        report.rows += 1;
        let mut pairs: Vec<(&str, Option<String>)> = vec![];
        for (c, v) in cols.iter().zip(&row) {
            let Some(f) = c else { continue };
            let v = v.trim();
            let v = if *f == "industry" {
                INDUSTRIES.iter().find(|(zh, _)| *zh == v).map(|(_, en)| *en).unwrap_or(v)
            } else {
                v
            };
            pairs.push((f, (!v.is_empty()).then(|| v.to_string())));
        }
        let refs: Vec<(&str, Option<&str>)> = pairs.iter().map(|(f, v)| (*f, v.as_deref())).collect();
        // For an update, empty cells leave the account's values as they are.
        let update_inp = Input::from_pairs(&refs.iter().filter(|(_, v)| v.is_some()).copied().collect::<Vec<_>>());
        let mut create_refs = refs.clone();
        if !create_refs.iter().any(|(f, _)| *f == "industry") {
            create_refs.push(("industry", Some("other")));
        }
        let inp = Input::from_pairs(&create_refs);
        let value_of =
            |field: &str| pairs.iter().find(|(f, _)| *f == field).and_then(|(_, v)| v.clone()).unwrap_or_default();
        let matched = match on_match {
            OnMatch::Update => {
                let (name, code) = (value_of("name"), value_of("credit_code"));
                accounts::find_match(tx.conn(), Some(&name), Some(&code)).await?
            }
            OnMatch::Report => None,
        };
        let outcome = match matched {
            Some(existing) => accounts::update_in(&mut tx, ctx, existing, &update_inp, None).await.map(|_| false),
            None => accounts::create_in(&mut tx, ctx, &inp).await.map(|_| true),
        };
        match outcome {
            Ok(true) => report.created += 1,
            Ok(false) => report.updated += 1,
            Err(Error::Invalid(fs)) => {
                for f in fs {
                    report.errors.push(RowError {
                        row: line,
                        value: value_of(&f.field),
                        column: f.field,
                        code: f.code.to_string(),
                    });
                }
            }
            Err(Error::Duplicate { field, existing_id }) => report.errors.push(RowError {
                row: line,
                column: field.to_string(),
                value: value_of(field),
                code: format!("matches_existing:{existing_id}"),
            }),
            // The match lies outside the importer's scope (or is not theirs to change).
            Err(Error::NotFound | Error::Forbidden) => report.errors.push(RowError {
                row: line,
                column: "name".into(),
                value: value_of("name"),
                code: "matches_hidden".into(),
            }),
            Err(e) => return Err(e),
        }
    }
    if report.errors.is_empty() && !dry_run {
        tx.commit().await?;
        report.committed = true;
    } else {
        tx.rollback().await?;
        if !dry_run {
            report.created = 0;
            report.updated = 0;
        }
    }
    Ok(report)
}
