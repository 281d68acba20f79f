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

/// XLSX with every cell as text: amounts keep their exact decimal digits.
pub fn xlsx(t: &Table, headers: &[String], sheet: &str) -> anyhow::Result<Vec<u8>> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(sheet)?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, h, &bold)?;
    }
    for (i, r) in t.rows.iter().enumerate() {
        for (c, v) in r.iter().enumerate() {
            if !v.is_empty() {
                ws.write_string(i as u32 + 1, c as u16, neutralise(v))?;
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
        let x = xlsx(&t, &h, "accounts").unwrap();
        assert_eq!(&x[..2], b"PK", "an XLSX is a zip");
    }
}
