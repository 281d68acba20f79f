//! Delivery (出库单, 发货, 到货, 验收; issue 21): an order's outbounds and their steps, and the
//! logistics worklist.
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

use crate::app::orders::deliveries::{
    self as dl, AcceptIn, DeliverIn, LogisticsWorklist, OrderDelivery, OutboundCancelIn, OutboundIn, OutboundView,
    ShipIn, WorklistFilter,
};
use crate::web::api::contract::Id;
use crate::web::api::{Api, ApiResult, Op, Params, Query, Typed};
use crate::web::auth::ApiCtx;
use crate::web::AppState;

pub fn routes(api: Api) -> Api {
    api.add(
        Op::get(
            "/api/v1/orders/{id}/outbounds",
            "An order's delivery: each line's ordered, outbound, delivered and accepted quantities, its outbounds (newest first), its delivery and acceptance days and lateness",
            "deliveries",
        )
        .ok::<OrderDelivery>(200),
        of_order,
    )
    .add(
        Op::post(
            "/api/v1/orders/{id}/outbounds",
            "Prepare an outbound (出库单) against a signed order (logistics or the order's sales roles)",
            "deliveries",
        )
        .describe(
            "Each line names an order line by its position and a quantity in its unit; partial deliveries are \
             allowed, but not more of a line than is left of it once every outbound that is not cancelled is \
             counted (422 naming `lines[i].quantity`), and at least one line above 0. A cancelled order takes no \
             outbound (409 `order_cancelled`); an order never signed neither (409 `order_not_signed`). A held order: \
             409 `order_held`. The credit check runs here too: an order whose account's exposure with it is \
             above the credit limit, or whose account is graded red or black, is held for credit — the hold \
             is kept and the answer is 409 `held_for_credit` (a credit decision releases it).",
        )
        .body_example::<OutboundIn>(json!({"lines": [{"position": 0, "quantity": "1"}, {"position": 1, "quantity": "4"}], "note": "第一批"}))
        .ok::<OutboundView>(201)
        .errors(&[403, 409]),
        prepare,
    )
    .add(Op::get("/api/v1/outbounds/{id}", "An outbound with its lines and files", "deliveries").ok::<OutboundView>(200), get)
    .add(
        Op::post("/api/v1/outbounds/{id}/ship", "Ship a prepared outbound: carrier, waybill, day", "deliveries")
            .describe(
                "A held order's outbound is not shipped (409 `order_held`). The credit check runs again: an order \
                 it holds now (its account's exposure above the credit limit, or graded red or black) keeps the \
                 hold and the answer is 409 `held_for_credit`.",
            )
            .body_example::<ShipIn>(json!({"version": 1, "carrier": "顺丰速运", "waybill": "SF1402938471", "shipped_on": "2027-03-02"}))
            .ok::<OutboundView>(200)
            .errors(&[403, 409]),
        ship,
    )
    .add(
        Op::post(
            "/api/v1/outbounds/{id}/deliver",
            "Record a shipped outbound delivered; the order's first delivery is its delivery event (installments counting from it fall due)",
            "deliveries",
        )
        .body_example::<DeliverIn>(json!({"version": 2, "delivered_on": "2027-03-04"}))
        .ok::<OutboundView>(200)
        .errors(&[403, 409]),
        deliver,
    )
    .add(
        Op::post(
            "/api/v1/outbounds/{id}/accept",
            "Record a delivered outbound accepted by the customer (验收); the step that leaves every line accepted in full is the order's acceptance event",
            "deliveries",
        )
        .describe("The acceptance document is uploaded to `/api/v1/outbounds/{id}/attachments`.")
        .body_example::<AcceptIn>(json!({"version": 3, "accepted_on": "2027-03-10", "note": "设备运行正常，验收合格"}))
        .ok::<OutboundView>(200)
        .errors(&[403, 409]),
        accept,
    )
    .add(
        Op::post("/api/v1/outbounds/{id}/cancel", "Cancel a prepared outbound (a reason required)", "deliveries")
            .body_example::<OutboundCancelIn>(json!({"version": 1, "reason": "客户要求改期"}))
            .ok::<OutboundView>(200)
            .errors(&[403, 409]),
        cancel,
    )
    .add(
        Op::get(
            "/api/v1/logistics/worklist",
            "The logistics worklist: signed orders with something left to deliver, the earliest requested delivery first, late ones with their days late",
            "deliveries",
        )
        .describe("Logistics, finance and HQ roles see every order; salespeople and managers their accounts'.")
        .query::<WorklistQuery>()
        .ok::<LogisticsWorklist>(200),
        worklist,
    )
}

/// Which orders of the worklist.
#[derive(Deserialize, IntoParams)]
pub struct WorklistQuery {
    /// Only those past their requested delivery.
    pub late: Option<bool>,
    /// Only this account's.
    pub account_id: Option<i64>,
}

async fn of_order(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    Ok(Json(dl::of_order(&s.app.db, &c.ctx.caller, id).await?).into_response())
}

async fn prepare(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>, b: Typed<OutboundIn>) -> ApiResult {
    let v = dl::prepare(&s.app.db, &c.ctx, id, &b.typed).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

async fn get(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    Ok(Json(dl::get(&s.app.db, &c.ctx.caller, id).await?).into_response())
}

async fn ship(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>, b: Typed<ShipIn>) -> ApiResult {
    Ok(Json(dl::ship(&s.app.db, &c.ctx, id, &b.typed).await?).into_response())
}

async fn deliver(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>, b: Typed<DeliverIn>) -> ApiResult {
    Ok(Json(dl::deliver(&s.app.db, &c.ctx, id, &b.typed).await?).into_response())
}

async fn accept(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>, b: Typed<AcceptIn>) -> ApiResult {
    Ok(Json(dl::accept(&s.app.db, &c.ctx, &s.app.settings.files(), id, &b.typed, None).await?).into_response())
}

async fn cancel(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(Id(id)): Params<Id>,
    b: Typed<OutboundCancelIn>,
) -> ApiResult {
    Ok(Json(dl::cancel(&s.app.db, &c.ctx, id, &b.typed).await?).into_response())
}

async fn worklist(State(s): State<AppState>, c: ApiCtx, Query(q): Query<WorklistQuery>) -> ApiResult {
    let f = WorklistFilter { late_only: q.late.unwrap_or(false), account_id: q.account_id };
    Ok(Json(dl::worklist(&s.app.db, &c.ctx.caller, &f).await?).into_response())
}
