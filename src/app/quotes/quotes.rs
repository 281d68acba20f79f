//! Quotes (商务报价, seed 000 S-5 and its 商务报价模板; docs/DOMAIN.md M6). A quote belongs to an
//! opportunity and is revised in versions: a draft is edited in place; editing a version that
//! was submitted (pending, approved or sent) makes version n + 1 and submits it again, so an
//! approved or sent version never changes. Submitting checks the discount authority (kept in
//! the `discount_exception` flow): within the author's limit the version is approved at once;
//! beyond it the flow's conditional steps climb to the first level whose limit covers it, and a
//! price below a floor price reaches the commercial manager. Only an approved version is sent;
//! a sent version the customer accepts ticks the opportunity's `quote_approved` and may set its
//! amount. One quote is current per opportunity.
//!
//! Scope: a quote is visible to whoever sees its opportunity.
use crate::app::records::files::Storage;

use chrono::{Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::app::approvals::{self, Closed, HookFuture, OutcomeHook, ScopeFuture, Subject, SubjectScope};
use crate::app::customers::visibility::Probe;
use crate::app::funnel::opportunities;
use crate::app::records::attachments::{self, Attachment, FileIn};
use crate::app::records::{audit, input::Input};
use crate::app::{clamp_limit, Caller, Ctx, Error, Page, Result};
use crate::db::bulk::{v, Inserter};
use crate::db::sql::Sql;
use crate::db::{now, Db, RowLock, WriteTx};
use crate::domain::approval::{Figure, Flow, State as ApprovalState};
use crate::domain::error::Errors;
use crate::domain::money::{format_bp, format_fen, parse_amount, parse_bp, parse_fen};
use crate::domain::quote::{
    self as q, format_quantity, Installment, InstallmentKind, Line, LineInput, ProductFacts, QuoteState, Totals,
};
use crate::domain::text;

/// Days a new quote is valid when no date is given (the company's choice; the seed gives none).
pub const DEFAULT_VALID_DAYS: i64 = 30;

/// A line as the API and the form give it: amounts as decimal strings (the form also takes
/// `1,280,000` and `128万`), the discount as a percentage (`12` or `12.5`), the quantity as a
/// decimal with at most three places. Give the unit price or the discount; the other follows.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineIn {
    /// A product of the catalogue; its name, unit, list price, tax rate and floor price apply.
    #[serde(default)]
    pub product_id: Option<i64>,
    /// The product by its code (instead of `product_id`).
    #[serde(default)]
    pub product_code: Option<String>,
    /// Free text (a product line defaults to the product's name).
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub specification: Option<String>,
    #[serde(default)]
    pub unit: Option<String>,
    /// Decimal, above zero, at most three places.
    #[schema(example = "2")]
    pub quantity: String,
    /// A free-text line's list price (a product line takes the catalogue's).
    #[serde(default)]
    #[schema(pattern = r"^\d{1,15}(\.\d{1,2})?$")]
    pub list_price: Option<String>,
    /// Tax-inclusive unit price.
    #[serde(default)]
    #[schema(pattern = r"^\d{1,15}(\.\d{1,2})?$")]
    pub unit_price: Option<String>,
    /// Discount off the list price in percent (0–100, two decimals).
    #[serde(default)]
    #[schema(pattern = r"^\d{1,3}(\.\d{1,2})?$")]
    pub discount: Option<String>,
    /// The line total; when given it must equal quantity × unit price.
    #[serde(default)]
    #[schema(pattern = r"^\d{1,15}(\.\d{1,2})?$")]
    pub amount: Option<String>,
    /// Tax rate in percent (default: the product's, else 13).
    #[serde(default)]
    #[schema(pattern = r"^\d{1,3}(\.\d{1,2})?$")]
    pub tax_rate: Option<String>,
}

/// One installment of the payment terms as given.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InstallmentIn {
    pub kind: InstallmentKind,
    /// Share of the total in percent (`30`).
    #[schema(pattern = r"^\d{1,3}(\.\d{1,2})?$")]
    pub percent: String,
    /// Due this many days after its event.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 720)]
    pub days: i64,
}

/// A quote's content as given (create, revise). Absent header fields keep their value on a
/// revision; `lines` and `payment_terms`, when given, replace the old ones whole.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteIn {
    /// The quote's version this revision starts from (required to revise).
    #[serde(default)]
    pub version: Option<i64>,
    #[serde(default)]
    pub title: Option<String>,
    /// A contact of the account; name, title and phone follow unless given.
    #[serde(default)]
    pub contact_id: Option<i64>,
    #[serde(default)]
    pub contact_name: Option<String>,
    #[serde(default)]
    pub contact_title: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub fax: Option<String>,
    /// Default today.
    #[serde(default)]
    #[schema(format = Date)]
    pub quote_date: Option<String>,
    /// Default 30 days after the quote date.
    #[serde(default)]
    #[schema(format = Date)]
    pub valid_until: Option<String>,
    #[serde(default)]
    #[schema(max_items = 500)]
    pub lines: Option<Vec<LineIn>>,
    #[serde(default)]
    #[schema(max_items = 10)]
    pub payment_terms: Option<Vec<InstallmentIn>>,
    /// Payment terms in words, beside or instead of the installments.
    #[serde(default)]
    pub payment_note: Option<String>,
    #[serde(default)]
    pub delivery_terms: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
}

/// A priced line.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub unit_price: String,
    /// Percent off the list price (rounded up to 0.01).
    pub discount: String,
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub amount: String,
    pub tax_rate: String,
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub amount_excl: String,
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub tax: String,
    /// The unit price is below the product's floor price.
    pub below_floor: bool,
    /// The floor price (commercial, finance and director roles only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false, pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub floor_price: Option<String>,
    /// quantity × standard cost (those who see floor prices only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false, pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub cost: Option<String>,
}

/// One installment.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InstallmentView {
    pub kind: InstallmentKind,
    pub percent: String,
    pub days: i64,
    /// The installment's share of the tax-inclusive total.
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub amount: String,
}

/// One version of a quote, whole.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VersionView {
    pub version_no: i64,
    pub state: QuoteState,
    pub contact_id: Option<i64>,
    pub contact_name: Option<String>,
    pub contact_title: Option<String>,
    pub phone: Option<String>,
    pub fax: Option<String>,
    #[schema(format = Date)]
    pub quote_date: String,
    #[schema(format = Date)]
    pub valid_until: String,
    pub payment_terms: Vec<InstallmentView>,
    pub payment_note: Option<String>,
    pub delivery_terms: Option<String>,
    pub notes: Option<String>,
    /// Tax-inclusive total (Σ line amounts; each line rounded to the fen half up).
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub total: String,
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub total_excl: String,
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub tax: String,
    /// The tax-inclusive total in Chinese capitals (人民币大写).
    pub total_in_words: String,
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub list_total: String,
    /// The larger of the largest line discount and the whole-quote discount (percent).
    pub discount: String,
    pub max_line_discount: String,
    /// 1 − Σ price × qty ÷ Σ list × qty (percent).
    pub quote_discount: String,
    pub below_floor: bool,
    /// Within its author's authority when submitted (null before).
    pub within_authority: Option<bool>,
    /// The discount-exception request of this version.
    pub approval_id: Option<i64>,
    /// Why the request was returned or rejected.
    pub returned_reason: Option<String>,
    /// Username of the author of this version.
    pub created_by: String,
    pub created_by_name: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub submitted_at: Option<String>,
    #[schema(format = DateTime)]
    pub approved_at: Option<String>,
    #[schema(format = DateTime)]
    pub sent_at: Option<String>,
    pub sent_by: Option<String>,
    /// Σ standard cost and the margin on the tax-exclusive total (those who see floor prices).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false, pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub cost: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false, pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub margin: Option<String>,
    pub lines: Vec<LineView>,
}

/// One version in a quote's history.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VersionSummary {
    pub version_no: i64,
    pub state: QuoteState,
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub total: String,
    pub discount: String,
    pub created_by_name: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    pub approval_id: Option<i64>,
}

/// A quote with its latest version whole and the history of its versions.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuoteView {
    pub id: i64,
    pub number: String,
    pub title: String,
    pub opportunity_id: i64,
    pub opportunity_name: String,
    pub account_id: i64,
    pub account_name: String,
    /// Username of the quoting person.
    pub owner: String,
    pub owner_name: String,
    /// The latest version's state.
    pub state: QuoteState,
    /// The opportunity's current quote.
    pub is_current: bool,
    pub current_version: i64,
    /// The version that went to the customer.
    pub sent_version: Option<i64>,
    pub lost_reason: Option<String>,
    /// The discount its author may give without approval (percent).
    pub author_limit: String,
    /// The row version for concurrent edits.
    pub version: i64,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    pub latest: VersionView,
    pub versions: Vec<VersionSummary>,
    /// The files enclosed with the quote (specifications, drawings, certificates), each with
    /// the version it was added under.
    pub attachments: Vec<Attachment>,
}

impl QuoteView {
    /// The names of the files that go with the version shown (those added under it or an
    /// earlier one), as the printed quote lists them.
    pub fn enclosed(&self) -> Vec<&str> {
        self.attachments
            .iter()
            .filter(|f| f.version_no.unwrap_or(0) <= self.latest.version_no)
            .map(|f| f.file_name.as_str())
            .collect()
    }
}

/// A quote in a list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuoteRow {
    pub id: i64,
    pub number: String,
    pub title: String,
    pub opportunity_id: i64,
    pub opportunity_name: String,
    pub account_id: i64,
    pub account_name: String,
    pub owner: String,
    pub owner_name: String,
    pub state: QuoteState,
    pub is_current: bool,
    pub current_version: i64,
    #[schema(format = Date)]
    pub quote_date: String,
    #[schema(format = Date)]
    pub valid_until: String,
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub total: String,
    pub discount: String,
    pub below_floor: bool,
    pub line_count: i64,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

