//! The receivables reports (issue 21 item 6; DOMAIN.md §12): the aging by account, owner, team,
//! branch and region, each figure opening its list of receivables; the DSO over a period; the
//! collection forecast by week with the customers' promises on their promised week; an
//! account's statement (对账单) for a period, as JSON, printable and as XLSX.
//!
//! Everything is read in the caller's scope (the accounts they see; finance sees all). Money is
//! fen inside, decimal strings out. The aging bounds are a parameter (`DEFAULT_BUCKETS` until a
//! company setting exists).
//!
//! Grouping through the org tree: a receivable belongs to its order's owner; the owner's team is
//! their direct manager's (each receivable counted once: the teams partition the total), their
//! branch and region are the org units of that kind above (or at) the owner's unit. Owners
//! outside any team, branch or region are one row of their own (key `""`), so the groups always
//! add up to the total.
use std::collections::HashMap;

use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::app::customers::accounts;
use crate::app::orders::aging_summary::{self as summary, aging_cols, LEFT};
use crate::app::orders::receivables::{rec_view, ReceivableView, REC_SELECT};
use crate::app::spreadsheets::export::Table;
use crate::app::{clamp_limit, decode_cursor, encode_cursor, Caller, Error, Page, Result};
use crate::db::sql::Sql;
use crate::db::Db;
use crate::domain::money::format_fen;
use crate::domain::receivable::{self as rc, ReceivableState};
use crate::domain::role::Reach;

fn fmt_day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn parse_day(field: &str, v: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").map_err(|_| Error::invalid(field, "date_format"))
}

fn day_of(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.get(..10).unwrap_or(s), "%Y-%m-%d").ok()
}

// ---------------------------------------------------------------------------------------------
// Aging

/// How the aging report is grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgingBy {
    Account,
    Owner,
    /// The owner's direct manager's team.
    Team,
    /// The branch above the owner's org unit.
    Branch,
    /// The region above the owner's org unit.
    Region,
}

impl AgingBy {
    pub fn code(self) -> &'static str {
        match self {
            AgingBy::Account => "account",
            AgingBy::Owner => "owner",
            AgingBy::Team => "team",
            AgingBy::Branch => "branch",
            AgingBy::Region => "region",
        }
    }

    pub fn parse(s: &str) -> std::result::Result<AgingBy, &'static str> {
        Ok(match s {
            "account" | "" => AgingBy::Account,
            "owner" => AgingBy::Owner,
            "team" => AgingBy::Team,
            "branch" => AgingBy::Branch,
            "region" => AgingBy::Region,
            _ => return Err("invalid_choice"),
        })
    }

    pub const ALL: [AgingBy; 5] = [AgingBy::Account, AgingBy::Owner, AgingBy::Team, AgingBy::Branch, AgingBy::Region];
}

/// One row of the aging report: not yet due, then one column per bucket, and the total.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AgingRow {
    /// The account's id, the owner's username, the team manager's username, or the branch's or
    /// region's code; `""` for the receivables of owners outside any team, branch or region.
    pub key: String,
    pub label: String,
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub not_due: String,
    /// One amount per bucket, in the order of `AgingReport.buckets`.
    pub buckets: Vec<String>,
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub total: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AgingReport {
    #[schema(format = Date)]
    pub as_of: String,
    /// How the rows are grouped: `account`, `owner`, `team`, `branch` or `region`.
    pub by: String,
    /// The buckets' labels (`0–30`, `31–60`, `61–90`, `>90`).
    pub buckets: Vec<String>,
    /// The largest [`AGING_ROWS`] groups; `total` counts them all.
    pub rows: Vec<AgingRow>,
    /// How many groups owe something (the rows shown are the largest of them).
    pub groups: i64,
    pub total: AgingRow,
}

/// The most rows the aging report shows (the largest totals first); the total covers all.
pub const AGING_ROWS: usize = 200;

/// The due range of aging column `bucket` (0: not yet due; 1..: the buckets): `[from, to)`,
/// either end open.
pub fn bucket_due_range(
    today: NaiveDate,
    bounds: &[i64],
    bucket: usize,
) -> Option<(Option<NaiveDate>, Option<NaiveDate>)> {
    if bucket == 0 {
        return Some((Some(today), None));
    }
    if bucket > bounds.len() + 1 {
        return None;
    }
    let upper = if bucket == 1 { today } else { today - Duration::days(bounds[bucket - 2]) };
    let from = bounds.get(bucket - 1).map(|b| today - Duration::days(*b));
    Some((from, Some(upper)))
}

fn figures(r: &AnyRow, n: usize) -> Result<Vec<i64>> {
    Ok((0..n)
        .map(|i| r.try_get::<Option<i64>, _>(format!("c{i}").as_str()).map(|x| x.unwrap_or(0)))
        .collect::<std::result::Result<_, _>>()?)
}

fn aging_row(key: String, label: String, v: &[i64]) -> AgingRow {
    AgingRow {
        key,
        label,
        not_due: format_fen(v[0]),
        buckets: v[1..].iter().map(|x| format_fen(*x)).collect(),
        total: format_fen(v.iter().sum()),
    }
}

/// A person as the org grouping sees them.
struct Person {
    username: String,
    name: String,
    manager: Option<i64>,
    path: String,
}

