//! Serving key accounts (issue 24 items 1–3): the account's service team, service and support
//! requests (decided through `/api/v1/approvals`), service events with their evaluation and
//! return visit.
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

use crate::app::service::events::{self, ServiceEvaluationIn, ServiceEventHeld, ServiceEventIn, ServiceEventView};
use crate::app::service::requests::{self, ServiceRequestIn, ServiceRequestView};
use crate::app::service::team::{self, ServiceTeam, ServiceTeamIn};
use crate::web::api::contract::{Id, OnePage};
use crate::web::api::{Api, ApiResult, Op, Params, Query, Typed};
use crate::web::auth::ApiCtx;
use crate::web::AppState;

/// Which service requests to list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct RequestQuery {
    /// One account's (an id that names none lists nothing).
    pub account_id: Option<i64>,
    #[param(pattern = "^(draft|submitted|approved|returned|rejected)$")]
    pub state: Option<String>,
}

/// Which service events to list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct EventQuery {
    /// One account's (an id that names none lists nothing).
    pub account_id: Option<i64>,
    #[param(pattern = "^(planned|held|cancelled)$")]
    pub state: Option<String>,
    #[param(value_type = Option<crate::domain::service::ServiceEventKind>)]
    pub kind: Option<String>,
    /// The return visit's state.
    #[param(pattern = "^(due|answered|overdue)$")]
    pub return_state: Option<String>,
}

/// The version read (cancelling).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionIn {
    pub version: i64,
}

pub fn routes(api: Api) -> Api {
    api.add(
        Op::get("/api/v1/accounts/{id}/service-team", "An account's service team: members by function with responsibilities", "service")
            .ok::<ServiceTeam>(200),
        get_team,
    )
    .add(
        Op::put("/api/v1/accounts/{id}/service-team", "Set an account's whole service team", "service")
            .describe(
                "Those who edit the account (403 otherwise). A member who is not an active user \
                 (`members[i].username` unknown_user), a function not of the list (`members[i].function`), the same \
                 person twice in one function (`members[i].username` duplicate_member): 422, nothing saved. The team is \
                 told of the account's service events and reads the account's plans. `version` is the team's \
                 version read (0 before the first save); saved by another since: 409, nothing saved.",
            )
            .body_example::<ServiceTeamIn>(json!({"members": [
                {"username": "repB", "function": "sales_support", "responsibilities": "订单与交期跟进"},
                {"username": "finance", "function": "finance_support", "responsibilities": "账期与开票"}], "version": 0}))
            .ok::<ServiceTeam>(200)
            .errors(&[409]),
        put_team,
    )
    .add(
        Op::get("/api/v1/service-requests", "Service and support requests of accounts in scope, newest first", "service")
            .query::<RequestQuery>()
            .one_page::<ServiceRequestView>(200),
        list_requests,
    )
    .add(
        Op::post("/api/v1/service-requests", "Write a service and support request (大客户服务与支持申请表)", "service")
            .describe(
                "The caller is the applicant, today the date. `submit: true` starts the `service_request` request at \
                 once: the owner's KA manager reviews, the KA director approves, and the marketing director too when \
                 `special_payment_terms` is asked. Faults are 422 naming the field (`content` required, `services` \
                 required or invalid_choice); nothing is saved.",
            )
            .body_example::<ServiceRequestIn>(json!({"account_id": 1, "content": "新产线试产期间的技术支持",
                "deeper_needs": "缩短换型时间", "needs_changes": "月需求从 2 万件增至 3 万件",
                "organisation": "客户生产部王工牵头；我方技术支持两人", "services": ["consulting", "expedited_supply"],
                "submit": true}))
            .ok::<ServiceRequestView>(201)
            .errors(&[404]),
        create_request,
    )
    .add(
        Op::get("/api/v1/service-requests/{id}", "A service request whole, with the deciders' opinions", "service")
            .ok::<ServiceRequestView>(200),
        get_request,
    )
    .add(
        Op::put("/api/v1/service-requests/{id}", "Save a draft or returned service request over the version read", "service")
            .body::<ServiceRequestIn>()
            .ok::<ServiceRequestView>(200)
            .errors(&[409]),
        update_request,
    )
    .add(
        Op::post("/api/v1/service-requests/{id}/submit", "Submit a draft or returned service request for approval", "service")
            .ok::<ServiceRequestView>(200)
            .errors(&[409]),
        submit_request,
    )
    .add(
        Op::get("/api/v1/service-events", "Service events of accounts in scope, latest first, with their return visits", "service")
            .query::<EventQuery>()
            .one_page::<ServiceEventView>(200),
        list_events,
    )
    .add(
        Op::post("/api/v1/service-events", "Plan a service event; the account's service team is told", "service")
            .describe(
                "Contacts invited and attending must be the account's (`invited[i]` contact_not_of_account). \
                 `starts_at`: RFC 3339 or a local date-time (Asia/Shanghai).",
            )
            .body_example::<ServiceEventIn>(json!({"account_id": 1, "kind": "technical_seminar", "title": "新品技术交流会",
                "starts_at": "2026-12-10T14:00", "place": "客户二楼会议室", "invited": [1]}))
            .ok::<ServiceEventView>(201)
            .errors(&[404]),
        create_event,
    )
    .add(
        Op::get("/api/v1/service-events/{id}", "A service event whole: contacts, evaluation with opinions, return visit", "service")
            .ok::<ServiceEventView>(200),
        get_event,
    )
    .add(
        Op::put("/api/v1/service-events/{id}", "Change a service event over the version read", "service")
            .body::<ServiceEventIn>()
            .ok::<ServiceEventView>(200)
            .errors(&[409]),
        update_event,
    )
    .add(
        Op::post("/api/v1/service-events/{id}/held", "Record a planned event as held; its return visit falls due a week after", "service")
            .describe("An event not yet begun is 422 `starts_at` held_in_future. The return visit is answered by the next done contact with the account.")
            .body::<ServiceEventHeld>()
            .ok::<ServiceEventView>(200)
            .errors(&[409]),
        held_event,
    )
    .add(
        Op::post("/api/v1/service-events/{id}/cancel", "Cancel a planned event", "service")
            .body::<VersionIn>()
            .ok::<ServiceEventView>(200)
            .errors(&[409]),
        cancel_event,
    )
    .add(
        Op::put("/api/v1/service-events/{id}/evaluation", "Write the held event's service evaluation form (大客户服务评估表)", "service")
            .describe(
                "What was done (`done` required), the customer's reaction, the problems raised (one line each), the \
                 score 1–5 (`score` score_range), suggestions. `submit: true` starts the `service_evaluation` request: \
                 the owner's KA manager reviews, the KA director approves.",
            )
            .body_example::<ServiceEvaluationIn>(json!({"done": "介绍新品并现场演示", "reaction": "兴趣浓厚",
                "problems": ["希望缩短交期", "需要英文资料"], "score": 4, "suggestions": "两周内送样", "version": 0, "submit": true}))
            .ok::<ServiceEventView>(200)
            .errors(&[409]),
        evaluate_event,
    )
}