// ---------------------------------------------------------------------------------------------
// Reading

// `LEFT JOIN accounts` (a quote's account always exists: a foreign key): as an inner join,
// SQLite builds a Bloom filter over all accounts before a list's first row (15 ms at 60,000).
const ROW_SELECT: &str =
    "SELECT q.*, o.name AS opportunity_name, a.name AS account_name, u.username AS owner_username, \
     u.display_name AS owner_display FROM quotes q JOIN opportunities o ON o.id = q.opportunity_id \
     LEFT JOIN accounts a ON a.id = q.account_id JOIN users u ON u.id = q.owner_id";

fn row_view(r: &AnyRow) -> Result<QuoteRow> {
    Ok(QuoteRow {
        id: r.try_get("id")?,
        number: r.try_get("number")?,
        title: r.try_get("title")?,
        opportunity_id: r.try_get("opportunity_id")?,
        opportunity_name: r.try_get("opportunity_name")?,
        account_id: r.try_get("account_id")?,
        account_name: r.try_get("account_name")?,
        owner: r.try_get("owner_username")?,
        owner_name: r.try_get("owner_display")?,
        state: r.try_get("state")?,
        is_current: r.try_get::<i64, _>("is_current")? == 1,
        current_version: r.try_get("current_version")?,
        quote_date: r.try_get("quote_date")?,
        valid_until: r.try_get("valid_until")?,
        total: format_fen(r.try_get("total")?),
        discount: format_bp(r.try_get("discount_bp")?),
        below_floor: r.try_get::<i64, _>("below_floor")? == 1,
        line_count: r.try_get("line_count")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// ` AND …`: the quote's opportunity is in the caller's scope.
fn push_scope(s: &mut Sql, caller: &Caller, probe: Probe) {
    opportunities::push_scope_as(s, caller, probe);
}

/// The quote in scope (its row), or not found.
async fn row_scoped(conn: &mut sqlx::AnyConnection, caller: Option<&Caller>, id: i64) -> Result<AnyRow> {
    let mut s = Sql::new(ROW_SELECT);
    s.push(" WHERE q.id = ").bind(id);
    if let Some(c) = caller {
        push_scope(&mut s, c, Probe::Row);
    }
    s.query().fetch_optional(&mut *conn).await?.ok_or(Error::NotFound)
}

fn installments_of(json: &str) -> Vec<Installment> {
    serde_json::from_str(json).unwrap_or_default()
}

async fn version_view(
    conn: &mut sqlx::AnyConnection,
    caller: Option<&Caller>,
    quote_id: i64,
    version_no: i64,
) -> Result<VersionView> {
    let r = sqlx::query(
        "SELECT v.*, COALESCE(u.display_name, v.created_by) AS created_by_name FROM quote_versions v \
         LEFT JOIN users u ON u.username = v.created_by WHERE v.quote_id = $1 AND v.version_no = $2",
    )
    .bind(quote_id)
    .bind(version_no)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(Error::NotFound)?;
    let privileged = caller.is_none_or(|c| c.role.sees_floor_price());
    let vid: i64 = r.try_get("id")?;
    let lines = sqlx::query("SELECT * FROM quote_lines WHERE version_id = $1 ORDER BY position")
        .bind(vid)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|l| {
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
                amount_excl: format_fen(l.try_get("amount_excl")?),
                tax: format_fen(l.try_get("tax")?),
                below_floor: l.try_get::<i64, _>("below_floor")? == 1,
                floor_price: if privileged {
                    l.try_get::<Option<i64>, _>("floor_price")?.map(format_fen)
                } else {
                    None
                },
                cost: if privileged { l.try_get::<Option<i64>, _>("cost")?.map(format_fen) } else { None },
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let total: i64 = r.try_get("total")?;
    let total_excl: i64 = r.try_get("total_excl")?;
    let cost: i64 = r.try_get("cost")?;
    let payment_terms = installments_of(&r.try_get::<String, _>("payment_terms")?)
        .into_iter()
        .map(|i| InstallmentView {
            kind: i.kind,
            percent: format_bp(i.percent_bp),
            days: i.days,
            amount: format_fen(crate::domain::money::div_round(total * i.percent_bp, q::FULL_BP)),
        })
        .collect();
    Ok(VersionView {
        version_no: r.try_get("version_no")?,
        state: r.try_get("state")?,
        contact_id: r.try_get("contact_id")?,
        contact_name: r.try_get("contact_name")?,
        contact_title: r.try_get("contact_title")?,
        phone: r.try_get("phone")?,
        fax: r.try_get("fax")?,
        quote_date: r.try_get("quote_date")?,
        valid_until: r.try_get("valid_until")?,
        payment_terms,
        payment_note: r.try_get("payment_note")?,
        delivery_terms: r.try_get("delivery_terms")?,
        notes: r.try_get("notes")?,
        total: format_fen(total),
        total_excl: format_fen(total_excl),
        tax: format_fen(r.try_get("tax")?),
        total_in_words: crate::domain::money::chinese_capitals(total),
        list_total: format_fen(r.try_get("list_total")?),
        discount: format_bp(r.try_get("discount_bp")?),
        max_line_discount: format_bp(r.try_get("max_line_discount_bp")?),
        quote_discount: format_bp(r.try_get("quote_discount_bp")?),
        below_floor: r.try_get::<i64, _>("below_floor")? == 1,
        within_authority: r.try_get::<Option<i64>, _>("within_authority")?.map(|w| w == 1),
        approval_id: r.try_get("approval_id")?,
        returned_reason: r.try_get("returned_reason")?,
        created_by: r.try_get("created_by")?,
        created_by_name: r.try_get("created_by_name")?,
        created_at: r.try_get("created_at")?,
        submitted_at: r.try_get("submitted_at")?,
        approved_at: r.try_get("approved_at")?,
        sent_at: r.try_get("sent_at")?,
        sent_by: r.try_get("sent_by")?,
        cost: privileged.then(|| format_fen(cost)),
        margin: privileged.then(|| format_fen(total_excl - cost)),
        lines,
    })
}

async fn full_view(
    conn: &mut sqlx::AnyConnection,
    caller: Option<&Caller>,
    r: &AnyRow,
    version_no: Option<i64>,
) -> Result<QuoteView> {
    let row = row_view(r)?;
    let latest = version_view(conn, caller, row.id, version_no.unwrap_or(row.current_version)).await?;
    let versions = sqlx::query(
        "SELECT v.version_no, v.state, v.total, v.discount_bp, v.created_at, v.approval_id, \
         COALESCE(u.display_name, v.created_by) AS created_by_name FROM quote_versions v \
         LEFT JOIN users u ON u.username = v.created_by WHERE v.quote_id = $1 ORDER BY v.version_no DESC",
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
            discount: format_bp(v.try_get("discount_bp")?),
            created_by_name: v.try_get("created_by_name")?,
            created_at: v.try_get("created_at")?,
            approval_id: v.try_get("approval_id")?,
        })
    })
    .collect::<Result<Vec<_>>>()?;
    let owner_role: crate::domain::role::Role = sqlx::query("SELECT role FROM users WHERE id = $1")
        .bind(r.try_get::<i64, _>("owner_id")?)
        .fetch_one(&mut *conn)
        .await?
        .try_get("role")?;
    let limits = limits(conn).await?;
    let mut attachments = attachments::of(conn, "quote", row.id).await?;
    let open = matches!(row.state, QuoteState::Draft | QuoteState::Pending);
    for a in &mut attachments {
        a.removable = open && a.version_no == Some(row.current_version);
    }
    Ok(QuoteView {
        id: row.id,
        number: row.number,
        title: row.title,
        opportunity_id: row.opportunity_id,
        opportunity_name: row.opportunity_name,
        account_id: row.account_id,
        account_name: row.account_name,
        owner: row.owner,
        owner_name: row.owner_name,
        state: row.state,
        is_current: row.is_current,
        current_version: row.current_version,
        sent_version: r.try_get("sent_version")?,
        lost_reason: r.try_get("lost_reason")?,
        author_limit: format_bp(q::limit_of(&limits, owner_role)),
        version: r.try_get("version")?,
        created_at: r.try_get("created_at")?,
        updated_at: row.updated_at,
        latest,
        versions,
        attachments,
    })
}

/// A quote, its latest version whole (or version `version_no`).
pub async fn get(db: &Db, caller: &Caller, id: i64, version_no: Option<i64>) -> Result<QuoteView> {
    let mut conn = db.pool.acquire().await?;
    let r = row_scoped(&mut conn, Some(caller), id).await?;
    full_view(&mut conn, Some(caller), &r, version_no).await
}

/// The quote version a discount-exception request asks about, whole, and the version before
/// it (to mark what changed). The caller was shown the request (`approvals::get`), so the
/// quote is read without the opportunity's scope: a decider sees what they decide on.
pub async fn for_approval(db: &Db, caller: &Caller, approval_id: i64) -> Result<(QuoteView, Option<VersionView>)> {
    let mut conn = db.pool.acquire().await?;
    let r = sqlx::query("SELECT quote_id, version_no FROM quote_versions WHERE approval_id = $1")
        .bind(approval_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(Error::NotFound)?;
    let (qid, n): (i64, i64) = (r.try_get("quote_id")?, r.try_get("version_no")?);
    let row = row_scoped(&mut conn, None, qid).await?;
    let v = full_view(&mut conn, Some(caller), &row, Some(n)).await?;
    let before = if n > 1 { Some(version_view(&mut conn, Some(caller), qid, n - 1).await?) } else { None };
    Ok((v, before))
}

/// The discount authority table (the current `discount_exception` definition's).
async fn limits(conn: &mut sqlx::AnyConnection) -> Result<Vec<(String, i64)>> {
    let (_, d) = approvals::definition(conn, Flow::DiscountException).await?;
    Ok(if d.limits.is_empty() { q::default_limits() } else { d.limits })
}

/// A list's filter.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub opportunity_id: Option<i64>,
    pub account_id: Option<i64>,
    /// Username of the quoting person.
    pub owner: Option<String>,
    pub state: Option<String>,
    /// Open quotes (draft … sent) whose validity ends within this many days (today included).
    pub expiring_within: Option<i64>,
    /// Discount above this percentage.
    pub discount_over: Option<String>,
    /// Number, title, account or opportunity name.
    pub q: Option<String>,
    /// Only each opportunity's current quote.
    pub current: bool,
    /// `-updated` (default), `updated`, `total`, `-total`, `valid_until`, `-discount`.
    pub sort: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

fn sort_key(sort: Option<&str>) -> Result<(&'static str, bool, bool)> {
    // (column, is text, descending)
    Ok(match sort.unwrap_or("-updated") {
        "-updated" => ("q.updated_at", true, true),
        "updated" => ("q.updated_at", true, false),
        "total" => ("q.total", false, false),
        "-total" => ("q.total", false, true),
        "valid_until" => ("q.valid_until", true, false),
        "-discount" => ("q.discount_bp", false, true),
        _ => return Err(Error::invalid("sort", "invalid_choice")),
    })
}

pub const SORTS: &[&str] = &["-updated", "updated", "total", "-total", "valid_until", "-discount"];

/// The list's rows (at most `limit`), in the filter's order and scope, and its sort column.
async fn select(db: &Db, caller: &Caller, f: &Filter, today: &str, limit: i64) -> Result<(Vec<AnyRow>, &'static str)> {
    let (col, is_text, desc) = sort_key(f.sort.as_deref())?;
    let owner = f.owner.as_deref().map(str::trim).filter(|o| !o.is_empty());
    // A manager's or HQ's list in its default order: the quotes walked newest first by one
    // index, each one's scope probed, so the first page costs about its own rows (a rep's few
    // quotes are gathered through the rep's set instead).
    let walk = owner.is_none()
        && f.opportunity_id.is_none()
        && f.account_id.is_none()
        && col == "q.updated_at"
        && desc
        && caller.reach() != crate::domain::role::Reach::Own;
    let mut s = if walk {
        Sql::new(&ROW_SELECT.replacen(
            "FROM quotes q",
            &format!("FROM {}", db.indexed_by("quotes q", "quotes_updated")),
            1,
        ))
    } else {
        Sql::new(ROW_SELECT)
    };
    s.push(" WHERE 1 = 1");
    if let Some(owner) = owner {
        s.push(" AND q.owner_id = (SELECT id FROM users WHERE username = ").bind(owner.to_string()).push(")");
    }
    if let Some(o) = f.opportunity_id {
        s.push(" AND q.opportunity_id = ").bind(o);
    }
    if let Some(a) = f.account_id {
        s.push(" AND q.account_id = ").bind(a);
    }
    // A person's or an opportunity's quotes are few: their scope is probed per row.
    let probe = if walk || owner.is_some() || f.opportunity_id.is_some() || f.account_id.is_some() {
        Probe::Row
    } else {
        Probe::Set
    };
    push_scope(&mut s, caller, probe);
    if let Some(st) = f.state.as_deref().filter(|s| !s.is_empty()) {
        let st = QuoteState::parse(st).map_err(|c| Error::invalid("state", c))?;
        s.push(" AND q.state = ").bind(st.code());
    }
    if let Some(days) = f.expiring_within {
        if !(0..=3650).contains(&days) {
            return Err(Error::invalid("expiring_within", "days_range"));
        }
        let until = chrono::NaiveDate::parse_from_str(today, "%Y-%m-%d")
            .map(|d| (d + Duration::days(days)).format("%Y-%m-%d").to_string())
            .unwrap_or_else(|_| today.to_string());
        s.push(" AND q.state IN ('draft', 'pending', 'approved', 'sent') AND q.valid_until >= ")
            .bind(today.to_string());
        s.push(" AND q.valid_until <= ").bind(until);
    }
    if let Some(d) = f.discount_over.as_deref().filter(|s| !s.trim().is_empty()) {
        let bp = parse_bp(d).map_err(|c| Error::invalid("discount_over", c))?;
        s.push(" AND q.discount_bp > ").bind(bp);
    }
    if f.current {
        s.push(" AND q.is_current = 1");
    }
    if let Some(qs) = text::search(f.q.as_deref()).map_err(|c| Error::invalid("q", c))? {
        let pat = text::like_pattern(qs);
        s.push(" AND (q.number LIKE ").bind(pat.clone()).push(" OR q.title LIKE ").bind(pat.clone());
        s.push(" OR a.name LIKE ").bind(pat.clone()).push(" OR o.name LIKE ").bind(pat).push(")");
    }
    if let Some(c) = f.cursor.as_deref().filter(|c| !c.is_empty()) {
        crate::app::push_after(&mut s, c, col, "q.id", is_text, desc)?;
    }
    let dir = if desc { "DESC" } else { "ASC" };
    s.push(&format!(" ORDER BY {col} {dir}, q.id {dir} LIMIT ")).bind(limit);
    Ok((s.query().fetch_all(&db.pool).await?, col))
}

/// A page of quotes in scope.
pub async fn list(db: &Db, caller: &Caller, f: &Filter, today: &str) -> Result<Page<QuoteRow>> {
    let limit = clamp_limit(f.limit)?;
    let (rows, col) = select(db, caller, f, today, limit + 1).await?;
    let items = rows.iter().take(limit as usize).map(row_view).collect::<Result<Vec<_>>>()?;
    let next_cursor = match rows.get(limit as usize - 1).filter(|_| rows.len() as i64 > limit) {
        Some(r) => {
            let k = match col {
                "q.total" => json!(r.try_get::<i64, _>("total")?),
                "q.discount_bp" => json!(r.try_get::<i64, _>("discount_bp")?),
                "q.valid_until" => json!(r.try_get::<String, _>("valid_until")?),
                _ => json!(r.try_get::<String, _>("updated_at")?),
            };
            Some(crate::app::encode_cursor(k, r.try_get("id")?))
        }
        None => None,
    };
    Ok(Page { items, next_cursor })
}

/// The most rows an export writes.
pub const EXPORT_MAX: i64 = 100_000;

/// Every quote the filter finds in scope (from its cursor, at most [`EXPORT_MAX`]), for an
/// export.
pub async fn export(db: &Db, caller: &Caller, f: &Filter, today: &str) -> Result<Vec<QuoteRow>> {
    let (rows, _) = select(db, caller, f, today, EXPORT_MAX).await?;
    rows.iter().map(row_view).collect()
}

/// The quotes as a table to export: what the list shows, amounts as numbers.
pub fn table(rows: &[QuoteRow]) -> crate::app::spreadsheets::export::Table {
    let keys = vec![
        "number",
        "quote_title",
        "account_name",
        "opportunity_name",
        "owner_name",
        "quote_state",
        "current_version",
        "quote_date",
        "valid_until",
        "total",
        "discount",
        "lines_below_floor",
        "line_count",
        "updated_at",
    ];
    let rows = rows
        .iter()
        .map(|r| {
            vec![
                r.number.clone(),
                r.title.clone(),
                r.account_name.clone(),
                r.opportunity_name.clone(),
                r.owner_name.clone(),
                r.state.code().to_string(),
                r.current_version.to_string(),
                r.quote_date.clone(),
                r.valid_until.clone(),
                r.total.clone(),
                r.discount.clone(),
                r.below_floor.to_string(),
                r.line_count.to_string(),
                r.updated_at.clone(),
            ]
        })
        .collect();
    crate::app::spreadsheets::export::Table { keys, rows }
}

/// An opportunity's quotes, newest first (the opportunity in scope).
pub async fn of_opportunity(db: &Db, caller: &Caller, opportunity_id: i64) -> Result<Vec<QuoteRow>> {
    let mut s = Sql::new(ROW_SELECT);
    s.push(" WHERE q.opportunity_id = ").bind(opportunity_id);
    push_scope(&mut s, caller, Probe::Row);
    s.push(" ORDER BY q.id DESC LIMIT 200");
    s.query().fetch_all(&db.pool).await?.iter().map(row_view).collect()
}

// ---------------------------------------------------------------------------------------------
// Writing

fn parse_date(field: &str, v: &str) -> Result<String, (String, &'static str)> {
    chrono::NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
        .map(|d| d.format("%Y-%m-%d").to_string())
        .map_err(|_| (field.to_string(), "date_format"))
}

/// The header of a version as stored.
#[derive(Debug, Clone, Default, PartialEq)]
struct Header {
    title: String,
    contact_id: Option<i64>,
    contact_name: Option<String>,
    contact_title: Option<String>,
    phone: Option<String>,
    fax: Option<String>,
    quote_date: String,
    valid_until: String,
    payment_terms: Vec<Installment>,
    payment_note: Option<String>,
    delivery_terms: Option<String>,
    notes: Option<String>,
}

/// Reads a money field as the API gives it (a decimal string) or as a form gives it
/// (`1,280,000`, `128万`).
fn money(s: &str) -> Result<i64, &'static str> {
    parse_fen(s).or_else(|_| parse_amount(s))
}

/// Checks the input against `base` (the version it revises, or a new quote's defaults) and the
/// catalogue; every refusal names its field. Returns the header and the priced lines.
async fn prepare(
    conn: &mut sqlx::AnyConnection,
    account_id: i64,
    inp: &QuoteIn,
    base: Header,
    base_lines: Option<Vec<LineInput>>,
) -> Result<(Header, Vec<Line>, Vec<LineInput>)> {
    let mut e = Errors::default();
    let mut h = base;
    let opt = |e: &mut Errors, field: &str, v: &Option<String>, max: usize, into: &mut Option<String>| {
        if let Some(v) = v {
            match text::optional(Some(v), max) {
                Ok(t) => *into = t,
                Err(c) => e.add(field, c),
            }
        }
    };
    if let Some(t) = &inp.title {
        match text::required(Some(t), 200) {
            Ok(t) => h.title = t,
            Err(c) => e.add("title", c),
        }
    }
    if let Some(cid) = inp.contact_id {
        let c = sqlx::query(
            "SELECT name, title, phone FROM contacts WHERE id = $1 AND account_id = $2 AND deleted_at IS NULL",
        )
        .bind(cid)
        .bind(account_id)
        .fetch_optional(&mut *conn)
        .await?;
        match c {
            None => e.add("contact_id", "not_found"),
            Some(c) => {
                h.contact_id = Some(cid);
                if inp.contact_name.is_none() {
                    h.contact_name = c.try_get("name")?;
                }
                if inp.contact_title.is_none() {
                    h.contact_title = c.try_get("title")?;
                }
                if inp.phone.is_none() {
                    h.phone = c.try_get("phone")?;
                }
            }
        }
    }
    opt(&mut e, "contact_name", &inp.contact_name, 100, &mut h.contact_name);
    opt(&mut e, "contact_title", &inp.contact_title, 100, &mut h.contact_title);
    opt(&mut e, "phone", &inp.phone, 50, &mut h.phone);
    opt(&mut e, "fax", &inp.fax, 50, &mut h.fax);
    opt(&mut e, "payment_note", &inp.payment_note, 2000, &mut h.payment_note);
    opt(&mut e, "delivery_terms", &inp.delivery_terms, 2000, &mut h.delivery_terms);
    opt(&mut e, "notes", &inp.notes, 4000, &mut h.notes);
    let mut dates_ok = true;
    if let Some(d) = inp.quote_date.as_deref().filter(|d| !d.trim().is_empty()) {
        match parse_date("quote_date", d) {
            Ok(d) => h.quote_date = d,
            Err((f, c)) => {
                e.add(&f, c);
                dates_ok = false;
            }
        }
    }
    if let Some(d) = inp.valid_until.as_deref().filter(|d| !d.trim().is_empty()) {
        match parse_date("valid_until", d) {
            Ok(d) => h.valid_until = d,
            Err((f, c)) => {
                e.add(&f, c);
                dates_ok = false;
            }
        }
    }
    if dates_ok && h.valid_until < h.quote_date {
        e.add("valid_until", "valid_until_before_quote_date");
    }
    if let Some(terms) = &inp.payment_terms {
        let mut items = vec![];
        for (i, t) in terms.iter().enumerate() {
            match parse_bp(&t.percent) {
                Ok(bp) => items.push(Installment { kind: t.kind, percent_bp: bp, days: t.days }),
                Err(c) => e.add(&format!("payment_terms[{i}].percent"), c),
            }
        }
        if terms.len() > 10 {
            e.add("payment_terms", "too_many");
        }
        for (f, c) in q::check_installments(&items) {
            e.add(&f, c);
        }
        h.payment_terms = items;
    }
    // The lines: parsed, their products read in one statement, priced.
    let inputs: Vec<LineInput> = match &inp.lines {
        None => base_lines.unwrap_or_default(),
        Some(lines) => line_inputs(conn, lines, &mut e).await?,
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
    Ok((h, lines, inputs))
}

/// Parses the lines as given (a quote's or an order's): their products read in one statement
/// (by id or by code, whatever its case), quantities and money read; every refusal names its
/// field under `lines[i]`. The lines are priced afterwards by `domain::quote::price_line`.
pub(crate) async fn line_inputs(
    conn: &mut sqlx::AnyConnection,
    lines: &[LineIn],
    e: &mut Errors,
) -> Result<Vec<LineInput>> {
    if lines.len() > q::MAX_LINES {
        e.add("lines", "too_many");
    }
    let ids: Vec<i64> = lines.iter().filter_map(|l| l.product_id).collect();
    let mut products = products_by_id(conn, &ids).await?;
    let codes: Vec<String> = lines
        .iter()
        .filter(|l| l.product_id.is_none())
        .filter_map(|l| l.product_code.as_deref().map(str::trim).filter(|c| !c.is_empty()).map(str::to_string))
        .collect();
    products.extend(products_by_code(conn, &codes).await?);
    let mut out = Vec::with_capacity(lines.len());
    for (i, l) in lines.iter().enumerate() {
        let f = |n: &str| format!("lines[{i}].{n}");
        let mut li = LineInput {
            description: l.description.clone(),
            specification: l.specification.clone(),
            unit: l.unit.clone(),
            ..Default::default()
        };
        if let Some(pid) = l.product_id {
            match products.iter().find(|p| p.id == pid) {
                Some(p) => li.product = Some(p.clone()),
                None => e.add(&f("product_id"), "not_found"),
            }
        } else if let Some(code) = l.product_code.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            match products.iter().find(|p| p.code.eq_ignore_ascii_case(code)) {
                Some(p) => li.product = Some(p.clone()),
                None => e.add(&f("product_code"), "not_found"),
            }
        }
        match q::parse_quantity(&l.quantity) {
            Ok(n) => li.quantity = n,
            Err(c) => e.add(&f("quantity"), c),
        }
        let mut m = |name: &str, v: &Option<String>| -> Option<i64> {
            let v = v.as_deref().map(str::trim).filter(|v| !v.is_empty())?;
            if v.starts_with('-') {
                e.add(&f(name), "price_negative");
                return None;
            }
            match money(v) {
                Ok(x) => Some(x),
                Err(c) => {
                    e.add(&f(name), c);
                    None
                }
            }
        };
        li.list_price = m("list_price", &l.list_price);
        li.unit_price = m("unit_price", &l.unit_price);
        li.amount = m("amount", &l.amount);
        let mut pct = |name: &str, v: &Option<String>| -> Option<i64> {
            let v = v.as_deref().map(str::trim).filter(|v| !v.is_empty())?;
            let v = v.trim_end_matches('%');
            match parse_bp(v) {
                Ok(bp) if (0..=q::FULL_BP).contains(&bp) => Some(bp),
                Ok(_) => {
                    e.add(&f(name), if name == "discount" { "discount_range" } else { "tax_rate_range" });
                    None
                }
                Err(c) => {
                    e.add(&f(name), c);
                    None
                }
            }
        };
        li.discount_bp = pct("discount", &l.discount);
        li.tax_rate_bp = pct("tax_rate", &l.tax_rate);
        out.push(li);
    }
    Ok(out)
}

/// The catalogue's facts of these products (one statement).
async fn products_by_id(conn: &mut sqlx::AnyConnection, ids: &[i64]) -> Result<Vec<ProductFacts>> {
    Ok(super::products::for_lines(conn, ids)
        .await?
        .into_iter()
        .map(|p| ProductFacts {
            id: p.id,
            code: p.code,
            name: p.name,
            unit: p.unit,
            list_price: p.list_price,
            floor_price: p.floor_price,
            tax_rate_bp: p.tax_rate_bp,
            standard_cost: p.standard_cost,
            active: p.active,
        })
        .collect())
}

/// The products of these codes (whatever their case).
async fn products_by_code(conn: &mut sqlx::AnyConnection, codes: &[String]) -> Result<Vec<ProductFacts>> {
    if codes.is_empty() {
        return Ok(vec![]);
    }
    let keys: Vec<String> = codes.iter().map(|c| super::products::code_key(c)).collect();
    let mut s = Sql::new("SELECT id FROM products WHERE code_key IN (");
    s.bind_texts(&keys).push(")");
    let ids: Vec<i64> =
        s.query().fetch_all(&mut *conn).await?.iter().map(|r| r.try_get("id")).collect::<Result<_, _>>()?;
    products_by_id(conn, &ids).await
}

/// A product the quote form offers (active ones, by code).
#[derive(Debug, Clone, Serialize)]
pub struct ProductChoice {
    pub code: String,
    pub name: String,
    pub unit: String,
    pub list_price: String,
    pub tax_rate: String,
}

pub async fn product_choices(db: &Db) -> Result<Vec<ProductChoice>> {
    sqlx::query(
        "SELECT code, name, unit, list_price, tax_rate_bp FROM products WHERE active = 1 ORDER BY code LIMIT 5000",
    )
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|r| {
        Ok(ProductChoice {
            code: r.try_get("code")?,
            name: r.try_get("name")?,
            unit: r.try_get("unit")?,
            list_price: format_fen(r.try_get("list_price")?),
            tax_rate: format_bp(r.try_get("tax_rate_bp")?),
        })
    })
    .collect()
}

