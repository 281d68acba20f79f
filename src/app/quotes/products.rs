//! The product catalogue (产品目录, docs/DOMAIN.md#111-the-product-catalogue-产品目录): what quotes
//! are made of. Every signed-in role but the administrator reads it; the commercial manager and
//! the HQ managing roles keep it (`Role::edits_catalogue`). A product's floor price and standard
//! cost are confidential: they reach the commercial, finance and director roles only
//! (`Role::sees_floor_price`) — in views, exports and the audit trail alike.
//!
//! A product is never deleted (quote lines refer to it): it is deactivated and may be
//! reactivated. One function checks a product's fields ([`prepare`]) for the API, the form and
//! each row of an import.
use std::collections::HashMap;

use serde::Serialize;
use serde_json::{json, Value};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::app::records::input::Input;
use crate::app::spreadsheets::export::Table;
use crate::app::spreadsheets::import::{self as sheets, Report, RowError, Source};
use crate::app::{clamp_limit, encode_cursor, records::audit, Caller, Ctx, Error, Page, Result};
use crate::db::sql::Sql;
use crate::db::{now, Db, WriteTx};
use crate::domain::error::Errors;
use crate::domain::money::{format_bp, format_fen, parse_bp, parse_fen};
use crate::domain::role::Reach;
use crate::domain::{pinyin, text};

/// The fields of the form, of `POST`/`PATCH` and of an import's columns.
pub const EDIT_FIELDS: &[&str] = &[
    "code",
    "name",
    "category",
    "specification",
    "unit",
    "list_price",
    "floor_price",
    "tax_rate",
    "standard_cost",
    "active",
];
/// Fields of the record the system sets.
const SYSTEM_FIELDS: &[&str] = &["id", "created_at", "updated_at", "updated_by", "updated_by_name"];
/// The confidential fields (floor price and standard cost).
pub const CONFIDENTIAL: &[&str] = &["floor_price", "standard_cost"];
/// Fields that hold an amount in yuan.
pub const MONEY_FIELDS: &[&str] = &["list_price", "floor_price", "standard_cost"];

/// 13 % VAT, the rate of most goods in China (company: a product may set its own).
pub const DEFAULT_TAX_BP: i64 = 1300;
/// The longest code, in characters.
pub const CODE_MAX: usize = 40;
/// Rows an import reads at most (a catalogue is hundreds to a few thousand products).
pub const IMPORT_MAX_ROWS: usize = 20_000;

/// A product of the catalogue as a caller sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProductView {
    pub id: i64,
    /// Unique, whatever its case (产品编码).
    pub code: String,
    pub name: String,
    /// The product's category (类别), free text.
    pub category: Option<String>,
    /// Model, configuration or scope (规格).
    pub specification: Option<String>,
    /// The unit it is sold in (台, 套, 年…).
    pub unit: String,
    /// The list price (目录价), yuan.
    #[schema(value_type = String, pattern = r"^[0-9]+\.[0-9]{2}$")]
    pub list_price: String,
    /// The floor price (底价), yuan: present only for the commercial, finance and director
    /// roles, and only when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, required = false, pattern = r"^[0-9]+\.[0-9]{2}$")]
    pub floor_price: Option<String>,
    /// The VAT rate, percent ("13.00").
    #[schema(value_type = String, pattern = r"^[0-9]+\.[0-9]{2}$")]
    pub tax_rate: String,
    /// The standard cost (标准成本), yuan, for margins: as `floor_price`, present only for the
    /// commercial, finance and director roles, and only when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, required = false, pattern = r"^[0-9]+\.[0-9]{2}$")]
    pub standard_cost: Option<String>,
    /// Offered in new quotes; a product is deactivated, never deleted.
    pub active: bool,
    pub version: i64,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// Username of who changed it last (`system` for the demo and imports by the command line).
    pub updated_by: String,
    /// Who changed it last, by name.
    pub updated_by_name: String,
}

/// A product's fields as stored (fen, basis points): what [`prepare`] checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductData {
    pub code: String,
    pub name: String,
    pub category: Option<String>,
    pub specification: Option<String>,
    pub unit: String,
    pub list_price: i64,
    pub floor_price: Option<i64>,
    pub tax_rate_bp: i64,
    pub standard_cost: Option<i64>,
    pub active: bool,
}

impl ProductData {
    /// The record as the audit trail keeps it (every field; the trail hides the confidential
    /// ones from whoever may not see them).
    fn audit_json(&self) -> Value {
        json!({
            "code": self.code,
            "name": self.name,
            "category": self.category,
            "specification": self.specification,
            "unit": self.unit,
            "list_price": format_fen(self.list_price),
            "floor_price": self.floor_price.map(format_fen),
            "tax_rate": format_bp(self.tax_rate_bp),
            "standard_cost": self.standard_cost.map(format_fen),
            "active": self.active,
        })
    }
}

/// A product for a quote line (internal: no visibility filtering; money in fen, tax in basis
/// points). See [`for_lines`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub unit: String,
    pub list_price: i64,
    pub floor_price: Option<i64>,
    pub tax_rate_bp: i64,
    pub standard_cost: Option<i64>,
    pub active: bool,
}