async fn people(db: &Db) -> Result<HashMap<i64, Person>> {
    let rows = sqlx::query(
        "SELECT u.id, u.username, COALESCE(u.display_name, u.username) AS name, u.manager_id, o.path \
         FROM users u JOIN org_units o ON o.id = u.org_unit_id",
    )
    .fetch_all(db.reads())
    .await?;
    let mut out = HashMap::new();
    for r in rows {
        out.insert(
            r.try_get::<i64, _>("id")?,
            Person {
                username: r.try_get("username")?,
                name: r.try_get("name")?,
                manager: r.try_get("manager_id")?,
                path: r.try_get("path")?,
            },
        );
    }
    Ok(out)
}

/// The org units of a kind: (code, name, path).
async fn units(db: &Db, kind: &str) -> Result<Vec<(String, String, String)>> {
    sqlx::query("SELECT code, name, path FROM org_units WHERE kind = $1 ORDER BY code")
        .bind(kind)
        .fetch_all(db.reads())
        .await?
        .iter()
        .map(|r| Ok((r.try_get("code")?, r.try_get("name")?, r.try_get("path")?)))
        .collect()
}

/// The aging of open receivables in the caller's scope on `today` under `bounds`, grouped `by`
/// (the largest total first). Days past due count from the due date; amounts not yet due have
/// their own column.
pub async fn aging(db: &Db, caller: &Caller, by: AgingBy, today: NaiveDate, bounds: &[i64]) -> Result<AgingReport> {
    let n = bounds.len() + 2;
    // The kept summary (a few rows per account) when it is as of this day and these bounds;
    // the receivables themselves for a day it has already left behind. Either way joined to
    // the accounts only (the scope and the account's name): the people are read apart, for
    // the 200 rows shown.
    let kept = summary::fresh(db, today, bounds).await?;
    let (cols, left) = if kept {
        (summary::summary_cols(n).join(", "), "r.total")
    } else {
        (aging_cols(today, bounds).join(", "), LEFT)
    };
    // `FROM …` the rows in the caller's scope: whoever sees every account reads the summary
    // alone (less the deleted accounts, a short list), the others through their accounts.
    let scoped = |select: &str| {
        let table = if kept { "receivable_aging r" } else { "receivables r" };
        let open = if kept { "" } else { " AND r.state = 'open'" };
        if caller.reach() == Reach::All {
            Sql::new(&format!(
                "{select} FROM {table} WHERE r.account_id NOT IN (SELECT id FROM accounts WHERE deleted_at IS NOT NULL){open}"
            ))
        } else {
            let mut s =
                Sql::new(&format!("{select} FROM {table} JOIN accounts a ON a.id = r.account_id WHERE 1 = 1{open}"));
            accounts::push_scope(&mut s, caller);
            s
        }
    };
    let mut out = vec![];
    let (groups, total) = match by {
        AgingBy::Account | AgingBy::Owner => {
            let group = if by == AgingBy::Account { "r.account_id" } else { "r.owner_id" };
            // The largest groups by their totals alone, ordered and cut in the statement (a
            // HQ's report reads 200 rows, not every account's); then those groups' columns.
            let mut s = scoped(&format!("SELECT {group} AS g, CAST(SUM({left}) AS BIGINT) AS t"));
            s.push(&format!(" GROUP BY {group} ORDER BY t DESC, g LIMIT {AGING_ROWS}"));
            let top: Vec<i64> = s
                .query()
                .fetch_all(db.reads())
                .await?
                .iter()
                .map(|r| r.try_get("g"))
                .collect::<std::result::Result<_, _>>()?;
            let ids = top.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
            let mut figures_of: HashMap<i64, Vec<i64>> = HashMap::new();
            let mut names: HashMap<i64, (String, String)> = HashMap::new();
            if !top.is_empty() {
                let mut s = scoped(&format!("SELECT {group} AS g, {cols}"));
                s.push(&format!(" AND {group} IN ({ids}) GROUP BY {group}"));
                for r in s.query().fetch_all(db.reads()).await? {
                    figures_of.insert(r.try_get("g")?, figures(&r, n)?);
                }
                let (names_sql, key) = match by {
                    AgingBy::Account => (format!("SELECT id, name FROM accounts WHERE id IN ({ids})"), "id"),
                    _ => (
                        format!(
                            "SELECT id, username, COALESCE(display_name, username) AS name FROM users WHERE id IN ({ids})"
                        ),
                        "username",
                    ),
                };
                for r in sqlx::query(&names_sql).fetch_all(db.reads()).await? {
                    let id: i64 = r.try_get("id")?;
                    let k = if key == "id" { id.to_string() } else { r.try_get(key)? };
                    names.insert(id, (k, r.try_get("name")?));
                }
            }
            for g in &top {
                let (k, label) = names.remove(g).unwrap_or_else(|| (g.to_string(), g.to_string()));
                out.push(aging_row(k, label, figures_of.get(g).map(Vec::as_slice).unwrap_or(&vec![0; n])));
            }
            // The totals over every group, and how many groups there are.
            let all = scoped(&format!("SELECT {cols}, COUNT(DISTINCT {group}) AS groups"))
                .query()
                .fetch_one(db.reads())
                .await?;
            (all.try_get::<i64, _>("groups")?, figures(&all, n)?)
        }
        AgingBy::Team | AgingBy::Branch | AgingBy::Region => {
            // By owner (every owner: there are few), then up the org tree.
            let mut s = scoped(&format!("SELECT r.owner_id AS g, {cols}"));
            s.push(" GROUP BY r.owner_id");
            let rows = s.query().fetch_all(db.reads()).await?;
            let ps = people(db).await?;
            let units = match by {
                AgingBy::Branch => units(db, "branch").await?,
                AgingBy::Region => units(db, "region").await?,
                _ => vec![],
            };
            let mut sums: HashMap<String, (String, Vec<i64>)> = HashMap::new();
            let mut total = vec![0; n];
            for r in &rows {
                let owner: i64 = r.try_get("g")?;
                let v = figures(r, n)?;
                let (k, label) = group_of(by, ps.get(&owner), &ps, &units);
                let e = sums.entry(k).or_insert_with(|| (label, vec![0; n]));
                for ((g, t), x) in e.1.iter_mut().zip(total.iter_mut()).zip(&v) {
                    *g += x;
                    *t += x;
                }
            }
            let mut grouped: Vec<(String, String, Vec<i64>)> = sums.into_iter().map(|(k, (l, v))| (k, l, v)).collect();
            grouped.sort_by(|a, b| b.2.iter().sum::<i64>().cmp(&a.2.iter().sum::<i64>()).then_with(|| a.0.cmp(&b.0)));
            let groups = grouped.len() as i64;
            for (k, l, v) in grouped.into_iter().take(AGING_ROWS) {
                out.push(aging_row(k, l, &v));
            }
            (groups, total)
        }
    };
    Ok(AgingReport {
        as_of: fmt_day(today),
        by: by.code().into(),
        buckets: rc::bucket_labels(bounds),
        rows: out,
        groups,
        total: aging_row("total".into(), String::new(), &total),
    })
}

