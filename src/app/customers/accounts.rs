//! Accounts (客户基本信息表; docs/DOMAIN.md#1-customers): scoped reads, validated writes, versions and audit.
use serde::Serialize;
use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::app::customers::derived::{self, Change};
use crate::app::customers::visibility::Probe;
use crate::app::people::directory::Found;
use crate::app::records::input::Input;
use crate::app::{clamp_limit, encode_cursor, records::audit, Caller, Ctx, Error, Page, Result};
use crate::db::sql::{Sql, Val};
use crate::db::{is_unique_violation, now, Db, RowLock, WriteTx};
use crate::domain::account::{self as acct, Industry, Level, Status, RAD_CLASSES};
use crate::domain::credit_code::CreditCode;
use crate::domain::error::Errors;
use crate::domain::money::{format_bp, format_fen, parse_bp, parse_fen};
use crate::domain::policy::{decide, Decision, Op};
use crate::domain::role::Reach;
use crate::domain::text;

/// Fields a sales user may set on an account they can edit.
pub const EDIT_FIELDS: &[&str] = &[
    "name",
    "short_name",
    "credit_code",
    "industry",
    "level",
    "region",
    "branch",
    "address",
    "website",
    "business_units",
    "buying_power",
    "sales_12m",
    "sales_12m_entered",
    "profit_margin",
    "payment_terms_days",
    "sales_expense_ratio",
    "notes",
    "tags",
    "current_asset_ratio",
    "net_margin",
    "roa",
    "collection_days",
    "inventory_days",
];
/// Assignment fields: managers only.
pub const ASSIGN_FIELDS: &[&str] = &["owner", "inside_owner", "ka_manager"];
/// Fields that exist but are set by workflows, never by an edit.
pub const SYSTEM_FIELDS: &[&str] = &[
    "id",
    "status",
    "tier",
    "credit_grade",
    "credit_limit",
    "credit_score",
    "sow",
    "rad_class",
    "sales_12m_won",
    "sales_12m_source",
    "tier_score",
    "tier_since",
    "created_at",
    "updated_at",
    "deleted_at",
];

/// Credit information, present only for callers at supervisor level and above.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Credit {
    /// Credit grade (信用等级); null until assessed.
    #[schema(value_type = Option<crate::domain::account::CreditGrade>)]
    pub credit_grade: Option<String>,
    /// Credit limit (信用额度) in yuan.
    #[schema(value_type = Option<crate::web::api::contract::Money>)]
    pub credit_limit: Option<String>,
    /// Credit score (信用评分).
    pub credit_score: Option<i64>,
}

/// An account (客户) as the API shows it. The credit fields (`credit_grade`, `credit_limit`,
/// `credit_score`) are present only for callers at supervisor level and above.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AccountView {
    pub id: i64,
    /// The registered name (客户名称).
    pub name: String,
    pub short_name: Option<String>,
    /// The unified social credit code (统一社会信用代码), 18 characters, upper case.
    pub credit_code: Option<String>,
    #[schema(value_type = crate::domain::account::Industry)]
    pub industry: String,
    #[schema(value_type = crate::domain::account::Level)]
    pub level: String,
    /// The region's org unit code.
    pub region: Option<String>,
    /// The branch's org unit code.
    pub branch: Option<String>,
    /// Username of the (outside) owner.
    pub owner: Option<String>,
    /// Username of the inside-sales owner.
    pub inside_owner: Option<String>,
    /// Username of the KA manager.
    pub ka_manager: Option<String>,
    /// The lifecycle status; it moves only through its flows (screenings), never by an edit.
    pub status: crate::domain::account::Status,
    #[schema(value_type = Option<crate::domain::account::Tier>)]
    pub tier: Option<String>,
    pub address: Option<String>,
    pub website: Option<String>,
    pub business_units: Option<String>,
    /// The customer's yearly purchasing volume (年度采购量), yuan.
    #[schema(value_type = Option<crate::web::api::contract::Money>)]
    pub buying_power: Option<String>,
    /// Trailing-12-month sales: won opportunities (`sales_12m_won`) plus the figure entered or
    /// imported for sales KAM does not hold (`sales_12m_entered`); `sales_12m_source` says which.
    #[schema(value_type = Option<crate::web::api::contract::Money>)]
    pub sales_12m: Option<String>,
    /// Won opportunities of the trailing twelve months, yuan.
    #[schema(value_type = crate::web::api::contract::Money)]
    pub sales_12m_won: String,
    /// The part of `sales_12m` entered or imported, yuan.
    #[schema(value_type = Option<crate::web::api::contract::Money>)]
    pub sales_12m_entered: Option<String>,
    /// Where `sales_12m` comes from: `opportunities`, `entered` or `both`; null when none.
    #[schema(value_type = Option<String>, pattern = "^(opportunities|entered|both)$")]
    pub sales_12m_source: Option<&'static str>,
    /// Share of wallet (%): sales over buying power.
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub sow: Option<String>,
    /// The RAD class (R1–R3, D1–D3, A1–A3). Null: unclassified (no buying power).
    #[schema(pattern = "^[RDA][1-3]$")]
    pub rad_class: Option<String>,
    /// The weighted tier score (1.00–5.00) and since when the account holds its tier.
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub tier_score: Option<String>,
    #[schema(format = DateTime)]
    pub tier_since: Option<String>,
    /// Tier inputs: our profit margin on the customer (%), payment terms (days), sales expense ratio (%).
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub profit_margin: Option<String>,
    pub payment_terms_days: Option<i64>,
    /// Sales expense ratio (%).
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub sales_expense_ratio: Option<String>,
    pub notes: Option<String>,
    pub tags: Option<String>,
    /// Current asset ratio (%).
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub current_asset_ratio: Option<String>,
    /// Net margin (%).
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub net_margin: Option<String>,
    /// Return on assets (%).
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub roa: Option<String>,
    /// Days sales outstanding.
    pub collection_days: Option<i64>,
    /// Days inventory outstanding.
    pub inventory_days: Option<i64>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Credit)]
    pub credit: Option<Credit>,
    pub version: i64,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// When a salesperson claimed it from the regional pool (null when it was assigned).
    #[schema(format = DateTime)]
    pub claimed_at: Option<String>,
    /// Display names for the UI; not part of the API.
    #[serde(skip)]
    pub names: Names,
}

#[derive(Debug, Clone, Default)]
pub struct Names {
    pub region: Option<String>,
    pub branch: Option<String>,
    pub owner: Option<String>,
    pub inside_owner: Option<String>,
    pub ka_manager: Option<String>,
}

impl AccountView {
    pub(crate) fn for_caller(mut self, caller: &Caller) -> Self {
        if !caller.sees_credit() {
            self.credit = None;
        }
        self
    }
}

const COLUMNS: &str = "SELECT a.*, r.code AS region_code, r.name AS region_name, \
    b.code AS branch_code, b.name AS branch_name, \
    o.username AS owner_username, o.display_name AS owner_name, \
    io.username AS inside_username, io.display_name AS inside_name, \
    km.username AS km_username, km.display_name AS km_name";

const JOINS: &str = " LEFT JOIN org_units r ON r.id = a.region_id LEFT JOIN org_units b ON b.id = a.branch_id \
    LEFT JOIN users o ON o.id = a.owner_id LEFT JOIN users io ON io.id = a.inside_owner_id \
    LEFT JOIN users km ON km.id = a.ka_manager_id";

/// One account with the codes and names it refers to.
pub(crate) fn select() -> String {
    format!("{COLUMNS} FROM accounts a{JOINS}")
}

