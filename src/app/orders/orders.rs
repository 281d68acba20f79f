//! Orders (订货单, DOMAIN.md M7; issue 21). An order belongs to an account and comes from an
//! accepted quote (its lines and terms copied from the accepted version), from a won
//! opportunity, or from nothing but the account. It is revised in versions like a quote: a
//! draft is edited in place; editing a version that was submitted or signed makes version
//! n + 1 and submits it again, so a signed version never changes. Submitting starts the
//! `order_signoff` flow: the KA manager signs off, and above the flow's threshold (500,000 元
//! by default) the KA director too; a requester whose own step covers the total signs at once.
//! A signed order counts for its won opportunity's booked amount (the sum of its signed orders,
//! kept in the sign-off's transaction). Cancelling needs a reason.
//!
//! Scope: an order is visible to whoever sees its account (finance and logistics see all).
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::app::approvals::{self, Closed, HookFuture, OutcomeHook, ScopeFuture, Subject, SubjectScope};
use crate::app::customers::accounts;
use crate::app::funnel::opportunities;
use crate::app::orders::credit_check;
use crate::app::quotes::quotes::{self as quotes, LineIn};
use crate::app::records::audit;
use crate::app::{clamp_limit, decode_cursor, encode_cursor, Caller, Ctx, Error, Page, Result};
use crate::db::bulk::{v, Inserter};
use crate::db::sql::Sql;
use crate::db::{now, Db, RowLock, WriteTx};
use crate::domain::approval::{Figure, Flow, State as ApprovalState};
use crate::domain::error::Errors;
use crate::domain::money::{div_round, format_bp, format_fen, parse_bp};
use crate::domain::order::{
    self as o, format_due, DueEvent, OrderInstallment, OrderState, OrderVersionState as VState,
};
use crate::domain::quote::{self as q, format_quantity, InstallmentKind, Line, LineInput, Totals};
use crate::domain::receivable::CreditStage;
use crate::domain::text;

/// One installment as given: `{"kind": "advance", "percent": "30", "due": "0 days after order"}`.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderInstallmentIn {
    pub kind: InstallmentKind,
    /// Share of the total in percent (`30`); the installments add up to 100.
    #[schema(pattern = r"^\d{1,3}(\.\d{1,2})?$")]
    pub percent: String,
    /// The due rule: `N days after invoice|delivery|acceptance|order` (also `on delivery`,
    /// `开票后30天`). Absent: on the kind's own event (advance: the order; on delivery: the
    /// delivery; after acceptance and retention: the acceptance).
    #[serde(default)]
    #[schema(example = "30 days after invoice")]
    pub due: Option<String>,
}

/// An order's content as given (create, revise). Absent fields keep their value on a revision
/// (and, on an order made from a quote, the quote's); `lines` and `payment_terms`, when given,
/// replace the old ones whole.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderIn {
    /// The order's version this revision starts from (required to revise).
    #[serde(default)]
    pub version: Option<i64>,
    /// The account (`POST /api/v1/orders` only: an order made on an account directly).
    #[serde(default)]
    pub account_id: Option<i64>,
    /// The customer's contract number.
    #[serde(default)]
    pub contract_no: Option<String>,
    /// The delivery date the customer asked for.
    #[serde(default)]
    #[schema(format = Date)]
    pub requested_delivery: Option<String>,
    #[serde(default)]
    #[schema(max_items = 500)]
    pub lines: Option<Vec<LineIn>>,
    #[serde(default)]
    #[schema(max_items = 10)]
    pub payment_terms: Option<Vec<OrderInstallmentIn>>,
    #[serde(default)]
    pub notes: Option<String>,
}

/// A priced line of an order.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = OrderLineView)]
pub struct LineView {
    pub position: i64,
    pub product_id: Option<i64>,
    pub product_code: Option<String>,
    pub description: String,
    pub specification: Option<String>,
    pub unit: String,
    pub quantity: String,
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub list_price: Option<String>,
    /// Tax-inclusive unit price.
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub unit_price: String,
    /// Percent off the list price.
    pub discount: String,
    /// quantity × unit price, rounded half up to the fen.
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub amount: String,
    pub tax_rate: String,
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub amount_excl: String,
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub tax: String,
    /// quantity × the product's standard cost (roles that see floor prices only; absent
    /// without a cost).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false, pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub cost: Option<String>,
    /// The tax-exclusive amount less the cost (roles that see floor prices only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false, pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub margin: Option<String>,
    /// The margin as a percentage of the tax-exclusive amount (roles that see floor prices).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub margin_percent: Option<String>,
}

/// One installment of an order's payment terms.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrderInstallmentView {
    pub kind: InstallmentKind,
    pub percent: String,
    /// The due rule in its written form: `30 days after invoice`.
    pub due: String,
    pub due_days: i64,
    pub due_event: DueEvent,
    /// The installment's share of the tax-inclusive total.
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub amount: String,
}

/// One version of an order, whole.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = OrderVersionView)]
pub struct VersionView {
    pub version_no: i64,
    pub state: VState,
    pub contract_no: Option<String>,
    #[schema(format = Date)]
    pub requested_delivery: Option<String>,
    pub payment_terms: Vec<OrderInstallmentView>,
    pub notes: Option<String>,
    /// Tax-inclusive total (Σ line amounts).
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub total: String,
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub total_excl: String,
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub tax: String,
    /// The tax-inclusive total in Chinese capitals (人民币大写).
    pub total_in_words: String,
    /// Signed at once: the author's own sign-off authority covered it (null before submitting).
    pub within_authority: Option<bool>,
    /// The `order_signoff` request of this version.
    pub approval_id: Option<i64>,
    /// Why the request was returned or rejected.
    pub returned_reason: Option<String>,
    pub created_by: String,
    pub created_by_name: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub submitted_at: Option<String>,
    #[schema(format = DateTime)]
    pub signed_at: Option<String>,
    /// Σ standard cost and the margin on the tax-exclusive total (roles that see floor prices).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false, pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub cost: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false, pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub margin: Option<String>,
    /// Every line has a standard cost (else the margin leaves some lines out).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub cost_complete: Option<bool>,
    pub lines: Vec<LineView>,
}

/// One version in an order's history.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = OrderVersionSummary)]
pub struct VersionSummary {
    pub version_no: i64,
    pub state: VState,
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub total: String,
    pub created_by_name: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub signed_at: Option<String>,
    pub approval_id: Option<i64>,
}

/// An order with its latest version (or the one asked for) whole and its versions.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrderView {
    pub id: i64,
    pub number: String,
    pub account_id: i64,
    pub account_name: String,
    pub opportunity_id: Option<i64>,
    pub opportunity_name: Option<String>,
    pub quote_id: Option<i64>,
    pub quote_number: Option<String>,
    /// Username of the order's author.
    pub owner: String,
    pub owner_name: String,
    /// The latest version's state.
    pub state: OrderState,
    pub current_version: i64,
    /// The version in force (the latest signed one) and its total: what the opportunity books.
    pub signed_version: Option<i64>,
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub signed_total: Option<String>,
    pub cancel_reason: Option<String>,
    /// The credit check holds the order (信用冻结): it waits for a credit decision by the finance
    /// manager or the KA director (a prepayment may help); nothing moves meanwhile. The figures
    /// are on its hold (`GET /api/v1/orders/{id}/holds`), for those who may see credit.
    pub held_for_credit: bool,
    /// Orders above this total also need the KA director (the flow's threshold).
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub director_threshold: Option<String>,
    /// The row version for concurrent edits.
    pub version: i64,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    pub latest: VersionView,
    pub versions: Vec<VersionSummary>,
}

