//! `/api/v1/quotes` and an opportunity's quotes: versioned quotes with discount authority.
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use crate::app::quotes::quotes::{self as quotes, Action, Filter, QuoteIn, QuoteRow, QuoteView};
use crate::domain::quote::QuoteState;
use crate::web::api::contract::{FormatQuery, Id, PageQuery};
use crate::web::api::{person_download, Api, ApiResult, Op, Params, Query, Typed};
use crate::web::auth::ApiCtx;
use crate::web::AppState;

pub fn routes(api: Api) -> Api {
    api.add(
        Op::get("/api/v1/quotes", "List quotes in scope (scoped as their opportunity)", "quotes")
            .query::<FilterQuery>()
            .query::<SortQuery>()
            .query::<PageQuery>()
            .page::<QuoteRow>(),
        list,
    )
    .add(
        Op::get("/api/v1/quotes/export", "Export the quotes the filters find as CSV or XLSX (?format=xlsx)", "quotes")
            .describe(
                "Every quote in scope the filters find (at most 100,000), in the list's order; headers and the file \
                 name in the caller's language (商务报价_2026-12-03.xlsx); XLSX totals are number cells in yuan and \
                 states their labels, CSV keeps decimal strings and codes.",
            )
            .query::<FilterQuery>()
            .query::<SortQuery>()
            .query::<FormatQuery>()
            .download()
            .with_format_schema(),
        export,
    )
    .add(
        Op::get("/api/v1/opportunities/{id}/quotes", "An opportunity's quotes, newest first", "quotes")
            .ok::<QuoteList>(200),
        of_opportunity,
    )
    .add(
        Op::post(
            "/api/v1/opportunities/{id}/quotes",
            "Create a quote (商务报价) on an opportunity: version 1, a draft, the opportunity's current quote",
            "quotes",
        )
        .describe(
            "Lines give a product of the catalogue or free text, a quantity, and the unit price or the discount \
             (the other follows). Prices are tax-inclusive; each line is rounded to the fen half up and the totals \
             are the sums of the lines. A negative quantity or price, a discount over 100 %, a valid-until before \
             the quote date, a line amount that is not quantity × price, or an inactive product: 422 naming the field.",
        )
        .body_example::<QuoteIn>(json!({
            "contact_id": 7,
            "valid_until": "2027-01-31",
            "lines": [
                {"product_id": 3, "quantity": "2", "discount": "12"},
                {"description": "安装调试服务", "unit": "项", "quantity": "1", "unit_price": "18000.00"}
            ],
            "payment_terms": [
                {"kind": "advance", "percent": "30", "days": 0},
                {"kind": "on_delivery", "percent": "60", "days": 30},
                {"kind": "after_acceptance", "percent": "10", "days": 30}
            ],
            "delivery_terms": "合同签订后 30 天内交货",
            "notes": "含三年原厂维保"
        }))
        .ok::<QuoteView>(201)
        .errors(&[404, 409]),
        create,
    )
    .add(
        Op::get("/api/v1/quotes/{id}", "A quote with its latest version (or ?version_no=n) whole and its versions", "quotes")
            .query::<VersionQuery>()
            .ok::<QuoteView>(200),
        get,
    )
    .add(
        Op::patch(
            "/api/v1/quotes/{id}",
            "Revise a quote (needs its version): a draft in place; a submitted, approved or sent version as version n + 1, submitted again",
            "quotes",
        )
        .body_example::<QuoteIn>(json!({"version": 4, "lines": [{"product_id": 3, "quantity": "2", "unit_price": "86000.00"}]}))
        .ok::<QuoteView>(200)
        .errors(&[409]),
        revise,
    )
    .add(
        Op::post(
            "/api/v1/quotes/{id}/submit",
            "Submit the draft: within the author's discount authority it is approved at once, beyond it a discount_exception request starts",
            "quotes",
        )
        .body_example::<Action>(json!({"version": 1}))
        .ok::<QuoteView>(200)
        .errors(&[409]),
        submit,
    )
    .add(
        Op::post("/api/v1/quotes/{id}/send", "Mark the approved version sent to the customer", "quotes")
            .body_example::<Action>(json!({"version": 3}))
            .ok::<QuoteView>(200)
            .errors(&[409]),
        send,
    )
    .add(
        Op::post(
            "/api/v1/quotes/{id}/accept",
            "The customer accepted the sent version: the opportunity's quote_approved is ticked (and its amount follows the total when update_amount)",
            "quotes",
        )
        .body_example::<Action>(json!({"version": 4, "update_amount": true}))
        .ok::<QuoteView>(200)
        .errors(&[409]),
        accept,
    )
    .add(
        Op::post("/api/v1/quotes/{id}/lose", "The quote is lost (reason required)", "quotes")
            .body_example::<Action>(json!({"version": 4, "reason": "客户选择了价格更低的竞品"}))
            .ok::<QuoteView>(200)
            .errors(&[409]),
        lose,
    )
    .add(
        Op::post("/api/v1/quotes/{id}/current", "Make the quote its opportunity's current one", "quotes")
            .body_example::<Action>(json!({"version": 2}))
            .ok::<QuoteView>(200)
            .errors(&[409]),
        make_current,
    )
}

