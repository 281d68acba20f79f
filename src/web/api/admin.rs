//! Users, org units and the audit trail.
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;

use super::{fail, q, q_i64, query_pairs, route, Api, ApiResult};
use crate::app::audit::AuditFilter;
use crate::app::input::Input;
use crate::app::{clamp_limit, org, users};
use crate::domain::DomainError;
use crate::web::auth::{ApiCtx, JsonBody};
use crate::web::AppState;

pub fn routes(api: Api) -> Api {
    let api = route!(api, GET "/api/v1/org-units", "The org tree (HQ, regions, branches)", "org", [], false, list_org);
    let api = route!(api, POST "/api/v1/org-units", "Create an org unit (admin)", "org", [], true, create_org);
    let api = route!(api, GET "/api/v1/org-units/{code}", "One org unit", "org", [], false, get_org);
    let api = route!(api, PATCH "/api/v1/org-units/{code}", "Rename an org unit (admin)", "org", [], true, update_org);
    let api = route!(api, GET "/api/v1/users", "All users", "users", [], false, list_users);
    let api = route!(api, POST "/api/v1/users", "Create a user (admin)", "users", [], true, create_user);
    let api = route!(api, GET "/api/v1/users/{username}", "One user", "users", [], false, get_user);
    let api = route!(api, PATCH "/api/v1/users/{username}", "Change a user's role, org, manager (admin)", "users", [], true, update_user);
    let api = route!(api, POST "/api/v1/users/{username}/deactivate",
        "Deactivate a user: ends sessions and tokens (admin); body {\"successor\"} when they hold accounts", "users", [], true, deactivate);
    let api = route!(api, POST "/api/v1/users/{username}/handover",
        "Hand everything a user holds to a successor in one step (admin): body {\"to\"}", "users", [], true, handover);
    let api = route!(api, POST "/api/v1/users/{username}/activate", "Reactivate a user (admin)", "users", [], false, activate);
    let api = route!(api, POST "/api/v1/users/{username}/password", "Set a user's password (admin, or the user themselves)", "users", [], true, set_password);
    route!(api, GET "/api/v1/audit", "The audit trail the caller may see", "audit", ["entity", "id", "cursor", "limit"], false, list_audit)
}

/// The org tree and the user directory are not business data, but the API still wants a caller.
async fn list_org(State(s): State<AppState>, c: ApiCtx) -> ApiResult {
    let items = org::list(&s.app.db).await.map_err(fail(c.lang))?;
    Ok(Json(json!({"items": items, "next_cursor": null})).into_response())
}

async fn get_org(State(s): State<AppState>, c: ApiCtx, Path(code): Path<String>) -> ApiResult {
    Ok(Json(org::get(&s.app.db, &code).await.map_err(fail(c.lang))?).into_response())
}

async fn create_org(State(s): State<AppState>, c: ApiCtx, JsonBody(b): JsonBody) -> ApiResult {
    let inp = Input::from_json(&b).map_err(fail(c.lang))?;
    Ok((StatusCode::CREATED, Json(org::create(&s.app.db, &c.ctx, &inp).await.map_err(fail(c.lang))?)).into_response())
}

async fn update_org(
    State(s): State<AppState>,
    c: ApiCtx,
    Path(code): Path<String>,
    JsonBody(b): JsonBody,
) -> ApiResult {
    let inp = Input::from_json(&b).map_err(fail(c.lang))?;
    Ok(Json(org::update(&s.app.db, &c.ctx, &code, &inp).await.map_err(fail(c.lang))?).into_response())
}

async fn list_users(State(s): State<AppState>, c: ApiCtx) -> ApiResult {
    let items = users::list(&s.app.db).await.map_err(fail(c.lang))?;
    Ok(Json(json!({"items": items, "next_cursor": null})).into_response())
}

async fn get_user(State(s): State<AppState>, c: ApiCtx, Path(u): Path<String>) -> ApiResult {
    Ok(Json(users::get(&s.app.db, &u).await.map_err(fail(c.lang))?).into_response())
}

async fn create_user(State(s): State<AppState>, c: ApiCtx, JsonBody(b): JsonBody) -> ApiResult {
    let inp = Input::from_json(&b).map_err(fail(c.lang))?;
    Ok((StatusCode::CREATED, Json(users::create(&s.app.db, &c.ctx, &inp).await.map_err(fail(c.lang))?)).into_response())
}

async fn update_user(State(s): State<AppState>, c: ApiCtx, Path(u): Path<String>, JsonBody(b): JsonBody) -> ApiResult {
    let inp = Input::from_json(&b).map_err(fail(c.lang))?;
    Ok(Json(users::update(&s.app.db, &c.ctx, &u, &inp).await.map_err(fail(c.lang))?).into_response())
}

async fn deactivate(State(s): State<AppState>, c: ApiCtx, Path(u): Path<String>, body: axum::body::Bytes) -> ApiResult {
    // The body is optional: `{"successor": "…"}` when the user still holds accounts.
    let b: serde_json::Value = if body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(&body).map_err(|_| fail(c.lang)(DomainError::invalid("body", "invalid_json")))?
    };
    let succ = b.get("successor").and_then(|v| v.as_str());
    Ok(Json(users::set_active_with(&s.app.db, &c.ctx, &u, false, succ).await.map_err(fail(c.lang))?).into_response())
}

async fn handover(State(s): State<AppState>, c: ApiCtx, Path(u): Path<String>, JsonBody(b): JsonBody) -> ApiResult {
    let to = b.get("to").and_then(|v| v.as_str()).unwrap_or("");
    Ok(Json(crate::app::handover::hand_over(&s.app.db, &c.ctx, &u, to).await.map_err(fail(c.lang))?).into_response())
}

async fn activate(State(s): State<AppState>, c: ApiCtx, Path(u): Path<String>) -> ApiResult {
    Ok(Json(users::set_active(&s.app.db, &c.ctx, &u, true).await.map_err(fail(c.lang))?).into_response())
}

pub fn audit_filter(p: &[(String, String)]) -> Result<AuditFilter, DomainError> {
    Ok(AuditFilter {
        entity: q(p, "entity").map(str::to_string),
        entity_id: q(p, "id").map(str::to_string),
        cursor: q_i64(p, "cursor")?,
        limit: clamp_limit(q_i64(p, "limit")?)?,
    })
}

async fn list_audit(State(s): State<AppState>, c: ApiCtx, RawQuery(raw): RawQuery) -> ApiResult {
    let f = audit_filter(&query_pairs(raw)).map_err(fail(c.lang))?;
    Ok(Json(crate::app::history::list(&s.app.db, &c.ctx, &f, None).await.map_err(fail(c.lang))?).into_response())
}

async fn set_password(State(s): State<AppState>, c: ApiCtx, Path(u): Path<String>, JsonBody(b): JsonBody) -> ApiResult {
    let pw = b.get("password").and_then(|v| v.as_str()).unwrap_or("");
    users::set_password(&s.app.db, &c.ctx, &u, pw).await.map_err(fail(c.lang))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