async fn get_team(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    Ok(Json(team::get(&s.app.db, &c.ctx.caller, id).await?).into_response())
}

async fn put_team(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(Id(id)): Params<Id>,
    b: Typed<ServiceTeamIn>,
) -> ApiResult {
    Ok(Json(team::put(&s.app.db, &c.ctx, id, &b.typed).await?).into_response())
}

async fn list_requests(State(s): State<AppState>, c: ApiCtx, Query(q): Query<RequestQuery>) -> ApiResult {
    let f = requests::Filter { account_id: q.account_id, state: q.state };
    Ok(OnePage::of(requests::list(&s.app.db, &c.ctx.caller, &f).await?).into_response())
}

async fn create_request(State(s): State<AppState>, c: ApiCtx, b: Typed<ServiceRequestIn>) -> ApiResult {
    let v = requests::create(&s.app.db, &c.ctx, &b.typed, crate::app::clock::now()).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

async fn get_request(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    Ok(Json(requests::get(&s.app.db, &c.ctx.caller, id).await?).into_response())
}

async fn update_request(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(Id(id)): Params<Id>,
    b: Typed<ServiceRequestIn>,
) -> ApiResult {
    Ok(Json(requests::update(&s.app.db, &c.ctx, id, &b.typed, crate::app::clock::now()).await?).into_response())
}

async fn submit_request(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    Ok(Json(requests::submit(&s.app.db, &c.ctx, id, crate::app::clock::now()).await?).into_response())
}

async fn list_events(State(s): State<AppState>, c: ApiCtx, Query(q): Query<EventQuery>) -> ApiResult {
    let f = events::Filter { account_id: q.account_id, state: q.state, kind: q.kind, return_state: q.return_state };
    Ok(OnePage::of(events::list(&s.app.db, &c.ctx.caller, &f).await?).into_response())
}

async fn create_event(State(s): State<AppState>, c: ApiCtx, b: Typed<ServiceEventIn>) -> ApiResult {
    let v = events::create(&s.app.db, &c.ctx, &b.typed, crate::app::clock::now()).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

async fn get_event(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    Ok(Json(events::get(&s.app.db, &c.ctx.caller, id).await?).into_response())
}

async fn update_event(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(Id(id)): Params<Id>,
    b: Typed<ServiceEventIn>,
) -> ApiResult {
    Ok(Json(events::update(&s.app.db, &c.ctx, id, &b.typed, crate::app::clock::now()).await?).into_response())
}

async fn held_event(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(Id(id)): Params<Id>,
    b: Typed<ServiceEventHeld>,
) -> ApiResult {
    Ok(Json(events::record_held(&s.app.db, &c.ctx, id, &b.typed, crate::app::clock::now()).await?).into_response())
}

async fn cancel_event(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(Id(id)): Params<Id>,
    b: Typed<VersionIn>,
) -> ApiResult {
    Ok(Json(events::cancel(&s.app.db, &c.ctx, id, b.typed.version, crate::app::clock::now()).await?).into_response())
}

async fn evaluate_event(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(Id(id)): Params<Id>,
    b: Typed<ServiceEvaluationIn>,
) -> ApiResult {
    Ok(Json(events::evaluate(&s.app.db, &c.ctx, id, &b.typed, crate::app::clock::now()).await?).into_response())
}