/// The account's contacts the quote form offers (the account in scope).
pub async fn contact_choices(db: &Db, caller: &Caller, account_id: i64) -> Result<Vec<(i64, String)>> {
    crate::app::customers::accounts::ensure_visible(db, caller, account_id).await?;
    sqlx::query(
        "SELECT id, name, title FROM contacts WHERE account_id = $1 AND deleted_at IS NULL ORDER BY name LIMIT 500",
    )
    .bind(account_id)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|r| {
        let title: Option<String> = r.try_get("title")?;
        let name: String = r.try_get("name")?;
        Ok((
            r.try_get("id")?,
            match title {
                Some(t) if !t.is_empty() => format!("{name}（{t}）"),
                _ => name,
            },
        ))
    })
    .collect()
}

/// The discount the caller may give without approval (basis points).
pub async fn author_limit(db: &Db, caller: &Caller) -> Result<i64> {
    let mut conn = db.pool.acquire().await?;
    Ok(q::limit_of(&limits(&mut conn).await?, caller.role))
}

/// Whether the caller may write this opportunity's quotes.
pub async fn may_write(db: &Db, caller: &Caller, opportunity_id: i64) -> Result<bool> {
    let mut conn = db.pool.acquire().await?;
    match may_quote(&mut conn, caller, opportunity_id).await {
        Ok(_) => Ok(true),
        Err(Error::Forbidden | Error::NotFound) => Ok(false),
        Err(e) => Err(e),
    }
}