pub(crate) fn view_from_row(r: &AnyRow) -> Result<AccountView> {
    let money = |c: &str| -> Result<Option<String>> { Ok(r.try_get::<Option<i64>, _>(c)?.map(format_fen)) };
    let pct = |c: &str| -> Result<Option<String>> { Ok(r.try_get::<Option<i64>, _>(c)?.map(format_bp)) };
    Ok(AccountView {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        short_name: r.try_get("short_name")?,
        credit_code: r.try_get("credit_code")?,
        industry: r.try_get("industry")?,
        level: r.try_get("level")?,
        region: r.try_get("region_code")?,
        branch: r.try_get("branch_code")?,
        owner: r.try_get("owner_username")?,
        inside_owner: r.try_get("inside_username")?,
        ka_manager: r.try_get("km_username")?,
        status: r.try_get("status")?,
        tier: r.try_get("tier")?,
        address: r.try_get("address")?,
        website: r.try_get("website")?,
        business_units: r.try_get("business_units")?,
        buying_power: money("buying_power")?,
        sales_12m: money("sales_12m")?,
        sales_12m_won: format_fen(r.try_get::<i64, _>("sales_12m_won")?),
        sales_12m_entered: money("sales_12m_entered")?,
        sales_12m_source: crate::app::classification::classify::source(
            r.try_get("sales_12m_entered")?,
            r.try_get::<i64, _>("sales_12m_won")?,
        ),
        sow: pct("sow_bp")?,
        rad_class: r.try_get("rad_class")?,
        tier_score: money("tier_score")?,
        tier_since: r.try_get("tier_since")?,
        profit_margin: pct("profit_margin_bp")?,
        payment_terms_days: r.try_get("payment_terms_days")?,
        sales_expense_ratio: pct("expense_ratio_bp")?,
        notes: r.try_get("notes")?,
        tags: r.try_get("tags")?,
        current_asset_ratio: pct("current_asset_ratio_bp")?,
        net_margin: pct("net_margin_bp")?,
        roa: pct("roa_bp")?,
        collection_days: r.try_get("collection_days")?,
        inventory_days: r.try_get("inventory_days")?,
        credit: Some(Credit {
            credit_grade: r.try_get("credit_grade")?,
            credit_limit: money("credit_limit")?,
            credit_score: r.try_get("credit_score")?,
        }),
        version: r.try_get("version")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        claimed_at: r.try_get("claimed_at")?,
        names: Names {
            region: r.try_get("region_name")?,
            branch: r.try_get("branch_name")?,
            owner: r.try_get("owner_name")?,
            inside_owner: r.try_get("inside_name")?,
            ka_manager: r.try_get("km_name")?,
        },
    })
}

/// Appends the caller's data scope for the accounts alias `a` (as `AND …`). This is the only
/// place that decides which accounts a caller sees; every read goes through it.
pub fn push_scope(s: &mut Sql, caller: &Caller) {
    push_scope_as(s, caller, Probe::Set);
}

/// [`push_scope`] for a statement about one account (`a.id = …`).
pub fn push_scope_one(s: &mut Sql, caller: &Caller) {
    push_scope_as(s, caller, Probe::Row);
}

fn push_scope_as(s: &mut Sql, caller: &Caller, probe: Probe) {
    s.push(" AND a.deleted_at IS NULL");
    match caller.reach() {
        Reach::Nothing => {
            s.push(" AND 1 = 0");
        }
        Reach::All => {}
        Reach::Own | Reach::Reports | Reach::OrgSubtree => {
            s.push(" AND ");
            crate::app::customers::visibility::push_sees(s, caller.user_id, "a.id", probe);
        }
    }
}

#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub q: Option<String>,
    pub owner: Option<String>,
    pub region: Option<String>,
    pub branch: Option<String>,
    pub status: Option<String>,
    pub rad_class: Option<String>,
    pub tier: Option<String>,
    pub industry: Option<String>,
    pub level: Option<String>,
    /// Coverage in `period` (the coverage report's figures): `covered`, `untouched`, `unowned`,
    /// `activated`.
    pub coverage: Option<String>,
    /// The coverage period (`YYYY-MM`, `YYYY-Qn`, `YYYY`; this month when absent).
    pub period: Option<String>,
    pub sort: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

/// Coverage filters of the accounts list (the coverage report's figures).
pub const COVERAGE_FILTERS: &[&str] = &["covered", "untouched", "unowned", "activated"];

/// The coverage period: `period`, or this month.
pub(crate) fn coverage_period(period: Option<&str>) -> std::result::Result<crate::domain::quota::Period, &'static str> {
    match period.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(crate::domain::quota::Period::month_of(chrono::Utc::now().date_naive())),
        Some(v) => crate::domain::quota::Period::parse(v),
    }
}

/// Whether an account was touched (a done contact) in the period: the current period reads
/// `last_activity_at` kept on the account, a past one asks the activities. (The coverage
/// report's rule; `from`/`to` are the period's bounds as stored times.)
pub(crate) fn push_touched(s: &mut Sql, p: &crate::domain::quota::Period, from: &str, to: &str) {
    if p.end > chrono::Utc::now().date_naive() {
        s.push("(a.last_activity_at >= ").bind(from.to_string()).push(")");
    } else {
        s.push("(a.id IN (SELECT t.account_id FROM activities t WHERE t.status = 'done' AND t.deleted_at IS NULL AND t.occurred_at >= ")
            .bind(from.to_string())
            .push(" AND t.occurred_at < ")
            .bind(to.to_string())
            .push("))");
    }
}

/// The period's bounds as stored times: [from, to).
pub(crate) fn period_bounds(p: &crate::domain::quota::Period) -> (String, String) {
    (
        format!("{}T00:00:00.000000Z", p.start.format("%Y-%m-%d")),
        format!("{}T00:00:00.000000Z", p.end.format("%Y-%m-%d")),
    )
}

impl Filter {
    /// ` AND …` for a coverage filter (checked by `check`).
    fn push_coverage(&self, s: &mut Sql) {
        let (Some(kind), Ok(p)) = (self.coverage.as_deref(), coverage_period(self.period.as_deref())) else { return };
        let (from, to) = period_bounds(&p);
        let owned = " AND (a.owner_id IS NOT NULL OR a.inside_owner_id IS NOT NULL)";
        match kind {
            "covered" => {
                s.push(owned).push(" AND ");
                push_touched(s, &p, &from, &to);
            }
            "untouched" => {
                s.push(owned).push(" AND NOT ");
                push_touched(s, &p, &from, &to);
                if p.end > chrono::Utc::now().date_naive() {
                    s.text = s.text.replacen(
                        "AND NOT (a.last_activity_at >= ",
                        "AND NOT (a.last_activity_at IS NOT NULL AND a.last_activity_at >= ",
                        1,
                    );
                }
            }
            "unowned" => {
                s.push(" AND a.owner_id IS NULL AND a.inside_owner_id IS NULL");
            }
            "activated" => {
                s.push(" AND a.activated_at >= ").bind(from).push(" AND a.activated_at < ").bind(to);
            }
            _ => {}
        }
    }

    /// Validates enumerated filters so a typo answers 422 rather than an empty list.
    fn check(&self) -> Result<()> {
        let mut e = Errors::default();
        if let Some(v) = &self.status {
            e.take("status", Status::parse(v));
        }
        if let Some(v) = &self.industry {
            e.take("industry", Industry::parse(v));
        }
        if let Some(v) = &self.level {
            e.take("level", Level::parse(v));
        }
        if let Some(v) = &self.tier {
            e.take("tier", acct::Tier::parse(v));
        }
        if let Some(v) = &self.rad_class {
            if !RAD_CLASSES.contains(&v.as_str()) && v != "none" {
                e.add("rad_class", "invalid_choice");
            }
        }
        e.take("q", text::search(self.q.as_deref()));
        if let Some(c) = &self.coverage {
            if !COVERAGE_FILTERS.contains(&c.as_str()) {
                e.add("coverage", "invalid_choice");
            }
        }
        if let Err(c) = coverage_period(self.period.as_deref()) {
            e.add("period", c);
        }
        e.finish()
    }

    fn push_where(&self, s: &mut Sql) {
        if let Some(q) = self.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            // A substring match cannot use an index; matching in a subquery lets both backends
            // scan the table once instead of probing it row by row in sort order.
            let pat = text::like_pattern(q);
            s.push(" AND (a.id IN (SELECT id FROM accounts WHERE name_norm LIKE ")
                .bind(pat.clone())
                .push(" ESCAPE '\\'");
            s.push(" OR LOWER(short_name) LIKE ").bind(pat).push(" ESCAPE '\\'");
            // Latin letters may be the name in pinyin, in full (tiancheng) or by initials (tcxx).
            if crate::domain::pinyin::may_be_pinyin(q) {
                let py = format!("%{}%", crate::domain::pinyin::query_key(q));
                s.push(" OR name_pinyin LIKE ").bind(py.clone()).push(" OR name_initials LIKE ").bind(py);
            }
            s.push(")");
            s.push(" OR a.credit_code = ").bind(q.to_ascii_uppercase()).push(")");
        }
        if let Some(o) = &self.owner {
            // The accounts a person holds: as owner (outside sales) or inside owner (inside sales).
            s.push(" AND (a.owner_id = (SELECT id FROM users WHERE username = ").bind(o.as_str());
            s.push(") OR a.inside_owner_id = (SELECT id FROM users WHERE username = ").bind(o.as_str()).push("))");
        }
        if let Some(t) = &self.tier {
            s.push(" AND a.tier = ").bind(t.as_str());
        }
        if let Some(r) = &self.region {
            s.push(" AND a.region_id = (SELECT id FROM org_units WHERE code = ").bind(r.as_str()).push(")");
        }
        if let Some(b) = &self.branch {
            s.push(" AND a.branch_id = (SELECT id FROM org_units WHERE code = ").bind(b.as_str()).push(")");
        }
        for (col, v) in [("status", &self.status), ("industry", &self.industry), ("level", &self.level)] {
            if let Some(v) = v {
                s.push(&format!(" AND a.{col} = ")).bind(v.as_str());
            }
        }
        match self.rad_class.as_deref() {
            Some("none") => {
                s.push(" AND a.rad_class IS NULL");
            }
            Some(v) => {
                s.push(" AND a.rad_class = ").bind(v);
            }
            None => {}
        }
        self.push_coverage(s);
    }
}

