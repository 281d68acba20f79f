//! Fulfilment, the manual downgrade and the status history of an account, and the downgrade
//! rule's setting (`app::classification::downgrade`).
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;

use crate::app::classification::downgrade::{
    self as dg, DowngradeIn, DowngradeRequestView, DowngradeReview, DowngradeSettings, DowngradeSettingsIn,
    StatusHistory,
};
use crate::web::api::contract::Id;
use crate::web::api::{Api, ApiResult, Op, Params, Typed};
use crate::web::auth::ApiCtx;
use crate::web::AppState;

pub fn routes(api: Api) -> Api {
    api.add(
        Op::get(
            "/api/v1/accounts/{id}/status-history",
            "An account's changes of status (screening, automatic and manual downgrade), newest first, with its fulfilment record",
            "accounts",
        )
        .describe(
            "Each change names its reason (`screening_submitted`, `screening_approved`, `fulfilment_below_75`, \
             `manual`), the request that made it and who made it (`system`: the daily pass). The fulfilment \
             figures (installments due in the trailing 12 months, paid in full on time, the rate) are credit \
             information: null for callers who do not see credit.",
        )
        .ok::<StatusHistory>(200),
        history,
    )
    .add(
        Op::post(
            "/api/v1/accounts/{id}/downgrade",
            "Ask for a manual downgrade (人工降级) of a key account, with a reason (KA manager or above)",
            "accounts",
        )
        .describe(
            "Starts a `ka_downgrade` request (the KA director decides, through /api/v1/approvals). Approved, the \
             account becomes `downgraded`: its tier and service standards end, its owner, KA manager and the KA \
             director are told; rejected, it stays a key account. Not a key account: 422 naming `status`; no \
             reason: 422 naming `reason`; a request already waiting: 409 `downgrade_pending`; salespeople: 403.",
        )
        .body_example::<DowngradeIn>(json!({"reason": "客户战略调整，连续两个季度无新订单"}))
        .ok::<DowngradeRequestView>(201)
        .errors(&[409]),
        request,
    )
    .add(
        Op::get(
            "/api/v1/approvals/{id}/downgrade",
            "The manual downgrade a `ka_downgrade` request asks about: the reason, the account's status and tier \
             when asked and now, its fulfilment figures (credit viewers only) (404 for other flows)",
            "approvals",
        )
        .ok::<DowngradeReview>(200),
        review,
    )
    .add(
        Op::get(
            "/api/v1/settings/downgrade",
            "The fulfilment rule's grace after a due date (days; 0 by default, the company's choice), with its version",
            "settings",
        )
        .ok::<DowngradeSettings>(200),
        get_settings,
    )
    .add(
        Op::put(
            "/api/v1/settings/downgrade",
            "Replace the fulfilment rule's grace (administrator or KA director)",
            "settings",
        )
        .describe("The grace is 0 to 90 days (else 422 naming `grace_days`); the version read; one saved since: 409.")
        .body_example::<DowngradeSettingsIn>(json!({"grace_days": 5, "version": 0}))
        .ok::<DowngradeSettings>(200)
        .errors(&[409]),
        put_settings,
    )
}

async fn history(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    Ok(Json(dg::history(&s.app.db, &c.ctx.caller, id).await?).into_response())
}

async fn request(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>, b: Typed<DowngradeIn>) -> ApiResult {
    let v = dg::request(&s.app.db, &c.ctx, id, &b.typed).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

async fn review(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    Ok(Json(dg::for_approval(&s.app.db, &c.ctx.caller, id).await?).into_response())
}

async fn get_settings(State(s): State<AppState>, _c: ApiCtx) -> ApiResult {
    Ok(Json(dg::settings(&s.app.db).await?).into_response())
}

async fn put_settings(State(s): State<AppState>, c: ApiCtx, b: Typed<DowngradeSettingsIn>) -> ApiResult {
    Ok(Json(dg::save_settings(&s.app.db, &c.ctx, &b.typed).await?).into_response())
}