pub use crate::app::records::company::Company;

/// The company as its documents name it.
pub async fn company(db: &Db) -> Result<Company> {
    Ok(crate::app::records::company::get(db).await?.company)
}

/// The quote as a spreadsheet the customer can read: the header, the lines with numeric cells
/// (amounts in yuan, `#,##0.00`, so a total can be checked), the totals, the amount in Chinese
/// capitals and the terms.
pub fn xlsx(v: &QuoteView, company: &Company, locale: &str) -> Result<Vec<u8>> {
    use rust_xlsxwriter::{Format, FormatAlign, Workbook};
    let t = |k: &str| rust_i18n::t!(k, locale = locale).into_owned();
    let x = &v.latest;
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let err = |e: rust_xlsxwriter::XlsxError| Error::Internal(anyhow::anyhow!(e));
    ws.set_name(t("quote.document")).map_err(err)?;
    let bold = Format::new().set_bold();
    let title = Format::new().set_bold().set_font_size(16).set_align(FormatAlign::Center);
    let money = Format::new().set_num_format("#,##0.00");
    let pct = Format::new().set_num_format("0.00\\%");
    let qty = Format::new().set_num_format("#,##0.###");
    let fen = |s: &str| parse_fen(s.trim_start_matches('-')).map(|f| f as f64 / 100.0).unwrap_or(0.0);
    let mut row = 0u32;
    let name = if company.name.is_empty() {
        t("quote.document")
    } else {
        format!("{} · {}", company.name, t("quote.document"))
    };
    ws.merge_range(row, 0, row, 9, &name, &title).map_err(err)?;
    row += 2;
    let head: Vec<(String, String)> = vec![
        (t("quote_field.number"), format!("{} v{}", v.number, x.version_no)),
        (t("quote_field.customer"), v.account_name.clone()),
        (
            t("quote_field.contact_name"),
            format!("{} {}", x.contact_name.clone().unwrap_or_default(), x.contact_title.clone().unwrap_or_default())
                .trim()
                .to_string(),
        ),
        (t("quote_field.phone"), x.phone.clone().unwrap_or_default()),
        (t("quote_field.fax"), x.fax.clone().unwrap_or_default()),
        (t("quote_field.quoted_by"), v.owner_name.clone()),
        (t("quote_field.quote_date"), x.quote_date.clone()),
        (t("quote_field.valid_until"), x.valid_until.clone()),
    ];
    for (k, val) in head {
        ws.write_string_with_format(row, 0, &k, &bold).map_err(err)?;
        ws.write_string(row, 1, &val).map_err(err)?;
        row += 1;
    }
    row += 1;
    let cols = [
        "no",
        "description",
        "specification",
        "unit",
        "quantity",
        "list_price",
        "unit_price",
        "discount",
        "amount",
        "tax_rate",
    ];
    for (c, k) in cols.iter().enumerate() {
        ws.write_string_with_format(row, c as u16, t(&format!("quote_field.{k}")), &bold).map_err(err)?;
    }
    ws.set_column_width(1, 30).map_err(err)?;
    ws.set_column_width(2, 18).map_err(err)?;
    for c in 5..=8 {
        ws.set_column_width(c, 14).map_err(err)?;
    }
    row += 1;
    let first = row;
    for (i, l) in x.lines.iter().enumerate() {
        ws.write_number(row, 0, (i + 1) as f64).map_err(err)?;
        ws.write_string(row, 1, &l.description).map_err(err)?;
        ws.write_string(row, 2, l.specification.as_deref().unwrap_or("")).map_err(err)?;
        ws.write_string(row, 3, &l.unit).map_err(err)?;
        ws.write_number_with_format(row, 4, l.quantity.parse::<f64>().unwrap_or(0.0), &qty).map_err(err)?;
        if let Some(lp) = &l.list_price {
            ws.write_number_with_format(row, 5, fen(lp), &money).map_err(err)?;
        }
        ws.write_number_with_format(row, 6, fen(&l.unit_price), &money).map_err(err)?;
        ws.write_number_with_format(row, 7, fen(&l.discount), &pct).map_err(err)?;
        ws.write_number_with_format(row, 8, fen(&l.amount), &money).map_err(err)?;
        ws.write_number_with_format(row, 9, fen(&l.tax_rate), &pct).map_err(err)?;
        row += 1;
    }
    let _ = first;
    row += 1;
    for (k, val) in [("total_excl", &x.total_excl), ("tax", &x.tax), ("total", &x.total)] {
        ws.write_string_with_format(row, 7, t(&format!("quote_field.{k}")), &bold).map_err(err)?;
        ws.write_number_with_format(row, 8, fen(val), &money).map_err(err)?;
        row += 1;
    }
    ws.write_string_with_format(row, 0, t("quote_field.total_in_words"), &bold).map_err(err)?;
    ws.write_string(row, 1, format!("{}{}", t("quote.rmb"), x.total_in_words)).map_err(err)?;
    row += 2;
    let terms: Vec<String> = x
        .payment_terms
        .iter()
        .map(|i| {
            format!(
                "{} {}%（{}）",
                t(&format!("installment.{}", i.kind.code())),
                i.percent,
                t("quote.days_after").replace("{n}", &i.days.to_string())
            )
        })
        .collect();
    for (k, val) in [
        ("payment_terms", terms.join("；")),
        ("payment_note", x.payment_note.clone().unwrap_or_default()),
        ("delivery_terms", x.delivery_terms.clone().unwrap_or_default()),
        ("notes", x.notes.clone().unwrap_or_default()),
    ] {
        if val.is_empty() {
            continue;
        }
        ws.write_string_with_format(row, 0, t(&format!("quote_field.{k}")), &bold).map_err(err)?;
        ws.write_string(row, 1, &val).map_err(err)?;
        row += 1;
    }
    ws.write_string(row + 1, 0, t("quote.rounding_note")).map_err(err)?;
    wb.save_to_buffer().map_err(err)
}