// ---------------------------------------------------------------------------------------------
// Who may do what.

/// Every signed-in role reads the catalogue, except the administrator (who sees no business data).
pub fn may_read(caller: &Caller) -> bool {
    caller.reach() != Reach::Nothing
}

/// Who keeps the catalogue (create, edit, import, deactivate).
pub fn may_edit(caller: &Caller) -> bool {
    caller.role.edits_catalogue()
}

fn require_read(caller: &Caller) -> Result<()> {
    if may_read(caller) {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

fn require_edit(caller: &Caller) -> Result<()> {
    if may_edit(caller) {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

// ---------------------------------------------------------------------------------------------
// The rules.

/// A yes/no as people write it: `true`/`false`, `1`/`0`, `yes`/`no`, 是/否, 启用/停用.
pub fn parse_flag(v: &str) -> Result<bool, &'static str> {
    match v.trim().to_lowercase().as_str() {
        "true" | "1" | "yes" | "y" | "on" | "是" | "启用" | "active" => Ok(true),
        "false" | "0" | "no" | "n" | "off" | "否" | "停用" | "inactive" => Ok(false),
        _ => Err("expected_boolean"),
    }
}

/// An amount of the catalogue (a decimal string: forms and imports read what people type into
/// one first): not negative, at most two decimals.
fn parse_price(v: &str) -> Result<i64, &'static str> {
    let v = v.trim();
    if v.starts_with('-') || v.starts_with('－') {
        return Err("negative");
    }
    parse_fen(v)
}

/// A tax rate in percent (`13`, `13.00`, `13%`, `9`) as basis points: 0 or 1–100 %. A rate
/// between 0 and 1 % is refused (`tax_rate_fraction`): it is almost always a spreadsheet's 13 %
/// written as the fraction 0.13, and China's VAT rates are whole percents.
pub fn parse_tax_rate(v: &str) -> Result<i64, &'static str> {
    let t = v.trim();
    let t = t.strip_suffix('%').or_else(|| t.strip_suffix('％')).unwrap_or(t).trim();
    if t.starts_with('-') {
        return Err("tax_rate_range");
    }
    let bp = parse_bp(t).map_err(|c| if c == "percent_range" { "tax_rate_range" } else { "tax_rate_format" })?;
    match bp {
        0 => Ok(0),
        1..=99 => Err("tax_rate_fraction"),
        100..=10_000 => Ok(bp),
        _ => Err("tax_rate_range"),
    }
}

/// Checks `inp` (the fields given) against `base` (the stored product when editing; `None` when
/// creating, where code, name, unit and list price are required) and gives the product as it
/// would be stored, or every field error at once. The one rule of the API, the form and each
/// row of an import.
pub fn prepare(inp: &Input, base: Option<&ProductData>) -> Result<ProductData> {
    let mut e = Errors::default();
    let mut d = base.cloned().unwrap_or(ProductData {
        code: String::new(),
        name: String::new(),
        category: None,
        specification: None,
        unit: String::new(),
        list_price: 0,
        floor_price: None,
        tax_rate_bp: DEFAULT_TAX_BP,
        standard_cost: None,
        active: true,
    });
    if base.is_none() {
        for k in ["code", "name", "unit", "list_price"] {
            if inp.get(k).flatten().is_none_or(|v| v.trim().is_empty()) {
                e.add(k, "required");
            }
        }
    }
    let given = |k: &str| inp.get(k).flatten().filter(|v| !v.trim().is_empty());
    for (k, max) in [("code", CODE_MAX), ("name", 200), ("unit", 20)] {
        if let Some(v) = inp.get(k) {
            match text::required(v, max) {
                Ok(v) => match k {
                    "code" => d.code = v,
                    "name" => d.name = v,
                    _ => d.unit = v,
                },
                // A missing required field on create is named once, above.
                Err("required") if base.is_none() => {}
                Err(c) => e.add(k, c),
            }
        }
    }
    for (k, max) in [("category", 50), ("specification", 500)] {
        if let Some(v) = inp.get(k) {
            if let Some(v) = e.take(k, text::optional(v, max)) {
                match k {
                    "category" => d.category = v,
                    _ => d.specification = v,
                }
            }
        }
    }
    for k in MONEY_FIELDS {
        let Some(v) = inp.get(k) else { continue };
        if inp.was_number(k) {
            e.add(k, "money_must_be_string");
            continue;
        }
        match (*k, v.map(str::trim).filter(|v| !v.is_empty())) {
            ("list_price", None) => {
                if base.is_some() {
                    e.add(k, "required");
                }
            }
            (_, None) => match *k {
                "floor_price" => d.floor_price = None,
                _ => d.standard_cost = None,
            },
            (_, Some(v)) => {
                if let Some(fen) = e.take(k, parse_price(v)) {
                    match *k {
                        "list_price" => d.list_price = fen,
                        "floor_price" => d.floor_price = Some(fen),
                        _ => d.standard_cost = Some(fen),
                    }
                }
            }
        }
    }
    if let Some(v) = inp.get("tax_rate") {
        if inp.was_number("tax_rate") {
            e.add("tax_rate", "expected_string");
        } else {
            match v.map(str::trim).filter(|v| !v.is_empty()) {
                // Cleared: back to the default rate.
                None => d.tax_rate_bp = DEFAULT_TAX_BP,
                Some(v) => {
                    if let Some(bp) = e.take("tax_rate", parse_tax_rate(v)) {
                        d.tax_rate_bp = bp;
                    }
                }
            }
        }
    }
    if let Some(v) = inp.get("active") {
        match v {
            None => e.add("active", "required"),
            Some(v) => {
                if let Some(a) = e.take("active", parse_flag(v)) {
                    d.active = a;
                }
            }
        }
    }
    // The floor price is at most the list price; named where the change was made.
    let priced = !e.0.iter().any(|f| f.field == "list_price" || f.field == "floor_price");
    if priced && d.floor_price.is_some_and(|f| f > d.list_price) {
        if given("floor_price").is_some() || given("list_price").is_none() {
            e.add("floor_price", "floor_above_list");
        } else {
            e.add("list_price", "list_below_floor");
        }
    }
    e.0.sort_by(|a, b| a.field.cmp(&b.field));
    e.finish()?;
    Ok(d)
}

/// The code's key: unique whatever the case.
/// A code as it is matched: codes are unique whatever their case.
pub(crate) fn code_key(code: &str) -> String {
    code.trim().to_lowercase()
}

/// Refuses fields the caller may not send: unknown ones, and the confidential ones from a
/// caller who may not see them.
fn check_keys(caller: &Caller, inp: &Input) -> Result<()> {
    let known: Vec<&str> = EDIT_FIELDS.iter().chain(SYSTEM_FIELDS).copied().collect();
    let allowed: Vec<&str> =
        EDIT_FIELDS.iter().copied().filter(|k| caller.role.sees_floor_price() || !CONFIDENTIAL.contains(k)).collect();
    inp.check_keys(&allowed, &known)
}

// ---------------------------------------------------------------------------------------------
// Reading.

const SELECT: &str = "SELECT p.*, COALESCE(u.display_name, p.updated_by) AS updated_by_name \
    FROM products p LEFT JOIN users u ON u.username = p.updated_by";

fn data_of(r: &AnyRow) -> Result<ProductData> {
    Ok(ProductData {
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        category: r.try_get("category")?,
        specification: r.try_get("specification")?,
        unit: r.try_get("unit")?,
        list_price: r.try_get("list_price")?,
        floor_price: r.try_get("floor_price")?,
        tax_rate_bp: r.try_get("tax_rate_bp")?,
        standard_cost: r.try_get("standard_cost")?,
        active: r.try_get::<i64, _>("active")? != 0,
    })
}

fn view(r: &AnyRow, sees_floor: bool) -> Result<ProductView> {
    let d = data_of(r)?;
    Ok(ProductView {
        id: r.try_get("id")?,
        code: d.code,
        name: d.name,
        category: d.category,
        specification: d.specification,
        unit: d.unit,
        list_price: format_fen(d.list_price),
        floor_price: d.floor_price.filter(|_| sees_floor).map(format_fen),
        tax_rate: format_bp(d.tax_rate_bp),
        standard_cost: d.standard_cost.filter(|_| sees_floor).map(format_fen),
        active: d.active,
        version: r.try_get("version")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        updated_by: r.try_get("updated_by")?,
        updated_by_name: r.try_get("updated_by_name")?,
    })
}

/// Which products, in which order.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    /// Matches the code, the name, or the name in pinyin (full or by initials).
    pub q: Option<String>,
    /// Only this category (exactly).
    pub category: Option<String>,
    /// Only active (`Some(true)`) or only inactive ones; all when `None`.
    pub active: Option<bool>,
    /// `code` (default), `name` (in pinyin order), `list_price`, `updated`; a leading `-`
    /// reverses it.
    pub sort: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

/// Sort keys: (key, column, text?).
const SORTS: &[(&str, &str, bool)] = &[
    ("code", "p.code_key", true),
    ("name", "p.name_sort", true),
    ("list_price", "p.list_price", false),
    ("updated", "p.updated_at", true),
];

fn sort_of(s: Option<&str>) -> Result<(&'static str, &'static str, bool, bool)> {
    let raw = s.filter(|s| !s.is_empty()).unwrap_or("code");
    let (desc, key) = match raw.strip_prefix('-') {
        Some(k) => (true, k),
        None => (false, raw),
    };
    SORTS
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(k, col, t)| (*k, *col, *t, desc))
        .ok_or_else(|| Error::invalid("sort", "invalid_choice"))
}

