//! The RAD grid, service standards, coverage, one account's classification, and the
//! classification settings (`app::classify`).
use axum::extract::{Path, RawQuery, State};
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;

use super::{fail, id_of, q, query_pairs, report, route, Api, ApiResult};
use crate::app::classify::{self as cls};
use crate::app::classify_views as clv;
use crate::app::classify_views::Scope;
use crate::web::auth::{ApiCtx, JsonBody};
use crate::web::AppState;

pub fn routes(api: Api) -> Api {
    let api = route!(api, GET "/api/v1/reports/rad",
        "The RAD grid (3 × 3: accounts, buying power, sales, open pipeline per class; the unclassified apart) and each outside salesperson's portfolio against the 10–15 R / 10–15 D focus",
        "reports", ["org", "owner", "format"], false, rad);
    let api = route!(api, GET "/api/v1/reports/coverage",
        "Coverage (客户覆盖率统计表): SOA, aggregated SOW and activations per person, team and region for a period (?period=YYYY-MM|YYYY-Qn|YYYY, default this month); unowned, untouched and activated accounts",
        "reports", ["org", "owner", "period", "format"], false, coverage);
    let api = route!(api, GET "/api/v1/reports/service-standards",
        "Key accounts overdue on their tier's service standards (executive visit, working contact, technical exchange), by owner",
        "reports", ["org", "owner", "tier", "standard", "format"], false, service);
    let api = route!(api, GET "/api/v1/accounts/{id}/classification",
        "An account's buying power, trailing sales and their source, SOW, RAD class, tier with its score breakdown, service standards and the history of these",
        "accounts", [], false, of_account);
    let api = route!(api, GET "/api/v1/settings/classification",
        "RAD thresholds, tier bands, weights and thresholds, and service standards per tier, each with its version",
        "settings", [], false, get_settings);
    route!(api, PUT "/api/v1/settings/classification/{part}",
        "Replace one part (rad, tiers, service_standards) with its version; every account is reclassified in the same transaction",
        "settings", [], true, put_settings)
}

fn scope(p: &[(String, String)]) -> Scope {
    Scope { org: q(p, "org").map(str::to_string), owner: q(p, "owner").map(str::to_string) }
}

async fn rad(State(s): State<AppState>, c: ApiCtx, RawQuery(raw): RawQuery) -> ApiResult {
    let p = query_pairs(raw);
    let r = clv::rad(&s.app.db, &c.ctx.caller, &scope(&p)).await.map_err(fail(c.lang))?;
    report(&c, &p, r, clv::rad_table, "rad")
}

async fn coverage(State(s): State<AppState>, c: ApiCtx, RawQuery(raw): RawQuery) -> ApiResult {
    let p = query_pairs(raw);
    let r = clv::coverage(&s.app.db, &c.ctx.caller, &scope(&p), q(&p, "period")).await.map_err(fail(c.lang))?;
    report(&c, &p, r, clv::coverage_table, "coverage")
}

async fn service(State(s): State<AppState>, c: ApiCtx, RawQuery(raw): RawQuery) -> ApiResult {
    let p = query_pairs(raw);
    let r = clv::service(&s.app.db, &c.ctx.caller, &scope(&p), q(&p, "tier"), q(&p, "standard"))
        .await
        .map_err(fail(c.lang))?;
    report(&c, &p, r, clv::service_table, "service-standards")
}

async fn of_account(State(s): State<AppState>, c: ApiCtx, Path(id): Path<String>) -> ApiResult {
    let id = id_of(&id).map_err(fail(c.lang))?;
    Ok(Json(clv::of_account(&s.app.db, &c.ctx.caller, id).await.map_err(fail(c.lang))?).into_response())
}

async fn get_settings(State(s): State<AppState>, c: ApiCtx) -> ApiResult {
    Ok(Json(cls::get_settings(&s.app.db).await.map_err(fail(c.lang))?).into_response())
}

async fn put_settings(
    State(s): State<AppState>,
    c: ApiCtx,
    Path(part): Path<String>,
    JsonBody(b): JsonBody,
) -> ApiResult {
    let (v, changed) = cls::save(&s.app.db, &c.ctx, &part, &b).await.map_err(fail(c.lang))?;
    Ok(Json(json!({"settings": v, "accounts_reclassified": changed})).into_response())
}
