//! Holds and the receivables policy (issue 21, DOMAIN.md §12.5).
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

use crate::app::orders::credit_decisions::{self, CreditDecisionIn, CreditDecisionView};
use crate::app::orders::holds::{self, HoldIn, HoldView, ReleaseIn};
use crate::app::orders::policy::{self, ReceivablesPolicy, ReceivablesPolicyIn};
use crate::web::api::contract::Id;
use crate::web::api::{Api, ApiResult, Op, Params, Query, Typed};
use crate::web::auth::ApiCtx;
use crate::web::AppState;

pub fn routes(api: Api) -> Api {
    api.add(
        Op::get("/api/v1/holds", "Held orders (冻结) in scope, newest first (at most 500)", "receivables")
            .query::<HoldsQuery>()
            .ok::<HoldList>(200),
        list,
    )
    .add(
        Op::get("/api/v1/orders/{id}/holds", "The holds covering an order: its own and its account's", "receivables")
            .ok::<HoldList>(200),
        of_order,
    )
    .add(
        Op::post(
            "/api/v1/orders/{id}/holds",
            "Hold an order with a reason (finance, or a manager above its owner)",
            "receivables",
        )
        .describe(
            "While held the order is not submitted for sign-off, prepared or shipped (409 `order_held`); \
                 finance releases it. An order already held by hand: 409 `order_held`.",
        )
        .body_example::<HoldIn>(json!({"reason": "客户对合同条款有争议，待法务确认"}))
        .ok::<HoldView>(201)
        .errors(&[403, 404, 409]),
        place,
    )
    .add(
        Op::get("/api/v1/accounts/{id}/holds", "An account's holds, newest first", "receivables").ok::<HoldList>(200),
        of_account,
    )
    .add(
        Op::post("/api/v1/holds/{id}/release", "Release a hold with a reason (finance)", "receivables")
            .describe(
                "A general or dunning hold. A credit hold (kind `credit`) ends only by a credit decision \
                 (`POST /api/v1/holds/{id}/credit-decision`): 409 `credit_decision_needed`.",
            )
            .body_example::<ReleaseIn>(json!({"reason": "客户已结清逾期款项", "version": 1}))
            .ok::<HoldView>(200)
            .errors(&[403, 404, 409]),
        release,
    )
    .add(
        Op::post(
            "/api/v1/holds/{id}/credit-decision",
            "Decide a credit hold (信用冻结): release or reject it, with a reason (the finance manager or the KA director)",
            "receivables",
        )
        .describe(
            "The credit check holds an order when it is submitted for sign-off, when its sign-off is approved, \
             and when an outbound is prepared or shipped, if the account's exposure with the order (what its \
             signed orders still owe, invoiced or not) goes above its credit limit, or the account is graded \
             red or black. A submission the check holds answers 200 with the order still a draft, \
             `held_for_credit` true and no sign-off started; a preparation or shipment answers 409 \
             `held_for_credit` (the hold is kept). `release`: a hold placed at submission starts the \
             order's sign-off now, in the submitter's name; one placed later lets delivery go on. `reject`: \
             the order is cancelled with the reason. Only the finance manager and the KA director decide \
             (others 403; out of scope 404). The hold not a credit hold, or not active (the order is not \
             held): 422 naming `hold`. The reason is required (422 `reason`); the hold's version read, \
             another decision since: 409.",
        )
        .body_example::<CreditDecisionIn>(json!({"decision": "release", "reason": "客户已预付30%，同意放行", "version": 1}))
        .ok::<CreditDecisionView>(200)
        .errors(&[403, 404, 409]),
        credit_decision,
    )
    .add(
        Op::get(
            "/api/v1/settings/receivables",
            "The aging buckets and dunning levels in force, with their version",
            "settings",
        )
        .ok::<ReceivablesPolicy>(200),
        get_policy,
    )
    .add(
        Op::put(
            "/api/v1/settings/receivables",
            "Replace the aging buckets and dunning levels (administrator or finance manager)",
            "settings",
        )
        .describe(
            "Buckets: 1 to 8 ascending bounds of 1 to 3650 days. Levels: days ascending from 1, each an action \
                 (`remind`, `owner_calls`, `manager_calls`, `finance_letter`, `hold`; at most one `hold`). The \
                 version read; one saved since: 409.",
        )
        .body_example::<ReceivablesPolicyIn>(json!({
            "buckets": [30, 60, 90],
            "levels": [{"days": 1, "action": "remind"}, {"days": 15, "action": "owner_calls"},
                {"days": 30, "action": "manager_calls"}, {"days": 60, "action": "finance_letter"},
                {"days": 90, "action": "hold"}],
            "version": 0
        }))
        .ok::<ReceivablesPolicy>(200)
        .errors(&[403, 409]),
        put_policy,
    )
}

/// Which holds.
#[derive(Deserialize, IntoParams)]
pub struct HoldsQuery {
    /// Only those not released (default true).
    pub active: Option<bool>,
}

/// `{"items": […]}`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct HoldList {
    pub items: Vec<HoldView>,
}

async fn list(State(s): State<AppState>, c: ApiCtx, Query(q): Query<HoldsQuery>) -> ApiResult {
    let items = holds::list(&s.app.db, &c.ctx.caller, q.active.unwrap_or(true)).await?;
    Ok(Json(HoldList { items }).into_response())
}

async fn of_order(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    Ok(Json(HoldList { items: holds::of_order(&s.app.db, &c.ctx.caller, id).await? }).into_response())
}

async fn of_account(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    Ok(Json(HoldList { items: holds::of_account(&s.app.db, &c.ctx.caller, id).await? }).into_response())
}

async fn place(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>, b: Typed<HoldIn>) -> ApiResult {
    let v = holds::place(&s.app.db, &c.ctx, id, &b.typed).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

async fn release(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>, b: Typed<ReleaseIn>) -> ApiResult {
    Ok(Json(holds::release(&s.app.db, &c.ctx, id, &b.typed).await?).into_response())
}

async fn credit_decision(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(Id(id)): Params<Id>,
    b: Typed<CreditDecisionIn>,
) -> ApiResult {
    Ok(Json(credit_decisions::decide(&s.app.db, &c.ctx, id, &b.typed).await?).into_response())
}

async fn get_policy(State(s): State<AppState>, _c: ApiCtx) -> ApiResult {
    Ok(Json(policy::load(&s.app.db).await?).into_response())
}

async fn put_policy(State(s): State<AppState>, c: ApiCtx, b: Typed<ReceivablesPolicyIn>) -> ApiResult {
    Ok(Json(policy::save(&s.app.db, &c.ctx, &b.typed).await?).into_response())
}