/// Which quotes.
#[derive(Deserialize, IntoParams)]
pub struct FilterQuery {
    /// Only this opportunity's.
    pub opportunity_id: Option<i64>,
    /// Only this account's.
    pub account_id: Option<i64>,
    /// Only this quoting person's (username).
    pub owner: Option<String>,
    /// Only in this state.
    pub state: Option<QuoteState>,
    /// Open quotes whose validity ends within this many days (today included).
    #[param(minimum = 0, maximum = 3650)]
    pub expiring_within: Option<i64>,
    /// Discount above this percentage (`10` or `12.5`).
    #[param(pattern = r"^\d{1,3}(\.\d{1,2})?$")]
    pub discount_over: Option<String>,
    /// Matches the number, the title, the account's or the opportunity's name.
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// `true` or `1`: only each opportunity's current quote.
    pub current: Option<String>,
}

/// The list's order.
#[derive(Deserialize, IntoParams)]
pub struct SortQuery {
    /// `-updated` (default, latest first), `updated`, `total`, `-total`, `valid_until`, `-discount`.
    #[param(inline)]
    pub sort: Option<Sort>,
}

/// A list order of quotes.
#[derive(Deserialize, ToSchema, Clone, Copy)]
pub enum Sort {
    #[serde(rename = "-updated")]
    UpdatedDesc,
    #[serde(rename = "updated")]
    Updated,
    #[serde(rename = "total")]
    Total,
    #[serde(rename = "-total")]
    TotalDesc,
    #[serde(rename = "valid_until")]
    ValidUntil,
    #[serde(rename = "-discount")]
    DiscountDesc,
}

impl Sort {
    fn code(self) -> &'static str {
        match self {
            Sort::UpdatedDesc => "-updated",
            Sort::Updated => "updated",
            Sort::Total => "total",
            Sort::TotalDesc => "-total",
            Sort::ValidUntil => "valid_until",
            Sort::DiscountDesc => "-discount",
        }
    }
}

/// Which version to show.
#[derive(Deserialize, IntoParams)]
pub struct VersionQuery {
    /// A version number (default: the latest).
    #[param(minimum = 1)]
    pub version_no: Option<i64>,
}

/// `{"items": […]}`.
#[derive(Serialize, ToSchema)]
pub struct QuoteList {
    pub items: Vec<QuoteRow>,
}

fn filter_of(f: FilterQuery, o: SortQuery, p: Option<PageQuery>) -> Filter {
    Filter {
        opportunity_id: f.opportunity_id,
        account_id: f.account_id,
        owner: f.owner,
        state: f.state.map(|s| s.code().to_string()),
        expiring_within: f.expiring_within,
        discount_over: f.discount_over,
        q: f.q,
        current: matches!(f.current.as_deref(), Some("true" | "1")),
        sort: o.sort.map(|s| s.code().to_string()),
        cursor: p.as_ref().and_then(|p| p.cursor.clone()),
        limit: p.and_then(|p| p.limit),
    }
}

async fn export(
    State(s): State<AppState>,
    c: ApiCtx,
    Query(f): Query<FilterQuery>,
    Query(o): Query<SortQuery>,
    Query(fmt): Query<FormatQuery>,
) -> ApiResult {
    let rows = quotes::export(&s.app.db, &c.ctx.caller, &filter_of(f, o, None), &today_of(&c)).await?;
    Ok(person_download(&quotes::table(&rows), &c.ctx.caller, c.lang, fmt.code().unwrap_or("csv"), "quotes")?)
}

fn today_of(c: &ApiCtx) -> String {
    c.ctx.caller.today()
}

async fn list(
    State(s): State<AppState>,
    c: ApiCtx,
    Query(f): Query<FilterQuery>,
    Query(o): Query<SortQuery>,
    Query(p): Query<PageQuery>,
) -> ApiResult {
    let f = filter_of(f, o, Some(p));
    Ok(Json(quotes::list(&s.app.db, &c.ctx.caller, &f, &today_of(&c)).await?).into_response())
}

async fn of_opportunity(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    // An opportunity out of scope is not found, not an empty list.
    crate::app::funnel::opportunities::get(&s.app.db, &c.ctx.caller, id).await?;
    let items = quotes::of_opportunity(&s.app.db, &c.ctx.caller, id).await?;
    Ok(Json(QuoteList { items }).into_response())
}

async fn create(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>, b: Typed<QuoteIn>) -> ApiResult {
    let v = quotes::create(&s.app.db, &c.ctx, id, &b.typed).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

async fn get(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(Id(id)): Params<Id>,
    Query(v): Query<VersionQuery>,
) -> ApiResult {
    Ok(Json(quotes::get(&s.app.db, &c.ctx.caller, id, v.version_no).await?).into_response())
}

async fn revise(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>, b: Typed<QuoteIn>) -> ApiResult {
    Ok(Json(quotes::revise(&s.app.db, &c.ctx, id, &b.typed).await?).into_response())
}

async fn submit(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>, b: Typed<Action>) -> ApiResult {
    Ok(Json(quotes::submit(&s.app.db, &c.ctx, id, &b.typed).await?).into_response())
}

async fn send(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>, b: Typed<Action>) -> ApiResult {
    Ok(Json(quotes::send(&s.app.db, &c.ctx, id, &b.typed).await?).into_response())
}

async fn accept(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>, b: Typed<Action>) -> ApiResult {
    Ok(Json(quotes::accept(&s.app.db, &c.ctx, id, &b.typed).await?).into_response())
}

async fn lose(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>, b: Typed<Action>) -> ApiResult {
    Ok(Json(quotes::lose(&s.app.db, &c.ctx, id, &b.typed).await?).into_response())
}

async fn make_current(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>, b: Typed<Action>) -> ApiResult {
    Ok(Json(quotes::make_current(&s.app.db, &c.ctx, id, &b.typed).await?).into_response())
}
