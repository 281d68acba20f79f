//! Exports as CSV (UTF-8 with BOM so Excel on Chinese Windows opens it right). Cells that a
//! spreadsheet would run as a formula are neutralised with a leading apostrophe.
use super::accounts::AccountView;
use super::contacts::ContactView;

pub fn neutralise(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_string(),
    }
}

fn finish(w: csv::Writer<Vec<u8>>) -> anyhow::Result<Vec<u8>> {
    let mut out = vec![0xEF, 0xBB, 0xBF];
    out.extend(w.into_inner().map_err(|e| anyhow::anyhow!("csv: {e}"))?);
    Ok(out)
}

fn o<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(|x| neutralise(&x.to_string())).unwrap_or_default()
}

pub fn accounts_csv(rows: &[AccountView], with_credit: bool) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(vec![]);
    let mut head = vec![
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
        head.extend(["credit_grade", "credit_limit", "credit_score"]);
    }
    w.write_record(&head)?;
    for a in rows {
        let mut r = vec![
            a.id.to_string(),
            neutralise(&a.name),
            o(&a.short_name),
            o(&a.credit_code),
            a.industry.clone(),
            a.level.clone(),
            o(&a.region),
            o(&a.branch),
            o(&a.owner),
            o(&a.inside_owner),
            a.status.clone(),
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
        w.write_record(&r)?;
    }
    finish(w)
}

pub fn contacts_csv(rows: &[ContactView]) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(vec![]);
    w.write_record([
        "id",
        "account_id",
        "account_name",
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
    ])?;
    for c in rows {
        w.write_record([
            c.id.to_string(),
            c.account_id.to_string(),
            neutralise(&c.account_name),
            neutralise(&c.name),
            o(&c.department),
            o(&c.title),
            o(&c.reports_to),
            o(&c.decision_role),
            o(&c.attitude),
            o(&c.relationship),
            o(&c.phone),
            o(&c.email),
            o(&c.last_contact_on),
        ])?;
    }
    finish(w)
}

#[cfg(test)]
mod tests {
    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(super::neutralise("=1+1"), "'=1+1");
        assert_eq!(super::neutralise("-5"), "'-5");
        assert_eq!(super::neutralise("北京"), "北京");
    }
}