/// `%…%` for a `LIKE … ESCAPE '\'` of the text as it is (lower case).
fn like_raw(q: &str) -> String {
    let mut p = String::from("%");
    for c in q.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// The filter's conditions (` AND …`).
fn push_filter(s: &mut Sql, f: &Filter) -> Result<()> {
    let q = text::search(f.q.as_deref()).map_err(|c| Error::invalid("q", c))?;
    if let Some(q) = q {
        s.push(" AND (p.code_key LIKE ").bind(like_raw(q)).push(" ESCAPE '\\'");
        s.push(" OR p.name_key LIKE ").bind(text::like_pattern(q)).push(" ESCAPE '\\'");
        if pinyin::may_be_pinyin(q) {
            let key = like_raw(&pinyin::query_key(q));
            s.push(" OR p.name_pinyin LIKE ").bind(key.clone()).push(" ESCAPE '\\'");
            s.push(" OR p.name_initials LIKE ").bind(key).push(" ESCAPE '\\'");
        }
        s.push(")");
    }
    if let Some(c) = f.category.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        s.push(" AND p.category = ").bind(c.to_string());
    }
    if let Some(a) = f.active {
        s.push(" AND p.active = ").bind(i64::from(a));
    }
    Ok(())
}

/// A page of the catalogue in the filter's order.
pub async fn list(db: &Db, caller: &Caller, f: &Filter) -> Result<Page<ProductView>> {
    require_read(caller)?;
    let limit = clamp_limit(f.limit)?;
    let (key, col, is_text, desc) = sort_of(f.sort.as_deref())?;
    let mut s = Sql::new(SELECT);
    s.push(" WHERE 1 = 1");
    push_filter(&mut s, f)?;
    if let Some(c) = f.cursor.as_deref().filter(|c| !c.is_empty()) {
        crate::app::push_after(&mut s, c, col, "p.id", is_text, desc)?;
    }
    let dir = if desc { "DESC" } else { "ASC" };
    s.push(&format!(" ORDER BY {col} {dir}, p.id {dir} LIMIT ")).bind(limit + 1);
    let rows = s.query().fetch_all(&db.pool).await?;
    let sees = caller.role.sees_floor_price();
    let mut items = Vec::with_capacity(rows.len().min(limit as usize));
    for r in rows.iter().take(limit as usize) {
        items.push(view(r, sees)?);
    }
    let next_cursor = match rows.get(limit as usize - 1).filter(|_| rows.len() as i64 > limit) {
        Some(r) => {
            let k = match key {
                "code" => json!(r.try_get::<String, _>("code_key")?),
                "name" => json!(r.try_get::<String, _>("name_sort")?),
                "list_price" => json!(r.try_get::<i64, _>("list_price")?),
                _ => json!(r.try_get::<String, _>("updated_at")?),
            };
            Some(encode_cursor(k, r.try_get("id")?))
        }
        None => None,
    };
    Ok(Page { items, next_cursor })
}

