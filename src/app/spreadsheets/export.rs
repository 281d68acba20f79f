//! Exports as CSV (UTF-8 with BOM so Excel on Chinese Windows opens it right) and XLSX. Cells
//! that a spreadsheet would run as a formula are neutralised with a leading apostrophe.
use crate::app::customers::accounts::AccountView;
use crate::app::customers::contacts::ContactView;

/// Neutralises a cell that starts (after any leading spaces) with `= + - @`, a tab or a CR.
pub fn neutralise(s: &str) -> String {
    match s.trim_start_matches(' ').chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_string(),
    }
}

/// A table to export: column keys (translated by the caller into headers) and text cells.
pub struct Table {
    pub keys: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

fn o<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(|x| x.to_string()).unwrap_or_default()
}

pub fn accounts_table(rows: &[AccountView], with_credit: bool) -> Table {
    let mut keys = vec![
        "id",
        "name",
        "short_name",
        "credit_code",
        "industry",
        "level",
        "region",
        "branch",
        "owner",
        "inside_owner",
        "status",
        "tier",
        "buying_power",
        "sales_12m",
        "sow",
        "rad_class",
        "address",
        "tags",
        "version",
    ];
    if with_credit {
        keys.extend(["credit_grade", "credit_limit", "credit_score"]);
    }
    let rows = rows
        .iter()
        .map(|a| {
            let mut r = vec![
                a.id.to_string(),
                a.name.clone(),
                o(&a.short_name),
                o(&a.credit_code),
                a.industry.clone(),
                a.level.clone(),
                o(&a.region),
                o(&a.branch),
                o(&a.owner),
                o(&a.inside_owner),
                a.status.code().to_string(),
                o(&a.tier),
                o(&a.buying_power),
                o(&a.sales_12m),
                o(&a.sow),
                o(&a.rad_class),
                o(&a.address),
                o(&a.tags),
                a.version.to_string(),
            ];
            if with_credit {
                let c = a.credit.as_ref();
                r.push(c.map(|c| o(&c.credit_grade)).unwrap_or_default());
                r.push(c.map(|c| o(&c.credit_limit)).unwrap_or_default());
                r.push(c.map(|c| o(&c.credit_score)).unwrap_or_default());
            }
            r
        })
        .collect();
    Table { keys, rows }
}

pub fn contacts_table(rows: &[ContactView]) -> Table {
    let keys = vec![
        "id",
        "account_id",
        "account",
        "name",
        "department",
        "title",
        "reports_to",
        "decision_role",
        "attitude",
        "relationship",
        "phone",
        "email",
        "last_contact_on",
    ];
    let rows = rows
        .iter()
        .map(|c| {
            vec![
                c.id.to_string(),
                c.account_id.to_string(),
                c.account_name.clone(),
                c.name.clone(),
                o(&c.department),
                o(&c.title),
                o(&c.reports_to),
                o(&c.decision_role),
                o(&c.attitude),
                o(&c.relationship),
                o(&c.phone),
                o(&c.email),
                o(&c.last_contact_on),
            ]
        })
        .collect();
    Table { keys, rows }
}

pub fn csv(t: &Table, headers: &[String]) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
    w.write_record(headers)?;
    for r in &t.rows {
        w.write_record(r.iter().map(|c| neutralise(c)))?;
    }
    w.into_inner().map_err(|e| anyhow::anyhow!("csv: {e}"))
}

/// What a column holds, from its key: how an XLSX writes its cells and how a person reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Col {
    Text,
    /// Yuan as a decimal string: a number cell formatted `#,##0.00`.
    Money,
    /// A whole number: a number cell.
    Count,
    /// A decimal figure (a percentage, a ratio, a score): a number cell formatted `0.00`.
    Decimal,
    /// A code of an enumeration labelled `kind.code` in the texts (industry, level, stage, …).
    Code(&'static str),
    /// An org unit's code (region, branch): its name for a person.
    Org,
    /// A username: the person's display name.
    Person,
    /// For machines only (`version`): left out of a file for a person.
    Internal,
}

