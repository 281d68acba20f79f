use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;

use super::{export_response, fail, id_of, q, q_i64, query_pairs, route, Api, ApiResult};
use crate::app::accounts::{self, Filter};
use crate::app::input::Input;
use crate::app::{contacts, export};
use crate::web::auth::{ApiCtx, JsonBody};
use crate::web::AppState;
use axum::handler::Handler;

pub fn routes(api: Api) -> Api {
    let api = route!(api, GET "/api/v1/accounts", "List accounts in the caller's scope", "accounts",
        ["q", "owner", "region", "branch", "status", "rad_class", "tier", "industry", "level", "sort", "cursor", "limit"], false, list);
    let api = route!(api, POST "/api/v1/accounts", "Create an account", "accounts", [], true, create);
    let api = route!(api, GET "/api/v1/accounts/count", "Count accounts in scope matching the filters", "accounts",
        ["q", "owner", "region", "branch", "status", "rad_class", "tier", "industry", "level"], false, count);
    let api = route!(api, GET "/api/v1/accounts/export", "Export accounts in scope as CSV or XLSX (?format=xlsx)", "accounts",
        ["format", "q", "owner", "region", "branch", "status", "rad_class", "tier", "industry", "level"], false, export_csv);
    let api = route!(api, GET "/api/v1/accounts/{id}", "Get one account", "accounts", [], false, get);
    let api = route!(api, PATCH "/api/v1/accounts/{id}", "Update an account (needs its version)", "accounts", [], true, update);
    let api = route!(api, DELETE "/api/v1/accounts/{id}", "Delete an account", "accounts", ["version"], false, delete);
    let api = route!(api, POST "/api/v1/imports/accounts",
        "Import accounts: the body is the CSV (UTF-8 or GBK) or XLSX file; all rows or none; ?dry_run=true only reports; \
         ?on_match=update updates matching accounts; ?map=HEADER:field (repeatable) maps an unknown header, ?map=HEADER: ignores it",
        "import", ["dry_run", "on_match", "map"], false,
        (|s, c, q, b| import(s, c, q, b, crate::app::import::Kind::Accounts)).layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024)));
    let api = route!(api, POST "/api/v1/imports/contacts",
        "Import contacts: each row names its account (name or credit code) and may name the contact it reports to; same rules and options as accounts",
        "import", ["dry_run", "on_match", "map"], false,
        (|s, c, q, b| import(s, c, q, b, crate::app::import::Kind::Contacts)).layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024)));
    let api = route!(api, GET "/api/v1/pool", "The regional resource pool: accounts without an owner in the caller's region",
        "pool", ["q", "cursor", "limit"], false, pool_list);
    let api = route!(api, POST "/api/v1/accounts/{id}/claim", "Claim an account from the pool (first claim wins)", "pool", [], false, claim);
    let api = route!(api, POST "/api/v1/accounts/{id}/release", "Give a claimed account back to the pool", "pool", [], false, release);
    let api = route!(api, GET "/api/v1/accounts/{id}/team", "The account team", "accounts", [], false, team);
    let api = route!(api, POST "/api/v1/accounts/{id}/team", "Add a user to the account team (managers)", "accounts", [], true, team_add);
    let api = route!(api, DELETE "/api/v1/accounts/{id}/team/{username}", "Remove a user from the account team (managers)", "accounts", [], false, team_remove);
    let api = route!(api, GET "/api/v1/accounts/{id}/contacts", "The account's contacts (buying committee)", "contacts", [], false, list_contacts);
    route!(api, POST "/api/v1/accounts/{id}/contacts", "Add a contact to the account", "contacts", [], true, create_contact)
}

pub fn filter_from(p: &[(String, String)]) -> Result<Filter, crate::domain::DomainError> {
    let s = |k| q(p, k).map(str::to_string);
    Ok(Filter {
        q: s("q"),
        owner: s("owner"),
        region: s("region"),
        branch: s("branch"),
        status: s("status"),
        rad_class: s("rad_class"),
        tier: s("tier"),
        industry: s("industry"),
        level: s("level"),
        sort: s("sort"),
        cursor: s("cursor"),
        limit: q_i64(p, "limit")?,
    })
}

async fn list(State(s): State<AppState>, c: ApiCtx, RawQuery(raw): RawQuery) -> ApiResult {
    let f = filter_from(&query_pairs(raw)).map_err(fail(c.lang))?;
    let page = accounts::list(&s.app.db, &c.ctx.caller, &f).await.map_err(fail(c.lang))?;
    Ok(Json(page).into_response())
}

async fn count(State(s): State<AppState>, c: ApiCtx, RawQuery(raw): RawQuery) -> ApiResult {
    let f = filter_from(&query_pairs(raw)).map_err(fail(c.lang))?;
    let n = accounts::count(&s.app.db, &c.ctx.caller, &f).await.map_err(fail(c.lang))?;
    Ok(Json(json!({"count": n})).into_response())
}

async fn export_csv(State(s): State<AppState>, c: ApiCtx, RawQuery(raw): RawQuery) -> ApiResult {
    let p = query_pairs(raw);
    let f = filter_from(&p).map_err(fail(c.lang))?;
    let rows = accounts::export(&s.app.db, &c.ctx.caller, &f).await.map_err(fail(c.lang))?;
    let t = export::accounts_table(&rows, c.ctx.caller.sees_credit());
    export_response(&t, q(&p, "format"), None, "accounts").map_err(fail(c.lang))
}

async fn get(State(s): State<AppState>, c: ApiCtx, Path(id): Path<String>) -> ApiResult {
    let id = id_of(&id).map_err(fail(c.lang))?;
    Ok(Json(accounts::get(&s.app.db, &c.ctx.caller, id).await.map_err(fail(c.lang))?).into_response())
}