/// Sort keys a list may use: (name in the API, SQL expression, is text). Names are in pinyin
/// order (`name_sort`, `domain::pinyin::stored_sort_key`).
const SORTS: &[(&str, &str, bool)] = &[
    ("name", "a.name_sort", true),
    ("updated_at", "a.updated_at", true),
    ("buying_power", "COALESCE(a.buying_power, -1)", false),
    ("sales_12m", "COALESCE(a.sales_12m, -1)", false),
    ("id", "a.id", false),
];

fn sort_of(s: Option<&str>) -> Result<(&'static str, bool, bool, &'static str)> {
    let raw = s.unwrap_or("name");
    let (desc, key) = match raw.strip_prefix('-') {
        Some(k) => (true, k),
        None => (false, raw),
    };
    SORTS
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(k, e, t)| (*e, *t, desc, *k))
        .ok_or_else(|| Error::invalid("sort", "invalid_choice"))
}

pub async fn list(db: &Db, caller: &Caller, f: &Filter) -> Result<Page<AccountView>> {
    f.check()?;
    let limit = clamp_limit(f.limit)?;
    let (expr, is_text, desc, key) = sort_of(f.sort.as_deref())?;
    // A scoped list in name order walks the caller's visibility rows in index order; any
    // other list pages over the accounts alone. Names are joined onto the page's rows only.
    let by_visibility = key == "name" && !matches!(caller.reach(), Reach::All | Reach::Nothing);
    let (expr, id_col) = if by_visibility { ("v.name", "v.account_id") } else { (expr, "a.id") };
    let mut s = if by_visibility {
        let mut s = Sql::new("SELECT a.*, v.name AS v_name FROM account_visibility v JOIN accounts a ON a.id = v.account_id WHERE v.user_id = ");
        s.bind(caller.user_id).push(" AND a.deleted_at IS NULL");
        s
    } else {
        let mut s = Sql::new("SELECT a.* FROM accounts a WHERE 1=1");
        push_scope(&mut s, caller);
        s
    };
    f.push_where(&mut s);
    if let Some(c) = &f.cursor {
        crate::app::push_after(&mut s, c, expr, id_col, is_text, desc)?;
    }
    let dir = if desc { "DESC" } else { "ASC" };
    s.push(&format!(" ORDER BY {expr} {dir}, {id_col} {dir} LIMIT ")).bind(limit + 1);
    let outer = if by_visibility { "a.v_name" } else { expr };
    s.text = format!("{COLUMNS} FROM ({}) a{JOINS} ORDER BY {outer} {dir}, a.id {dir}", s.text);
    let rows = s.query().fetch_all(db.reads()).await?;
    let mut items = Vec::with_capacity(rows.len().min(limit as usize));
    let mut last_key = Value::Null;
    for r in rows.iter().take(limit as usize) {
        let v = view_from_row(r)?.for_caller(caller);
        last_key = match key {
            "name" => Value::from(crate::domain::pinyin::stored_sort_key(&v.name)),
            "updated_at" => Value::from(v.updated_at.clone()),
            "buying_power" => Value::from(r.try_get::<Option<i64>, _>("buying_power")?.unwrap_or(-1)),
            "sales_12m" => Value::from(r.try_get::<Option<i64>, _>("sales_12m")?.unwrap_or(-1)),
            _ => Value::from(v.id),
        };
        items.push(v);
    }
    let next_cursor =
        if rows.len() as i64 > limit { items.last().map(|v| encode_cursor(last_key, v.id)) } else { None };
    Ok(Page { items, next_cursor })
}

pub async fn count(db: &Db, caller: &Caller, f: &Filter) -> Result<i64> {
    f.check()?;
    let mut s = Sql::new("SELECT COUNT(*) AS n FROM accounts a WHERE 1=1");
    push_scope(&mut s, caller);
    f.push_where(&mut s);
    Ok(s.query().fetch_one(db.reads()).await?.try_get("n")?)
}

/// Every account in scope matching the filter, for export (no paging).
pub async fn export(db: &Db, caller: &Caller, f: &Filter) -> Result<Vec<AccountView>> {
    f.check()?;
    let mut s = Sql::new(&select());
    s.push(" WHERE 1=1");
    push_scope(&mut s, caller);
    f.push_where(&mut s);
    s.push(" ORDER BY a.name_sort, a.id");
    let rows = s.query().fetch_all(db.reads()).await?;
    rows.iter().map(|r| Ok(view_from_row(r)?.for_caller(caller))).collect()
}

pub(crate) async fn fetch_scoped(conn: &mut sqlx::AnyConnection, caller: &Caller, id: i64) -> Result<AccountView> {
    let mut s = Sql::new(&select());
    s.push(" WHERE a.id = ").bind(id);
    push_scope_one(&mut s, caller);
    let row = s.query().fetch_optional(conn).await?.ok_or(Error::NotFound)?;
    view_from_row(&row)
}

pub async fn get(db: &Db, caller: &Caller, id: i64) -> Result<AccountView> {
    let mut conn = db.pool.acquire().await?;
    Ok(fetch_scoped(&mut conn, caller, id).await?.for_caller(caller))
}

pub async fn ensure_visible(db: &Db, caller: &Caller, id: i64) -> Result<()> {
    let mut conn = db.pool.acquire().await?;
    ensure_visible_in(&mut conn, caller, id).await
}

/// [`ensure_visible`] on the caller's connection (inside a write).
pub async fn ensure_visible_in(conn: &mut sqlx::AnyConnection, caller: &Caller, id: i64) -> Result<()> {
    let mut s = Sql::new("SELECT a.id FROM accounts a WHERE a.id = ");
    s.bind(id);
    push_scope_one(&mut s, caller);
    s.query().fetch_optional(conn).await?.map(|_| ()).ok_or(Error::NotFound)
}

/// An account the caller was just shown to see: only this module makes one, from a scoped read
/// ([`AccountView::seen`]). A page that has read the account hands it to the loaders of the
/// account's records, which then skip checking the same scope again (the account page asked
/// it seven times).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen(i64);

impl Seen {
    pub fn id(self) -> i64 {
        self.0
    }
}

impl AccountView {
    /// The proof that the caller this view was read for may see the account.
    pub fn seen(&self) -> Seen {
        Seen(self.id)
    }
}

/// The account a loader of its records is asked about: an id from a request (checked against
/// the caller's scope: 404 when out of it) or an account already [`Seen`].
#[derive(Debug, Clone, Copy)]
pub enum AccountRef {
    Id(i64),
    Seen(Seen),
}

impl From<i64> for AccountRef {
    fn from(id: i64) -> Self {
        AccountRef::Id(id)
    }
}

impl From<Seen> for AccountRef {
    fn from(s: Seen) -> Self {
        AccountRef::Seen(s)
    }
}

impl AccountRef {
    /// The account's id once the caller may see it.
    pub async fn check(self, db: &Db, caller: &Caller) -> Result<i64> {
        match self {
            AccountRef::Seen(s) => Ok(s.0),
            AccountRef::Id(id) => ensure_visible(db, caller, id).await.map(|_| id),
        }
    }
}

/// Inside a write that adds a record to an account (a contact, a document, and every record
/// `merge::MOVED` names): the account must be live, and on PostgreSQL it stays so until the
/// write commits (`FOR SHARE`). A merge soft-deletes the duplicate first, which waits for such
/// writes and then moves what they added; a write that comes after the merge finds the account
/// gone (404) instead of adding to it. SQLite runs one writer at a time and needs no lock.
/// Gives the account's status, which such a write may need (a key account's visit asks for a
/// follow-up).
pub async fn hold_live(tx: &mut WriteTx, id: i64) -> Result<String> {
    let lock = tx.lock_clause(RowLock::Share);
    let r = sqlx::query(&format!("SELECT status FROM accounts WHERE id = $1 AND deleted_at IS NULL{lock}"))
        .bind(id)
        .fetch_optional(tx.conn())
        .await?
        .ok_or(Error::NotFound)?;
    Ok(r.try_get("status")?)
}

/// [`hold_live`] for many accounts (imports): gives those of `ids` that are live, each held so
/// until the transaction ends.
pub async fn hold_live_many(tx: &mut WriteTx, ids: &[i64]) -> Result<std::collections::HashSet<i64>> {
    let lock = tx.lock_clause(RowLock::Share);
    let mut live = std::collections::HashSet::with_capacity(ids.len());
    for chunk in ids.chunks(1_000) {
        let mut s = Sql::new("SELECT id FROM accounts WHERE deleted_at IS NULL AND id IN (");
        s.bind_list(chunk).push(")").push(lock);
        for r in s.query().fetch_all(tx.conn()).await? {
            live.insert(r.try_get::<i64, _>("id")?);
        }
    }
    Ok(live)
}