/// The group of an owner: (key, label); `("", "")` outside any.
fn group_of(
    by: AgingBy,
    p: Option<&Person>,
    ps: &HashMap<i64, Person>,
    units: &[(String, String, String)],
) -> (String, String) {
    let Some(p) = p else { return (String::new(), String::new()) };
    match by {
        AgingBy::Team => match p.manager.and_then(|m| ps.get(&m)) {
            Some(m) => (m.username.clone(), m.name.clone()),
            None => (String::new(), String::new()),
        },
        _ => units
            .iter()
            .find(|(_, _, path)| p.path.starts_with(path.as_str()))
            .map(|(c, n, _)| (c.clone(), n.clone()))
            .unwrap_or_default(),
    }
}

// ---------------------------------------------------------------------------------------------
// The receivables list

/// The receivables list's filter (an aging cell's link gives its own).
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub account_id: Option<i64>,
    /// Username of the order's owner.
    pub owner: Option<String>,
    /// Username of a manager: their direct reports' receivables (the aging's team).
    pub team: Option<String>,
    /// An org unit's code: the receivables of owners in it or below.
    pub org: Option<String>,
    /// Receivables of owners outside any unit of this kind (`branch`, `region`) or any team
    /// (`team`): the aging's row with the empty key.
    pub outside: Option<String>,
    /// An aging column: 0 not yet due, 1 the first bucket, …; implies `state=open`.
    pub bucket: Option<i64>,
    pub state: Option<String>,
    /// Due on or after.
    pub due_from: Option<String>,
    /// Due on or before.
    pub due_to: Option<String>,
    /// `due` (default), `-due`, `-outstanding`, `outstanding`.
    pub sort: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

pub const SORTS: &[&str] = &["due", "-due", "-outstanding", "outstanding"];

fn sort_key(sort: Option<&str>) -> Result<(&'static str, bool, bool)> {
    // (expression, is text, descending)
    Ok(match sort.unwrap_or("due") {
        "due" => ("COALESCE(r.due_on, '9999-12-31')", true, false),
        "-due" => ("COALESCE(r.due_on, '9999-12-31')", true, true),
        "outstanding" => ("(r.amount - r.paid - r.written_off)", false, false),
        "-outstanding" => ("(r.amount - r.paid - r.written_off)", false, true),
        _ => return Err(Error::invalid("sort", "invalid_choice")),
    })
}