/// How many products match the filter.
pub async fn count(db: &Db, caller: &Caller, f: &Filter) -> Result<i64> {
    require_read(caller)?;
    let mut s = Sql::new("SELECT COUNT(*) AS n FROM products p WHERE 1 = 1");
    push_filter(&mut s, f)?;
    Ok(s.query().fetch_one(&db.pool).await?.try_get("n")?)
}

/// Every product the filter matches, in its order (exports: a catalogue is small).
pub async fn export(db: &Db, caller: &Caller, f: &Filter) -> Result<Vec<ProductView>> {
    require_read(caller)?;
    let (_, col, _, desc) = sort_of(f.sort.as_deref())?;
    let mut s = Sql::new(SELECT);
    s.push(" WHERE 1 = 1");
    push_filter(&mut s, f)?;
    let dir = if desc { "DESC" } else { "ASC" };
    s.push(&format!(" ORDER BY {col} {dir}, p.id {dir} LIMIT 200000"));
    let sees = caller.role.sees_floor_price();
    s.query().fetch_all(&db.pool).await?.iter().map(|r| view(r, sees)).collect()
}

/// The categories in use, in pinyin order (a list's filter, a form's suggestions).
pub async fn categories(db: &Db, caller: &Caller) -> Result<Vec<String>> {
    require_read(caller)?;
    let rows =
        sqlx::query("SELECT DISTINCT category FROM products WHERE category IS NOT NULL").fetch_all(&db.pool).await?;
    let mut out: Vec<String> = rows.iter().map(|r| r.try_get("category")).collect::<Result<_, _>>()?;
    out.sort_by_cached_key(|c| pinyin::sort_key(c));
    Ok(out)
}

pub async fn get(db: &Db, caller: &Caller, id: i64) -> Result<ProductView> {
    require_read(caller)?;
    let mut conn = db.pool.acquire().await?;
    load(&mut conn, caller, id).await
}

async fn load(conn: &mut sqlx::AnyConnection, caller: &Caller, id: i64) -> Result<ProductView> {
    let mut s = Sql::new(SELECT);
    s.push(" WHERE p.id = ").bind(id);
    let r = s.query().fetch_optional(&mut *conn).await?.ok_or(Error::NotFound)?;
    view(&r, caller.role.sees_floor_price())
}

