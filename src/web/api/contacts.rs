use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;

use super::{export_response, fail, id_of, q, q_i64, query_pairs, route, Api, ApiResult};
use crate::app::contacts::{self, Filter};
use crate::app::export;
use crate::app::input::Input;
use crate::web::auth::{ApiCtx, JsonBody};
use crate::web::AppState;

pub fn routes(api: Api) -> Api {
    let api = route!(api, GET "/api/v1/contacts", "List contacts in scope", "contacts", ["q", "account_id", "cursor", "limit"], false, list);
    let api = route!(api, GET "/api/v1/contacts/count", "Count contacts in scope", "contacts", ["q", "account_id"], false, count);
    let api = route!(api, GET "/api/v1/contacts/export", "Export contacts in scope as CSV or XLSX (?format=xlsx)", "contacts", ["format", "q", "account_id"], false, export_csv);
    let api = route!(api, GET "/api/v1/contacts/{id}", "Get one contact", "contacts", [], false, get);
    let api = route!(api, PATCH "/api/v1/contacts/{id}", "Update a contact (needs its version)", "contacts", [], true, update);
    route!(api, DELETE "/api/v1/contacts/{id}", "Delete a contact", "contacts", ["version"], false, delete)
}

fn filter(p: &[(String, String)]) -> Result<Filter, crate::domain::DomainError> {
    Ok(Filter {
        account_id: q_i64(p, "account_id")?,
        q: q(p, "q").map(str::to_string),
        cursor: q(p, "cursor").map(str::to_string),
        limit: q_i64(p, "limit")?,
    })
}

async fn list(State(s): State<AppState>, c: ApiCtx, RawQuery(raw): RawQuery) -> ApiResult {
    let f = filter(&query_pairs(raw)).map_err(fail(c.lang))?;
    Ok(Json(contacts::list(&s.app.db, &c.ctx.caller, &f).await.map_err(fail(c.lang))?).into_response())
}

async fn count(State(s): State<AppState>, c: ApiCtx, RawQuery(raw): RawQuery) -> ApiResult {
    let f = filter(&query_pairs(raw)).map_err(fail(c.lang))?;
    let n = contacts::count(&s.app.db, &c.ctx.caller, &f).await.map_err(fail(c.lang))?;
    Ok(Json(json!({"count": n})).into_response())
}

async fn export_csv(State(s): State<AppState>, c: ApiCtx, RawQuery(raw): RawQuery) -> ApiResult {
    let p = query_pairs(raw);
    let f = filter(&p).map_err(fail(c.lang))?;
    let rows = contacts::export(&s.app.db, &c.ctx.caller, &f).await.map_err(fail(c.lang))?;
    export_response(&export::contacts_table(&rows), q(&p, "format"), None, "contacts").map_err(fail(c.lang))
}

async fn get(State(s): State<AppState>, c: ApiCtx, Path(id): Path<String>) -> ApiResult {
    let id = id_of(&id).map_err(fail(c.lang))?;
    Ok(Json(contacts::get(&s.app.db, &c.ctx.caller, id).await.map_err(fail(c.lang))?).into_response())
}

async fn update(State(s): State<AppState>, c: ApiCtx, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult {
    let id = id_of(&id).map_err(fail(c.lang))?;
    let inp = Input::from_json(&body).map_err(fail(c.lang))?;
    Ok(Json(contacts::update(&s.app.db, &c.ctx, id, &inp).await.map_err(fail(c.lang))?).into_response())
}

async fn delete(State(s): State<AppState>, c: ApiCtx, Path(id): Path<String>, RawQuery(raw): RawQuery) -> ApiResult {
    let id = id_of(&id).map_err(fail(c.lang))?;
    let version = q_i64(&query_pairs(raw), "version").map_err(fail(c.lang))?;
    contacts::delete(&s.app.db, &c.ctx, id, version).await.map_err(fail(c.lang))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