/// An order in a list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrderRow {
    pub id: i64,
    pub number: String,
    pub account_id: i64,
    pub account_name: String,
    pub opportunity_id: Option<i64>,
    pub quote_id: Option<i64>,
    pub owner: String,
    pub owner_name: String,
    pub state: OrderState,
    pub current_version: i64,
    pub contract_no: Option<String>,
    #[schema(format = Date)]
    pub requested_delivery: Option<String>,
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub total: String,
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub signed_total: Option<String>,
    pub line_count: i64,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

// ---------------------------------------------------------------------------------------------
// Reading

const ROW_SELECT: &str = "SELECT d.*, a.name AS account_name, u.username AS owner_username, \
     u.display_name AS owner_display FROM orders d JOIN accounts a ON a.id = d.account_id \
     JOIN users u ON u.id = d.owner_id";

fn row_view(r: &AnyRow) -> Result<OrderRow> {
    Ok(OrderRow {
        id: r.try_get("id")?,
        number: r.try_get("number")?,
        account_id: r.try_get("account_id")?,
        account_name: r.try_get("account_name")?,
        opportunity_id: r.try_get("opportunity_id")?,
        quote_id: r.try_get("quote_id")?,
        owner: r.try_get("owner_username")?,
        owner_name: r.try_get("owner_display")?,
        state: r.try_get("state")?,
        current_version: r.try_get("current_version")?,
        contract_no: r.try_get("contract_no")?,
        requested_delivery: r.try_get("requested_delivery")?,
        total: format_fen(r.try_get("total")?),
        signed_total: r.try_get::<Option<i64>, _>("signed_total")?.map(format_fen),
        line_count: r.try_get("line_count")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// The order in scope (its row), or not found.
async fn row_scoped(conn: &mut sqlx::AnyConnection, caller: Option<&Caller>, id: i64) -> Result<AnyRow> {
    let mut s = Sql::new(ROW_SELECT);
    s.push(" WHERE d.id = ").bind(id);
    match caller {
        Some(c) => accounts::push_scope_one(&mut s, c),
        None => {
            s.push(" AND a.deleted_at IS NULL");
        }
    }
    s.query().fetch_optional(&mut *conn).await?.ok_or(Error::NotFound)
}

fn installments_of(json: &str) -> Vec<OrderInstallment> {
    serde_json::from_str(json).unwrap_or_default()
}

fn installment_views(items: &[OrderInstallment], total: i64) -> Vec<OrderInstallmentView> {
    items
        .iter()
        .map(|i| OrderInstallmentView {
            kind: i.kind,
            percent: format_bp(i.percent_bp),
            due: format_due(i.days, i.event),
            due_days: i.days,
            due_event: i.event,
            amount: format_fen(div_round(total * i.percent_bp, q::FULL_BP)),
        })
        .collect()
}

async fn version_view(
    conn: &mut sqlx::AnyConnection,
    caller: Option<&Caller>,
    order_id: i64,
    version_no: i64,
) -> Result<VersionView> {
    let r = sqlx::query(
        "SELECT v.*, COALESCE(u.display_name, v.created_by) AS created_by_name FROM order_versions v \
         LEFT JOIN users u ON u.username = v.created_by WHERE v.order_id = $1 AND v.version_no = $2",
    )
    .bind(order_id)
    .bind(version_no)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(Error::NotFound)?;
    let privileged = caller.is_none_or(|c| c.role.sees_floor_price());
    let vid: i64 = r.try_get("id")?;
    let lines = sqlx::query("SELECT * FROM order_lines WHERE version_id = $1 ORDER BY position")
        .bind(vid)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|l| {
            let excl: i64 = l.try_get("amount_excl")?;
            let cost: Option<i64> = l.try_get("cost")?;
            Ok(LineView {
                position: l.try_get("position")?,
                product_id: l.try_get("product_id")?,
                product_code: l.try_get("product_code")?,
                description: l.try_get("description")?,
                specification: l.try_get("specification")?,
                unit: l.try_get("unit")?,
                quantity: format_quantity(l.try_get("quantity")?),
                list_price: l.try_get::<Option<i64>, _>("list_price")?.map(format_fen),
                unit_price: format_fen(l.try_get("unit_price")?),
                discount: format_bp(l.try_get("discount_bp")?),
                amount: format_fen(l.try_get("amount")?),
                tax_rate: format_bp(l.try_get("tax_rate_bp")?),
                amount_excl: format_fen(excl),
                tax: format_fen(l.try_get("tax")?),
                cost: if privileged { cost.map(format_fen) } else { None },
                margin: if privileged { o::margin(excl, cost).map(format_fen) } else { None },
                margin_percent: if privileged { o::margin_bp(excl, cost).map(format_bp) } else { None },
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let total: i64 = r.try_get("total")?;
    let total_excl: i64 = r.try_get("total_excl")?;
    let cost: i64 = r.try_get("cost")?;
    Ok(VersionView {
        version_no: r.try_get("version_no")?,
        state: r.try_get("state")?,
        contract_no: r.try_get("contract_no")?,
        requested_delivery: r.try_get("requested_delivery")?,
        payment_terms: installment_views(&installments_of(&r.try_get::<String, _>("payment_terms")?), total),
        notes: r.try_get("notes")?,
        total: format_fen(total),
        total_excl: format_fen(total_excl),
        tax: format_fen(r.try_get("tax")?),
        total_in_words: crate::domain::money::chinese_capitals(total),
        within_authority: r.try_get::<Option<i64>, _>("within_authority")?.map(|w| w == 1),
        approval_id: r.try_get("approval_id")?,
        returned_reason: r.try_get("returned_reason")?,
        created_by: r.try_get("created_by")?,
        created_by_name: r.try_get("created_by_name")?,
        created_at: r.try_get("created_at")?,
        submitted_at: r.try_get("submitted_at")?,
        signed_at: r.try_get("signed_at")?,
        cost: privileged.then(|| format_fen(cost)),
        margin: privileged.then(|| format_fen(total_excl - cost)),
        cost_complete: if privileged { Some(r.try_get::<i64, _>("cost_complete")? == 1) } else { None },
        lines,
    })
}

async fn full_view(
    conn: &mut sqlx::AnyConnection,
    caller: Option<&Caller>,
    r: &AnyRow,
    version_no: Option<i64>,
) -> Result<OrderView> {
    let row = row_view(r)?;
    let latest = version_view(conn, caller, row.id, version_no.unwrap_or(row.current_version)).await?;
    let versions = sqlx::query(
        "SELECT v.version_no, v.state, v.total, v.created_at, v.signed_at, v.approval_id, \
         COALESCE(u.display_name, v.created_by) AS created_by_name FROM order_versions v \
         LEFT JOIN users u ON u.username = v.created_by WHERE v.order_id = $1 ORDER BY v.version_no DESC",
    )
    .bind(row.id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|v| {
        Ok(VersionSummary {
            version_no: v.try_get("version_no")?,
            state: v.try_get("state")?,
            total: format_fen(v.try_get("total")?),
            created_by_name: v.try_get("created_by_name")?,
            created_at: v.try_get("created_at")?,
            signed_at: v.try_get("signed_at")?,
            approval_id: v.try_get("approval_id")?,
        })
    })
    .collect::<Result<Vec<_>>>()?;
    let opportunity_name = match row.opportunity_id {
        None => None,
        Some(oid) => sqlx::query("SELECT name FROM opportunities WHERE id = $1")
            .bind(oid)
            .fetch_optional(&mut *conn)
            .await?
            .map(|x| x.try_get("name"))
            .transpose()?,
    };
    let quote_number = match row.quote_id {
        None => None,
        Some(qid) => sqlx::query("SELECT number FROM quotes WHERE id = $1")
            .bind(qid)
            .fetch_optional(&mut *conn)
            .await?
            .map(|x| x.try_get("number"))
            .transpose()?,
    };
    let (_, def) = approvals::definition(conn, Flow::OrderSignoff).await?;
    let director_threshold =
        def.steps.iter().find(|s| s.role == crate::domain::role::Role::KaDirector.code()).and_then(|s| s.above);
    Ok(OrderView {
        id: row.id,
        number: row.number,
        account_id: row.account_id,
        account_name: row.account_name,
        opportunity_id: row.opportunity_id,
        opportunity_name,
        quote_id: row.quote_id,
        quote_number,
        owner: row.owner,
        owner_name: row.owner_name,
        state: row.state,
        current_version: row.current_version,
        signed_version: r.try_get("signed_version")?,
        signed_total: row.signed_total,
        cancel_reason: r.try_get("cancel_reason")?,
        held_for_credit: crate::app::orders::holds::held_for_credit(conn, row.id).await?,
        director_threshold: director_threshold.map(format_fen),
        version: r.try_get("version")?,
        created_at: r.try_get("created_at")?,
        updated_at: row.updated_at,
        latest,
        versions,
    })
}

/// An order, its latest version whole (or version `version_no`).
pub async fn get(db: &Db, caller: &Caller, id: i64, version_no: Option<i64>) -> Result<OrderView> {
    let mut conn = db.pool.acquire().await?;
    let r = row_scoped(&mut conn, Some(caller), id).await?;
    full_view(&mut conn, Some(caller), &r, version_no).await
}

/// The order version a sign-off request asks about, whole, and the version before it (to mark
/// what changed). The caller was shown the request (`approvals::get`), so the order is read
/// without the account's scope: a decider sees what they decide on.
pub async fn for_approval(db: &Db, caller: &Caller, approval_id: i64) -> Result<(OrderView, Option<VersionView>)> {
    let mut conn = db.pool.acquire().await?;
    let r = sqlx::query("SELECT order_id, version_no FROM order_versions WHERE approval_id = $1")
        .bind(approval_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(Error::NotFound)?;
    let (oid, n): (i64, i64) = (r.try_get("order_id")?, r.try_get("version_no")?);
    let row = row_scoped(&mut conn, None, oid).await?;
    let v = full_view(&mut conn, Some(caller), &row, Some(n)).await?;
    let before = if n > 1 { Some(version_view(&mut conn, Some(caller), oid, n - 1).await?) } else { None };
    Ok((v, before))
}

/// A list's filter.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub account_id: Option<i64>,
    pub opportunity_id: Option<i64>,
    /// Username of the order's author.
    pub owner: Option<String>,
    pub state: Option<String>,
    /// Requested delivery on or before this date.
    pub delivery_before: Option<String>,
    /// Number, contract number or account name.
    pub q: Option<String>,
    /// `-updated` (default), `updated`, `total`, `-total`, `delivery`.
    pub sort: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

pub const SORTS: &[&str] = &["-updated", "updated", "total", "-total", "delivery"];

fn sort_key(sort: Option<&str>) -> Result<(&'static str, bool, bool)> {
    // (column, is text, descending)
    Ok(match sort.unwrap_or("-updated") {
        "-updated" => ("d.updated_at", true, true),
        "updated" => ("d.updated_at", true, false),
        "total" => ("d.total", false, false),
        "-total" => ("d.total", false, true),
        "delivery" => ("COALESCE(d.requested_delivery, '9999-12-31')", true, false),
        _ => return Err(Error::invalid("sort", "invalid_choice")),
    })
}

fn parse_date(v: &str) -> Result<String, &'static str> {
    chrono::NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
        .map(|d| d.format("%Y-%m-%d").to_string())
        .map_err(|_| "date_format")
}

pub async fn list(db: &Db, caller: &Caller, f: &Filter) -> Result<Page<OrderRow>> {
    let limit = clamp_limit(f.limit)?;
    let (col, is_text, desc) = sort_key(f.sort.as_deref())?;
    let mut s = Sql::new(ROW_SELECT);
    s.push(" WHERE 1 = 1");
    if let Some(owner) = f.owner.as_deref().map(str::trim).filter(|o| !o.is_empty()) {
        s.push(" AND d.owner_id = (SELECT id FROM users WHERE username = ").bind(owner.to_string()).push(")");
    }
    if let Some(a) = f.account_id {
        s.push(" AND d.account_id = ").bind(a);
    }
    if let Some(x) = f.opportunity_id {
        s.push(" AND d.opportunity_id = ").bind(x);
    }
    accounts::push_scope(&mut s, caller);
    if let Some(st) = f.state.as_deref().filter(|s| !s.is_empty()) {
        let st = OrderState::parse(st).map_err(|c| Error::invalid("state", c))?;
        s.push(" AND d.state = ").bind(st.code());
    }
    if let Some(d) = f.delivery_before.as_deref().filter(|d| !d.trim().is_empty()) {
        let d = parse_date(d).map_err(|c| Error::invalid("delivery_before", c))?;
        s.push(" AND d.requested_delivery <= ").bind(d);
    }
    if let Some(qs) = text::search(f.q.as_deref()).map_err(|c| Error::invalid("q", c))? {
        let pat = text::like_pattern(qs);
        s.push(" AND (d.number LIKE ").bind(pat.clone()).push(" OR d.contract_no LIKE ").bind(pat.clone());
        s.push(" OR a.name LIKE ").bind(pat).push(")");
    }
    if let Some(c) = &f.cursor {
        let (k, id) = decode_cursor(c)?;
        let bad = || Error::invalid("cursor", "invalid_cursor");
        let op = if desc { "<" } else { ">" };
        let key = |s: &mut Sql| -> Result<()> {
            if is_text {
                s.bind(k.as_str().ok_or_else(bad)?.to_string());
            } else {
                s.bind(k.as_i64().ok_or_else(bad)?);
            }
            Ok(())
        };
        s.push(&format!(" AND ({col} {op} "));
        key(&mut s)?;
        s.push(&format!(" OR ({col} = "));
        key(&mut s)?;
        s.push(&format!(" AND d.id {op} ")).bind(id).push("))");
    }
    let dir = if desc { "DESC" } else { "ASC" };
    s.push(&format!(" ORDER BY {col} {dir}, d.id {dir} LIMIT ")).bind(limit + 1);
    let rows = s.query().fetch_all(&db.pool).await?;
    let mut items = vec![];
    let mut last_key = None;
    for r in rows.iter().take(limit as usize) {
        items.push(row_view(r)?);
        last_key = Some(match col {
            "d.total" => json!(r.try_get::<i64, _>("total")?),
            "d.updated_at" => json!(r.try_get::<String, _>("updated_at")?),
            _ => json!(r.try_get::<Option<String>, _>("requested_delivery")?.unwrap_or_else(|| "9999-12-31".into())),
        });
    }
    let next_cursor = match (rows.len() as i64 > limit, items.last(), last_key) {
        (true, Some(v), Some(k)) => Some(encode_cursor(k, v.id)),
        _ => None,
    };
    Ok(Page { items, next_cursor })
}

/// The orders of an account the caller was shown to see, newest first.
pub async fn of_account(db: &Db, seen: accounts::Seen) -> Result<Vec<OrderRow>> {
    let mut s = Sql::new(ROW_SELECT);
    s.push(" WHERE d.account_id = ").bind(seen.id()).push(" ORDER BY d.id DESC LIMIT 200");
    s.query().fetch_all(&db.pool).await?.iter().map(row_view).collect()
}

/// An opportunity's orders, newest first (the opportunity in scope, not found otherwise; each
/// order seen as its account is).
pub async fn of_opportunity(db: &Db, caller: &Caller, opportunity_id: i64) -> Result<Vec<OrderRow>> {
    opportunities::get(db, caller, opportunity_id).await?;
    let mut s = Sql::new(ROW_SELECT);
    s.push(" WHERE d.opportunity_id = ").bind(opportunity_id);
    accounts::push_scope_one(&mut s, caller);
    s.push(" ORDER BY d.id DESC LIMIT 200");
    s.query().fetch_all(&db.pool).await?.iter().map(row_view).collect()
}

/// The orders of a list as a spreadsheet (every row the filter gives, up to 50,000): amounts
/// and counts as numbers, states by their label.
pub async fn export_rows(db: &Db, caller: &Caller, f: &Filter) -> Result<Vec<OrderRow>> {
    let mut out = vec![];
    let mut f = Filter { limit: Some(crate::app::MAX_LIMIT), cursor: None, ..f.clone() };
    loop {
        let page = list(db, caller, &f).await?;
        out.extend(page.items);
        match page.next_cursor {
            Some(c) if out.len() < 50_000 => f.cursor = Some(c),
            _ => break,
        }
    }
    Ok(out)
}

/// The list as a spreadsheet table: amounts as money cells, the line count as a number, the
/// state as a code the download labels.
pub fn table(rows: &[OrderRow]) -> crate::app::spreadsheets::export::Table {
    let keys = vec![
        "order_number",
        "account_name",
        "order_state",
        "current_version",
        "contract_no",
        "requested_delivery",
        "total",
        "amount_signed",
        "line_count",
        "owner_name",
        "updated_at",
    ];
    let rows = rows
        .iter()
        .map(|r| {
            vec![
                r.number.clone(),
                r.account_name.clone(),
                r.state.code().to_string(),
                r.current_version.to_string(),
                r.contract_no.clone().unwrap_or_default(),
                r.requested_delivery.clone().unwrap_or_default(),
                r.total.clone(),
                r.signed_total.clone().unwrap_or_default(),
                r.line_count.to_string(),
                r.owner_name.clone(),
                r.updated_at.clone(),
            ]
        })
        .collect();
    crate::app::spreadsheets::export::Table { keys, rows }
}

// ---------------------------------------------------------------------------------------------
// Writing

/// The header of a version as stored.
#[derive(Debug, Clone, Default, PartialEq)]
struct Header {
    contract_no: Option<String>,
    requested_delivery: Option<String>,
    payment_terms: Vec<OrderInstallment>,
    notes: Option<String>,
}

/// Checks the input against `base` (the version it revises, an accepted quote's content, or
/// nothing) and the catalogue; every refusal names its field (and row). Returns the header and
/// the priced lines.
async fn prepare(
    conn: &mut sqlx::AnyConnection,
    inp: &OrderIn,
    base: Header,
    base_lines: Option<Vec<LineInput>>,
) -> Result<(Header, Vec<Line>)> {
    let mut e = Errors::default();
    let mut h = base;
    let mut opt = |field: &str, v: &Option<String>, max: usize, into: &mut Option<String>| {
        if let Some(v) = v {
            match text::optional(Some(v), max) {
                Ok(t) => *into = t,
                Err(c) => e.add(field, c),
            }
        }
    };
    opt("contract_no", &inp.contract_no, 100, &mut h.contract_no);
    opt("notes", &inp.notes, 4000, &mut h.notes);
    if let Some(d) = &inp.requested_delivery {
        if d.trim().is_empty() {
            h.requested_delivery = None;
        } else {
            match parse_date(d) {
                Ok(d) => h.requested_delivery = Some(d),
                Err(c) => e.add("requested_delivery", c),
            }
        }
    }
    if let Some(terms) = &inp.payment_terms {
        let mut items = vec![];
        for (i, t) in terms.iter().enumerate() {
            let percent = parse_bp(t.percent.trim().trim_end_matches('%'));
            let due = match t.due.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
                None => Ok((0, DueEvent::default_for(t.kind))),
                Some(d) => o::parse_due(d),
            };
            if let Err(c) = percent {
                e.add(&format!("payment_terms[{i}].percent"), c);
            }
            if let Err(c) = due {
                e.add(&format!("payment_terms[{i}].due"), c);
            }
            if let (Ok(bp), Ok((days, event))) = (percent, due) {
                items.push(OrderInstallment { kind: t.kind, percent_bp: bp, days, event });
            }
        }
        if items.len() == terms.len() {
            for (f, c) in o::check_installments(&items) {
                e.add(&f, c);
            }
        } else if terms.len() > o::MAX_INSTALLMENTS {
            e.add("payment_terms", "too_many");
        }
        h.payment_terms = items;
    }
    let inputs: Vec<LineInput> = match &inp.lines {
        None => base_lines.unwrap_or_default(),
        Some(lines) => quotes::line_inputs(conn, lines, &mut e).await?,
    };
    if inputs.is_empty() {
        e.add("lines", "required");
    }
    e.finish()?;
    let mut e = Errors::default();
    let mut lines = Vec::with_capacity(inputs.len());
    for (i, l) in inputs.iter().enumerate() {
        match q::price_line(i, l) {
            Ok(line) => lines.push(line),
            Err(why) => {
                for (f, c) in why {
                    e.add(&f, c);
                }
            }
        }
    }
    e.finish()?;
    if q::totals(&lines).total <= 0 {
        return Err(Error::invalid("lines", "order_total_zero"));
    }
    Ok((h, lines))
}

/// Whether the caller may write this account's orders: a sales role that sees the account.
async fn may_order(conn: &mut sqlx::AnyConnection, caller: &Caller, account_id: i64) -> Result<()> {
    accounts::ensure_visible_in(conn, caller, account_id).await?;
    if !caller.role.edits_accounts() {
        return Err(Error::Forbidden);
    }
    Ok(())
}

/// Whether the caller may write this account's orders (the pages' buttons).
pub async fn may_write(db: &Db, caller: &Caller, account_id: i64) -> Result<bool> {
    let mut conn = db.pool.acquire().await?;
    match may_order(&mut conn, caller, account_id).await {
        Ok(()) => Ok(true),
        Err(Error::Forbidden | Error::NotFound) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Where a new order comes from.
#[derive(Debug, Clone, Copy)]
pub enum Origin {
    Account(i64),
    Opportunity(i64),
    Quote(i64),
}

/// Creates an order (version 1, a draft).
pub async fn create(db: &Db, ctx: &Ctx, origin: Origin, inp: &OrderIn) -> Result<OrderView> {
    let mut tx = db.begin().await?;
    let v = create_in(&mut tx, ctx, origin, inp).await?;
    tx.commit().await?;
    Ok(v)
}

pub async fn create_in(tx: &mut WriteTx, ctx: &Ctx, origin: Origin, inp: &OrderIn) -> Result<OrderView> {
    let caller = &ctx.caller;
    let (account_id, opportunity_id, quote_id, base, base_lines) = match origin {
        Origin::Account(a) => (a, None, None, Header::default(), None),
        Origin::Opportunity(oid) => {
            let opp = opportunities::fetch_scoped(tx.conn(), caller, oid).await?;
            if opp.stage != crate::domain::opportunity::Stage::Won {
                return Err(Error::Conflict("opportunity_not_won"));
            }
            (opp.account_id, Some(oid), None, Header::default(), None)
        }
        Origin::Quote(qid) => {
            let a = quotes::accepted_content(tx.conn(), caller, qid).await?;
            let terms = a
                .payment_terms
                .iter()
                .map(|i| OrderInstallment {
                    kind: i.kind,
                    percent_bp: i.percent_bp,
                    days: i.days,
                    event: DueEvent::default_for(i.kind),
                })
                .collect();
            let notes = [a.payment_note.clone(), a.delivery_terms.clone()]
                .into_iter()
                .flatten()
                .filter(|s| !s.trim().is_empty())
                .collect::<Vec<_>>();
            let h = Header {
                payment_terms: terms,
                notes: (!notes.is_empty()).then(|| notes.join("\n")),
                ..Header::default()
            };
            (a.account_id, Some(a.opportunity_id), Some(qid), h, Some(a.lines))
        }
    };
    if inp.account_id.is_some_and(|a| a != account_id) {
        return Err(Error::invalid("account_id", "not_allowed"));
    }
    may_order(tx.conn(), caller, account_id).await?;
    let (h, lines) = prepare(tx.conn(), inp, base, base_lines).await?;
    let t = q::totals(&lines);
    let at = now();
    let id: i64 = sqlx::query(
        "INSERT INTO orders (number, account_id, opportunity_id, quote_id, owner_id, contract_no, requested_delivery, \
         current_version, state, total, line_count, version, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 1, 'draft', $8, $9, 1, $10, $11, $11) RETURNING id",
    )
    .bind(format!("tmp-{}-{}", ctx.request_id, at))
    .bind(account_id)
    .bind(opportunity_id)
    .bind(quote_id)
    .bind(caller.user_id)
    .bind(h.contract_no.clone())
    .bind(h.requested_delivery.clone())
    .bind(t.total)
    .bind(lines.len() as i64)
    .bind(caller.username.as_str())
    .bind(at.clone())
    .fetch_one(tx.conn())
    .await?
    .try_get("id")?;
    // The number: SO + the year + the id, given once the id is known.
    let number = format!("SO{}-{:06}", &caller.today()[..4], id);
    sqlx::query("UPDATE orders SET number = $1 WHERE id = $2").bind(number).bind(id).execute(tx.conn()).await?;
    write_version(tx, id, 1, VState::Draft, &h, &lines, &t, &caller.username, &at).await?;
    let r = row_scoped(tx.conn(), None, id).await?;
    let view = full_view(tx.conn(), Some(caller), &r, None).await?;
    audit::record(tx, ctx, "order", &id.to_string(), "create", None, Some(&audit_json(&view))).await?;
    Ok(view)
}

/// The order as the audit trail keeps it: the header, the figures and the lines in short.
fn audit_json(v: &OrderView) -> Value {
    json!({
        "order_number": v.number,
        "order_state": v.state,
        "version_no": v.latest.version_no,
        "contract_no": v.latest.contract_no,
        "requested_delivery": v.latest.requested_delivery,
        "total": v.latest.total,
        "payment_terms": v.latest.payment_terms.iter().map(|t| format!("{} {}% {}", t.kind.code(), t.percent, t.due)).collect::<Vec<_>>().join("; "),
        "lines": v.latest.lines.iter().map(|l| json!({
            "description": l.description, "quantity": l.quantity, "unit_price": l.unit_price, "amount": l.amount
        })).collect::<Vec<_>>(),
    })
}

/// Writes a version's row and its lines.
#[allow(clippy::too_many_arguments)]
async fn write_version(
    tx: &mut WriteTx,
    order_id: i64,
    version_no: i64,
    state: VState,
    h: &Header,
    lines: &[Line],
    t: &Totals,
    by: &str,
    at: &str,
) -> Result<i64> {
    let complete = lines.iter().all(|l| l.cost.is_some());
    let vid: i64 = sqlx::query(
        "INSERT INTO order_versions (order_id, version_no, state, contract_no, requested_delivery, payment_terms, notes, \
         total, total_excl, tax, cost, cost_complete, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id",
    )
    .bind(order_id)
    .bind(version_no)
    .bind(state.code())
    .bind(h.contract_no.clone())
    .bind(h.requested_delivery.clone())
    .bind(serde_json::to_string(&h.payment_terms).map_err(anyhow::Error::from)?)
    .bind(h.notes.clone())
    .bind(t.total)
    .bind(t.total_excl)
    .bind(t.tax)
    .bind(t.cost)
    .bind(complete as i64)
    .bind(by)
    .bind(at)
    .fetch_one(tx.conn())
    .await?
    .try_get("id")?;
    write_lines(tx, vid, lines).await?;
    Ok(vid)
}

/// The columns of `order_lines` a line is written with (also the dataset's bulk writer).
pub(crate) const LINE_COLUMNS: &str = "INSERT INTO order_lines (version_id, position, product_id, product_code, description, \
     specification, unit, quantity, list_price, unit_price, discount_bp, amount, tax_rate_bp, amount_excl, tax, cost) VALUES ";

async fn write_lines(tx: &mut WriteTx, vid: i64, lines: &[Line]) -> Result<()> {
    let mut ins = Inserter::new(tx.backend(), LINE_COLUMNS, vec![], 16);
    for (i, l) in lines.iter().enumerate() {
        ins.row(
            tx,
            vec![
                v(vid),
                v(i as i64),
                v(l.product_id),
                v(l.product_code.clone()),
                v(l.description.clone()),
                v(l.specification.clone()),
                v(l.unit.clone()),
                v(l.quantity),
                v(l.list_price),
                v(l.unit_price),
                v(l.discount_bp),
                v(l.amount),
                v(l.tax_rate_bp),
                v(l.amount_excl),
                v(l.tax),
                v(l.cost),
            ],
        )
        .await?;
    }
    ins.flush(tx).await?;
    Ok(())
}

/// The stored header and line inputs of a version (the base of a revision).
async fn stored(
    conn: &mut sqlx::AnyConnection,
    order_id: i64,
    version_no: i64,
) -> Result<(i64, Header, Vec<LineInput>)> {
    let r = sqlx::query("SELECT * FROM order_versions WHERE order_id = $1 AND version_no = $2")
        .bind(order_id)
        .bind(version_no)
        .fetch_one(&mut *conn)
        .await?;
    let vid: i64 = r.try_get("id")?;
    let h = Header {
        contract_no: r.try_get("contract_no")?,
        requested_delivery: r.try_get("requested_delivery")?,
        payment_terms: installments_of(&r.try_get::<String, _>("payment_terms")?),
        notes: r.try_get("notes")?,
    };
    let rows = sqlx::query("SELECT * FROM order_lines WHERE version_id = $1 ORDER BY position")
        .bind(vid)
        .fetch_all(&mut *conn)
        .await?;
    let lines = quotes::stored_line_inputs(conn, &rows).await?;
    Ok((vid, h, lines))
}

/// Locks the order's row for a change and checks the caller may make it.
async fn lock(tx: &mut WriteTx, caller: &Caller, id: i64) -> Result<AnyRow> {
    let r = row_scoped(tx.conn(), Some(caller), id).await?;
    let lock = tx.lock_clause(RowLock::Update);
    sqlx::query(&format!("SELECT id FROM orders WHERE id = $1{lock}")).bind(id).fetch_one(tx.conn()).await?;
    may_order(tx.conn(), caller, r.try_get("account_id")?).await?;
    // Read again under the lock: a change that committed meanwhile is seen.
    row_scoped(tx.conn(), None, id).await
}

fn check_version(r: &AnyRow, given: Option<i64>) -> Result<()> {
    let current: i64 = r.try_get("version")?;
    match given {
        None => Err(Error::invalid("version", "required")),
        Some(v) if v != current => Err(Error::StaleVersion { current }),
        Some(_) => Ok(()),
    }
}

/// Revises an order: a draft in place; a pending or signed order as version n + 1, submitted
/// for sign-off again at once (a pending version superseded and its request cancelled; a
/// signed version stays in force until the new one is signed).
pub async fn revise(db: &Db, ctx: &Ctx, id: i64, inp: &OrderIn) -> Result<OrderView> {
    let caller = &ctx.caller;
    if inp.account_id.is_some() {
        return Err(Error::invalid("account_id", "not_allowed"));
    }
    let mut tx = db.begin().await?;
    let r = lock(&mut tx, caller, id).await?;
    check_version(&r, inp.version)?;
    let state: OrderState = r.try_get("state")?;
    if state.is_final() {
        return Err(Error::Conflict("order_cancelled"));
    }
    let cur: i64 = r.try_get("current_version")?;
    let before = full_view(tx.conn(), Some(caller), &r, None).await?;
    let (vid, base, base_lines) = stored(tx.conn(), id, cur).await?;
    let (h, lines) = prepare(tx.conn(), inp, base, Some(base_lines)).await?;
    let t = q::totals(&lines);
    let at = now();
    if state == OrderState::Draft {
        let kept = sqlx::query("SELECT approval_id, returned_reason FROM order_versions WHERE id = $1")
            .bind(vid)
            .fetch_one(tx.conn())
            .await?;
        let (aid, why): (Option<i64>, Option<String>) =
            (kept.try_get("approval_id")?, kept.try_get("returned_reason")?);
        sqlx::query("DELETE FROM order_lines WHERE version_id = $1").bind(vid).execute(tx.conn()).await?;
        sqlx::query("DELETE FROM order_versions WHERE id = $1").bind(vid).execute(tx.conn()).await?;
        let nvid = write_version(&mut tx, id, cur, VState::Draft, &h, &lines, &t, &caller.username, &at).await?;
        sqlx::query("UPDATE order_versions SET approval_id = $1, returned_reason = $2 WHERE id = $3")
            .bind(aid)
            .bind(why)
            .bind(nvid)
            .execute(tx.conn())
            .await?;
        update_row(&mut tx, id, cur, OrderState::Draft, &h, &t, lines.len(), &at).await?;
    } else {
        let next = cur + 1;
        if state == OrderState::Pending {
            sqlx::query("UPDATE order_versions SET state = 'superseded', closed_at = $1 WHERE id = $2")
                .bind(at.clone())
                .bind(vid)
                .execute(tx.conn())
                .await?;
            approvals::cancel_pending(&mut tx, ctx, Flow::OrderSignoff, "order", id, "decisive_changed", Utc::now())
                .await?;
        }
        write_version(&mut tx, id, next, VState::Draft, &h, &lines, &t, &caller.username, &at).await?;
        update_row(&mut tx, id, next, OrderState::Draft, &h, &t, lines.len(), &at).await?;
        // The credit check first: a held version stays a draft until a credit decision.
        if credit_check::check(&mut tx, ctx, id, CreditStage::Submit).await?.is_none() {
            submit_latest(&mut tx, ctx, id).await?;
        }
    }
    let r = row_scoped(tx.conn(), None, id).await?;
    let after = full_view(tx.conn(), Some(caller), &r, None).await?;
    // A version signed at once changes what the opportunity books.
    if after.signed_version != before.signed_version {
        rebook(&mut tx, ctx, id).await?;
    }
    audit::record(
        &mut tx,
        ctx,
        "order",
        &id.to_string(),
        "update",
        Some(&audit_json(&before)),
        Some(&audit_json(&after)),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

#[allow(clippy::too_many_arguments)]
async fn update_row(
    tx: &mut WriteTx,
    id: i64,
    version_no: i64,
    state: OrderState,
    h: &Header,
    t: &Totals,
    line_count: usize,
    at: &str,
) -> Result<()> {
    sqlx::query(
        "UPDATE orders SET current_version = $1, state = $2, contract_no = $3, requested_delivery = $4, total = $5, \
         line_count = $6, version = version + 1, updated_at = $7 WHERE id = $8",
    )
    .bind(version_no)
    .bind(state.code())
    .bind(h.contract_no.clone())
    .bind(h.requested_delivery.clone())
    .bind(t.total)
    .bind(line_count as i64)
    .bind(at)
    .bind(id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The approval subject of an order (its latest version, or the figure given).
async fn subject_of(tx: &mut WriteTx, id: i64, figure: Option<Figure>) -> Result<Subject> {
    Subject::of_versioned(tx, "order", "orders", id, figure).await
}

/// Submits the latest version (a draft) for sign-off: within the requester's own authority it
/// is signed at once; otherwise an `order_signoff` request starts and the version waits.
async fn submit_latest(tx: &mut WriteTx, ctx: &Ctx, id: i64) -> Result<OrderState> {
    let r = sqlx::query(
        "SELECT v.id, v.version_no, v.total FROM order_versions v JOIN orders d ON d.id = v.order_id \
         AND v.version_no = d.current_version WHERE d.id = $1",
    )
    .bind(id)
    .fetch_one(tx.conn())
    .await?;
    let (vid, version_no, total): (i64, i64, i64) = (r.try_get("id")?, r.try_get("version_no")?, r.try_get("total")?);
    let (_, def) = approvals::definition(tx.conn(), Flow::OrderSignoff).await?;
    let figure = Figure { value: total, floor: o::own_authority(ctx.caller.role, &def) };
    let at = now();
    let state = if !def.steps.iter().any(|s| s.applies(Some(figure))) {
        sign_version(tx, id, vid, version_no, total, &at, true).await?;
        OrderState::Signed
    } else {
        let subject = subject_of(tx, id, Some(figure)).await?;
        let decisive = json!({"version_no": version_no, "total": format_fen(total)});
        let payload = json!({"version_no": version_no, "total": format_fen(total)});
        let aid = approvals::start(tx, ctx, Flow::OrderSignoff, &subject, &decisive, &payload, Utc::now()).await?;
        sqlx::query(
            "UPDATE order_versions SET state = 'pending', within_authority = 0, submitted_at = $1, approval_id = $2, \
             returned_reason = NULL WHERE id = $3",
        )
        .bind(at.clone())
        .bind(aid)
        .bind(vid)
        .execute(tx.conn())
        .await?;
        sqlx::query("UPDATE orders SET state = 'pending', version = version + 1, updated_at = $1 WHERE id = $2")
            .bind(at)
            .bind(id)
            .execute(tx.conn())
            .await?;
        OrderState::Pending
    };
    Ok(state)
}

/// Marks a version signed: it is in force; an earlier signed version is superseded.
async fn sign_version(
    tx: &mut WriteTx,
    id: i64,
    vid: i64,
    version_no: i64,
    total: i64,
    at: &str,
    at_once: bool,
) -> Result<()> {
    sqlx::query(
        "UPDATE order_versions SET state = 'superseded', closed_at = $1 WHERE order_id = $2 AND state = 'signed'",
    )
    .bind(at)
    .bind(id)
    .execute(tx.conn())
    .await?;
    let mut s = Sql::new("UPDATE order_versions SET state = 'signed', signed_at = ");
    s.bind(at.to_string()).push(", returned_reason = NULL");
    if at_once {
        s.push(", within_authority = 1, submitted_at = ").bind(at.to_string());
    }
    s.push(" WHERE id = ").bind(vid);
    s.query().execute(tx.conn()).await?;
    sqlx::query(
        "UPDATE orders SET state = 'signed', signed_version = $1, signed_total = $2, signed_at = $3, \
         version = version + 1, updated_at = $3 WHERE id = $4 AND current_version = $1",
    )
    .bind(version_no)
    .bind(total)
    .bind(at)
    .bind(id)
    .execute(tx.conn())
    .await?;
    signed_figures(tx, id).await?;
    // Delivery counts against the version in force (a new one may order more), then the signed
    // terms become the order's receivables (their events' days read from it).
    crate::app::orders::deliveries::on_signed(tx, id).await?;
    crate::app::orders::receivables::on_signed(tx, id).await?;
    Ok(())
}

/// The months' signed actuals of the order's account (`funnel::months`), after the order was
/// signed or cancelled.
pub(crate) async fn signed_figures(tx: &mut WriteTx, order_id: i64) -> Result<()> {
    let account = crate::app::orders::aging_summary::account_of(tx, order_id).await?;
    crate::app::customers::derived::refresh(tx, account, "", crate::app::customers::derived::Change::Orders).await
}

/// The order's won opportunity books the sum of its signed orders (or, none left, the amount
/// it was won with).
async fn rebook(tx: &mut WriteTx, ctx: &Ctx, order_id: i64) -> Result<()> {
    let r = sqlx::query("SELECT opportunity_id, account_id FROM orders WHERE id = $1")
        .bind(order_id)
        .fetch_one(tx.conn())
        .await?;
    let Some(opp) = r.try_get::<Option<i64>, _>("opportunity_id")? else { return Ok(()) };
    // The account's lock first (the order every write of its figures takes): two orders of one
    // opportunity signed at once are summed one after the other, each seeing the other.
    crate::app::customers::derived::lock(tx, r.try_get("account_id")?).await?;
    let r = sqlx::query(
        "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(signed_total), 0) AS BIGINT) AS total FROM orders \
         WHERE opportunity_id = $1 AND state <> 'cancelled' AND signed_total IS NOT NULL",
    )
    .bind(opp)
    .fetch_one(tx.conn())
    .await?;
    let n: i64 = r.try_get("n")?;
    let sum: i64 = r.try_get("total")?;
    opportunities::book_orders_in(tx, ctx, opp, (n > 0).then_some(sum)).await
}

/// What a state change asks for.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = OrderAction)]
pub struct Action {
    /// The order's row version the caller saw.
    pub version: i64,
    /// Cancel: why (required).
    #[serde(default)]
    pub reason: Option<String>,
}

/// Submits a draft for sign-off (signed at once within the requester's own authority).
pub async fn submit(db: &Db, ctx: &Ctx, id: i64, a: &Action) -> Result<OrderView> {
    let caller = &ctx.caller;
    let mut tx = db.begin().await?;
    let r = lock(&mut tx, caller, id).await?;
    check_version(&r, Some(a.version))?;
    let state: OrderState = r.try_get("state")?;
    if state != OrderState::Draft {
        return Err(Error::Conflict("order_not_draft"));
    }
    // A held order (or an order of a held account) waits for finance's release (§12.5).
    crate::app::orders::holds::ensure_clear(tx.conn(), r.try_get("account_id")?, Some(id)).await?;
    let cur: i64 = r.try_get("current_version")?;
    // The credit check: an order it holds stays a draft, held for a credit decision; the hold is
    // kept (the answer is the order, `held_for_credit` true), and no sign-off starts.
    if credit_check::check(&mut tx, ctx, id, CreditStage::Submit).await?.is_some() {
        let r = row_scoped(tx.conn(), None, id).await?;
        let after = full_view(tx.conn(), Some(caller), &r, None).await?;
        tx.commit().await?;
        return Ok(after);
    }
    let next = submit_latest(&mut tx, ctx, id).await?;
    if next == OrderState::Signed {
        rebook(&mut tx, ctx, id).await?;
    }
    let r = row_scoped(tx.conn(), None, id).await?;
    let after = full_view(tx.conn(), Some(caller), &r, None).await?;
    audit::record(
        &mut tx,
        ctx,
        "order",
        &id.to_string(),
        "submit",
        Some(&json!({"order_state": state, "version_no": cur})),
        Some(&json!({"order_state": after.state, "version_no": cur, "total": after.latest.total})),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Cancels the order (a reason required): a pending request is withdrawn, and the order no
/// longer counts for its opportunity's booked amount.
pub async fn cancel(db: &Db, ctx: &Ctx, id: i64, a: &Action) -> Result<OrderView> {
    let caller = &ctx.caller;
    let reason = text::optional(a.reason.as_deref(), 1000).map_err(|c| Error::invalid("reason", c))?;
    let Some(reason) = reason else { return Err(Error::invalid("reason", "required")) };
    let mut tx = db.begin().await?;
    let r = lock(&mut tx, caller, id).await?;
    check_version(&r, Some(a.version))?;
    let after = cancel_in(&mut tx, ctx, &r, &reason).await?;
    tx.commit().await?;
    Ok(after)
}

/// Submits the latest version of an order a credit decision released (in the decision's
/// transaction, the order's row locked): `ctx` is the one who submitted it, whose own authority
/// counts as at their submission. The version must still be a draft.
pub(crate) async fn submit_released(tx: &mut WriteTx, ctx: &Ctx, id: i64) -> Result<OrderState> {
    let r = row_scoped(tx.conn(), None, id).await?;
    let state: OrderState = r.try_get("state")?;
    let cur: i64 = r.try_get("current_version")?;
    let vstate: VState = sqlx::query("SELECT state FROM order_versions WHERE order_id = $1 AND version_no = $2")
        .bind(id)
        .bind(cur)
        .fetch_one(tx.conn())
        .await?
        .try_get("state")?;
    if vstate != VState::Draft {
        return Ok(state);
    }
    let next = submit_latest(tx, ctx, id).await?;
    if next == OrderState::Signed {
        rebook(tx, ctx, id).await?;
    }
    audit::record(
        tx,
        ctx,
        "order",
        &id.to_string(),
        "submit",
        Some(&json!({"order_state": state, "version_no": cur})),
        Some(&json!({"order_state": next, "version_no": cur})),
    )
    .await?;
    Ok(next)
}

/// Cancels a credit-held order its credit decision rejected, with the decider's reason (in the
/// decision's transaction; the decider need not write orders).
pub(crate) async fn cancel_rejected(tx: &mut WriteTx, ctx: &Ctx, id: i64, reason: &str) -> Result<OrderState> {
    let lock = tx.lock_clause(RowLock::Update);
    sqlx::query(&format!("SELECT id FROM orders WHERE id = $1{lock}")).bind(id).fetch_one(tx.conn()).await?;
    let r = row_scoped(tx.conn(), None, id).await?;
    if r.try_get::<OrderState, _>("state")?.is_final() {
        return Ok(OrderState::Cancelled);
    }
    Ok(cancel_in(tx, ctx, &r, reason).await?.state)
}

/// Cancels the order read in `r` (its row locked) with `reason`.
async fn cancel_in(tx: &mut WriteTx, ctx: &Ctx, r: &AnyRow, reason: &str) -> Result<OrderView> {
    let caller = &ctx.caller;
    let id: i64 = r.try_get("id")?;
    let reason = reason.to_string();
    let state: OrderState = r.try_get("state")?;
    if state.is_final() {
        return Err(Error::Conflict("order_cancelled"));
    }
    let cur: i64 = r.try_get("current_version")?;
    let at = now();
    sqlx::query(
        "UPDATE order_versions SET state = 'cancelled', closed_at = $1 WHERE order_id = $2 AND state IN ('draft', 'pending', 'signed')",
    )
    .bind(at.clone())
    .bind(id)
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "UPDATE orders SET state = 'cancelled', cancel_reason = $1, version = version + 1, updated_at = $2 WHERE id = $3",
    )
    .bind(reason.clone())
    .bind(at)
    .bind(id)
    .execute(tx.conn())
    .await?;
    signed_figures(tx, id).await?;
    // The pending request has nothing left to decide (its hook finds the version cancelled).
    approvals::cancel_pending(tx, ctx, Flow::OrderSignoff, "order", id, "withdrawn", Utc::now()).await?;
    // What nobody has paid on is owed no more.
    crate::app::orders::receivables::on_cancelled(tx, id).await?;
    // A hold on this order alone (general or credit) has nothing left to hold: it ends with the
    // cancellation's reason (an account's dunning hold stays).
    let released = sqlx::query(
        "UPDATE order_holds SET released_by = $1, released_at = $2, release_reason = $3, version = version + 1 \
         WHERE order_id = $4 AND released_at IS NULL",
    )
    .bind(caller.username.as_str())
    .bind(now())
    .bind(reason.clone())
    .bind(id)
    .execute(tx.conn())
    .await?
    .rows_affected();
    rebook(tx, ctx, id).await?;
    let r = row_scoped(tx.conn(), None, id).await?;
    let after = full_view(tx.conn(), Some(caller), &r, None).await?;
    audit::record(
        tx,
        ctx,
        "order",
        &id.to_string(),
        "cancel",
        Some(&json!({"order_state": state, "version_no": cur})),
        Some(&json!({"order_state": after.state, "version_no": cur, "reason": reason, "holds_released": released})),
    )
    .await?;
    Ok(after)
}

// ---------------------------------------------------------------------------------------------
// The approval engine's side

/// A sign-off request closed: the version it was asked for is signed (and the opportunity's
/// booked amount follows), or goes back to draft with the decider's reason.
fn on_closed<'a>(tx: &'a mut WriteTx, ctx: &'a Ctx, c: Closed<'a>) -> HookFuture<'a> {
    Box::pin(async move {
        let r = sqlx::query("SELECT id, order_id, version_no, state, total FROM order_versions WHERE approval_id = $1")
            .bind(c.approval_id)
            .fetch_optional(tx.conn())
            .await?;
        let Some(r) = r else { return Ok(()) };
        let state: VState = r.try_get("state")?;
        if state != VState::Pending {
            return Ok(());
        }
        let (vid, oid, n): (i64, i64, i64) = (r.try_get("id")?, r.try_get("order_id")?, r.try_get("version_no")?);
        let at = now();
        if c.state == ApprovalState::Approved {
            sign_version(tx, oid, vid, n, r.try_get("total")?, &at, false).await?;
            rebook(tx, ctx, oid).await?;
            // The credit check at sign-off: the order is signed as approved, and held for a
            // credit decision before anything is delivered when the check fails.
            credit_check::check(tx, ctx, oid, CreditStage::Signoff).await?;
        } else {
            sqlx::query("UPDATE order_versions SET state = 'draft', returned_reason = $1 WHERE id = $2")
                .bind(c.reason.map(str::to_string))
                .bind(vid)
                .execute(tx.conn())
                .await?;
            sqlx::query(
                "UPDATE orders SET state = 'draft', version = version + 1, updated_at = $1 WHERE id = $2 AND current_version = $3",
            )
            .bind(at)
            .bind(oid)
            .bind(n)
            .execute(tx.conn())
            .await?;
        }
        audit::record(
            tx,
            ctx,
            "order",
            &oid.to_string(),
            "signoff",
            Some(&json!({"order_state": "pending", "version_no": n})),
            Some(&json!({"order_state": if c.state == ApprovalState::Approved { "signed" } else { "draft" }, "version_no": n, "approval_id": c.approval_id})),
        )
        .await?;
        Ok(())
    })
}

inventory::submit! { OutcomeHook { flow: Flow::OrderSignoff, run: on_closed } }

/// Whoever sees an order's account sees its requests.
fn sees_order<'a>(conn: &'a mut sqlx::AnyConnection, caller: &'a Caller, id: i64) -> ScopeFuture<'a> {
    Box::pin(async move { approvals::seen(row_scoped(conn, Some(caller), id).await) })
}

inventory::submit! { SubjectScope { kind: "order", sees: sees_order } }

// ---------------------------------------------------------------------------------------------
// The order's files: the signed contract (签字合同) and what goes with it

/// The subject kind of an order's files (and of its audit rows).
pub const FILES_KIND: &str = "order";

/// The order in the caller's scope (a file's read asks no more).
pub(crate) async fn seen(conn: &mut sqlx::AnyConnection, caller: &Caller, id: i64) -> Result<()> {
    row_scoped(conn, Some(caller), id).await.map(|_| ())
}

/// The order's files, oldest first (the order in scope); whoever may write the order may
/// remove one while the order is not cancelled.
pub async fn files(db: &Db, caller: &Caller, id: i64) -> Result<Vec<crate::app::records::attachments::Attachment>> {
    let mut conn = db.pool.acquire().await?;
    let r = row_scoped(&mut conn, Some(caller), id).await?;
    let state: OrderState = r.try_get("state")?;
    let writes = may_order(&mut conn, caller, r.try_get("account_id")?).await.is_ok();
    let mut files = crate::app::records::attachments::of(&mut conn, FILES_KIND, id).await?;
    for f in &mut files {
        f.removable = writes && !state.is_final();
    }
    Ok(files)
}

/// Adds a file to an order (the signed contract's scan), under its latest version: whoever may
/// write the order, while it is not cancelled.
pub async fn attach(
    db: &Db,
    ctx: &Ctx,
    store: &crate::app::records::files::Storage,
    id: i64,
    f: &crate::app::records::attachments::FileIn<'_>,
) -> Result<crate::app::records::attachments::Attachment> {
    let mut tx = db.begin().await?;
    let r = lock(&mut tx, &ctx.caller, id).await?;
    if r.try_get::<OrderState, _>("state")?.is_final() {
        return Err(Error::Conflict("order_cancelled"));
    }
    let n: i64 = r.try_get("current_version")?;
    let a = crate::app::records::attachments::add_in(&mut tx, ctx, store, FILES_KIND, id, Some(n), f).await?;
    tx.commit().await?;
    Ok(crate::app::records::attachments::Attachment { removable: true, ..a })
}

/// Removes an order's file (kept in its history) while the order is not cancelled.
pub async fn detach(db: &Db, ctx: &Ctx, id: i64, file_id: i64) -> Result<()> {
    let mut tx = db.begin().await?;
    let r = lock(&mut tx, &ctx.caller, id).await?;
    crate::app::records::attachments::one(tx.conn(), FILES_KIND, id, file_id).await?;
    if r.try_get::<OrderState, _>("state")?.is_final() {
        return Err(Error::Conflict("attachment_fixed"));
    }
    crate::app::records::attachments::remove_in(&mut tx, ctx, FILES_KIND, id, file_id).await?;
    tx.commit().await?;
    Ok(())
}