/// The kind of a column by its key (the keys are those of the API and of `field.<key>`).
pub fn column(key: &str) -> Col {
    match key {
        "buying_power" | "sales_12m" | "sales_12m_won" | "sales_12m_entered" | "credit_limit" | "amount"
        | "weighted" | "quota" | "booked" | "remaining" | "pipeline" | "weighted_pipeline" | "commit" | "best_case"
        | "prefill_commit" | "prefill_best_case" | "adjusted_commit" | "adjusted_best_case" | "booked_amount" => {
            Col::Money
        }
        k if k.starts_with("amount_") => Col::Money,
        // The product catalogue's prices (`app::quotes::products::table`).
        "list_price" | "floor_price" | "standard_cost" => Col::Money,
        "tax_rate" => Col::Decimal,
        // Quotes and bids (`app::quotes::{quotes, bids}::table`).
        "total" | "bond_amount" | "bid_price" | "winning_price" => Col::Money,
        "discount" => Col::Decimal,
        "current_version" | "line_count" => Col::Count,
        "quote_state" => Col::Code("quote_state"),
        "bid_decision" => Col::Code("bid_decision"),
        "bid_exception_state" => Col::Code("bid_exception_state"),
        "bid_result" => Col::Code("bid_result"),
        "lines_below_floor" => Col::Code("flag"),
        "active" => Col::Code("active"),
        "id" | "account_id" | "count" | "accounts" | "open_count" | "covered" | "owned" | "untouched" | "unowned"
        | "activated" | "every_days" | "days_overdue" | "effective" | "calls" | "done" | "planned" | "planned_done"
        | "target_weekly" | "mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun" | "visits" | "checked_in"
        | "checked_in_pct" => Col::Count,
        k if k.starts_with("count_") => Col::Count,
        "probability" | "sow" | "soa" | "tier_score" | "credit_score" | "v_value" | "profit_margin" => Col::Decimal,
        "industry" => Col::Code("industry"),
        "level" => Col::Code("level"),
        "status" => Col::Code("status"),
        "tier" => Col::Code("tier"),
        "stage" => Col::Code("stage"),
        "decision_role" => Col::Code("decision_role"),
        "attitude" => Col::Code("attitude"),
        "credit_grade" => Col::Code("credit"),
        "order_state" => Col::Code("order_state"),
        "receivable_state" => Col::Code("receivable_state"),
        "statement_entry" => Col::Code("statement_entry"),
        "installment" => Col::Code("installment"),
        "region" | "branch" => Col::Org,
        "owner" | "inside_owner" | "ka_manager" => Col::Person,
        "version" => Col::Internal,
        _ => Col::Text,
    }
}

/// Turns codes into what a person reads: `(column kind, code) → label`. The web layer builds it
/// from the texts of the user's language and the names of org units and people.
pub type Labeller<'a> = &'a dyn Fn(Col, &str) -> String;

/// An exact decimal string (`"-1234.5"`, `"12.50"`) as hundredths, or `None`.
fn hundredths(v: &str) -> Option<i64> {
    let t = v.trim();
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t),
    };
    let h = crate::domain::money::parse_fen(body).ok()?;
    Some(if neg { -h } else { h })
}

/// XLSX: amounts, counts and figures as number cells (amounts in yuan, formatted `#,##0.00`, so a
/// spreadsheet adds them up), the rest as text. With `labels` (a file for a person) codes are
/// their labels and internal columns are left out; without (the API) codes stay codes.
pub fn xlsx(t: &Table, headers: &[String], sheet: &str, labels: Option<Labeller>) -> anyhow::Result<Vec<u8>> {
    use rust_xlsxwriter::Format;
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(sheet)?;
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("#,##0.00");
    let decimal = Format::new().set_num_format("0.00");
    let cols: Vec<(usize, Col)> = t
        .keys
        .iter()
        .enumerate()
        .map(|(i, k)| (i, column(k)))
        .filter(|(_, c)| labels.is_none() || *c != Col::Internal)
        .collect();
    for (out, (i, col)) in cols.iter().enumerate() {
        let h = headers.get(*i).map(String::as_str).unwrap_or(t.keys[*i]);
        ws.write_string_with_format(0, out as u16, h, &bold)?;
        match col {
            Col::Money => ws.set_column_width(out as u16, 16)?,
            Col::Text | Col::Code(_) | Col::Org | Col::Person => ws.set_column_width(out as u16, 14)?,
            _ => ws,
        };
    }
    for (n, r) in t.rows.iter().enumerate() {
        let row = n as u32 + 1;
        for (out, (i, col)) in cols.iter().enumerate() {
            let c = out as u16;
            let Some(v) = r.get(*i).filter(|v| !v.is_empty()) else { continue };
            match col {
                Col::Money | Col::Decimal if hundredths(v).is_some() => {
                    let h = hundredths(v).unwrap_or_default();
                    ws.write_number_with_format(
                        row,
                        c,
                        h as f64 / 100.0,
                        if *col == Col::Money { &money } else { &decimal },
                    )?;
                }
                Col::Count if v.trim().parse::<i64>().is_ok() => {
                    ws.write_number(row, c, v.trim().parse::<i64>().unwrap_or_default() as f64)?;
                }
                Col::Code(_) | Col::Org | Col::Person if labels.is_some() => {
                    let label = labels.map(|f| f(*col, v)).unwrap_or_else(|| v.clone());
                    ws.write_string(row, c, neutralise(&label))?;
                }
                _ => {
                    ws.write_string(row, c, neutralise(v))?;
                }
            }
        }
    }
    ws.set_freeze_panes(1, 0)?;
    Ok(wb.save_to_buffer()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_also_after_spaces() {
        assert_eq!(neutralise("=1+1"), "'=1+1");
        assert_eq!(neutralise("  @SUM(A1)"), "'  @SUM(A1)");
        assert_eq!(neutralise("-5"), "'-5");
        assert_eq!(neutralise("北京"), "北京");
    }

    #[test]
    fn both_formats_carry_the_rows() {
        let t = Table { keys: vec!["name"], rows: vec![vec!["=HYPERLINK(\"x\")".into()], vec!["华信".into()]] };
        let h = vec!["名称".to_string()];
        let c = String::from_utf8(csv(&t, &h).unwrap()).unwrap();
        assert!(c.starts_with('\u{feff}'));
        assert!(c.contains("\"'=HYPERLINK(\"\"x\"\")\"") && c.contains("华信"));
        let x = xlsx(&t, &h, "accounts", None).unwrap();
        assert_eq!(&x[..2], b"PK", "an XLSX is a zip");
    }
}