/// The stored, editable state of an account.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccountData {
    pub name: String,
    pub short_name: Option<String>,
    pub credit_code: Option<String>,
    pub industry: String,
    pub level: String,
    pub region_id: Option<i64>,
    pub branch_id: Option<i64>,
    pub owner_id: Option<i64>,
    pub inside_owner_id: Option<i64>,
    pub ka_manager_id: Option<i64>,
    pub status: String,
    pub tier: Option<String>,
    pub address: Option<String>,
    pub website: Option<String>,
    pub business_units: Option<String>,
    pub buying_power: Option<i64>,
    /// The figure entered or imported (sales KAM does not hold); the rest is derived.
    pub sales_12m_entered: Option<i64>,
    pub profit_margin_bp: Option<i64>,
    pub payment_terms_days: Option<i64>,
    pub expense_ratio_bp: Option<i64>,
    pub notes: Option<String>,
    pub tags: Option<String>,
    pub current_asset_ratio_bp: Option<i64>,
    pub net_margin_bp: Option<i64>,
    pub roa_bp: Option<i64>,
    pub collection_days: Option<i64>,
    pub inventory_days: Option<i64>,
    pub credit_grade: Option<String>,
    pub credit_limit: Option<i64>,
    pub credit_score: Option<i64>,
}

pub(crate) async fn load_data(conn: &mut sqlx::AnyConnection, id: i64) -> Result<(AccountData, i64)> {
    let r = sqlx::query("SELECT * FROM accounts WHERE id = $1").bind(id).fetch_one(conn).await?;
    Ok((
        AccountData {
            name: r.try_get("name")?,
            short_name: r.try_get("short_name")?,
            credit_code: r.try_get("credit_code")?,
            industry: r.try_get("industry")?,
            level: r.try_get("level")?,
            region_id: r.try_get("region_id")?,
            branch_id: r.try_get("branch_id")?,
            owner_id: r.try_get("owner_id")?,
            inside_owner_id: r.try_get("inside_owner_id")?,
            ka_manager_id: r.try_get("ka_manager_id")?,
            status: r.try_get("status")?,
            tier: r.try_get("tier")?,
            address: r.try_get("address")?,
            website: r.try_get("website")?,
            business_units: r.try_get("business_units")?,
            buying_power: r.try_get("buying_power")?,
            sales_12m_entered: r.try_get("sales_12m_entered")?,
            profit_margin_bp: r.try_get("profit_margin_bp")?,
            payment_terms_days: r.try_get("payment_terms_days")?,
            expense_ratio_bp: r.try_get("expense_ratio_bp")?,
            notes: r.try_get("notes")?,
            tags: r.try_get("tags")?,
            current_asset_ratio_bp: r.try_get("current_asset_ratio_bp")?,
            net_margin_bp: r.try_get("net_margin_bp")?,
            roa_bp: r.try_get("roa_bp")?,
            collection_days: r.try_get("collection_days")?,
            inventory_days: r.try_get("inventory_days")?,
            credit_grade: r.try_get("credit_grade")?,
            credit_limit: r.try_get("credit_limit")?,
            credit_score: r.try_get("credit_score")?,
        },
        r.try_get("version")?,
    ))
}

/// The active user a field's text names: a username, a display name one active user has, or
/// the picker's `name (username)` (`people::directory::find_user`).
pub(crate) async fn active_user_id(conn: &mut sqlx::AnyConnection, username: &str) -> Result<Option<i64>> {
    Ok(match crate::app::people::directory::find_user(conn, username).await? {
        Found::One(id) => Some(id),
        Found::None | Found::Many => None,
    })
}

fn opt_text(e: &mut Errors, inp: &Input, k: &str, max: usize, target: &mut Option<String>) {
    if let Some(v) = inp.get(k) {
        if let Some(v) = e.take(k, text::optional(v, max)) {
            *target = v;
        }
    }
}

fn opt_money(e: &mut Errors, inp: &Input, k: &str, target: &mut Option<i64>) {
    match inp.get(k) {
        None => {}
        Some(_) if inp.was_number(k) => e.add(k, "money_must_be_string"),
        Some(None) => *target = None,
        // Buying power and sales are never negative; say so rather than "not a number".
        Some(Some(v)) if v.trim().starts_with('-') => e.add(k, "negative"),
        Some(Some(v)) => {
            if let Some(v) = e.take(k, parse_fen(v)) {
                *target = Some(v);
            }
        }
    }
}

fn opt_pct(e: &mut Errors, inp: &Input, k: &str, target: &mut Option<i64>) {
    match inp.get(k) {
        None => {}
        Some(None) => *target = None,
        Some(Some(v)) => {
            if let Some(v) = e.take(k, parse_bp(v)) {
                *target = Some(v);
            }
        }
    }
}

fn opt_days(e: &mut Errors, inp: &Input, k: &str, target: &mut Option<i64>) {
    match inp.get(k) {
        None => {}
        Some(None) => *target = None,
        Some(Some(v)) => match v.trim().parse::<i64>() {
            Ok(d) if (0..=3650).contains(&d) => *target = Some(d),
            Ok(_) => e.add(k, "days_range"),
            Err(_) => e.add(k, "expected_integer"),
        },
    }
}

/// Applies validated input onto `d`. Every problem is collected, so the caller sees all of them.
/// An org unit's id and its parent's.
type OrgRef = (i64, Option<i64>);

/// Org units and users an account refers to by code and username, looked up once per code
/// (an import of thousands of rows names the same few hundred), and the codes and usernames of
/// the ids seen (so an import can describe its new accounts without reading them back).
#[derive(Debug, Default)]
pub struct Lookups {
    orgs: std::collections::HashMap<(String, &'static str), Option<OrgRef>>,
    users: std::collections::HashMap<String, Found>,
    caller_org: Option<Option<(i64, String, Option<i64>)>>,
    /// id → (code, name) of org units, id → (username, display name) of users.
    org_names: std::collections::HashMap<i64, (String, String)>,
    user_names: std::collections::HashMap<i64, (String, String)>,
    /// The RAD thresholds in force, for describing new accounts (an import sets them).
    pub rad: crate::domain::classify::Rad,
}

impl Lookups {
    async fn org_id(
        &mut self,
        conn: &mut sqlx::AnyConnection,
        code: &str,
        kind: &'static str,
    ) -> Result<Option<(i64, Option<i64>)>> {
        let key = (code.trim().to_string(), kind);
        if let Some(v) = self.orgs.get(&key) {
            return Ok(*v);
        }
        // By its code, or else by its name when exactly one unit of the kind has it (a
        // spreadsheet says 华东大区 where the form sends EAST).
        let mut r = sqlx::query("SELECT id, parent_id, code, name FROM org_units WHERE code = $1 AND kind = $2")
            .bind(code.trim())
            .bind(kind)
            .fetch_optional(&mut *conn)
            .await?;
        if r.is_none() {
            let by_name = sqlx::query("SELECT id, parent_id, code, name FROM org_units WHERE name = $1 AND kind = $2")
                .bind(code.trim())
                .bind(kind)
                .fetch_all(&mut *conn)
                .await?;
            if by_name.len() == 1 {
                r = by_name.into_iter().next();
            }
        }
        let v = match r {
            Some(r) => {
                let id: i64 = r.try_get("id")?;
                self.org_names.insert(id, (r.try_get("code")?, r.try_get("name")?));
                Some((id, r.try_get("parent_id")?))
            }
            None => None,
        };
        self.orgs.insert(key, v);
        Ok(v)
    }

    /// The user a field's text names (a username, a display name, the picker's text).
    async fn user_id(&mut self, conn: &mut sqlx::AnyConnection, typed: &str) -> Result<Found> {
        if let Some(v) = self.users.get(typed.trim()) {
            return Ok(v.clone());
        }
        let v = crate::app::people::directory::find_user(&mut *conn, typed).await?;
        if let Found::One(id) = v {
            let r = sqlx::query("SELECT username, display_name FROM users WHERE id = $1")
                .bind(id)
                .fetch_one(&mut *conn)
                .await?;
            self.user_names.insert(id, (r.try_get("username")?, r.try_get("display_name")?));
        }
        self.users.insert(typed.trim().to_string(), v.clone());
        Ok(v)
    }

