//! `/api/v1/activities`, visit plans, the week calendar, visit statistics, follow-ups, the
//! development record and the activity targets.
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Value};

use super::{export_response, fail, id_of, q, q_i64, query_pairs, route, Api, ApiResult};
use crate::app::activities::{self as acts, Filter};
use crate::app::input::Input;
use crate::domain::DomainError;
use crate::web::auth::{ApiCtx, JsonBody};
use crate::web::AppState;

pub fn routes(api: Api) -> Api {
    let api = route!(api, GET "/api/v1/activities",
        "List activities in scope, newest first", "activities",
        ["owner", "account_id", "opportunity_id", "kind", "status", "effective", "from", "to", "cursor", "limit"], false, list);
    let api = route!(api, POST "/api/v1/activities",
        "Record (status done) or plan (status planned) an activity; contacts: [{contact_id, attitude}]", "activities", [], true, create);
    let api = route!(api, GET "/api/v1/activities/calendar",
        "The week calendar of a person or (team=1) of everyone the caller follows", "activities", ["owner", "team", "week"], false, calendar);
    let api = route!(api, GET "/api/v1/activities/{id}", "Get one activity with the contacts met", "activities", [], false, get);
    let api = route!(api, PATCH "/api/v1/activities/{id}", "Change an activity (needs its version); contacts replace the list when given", "activities", [], true, update);
    let api =
        route!(api, DELETE "/api/v1/activities/{id}", "Delete an activity", "activities", ["version"], false, delete);
    let api = route!(api, GET "/api/v1/reports/visits",
        "Effective visits and calls per person, team and region, by day, against targets (?week=Monday)", "reports", ["week", "format"], false, stats);
    let api = route!(api, GET "/api/v1/visit-plans", "One person's weekly visit plan", "activities", ["owner", "week"], false, plan);
    let api = route!(api, GET "/api/v1/visit-plans/team", "The plans of everyone the caller follows, side by side", "activities", ["week"], false, team_plans);
    let api = route!(api, POST "/api/v1/visit-plans/submit", "Submit the caller's plan for a week: {week, note}", "activities", [], true, submit_plan);
    let api = route!(api, GET "/api/v1/follow-ups", "Visits waiting for their follow-up contact (due and overdue)", "activities", ["owner"], false, follow_ups);
    let api = route!(api, GET "/api/v1/me/visits", "The caller's visit progress today and this week against targets", "me", [], false, progress);
    let api = route!(api, GET "/api/v1/accounts/{id}/development", "The account's development record, from its activities", "activities", [], false, development);
    let api = route!(api, GET "/api/v1/activity-targets", "Visit and call targets per sales type", "activities", [], false, targets);
    route!(api, PUT "/api/v1/activity-targets/{sales_type}",
        "Set the targets of a sales type (ae / sr): {weekly_effective, daily_effective, daily_calls, follow_up_days}", "activities", [], true, set_targets)
}

fn filter(p: &[(String, String)]) -> Result<Filter, DomainError> {
    let effective = match q(p, "effective") {
        None | Some("") => None,
        Some("1" | "true") => Some(true),
        Some("0" | "false") => Some(false),
        Some(_) => return Err(DomainError::invalid("effective", "invalid_choice")),
    };
    Ok(Filter {
        owner: q(p, "owner").map(str::to_string),
        account_id: q_i64(p, "account_id")?,
        opportunity_id: q_i64(p, "opportunity_id")?,
        kind: q(p, "kind").map(str::to_string),
        status: q(p, "status").map(str::to_string),
        effective,
        from: q(p, "from").map(str::to_string),
        to: q(p, "to").map(str::to_string),
        cursor: q(p, "cursor").map(str::to_string),
        limit: q_i64(p, "limit")?,
    })
}