/// The stored product and its version.
async fn stored(conn: &mut sqlx::AnyConnection, id: i64) -> Result<(ProductData, i64)> {
    let r = sqlx::query("SELECT * FROM products WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(Error::NotFound)?;
    Ok((data_of(&r)?, r.try_get("version")?))
}

/// The products of a quote's lines, by id (those that exist, in id order, each once): every
/// field as stored — floor price and standard cost included, money in fen — for the quote's
/// own rules. Internal: the caller decides what a person may see.
pub async fn for_lines(conn: &mut sqlx::AnyConnection, ids: &[i64]) -> Result<Vec<ProductRow>> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let mut s = Sql::new(
        "SELECT id, code, name, unit, list_price, floor_price, tax_rate_bp, standard_cost, active FROM products \
         WHERE id IN (",
    );
    s.bind_list(&ids).push(") ORDER BY id");
    s.query()
        .fetch_all(conn)
        .await?
        .iter()
        .map(|r| {
            Ok(ProductRow {
                id: r.try_get("id")?,
                code: r.try_get("code")?,
                name: r.try_get("name")?,
                unit: r.try_get("unit")?,
                list_price: r.try_get("list_price")?,
                floor_price: r.try_get("floor_price")?,
                tax_rate_bp: r.try_get("tax_rate_bp")?,
                standard_cost: r.try_get("standard_cost")?,
                active: r.try_get::<i64, _>("active")? != 0,
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Writing.

/// The id of the product that holds `code` (whatever its case), other than `except`.
async fn holder_of(conn: &mut sqlx::AnyConnection, code: &str, except: Option<i64>) -> Result<Option<i64>> {
    let r = sqlx::query("SELECT id FROM products WHERE code_key = $1")
        .bind(code_key(code))
        .fetch_optional(&mut *conn)
        .await?;
    Ok(match r {
        Some(r) => Some(r.try_get::<i64, _>("id")?).filter(|id| Some(*id) != except),
        None => None,
    })
}

fn duplicate_code(e: sqlx::Error) -> Error {
    if crate::db::is_unique_violation(&e) {
        Error::Duplicate { field: "code", existing_id: 0 }
    } else {
        e.into()
    }
}

/// Writes a new product with its audit row (no checks: [`prepare`] and the code's uniqueness
/// are the caller's). The demo company writes its catalogue through this.
pub async fn insert(tx: &mut WriteTx, ctx: &Ctx, d: &ProductData) -> Result<i64> {
    let ts = now();
    let by = ctx.caller.username.as_str();
    let mut s = Sql::new(
        "INSERT INTO products (code, code_key, name, name_key, name_pinyin, name_initials, name_sort, category, \
         specification, unit, list_price, floor_price, tax_rate_bp, standard_cost, active, version, created_at, \
         updated_at, created_by, updated_by) VALUES (",
    );
    s.bind(d.code.clone()).push(", ").bind(code_key(&d.code)).push(", ");
    push_name(&mut s, &d.name);
    s.push(", ").bind(d.category.clone()).push(", ").bind(d.specification.clone());
    s.push(", ").bind(d.unit.clone()).push(", ").bind(d.list_price).push(", ").bind(d.floor_price);
    s.push(", ").bind(d.tax_rate_bp).push(", ").bind(d.standard_cost).push(", ").bind(i64::from(d.active));
    s.push(", 1, ").bind(ts.clone()).push(", ").bind(ts).push(", ").bind(by).push(", ").bind(by);
    s.push(") RETURNING id");
    let id: i64 = s.query().fetch_one(tx.conn()).await.map_err(duplicate_code)?.try_get("id")?;
    audit::record(tx, ctx, "product", &id.to_string(), "create", None, Some(&d.audit_json())).await?;
    Ok(id)
}

/// `$name, $name_key, $pinyin, $initials, $sort`.
fn push_name(s: &mut Sql, name: &str) {
    s.bind(name.to_string()).push(", ").bind(text::normalize_name(name));
    s.push(", ").bind(pinyin::full(name)).push(", ").bind(pinyin::initials(name));
    s.push(", ").bind(pinyin::stored_sort_key(name));
}

/// Writes the changed product over `version` with its audit row (`action`: update, activate,
/// deactivate). A stale version changes nothing (409).
async fn rewrite(
    tx: &mut WriteTx,
    ctx: &Ctx,
    id: i64,
    version: i64,
    before: &ProductData,
    d: &ProductData,
    action: &str,
) -> Result<()> {
    let mut s = Sql::new("UPDATE products SET code = ");
    s.bind(d.code.clone()).push(", code_key = ").bind(code_key(&d.code));
    s.push(", name = ").bind(d.name.clone()).push(", name_key = ").bind(text::normalize_name(&d.name));
    s.push(", name_pinyin = ").bind(pinyin::full(&d.name)).push(", name_initials = ").bind(pinyin::initials(&d.name));
    s.push(", name_sort = ").bind(pinyin::stored_sort_key(&d.name));
    s.push(", category = ").bind(d.category.clone()).push(", specification = ").bind(d.specification.clone());
    s.push(", unit = ").bind(d.unit.clone()).push(", list_price = ").bind(d.list_price);
    s.push(", floor_price = ").bind(d.floor_price).push(", tax_rate_bp = ").bind(d.tax_rate_bp);
    s.push(", standard_cost = ").bind(d.standard_cost).push(", active = ").bind(i64::from(d.active));
    s.push(", version = version + 1, updated_at = ").bind(now());
    s.push(", updated_by = ").bind(ctx.caller.username.as_str());
    s.push(" WHERE id = ").bind(id).push(" AND version = ").bind(version);
    let n = s.query().execute(tx.conn()).await.map_err(duplicate_code)?.rows_affected();
    if n != 1 {
        return Err(Error::StaleVersion { current: stored(tx.conn(), id).await?.1 });
    }
    let (b, a) = (before.audit_json(), d.audit_json());
    audit::record(tx, ctx, "product", &id.to_string(), action, Some(&b), Some(&a)).await
}

/// Adds a product (editors only): code, name, unit and list price required; 13 % VAT unless a
/// rate is given; active unless said otherwise. A code in use (whatever its case) is 409
/// `duplicate` naming `code`.
pub async fn create(db: &Db, ctx: &Ctx, inp: &Input) -> Result<ProductView> {
    let mut tx = db.begin().await?;
    let v = create_in(&mut tx, ctx, inp).await?;
    tx.commit().await?;
    Ok(v)
}

/// [`create`] inside the caller's transaction (the UI's form, saved once per token).
pub async fn create_in(tx: &mut WriteTx, ctx: &Ctx, inp: &Input) -> Result<ProductView> {
    let caller = &ctx.caller;
    require_edit(caller)?;
    check_keys(caller, inp)?;
    inp.refuse_version()?;
    let d = prepare(inp, None)?;
    if holder_of(tx.conn(), &d.code, None).await?.is_some() {
        return Err(Error::Duplicate { field: "code", existing_id: 0 });
    }
    let id = insert(tx, ctx, &d).await?;
    load(tx.conn(), caller, id).await
}

/// Changes the fields given (`version` required; a stale one is 409 and changes nothing).
pub async fn update(db: &Db, ctx: &Ctx, id: i64, inp: &Input) -> Result<ProductView> {
    let caller = &ctx.caller;
    require_read(caller)?;
    let version = inp.version.ok_or_else(|| Error::invalid("version", "required"))?;
    let mut tx = db.begin().await?;
    let (before, current) = stored(tx.conn(), id).await?;
    require_edit(caller)?;
    check_keys(caller, inp)?;
    if version != current {
        return Err(Error::StaleVersion { current });
    }
    let d = prepare(inp, Some(&before))?;
    if d == before {
        // Nothing to change: no new version, no audit row.
        return load(tx.conn(), caller, id).await;
    }
    if d.code != before.code && holder_of(tx.conn(), &d.code, Some(id)).await?.is_some() {
        return Err(Error::Duplicate { field: "code", existing_id: 0 });
    }
    let action = match (before.active, d.active) {
        (true, false) => "deactivate",
        (false, true) => "activate",
        _ => "update",
    };
    rewrite(&mut tx, ctx, id, version, &before, &d, action).await?;
    let after = load(tx.conn(), caller, id).await?;
    tx.commit().await?;
    Ok(after)
}

/// Deactivates (no longer offered in new quotes) or reactivates a product, over its version.
pub async fn set_active(db: &Db, ctx: &Ctx, id: i64, active: bool, version: i64) -> Result<ProductView> {
    let flag = if active { "true" } else { "false" };
    let mut inp = Input::from_pairs(&[("active", Some(flag))]);
    inp.version = Some(version);
    update(db, ctx, id, &inp).await
}

// ---------------------------------------------------------------------------------------------
// Export.

/// The catalogue as a table to export: prices as decimal strings (number cells in XLSX),
/// the floor price and standard cost only `with_confidential`. Its headers are the labels of
/// `field.<key>`, which an import reads back.
pub fn table(rows: &[ProductView], with_confidential: bool) -> Table {
    let mut keys = vec![
        "product_code",
        "product_name",
        "category",
        "specification",
        "unit",
        "list_price",
        "floor_price",
        "tax_rate",
        "standard_cost",
        "active",
    ];
    if !with_confidential {
        keys.retain(|k| !CONFIDENTIAL.contains(k));
    }
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    let rows = rows
        .iter()
        .map(|p| {
            let mut r = vec![
                p.code.clone(),
                p.name.clone(),
                o(&p.category),
                o(&p.specification),
                p.unit.clone(),
                p.list_price.clone(),
            ];
            if with_confidential {
                r.push(o(&p.floor_price));
            }
            r.push(p.tax_rate.clone());
            if with_confidential {
                r.push(o(&p.standard_cost));
            }
            r.push(p.active.to_string());
            r
        })
        .collect();
    Table { keys, rows }
}

// ---------------------------------------------------------------------------------------------
// Import.

/// Header texts (lower case, without spaces, brackets made ASCII) and the field each means,
/// besides the field codes and the export's labels in either language.
const HEADERS: &[(&str, &str)] = &[
    ("编码", "code"),
    ("产品编码", "code"),
    ("代码", "code"),
    ("产品代码", "code"),
    ("物料编码", "code"),
    ("product_code", "code"),
    ("sku", "code"),
    ("名称", "name"),
    ("产品名称", "name"),
    ("品名", "name"),
    ("product_name", "name"),
    ("类别", "category"),
    ("产品类别", "category"),
    ("分类", "category"),
    ("规格", "specification"),
    ("规格型号", "specification"),
    ("型号", "specification"),
    ("spec", "specification"),
    ("单位", "unit"),
    ("计量单位", "unit"),
    ("目录价", "list_price"),
    ("目录价(元)", "list_price"),
    ("标准价", "list_price"),
    ("listprice", "list_price"),
    ("底价", "floor_price"),
    ("底价(元)", "floor_price"),
    ("最低价", "floor_price"),
    ("floorprice", "floor_price"),
    ("税率", "tax_rate"),
    ("税率(%)", "tax_rate"),
    ("增值税率", "tax_rate"),
    ("增值税率(%)", "tax_rate"),
    ("taxrate", "tax_rate"),
    ("taxrate(%)", "tax_rate"),
    ("标准成本", "standard_cost"),
    ("标准成本(元)", "standard_cost"),
    ("成本", "standard_cost"),
    ("standardcost", "standard_cost"),
    ("启用", "active"),
    ("是否启用", "active"),
    ("状态", "active"),
];

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

/// The field a header means, if any.
fn field_of(header: &str) -> Option<&'static str> {
    let h = clean_header(header);
    if let Some((_, f)) = HEADERS.iter().find(|(k, _)| *k == h) {
        return Some(f);
    }
    for f in EDIT_FIELDS {
        if *f == h {
            return Some(f);
        }
        let key = match *f {
            "code" => "product_code",
            "name" => "product_name",
            f => f,
        };
        for lang in ["zh-CN", "en"] {
            let label_key = format!("field.{key}");
            let label = rust_i18n::t!(&label_key, locale = lang).into_owned();
            if clean_header(&label) == h {
                return Some(f);
            }
        }
    }
    None
}

/// Imports products from a CSV (UTF-8 or GB18030) or XLSX file whose first row names the
/// columns (Chinese or English): a row whose code exists updates that product with the row's
/// non-empty cells, any other row adds a product. Each row is checked by [`prepare`]; all rows
/// or none are written, in one transaction (a dry run writes none), and every refused cell is
/// reported by row, column, value and reason — up to `max_errors` refused rows.
pub async fn import(db: &Db, ctx: &Ctx, src: Source, dry_run: bool, max_errors: usize) -> Result<Report> {
    let caller = &ctx.caller;
    require_edit(caller)?;
    let rows = sheets::read_all(src, IMPORT_MAX_ROWS, "too_many_rows").await?;
    let Some((_, header)) = rows.first() else {
        return Err(Error::invalid("file", "file_empty"));
    };
    let mut report = Report::default();
    report.dry_run = dry_run;
    let mut cols: Vec<Option<&'static str>> = vec![];
    for h in header {
        let f = field_of(h).filter(|f| !cols.contains(&Some(*f)));
        if f.is_none() && !h.trim().is_empty() {
            report.unknown_columns.push(h.trim().to_string());
        }
        cols.push(f);
    }
    if !cols.contains(&Some("code")) {
        return Err(Error::invalid("file", "product_code_column_missing"));
    }
    let sees_floor = caller.role.sees_floor_price();
    let mut tx = db.begin().await?;
    // The catalogue in memory: code key → (id, product, version).
    let mut existing: HashMap<String, (i64, ProductData, i64)> = HashMap::new();
    for r in sqlx::query("SELECT * FROM products").fetch_all(tx.conn()).await? {
        let d = data_of(&r)?;
        existing.insert(code_key(&d.code), (r.try_get("id")?, d, r.try_get("version")?));
    }
    // Rows seen so far by code key (repeats within the file are refused).
    let mut first_row: HashMap<String, usize> = HashMap::new();
    for (line, cells) in rows.iter().skip(1) {
        if report.errors_truncated {
            break;
        }
        let mut pairs: Vec<(&'static str, Option<String>)> = vec![];
        for (c, v) in cols.iter().zip(cells) {
            let Some(f) = c else { continue };
            let v = v.trim();
            let v = if MONEY_FIELDS.contains(f) && !v.is_empty() {
                crate::domain::money::normalize_amount(v)
            } else {
                v.to_string()
            };
            if !sees_floor && CONFIDENTIAL.contains(f) {
                continue;
            }
            pairs.push((f, (!v.is_empty()).then_some(v)));
        }
        if pairs.iter().all(|(_, v)| v.is_none()) {
            continue;
        }
        report.rows += 1;
        let value = |k: &str| pairs.iter().find(|(f, _)| *f == k).and_then(|(_, v)| v.clone()).unwrap_or_default();
        let refuse = |report: &mut Report, field: &str, code: String| {
            let e = RowError { row: *line, column: field.to_string(), value: sheets::shown(&value(field)), code };
            report.refuse(e, max_errors);
        };
        let code = value("code");
        let key = code_key(&code);
        if !key.is_empty() {
            if let Some(first) = first_row.get(&key) {
                refuse(&mut report, "code", format!("duplicate_in_file:{first}"));
                continue;
            }
            first_row.insert(key.clone(), *line);
        }
        let found = existing.get(&key).cloned();
        // An update takes the row's non-empty cells (the code as stored: it matched whatever its
        // case); a new product all of them.
        let refs: Vec<(&str, Option<&str>)> = pairs
            .iter()
            .filter(|(f, v)| found.is_none() || (v.is_some() && *f != "code"))
            .map(|(f, v)| (*f, v.as_deref()))
            .collect();
        let inp = Input::from_pairs(&refs);
        match prepare(&inp, found.as_ref().map(|(_, d, _)| d)) {
            Err(Error::Invalid(fs)) => {
                for f in fs {
                    refuse(&mut report, &f.field.clone(), f.code.to_string());
                }
            }
            Err(e) => return Err(e),
            Ok(d) => match found {
                Some((id, before, version)) => {
                    if d != before {
                        rewrite(&mut tx, ctx, id, version, &before, &d, "update").await?;
                        report.updated += 1;
                    }
                }
                None => {
                    insert(&mut tx, ctx, &d).await?;
                    report.created += 1;
                }
            },
        }
    }
    if report.refused() || dry_run {
        tx.rollback().await?;
        if report.refused() {
            report.created = 0;
            report.updated = 0;
        }
    } else {
        tx.commit().await?;
        report.committed = true;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inp(pairs: &[(&str, &str)]) -> Input {
        let p: Vec<(&str, Option<&str>)> = pairs.iter().map(|(k, v)| (*k, Some(*v))).collect();
        Input::from_pairs(&p)
    }

    fn codes(r: Result<ProductData>) -> Vec<(String, &'static str)> {
        match r {
            Err(Error::Invalid(fs)) => fs.into_iter().map(|f| (f.field, f.code)).collect(),
            other => panic!("expected invalid input, got {other:?}"),
        }
    }

    #[test]
    fn a_new_product_needs_code_name_unit_and_list_price() {
        let got = codes(prepare(&inp(&[("category", "服务器")]), None));
        let fields: Vec<&str> = got.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, ["code", "list_price", "name", "unit"]);
        assert!(got.iter().all(|(_, c)| *c == "required"));
        let d = prepare(
            &inp(&[("code", " SRV-01 "), ("name", "服务器"), ("unit", "台"), ("list_price", "128000.5")]),
            None,
        )
        .expect("valid");
        assert_eq!(d.code, "SRV-01", "trimmed");
        assert_eq!(d.list_price, 12_800_050);
        assert_eq!(d.tax_rate_bp, DEFAULT_TAX_BP, "13 % unless given");
        assert!(d.active);
    }

    #[test]
    fn prices_rates_and_flags_are_checked() {
        let base = ProductData {
            code: "A".into(),
            name: "甲".into(),
            category: None,
            specification: None,
            unit: "台".into(),
            list_price: 10_000,
            floor_price: Some(8_000),
            tax_rate_bp: 1300,
            standard_cost: None,
            active: true,
        };
        assert_eq!(codes(prepare(&inp(&[("list_price", "-5")]), Some(&base))), [("list_price".into(), "negative")]);
        assert_eq!(
            codes(prepare(&inp(&[("floor_price", "120")]), Some(&base))),
            [("floor_price".into(), "floor_above_list")]
        );
        assert_eq!(
            codes(prepare(&inp(&[("list_price", "50")]), Some(&base))),
            [("list_price".into(), "list_below_floor")],
            "lowering the list price below the floor names the list price"
        );
        assert_eq!(codes(prepare(&inp(&[("tax_rate", "101")]), Some(&base))), [("tax_rate".into(), "tax_rate_range")]);
        assert_eq!(
            codes(prepare(&inp(&[("tax_rate", "0.13")]), Some(&base))),
            [("tax_rate".into(), "tax_rate_fraction")]
        );
        assert_eq!(codes(prepare(&inp(&[("active", "maybe")]), Some(&base))), [("active".into(), "expected_boolean")]);
        let d = prepare(&inp(&[("tax_rate", "9%"), ("active", "停用"), ("floor_price", "")]), Some(&base)).unwrap();
        assert_eq!((d.tax_rate_bp, d.active, d.floor_price), (900, false, None));
        assert_eq!(parse_tax_rate("0").unwrap(), 0);
        assert_eq!(parse_tax_rate("13.00").unwrap(), 1300);
        assert_eq!(parse_tax_rate("100").unwrap(), 10_000);
        assert_eq!(parse_tax_rate("abc"), Err("tax_rate_format"));
    }

    #[test]
    fn headers_in_either_language_name_the_fields() {
        assert_eq!(field_of("编码"), Some("code"));
        assert_eq!(field_of(" 目录价（元） "), Some("list_price"));
        assert_eq!(field_of("Tax rate (%)"), Some("tax_rate"));
        assert_eq!(field_of("standard_cost"), Some("standard_cost"));
        assert_eq!(field_of("备注"), None);
    }
}
