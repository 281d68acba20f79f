//! Bad-debt write-offs (坏账核销) and returns (退货; issue 21).
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;

use crate::app::orders::returns::{self as rt, OrderReturns, ReturnIn, ReturnView};
use crate::app::orders::writeoffs::{self as wo, WriteoffIn, WriteoffView};
use crate::web::api::contract::Id;
use crate::web::api::{Api, ApiResult, Op, Params, Typed};
use crate::web::auth::ApiCtx;
use crate::web::AppState;

pub fn routes(api: Api) -> Api {
    api.add(
        Op::post(
            "/api/v1/receivables/{id}/write-off",
            "Propose a bad-debt write-off (坏账核销) of an open receivable (finance or a sales manager)",
            "writeoffs",
        )
        .describe(
            "Starts a `bad_debt_writeoff` request (a finance manager other than the proposer decides, through \
             /api/v1/approvals). The amount is above 0 and at most what the receivable still owes less pending \
             write-offs (422 naming `amount`); a reason is required. Approved, the receivable's `written_off` grows \
             and it is `written_off` when nothing is left; if payments meanwhile left less owed, the approval is \
             refused with 409 `writeoff_beyond_outstanding`. Salespeople: 403; out of scope: 404.",
        )
        .body_example::<WriteoffIn>(json!({"amount": "12000.00", "reason": "客户已破产清算，法院裁定无财产可供执行"}))
        .ok::<WriteoffView>(201)
        .errors(&[403, 404, 409]),
        propose,
    )
    .add(
        Op::get("/api/v1/accounts/{id}/write-offs", "An account's write-offs and where their requests stand, newest first", "writeoffs")
            .ok::<WriteoffList>(200),
        of_account,
    )
    .add(
        Op::get(
            "/api/v1/orders/{id}/returns",
            "An order's returns (退货), newest first, and what of each line may still come back",
            "writeoffs",
        )
        .ok::<OrderReturns>(200),
        returns_of_order,
    )
    .add(
        Op::post("/api/v1/orders/{id}/returns", "Record a return (退货) of delivered goods", "writeoffs")
            .describe(
                "Each line names an order line by its position and a quantity, at most what was delivered less \
                 what came back already (422 naming `lines[i].quantity`). Its value not yet invoiced comes off the \
                 receivables at once (`reduced`); the rest (`to_credit`) is for a red-letter invoice naming the \
                 return (`return_id` on POST /api/v1/orders/{id}/invoices), which takes it off the receivables.",
            )
            .body_example::<ReturnIn>(json!({"lines": [{"position": 0, "quantity": "1"}], "reason": "外壳运输损坏", "returned_on": "2027-03-12"}))
            .ok::<ReturnView>(201)
            .errors(&[403, 404, 409]),
        record_return,
    )
    .add(Op::get("/api/v1/returns/{id}", "One return with its lines and what is left to credit", "writeoffs").ok::<ReturnView>(200), get_return)
}

/// `{"items": […]}`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct WriteoffList {
    pub items: Vec<WriteoffView>,
}

async fn propose(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>, b: Typed<WriteoffIn>) -> ApiResult {
    let v = wo::propose(&s.app.db, &c.ctx, id, &b.typed).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

async fn of_account(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    let items = wo::of_account(&s.app.db, &c.ctx.caller, id).await?;
    Ok(Json(WriteoffList { items }).into_response())
}

async fn returns_of_order(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    Ok(Json(rt::of_order(&s.app.db, &c.ctx.caller, id).await?).into_response())
}

async fn record_return(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(Id(id)): Params<Id>,
    b: Typed<ReturnIn>,
) -> ApiResult {
    let v = rt::record(&s.app.db, &c.ctx, id, &b.typed).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

async fn get_return(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    Ok(Json(rt::get(&s.app.db, &c.ctx.caller, id).await?).into_response())
}
