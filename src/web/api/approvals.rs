//! `/api/v1/approvals` (the inbox, a request, decisions), flow definitions, delegations,
//! key-account screenings, notifications and the caller's channels, and the administrator's
//! view of deliveries.
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use chrono::Utc;
use serde_json::{json, Value};

use super::{fail, id_of, q, query_pairs, route, Api, ApiResult};
use crate::app::{approvals, notify, screenings};
use crate::domain::DomainError;
use crate::web::auth::{ApiCtx, JsonBody};
use crate::web::AppState;

pub fn routes(api: Api) -> Api {
    let api = route!(api, GET "/api/v1/approvals",
        "The caller's inbox: ?box=waiting (waiting for my decision, default) or ?box=mine (started by me)", "approvals", ["box"], false, inbox);
    let api = route!(api, GET "/api/v1/approvals/counts", "How many wait for me, and how many of mine are pending", "approvals", [], false, counts);
    let api = route!(api, GET "/api/v1/approvals/{id}", "One request with every step: who decided, when, the comment; the open step's deadline", "approvals", [], false, get);
    let api = route!(api, POST "/api/v1/approvals/{id}/decision",
        "Decide the open step: {decision: approve|reject|return, comment, step?} (step: the position shown; 409 when the request moved on)", "approvals", [], true, decide);
    let api = route!(api, POST "/api/v1/approvals/{id}/withdraw", "The requester withdraws a pending request", "approvals", [], false, withdraw);
    let api = route!(api, POST "/api/v1/approvals/{id}/extension",
        "Extend the open step's deadline once, by the flow's named role: {days}", "approvals", [], true, extend);
    let api =
        route!(api, GET "/api/v1/flows", "Every flow's current definition and version", "approvals", [], false, flows);
    let api = route!(api, PUT "/api/v1/flows/{flow}",
        "Save a new version of a flow (administrator): {steps: [{role, scope: hq|region|owner_manager, days}], extension?, max_total_days?, risk_weights?}",
        "approvals", [], true, set_flow);
    let api = route!(api, GET "/api/v1/delegations", "My delegations that have not ended", "approvals", [], false, delegations);
    let api = route!(api, POST "/api/v1/delegations",
        "Let someone decide for me while I am away: {delegate, starts_on, ends_on}", "approvals", [], true, delegate);
    let api = route!(api, POST "/api/v1/accounts/{id}/screenings",
        "Submit a key-account screening with its risk analysis form; answers with approval_id", "approvals", [], true, screen);
    let api = route!(api, GET "/api/v1/accounts/{id}/screenings", "Every submitted version of the account's screening", "approvals", [], false, screenings_of);
    let api = route!(api, GET "/api/v1/notifications", "My notifications, newest first (?unread=1)", "me", ["unread"], false, notifications);
    let api =
        route!(api, POST "/api/v1/notifications/read", "Mark my notifications read: {id?}", "me", [], true, mark_read);
    let api = route!(api, GET "/api/v1/me/channels", "My notification channels", "me", [], false, channels);
    let api = route!(api, PUT "/api/v1/me/channels",
        "Set my channels: {email, notify_email, webhook_url, notify_webhook}", "me", [], true, set_channels);
    let api = route!(api, GET "/api/v1/admin/deliveries",
        "Email and webhook deliveries (administrator), ?state=pending|sent|failed", "admin", ["state"], false, deliveries);
    route!(api, POST "/api/v1/admin/deliveries/{id}/retry", "Send a failed delivery again (administrator)", "admin", [], false, retry)
}

async fn inbox(State(s): State<AppState>, c: ApiCtx, RawQuery(raw): RawQuery) -> ApiResult {
    let p = query_pairs(raw);
    let now = Utc::now();
    let items = match q(&p, "box") {
        None | Some("waiting") => approvals::waiting_for(&s.app.db, &c.ctx.caller, now).await,
        Some("mine") => approvals::started_by(&s.app.db, &c.ctx.caller, now).await,
        Some(_) => Err(DomainError::invalid("box", "invalid_choice")),
    }
    .map_err(fail(c.lang))?;
    Ok(Json(json!({ "items": items })).into_response())
}

async fn counts(State(s): State<AppState>, c: ApiCtx) -> ApiResult {
    let (waiting, mine) = approvals::counts(&s.app.db, &c.ctx.caller).await.map_err(fail(c.lang))?;
    let unread = notify::unread_count(&s.app.db, &c.ctx.caller).await.map_err(fail(c.lang))?;
    Ok(Json(json!({ "waiting": waiting, "mine_pending": mine, "unread_notifications": unread })).into_response())
}

async fn get(State(s): State<AppState>, c: ApiCtx, Path(id): Path<String>) -> ApiResult {
    let id = id_of(&id).map_err(fail(c.lang))?;
    Ok(Json(approvals::get(&s.app.db, &c.ctx.caller, id).await.map_err(fail(c.lang))?).into_response())
}