    /// The caller's org unit: (id, kind, parent).
    async fn caller_org(
        &mut self,
        conn: &mut sqlx::AnyConnection,
        caller: &Caller,
    ) -> Result<Option<(i64, String, Option<i64>)>> {
        if let Some(v) = &self.caller_org {
            return Ok(v.clone());
        }
        self.user_names.insert(caller.user_id, (caller.username.clone(), caller.display_name.clone()));
        let org = sqlx::query(
            "SELECT o.id, o.kind, o.parent_id, o.code, o.name, p.code AS parent_code, p.name AS parent_name \
             FROM org_units o LEFT JOIN org_units p ON p.id = o.parent_id WHERE o.id = $1",
        )
        .bind(caller.org_unit_id)
        .fetch_optional(conn)
        .await?;
        let v = match org {
            Some(o) => {
                let id: i64 = o.try_get("id")?;
                let parent: Option<i64> = o.try_get("parent_id")?;
                self.org_names.insert(id, (o.try_get("code")?, o.try_get("name")?));
                if let (Some(p), Some(code), Some(name)) = (
                    parent,
                    o.try_get::<Option<String>, _>("parent_code")?,
                    o.try_get::<Option<String>, _>("parent_name")?,
                ) {
                    self.org_names.insert(p, (code, name));
                }
                Some((id, o.try_get("kind")?, parent))
            }
            None => None,
        };
        self.caller_org = Some(v.clone());
        Ok(v)
    }