/// The `contacts` array of a body, taken out (the rest are the record's scalar fields):
/// `[{"contact_id": 1, "attitude": "supporter"}, …]`.
pub fn take_contacts(body: &mut Value) -> Result<Option<acts::MetInput>, DomainError> {
    let Some(obj) = body.as_object_mut() else { return Ok(None) };
    let Some(v) = obj.remove("contacts") else { return Ok(None) };
    let bad = || DomainError::invalid("contacts", "expected_contact_list");
    let arr = match v {
        Value::Null => return Ok(Some(vec![])),
        Value::Array(a) => a,
        _ => return Err(bad()),
    };
    arr.iter()
        .map(|c| {
            let id = c.get("contact_id").and_then(Value::as_i64).ok_or_else(bad)?;
            let att = match c.get("attitude") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(_) => return Err(bad()),
            };
            Ok((id, att))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

async fn list(State(s): State<AppState>, c: ApiCtx, RawQuery(raw): RawQuery) -> ApiResult {
    let f = filter(&query_pairs(raw)).map_err(fail(c.lang))?;
    Ok(Json(acts::list(&s.app.db, &c.ctx.caller, &f).await.map_err(fail(c.lang))?).into_response())
}

async fn create(State(s): State<AppState>, c: ApiCtx, JsonBody(mut body): JsonBody) -> ApiResult {
    let contacts = take_contacts(&mut body).map_err(fail(c.lang))?;
    let inp = Input::from_json(&body).map_err(fail(c.lang))?;
    let v = acts::create(&s.app.db, &c.ctx, &inp, contacts.as_deref()).await.map_err(fail(c.lang))?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

async fn get(State(s): State<AppState>, c: ApiCtx, Path(id): Path<String>) -> ApiResult {
    let id = id_of(&id).map_err(fail(c.lang))?;
    Ok(Json(acts::get(&s.app.db, &c.ctx.caller, id).await.map_err(fail(c.lang))?).into_response())
}

async fn update(
    State(s): State<AppState>,
    c: ApiCtx,
    Path(id): Path<String>,
    JsonBody(mut body): JsonBody,
) -> ApiResult {
    let id = id_of(&id).map_err(fail(c.lang))?;
    let contacts = take_contacts(&mut body).map_err(fail(c.lang))?;
    let inp = Input::from_json(&body).map_err(fail(c.lang))?;
    Ok(Json(acts::update(&s.app.db, &c.ctx, id, &inp, contacts.as_deref()).await.map_err(fail(c.lang))?)
        .into_response())
}

async fn delete(State(s): State<AppState>, c: ApiCtx, Path(id): Path<String>, RawQuery(raw): RawQuery) -> ApiResult {
    let id = id_of(&id).map_err(fail(c.lang))?;
    let version = q_i64(&query_pairs(raw), "version").map_err(fail(c.lang))?;
    acts::delete(&s.app.db, &c.ctx, id, version).await.map_err(fail(c.lang))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn calendar(State(s): State<AppState>, c: ApiCtx, RawQuery(raw): RawQuery) -> ApiResult {
    let p = query_pairs(raw);
    let team = matches!(q(&p, "team"), Some("1" | "true"));
    let cal =
        acts::calendar(&s.app.db, &c.ctx.caller, q(&p, "owner"), team, q(&p, "week")).await.map_err(fail(c.lang))?;
    Ok(Json(cal).into_response())
}

async fn stats(State(s): State<AppState>, c: ApiCtx, RawQuery(raw): RawQuery) -> ApiResult {
    let p = query_pairs(raw);
    let st = acts::stats(&s.app.db, &c.ctx.caller, q(&p, "week")).await.map_err(fail(c.lang))?;
    match q(&p, "format") {
        None | Some("json") => Ok(Json(st).into_response()),
        Some(f) => export_response(&acts::stats_table(&st), Some(f), None, "visits").map_err(fail(c.lang)),
    }
}

async fn plan(State(s): State<AppState>, c: ApiCtx, RawQuery(raw): RawQuery) -> ApiResult {
    let p = query_pairs(raw);
    Ok(Json(acts::plan(&s.app.db, &c.ctx.caller, q(&p, "owner"), q(&p, "week")).await.map_err(fail(c.lang))?)
        .into_response())
}

async fn team_plans(State(s): State<AppState>, c: ApiCtx, RawQuery(raw): RawQuery) -> ApiResult {
    let p = query_pairs(raw);
    let items = acts::team_plans(&s.app.db, &c.ctx.caller, q(&p, "week")).await.map_err(fail(c.lang))?;
    Ok(Json(json!({ "items": items })).into_response())
}

async fn submit_plan(State(s): State<AppState>, c: ApiCtx, JsonBody(body): JsonBody) -> ApiResult {
    let week = body.get("week").and_then(Value::as_str);
    let note = body.get("note").and_then(Value::as_str);
    Ok(Json(acts::submit_plan(&s.app.db, &c.ctx, week, note).await.map_err(fail(c.lang))?).into_response())
}

async fn follow_ups(State(s): State<AppState>, c: ApiCtx, RawQuery(raw): RawQuery) -> ApiResult {
    let p = query_pairs(raw);
    let items = acts::follow_ups(&s.app.db, &c.ctx.caller, q(&p, "owner")).await.map_err(fail(c.lang))?;
    Ok(Json(json!({ "items": items })).into_response())
}

async fn progress(State(s): State<AppState>, c: ApiCtx) -> ApiResult {
    let p = acts::progress(&s.app.db, &c.ctx.caller).await.map_err(fail(c.lang))?;
    let f = acts::follow_ups(&s.app.db, &c.ctx.caller, None).await.map_err(fail(c.lang))?;
    Ok(Json(json!({ "progress": p, "follow_ups": f })).into_response())
}

async fn development(State(s): State<AppState>, c: ApiCtx, Path(id): Path<String>) -> ApiResult {
    let id = id_of(&id).map_err(fail(c.lang))?;
    Ok(Json(acts::development(&s.app.db, &c.ctx.caller, id).await.map_err(fail(c.lang))?).into_response())
}

async fn targets(State(s): State<AppState>, c: ApiCtx) -> ApiResult {
    let t = acts::targets(&s.app.db).await.map_err(fail(c.lang))?;
    let items: Vec<Value> = t.into_iter().map(|(st, t)| json!({"sales_type": st, "targets": t})).collect();
    Ok(Json(json!({ "items": items })).into_response())
}

async fn set_targets(
    State(s): State<AppState>,
    c: ApiCtx,
    Path(st): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let inp = Input::from_json(&body).map_err(fail(c.lang))?;
    Ok(Json(acts::set_targets(&s.app.db, &c.ctx, &st, &inp).await.map_err(fail(c.lang))?).into_response())
}
