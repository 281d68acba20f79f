//! The caller's own profile and API tokens.
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;

use super::{fail, id_of, route, Api, ApiResult};
use crate::app::{auth, users};
use crate::web::auth::{ApiCtx, JsonBody};
use crate::web::AppState;

pub fn routes(api: Api) -> Api {
    let api = route!(api, GET "/api/v1/me", "Who am I", "me", [], false, me);
    let api = route!(api, GET "/api/v1/me/tokens", "My API tokens (never their secrets)", "me", [], false, tokens);
    let api = route!(api, POST "/api/v1/me/tokens", "Create an API token; the secret is shown once", "me", [], true, create_token);
    let api = route!(api, PUT "/api/v1/me/time-zone", "Set my time zone: {time_zone: \"Asia/Shanghai\"}", "me", [], true, set_time_zone);
    route!(api, DELETE "/api/v1/me/tokens/{id}", "Revoke one of my API tokens", "me", [], false, revoke)
}

async fn me(State(s): State<AppState>, c: ApiCtx) -> ApiResult {
    let mut u = serde_json::to_value(users::get(&s.app.db, &c.ctx.caller.username).await.map_err(fail(c.lang))?)
        .unwrap_or_default();
    u["sees_credit"] = json!(c.ctx.caller.sees_credit());
    Ok(Json(u).into_response())
}

async fn tokens(State(s): State<AppState>, c: ApiCtx) -> ApiResult {
    let items = auth::list_tokens(&s.app.db, &c.ctx.caller).await.map_err(fail(c.lang))?;
    Ok(Json(json!({"items": items, "next_cursor": null})).into_response())
}

async fn create_token(State(s): State<AppState>, c: ApiCtx, JsonBody(b): JsonBody) -> ApiResult {
    let name = b.get("name").and_then(|v| v.as_str()).unwrap_or("api");
    let (id, token) =
        auth::create_token(&s.app.db, &c.ctx, &c.ctx.caller.username, name).await.map_err(fail(c.lang))?;
    Ok((StatusCode::CREATED, Json(json!({"id": id, "name": name, "token": token}))).into_response())
}

async fn revoke(State(s): State<AppState>, c: ApiCtx, Path(id): Path<String>) -> ApiResult {
    let id = id_of(&id).map_err(fail(c.lang))?;
    auth::revoke_token(&s.app.db, &c.ctx, id).await.map_err(fail(c.lang))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn set_time_zone(State(s): State<AppState>, c: ApiCtx, JsonBody(body): JsonBody) -> ApiResult {
    let tz = body.get("time_zone").and_then(serde_json::Value::as_str).unwrap_or("");
    crate::app::users::set_time_zone(&s.app.db, &c.ctx, tz).await.map_err(fail(c.lang))?;
    Ok(axum::http::StatusCode::NO_CONTENT.into_response())
}
