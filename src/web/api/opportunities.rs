//! `/api/v1/opportunities` and the funnel report.
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Value};

use super::{export_response, fail, id_of, q, q_i64, query_pairs, report, route, Api, ApiResult};
use crate::app::input::Input;
use crate::app::opportunities::{self as opps, Filter, FunnelQuery, StageMove};
use crate::app::reports;
use crate::domain::DomainError;
use crate::web::auth::{ApiCtx, JsonBody};
use crate::web::AppState;

pub fn routes(api: Api) -> Api {
    let api = route!(api, GET "/api/v1/opportunities", "List opportunities in scope", "opportunities", ["stage", "owner", "account_id", "open", "q", "sort", "cursor", "limit"], false, list);
    let api = route!(api, POST "/api/v1/opportunities", "Establish an opportunity (立项) with its evaluation form; it enters the funnel at identified", "opportunities", [], true, create);
    let api = route!(api, GET "/api/v1/opportunities/count", "Count opportunities in scope", "opportunities", ["stage", "owner", "account_id", "open", "q"], false, count);
    let api = route!(api, GET "/api/v1/opportunities/{id}", "Get one opportunity with its exit-criteria checklist", "opportunities", [], false, get);
    let api = route!(api, PATCH "/api/v1/opportunities/{id}", "Update an opportunity (needs its version)", "opportunities", [], true, update);
    let api = route!(api, POST "/api/v1/opportunities/{id}/stage", "Move to another stage by the funnel's rules", "opportunities", [], true, stage);
    let api = route!(api, POST "/api/v1/opportunities/{id}/checklist", "Check or uncheck an exit criterion: {item, checked, version}", "opportunities", [], true, check);
    let api = route!(api, GET "/api/v1/opportunities/{id}/history", "Every change of stage, amount and expected date", "opportunities", [], false, history);
    let api = route!(api, GET "/api/v1/reports/funnel", "The funnel by stage in scope, now or as it stood on a date", "reports", ["as_of", "owner", "org", "format"], false, funnel);
    let api = route!(api, PUT "/api/v1/quotas", "Set one month's quota: {month: YYYY-MM, owner|org, amount}", "quotas", [], true, set_quota);
    let api = route!(api, POST "/api/v1/quotas/import",
        "Set quotas from a CSV or XLSX file (columns 月份/month, 用户名/owner or 组织/org, 指标/amount); all rows or none",
        "quotas", [], false, import_quotas);
    let api = route!(api, GET "/api/v1/reports/v-value",
        "Quota, booked, remaining, pipeline and V value per person, team and region (?period=YYYY-MM|YYYY-Qn|YYYY)",
        "reports", ["period", "owner", "format"], false, v_value);
    let api = route!(api, GET "/api/v1/reports/regions",
        "Sales progress and pipeline by region (各大区销售进度与商机分析): quota, booked, remaining, V value, funnel by stage (?period=)",
        "reports", ["period", "format"], false, regions);
    let api = route!(api, GET "/api/v1/reports/monthly",
        "Monthly order forecast (每月定单预测): booked, open pipeline, weighted, commit and best case per month",
        "reports", ["owner", "format"], false, monthly);
    let api = route!(api, POST "/api/v1/forecasts",
        "Submit the caller's 4-week forecast: {lines: [{week (Monday), commit, best_case}]} for this week and the three after",
        "forecast", [], true, submit_forecast);
    let api = route!(api, POST "/api/v1/forecasts/adjustments",
        "A manager's adjustment of one week: {owner, week, commit, best_case, reason}", "forecast", [], true, adjust_forecast);
    let api = route!(api, GET "/api/v1/reports/forecast",
        "Per person: the prefill from opportunities, this and last week's submissions, adjustments, accuracy over eight weeks",
        "reports", ["owner", "format"], false, forecast_report);
    let api = route!(api, GET "/api/v1/reports/one-on-one",
        "The manager's weekly 1×1 review of one salesperson (?owner=USERNAME)", "reports", ["owner"], false, one_on_one);
    route!(api, GET "/api/v1/me/today", "The caller's day: this month's figures, next steps due, deals past their date", "me", [], false, today)
}

async fn set_quota(State(s): State<AppState>, c: ApiCtx, JsonBody(body): JsonBody) -> ApiResult {
    let inp = Input::from_json(&body).map_err(fail(c.lang))?;
    Ok(Json(crate::app::quotas::set(&s.app.db, &c.ctx, &inp).await.map_err(fail(c.lang))?).into_response())
}

async fn import_quotas(State(s): State<AppState>, c: ApiCtx, body: axum::body::Bytes) -> ApiResult {
    let src = crate::app::import::Source::bytes(body);
    let r = crate::app::quotas::import(&s.app.db, &c.ctx, src).await.map_err(fail(c.lang))?;
    let status = if r.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok((status, Json(r)).into_response())
}