/// ` AND …` for the filter (without cursor and order).
async fn push_filter(
    db: &Db,
    s: &mut Sql,
    caller: &Caller,
    f: &Filter,
    today: NaiveDate,
    bounds: &[i64],
) -> Result<()> {
    for (field, v, max) in
        [("owner", &f.owner, 100), ("team", &f.team, 100), ("org", &f.org, 100), ("outside", &f.outside, 20)]
    {
        if v.as_deref().is_some_and(|v| v.chars().count() > max) {
            return Err(Error::invalid(field, "too_long"));
        }
    }
    if let Some(a) = f.account_id {
        s.push(" AND r.account_id = ").bind(a);
    }
    if let Some(o) = f.owner.as_deref().map(str::trim).filter(|o| !o.is_empty()) {
        s.push(" AND r.owner_id = (SELECT id FROM users WHERE username = ").bind(o.to_string()).push(")");
    }
    if let Some(t) = f.team.as_deref().map(str::trim).filter(|o| !o.is_empty()) {
        s.push(" AND r.owner_id IN (SELECT id FROM users WHERE manager_id = (SELECT id FROM users WHERE username = ")
            .bind(t.to_string())
            .push("))");
    }
    if let Some(code) = f.org.as_deref().map(str::trim).filter(|o| !o.is_empty()) {
        let path: String = sqlx::query("SELECT path FROM org_units WHERE code = $1")
            .bind(code)
            .fetch_optional(db.reads())
            .await?
            .ok_or_else(|| Error::invalid("org", "unknown_org_unit"))?
            .try_get("path")?;
        s.push(
            " AND r.owner_id IN (SELECT u.id FROM users u JOIN org_units o ON o.id = u.org_unit_id WHERE o.path LIKE ",
        )
        .bind(format!("{path}%"))
        .push(")");
    }
    match f.outside.as_deref().map(str::trim).filter(|o| !o.is_empty()) {
        None => {}
        Some("team") => {
            s.push(" AND r.owner_id IN (SELECT id FROM users WHERE manager_id IS NULL)");
        }
        Some(kind @ ("branch" | "region")) => {
            s.push(" AND r.owner_id IN (SELECT u.id FROM users u JOIN org_units o ON o.id = u.org_unit_id WHERE NOT EXISTS \
                    (SELECT 1 FROM org_units k WHERE k.kind = ")
                .bind(kind.to_string())
                .push(" AND o.path LIKE k.path || '%'))");
        }
        Some(_) => return Err(Error::invalid("outside", "invalid_choice")),
    }
    let mut state = match f.state.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(st) => Some(ReceivableState::parse(st).map_err(|c| Error::invalid("state", c))?),
    };
    if let Some(b) = f.bucket {
        let (from, to) = usize::try_from(b)
            .ok()
            .and_then(|b| bucket_due_range(today, bounds, b))
            .ok_or_else(|| Error::invalid("bucket", "invalid_choice"))?;
        if state.is_some_and(|s| s != ReceivableState::Open) {
            return Err(Error::invalid("state", "bucket_needs_open"));
        }
        state = Some(ReceivableState::Open);
        if let Some(d) = from {
            s.push(" AND r.due_on >= ").bind(fmt_day(d));
        }
        if let Some(d) = to {
            s.push(" AND r.due_on < ").bind(fmt_day(d));
        }
    }
    if let Some(st) = state {
        s.push(" AND r.state = ").bind(st.code());
    }
    if let Some(d) = f.due_from.as_deref().filter(|d| !d.trim().is_empty()) {
        s.push(" AND r.due_on >= ").bind(fmt_day(parse_day("due_from", d)?));
    }
    if let Some(d) = f.due_to.as_deref().filter(|d| !d.trim().is_empty()) {
        s.push(" AND r.due_on <= ").bind(fmt_day(parse_day("due_to", d)?));
    }
    accounts::push_scope(s, caller);
    Ok(())
}

/// The receivables in scope the filter finds, a page at a time (keyset cursor).
pub async fn list(
    db: &Db,
    caller: &Caller,
    f: &Filter,
    today: NaiveDate,
    bounds: &[i64],
) -> Result<Page<ReceivableView>> {
    let limit = clamp_limit(f.limit)?;
    let (col, is_text, desc) = sort_key(f.sort.as_deref())?;
    let mut s = Sql::new(&format!("{REC_SELECT} WHERE 1 = 1"));
    push_filter(db, &mut s, caller, f, today, bounds).await?;
    if let Some(c) = &f.cursor {
        decode_cursor(c)?;
        crate::app::push_after(&mut s, c, col, "r.id", is_text, desc)?;
    }
    let dir = if desc { "DESC" } else { "ASC" };
    s.push(&format!(" ORDER BY {col} {dir}, r.id {dir} LIMIT ")).bind(limit + 1);
    let rows = s.query().fetch_all(db.reads()).await?;
    let mut items = vec![];
    let mut last_key = None;
    for r in rows.iter().take(limit as usize) {
        let v = rec_view(r, today)?;
        last_key = Some(if is_text {
            serde_json::json!(v.due_on.clone().unwrap_or_else(|| "9999-12-31".into()))
        } else {
            let (a, p, w): (i64, i64, i64) = (r.try_get("amount")?, r.try_get("paid")?, r.try_get("written_off")?);
            serde_json::json!(a - p - w)
        });
        items.push(v);
    }
    let next_cursor = match (rows.len() as i64 > limit, items.last(), last_key) {
        (true, Some(v), Some(k)) => Some(encode_cursor(k, v.id)),
        _ => None,
    };
    Ok(Page { items, next_cursor })
}

/// Every row the filter finds (up to 50,000), for a download.
pub async fn export_rows(
    db: &Db,
    caller: &Caller,
    f: &Filter,
    today: NaiveDate,
    bounds: &[i64],
) -> Result<Vec<ReceivableView>> {
    let mut out = vec![];
    let mut f = Filter { limit: Some(crate::app::MAX_LIMIT), cursor: None, ..f.clone() };
    loop {
        let page = list(db, caller, &f, today, bounds).await?;
        out.extend(page.items);
        match page.next_cursor {
            Some(c) if out.len() < 50_000 => f.cursor = Some(c),
            _ => break,
        }
    }
    Ok(out)
}