/// Writes a version's row and its lines (one multi-row statement per few hundred lines).
#[allow(clippy::too_many_arguments)]
async fn write_version(
    tx: &mut WriteTx,
    quote_id: i64,
    version_no: i64,
    state: QuoteState,
    h: &Header,
    lines: &[Line],
    t: &Totals,
    by: &str,
    at: &str,
) -> Result<i64> {
    let vid: i64 = sqlx::query(
        "INSERT INTO quote_versions (quote_id, version_no, state, contact_id, contact_name, contact_title, phone, fax, \
         quote_date, valid_until, payment_terms, payment_note, delivery_terms, notes, total, total_excl, tax, list_total, \
         discount_bp, max_line_discount_bp, quote_discount_bp, below_floor, cost, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25) \
         RETURNING id",
    )
    .bind(quote_id)
    .bind(version_no)
    .bind(state.code())
    .bind(h.contact_id)
    .bind(h.contact_name.clone())
    .bind(h.contact_title.clone())
    .bind(h.phone.clone())
    .bind(h.fax.clone())
    .bind(h.quote_date.clone())
    .bind(h.valid_until.clone())
    .bind(serde_json::to_string(&h.payment_terms).map_err(anyhow::Error::from)?)
    .bind(h.payment_note.clone())
    .bind(h.delivery_terms.clone())
    .bind(h.notes.clone())
    .bind(t.total)
    .bind(t.total_excl)
    .bind(t.tax)
    .bind(t.list_total)
    .bind(t.discount_bp)
    .bind(t.max_line_discount_bp)
    .bind(t.quote_discount_bp)
    .bind(t.below_floor as i64)
    .bind(t.cost)
    .bind(by)
    .bind(at)
    .fetch_one(tx.conn())
    .await?
    .try_get("id")?;
    write_lines(tx, vid, lines).await?;
    Ok(vid)
}

async fn write_lines(tx: &mut WriteTx, vid: i64, lines: &[Line]) -> Result<()> {
    let mut ins = Inserter::new(
        tx.backend(),
        "INSERT INTO quote_lines (version_id, position, product_id, product_code, description, specification, unit, quantity, \
         list_price, unit_price, discount_bp, amount, tax_rate_bp, amount_excl, tax, floor_price, below_floor, cost) VALUES ",
        vec![],
        18,
    );
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
                v(l.floor_price),
                v(l.below_floor as i64),
                v(l.cost),
            ],
        )
        .await?;
    }
    ins.flush(tx).await?;
    Ok(())
}