async fn create(State(s): State<AppState>, c: ApiCtx, JsonBody(body): JsonBody) -> ApiResult {
    let inp = Input::from_json(&body).map_err(fail(c.lang))?;
    let v = accounts::create(&s.app.db, &c.ctx, &inp).await.map_err(fail(c.lang))?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

async fn update(State(s): State<AppState>, c: ApiCtx, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult {
    let id = id_of(&id).map_err(fail(c.lang))?;
    let inp = Input::from_json(&body).map_err(fail(c.lang))?;
    Ok(Json(accounts::update(&s.app.db, &c.ctx, id, &inp).await.map_err(fail(c.lang))?).into_response())
}

async fn delete(State(s): State<AppState>, c: ApiCtx, Path(id): Path<String>, RawQuery(raw): RawQuery) -> ApiResult {
    let id = id_of(&id).map_err(fail(c.lang))?;
    let version = q_i64(&query_pairs(raw), "version").map_err(fail(c.lang))?;
    accounts::delete(&s.app.db, &c.ctx, id, version).await.map_err(fail(c.lang))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_contacts(State(s): State<AppState>, c: ApiCtx, Path(id): Path<String>) -> ApiResult {
    let id = id_of(&id).map_err(fail(c.lang))?;
    let items = contacts::of_account(&s.app.db, &c.ctx.caller, id).await.map_err(fail(c.lang))?;
    Ok(Json(json!({"items": items, "next_cursor": null})).into_response())
}

async fn create_contact(
    State(s): State<AppState>,
    c: ApiCtx,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let id = id_of(&id).map_err(fail(c.lang))?;
    let inp = Input::from_json(&body).map_err(fail(c.lang))?;
    let v = contacts::create(&s.app.db, &c.ctx, id, &inp).await.map_err(fail(c.lang))?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

async fn team(State(s): State<AppState>, c: ApiCtx, Path(id): Path<String>) -> ApiResult {
    let id = id_of(&id).map_err(fail(c.lang))?;
    let items = accounts::team(&s.app.db, &c.ctx.caller, id).await.map_err(fail(c.lang))?;
    Ok(Json(json!({"items": items, "next_cursor": null})).into_response())
}

async fn team_add(State(s): State<AppState>, c: ApiCtx, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult {
    let id = id_of(&id).map_err(fail(c.lang))?;
    let u = body.get("username").and_then(|v| v.as_str()).unwrap_or("");
    let items = accounts::set_team_member(&s.app.db, &c.ctx, id, u, true).await.map_err(fail(c.lang))?;
    Ok((StatusCode::CREATED, Json(json!({"items": items, "next_cursor": null}))).into_response())
}

async fn team_remove(State(s): State<AppState>, c: ApiCtx, Path((id, u)): Path<(String, String)>) -> ApiResult {
    let id = id_of(&id).map_err(fail(c.lang))?;
    accounts::set_team_member(&s.app.db, &c.ctx, id, &u, false).await.map_err(fail(c.lang))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn pool_list(State(s): State<AppState>, c: ApiCtx, RawQuery(raw): RawQuery) -> ApiResult {
    let p = query_pairs(raw);
    let limit = q_i64(&p, "limit").map_err(fail(c.lang))?;
    let page = crate::app::pool::list(&s.app.db, &c.ctx.caller, q(&p, "q"), q(&p, "cursor"), limit)
        .await
        .map_err(fail(c.lang))?;
    Ok(Json(page).into_response())
}

async fn claim(State(s): State<AppState>, c: ApiCtx, Path(id): Path<String>) -> ApiResult {
    let id = id_of(&id).map_err(fail(c.lang))?;
    let a =
        crate::app::pool::claim(&s.app.db, &c.ctx, id, s.app.settings.pool_claim_limit).await.map_err(fail(c.lang))?;
    Ok(Json(a).into_response())
}

async fn release(State(s): State<AppState>, c: ApiCtx, Path(id): Path<String>) -> ApiResult {
    let id = id_of(&id).map_err(fail(c.lang))?;
    crate::app::pool::release(&s.app.db, &c.ctx, id).await.map_err(fail(c.lang))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn import(
    State(s): State<AppState>,
    c: ApiCtx,
    RawQuery(raw): RawQuery,
    body: axum::body::Bytes,
    kind: crate::app::import::Kind,
) -> ApiResult {
    use crate::app::import::{OnMatch, Options, Source};
    let p = query_pairs(raw);
    let dry = q(&p, "dry_run").is_some_and(|v| v == "true" || v == "1");
    let on_match = match q(&p, "on_match") {
        None | Some("report") => OnMatch::Report,
        Some("update") => OnMatch::Update,
        Some(_) => return Err(fail(c.lang)(crate::domain::DomainError::invalid("on_match", "invalid_choice"))),
    };
    let maps = p.iter().filter(|(k, _)| k == "map").map(|(_, v)| v.as_str());
    let mapping = crate::app::import::parse_mapping(kind, maps).map_err(fail(c.lang))?;
    let opts = Options { dry_run: dry, on_match, mapping };
    let r = crate::app::import::run(&s.app.db, &c.ctx, kind, Source::bytes(body), &opts).await.map_err(fail(c.lang))?;
    let status = if r.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let mut v = serde_json::to_value(&r).unwrap_or_default();
    if let Some(errs) = v.get_mut("errors").and_then(|e| e.as_array_mut()) {
        for e in errs {
            let code = e["code"].as_str().unwrap_or("").split(':').next().unwrap_or("").to_string();
            e["message"] = json!(crate::web::ui::import_reason(c.lang, e["code"].as_str().unwrap_or(&code)));
        }
    }
    Ok((status, Json(v)).into_response())
}