/// The list as a spreadsheet: amounts as money cells, days as numbers, the state labelled.
pub fn table(rows: &[ReceivableView]) -> Table {
    let keys = vec![
        "account_name",
        "order_number",
        "installment",
        "owner_name",
        "due_on",
        "days_overdue",
        "amount",
        "amount_paid",
        "amount_written_off",
        "amount_outstanding",
        "receivable_state",
    ];
    let rows = rows
        .iter()
        .map(|r| {
            vec![
                r.account_name.clone(),
                r.order_number.clone(),
                r.kind.code().to_string(),
                r.owner_name.clone(),
                r.due_on.clone().unwrap_or_default(),
                r.days_overdue.map(|d| d.to_string()).unwrap_or_default(),
                r.amount.clone(),
                r.paid.clone(),
                r.written_off.clone(),
                r.outstanding.clone(),
                r.state.code().to_string(),
            ]
        })
        .collect();
    Table { keys, rows }
}

// ---------------------------------------------------------------------------------------------
// DSO

/// Days sales outstanding in the caller's scope.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DsoReport {
    /// The period's first and last day (`days` days ending today).
    #[schema(format = Date)]
    pub from: String,
    #[schema(format = Date)]
    pub to: String,
    pub days: i64,
    /// What open receivables still owe today.
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub outstanding: String,
    /// Invoiced in the period (red-letter invoices subtracted).
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub sales: String,
    /// outstanding ÷ sales × days, rounded to the day; null without sales.
    pub dso: Option<i64>,
}

/// The default DSO period in days.
pub const DSO_DAYS: i64 = 90;

/// DSO over the `days` days ending `today`: open receivables' outstanding today ÷ invoiced in
/// the period × days.
pub async fn dso(db: &Db, caller: &Caller, today: NaiveDate, days: i64) -> Result<DsoReport> {
    if !(1..=3660).contains(&days) {
        return Err(Error::invalid("days", "dso_days_range"));
    }
    let from = today - Duration::days(days - 1);
    let mut s = Sql::new(&format!(
        "SELECT CAST(COALESCE(SUM({LEFT}), 0) AS BIGINT) AS o FROM receivables r JOIN accounts a ON a.id = r.account_id \
         WHERE r.state = 'open'"
    ));
    accounts::push_scope(&mut s, caller);
    let outstanding: i64 = s.query().fetch_one(db.reads()).await?.try_get("o")?;
    let mut s = Sql::new(
        "SELECT CAST(COALESCE(SUM(i.amount), 0) AS BIGINT) AS s FROM invoices i JOIN accounts a ON a.id = i.account_id \
         WHERE i.issued_on >= ",
    );
    s.bind(fmt_day(from)).push(" AND i.issued_on <= ").bind(fmt_day(today));
    accounts::push_scope(&mut s, caller);
    let sales: i64 = s.query().fetch_one(db.reads()).await?.try_get("s")?;
    Ok(DsoReport {
        from: fmt_day(from),
        to: fmt_day(today),
        days,
        outstanding: format_fen(outstanding),
        sales: format_fen(sales),
        dso: rc::dso(outstanding, sales, days),
    })
}

// ---------------------------------------------------------------------------------------------
// The collection forecast

/// The weeks the forecast looks ahead.
pub const FORECAST_WEEKS: usize = 8;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ForecastRow {
    /// The owner's username (`total` for the total row).
    pub key: String,
    pub label: String,
    /// Past due and not promised for a coming day.
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub overdue: String,
    /// One amount per week, in the order of `CollectionForecast.weeks`.
    pub weeks: Vec<String>,
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub total: String,
}

/// What is expected to come in, week by week.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CollectionForecast {
    #[schema(format = Date)]
    pub as_of: String,
    /// Each week's first day (a Monday; the first week starts today).
    pub weeks: Vec<String>,
    pub rows: Vec<ForecastRow>,
    pub total: ForecastRow,
}

/// The forecast's column of a day: 0 overdue (before today), 1.. the weeks, None beyond.
fn forecast_col(day: NaiveDate, today: NaiveDate, mondays: &[NaiveDate]) -> Option<usize> {
    if day < today {
        return Some(0);
    }
    let end = *mondays.last()? + Duration::days(7);
    if day >= end {
        return None;
    }
    Some(mondays.iter().rposition(|m| day >= *m).map(|i| i + 1).unwrap_or(1))
}

