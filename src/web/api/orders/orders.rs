//! `/api/v1/orders`, an accepted quote's order and a won opportunity's orders: versioned
//! orders (订货单) and their sign-off.
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use crate::app::orders::orders::{self as orders, Action, Filter, OrderIn, OrderRow, OrderView, Origin};
use crate::domain::order::OrderState;
use crate::web::api::contract::{Id, PageQuery};
use crate::web::api::{Api, ApiResult, Op, Params, Query, Typed};
use crate::web::auth::ApiCtx;
use crate::web::AppState;

const LINES_HELP: &str = "Lines give a product of the catalogue or free text, a quantity, and the unit price or the \
     discount (the other follows); prices are tax-inclusive, each line rounded to the fen half up, the totals the sums \
     of the lines. Payment terms are installments (advance, on_delivery, after_acceptance, retention), each with a \
     percentage and a due rule `N days after invoice|delivery|acceptance|order`; the percentages add up to 100. A due \
     rule that does not parse, a negative quantity or price, or installments that do not add up: 422 naming the \
     field and the row (`payment_terms[1].due`).";

pub fn routes(api: Api) -> Api {
    api.add(
        Op::get("/api/v1/orders", "List orders in scope (scoped as their account; finance and logistics see all)", "orders")
            .query::<FilterQuery>()
            .query::<SortQuery>()
            .query::<PageQuery>()
            .page::<OrderRow>(),
        list,
    )
    .add(
        Op::post("/api/v1/orders", "Create an order (订货单) on an account directly: version 1, a draft", "orders")
            .describe(LINES_HELP)
            .body_example::<OrderIn>(json!({
                "account_id": 12,
                "contract_no": "HT-2027-0031",
                "requested_delivery": "2027-03-31",
                "lines": [
                    {"product_id": 3, "quantity": "2", "unit_price": "86000.00"},
                    {"description": "安装调试服务", "unit": "项", "quantity": "1", "unit_price": "18000.00"}
                ],
                "payment_terms": [
                    {"kind": "advance", "percent": "30", "due": "0 days after order"},
                    {"kind": "on_delivery", "percent": "60", "due": "30 days after invoice"},
                    {"kind": "retention", "percent": "10", "due": "365 days after acceptance"}
                ]
            }))
            .ok::<OrderView>(201)
            .errors(&[404]),
        create_on_account,
    )
    .add(
        Op::post(
            "/api/v1/quotes/{id}/order",
            "Create an order from an accepted quote: the accepted version's lines and payment terms are copied (the body may change them)",
            "orders",
        )
        .describe(LINES_HELP)
        .body_example::<OrderIn>(json!({"contract_no": "HT-2027-0031", "requested_delivery": "2027-03-31"}))
        .ok::<OrderView>(201)
        .errors(&[404, 409]),
        create_from_quote,
    )
    .add(
        Op::get("/api/v1/opportunities/{id}/orders", "An opportunity's orders, newest first", "orders")
            .ok::<OrderList>(200),
        of_opportunity,
    )
    .add(
        Op::post("/api/v1/opportunities/{id}/orders", "Create an order on a won opportunity: version 1, a draft", "orders")
            .describe(LINES_HELP)
            .body_example::<OrderIn>(json!({
                "contract_no": "HT-2027-0032",
                "lines": [{"description": "年度维保服务", "unit": "年", "quantity": "1", "unit_price": "120000.00"}],
                "payment_terms": [{"kind": "advance", "percent": "100", "due": "15 days after invoice"}]
            }))
            .ok::<OrderView>(201)
            .errors(&[404, 409]),
        create_from_opportunity,
    )
    .add(
        Op::get("/api/v1/orders/{id}", "An order with its latest version (or ?version_no=n) whole and its versions", "orders")
            .query::<VersionQuery>()
            .ok::<OrderView>(200),
        get,
    )
    .add(
        Op::patch(
            "/api/v1/orders/{id}",
            "Change an order (needs its version): a draft in place; a pending or signed order as version n + 1, submitted for sign-off again",
            "orders",
        )
        .describe(LINES_HELP)
        .body_example::<OrderIn>(json!({"version": 3, "requested_delivery": "2027-04-15"}))
        .ok::<OrderView>(200)
        .errors(&[409]),
        revise,
    )
    .add(
        Op::post(
            "/api/v1/orders/{id}/submit",
            "Submit the draft for sign-off (order_signoff: the KA manager; above the flow's threshold also the KA director); within the requester's own authority it is signed at once",
            "orders",
        )
        .describe(
            "The credit check runs first (信用冻结): if the account's exposure with this order goes above its \
             credit limit, or the account is graded red or black, the order is held for credit. The hold is \
             kept and the answer is still 200: the order stays a draft with `held_for_credit` true and no \
             sign-off starts; the finance manager or the KA director decides it \
             (`POST /api/v1/holds/{id}/credit-decision`), and a release starts the sign-off. An order \
             already held (any hold): 409 `order_held`.",
        )
        .body_example::<Action>(json!({"version": 1}))
        .ok::<OrderView>(200)
        .errors(&[409]),
        submit,
    )
    .add(
        Op::post("/api/v1/orders/{id}/cancel", "Cancel the order (a reason required)", "orders")
            .body_example::<Action>(json!({"version": 4, "reason": "客户取消采购计划"}))
            .ok::<OrderView>(200)
            .errors(&[409]),
        cancel,
    )
}