async fn decide(State(s): State<AppState>, c: ApiCtx, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult {
    let id = id_of(&id).map_err(fail(c.lang))?;
    let decision = body.get("decision").and_then(Value::as_str).unwrap_or("");
    let comment = body.get("comment").and_then(Value::as_str);
    let step = body.get("step").and_then(Value::as_i64);
    let v = approvals::decide_step(&s.app.db, &c.ctx, id, step, decision, comment, Utc::now())
        .await
        .map_err(fail(c.lang))?;
    Ok(Json(v).into_response())
}

async fn withdraw(State(s): State<AppState>, c: ApiCtx, Path(id): Path<String>) -> ApiResult {
    let id = id_of(&id).map_err(fail(c.lang))?;
    Ok(Json(approvals::withdraw(&s.app.db, &c.ctx, id, Utc::now()).await.map_err(fail(c.lang))?).into_response())
}

async fn extend(State(s): State<AppState>, c: ApiCtx, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult {
    let id = id_of(&id).map_err(fail(c.lang))?;
    let days = body
        .get("days")
        .and_then(Value::as_i64)
        .ok_or_else(|| fail(c.lang)(DomainError::invalid("days", "expected_integer")))?;
    Ok(Json(approvals::extend(&s.app.db, &c.ctx, id, days, Utc::now()).await.map_err(fail(c.lang))?).into_response())
}

async fn flows(State(s): State<AppState>, c: ApiCtx) -> ApiResult {
    Ok(Json(json!({ "items": approvals::flows(&s.app.db).await.map_err(fail(c.lang))? })).into_response())
}

async fn set_flow(
    State(s): State<AppState>,
    c: ApiCtx,
    Path(flow): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    Ok(Json(approvals::set_definition(&s.app.db, &c.ctx, &flow, &body).await.map_err(fail(c.lang))?).into_response())
}

async fn delegate(State(s): State<AppState>, c: ApiCtx, JsonBody(body): JsonBody) -> ApiResult {
    let g = |k: &str| body.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    approvals::delegate(&s.app.db, &c.ctx, &g("delegate"), &g("starts_on"), &g("ends_on"))
        .await
        .map_err(fail(c.lang))?;
    Ok(StatusCode::CREATED.into_response())
}

async fn screen(State(s): State<AppState>, c: ApiCtx, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult {
    let id = id_of(&id).map_err(fail(c.lang))?;
    let v = screenings::submit(&s.app.db, &c.ctx, id, &body).await.map_err(fail(c.lang))?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

async fn screenings_of(State(s): State<AppState>, c: ApiCtx, Path(id): Path<String>) -> ApiResult {
    let id = id_of(&id).map_err(fail(c.lang))?;
    Ok(Json(json!({ "items": screenings::list(&s.app.db, &c.ctx.caller, id).await.map_err(fail(c.lang))? }))
        .into_response())
}

async fn notifications(State(s): State<AppState>, c: ApiCtx, RawQuery(raw): RawQuery) -> ApiResult {
    let p = query_pairs(raw);
    let unread = matches!(q(&p, "unread"), Some("1" | "true"));
    Ok(Json(json!({ "items": notify::mine(&s.app.db, &c.ctx.caller, unread).await.map_err(fail(c.lang))? }))
        .into_response())
}

async fn mark_read(State(s): State<AppState>, c: ApiCtx, JsonBody(body): JsonBody) -> ApiResult {
    notify::mark_read(&s.app.db, &c.ctx, body.get("id").and_then(Value::as_i64)).await.map_err(fail(c.lang))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn channels(State(s): State<AppState>, c: ApiCtx) -> ApiResult {
    Ok(Json(notify::channels_of(&s.app.db, &c.ctx.caller).await.map_err(fail(c.lang))?).into_response())
}

async fn set_channels(State(s): State<AppState>, c: ApiCtx, JsonBody(body): JsonBody) -> ApiResult {
    let flag = |k: &str| body.get(k).and_then(Value::as_bool).unwrap_or(false);
    notify::set_channels(
        &s.app.db,
        &c.ctx,
        body.get("email").and_then(Value::as_str),
        flag("notify_email"),
        body.get("webhook_url").and_then(Value::as_str),
        flag("notify_webhook"),
    )
    .await
    .map_err(fail(c.lang))?;
    Ok(Json(notify::channels_of(&s.app.db, &c.ctx.caller).await.map_err(fail(c.lang))?).into_response())
}

async fn deliveries(State(s): State<AppState>, c: ApiCtx, RawQuery(raw): RawQuery) -> ApiResult {
    let p = query_pairs(raw);
    Ok(Json(json!({ "items": notify::deliveries(&s.app.db, &c.ctx, q(&p, "state")).await.map_err(fail(c.lang))? }))
        .into_response())
}

async fn retry(State(s): State<AppState>, c: ApiCtx, Path(id): Path<String>) -> ApiResult {
    let id = id_of(&id).map_err(fail(c.lang))?;
    notify::retry(&s.app.db, &c.ctx, id).await.map_err(fail(c.lang))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn delegations(State(s): State<AppState>, c: ApiCtx) -> ApiResult {
    let items = approvals::delegations(&s.app.db, &c.ctx.caller, Utc::now()).await.map_err(fail(c.lang))?;
    Ok(Json(json!({ "items": items })).into_response())
}