/// The collection forecast in the caller's scope by owner: open receivables by the week they
/// fall due (those past due in `overdue`); a receivable whose latest promise to pay is for today
/// or later counts the promised amount (at most what it owes) on the promised week instead.
pub async fn forecast(db: &Db, caller: &Caller, today: NaiveDate) -> Result<CollectionForecast> {
    let monday = today - Duration::days(today.weekday().num_days_from_monday() as i64);
    let mondays: Vec<NaiveDate> = (0..FORECAST_WEEKS as i64).map(|i| monday + Duration::days(7 * i)).collect();
    let end = monday + Duration::days(7 * FORECAST_WEEKS as i64);
    let n = FORECAST_WEEKS + 1;
    // Column sums by owner straight from the due dates.
    let mut cols =
        vec![format!("CAST(SUM(CASE WHEN r.due_on < '{}' THEN {LEFT} ELSE 0 END) AS BIGINT) AS c0", fmt_day(today))];
    for (i, m) in mondays.iter().enumerate() {
        let lo = if i == 0 { today } else { *m };
        cols.push(format!(
            "CAST(SUM(CASE WHEN r.due_on >= '{}' AND r.due_on < '{}' THEN {LEFT} ELSE 0 END) AS BIGINT) AS c{}",
            fmt_day(lo),
            fmt_day(*m + Duration::days(7)),
            i + 1
        ));
    }
    let mut s = Sql::new(&format!(
        "SELECT r.owner_id AS g, {} FROM receivables r JOIN accounts a ON a.id = r.account_id WHERE r.state = 'open'",
        cols.join(", ")
    ));
    accounts::push_scope(&mut s, caller);
    s.push(" GROUP BY r.owner_id");
    let mut by_owner: HashMap<i64, Vec<i64>> = HashMap::new();
    for r in s.query().fetch_all(db.reads()).await? {
        by_owner.insert(r.try_get("g")?, figures(&r, n)?);
    }
    // Promises still to come move their amount to the promised week.
    let mut s = Sql::new(&format!(
        "SELECT r.owner_id, r.due_on, {LEFT} AS left_fen, c.promised_on, c.promised_amount FROM receivables r \
         JOIN accounts a ON a.id = r.account_id JOIN collection_contacts c ON c.receivable_id = r.id \
         AND c.id = (SELECT MAX(x.id) FROM collection_contacts x WHERE x.receivable_id = r.id AND x.promised_on IS NOT NULL) \
         WHERE r.state = 'open' AND c.promised_on >= '{}' AND c.promised_on < '{}'",
        fmt_day(today),
        fmt_day(end)
    ));
    accounts::push_scope(&mut s, caller);
    for r in s.query().fetch_all(db.reads()).await? {
        let left: i64 = r.try_get("left_fen")?;
        let promised: Option<i64> = r.try_get("promised_amount")?;
        let amount = promised.unwrap_or(left).min(left).max(0);
        let due = r.try_get::<Option<String>, _>("due_on")?.as_deref().and_then(day_of);
        let on = r.try_get::<Option<String>, _>("promised_on")?.as_deref().and_then(day_of);
        let (Some(due), Some(on)) = (due, on) else { continue };
        let v = by_owner.entry(r.try_get("owner_id")?).or_insert_with(|| vec![0; n]);
        if let Some(c) = forecast_col(due, today, &mondays) {
            v[c] -= amount;
        }
        if let Some(c) = forecast_col(on, today, &mondays) {
            v[c] += amount;
        }
    }
    let ps = people(db).await?;
    let row = |key: String, label: String, v: &[i64]| ForecastRow {
        key,
        label,
        overdue: format_fen(v[0]),
        weeks: v[1..].iter().map(|x| format_fen(*x)).collect(),
        total: format_fen(v.iter().sum()),
    };
    let mut total = vec![0; n];
    let mut rows: Vec<(i64, ForecastRow)> = vec![];
    for (owner, v) in &by_owner {
        let sum: i64 = v.iter().sum();
        if sum == 0 {
            continue;
        }
        for (t, x) in total.iter_mut().zip(v) {
            *t += x;
        }
        let (k, l) = ps.get(owner).map(|p| (p.username.clone(), p.name.clone())).unwrap_or_default();
        rows.push((sum, row(k, l, v)));
    }
    rows.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.key.cmp(&b.1.key)));
    Ok(CollectionForecast {
        as_of: fmt_day(today),
        weeks: mondays.iter().map(|m| fmt_day(*m)).collect(),
        rows: rows.into_iter().map(|(_, r)| r).collect(),
        total: row("total".into(), String::new(), &total),
    })
}

// ---------------------------------------------------------------------------------------------
// The account's statement (对账单)

/// One entry of a statement: an invoice (a debit; a red-letter invoice a negative one) or a
/// payment (a credit), with the running balance.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatementLine {
    #[schema(format = Date)]
    pub date: String,
    /// `invoice`, `red_letter`, `payment` or `writeoff` (bad debt written off, approved).
    pub entry: String,
    /// The invoice number, the payment's bank reference, or the write-off's number (`WO-12`).
    pub reference: String,
    /// The invoice's (or the write-off's) order.
    pub order_number: Option<String>,
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub debit: String,
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub credit: String,
    /// Invoiced less paid and written off, after this entry.
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub balance: String,
}

/// An account's statement for a period: the balance (invoiced less paid) at its start, the
/// invoices and payments in it, the balance at its end, and what is still open today.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Statement {
    pub account_id: i64,
    pub account_name: String,
    #[schema(format = Date)]
    pub from: String,
    #[schema(format = Date)]
    pub to: String,
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub opening_balance: String,
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub invoiced: String,
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub paid: String,
    /// Bad debt written off in the period (approved write-offs).
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub written_off: String,
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub closing_balance: String,
    pub lines: Vec<StatementLine>,
    /// The open receivables today, the earliest due first.
    pub open_items: Vec<ReceivableView>,
    /// What the open receivables still owe today.
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub outstanding: String,
}

/// The instant a day starts in `tz`, as the stored timestamps spell instants.
fn day_start_utc(d: NaiveDate, tz: chrono_tz::Tz) -> String {
    use chrono::TimeZone;
    let midnight = d.and_hms_opt(0, 0, 0).unwrap_or_default();
    let at = tz.from_local_datetime(&midnight).earliest().map(|x| x.with_timezone(&chrono::Utc));
    crate::db::ts(at.unwrap_or_else(|| midnight.and_utc()))
}