/// Which orders.
#[derive(Deserialize, IntoParams)]
pub struct FilterQuery {
    /// Only this account's.
    pub account_id: Option<i64>,
    /// Only this opportunity's.
    pub opportunity_id: Option<i64>,
    /// Only this author's (username).
    pub owner: Option<String>,
    /// Only in this state.
    pub state: Option<OrderState>,
    /// Requested delivery on or before this date.
    #[param(format = Date)]
    pub delivery_before: Option<String>,
    /// Matches the number, the contract number or the account's name.
    #[param(max_length = 200)]
    pub q: Option<String>,
}

/// The list's order.
#[derive(Deserialize, IntoParams)]
pub struct SortQuery {
    /// `-updated` (default, latest first), `updated`, `total`, `-total`, `delivery` (earliest requested delivery first).
    #[param(inline)]
    pub sort: Option<Sort>,
}

/// A list order of orders.
#[derive(Deserialize, ToSchema, Clone, Copy)]
#[schema(as = OrderSort)]
pub enum Sort {
    #[serde(rename = "-updated")]
    UpdatedDesc,
    #[serde(rename = "updated")]
    Updated,
    #[serde(rename = "total")]
    Total,
    #[serde(rename = "-total")]
    TotalDesc,
    #[serde(rename = "delivery")]
    Delivery,
}

impl Sort {
    fn code(self) -> &'static str {
        match self {
            Sort::UpdatedDesc => "-updated",
            Sort::Updated => "updated",
            Sort::Total => "total",
            Sort::TotalDesc => "-total",
            Sort::Delivery => "delivery",
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
pub struct OrderList {
    pub items: Vec<OrderRow>,
}

async fn list(
    State(s): State<AppState>,
    c: ApiCtx,
    Query(f): Query<FilterQuery>,
    Query(o): Query<SortQuery>,
    Query(p): Query<PageQuery>,
) -> ApiResult {
    let f = Filter {
        account_id: f.account_id,
        opportunity_id: f.opportunity_id,
        owner: f.owner,
        state: f.state.map(|s| s.code().to_string()),
        delivery_before: f.delivery_before,
        q: f.q,
        sort: o.sort.map(|s| s.code().to_string()),
        cursor: p.cursor,
        limit: p.limit,
    };
    Ok(Json(orders::list(&s.app.db, &c.ctx.caller, &f).await?).into_response())
}

async fn of_opportunity(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    let items = orders::of_opportunity(&s.app.db, &c.ctx.caller, id).await?;
    Ok(Json(OrderList { items }).into_response())
}

async fn created(s: &AppState, c: &ApiCtx, origin: Origin, b: &OrderIn) -> ApiResult {
    let v = orders::create(&s.app.db, &c.ctx, origin, b).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

async fn create_on_account(State(s): State<AppState>, c: ApiCtx, b: Typed<OrderIn>) -> ApiResult {
    let Some(account) = b.typed.account_id else {
        return Err(crate::domain::DomainError::invalid("account_id", "required").into());
    };
    created(&s, &c, Origin::Account(account), &b.typed).await
}

async fn create_from_quote(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(Id(id)): Params<Id>,
    b: Typed<OrderIn>,
) -> ApiResult {
    created(&s, &c, Origin::Quote(id), &b.typed).await
}

async fn create_from_opportunity(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(Id(id)): Params<Id>,
    b: Typed<OrderIn>,
) -> ApiResult {
    created(&s, &c, Origin::Opportunity(id), &b.typed).await
}

async fn get(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(Id(id)): Params<Id>,
    Query(v): Query<VersionQuery>,
) -> ApiResult {
    Ok(Json(orders::get(&s.app.db, &c.ctx.caller, id, v.version_no).await?).into_response())
}

async fn revise(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>, b: Typed<OrderIn>) -> ApiResult {
    Ok(Json(orders::revise(&s.app.db, &c.ctx, id, &b.typed).await?).into_response())
}

async fn submit(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>, b: Typed<Action>) -> ApiResult {
    Ok(Json(orders::submit(&s.app.db, &c.ctx, id, &b.typed).await?).into_response())
}

async fn cancel(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>, b: Typed<Action>) -> ApiResult {
    Ok(Json(orders::cancel(&s.app.db, &c.ctx, id, &b.typed).await?).into_response())
}
