//! Customer suggestions (issue 24, seed 003 §一.3): recorded with thanks, the report and the
//! departments concerned through the `suggestion` flow, the departments' opinions, what was
//! done, the reply to the customer with their feedback.
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

use crate::app::suggestions::suggestions::{
    self as sg, SuggestionExecutionIn, SuggestionIn, SuggestionItem, SuggestionOpinionIn, SuggestionReplyIn,
    SuggestionReportIn, SuggestionView,
};
use crate::web::api::contract::{Id, OnePage};
use crate::web::api::{Api, ApiResult, Op, Params, Query, Typed};
use crate::web::auth::ApiCtx;
use crate::web::AppState;

pub fn routes(api: Api) -> Api {
    api.add(
        Op::get("/api/v1/suggestions", "Customer suggestions the caller sees, latest received first (at most 500)", "suggestions")
            .query::<SuggestionQuery>()
            .one_page::<SuggestionItem>(200),
        list,
    )
    .add(
        Op::post("/api/v1/accounts/{id}/suggestions", "Record a customer's suggestion, with thanks and the promised reply date", "suggestions")
            .describe(
                "Channel (`in_person`, `phone`, `web`, `email`), category (`product`, `service`, `delivery`, `quality`, \
                 `price`, `other`), the content, the day it was received (not in the future) and the date the customer \
                 was promised a reply by (not before it was received: 422 `reply_due` before_received). Nothing is \
                 saved on any error.",
            )
            .body_example::<SuggestionIn>(json!({"channel": "phone", "category": "delivery", "content": "希望缩短备件交货周期",
                "thanks": "已电话致谢", "reply_due": "2027-01-15"}))
            .ok::<SuggestionView>(201),
        create,
    )
    .add(
        Op::get("/api/v1/suggestions/{id}", "A suggestion whole: its report, the departments' opinions, what was done, the reply", "suggestions")
            .ok::<SuggestionView>(200),
        get_one,
    )
    .add(
        Op::post("/api/v1/suggestions/{id}/submit", "The suggestion report and the departments concerned start its review", "suggestions")
            .describe(
                "Cause and feasibility required; `departments` are roles among the flow's picked steps (by default \
                 marketing, logistics_manager, finance_manager, commercial_manager), each with its own deadline in \
                 days. The KA department manager reviews first; then the departments give their opinions in parallel, \
                 each by its own deadline (a late one escalates on its own); then the marketing director and the \
                 general manager. Received or returned suggestions only (else 409).",
            )
            .body_example::<SuggestionReportIn>(json!({"cause": "现有备件库存布局离客户较远", "feasibility": "可在华北仓增设备件库存",
                "departments": [{"role": "logistics_manager", "days": 5}, {"role": "finance_manager", "days": 3}], "version": 1}))
            .ok::<SuggestionView>(200)
            .errors(&[409]),
        submit,
    )
    .add(
        Op::post("/api/v1/suggestions/{id}/opinion", "A department concerned gives its opinion", "suggestions")
            .describe(
                "The caller's role must be one of the departments asked whose step is open now, else 422 `department` \
                 not_asked and nothing changes. `approve` agrees; `return` or `reject` closes the review.",
            )
            .body_example::<SuggestionOpinionIn>(json!({"opinion": "同意，华北仓可在两周内备货", "decision": "approve"}))
            .ok::<SuggestionView>(200)
            .errors(&[409]),
        opinion,
    )
    .add(
        Op::post("/api/v1/suggestions/{id}/execution", "What was done about an approved suggestion", "suggestions")
            .body::<SuggestionExecutionIn>()
            .ok::<SuggestionView>(200)
            .errors(&[409]),
        execute,
    )
    .add(
        Op::post("/api/v1/suggestions/{id}/reply", "The reply to the customer and their feedback (建议反馈表)", "suggestions")
            .describe("Approved, carried out or rejected suggestions; `feedback_score` 1–5.")
            .body::<SuggestionReplyIn>()
            .ok::<SuggestionView>(200)
            .errors(&[409]),
        reply,
    )
}

/// The list's filter.
#[derive(Deserialize, IntoParams, Default)]
pub struct SuggestionQuery {
    /// One account's suggestions.
    pub account_id: Option<i64>,
    /// `received`, `in_review`, `returned`, `approved`, `rejected`, `done`, `replied`.
    #[param(max_length = 20, pattern = "^(received|in_review|returned|approved|rejected|done|replied)$")]
    pub state: Option<String>,
    /// Only those whose reply is past its promised date.
    pub overdue: Option<bool>,
    /// Matches the account's name or the content.
    #[param(max_length = 200)]
    pub q: Option<String>,
}

async fn list(State(s): State<AppState>, c: ApiCtx, Query(q): Query<SuggestionQuery>) -> ApiResult {
    let f = sg::Filter { account_id: q.account_id, state: q.state, overdue: q.overdue.unwrap_or(false), q: q.q };
    Ok(OnePage::of(sg::list(&s.app.db, &c.ctx.caller, &f).await?).into_response())
}

async fn create(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>, b: Typed<SuggestionIn>) -> ApiResult {
    Ok((StatusCode::CREATED, Json(sg::create(&s.app.db, &c.ctx, id, &b.typed).await?)).into_response())
}

async fn get_one(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    Ok(Json(sg::get(&s.app.db, &c.ctx.caller, id).await?).into_response())
}

async fn submit(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(Id(id)): Params<Id>,
    b: Typed<SuggestionReportIn>,
) -> ApiResult {
    Ok(Json(sg::submit(&s.app.db, &c.ctx, id, &b.typed).await?).into_response())
}

async fn opinion(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(Id(id)): Params<Id>,
    b: Typed<SuggestionOpinionIn>,
) -> ApiResult {
    Ok(Json(sg::opinion(&s.app.db, &c.ctx, id, &b.typed).await?).into_response())
}

async fn execute(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(Id(id)): Params<Id>,
    b: Typed<SuggestionExecutionIn>,
) -> ApiResult {
    Ok(Json(sg::execute(&s.app.db, &c.ctx, id, &b.typed).await?).into_response())
}

async fn reply(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(Id(id)): Params<Id>,
    b: Typed<SuggestionReplyIn>,
) -> ApiResult {
    Ok(Json(sg::reply(&s.app.db, &c.ctx, id, &b.typed).await?).into_response())
}