    /// A new account as the API shows it, from what was looked up for it (None when an id it
    /// refers to was not looked up here).
    fn view_of_new(&self, id: i64, d: &AccountData, ts: &str) -> Option<AccountView> {
        let org = |x: Option<i64>| -> Option<Option<(String, String)>> {
            match x {
                None => Some(None),
                Some(i) => self.org_names.get(&i).cloned().map(Some),
            }
        };
        let user = |x: Option<i64>| -> Option<Option<(String, String)>> {
            match x {
                None => Some(None),
                Some(i) => self.user_names.get(&i).cloned().map(Some),
            }
        };
        let (region, branch) = (org(d.region_id)?, org(d.branch_id)?);
        let (owner, inside, km) = (user(d.owner_id)?, user(d.inside_owner_id)?, user(d.ka_manager_id)?);
        let code = |x: &Option<(String, String)>| x.as_ref().map(|v| v.0.clone());
        let name = |x: &Option<(String, String)>| x.as_ref().map(|v| v.1.clone());
        Some(AccountView {
            id,
            name: d.name.clone(),
            short_name: d.short_name.clone(),
            credit_code: d.credit_code.clone(),
            industry: d.industry.clone(),
            level: d.level.clone(),
            region: code(&region),
            branch: code(&branch),
            owner: code(&owner),
            inside_owner: code(&inside),
            ka_manager: code(&km),
            status: Status::parse(&d.status).ok()?,
            tier: d.tier.clone(),
            address: d.address.clone(),
            website: d.website.clone(),
            business_units: d.business_units.clone(),
            buying_power: d.buying_power.map(format_fen),
            sales_12m: d.sales_12m_entered.map(format_fen),
            sales_12m_won: format_fen(0),
            sales_12m_entered: d.sales_12m_entered.map(format_fen),
            sales_12m_source: crate::app::classification::classify::source(d.sales_12m_entered, 0),
            sow: acct::sow_bp(d.sales_12m_entered, d.buying_power).map(format_bp),
            rad_class: self.rad.class(d.sales_12m_entered, d.buying_power).map(str::to_string),
            tier_score: None,
            tier_since: None,
            profit_margin: d.profit_margin_bp.map(format_bp),
            payment_terms_days: d.payment_terms_days,
            sales_expense_ratio: d.expense_ratio_bp.map(format_bp),
            notes: d.notes.clone(),
            tags: d.tags.clone(),
            current_asset_ratio: d.current_asset_ratio_bp.map(format_bp),
            net_margin: d.net_margin_bp.map(format_bp),
            roa: d.roa_bp.map(format_bp),
            collection_days: d.collection_days,
            inventory_days: d.inventory_days,
            credit: Some(Credit {
                credit_grade: d.credit_grade.clone(),
                credit_limit: d.credit_limit.map(format_fen),
                credit_score: d.credit_score,
            }),
            version: 1,
            created_at: ts.to_string(),
            updated_at: ts.to_string(),
            claimed_at: None,
            names: Names {
                region: name(&region),
                branch: name(&branch),
                owner: name(&owner),
                inside_owner: name(&inside),
                ka_manager: name(&km),
            },
        })
    }
}

async fn apply(conn: &mut sqlx::AnyConnection, lk: &mut Lookups, d: &mut AccountData, inp: &Input) -> Result<()> {
    let mut e = Errors::default();
    if let Some(v) = inp.get("name") {
        if let Some(v) = e.take("name", text::required(v, 200)) {
            d.name = v;
        }
    }
    opt_text(&mut e, inp, "short_name", 100, &mut d.short_name);
    if let Some(v) = inp.get("credit_code") {
        d.credit_code = match v.map(str::trim).filter(|v| !v.is_empty()) {
            None => None,
            Some(v) => e.take("credit_code", CreditCode::parse(v)).map(|c| c.as_str().to_string()),
        };
    }
    if let Some(v) = inp.get("industry") {
        if let Some(v) = e.take("industry", v.ok_or("required").and_then(Industry::parse)) {
            d.industry = v.code().into();
        }
    }
    if let Some(v) = inp.get("level") {
        if let Some(v) = e.take("level", v.ok_or("required").and_then(Level::parse)) {
            d.level = v.code().into();
        }
    }
    opt_text(&mut e, inp, "address", 300, &mut d.address);
    opt_text(&mut e, inp, "website", 300, &mut d.website);
    opt_text(&mut e, inp, "business_units", 300, &mut d.business_units);
    opt_text(&mut e, inp, "notes", 4000, &mut d.notes);
    opt_text(&mut e, inp, "tags", 300, &mut d.tags);
    opt_money(&mut e, inp, "buying_power", &mut d.buying_power);
    // `sales_12m` as given is the entered part; won opportunities are added to it.
    opt_money(&mut e, inp, "sales_12m", &mut d.sales_12m_entered);
    opt_money(&mut e, inp, "sales_12m_entered", &mut d.sales_12m_entered);
    opt_pct(&mut e, inp, "profit_margin", &mut d.profit_margin_bp);
    opt_days(&mut e, inp, "payment_terms_days", &mut d.payment_terms_days);
    opt_pct(&mut e, inp, "sales_expense_ratio", &mut d.expense_ratio_bp);
    if d.expense_ratio_bp.is_some_and(|v| v < 0) && inp.has("sales_expense_ratio") {
        e.add("sales_expense_ratio", "negative");
    }
    opt_pct(&mut e, inp, "current_asset_ratio", &mut d.current_asset_ratio_bp);
    opt_pct(&mut e, inp, "net_margin", &mut d.net_margin_bp);
    opt_pct(&mut e, inp, "roa", &mut d.roa_bp);
    opt_days(&mut e, inp, "collection_days", &mut d.collection_days);
    opt_days(&mut e, inp, "inventory_days", &mut d.inventory_days);

    // Region and branch: a branch implies its region; both given must agree.
    let mut region_given = None;
    if let Some(v) = inp.get("region") {
        match v {
            None => d.region_id = None,
            Some(code) => match lk.org_id(conn, code, "region").await? {
                Some((id, _)) => {
                    d.region_id = Some(id);
                    region_given = Some(id);
                }
                None => e.add("region", "unknown_region"),
            },
        }
    }
    if let Some(v) = inp.get("branch") {
        match v {
            None => d.branch_id = None,
            Some(code) => match lk.org_id(conn, code, "branch").await? {
                Some((id, parent)) => {
                    d.branch_id = Some(id);
                    match region_given {
                        Some(r) if Some(r) != parent => e.add("branch", "branch_not_in_region"),
                        _ => d.region_id = parent,
                    }
                }
                None => e.add("branch", "unknown_branch"),
            },
        }
    }
    // A region changed (or cleared) without naming a branch: the branch kept must lie in it,
    // or an account would sit in one region with another's branch, seen by both managers.
    if inp.get("region").is_some() && !inp.has("branch") {
        if let Some(b) = d.branch_id {
            let parent: Option<i64> = sqlx::query("SELECT parent_id FROM org_units WHERE id = $1")
                .bind(b)
                .fetch_optional(&mut *conn)
                .await?
                .map(|r| r.try_get("parent_id"))
                .transpose()?
                .flatten();
            if parent != d.region_id {
                e.add("branch", "branch_not_in_region");
            }
        }
    }
    for (k, target) in
        [("owner", &mut d.owner_id), ("inside_owner", &mut d.inside_owner_id), ("ka_manager", &mut d.ka_manager_id)]
    {
        match inp.get(k) {
            None => {}
            Some(None) => *target = None,
            Some(Some(u)) => match lk.user_id(conn, u).await? {
                Found::One(id) => *target = Some(id),
                Found::None => e.add(k, "unknown_user"),
                Found::Many => e.add(k, "ambiguous_user"),
            },
        }
    }
    e.finish()
}

/// The stored columns of an account and their values (one list for the single and the bulk
/// writes).
/// The derived classes (sales, SOW, RAD, tier) are not among them: `classify::refresh` keeps
/// those after every write, and bulk inserts add them computed in memory.
fn stored_columns(d: &AccountData) -> Vec<(&'static str, Val)> {
    vec![
        ("name", d.name.clone().into()),
        ("name_norm", text::normalize_name(&d.name).into()),
        ("name_pinyin", crate::domain::pinyin::full(&d.name).into()),
        ("name_initials", crate::domain::pinyin::initials(&d.name).into()),
        ("name_sort", crate::domain::pinyin::stored_sort_key(&d.name).into()),
        ("short_name", d.short_name.clone().into()),
        ("credit_code", d.credit_code.clone().into()),
        ("industry", d.industry.clone().into()),
        ("level", d.level.clone().into()),
        ("region_id", d.region_id.into()),
        ("branch_id", d.branch_id.into()),
        ("owner_id", d.owner_id.into()),
        ("inside_owner_id", d.inside_owner_id.into()),
        ("ka_manager_id", d.ka_manager_id.into()),
        ("status", d.status.clone().into()),
        ("address", d.address.clone().into()),
        ("website", d.website.clone().into()),
        ("business_units", d.business_units.clone().into()),
        ("buying_power", d.buying_power.into()),
        ("sales_12m_entered", d.sales_12m_entered.into()),
        ("profit_margin_bp", d.profit_margin_bp.into()),
        ("payment_terms_days", d.payment_terms_days.into()),
        ("expense_ratio_bp", d.expense_ratio_bp.into()),
        ("notes", d.notes.clone().into()),
        ("tags", d.tags.clone().into()),
        ("current_asset_ratio_bp", d.current_asset_ratio_bp.into()),
        ("net_margin_bp", d.net_margin_bp.into()),
        ("roa_bp", d.roa_bp.into()),
        ("collection_days", d.collection_days.into()),
        ("inventory_days", d.inventory_days.into()),
        ("credit_grade", d.credit_grade.clone().into()),
        ("credit_limit", d.credit_limit.into()),
        ("credit_score", d.credit_score.into()),
    ]
}

/// The stored columns of a new account with its classes, computed in memory (it has no
/// opportunities yet).
fn bulk_columns(
    d: &AccountData,
    settings: &crate::app::classification::classify::Settings,
) -> Vec<(&'static str, Val)> {
    let mut cols = stored_columns(d);
    let tier_inputs = (d.profit_margin_bp, d.payment_terms_days, d.expense_ratio_bp);
    let c = crate::app::classification::classify::derive_new(
        settings,
        d.buying_power,
        d.sales_12m_entered,
        &d.status,
        tier_inputs,
    );
    let since = c.tier.as_ref().map(|_| now());
    cols.extend([
        ("sales_12m", c.sales_12m.into()),
        ("sow_bp", c.sow_bp.into()),
        ("rad_class", c.rad_class.into()),
        ("tier", c.tier.into()),
        ("tier_score", c.tier_score.into()),
        ("tier_since", since.into()),
    ]);
    cols
}

pub(crate) async fn write(
    conn: &mut sqlx::AnyConnection,
    id: Option<i64>,
    d: &AccountData,
    version: i64,
) -> Result<i64> {
    if let Some(code) = &d.credit_code {
        let dup = sqlx::query("SELECT id FROM accounts WHERE credit_code = $1 AND id <> $2")
            .bind(code.clone())
            .bind(id.unwrap_or(0))
            .fetch_optional(&mut *conn)
            .await?;
        if let Some(r) = dup {
            return Err(Error::Duplicate { field: "credit_code", existing_id: r.try_get("id")? });
        }
    }
    let ts = now();
    let mut cols = stored_columns(d);
    cols.push(("updated_at", ts.clone().into()));
    let res = match id {
        None => {
            let mut s = Sql::new("INSERT INTO accounts (");
            let names: Vec<&str> = cols.iter().map(|c| c.0).collect();
            s.push(&names.join(", ")).push(", created_at, version) VALUES (");
            for (i, (_, v)) in cols.into_iter().enumerate() {
                if i > 0 {
                    s.push(", ");
                }
                s.bind(v);
            }
            s.push(", ").bind(ts).push(", 1) RETURNING id");
            s.query().fetch_one(&mut *conn).await.map(|r| r.try_get::<i64, _>("id"))
        }
        Some(id) => {
            let mut s = Sql::new("UPDATE accounts SET ");
            for (i, (n, v)) in cols.into_iter().enumerate() {
                if i > 0 {
                    s.push(", ");
                }
                s.push(n).push(" = ").bind(v);
            }
            s.push(", version = version + 1 WHERE id = ").bind(id).push(" AND version = ").bind(version);
            s.query().execute(&mut *conn).await.map(|r| {
                if r.rows_affected() == 1 {
                    Ok(id)
                } else {
                    Err(sqlx::Error::RowNotFound)
                }
            })
        }
    };
    match res {
        Ok(Ok(id)) => Ok(id),
        Ok(Err(sqlx::Error::RowNotFound)) => Err(Error::StaleVersion { current: version }),
        // A concurrent insert slipped past the check above; the constraint still holds.
        Ok(Err(e)) | Err(e) if is_unique_violation(&e) => {
            Err(Error::Duplicate { field: "credit_code", existing_id: 0 })
        }
        Ok(Err(e)) | Err(e) => Err(e.into()),
    }
}

/// Rebuilds who sees the account as "own" from its owner fields (the team is kept).
pub(crate) async fn refresh_access(conn: &mut sqlx::AnyConnection, id: i64, d: &AccountData) -> Result<()> {
    sqlx::query("DELETE FROM account_access WHERE account_id = $1 AND via <> 'team'")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    for (via, uid) in [("owner", d.owner_id), ("inside_owner", d.inside_owner_id), ("ka_manager", d.ka_manager_id)] {
        if let Some(uid) = uid {
            sqlx::query("INSERT INTO account_access (account_id, user_id, via) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(uid)
                .bind(via)
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(())
}

pub(crate) fn audit_json(v: &AccountView) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// The same as [`audit_json`], as text (bulk writes skip the intermediate tree).
fn audit_text(v: &AccountView) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

/// Inserts an account as given (demo and dataset loaders, and `create`), with its access rows
/// and audit row, inside the caller's transaction.
pub async fn insert(tx: &mut WriteTx, ctx: &Ctx, d: &AccountData) -> Result<i64> {
    let id = write(tx.conn(), None, d, 0).await?;
    refresh_access(tx.conn(), id, d).await?;
    derived::refresh(tx, id, &ctx.caller.username, Change::Created).await?;
    let mut s = Sql::new(&select());
    s.push(" WHERE a.id = ").bind(id);
    let after = view_from_row(&s.query().fetch_one(tx.conn()).await?)?;
    audit::record(tx, ctx, "account", &id.to_string(), "create", None, Some(&audit_json(&after))).await?;
    Ok(id)
}

pub async fn create(db: &Db, ctx: &Ctx, inp: &Input) -> Result<AccountView> {
    let mut tx = db.begin().await?;
    let view = create_in(&mut tx, ctx, inp).await?;
    tx.commit().await?;
    Ok(view)
}

/// Creates one account inside the caller's transaction (the form and the API).
pub async fn create_in(tx: &mut WriteTx, ctx: &Ctx, inp: &Input) -> Result<AccountView> {
    let caller = &ctx.caller;
    let d = prepare_new(tx.conn(), caller, &mut Lookups::default(), inp).await?;
    if !inp.has("allow_duplicate_name") {
        if let Some(existing) = likely_duplicate(tx.conn(), &d.name).await? {
            return Err(Error::Duplicate { field: "name", existing_id: existing });
        }
    }
    let id = insert(tx, ctx, &d).await?;
    // The new account must stay within the creator's sight.
    let view = fetch_scoped(tx.conn(), caller, id).await.map_err(|_| Error::invalid("region", "outside_scope"))?;
    Ok(view.for_caller(caller))
}

/// Checks a new account as the caller gives it and fills in the defaults (the creator's region
/// and branch, the creator as owner for salespeople), without writing anything. Duplicates and
/// scope are the caller's to check: [`create_in`] one by one, imports in bulk.
pub async fn prepare_new(
    conn: &mut sqlx::AnyConnection,
    caller: &Caller,
    lk: &mut Lookups,
    inp: &Input,
) -> Result<AccountData> {
    if !caller.role.edits_accounts() {
        return Err(Error::Forbidden);
    }
    let mut allowed: Vec<&str> = EDIT_FIELDS.to_vec();
    if caller.role.manages_accounts() {
        allowed.extend_from_slice(ASSIGN_FIELDS);
    }
    // Set when the user saw the duplicate warning and creates the account all the same.
    allowed.push("allow_duplicate_name");
    let known: Vec<&str> = EDIT_FIELDS.iter().chain(ASSIGN_FIELDS).chain(SYSTEM_FIELDS).copied().collect();
    inp.check_keys(&allowed, &known)?;
    inp.refuse_version()?;
    let mut d = AccountData { level: "L3".into(), status: Status::Prospect.code().into(), ..Default::default() };
    // The creator's own place in the org is the default region/branch (not when the input
    // names either: a region given alone must not keep the creator's branch of another).
    let named = inp.has("region") || inp.has("branch");
    if let Some((id, kind, parent)) = if named { None } else { lk.caller_org(conn, caller).await? } {
        match kind.as_str() {
            "branch" => {
                d.branch_id = Some(id);
                d.region_id = parent;
            }
            "region" => d.region_id = Some(id),
            _ => {}
        }
    }
    // A salesperson creates accounts for themselves.
    if matches!(caller.reach(), Reach::Own | Reach::Reports) {
        if caller.role == crate::domain::role::Role::InsideSales {
            d.inside_owner_id = Some(caller.user_id);
        } else {
            d.owner_id = Some(caller.user_id);
        }
    }
    let mut errs = Vec::new();
    if !inp.has("name") {
        errs.push(crate::domain::FieldError::new("name", "required"));
    }
    if !inp.has("industry") {
        errs.push(crate::domain::FieldError::new("industry", "required"));
    }
    match apply(conn, lk, &mut d, inp).await {
        Ok(()) => {}
        Err(Error::Invalid(mut more)) => errs.append(&mut more),
        Err(e) => return Err(e),
    }
    if !errs.is_empty() {
        errs.sort_by(|a, b| a.field.cmp(&b.field));
        errs.dedup_by(|a, b| a.field == b.field);
        return Err(Error::Invalid(errs));
    }
    Ok(d)
}

/// How the audit text of a new account begins before its id is known.
const NEW_AUDIT_PREFIX: &str = "{\"id\":0,";

/// The audit text of an account about to be created by [`insert_many`] at `ts`, as the API
/// will show it, its id left 0 for `insert_many` to fill in (None when something it refers to
/// was not looked up through `lk`). Built where the rows are checked, off the writer's path.
pub(crate) fn new_audit_text(lk: &Lookups, d: &AccountData, ts: &str) -> Option<String> {
    lk.view_of_new(0, d, ts).map(|v| audit_text(&v))
}

/// Inserts checked accounts in bulk (imports): multi-row statements for the accounts and their
/// access rows, one visibility refresh and one audit row per account, all in the caller's
/// transaction. Gives back the new ids in the order of `items`.
pub async fn insert_many(
    tx: &mut WriteTx,
    ctx: &Ctx,
    vis: &mut crate::app::customers::visibility::Viewers,
    items: &[AccountData],
    audits: Vec<Option<String>>,
    ts: &str,
) -> Result<Vec<i64>> {
    use crate::db::bulk::{v, Cell, Inserter};
    if items.is_empty() {
        return Ok(vec![]);
    }
    let backend = tx.backend();
    let ts = ts.to_string();
    let settings = crate::app::classification::classify::load(tx.conn()).await?;
    let names: Vec<&str> = bulk_columns(&items[0], &settings).iter().map(|(n, _)| *n).collect();
    let mut columns = vec!["created_at", "updated_at", "version"];
    columns.extend(&names);
    let ids = crate::db::bulk::insert_numbered(
        tx,
        "accounts",
        &columns,
        vec![ts.clone().into()],
        items.len(),
        |k| {
            let mut cells = vec![Cell::Shared(1), Cell::Shared(1), Cell::Lit("1")];
            cells.extend(bulk_columns(&items[k], &settings).into_iter().map(|(_, x)| Cell::V(x)));
            cells
        },
        // The normalized name is unique within an import.
        "name_norm",
        |k| text::normalize_name(&items[k].name),
    )
    .await?;
    let mut access = Inserter::new(backend, "INSERT INTO account_access (account_id, user_id, via) VALUES ", vec![], 3);
    for (d, id) in items.iter().zip(&ids) {
        for (via, uid) in
            [("'owner'", d.owner_id), ("'inside_owner'", d.inside_owner_id), ("'ka_manager'", d.ka_manager_id)]
        {
            if let Some(uid) = uid {
                access.row(tx, vec![v(*id), v(uid), Cell::Lit(via)]).await?;
            }
        }
    }
    access.flush(tx).await?;
    // Who sees each new account, by the rule `visibility` keeps (owners and the manager chains
    // above them, branch managers of the region or branch).
    let news: Vec<crate::app::customers::visibility::NewAccount> = items
        .iter()
        .zip(&ids)
        .map(|(d, id)| crate::app::customers::visibility::NewAccount {
            id: *id,
            name: d.name.clone(),
            region_id: d.region_id,
            branch_id: d.branch_id,
            holders: [d.owner_id, d.inside_owner_id, d.ka_manager_id].into_iter().flatten().collect(),
        })
        .collect();
    vis.insert(tx, &news).await?;

    // The audit rows describe each account as the API shows it: `audits` were written from
    // what the import looked up ([`new_audit_text`], the id left 0); where one is missing the
    // account is read back from the database.
    let mut audit_rows = Vec::with_capacity(ids.len());
    let mut missing = vec![];
    for (json, id) in audits.into_iter().zip(&ids) {
        match json.as_deref().and_then(|j| j.strip_prefix(NEW_AUDIT_PREFIX)) {
            Some(rest) => audit_rows.push((id.to_string(), format!("{{\"id\":{id},{rest}"))),
            None => missing.push(*id),
        }
    }
    for chunk in missing.chunks(500) {
        let mut s = Sql::new(&select());
        s.push(" WHERE a.id IN (").bind_list(chunk).push(")");
        for r in s.query().fetch_all(tx.conn()).await? {
            let view = view_from_row(&r)?;
            audit_rows.push((view.id.to_string(), audit_text(&view)));
        }
    }
    audit::record_many(tx, ctx, "account", "create", audit_rows).await?;
    Ok(ids)
}

/// Of the given accounts, those the caller cannot see.
pub async fn outside_scope(conn: &mut sqlx::AnyConnection, caller: &Caller, ids: &[i64]) -> Result<Vec<i64>> {
    if ids.is_empty() || caller.reach() == Reach::All {
        return Ok(vec![]);
    }
    let mut seen = std::collections::HashSet::new();
    for chunk in ids.chunks(500) {
        let mut s = Sql::new("SELECT a.id FROM accounts a WHERE a.id IN (");
        s.bind_list(chunk).push(")");
        push_scope_one(&mut s, caller);
        for r in s.query().fetch_all(&mut *conn).await? {
            seen.insert(r.try_get::<i64, _>("id")?);
        }
    }
    Ok(ids.iter().copied().filter(|id| !seen.contains(id)).collect())
}

pub async fn update(db: &Db, ctx: &Ctx, id: i64, inp: &Input) -> Result<AccountView> {
    let version = inp.version.ok_or_else(|| Error::invalid("version", "required"))?;
    let mut tx = db.begin().await?;
    let after = update_in(&mut tx, ctx, id, inp, Some(version)).await?;
    tx.commit().await?;
    Ok(after)
}

/// Updates one account inside the caller's transaction. `version` is the one the caller read;
/// `None` only for an import that was told to update what it matches.
pub async fn update_in(tx: &mut WriteTx, ctx: &Ctx, id: i64, inp: &Input, version: Option<i64>) -> Result<AccountView> {
    let caller = &ctx.caller;
    let before = fetch_scoped(tx.conn(), caller, id).await?;
    match decide(caller.role, true, Op::Update) {
        Decision::Allow => {}
        Decision::Forbid => return Err(Error::Forbidden),
        Decision::Hidden => return Err(Error::NotFound),
    }
    let mut allowed: Vec<&str> = EDIT_FIELDS.to_vec();
    if caller.role.manages_accounts() {
        allowed.extend_from_slice(ASSIGN_FIELDS);
    }
    let known: Vec<&str> = EDIT_FIELDS.iter().chain(ASSIGN_FIELDS).chain(SYSTEM_FIELDS).copied().collect();
    // The lifecycle (prospect → candidate → key account → downgraded) moves only through its
    // flows (a screening's approval), never by an edit; say so rather than "not yours to set".
    // Repeating the current status (a form sends it back) changes nothing and is let through.
    if let Some(v) = inp.get("status") {
        if v.map(str::trim) != Some(before.status.as_str()) {
            return Err(Error::invalid("status", "status_by_flow"));
        }
        allowed.push("status");
    }
    inp.check_keys(&allowed, &known)?;
    let version = version.unwrap_or(before.version);
    if version != before.version {
        return Err(Error::StaleVersion { current: before.version });
    }
    let (mut d, _) = load_data(tx.conn(), id).await?;
    let stored = d.clone();
    let region_before = d.region_id;
    apply(tx.conn(), &mut Lookups::default(), &mut d, inp).await?;
    if d == stored {
        // Nothing to change (a form sent back as it was): no new version, no audit row.
        return Ok(before.for_caller(caller));
    }
    write(tx.conn(), Some(id), &d, version).await?;
    refresh_access(tx.conn(), id, &d).await?;
    derived::refresh(tx, id, &caller.username, Change::Edited { region_moved: d.region_id != region_before }).await?;
    let mut s = Sql::new(&select());
    s.push(" WHERE a.id = ").bind(id);
    let after = view_from_row(&s.query().fetch_one(tx.conn()).await?)?;
    audit::record(tx, ctx, "account", &id.to_string(), "update", Some(&audit_json(&before)), Some(&audit_json(&after)))
        .await?;
    Ok(after.for_caller(caller))
}

/// Soft delete: the account leaves every list but its data and history stay.
pub async fn delete(db: &Db, ctx: &Ctx, id: i64, version: Option<i64>) -> Result<()> {
    let caller = &ctx.caller;
    let mut tx = db.begin().await?;
    let before = fetch_scoped(tx.conn(), caller, id).await?;
    match decide(caller.role, true, Op::Delete) {
        Decision::Allow => {}
        Decision::Forbid => return Err(Error::Forbidden),
        Decision::Hidden => return Err(Error::NotFound),
    }
    if let Some(v) = version {
        if v != before.version {
            return Err(Error::StaleVersion { current: before.version });
        }
    }
    sqlx::query("UPDATE accounts SET deleted_at = $1, version = version + 1, credit_code = NULL WHERE id = $2")
        .bind(now())
        .bind(id)
        .execute(tx.conn())
        .await?;
    derived::refresh(&mut tx, id, &ctx.caller.username, Change::Deleted).await?;
    audit::record(&mut tx, ctx, "account", &id.to_string(), "delete", Some(&audit_json(&before)), None).await?;
    tx.commit().await?;
    Ok(())
}

/// A member of the account team: a user who sees the account as their own.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TeamMember {
    pub username: String,
    pub display_name: String,
    pub role: crate::domain::role::Role,
}

/// The account team (besides owners): users who see the account as their own.
pub async fn team(db: &Db, caller: &Caller, account: impl Into<AccountRef>) -> Result<Vec<TeamMember>> {
    let id = account.into().check(db, caller).await?;
    let rows = sqlx::query(
        "SELECT u.username, u.display_name, u.role FROM account_access aa JOIN users u ON u.id = aa.user_id \
         WHERE aa.account_id = $1 AND aa.via = 'team' ORDER BY u.username",
    )
    .bind(id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(TeamMember {
                username: r.try_get("username")?,
                display_name: r.try_get("display_name")?,
                role: r.try_get("role")?,
            })
        })
        .collect()
}

/// Adds or removes a team member (managers only); the account's version moves, so the change is
/// one more state of the record, and its audit row names the member.
pub async fn set_team_member(db: &Db, ctx: &Ctx, id: i64, username: &str, member: bool) -> Result<Vec<TeamMember>> {
    let caller = &ctx.caller;
    let mut tx = db.begin().await?;
    fetch_scoped(tx.conn(), caller, id).await?;
    if !caller.role.manages_accounts() {
        return Err(Error::Forbidden);
    }
    let uid = crate::app::people::directory::user_for(tx.conn(), "username", username).await?;
    // The member as the trail names them, whatever was typed (林涛, `林涛 (lin.tao)`).
    let username: String = sqlx::query("SELECT username FROM users WHERE id = $1")
        .bind(uid)
        .fetch_one(tx.conn())
        .await?
        .try_get("username")?;
    let username = username.as_str();
    let exists =
        sqlx::query("SELECT 1 AS x FROM account_access WHERE account_id = $1 AND user_id = $2 AND via = 'team'")
            .bind(id)
            .bind(uid)
            .fetch_optional(tx.conn())
            .await?
            .is_some();
    if exists == member {
        return Err(Error::Conflict(if member { "already_member" } else { "not_member" }));
    }
    if member {
        sqlx::query("INSERT INTO account_access (account_id, user_id, via) VALUES ($1, $2, 'team')")
            .bind(id)
            .bind(uid)
            .execute(tx.conn())
            .await?;
    } else {
        sqlx::query("DELETE FROM account_access WHERE account_id = $1 AND user_id = $2 AND via = 'team'")
            .bind(id)
            .bind(uid)
            .execute(tx.conn())
            .await?;
    }
    sqlx::query("UPDATE accounts SET version = version + 1, updated_at = $1 WHERE id = $2")
        .bind(now())
        .bind(id)
        .execute(tx.conn())
        .await?;
    derived::refresh(&mut tx, id, &caller.username, Change::Holders).await?;
    let change = serde_json::json!({ "team_member": username });
    let (action, before, after) =
        if member { ("team_add", None, Some(&change)) } else { ("team_remove", Some(&change), None) };
    audit::record(&mut tx, ctx, "account", &id.to_string(), action, before, after).await?;
    tx.commit().await?;
    team(db, caller, id).await
}

/// Rebuilds access and visibility after an owner field changed outside `update` (pool,
/// hand-over).
pub async fn after_owner_change(tx: &mut WriteTx, id: i64) -> Result<()> {
    let (d, _) = load_data(tx.conn(), id).await?;
    refresh_access(tx.conn(), id, &d).await?;
    derived::refresh(tx, id, "", Change::Holders).await
}

/// An existing live account whose name is the same after normalization (width, spaces,
/// brackets, legal-form suffix), if any.
pub async fn likely_duplicate(conn: &mut sqlx::AnyConnection, name: &str) -> Result<Option<i64>> {
    let mut s = Sql::new("SELECT id FROM accounts WHERE deleted_at IS NULL AND name_norm IN (");
    for (i, v) in text::name_variants(name).into_iter().enumerate() {
        if i > 0 {
            s.push(", ");
        }
        s.bind(v);
    }
    s.push(") ORDER BY id LIMIT 1");
    Ok(match s.query().fetch_optional(conn).await? {
        Some(r) => Some(r.try_get("id")?),
        None => None,
    })
}

/// The live account an incoming record matches: the same credit code, or a likely duplicate
/// name.
pub async fn find_match(
    conn: &mut sqlx::AnyConnection,
    name: Option<&str>,
    credit_code: Option<&str>,
) -> Result<Option<i64>> {
    let key = (name.unwrap_or_default().to_string(), credit_code.unwrap_or_default().to_string());
    Ok(find_matches(conn, std::slice::from_ref(&key)).await?.into_iter().next().flatten())
}

/// [`find_match`] for many (name, credit code) pairs at once (imports): a query for the codes
/// and one for the names' variants per thousand pairs. Gives each pair's account, in order.
pub async fn find_matches(conn: &mut sqlx::AnyConnection, keys: &[(String, String)]) -> Result<Vec<Option<i64>>> {
    let codes: Vec<String> = keys.iter().map(|(_, c)| c.trim().to_ascii_uppercase()).collect();
    let mut by_code: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
    let mut wanted: Vec<String> = codes.iter().filter(|c| !c.is_empty()).cloned().collect();
    wanted.sort_unstable();
    wanted.dedup();
    for chunk in wanted.chunks(1_000) {
        let mut s = Sql::new("SELECT id, credit_code FROM accounts WHERE deleted_at IS NULL AND credit_code IN (");
        s.bind_texts(chunk).push(")");
        for r in s.query().fetch_all(&mut *conn).await? {
            by_code.insert(r.try_get("credit_code")?, r.try_get("id")?);
        }
    }
    // The names of pairs whose code matched nothing: the smallest id among their variants.
    let variants: Vec<Vec<String>> = keys
        .iter()
        .zip(&codes)
        .map(
            |((name, _), code)| {
                if by_code.contains_key(code) || name.trim().is_empty() {
                    vec![]
                } else {
                    text::name_variants(name)
                }
            },
        )
        .collect();
    let mut all: Vec<String> = variants.iter().flatten().cloned().collect();
    all.sort_unstable();
    all.dedup();
    let mut by_name: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
    for chunk in all.chunks(1_000) {
        let mut s = Sql::new("SELECT id, name_norm FROM accounts WHERE deleted_at IS NULL AND name_norm IN (");
        s.bind_texts(chunk).push(")");
        for r in s.query().fetch_all(&mut *conn).await? {
            let (id, n): (i64, String) = (r.try_get("id")?, r.try_get("name_norm")?);
            by_name.entry(n).and_modify(|e| *e = (*e).min(id)).or_insert(id);
        }
    }
    Ok(codes
        .iter()
        .zip(&variants)
        .map(|(code, vars)| {
            by_code.get(code).copied().or_else(|| vars.iter().filter_map(|v| by_name.get(v)).min().copied())
        })
        .collect())
}