/// Whether the caller may write the quotes of this opportunity: its owner, its team, or a
/// manager who sees it.
async fn may_quote(conn: &mut sqlx::AnyConnection, caller: &Caller, opportunity_id: i64) -> Result<AnyRow> {
    let mut s = Sql::new(
        "SELECT o.id, o.name, o.owner_id, o.account_id, o.stage, a.region_id, a.branch_id FROM opportunities o \
         JOIN accounts a ON a.id = o.account_id WHERE o.id = ",
    );
    s.bind(opportunity_id);
    push_scope(&mut s, caller, Probe::Row);
    let r = s.query().fetch_optional(&mut *conn).await?.ok_or(Error::NotFound)?;
    let owner: i64 = r.try_get("owner_id")?;
    let on_team: bool = sqlx::query("SELECT 1 AS x FROM opportunity_team WHERE opportunity_id = $1 AND user_id = $2")
        .bind(opportunity_id)
        .bind(caller.user_id)
        .fetch_optional(&mut *conn)
        .await?
        .is_some();
    if owner != caller.user_id && !on_team && !caller.role.manages_accounts() {
        return Err(Error::Forbidden);
    }
    Ok(r)
}

fn default_header(today: &str, opportunity_name: &str) -> Header {
    let until = chrono::NaiveDate::parse_from_str(today, "%Y-%m-%d")
        .map(|d| (d + Duration::days(DEFAULT_VALID_DAYS)).format("%Y-%m-%d").to_string())
        .unwrap_or_else(|_| today.to_string());
    Header {
        title: opportunity_name.to_string(),
        quote_date: today.to_string(),
        valid_until: until,
        ..Header::default()
    }
}

/// Creates a quote on an opportunity (version 1, a draft), which becomes its current quote.
pub async fn create(db: &Db, ctx: &Ctx, opportunity_id: i64, inp: &QuoteIn) -> Result<QuoteView> {
    let mut tx = db.begin().await?;
    let v = create_in(&mut tx, ctx, opportunity_id, inp).await?;
    tx.commit().await?;
    Ok(v)
}

pub async fn create_in(tx: &mut WriteTx, ctx: &Ctx, opportunity_id: i64, inp: &QuoteIn) -> Result<QuoteView> {
    let caller = &ctx.caller;
    let o = may_quote(tx.conn(), caller, opportunity_id).await?;
    let stage: String = o.try_get("stage")?;
    if stage == "won" || stage == "lost" {
        return Err(Error::Conflict("opportunity_closed"));
    }
    let account_id: i64 = o.try_get("account_id")?;
    let today = caller.today();
    let (h, lines, _) =
        prepare(tx.conn(), account_id, inp, default_header(&today, &o.try_get::<String, _>("name")?), None).await?;
    let t = q::totals(&lines);
    let at = now();
    sqlx::query("UPDATE quotes SET is_current = 0 WHERE opportunity_id = $1 AND is_current = 1")
        .bind(opportunity_id)
        .execute(tx.conn())
        .await?;
    // The number: Q + the year + the id, given once the id is known.
    let id: i64 = sqlx::query(
        "INSERT INTO quotes (number, opportunity_id, account_id, owner_id, title, current_version, state, quote_date, \
         valid_until, total, discount_bp, below_floor, line_count, is_current, version, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 1, 'draft', $6, $7, $8, $9, $10, $11, 1, 1, $12, $13, $13) RETURNING id",
    )
    .bind(format!("tmp-{}-{}", ctx.request_id, at))
    .bind(opportunity_id)
    .bind(account_id)
    .bind(caller.user_id)
    .bind(h.title.clone())
    .bind(h.quote_date.clone())
    .bind(h.valid_until.clone())
    .bind(t.total)
    .bind(t.discount_bp)
    .bind(t.below_floor as i64)
    .bind(lines.len() as i64)
    .bind(caller.username.as_str())
    .bind(at.clone())
    .fetch_one(tx.conn())
    .await?
    .try_get("id")?;
    let number = format!("Q{}-{:06}", &h.quote_date[..4], id);
    sqlx::query("UPDATE quotes SET number = $1 WHERE id = $2").bind(number.clone()).bind(id).execute(tx.conn()).await?;
    write_version(tx, id, 1, QuoteState::Draft, &h, &lines, &t, &caller.username, &at).await?;
    let r = row_scoped(tx.conn(), None, id).await?;
    let view = full_view(tx.conn(), Some(caller), &r, None).await?;
    audit::record(tx, ctx, "quote", &id.to_string(), "create", None, Some(&audit_json(&view))).await?;
    Ok(view)
}

/// The quote as the audit trail keeps it: the header, the figures and the lines in short.
fn audit_json(v: &QuoteView) -> Value {
    json!({
        "number": v.number,
        "title": v.title,
        "quote_state": v.state,
        "version_no": v.latest.version_no,
        "quote_date": v.latest.quote_date,
        "valid_until": v.latest.valid_until,
        "contact_name": v.latest.contact_name,
        "total": v.latest.total,
        "discount": v.latest.discount,
        "below_floor": v.latest.below_floor,
        "lines": v.latest.lines.iter().map(|l| json!({
            "description": l.description, "quantity": l.quantity, "unit_price": l.unit_price,
            "discount": l.discount, "amount": l.amount
        })).collect::<Vec<_>>(),
    })
}

/// The stored header and line inputs of a version (the base of a revision).
async fn stored(
    conn: &mut sqlx::AnyConnection,
    quote_id: i64,
    version_no: i64,
) -> Result<(i64, Header, Vec<LineInput>)> {
    let r = sqlx::query(
        "SELECT v.*, q.title FROM quote_versions v JOIN quotes q ON q.id = v.quote_id WHERE v.quote_id = $1 AND v.version_no = $2",
    )
    .bind(quote_id)
    .bind(version_no)
    .fetch_one(&mut *conn)
    .await?;
    let vid: i64 = r.try_get("id")?;
    let h = Header {
        title: r.try_get("title")?,
        contact_id: r.try_get("contact_id")?,
        contact_name: r.try_get("contact_name")?,
        contact_title: r.try_get("contact_title")?,
        phone: r.try_get("phone")?,
        fax: r.try_get("fax")?,
        quote_date: r.try_get("quote_date")?,
        valid_until: r.try_get("valid_until")?,
        payment_terms: installments_of(&r.try_get::<String, _>("payment_terms")?),
        payment_note: r.try_get("payment_note")?,
        delivery_terms: r.try_get("delivery_terms")?,
        notes: r.try_get("notes")?,
    };
    let rows = sqlx::query("SELECT * FROM quote_lines WHERE version_id = $1 ORDER BY position")
        .bind(vid)
        .fetch_all(&mut *conn)
        .await?;
    let lines = stored_line_inputs(conn, &rows).await?;
    Ok((vid, h, lines))
}

/// Stored lines (of `quote_lines` or `order_lines`) as inputs again, priced as they were: the
/// product's current facts, the stored price and tax rate.
pub(crate) async fn stored_line_inputs(conn: &mut sqlx::AnyConnection, rows: &[AnyRow]) -> Result<Vec<LineInput>> {
    let ids: Vec<i64> = rows.iter().filter_map(|l| l.try_get::<Option<i64>, _>("product_id").ok().flatten()).collect();
    let products = products_by_id(conn, &ids).await?;
    let mut lines = vec![];
    for l in rows {
        let pid: Option<i64> = l.try_get("product_id")?;
        lines.push(LineInput {
            product: pid.and_then(|p| products.iter().find(|x| x.id == p).cloned()),
            description: Some(l.try_get("description")?),
            specification: l.try_get("specification")?,
            unit: Some(l.try_get("unit")?),
            quantity: l.try_get("quantity")?,
            list_price: if pid.is_none() { l.try_get("list_price")? } else { None },
            unit_price: Some(l.try_get("unit_price")?),
            discount_bp: None,
            amount: None,
            tax_rate_bp: Some(l.try_get("tax_rate_bp")?),
        });
    }
    Ok(lines)
}

/// What an order copies from an accepted quote: its accepted version's lines and terms.
pub struct Accepted {
    pub account_id: i64,
    pub opportunity_id: i64,
    pub lines: Vec<LineInput>,
    pub payment_terms: Vec<Installment>,
    pub payment_note: Option<String>,
    pub delivery_terms: Option<String>,
}

/// The accepted version of a quote in the caller's scope (a quote not accepted: 409
/// `quote_not_accepted`).
pub(crate) async fn accepted_content(conn: &mut sqlx::AnyConnection, caller: &Caller, id: i64) -> Result<Accepted> {
    let r = row_scoped(conn, Some(caller), id).await?;
    let state: QuoteState = r.try_get("state")?;
    if state != QuoteState::Accepted {
        return Err(Error::Conflict("quote_not_accepted"));
    }
    let n: i64 = r.try_get::<Option<i64>, _>("sent_version")?.unwrap_or(r.try_get("current_version")?);
    let (_, h, lines) = stored(conn, id, n).await?;
    Ok(Accepted {
        account_id: r.try_get("account_id")?,
        opportunity_id: r.try_get("opportunity_id")?,
        lines,
        payment_terms: h.payment_terms,
        payment_note: h.payment_note,
        delivery_terms: h.delivery_terms,
    })
}