async fn v_value(State(s): State<AppState>, c: ApiCtx, RawQuery(raw): RawQuery) -> ApiResult {
    let p = query_pairs(raw);
    let r = crate::app::quotas::v_report(&s.app.db, &c.ctx.caller, q(&p, "period"), q(&p, "owner")).await;
    report(&c, &p, r.map_err(fail(c.lang))?, reports::v_value_table, "v-value")
}

async fn regions(State(s): State<AppState>, c: ApiCtx, RawQuery(raw): RawQuery) -> ApiResult {
    let p = query_pairs(raw);
    let r = reports::regions(&s.app.db, &c.ctx.caller, q(&p, "period")).await.map_err(fail(c.lang))?;
    report(&c, &p, r, reports::regions_table, "regions")
}

async fn monthly(State(s): State<AppState>, c: ApiCtx, RawQuery(raw): RawQuery) -> ApiResult {
    let p = query_pairs(raw);
    let r = reports::monthly(&s.app.db, &c.ctx.caller, q(&p, "owner")).await.map_err(fail(c.lang))?;
    report(&c, &p, r, reports::monthly_table, "monthly-forecast")
}

async fn today(State(s): State<AppState>, c: ApiCtx) -> ApiResult {
    Ok(Json(crate::app::quotas::daily(&s.app.db, &c.ctx.caller).await.map_err(fail(c.lang))?).into_response())
}

fn filter(p: &[(String, String)]) -> Result<Filter, DomainError> {
    Ok(Filter {
        account_id: q_i64(p, "account_id")?,
        stage: q(p, "stage").map(str::to_string),
        owner: q(p, "owner").map(str::to_string),
        open: matches!(q(p, "open"), Some("true" | "1")),
        q: q(p, "q").map(str::to_string),
        sort: q(p, "sort").map(str::to_string),
        cursor: q(p, "cursor").map(str::to_string),
        limit: q_i64(p, "limit")?,
    })
}

async fn list(State(s): State<AppState>, c: ApiCtx, RawQuery(raw): RawQuery) -> ApiResult {
    let f = filter(&query_pairs(raw)).map_err(fail(c.lang))?;
    Ok(Json(opps::list(&s.app.db, &c.ctx.caller, &f).await.map_err(fail(c.lang))?).into_response())
}

async fn count(State(s): State<AppState>, c: ApiCtx, RawQuery(raw): RawQuery) -> ApiResult {
    let f = filter(&query_pairs(raw)).map_err(fail(c.lang))?;
    let n = opps::count(&s.app.db, &c.ctx.caller, &f).await.map_err(fail(c.lang))?;
    Ok(Json(json!({"count": n})).into_response())
}

