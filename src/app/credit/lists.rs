//! The credit lists (绿名单 / 黄名单 / 红名单 / 黑名单, seed 003 §三.2), plus the accounts not
//! graded yet: the accounts of a stored grade in the caller's scope, filtered by region, owner,
//! name and status, sorted and paged, and exported. Only for those who see credit (others: 404).
use serde::Serialize;
use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::app::customers::accounts::push_scope;
use crate::app::spreadsheets::export::Table;
use crate::app::{clamp_limit, encode_cursor, Caller, Error, Page, Result};
use crate::db::sql::Sql;
use crate::db::Db;
use crate::domain::account::{CreditGrade, Status};
use crate::domain::error::Errors;
use crate::domain::money::format_fen;
use crate::domain::text;

/// Which list: a grade, or `none` (not graded yet).
pub const LISTS: &[&str] = &["green", "yellow", "red", "black", "none"];

/// One account on a credit list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreditRow {
    pub id: i64,
    pub name: String,
    /// The region's org unit code, and its name.
    pub region: Option<String>,
    pub region_name: Option<String>,
    /// The owner's username, and their name.
    pub owner: Option<String>,
    pub owner_name: Option<String>,
    pub status: Status,
    /// The stored grade (null: not graded yet).
    pub credit_grade: Option<CreditGrade>,
    /// The stored limit, yuan.
    #[schema(value_type = Option<crate::web::api::contract::Money>)]
    pub credit_limit: Option<String>,
    /// The latest evaluation's score.
    pub credit_score: Option<i64>,
    /// Trailing-12-month sales (the transaction amount the bands read), yuan.
    #[schema(value_type = Option<crate::web::api::contract::Money>)]
    pub sales_12m: Option<String>,
    /// The day of the latest evaluation.
    #[schema(format = Date)]
    pub last_evaluated_on: Option<String>,
}

#[derive(Debug, Default, Clone)]
pub struct Filter {
    /// A grade code or `none`; all accounts when absent.
    pub grade: Option<String>,
    /// A region's org unit code.
    pub region: Option<String>,
    /// An owner's username.
    pub owner: Option<String>,
    pub q: Option<String>,
    pub status: Option<String>,
    /// `name` (default), `score`, `limit`, `sales_12m`; `-` before for descending.
    pub sort: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

/// Sort keys: (name, SQL expression, is text).
const SORTS: &[(&str, &str, bool)] = &[
    ("name", "a.name_sort", true),
    ("score", "COALESCE(a.credit_score, -1)", false),
    ("limit", "COALESCE(a.credit_limit, -1)", false),
    ("sales_12m", "COALESCE(a.sales_12m, -1)", false),
];

fn sort_of(s: Option<&str>) -> Result<(&'static str, &'static str, bool, bool)> {
    let raw = s.map(str::trim).filter(|s| !s.is_empty()).unwrap_or("name");
    let (desc, key) = match raw.strip_prefix('-') {
        Some(k) => (true, k),
        None => (false, raw),
    };
    SORTS
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(k, e, t)| (*k, *e, *t, desc))
        .ok_or_else(|| Error::invalid("sort", "invalid_choice"))
}

impl Filter {
    fn check(&self) -> Result<()> {
        let mut e = Errors::default();
        if let Some(g) = &self.grade {
            if !LISTS.contains(&g.as_str()) {
                e.add("grade", "invalid_choice");
            }
        }
        if let Some(s) = &self.status {
            e.take("status", Status::parse(s));
        }
        e.take("q", text::search(self.q.as_deref()));
        for (f, v) in [("region", &self.region), ("owner", &self.owner)] {
            if v.as_ref().is_some_and(|v| v.chars().count() > 100) {
                e.add(f, "too_long");
            }
        }
        if let Err(Error::Invalid(fs)) = sort_of(self.sort.as_deref()) {
            e.0.extend(fs);
        }
        e.finish()
    }

    fn push_where(&self, s: &mut Sql) {
        match self.grade.as_deref() {
            Some("none") => {
                s.push(" AND a.credit_grade IS NULL");
            }
            Some(g) => {
                s.push(" AND a.credit_grade = ").bind(g.to_string());
            }
            None => {}
        }
        if let Some(q) = text::search(self.q.as_deref()).ok().flatten() {
            let pat = text::like_pattern(q);
            s.push(" AND (a.name_norm LIKE ").bind(pat.clone()).push(" ESCAPE '\\'");
            s.push(" OR LOWER(a.short_name) LIKE ").bind(pat).push(" ESCAPE '\\'");
            s.push(" OR a.credit_code = ").bind(q.to_ascii_uppercase()).push(")");
        }
        if let Some(r) = self.region.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            s.push(" AND a.region_id = (SELECT id FROM org_units WHERE code = ").bind(r.to_string()).push(")");
        }
        if let Some(o) = self.owner.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            s.push(" AND a.owner_id = (SELECT id FROM users WHERE username = ").bind(o.to_string()).push(")");
        }
        if let Some(st) = &self.status {
            s.push(" AND a.status = ").bind(st.trim().to_string());
        }
    }
}

const COLUMNS: &str = "SELECT a.id, a.name, a.name_sort, a.status, a.credit_grade, a.credit_limit, a.credit_score, \
    a.sales_12m, r.code AS region_code, r.name AS region_name, o.username AS owner_username, \
    o.display_name AS owner_name, \
    (SELECT MAX(e.evaluated_on) FROM credit_evaluations e WHERE e.account_id = a.id) AS last_evaluated_on";