/// The most entries a statement lists.
pub const STATEMENT_LINES: i64 = 20_000;

/// The statement period from the query: `from` (default: 1 January of this year) to `to`
/// (default: today), at most ten years.
pub fn statement_period(from: Option<&str>, to: Option<&str>, today: NaiveDate) -> Result<(NaiveDate, NaiveDate)> {
    let mut e = crate::domain::error::Errors::default();
    let pick = |e: &mut crate::domain::error::Errors, f: &str, v: Option<&str>, d: NaiveDate| match v
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        None => Some(d),
        Some(v) => match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
            Ok(x) => Some(x),
            Err(_) => {
                e.add(f, "date_format");
                None
            }
        },
    };
    let start = NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today);
    let from = pick(&mut e, "from", from, start);
    let to = pick(&mut e, "to", to, today);
    if let (Some(f), Some(t)) = (from, to) {
        if f > t {
            e.add("to", "before_from");
        } else if (t - f).num_days() > 3660 {
            e.add("from", "period_too_long");
        }
    }
    e.finish()?;
    Ok((from.unwrap_or(start), to.unwrap_or(today)))
}

/// A statement entry before its balance: (day, invoices first, entry, reference, order, debit,
/// credit).
type Entry = (String, i64, String, String, Option<String>, i64, i64);

/// The account's statement for `[from, to]` (the account in scope, 404 otherwise).
pub async fn statement(
    db: &Db,
    caller: &Caller,
    account_id: i64,
    from: NaiveDate,
    to: NaiveDate,
    today: NaiveDate,
) -> Result<Statement> {
    let mut conn = db.reads().acquire().await?;
    let mut s = Sql::new("SELECT a.id, a.name FROM accounts a WHERE a.id = ");
    s.bind(account_id);
    accounts::push_scope_one(&mut s, caller);
    let a = s.query().fetch_optional(&mut *conn).await?.ok_or(Error::NotFound)?;
    let (f, t) = (fmt_day(from), fmt_day(to));
    // Write-offs are dated by their approval, an instant: the period's days in the caller's
    // time zone as instants.
    let tz = crate::domain::activity::parse_tz(&caller.time_zone).unwrap_or(chrono_tz::Asia::Shanghai);
    let (wf, wt) = (day_start_utc(from, tz), day_start_utc(to + Duration::days(1), tz));
    let before = sqlx::query(
        "SELECT (SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM invoices WHERE account_id = $1 AND issued_on < $2) AS i, \
         (SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM payments WHERE account_id = $1 AND received_on < $2) AS p, \
         (SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM writeoffs WHERE account_id = $1 AND state = 'approved' \
          AND closed_at < $3) AS w",
    )
    .bind(account_id)
    .bind(f.clone())
    .bind(wf.clone())
    .fetch_one(&mut *conn)
    .await?;
    let opening: i64 =
        before.try_get::<i64, _>("i")? - before.try_get::<i64, _>("p")? - before.try_get::<i64, _>("w")?;
    let mut entries: Vec<Entry> = vec![];
    for r in sqlx::query(
        "SELECT i.id, i.issued_on, i.number, i.amount, d.number AS order_number FROM invoices i JOIN orders d ON d.id = i.order_id \
         WHERE i.account_id = $1 AND i.issued_on >= $2 AND i.issued_on <= $3 ORDER BY i.issued_on, i.id LIMIT $4",
    )
    .bind(account_id)
    .bind(f.clone())
    .bind(t.clone())
    .bind(STATEMENT_LINES)
    .fetch_all(&mut *conn)
    .await?
    {
        let amount: i64 = r.try_get("amount")?;
        let entry = if amount < 0 { "red_letter" } else { "invoice" };
        entries.push((
            r.try_get("issued_on")?,
            0,
            entry.into(),
            r.try_get("number")?,
            r.try_get("order_number")?,
            amount,
            0,
        ));
    }
    for r in sqlx::query(
        "SELECT id, received_on, reference, amount FROM payments WHERE account_id = $1 AND received_on >= $2 AND received_on <= $3 \
         ORDER BY received_on, id LIMIT $4",
    )
    .bind(account_id)
    .bind(f.clone())
    .bind(t.clone())
    .bind(STATEMENT_LINES)
    .fetch_all(&mut *conn)
    .await?
    {
        entries.push((
            r.try_get("received_on")?,
            1,
            "payment".into(),
            r.try_get::<Option<String>, _>("reference")?.unwrap_or_default(),
            None,
            0,
            r.try_get("amount")?,
        ));
    }
    for r in sqlx::query(
        "SELECT w.id, w.closed_at, w.amount, d.number AS order_number FROM writeoffs w JOIN orders d ON d.id = w.order_id \
         WHERE w.account_id = $1 AND w.state = 'approved' AND w.closed_at >= $2 AND w.closed_at < $3 ORDER BY w.closed_at, w.id LIMIT $4",
    )
    .bind(account_id)
    .bind(wf)
    .bind(wt)
    .bind(STATEMENT_LINES)
    .fetch_all(&mut *conn)
    .await?
    {
        let at: String = r.try_get("closed_at")?;
        let day = chrono::DateTime::parse_from_rfc3339(&at)
            .map(|d| fmt_day(d.with_timezone(&tz).date_naive()))
            .unwrap_or_else(|_| at.get(..10).unwrap_or(&at).to_string());
        entries.push((
            day,
            2,
            "writeoff".into(),
            format!("WO-{}", r.try_get::<i64, _>("id")?),
            r.try_get("order_number")?,
            0,
            r.try_get("amount")?,
        ));
    }
    // By day; on a day, invoices before payments before write-offs.
    entries.sort_by(|a, b| (a.0.as_str(), a.1).cmp(&(b.0.as_str(), b.1)));
    let mut balance = opening;
    let (mut invoiced, mut paid, mut written_off) = (0, 0, 0);
    let mut lines = vec![];
    for (date, kind, entry, reference, order_number, debit, credit) in entries {
        balance += debit - credit;
        invoiced += debit;
        if kind == 2 {
            written_off += credit;
        } else {
            paid += credit;
        }
        lines.push(StatementLine {
            date,
            entry,
            reference,
            order_number,
            debit: format_fen(debit),
            credit: format_fen(credit),
            balance: format_fen(balance),
        });
    }
    let open_items = sqlx::query(&format!(
        "{REC_SELECT} WHERE r.account_id = $1 AND r.state = 'open' ORDER BY r.due_on, r.id LIMIT 2000"
    ))
    .bind(account_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| rec_view(r, today))
    .collect::<Result<Vec<_>>>()?;
    let outstanding: i64 = sqlx::query(
        "SELECT CAST(COALESCE(SUM(amount - paid - written_off), 0) AS BIGINT) AS o FROM receivables WHERE account_id = $1 AND state = 'open'",
    )
    .bind(account_id)
    .fetch_one(&mut *conn)
    .await?
    .try_get("o")?;
    Ok(Statement {
        account_id,
        account_name: a.try_get("name")?,
        from: f,
        to: t,
        opening_balance: format_fen(opening),
        invoiced: format_fen(invoiced),
        paid: format_fen(paid),
        written_off: format_fen(written_off),
        closing_balance: format_fen(balance),
        lines,
        open_items,
        outstanding: format_fen(outstanding),
    })
}

