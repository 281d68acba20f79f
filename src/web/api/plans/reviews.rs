//! A plan's reviews (issue 23 item 4): submitting a plan for review, its reviews on the cadence
//! of its tier, a review's decision with the checklist, the reviews due for the caller.
use axum::extract::State;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;

use crate::app::plans::reviews::{self, PlanDue, PlanReviewDecision, PlanReviewDue, PlanReviewView, PlanReviews};
use crate::web::api::contract::{Id, OnePage};
use crate::web::api::{Api, ApiResult, Op, Params, Typed};
use crate::web::auth::ApiCtx;
use crate::web::AppState;

pub fn routes(api: Api) -> Api {
    api.add(
        Op::post(
            "/api/v1/plans/{id}/submit",
            "Submit a plan for review: drafting → review; its reviews are scheduled on its tier's cadence and the first is asked",
            "plans",
        )
        .describe(
            "The plan's owner (or who edits the account's plans), while it is in preparation or drafting (else 409 \
             `plan_not_drafting`). The first time, its reviews are scheduled: a strategic account's review on the \
             year's review date and one at the end of each quarter, an A account's one yearly review, a B or C \
             account's one collective review (the cadence is the plan settings'); the review returned, else the \
             first scheduled, becomes an `account_plan` request for the reviewer its tier gives.",
        )
        .ok::<PlanReviews>(200)
        .errors(&[409]),
        submit,
    )
    .add(
        Op::get("/api/v1/plans/{id}/reviews", "A plan's reviews: periods, due dates, states, who decided, the checklist", "plans")
            .ok::<PlanReviews>(200),
        of_plan,
    )
    .add(
        Op::get("/api/v1/plan-reviews/due", "The reviews due for the caller to decide, and the caller's own plans due", "plans")
            .describe(
                "`items`: open review requests the caller may decide now and scheduled reviews within the lead days \
                 that their role decides (or names them), soonest first, `overdue` past their due date.",
            )
            .one_page::<PlanReviewDue>(200),
        due,
    )
    .add(
        Op::get("/api/v1/plan-reviews/owned", "The caller's plans due from them: drafts to submit and revisions", "plans")
            .one_page::<PlanDue>(200),
        owned,
    )
    .add(
        Op::get("/api/v1/plan-reviews/{id}", "A review with its checklist answers, actions and whether the caller may decide it", "plans")
            .ok::<PlanReviewView>(200),
        get_one,
    )
    .add(
        Op::post(
            "/api/v1/plan-reviews/{id}/decide",
            "Decide a review: the checklist answered, accepted or to be revised by a date, the actions it sets",
            "plans",
        )
        .describe(
            "Every question of the checklist (`realistic`, `linked`, `return`, `product_mix`, `competition`, \
             `new_initiatives`, `profit_risk`) answered `yes`, `partly` or `no` with a comment, else 422 \
             `checklist.<question>`; `revise` needs `revise_by` (today or later) and a `comment`. Nothing is saved on \
             any error. Accepted: the plan goes into execution; revise: back to drafting until resubmitted. Only the \
             reviewer the request names (403 otherwise); a review not open 409.",
        )
        .body_example::<PlanReviewDecision>(json!({
            "checklist": crate::domain::account_plan::CHECKLIST.iter().map(|q| json!({"question": q, "answer": "yes", "comment": "符合客户战略"})).collect::<Vec<_>>(),
            "outcome": "revise", "revise_by": "2027-01-15",
            "actions": [{"text": "补充竞争对手分析", "owner": "repA", "due_on": "2027-01-10"}],
            "comment": "目标与资源需进一步对应", "step": 0}))
        .ok::<PlanReviewView>(200)
        .errors(&[409]),
        decide,
    )
}

async fn submit(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    Ok(Json(reviews::submit(&s.app.db, &c.ctx, id, crate::app::clock::now()).await?).into_response())
}

async fn of_plan(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    Ok(Json(reviews::of_plan(&s.app.db, &c.ctx.caller, id).await?).into_response())
}

async fn due(State(s): State<AppState>, c: ApiCtx) -> ApiResult {
    Ok(OnePage::of(reviews::due_for(&s.app.db, &c.ctx.caller, crate::app::clock::now()).await?).into_response())
}

async fn owned(State(s): State<AppState>, c: ApiCtx) -> ApiResult {
    Ok(OnePage::of(reviews::owner_due(&s.app.db, &c.ctx.caller, crate::app::clock::now()).await?).into_response())
}

async fn get_one(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    Ok(Json(reviews::get(&s.app.db, &c.ctx.caller, id).await?).into_response())
}

async fn decide(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(Id(id)): Params<Id>,
    b: Typed<PlanReviewDecision>,
) -> ApiResult {
    Ok(Json(reviews::decide(&s.app.db, &c.ctx, id, &b.typed, crate::app::clock::now()).await?).into_response())
}