const JOINS: &str = " LEFT JOIN org_units r ON r.id = a.region_id LEFT JOIN users o ON o.id = a.owner_id";

fn row(r: &AnyRow) -> Result<CreditRow> {
    Ok(CreditRow {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        region: r.try_get("region_code")?,
        region_name: r.try_get("region_name")?,
        owner: r.try_get("owner_username")?,
        owner_name: r.try_get("owner_name")?,
        status: r.try_get("status")?,
        credit_grade: r.try_get::<Option<String>, _>("credit_grade")?.and_then(|g| CreditGrade::parse(&g).ok()),
        credit_limit: r.try_get::<Option<i64>, _>("credit_limit")?.map(format_fen),
        credit_score: r.try_get("credit_score")?,
        sales_12m: r.try_get::<Option<i64>, _>("sales_12m")?.map(format_fen),
        last_evaluated_on: r.try_get("last_evaluated_on")?,
    })
}

fn may(caller: &Caller) -> Result<()> {
    if caller.sees_credit() {
        Ok(())
    } else {
        Err(Error::NotFound)
    }
}

/// A page of a credit list in the caller's scope.
pub async fn list(db: &Db, caller: &Caller, f: &Filter) -> Result<Page<CreditRow>> {
    may(caller)?;
    f.check()?;
    let limit = clamp_limit(f.limit)?;
    let (key, expr, is_text, desc) = sort_of(f.sort.as_deref())?;
    let mut s = Sql::new("SELECT a.* FROM accounts a WHERE 1=1");
    push_scope(&mut s, caller);
    f.push_where(&mut s);
    if let Some(c) = &f.cursor {
        crate::app::push_after(&mut s, c, expr, "a.id", is_text, desc)?;
    }
    let dir = if desc { "DESC" } else { "ASC" };
    s.push(&format!(" ORDER BY {expr} {dir}, a.id {dir} LIMIT ")).bind(limit + 1);
    s.text = format!("{COLUMNS} FROM ({}) a{JOINS} ORDER BY {expr} {dir}, a.id {dir}", s.text);
    let rows = s.query().fetch_all(&db.pool).await?;
    let mut items = Vec::with_capacity(rows.len().min(limit as usize));
    let mut last = Value::Null;
    for r in rows.iter().take(limit as usize) {
        let v = row(r)?;
        last = match key {
            "name" => Value::from(r.try_get::<String, _>("name_sort")?),
            "score" => Value::from(v.credit_score.unwrap_or(-1)),
            "limit" => Value::from(r.try_get::<Option<i64>, _>("credit_limit")?.unwrap_or(-1)),
            _ => Value::from(r.try_get::<Option<i64>, _>("sales_12m")?.unwrap_or(-1)),
        };
        items.push(v);
    }
    let next_cursor =
        if rows.len() as i64 > limit { items.last().map(|v| encode_cursor(last.clone(), v.id)) } else { None };
    Ok(Page { items, next_cursor })
}

/// How many accounts each list holds in the caller's scope (the other filters applied), in
/// [`LISTS`] order.
pub async fn counts(db: &Db, caller: &Caller, f: &Filter) -> Result<Vec<(&'static str, i64)>> {
    may(caller)?;
    f.check()?;
    let mut s = Sql::new("SELECT a.credit_grade AS g, COUNT(*) AS n FROM accounts a WHERE 1=1");
    push_scope(&mut s, caller);
    Filter { grade: None, ..f.clone() }.push_where(&mut s);
    s.push(" GROUP BY a.credit_grade");
    let rows = s.query().fetch_all(&db.pool).await?;
    let mut out: Vec<(&'static str, i64)> = LISTS.iter().map(|g| (*g, 0)).collect();
    for r in rows {
        let g: Option<String> = r.try_get("g")?;
        let n: i64 = r.try_get("n")?;
        let key = g.as_deref().unwrap_or("none");
        if let Some(x) = out.iter_mut().find(|(k, _)| *k == key) {
            x.1 += n;
        }
    }
    Ok(out)
}

/// The most rows an export carries.
pub const EXPORT_MAX: i64 = 100_000;

/// Every account of the list in scope, for export (name order).
pub async fn export(db: &Db, caller: &Caller, f: &Filter) -> Result<Table> {
    may(caller)?;
    f.check()?;
    let mut s = Sql::new(COLUMNS);
    s.push(" FROM accounts a");
    s.push(JOINS);
    s.push(" WHERE 1=1");
    push_scope(&mut s, caller);
    f.push_where(&mut s);
    s.push(" ORDER BY a.name_sort, a.id LIMIT ").bind(EXPORT_MAX);
    let rows = s.query().fetch_all(&db.pool).await?;
    let keys = vec![
        "id",
        "name",
        "region",
        "owner",
        "status",
        "credit_grade",
        "credit_score",
        "credit_limit",
        "sales_12m",
        "last_evaluated_on",
    ];
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut out = vec![];
    for r in &rows {
        let v = row(r)?;
        out.push(vec![
            v.id.to_string(),
            v.name.clone(),
            o(&v.region),
            o(&v.owner),
            v.status.code().to_string(),
            v.credit_grade.map(|g| g.code().to_string()).unwrap_or_default(),
            v.credit_score.map(|s| s.to_string()).unwrap_or_default(),
            o(&v.credit_limit),
            o(&v.sales_12m),
            o(&v.last_evaluated_on),
        ]);
    }
    Ok(Table { keys, rows: out })
}