/// Locks the quote's row for a change and checks the caller may make it.
async fn lock(tx: &mut WriteTx, caller: &Caller, id: i64) -> Result<AnyRow> {
    let r = row_scoped(tx.conn(), Some(caller), id).await?;
    let lock = tx.lock_clause(RowLock::Update);
    sqlx::query(&format!("SELECT id FROM quotes WHERE id = $1{lock}")).bind(id).fetch_one(tx.conn()).await?;
    may_quote(tx.conn(), caller, r.try_get("opportunity_id")?).await?;
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

/// Revises a quote: a draft in place; a pending, approved or sent version as version n + 1,
/// submitted again at once (the old one superseded, its request cancelled).
pub async fn revise(db: &Db, ctx: &Ctx, id: i64, inp: &QuoteIn) -> Result<QuoteView> {
    let caller = &ctx.caller;
    let mut tx = db.begin().await?;
    let r = lock(&mut tx, caller, id).await?;
    check_version(&r, inp.version)?;
    let state: QuoteState = r.try_get("state")?;
    if state.is_final() {
        return Err(Error::Conflict("quote_closed"));
    }
    let cur: i64 = r.try_get("current_version")?;
    let account_id: i64 = r.try_get("account_id")?;
    let before = full_view(tx.conn(), Some(caller), &r, None).await?;
    let (vid, base, base_lines) = stored(tx.conn(), id, cur).await?;
    let (h, lines, _) = prepare(tx.conn(), account_id, inp, base, Some(base_lines)).await?;
    let t = q::totals(&lines);
    let at = now();
    if state.edits_in_place() {
        // A draft is rewritten; a request it was returned from stays linked, with its reason.
        let kept = sqlx::query("SELECT approval_id, returned_reason FROM quote_versions WHERE id = $1")
            .bind(vid)
            .fetch_one(tx.conn())
            .await?;
        let (aid, why): (Option<i64>, Option<String>) =
            (kept.try_get("approval_id")?, kept.try_get("returned_reason")?);
        sqlx::query("DELETE FROM quote_lines WHERE version_id = $1").bind(vid).execute(tx.conn()).await?;
        sqlx::query("DELETE FROM quote_versions WHERE id = $1").bind(vid).execute(tx.conn()).await?;
        let nvid = write_version(&mut tx, id, cur, QuoteState::Draft, &h, &lines, &t, &caller.username, &at).await?;
        sqlx::query("UPDATE quote_versions SET approval_id = $1, returned_reason = $2 WHERE id = $3")
            .bind(aid)
            .bind(why)
            .bind(nvid)
            .execute(tx.conn())
            .await?;
        update_row(&mut tx, id, cur, QuoteState::Draft, &h, &t, lines.len(), &at).await?;
    } else {
        let next = cur + 1;
        sqlx::query("UPDATE quote_versions SET state = 'superseded', closed_at = $1 WHERE id = $2")
            .bind(at.clone())
            .bind(vid)
            .execute(tx.conn())
            .await?;
        write_version(&mut tx, id, next, QuoteState::Draft, &h, &lines, &t, &caller.username, &at).await?;
        update_row(&mut tx, id, next, QuoteState::Draft, &h, &t, lines.len(), &at).await?;
        // The old version's pending request has nothing left to decide.
        approvals::cancel_pending(&mut tx, ctx, Flow::DiscountException, "quote", id, "decisive_changed", Utc::now())
            .await?;
        submit_latest(&mut tx, ctx, id).await?;
    }
    let r = row_scoped(tx.conn(), None, id).await?;
    let after = full_view(tx.conn(), Some(caller), &r, None).await?;
    audit::record(
        &mut tx,
        ctx,
        "quote",
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
    state: QuoteState,
    h: &Header,
    t: &Totals,
    line_count: usize,
    at: &str,
) -> Result<()> {
    sqlx::query(
        "UPDATE quotes SET title = $1, current_version = $2, state = $3, quote_date = $4, valid_until = $5, total = $6, \
         discount_bp = $7, below_floor = $8, line_count = $9, version = version + 1, updated_at = $10 WHERE id = $11",
    )
    .bind(h.title.clone())
    .bind(version_no)
    .bind(state.code())
    .bind(h.quote_date.clone())
    .bind(h.valid_until.clone())
    .bind(t.total)
    .bind(t.discount_bp)
    .bind(t.below_floor as i64)
    .bind(line_count as i64)
    .bind(at)
    .bind(id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The approval subject of a quote (its latest version, or the figure given).
async fn subject_of(tx: &mut WriteTx, id: i64, figure: Option<Figure>) -> Result<Subject> {
    Subject::of_versioned(tx, "quote", "quotes", id, figure).await
}

/// Submits the latest version (a draft): within the author's authority it is approved at
/// once; beyond it a `discount_exception` request starts and the version waits.
async fn submit_latest(tx: &mut WriteTx, ctx: &Ctx, id: i64) -> Result<QuoteState> {
    let r = sqlx::query(
        "SELECT v.id, v.version_no, v.total, v.discount_bp, v.max_line_discount_bp, v.quote_discount_bp, v.below_floor \
         FROM quote_versions v JOIN quotes q ON q.id = v.quote_id AND v.version_no = q.current_version WHERE q.id = $1",
    )
    .bind(id)
    .fetch_one(tx.conn())
    .await?;
    let t = Totals {
        total: r.try_get("total")?,
        discount_bp: r.try_get("discount_bp")?,
        max_line_discount_bp: r.try_get("max_line_discount_bp")?,
        quote_discount_bp: r.try_get("quote_discount_bp")?,
        below_floor: r.try_get::<i64, _>("below_floor")? == 1,
        ..Totals::default()
    };
    let vid: i64 = r.try_get("id")?;
    let version_no: i64 = r.try_get("version_no")?;
    let limit = q::limit_of(&limits(tx.conn()).await?, ctx.caller.role);
    let at = now();
    let figure = Figure { value: q::approval_figure(&t), floor: limit };
    let (_, def) = approvals::definition(tx.conn(), Flow::DiscountException).await?;
    // Within the author's authority, or beyond it with no level above to ask (a general
    // manager's own quote): approved at once.
    let nobody_above = !def.steps.iter().any(|s| s.applies(Some(figure)));
    let state = if q::within_authority(&t, limit) || nobody_above {
        sqlx::query(
            "UPDATE quote_versions SET state = 'approved', within_authority = 1, submitted_at = $1, approved_at = $1, \
             returned_reason = NULL WHERE id = $2",
        )
        .bind(at.clone())
        .bind(vid)
        .execute(tx.conn())
        .await?;
        QuoteState::Approved
    } else {
        let subject = subject_of(tx, id, Some(figure)).await?;
        let decisive = json!({"version_no": version_no, "total": format_fen(t.total), "discount_bp": t.discount_bp, "below_floor": t.below_floor});
        let payload = json!({"version_no": version_no, "discount": format_bp(t.discount_bp), "limit": format_bp(limit), "below_floor": t.below_floor, "total": format_fen(t.total)});
        let aid = approvals::start(tx, ctx, Flow::DiscountException, &subject, &decisive, &payload, Utc::now()).await?;
        sqlx::query(
            "UPDATE quote_versions SET state = 'pending', within_authority = 0, submitted_at = $1, approval_id = $2, \
             returned_reason = NULL WHERE id = $3",
        )
        .bind(at.clone())
        .bind(aid)
        .bind(vid)
        .execute(tx.conn())
        .await?;
        QuoteState::Pending
    };
    sqlx::query("UPDATE quotes SET state = $1, version = version + 1, updated_at = $2 WHERE id = $3")
        .bind(state.code())
        .bind(at)
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(state)
}

/// What a state change asks for.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Action {
    /// The quote's row version the caller saw.
    pub version: i64,
    /// Lost: why (required).
    #[serde(default)]
    pub reason: Option<String>,
    /// Accepted: the opportunity's amount becomes the quote's tax-inclusive total.
    #[serde(default)]
    pub update_amount: bool,
}

/// Submits a draft for approval (or approves it at once within the author's authority).
pub async fn submit(db: &Db, ctx: &Ctx, id: i64, a: &Action) -> Result<QuoteView> {
    transition(db, ctx, id, a, "submit", &[QuoteState::Draft]).await
}

/// Marks the approved latest version sent to the customer.
pub async fn send(db: &Db, ctx: &Ctx, id: i64, a: &Action) -> Result<QuoteView> {
    transition(db, ctx, id, a, "send", &[QuoteState::Approved]).await
}

/// The customer accepted the sent version: the opportunity's `quote_approved` is ticked and,
/// when asked, its amount follows the quote's total.
pub async fn accept(db: &Db, ctx: &Ctx, id: i64, a: &Action) -> Result<QuoteView> {
    transition(db, ctx, id, a, "accept", &[QuoteState::Sent]).await
}

/// The quote is lost (a reason required).
pub async fn lose(db: &Db, ctx: &Ctx, id: i64, a: &Action) -> Result<QuoteView> {
    transition(
        db,
        ctx,
        id,
        a,
        "lose",
        &[QuoteState::Draft, QuoteState::Pending, QuoteState::Approved, QuoteState::Sent],
    )
    .await
}

/// Makes the quote its opportunity's current one.
pub async fn make_current(db: &Db, ctx: &Ctx, id: i64, a: &Action) -> Result<QuoteView> {
    let caller = &ctx.caller;
    let mut tx = db.begin().await?;
    let r = lock(&mut tx, caller, id).await?;
    check_version(&r, Some(a.version))?;
    let opp: i64 = r.try_get("opportunity_id")?;
    let at = now();
    sqlx::query("UPDATE quotes SET is_current = 0 WHERE opportunity_id = $1 AND is_current = 1")
        .bind(opp)
        .execute(tx.conn())
        .await?;
    sqlx::query("UPDATE quotes SET is_current = 1, version = version + 1, updated_at = $1 WHERE id = $2")
        .bind(at)
        .bind(id)
        .execute(tx.conn())
        .await?;
    audit::record(&mut tx, ctx, "quote", &id.to_string(), "make_current", None, None).await?;
    let r = row_scoped(tx.conn(), None, id).await?;
    let v = full_view(tx.conn(), Some(caller), &r, None).await?;
    tx.commit().await?;
    Ok(v)
}

async fn transition(db: &Db, ctx: &Ctx, id: i64, a: &Action, action: &str, from: &[QuoteState]) -> Result<QuoteView> {
    let caller = &ctx.caller;
    let reason = text::optional(a.reason.as_deref(), 1000).map_err(|c| Error::invalid("reason", c))?;
    if action == "lose" && reason.is_none() {
        return Err(Error::invalid("reason", "required"));
    }
    let mut tx = db.begin().await?;
    let r = lock(&mut tx, caller, id).await?;
    check_version(&r, Some(a.version))?;
    let state: QuoteState = r.try_get("state")?;
    if !from.contains(&state) {
        return Err(Error::Conflict(match action {
            "send" => "quote_not_approved",
            "accept" => "quote_not_sent",
            "submit" => "quote_not_draft",
            _ => "quote_closed",
        }));
    }
    let cur: i64 = r.try_get("current_version")?;
    let at = now();
    let next = match action {
        "submit" => {
            submit_latest(&mut tx, ctx, id).await?;
            None
        }
        "send" => {
            sqlx::query(
                "UPDATE quote_versions SET state = 'sent', sent_at = $1, sent_by = $2 WHERE quote_id = $3 AND version_no = $4",
            )
            .bind(at.clone())
            .bind(caller.username.as_str())
            .bind(id)
            .bind(cur)
            .execute(tx.conn())
            .await?;
            sqlx::query("UPDATE quotes SET sent_version = $1 WHERE id = $2")
                .bind(cur)
                .bind(id)
                .execute(tx.conn())
                .await?;
            Some(QuoteState::Sent)
        }
        "accept" => {
            let opp: i64 = r.try_get("opportunity_id")?;
            opportunities::set_check_in(&mut tx, ctx, opp, "quote_approved", true, None).await?;
            if a.update_amount {
                let ov: i64 = sqlx::query("SELECT version FROM opportunities WHERE id = $1")
                    .bind(opp)
                    .fetch_one(tx.conn())
                    .await?
                    .try_get("version")?;
                let mut inp = Input::from_json(&json!({"amount": format_fen(r.try_get("total")?)}))?;
                inp.version = Some(ov);
                opportunities::update_in(&mut tx, ctx, opp, &inp).await?;
            }
            Some(QuoteState::Accepted)
        }
        _ => {
            // Lost: a pending request no longer has anything to decide.
            approvals::cancel_pending(&mut tx, ctx, Flow::DiscountException, "quote", id, "withdrawn", Utc::now())
                .await?;
            sqlx::query("UPDATE quotes SET lost_reason = $1 WHERE id = $2")
                .bind(reason.clone())
                .bind(id)
                .execute(tx.conn())
                .await?;
            Some(QuoteState::Lost)
        }
    };
    if let Some(st) = next {
        if st.is_final() {
            sqlx::query("UPDATE quote_versions SET state = $1, closed_at = $2 WHERE quote_id = $3 AND version_no = $4")
                .bind(st.code())
                .bind(at.clone())
                .bind(id)
                .bind(cur)
                .execute(tx.conn())
                .await?;
        }
        sqlx::query("UPDATE quotes SET state = $1, version = version + 1, updated_at = $2 WHERE id = $3")
            .bind(st.code())
            .bind(at)
            .bind(id)
            .execute(tx.conn())
            .await?;
    }
    let r = row_scoped(tx.conn(), None, id).await?;
    let after = full_view(tx.conn(), Some(caller), &r, None).await?;
    audit::record(
        &mut tx,
        ctx,
        "quote",
        &id.to_string(),
        action,
        Some(&json!({"quote_state": state, "version_no": cur})),
        Some(&json!({"quote_state": after.state, "version_no": after.current_version, "reason": reason})),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

// ---------------------------------------------------------------------------------------------
// Attachments (附件)

/// The quote's row in the caller's scope (a file's read asks no more).
pub(crate) async fn seen(conn: &mut sqlx::AnyConnection, caller: &Caller, id: i64) -> Result<()> {
    row_scoped(conn, Some(caller), id).await.map(|_| ())
}

/// Encloses a file with a quote, under its latest version; whoever may write the quote may,
/// until the quote is lost or expired.
pub async fn attach(db: &Db, ctx: &Ctx, store: &Storage, id: i64, f: &FileIn<'_>) -> Result<Attachment> {
    let mut tx = db.begin().await?;
    let r = lock(&mut tx, &ctx.caller, id).await?;
    let state: QuoteState = r.try_get("state")?;
    if matches!(state, QuoteState::Lost | QuoteState::Expired) {
        return Err(Error::Conflict("quote_closed"));
    }
    let a = attachments::add_in(&mut tx, ctx, store, "quote", id, Some(r.try_get("current_version")?), f).await?;
    tx.commit().await?;
    Ok(a)
}

/// Removes a file from a quote: only one added under the latest version while that version is
/// a draft or waits for approval (what was approved or sent stays as it went out).
pub async fn detach(db: &Db, ctx: &Ctx, id: i64, file_id: i64) -> Result<()> {
    let mut tx = db.begin().await?;
    let r = lock(&mut tx, &ctx.caller, id).await?;
    let a = attachments::one(tx.conn(), "quote", id, file_id).await?;
    let state: QuoteState = r.try_get("state")?;
    let current: i64 = r.try_get("current_version")?;
    if !matches!(state, QuoteState::Draft | QuoteState::Pending) || a.version_no != Some(current) {
        return Err(Error::Conflict("attachment_fixed"));
    }
    attachments::remove_in(&mut tx, ctx, "quote", id, file_id).await?;
    tx.commit().await?;
    Ok(())
}

/// Quotes whose validity ended before `today` and that were never accepted or lost become
/// expired (the scheduler, once a pass; a pending request is cancelled). Returns how many.
pub async fn expire_due(db: &Db, today: &str) -> Result<usize> {
    let ids: Vec<i64> = sqlx::query(
        "SELECT id FROM quotes WHERE valid_until < $1 AND state IN ('draft', 'pending', 'approved', 'sent') ORDER BY id LIMIT 500",
    )
    .bind(today)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|r| r.try_get("id"))
    .collect::<Result<_, _>>()?;
    let ctx = Ctx::system();
    for id in &ids {
        let mut tx = db.begin().await?;
        let lock = tx.lock_clause(RowLock::Update);
        let r = sqlx::query(&format!("SELECT state, current_version, valid_until FROM quotes WHERE id = $1{lock}"))
            .bind(*id)
            .fetch_one(tx.conn())
            .await?;
        let st: QuoteState = r.try_get("state")?;
        if st.is_final() || r.try_get::<String, _>("valid_until")?.as_str() >= today {
            continue;
        }
        let cur: i64 = r.try_get("current_version")?;
        let at = now();
        approvals::cancel_pending(&mut tx, &ctx, Flow::DiscountException, "quote", *id, "withdrawn", Utc::now())
            .await?;
        sqlx::query(
            "UPDATE quote_versions SET state = 'expired', closed_at = $1 WHERE quote_id = $2 AND version_no = $3",
        )
        .bind(at.clone())
        .bind(*id)
        .bind(cur)
        .execute(tx.conn())
        .await?;
        sqlx::query("UPDATE quotes SET state = 'expired', version = version + 1, updated_at = $1 WHERE id = $2")
            .bind(at)
            .bind(*id)
            .execute(tx.conn())
            .await?;
        audit::record(
            &mut tx,
            &ctx,
            "quote",
            &id.to_string(),
            "expire",
            Some(&json!({"quote_state": st})),
            Some(&json!({"quote_state": "expired"})),
        )
        .await?;
        tx.commit().await?;
    }
    Ok(ids.len())
}

// ---------------------------------------------------------------------------------------------
// The approval engine's side

/// A discount-exception request closed: the version it was asked for is approved, or goes
/// back to draft with the decider's reason (rejected, returned, withdrawn).
fn on_closed<'a>(tx: &'a mut WriteTx, _ctx: &'a Ctx, c: Closed<'a>) -> HookFuture<'a> {
    Box::pin(async move {
        let r = sqlx::query("SELECT id, quote_id, version_no, state FROM quote_versions WHERE approval_id = $1")
            .bind(c.approval_id)
            .fetch_optional(tx.conn())
            .await?;
        let Some(r) = r else { return Ok(()) };
        let state: QuoteState = r.try_get("state")?;
        if state != QuoteState::Pending {
            return Ok(());
        }
        let (vid, qid): (i64, i64) = (r.try_get("id")?, r.try_get("quote_id")?);
        let at = now();
        let next = match c.state {
            ApprovalState::Approved => QuoteState::Approved,
            _ => QuoteState::Draft,
        };
        sqlx::query("UPDATE quote_versions SET state = $1, approved_at = $2, returned_reason = $3 WHERE id = $4")
            .bind(next.code())
            .bind(if next == QuoteState::Approved { Some(at.clone()) } else { None })
            .bind(if next == QuoteState::Draft { c.reason.map(str::to_string) } else { None })
            .bind(vid)
            .execute(tx.conn())
            .await?;
        sqlx::query("UPDATE quotes SET state = $1, version = version + 1, updated_at = $2 WHERE id = $3 AND current_version = $4")
            .bind(next.code())
            .bind(at)
            .bind(qid)
            .bind(r.try_get::<i64, _>("version_no")?)
            .execute(tx.conn())
            .await?;
        Ok(())
    })
}

inventory::submit! { OutcomeHook { flow: Flow::DiscountException, run: on_closed } }

/// Whoever sees a quote's opportunity sees its requests.
fn sees_quote<'a>(conn: &'a mut sqlx::AnyConnection, caller: &'a Caller, id: i64) -> ScopeFuture<'a> {
    Box::pin(async move { approvals::seen(row_scoped(conn, Some(caller), id).await) })
}

inventory::submit! { SubjectScope { kind: "quote", sees: sees_quote } }