/// The statement as a spreadsheet: the opening balance, each entry, the closing balance;
/// amounts as money cells, the entries labelled.
pub fn statement_table(st: &Statement) -> Table {
    let keys = vec![
        "entry_date",
        "statement_entry",
        "reference",
        "order_number",
        "amount_debit",
        "amount_credit",
        "amount_balance",
    ];
    let mut rows = vec![vec![
        st.from.clone(),
        "opening".to_string(),
        st.account_name.clone(),
        String::new(),
        String::new(),
        String::new(),
        st.opening_balance.clone(),
    ]];
    for l in &st.lines {
        rows.push(vec![
            l.date.clone(),
            l.entry.clone(),
            l.reference.clone(),
            l.order_number.clone().unwrap_or_default(),
            l.debit.clone(),
            l.credit.clone(),
            l.balance.clone(),
        ]);
    }
    rows.push(vec![
        st.to.clone(),
        "closing".to_string(),
        st.account_name.clone(),
        String::new(),
        st.invoiced.clone(),
        // The credit column's sum: payments and write-offs.
        format_fen([&st.paid, &st.written_off].iter().map(|x| crate::domain::money::parse_fen(x).unwrap_or(0)).sum()),
        st.closing_balance.clone(),
    ]);
    Table { keys, rows }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn a_bucket_is_the_due_range_the_aging_sums() {
        let t = day("2027-05-31");
        let b = rc::DEFAULT_BUCKETS;
        assert_eq!(bucket_due_range(t, &b, 0), Some((Some(t), None)));
        // 1..=30 days past due: due from 30 days ago up to yesterday.
        assert_eq!(bucket_due_range(t, &b, 1), Some((Some(day("2027-05-01")), Some(t))));
        assert_eq!(bucket_due_range(t, &b, 2), Some((Some(day("2027-04-01")), Some(day("2027-05-01")))));
        assert_eq!(bucket_due_range(t, &b, 4), Some((None, Some(day("2027-03-02")))));
        assert_eq!(bucket_due_range(t, &b, 5), None);
        for (days, want) in [(0, 0), (30, 1), (31, 2), (90, 3), (91, 4)] {
            let due = t - Duration::days(days);
            let got = (0..5)
                .find(|i| {
                    let (f, to) = bucket_due_range(t, &b, *i).expect("range");
                    f.is_none_or(|f| due >= f) && to.is_none_or(|to| due < to)
                })
                .expect("a bucket");
            assert_eq!(got, want, "{days} days");
            assert_eq!(got, rc::bucket_of(days, &b));
        }
    }

    #[test]
    fn the_forecast_puts_a_day_in_its_week() {
        let today = day("2027-06-02"); // a Wednesday
        let mondays: Vec<NaiveDate> = (0..8).map(|i| day("2027-05-31") + Duration::days(7 * i)).collect();
        assert_eq!(forecast_col(day("2027-06-01"), today, &mondays), Some(0));
        assert_eq!(forecast_col(today, today, &mondays), Some(1));
        assert_eq!(forecast_col(day("2027-06-06"), today, &mondays), Some(1));
        assert_eq!(forecast_col(day("2027-06-07"), today, &mondays), Some(2));
        assert_eq!(forecast_col(day("2027-07-25"), today, &mondays), Some(8));
        assert_eq!(forecast_col(day("2027-07-26"), today, &mondays), None);
    }
}