async fn create(State(s): State<AppState>, c: ApiCtx, JsonBody(mut body): JsonBody) -> ApiResult {
    let account = body.as_object_mut().and_then(|o| o.remove("account_id"));
    let account_id = match account {
        Some(Value::Number(n)) if n.as_i64().is_some() => n.as_i64().unwrap_or_default(),
        Some(_) => return Err(fail(c.lang)(DomainError::invalid("account_id", "expected_integer"))),
        None => return Err(fail(c.lang)(DomainError::invalid("account_id", "required"))),
    };
    let inp = Input::from_json(&body).map_err(fail(c.lang))?;
    let v = opps::establish(&s.app.db, &c.ctx, account_id, &inp).await.map_err(fail(c.lang))?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

async fn get(State(s): State<AppState>, c: ApiCtx, Path(id): Path<String>) -> ApiResult {
    let id = id_of(&id).map_err(fail(c.lang))?;
    Ok(Json(opps::get(&s.app.db, &c.ctx.caller, id).await.map_err(fail(c.lang))?).into_response())
}

async fn update(State(s): State<AppState>, c: ApiCtx, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult {
    let id = id_of(&id).map_err(fail(c.lang))?;
    let inp = Input::from_json(&body).map_err(fail(c.lang))?;
    Ok(Json(opps::update(&s.app.db, &c.ctx, id, &inp).await.map_err(fail(c.lang))?).into_response())
}

fn text(body: &Value, k: &str) -> Option<String> {
    match body.get(k) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

async fn stage(State(s): State<AppState>, c: ApiCtx, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult {
    let id = id_of(&id).map_err(fail(c.lang))?;
    if matches!(body.get("booked_amount"), Some(Value::Number(_))) {
        return Err(fail(c.lang)(DomainError::invalid("booked_amount", "money_must_be_string")));
    }
    let m = StageMove {
        stage: text(&body, "stage").unwrap_or_default(),
        version: body.get("version").and_then(Value::as_i64),
        reason: text(&body, "reason"),
        override_reason: text(&body, "override_reason"),
        booked_amount: text(&body, "booked_amount"),
        booked_on: text(&body, "booked_on"),
        lost_reason: text(&body, "lost_reason"),
        lost_to: text(&body, "lost_to"),
    };
    Ok(Json(opps::move_stage(&s.app.db, &c.ctx, id, &m).await.map_err(fail(c.lang))?).into_response())
}

async fn check(State(s): State<AppState>, c: ApiCtx, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult {
    let id = id_of(&id).map_err(fail(c.lang))?;
    let item = text(&body, "item").ok_or_else(|| fail(c.lang)(DomainError::invalid("item", "required")))?;
    let checked = body.get("checked").and_then(Value::as_bool).unwrap_or(true);
    let version = body
        .get("version")
        .and_then(Value::as_i64)
        .ok_or_else(|| fail(c.lang)(DomainError::invalid("version", "required")))?;
    Ok(Json(opps::set_check(&s.app.db, &c.ctx, id, &item, checked, version).await.map_err(fail(c.lang))?)
        .into_response())
}

async fn history(State(s): State<AppState>, c: ApiCtx, Path(id): Path<String>) -> ApiResult {
    let id = id_of(&id).map_err(fail(c.lang))?;
    let items = opps::history(&s.app.db, &c.ctx.caller, id).await.map_err(fail(c.lang))?;
    Ok(Json(json!({ "items": items })).into_response())
}

async fn funnel(State(s): State<AppState>, c: ApiCtx, RawQuery(raw): RawQuery) -> ApiResult {
    let p = query_pairs(raw);
    let fq = FunnelQuery {
        as_of: q(&p, "as_of").map(str::to_string),
        owner: q(&p, "owner").map(str::to_string),
        org: q(&p, "org").map(str::to_string),
    };
    let f = opps::funnel(&s.app.db, &c.ctx.caller, &fq).await.map_err(fail(c.lang))?;
    report(&c, &p, f, reports::funnel_table, "funnel")
}

async fn submit_forecast(State(s): State<AppState>, c: ApiCtx, JsonBody(body): JsonBody) -> ApiResult {
    let mut lines = vec![];
    for l in body.get("lines").and_then(Value::as_array).cloned().unwrap_or_default() {
        if matches!(l.get("commit"), Some(Value::Number(_))) || matches!(l.get("best_case"), Some(Value::Number(_))) {
            return Err(fail(c.lang)(DomainError::invalid("lines", "money_must_be_string")));
        }
        lines.push((
            text(&l, "week").unwrap_or_default(),
            text(&l, "commit").unwrap_or_default(),
            text(&l, "best_case").unwrap_or_default(),
        ));
    }
    let r = crate::app::forecasts::submit(&s.app.db, &c.ctx, &lines).await.map_err(fail(c.lang))?;
    Ok((StatusCode::CREATED, Json(r)).into_response())
}

async fn adjust_forecast(State(s): State<AppState>, c: ApiCtx, JsonBody(body): JsonBody) -> ApiResult {
    let g = |k: &str| text(&body, k).unwrap_or_default();
    let reason = text(&body, "reason");
    let r = crate::app::forecasts::adjust(
        &s.app.db,
        &c.ctx,
        &g("owner"),
        &g("week"),
        &g("commit"),
        &g("best_case"),
        reason.as_deref(),
    )
    .await
    .map_err(fail(c.lang))?;
    Ok((StatusCode::CREATED, Json(r)).into_response())
}

async fn forecast_report(State(s): State<AppState>, c: ApiCtx, RawQuery(raw): RawQuery) -> ApiResult {
    let p = query_pairs(raw);
    let items = crate::app::forecasts::report(&s.app.db, &c.ctx.caller, q(&p, "owner")).await.map_err(fail(c.lang))?;
    match q(&p, "format") {
        None | Some("json") => Ok(Json(json!({ "items": items })).into_response()),
        Some(f) => export_response(&reports::forecast_table(&items), Some(f), None, "forecast").map_err(fail(c.lang)),
    }
}

async fn one_on_one(State(s): State<AppState>, c: ApiCtx, RawQuery(raw): RawQuery) -> ApiResult {
    let p = query_pairs(raw);
    let owner = q(&p, "owner").ok_or_else(|| fail(c.lang)(DomainError::invalid("owner", "required")))?;
    Ok(Json(crate::app::reviews::one_on_one(&s.app.db, &c.ctx.caller, owner).await.map_err(fail(c.lang))?)
        .into_response())
}
