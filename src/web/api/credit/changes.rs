//! Credit triggers and the credit change request (大客户信用等级变更申请表) on the seed's clock.
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;

use crate::app::clock;
use crate::app::credit::changes::{self, CreditChangeView, CreditFilingIn, CreditGradeChange};
use crate::app::credit::triggers::{self, CreditProposalIn, CreditTriggerView};
use crate::web::api::contract::Id;
use crate::web::api::{Api, ApiResult, Op, Params, Typed};
use crate::web::auth::ApiCtx;
use crate::web::AppState;

pub fn routes(api: Api) -> Api {
    api.add(
        Op::get(
            "/api/v1/credit/triggers",
            "Credit triggers waiting for me to file the change request, oldest first",
            "credit",
        )
        .describe(
            "Open triggers of accounts whose KA manager I am (else whose owner's manager), and those escalated to \
                 me (the KA director) after their 2 days. `proposed_grade` only for those who see credit.",
        )
        .ok::<CreditTriggerList>(200),
        to_file,
    )
    .add(
        Op::post(
            "/api/v1/credit/triggers",
            "Propose a credit review of an account (a trigger of kind `proposal`)",
            "credit",
        )
        .describe(
            "Those who see credit may propose a grade; a KA manager proposes a review without one (a grade from \
                 them: 403). Other roles: 403; the account out of scope: 404; a proposal of the account still open or \
                 filed: 409 `trigger_exists`. The account's KA manager is told to file the request within 2 days.",
        )
        .body_example::<CreditProposalIn>(
            json!({"account_id": 42, "proposed_grade": "yellow", "note": "近两个季度回款明显放缓，建议复核信用等级"}),
        )
        .ok::<CreditTriggerView>(201)
        .errors(&[403, 404, 409]),
        propose,
    )
    .add(
        Op::post("/api/v1/credit/triggers/{id}/filing", "File the credit change request from a trigger", "credit")
            .describe(
                "By the trigger's filer (the account's KA manager, else the owner's manager) or the KA director it \
                 escalated to; others 403. Starts the `credit_change` approval: the region's KA department verifies \
                 within 3 days, the KA director approves within 3 (the marketing director may extend that step once \
                 to at most 7); no deadline passes the trigger + 10 days. A grade or limit may be given only by those \
                 who see credit (else 403); without one the trigger's proposed grade stands. A trigger already filed \
                 or closed: 409 `trigger_not_open`.",
            )
            .body_example::<CreditFilingIn>(json!({"reason": "客户近12个月履约率下降，申请将信用等级调整为黄名单"}))
            .ok::<CreditChangeView>(201)
            .errors(&[403, 404, 409]),
        file,
    )
    .add(
        Op::get(
            "/api/v1/credit/changes/{id}",
            "One credit change request whole: the account, the trigger, the clock",
            "credit",
        )
        .describe(
            "Whoever sees its approval sees it; the current and proposed grade and limit and the score (`credit`) \
                 only those who see credit (`credit_hidden` for the others).",
        )
        .ok::<CreditChangeView>(200),
        get_change,
    )
    .add(
        Op::get("/api/v1/credit/accounts/{id}/triggers", "An account's credit triggers, newest first", "credit")
            .describe("Those who see credit and KA managers (others 403); the account out of scope: 404.")
            .ok::<CreditTriggerList>(200),
        of_account,
    )
    .add(
        Op::get(
            "/api/v1/credit/accounts/{id}/grade-history",
            "Each change of an account's credit grade and limit, newest first",
            "credit",
        )
        .describe("Only those who see credit (others 403); the account out of scope: 404.")
        .ok::<CreditGradeHistory>(200),
        grade_history,
    )
}

/// `{"items": […]}`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct CreditTriggerList {
    pub items: Vec<CreditTriggerView>,
}

/// `{"items": […]}`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct CreditGradeHistory {
    pub items: Vec<CreditGradeChange>,
}

async fn to_file(State(s): State<AppState>, c: ApiCtx) -> ApiResult {
    let items = triggers::to_file(&s.app.db, &c.ctx.caller, clock::now()).await?;
    Ok(Json(CreditTriggerList { items }).into_response())
}

async fn propose(State(s): State<AppState>, c: ApiCtx, b: Typed<CreditProposalIn>) -> ApiResult {
    let v = triggers::propose(&s.app.db, &c.ctx, &b.typed, clock::now()).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

async fn file(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>, b: Typed<CreditFilingIn>) -> ApiResult {
    let v = changes::file(&s.app.db, &c.ctx, id, &b.typed, clock::now()).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

async fn get_change(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    Ok(Json(changes::get(&s.app.db, &c.ctx.caller, id, clock::now()).await?).into_response())
}

async fn of_account(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    let items = triggers::of_account(&s.app.db, &c.ctx.caller, id, clock::now()).await?;
    Ok(Json(CreditTriggerList { items }).into_response())
}

async fn grade_history(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    let items = changes::history(&s.app.db, &c.ctx.caller, id).await?;
    Ok(Json(CreditGradeHistory { items }).into_response())
}
