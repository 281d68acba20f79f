//! Account plans (issue 23 items 1, 2, 7, 9): begin an account's plan of a year, read it with
//! what KAM knows of the account, save it over the version read (every save kept), its versions
//! and their comparison, the 5-year forecast as XLSX and the appendix's documents. Whoever sees
//! the account reads its plans; the sales roles edit them (marketing, finance and logistics read).
use axum::extract::{DefaultBodyLimit, State};
use axum::handler::Handler;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use crate::app::plans::plans::{self, Appendix, PlanItem, PlanView, VersionRow, VersionView};
use crate::app::records::attachments::{Attachment, MAX_BYTES};
use crate::domain::account_plan::{Change, PlanBody};
use crate::web::api::contract::{Id, OnePage, XLSX};
use crate::web::api::quotes::attachments::{download, download_op, list as files, remove, upload, upload_body};
use crate::web::api::{Api, ApiResult, Op, Params, Query, Typed};
use crate::web::auth::ApiCtx;
use crate::web::i18n::Lang;
use crate::web::AppState;

/// The year of the plan to begin.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPlan {
    /// The plan's year (2000–2100); the account has at most one plan a year.
    #[schema(minimum = 2000, maximum = 2100)]
    pub year: i32,
}

/// A plan's eight parts as saved, over the version read.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SavePlan {
    pub body: PlanBody,
    /// The version read (409 when the plan was saved since).
    pub version: i64,
}

/// Which two versions to compare.
#[derive(Debug, Deserialize, IntoParams)]
pub struct CompareQuery {
    /// The earlier version.
    #[param(minimum = 1)]
    pub from: i64,
    /// The later version.
    #[param(minimum = 1)]
    pub to: i64,
}

const SAVE_RULES: &str = "Every part replaces the stored one. A fault is 422 naming its field and saves nothing: \
    a forecast year outside the plan's five (`forecast[i].year` year_outside_plan), an objective without a measure \
    or an owner (`objectives[i].measure` / `.owner` required), an owner, action owner or team member who is not an \
    active user (`objectives[i].owner` unknown_user), an objective's opportunity of another account \
    (`objectives[i].opportunity_id` not_of_account), a date after the plan's horizon, 31 December of its fifth \
    year (`actions.actions[i].due_on` after_horizon). A stale `version` is 409.";

pub fn routes(api: Api) -> Api {
    let limit = || DefaultBodyLimit::max(MAX_BYTES + 64 * 1024);
    let mut xlsx_op =
        Op::get("/api/v1/plans/{id}/forecast.xlsx", "The plan's 5-year financial forecast as XLSX", "plans").describe(
            "The forecast's rows (year, region, platform, revenue, contribution, account management cost; amounts as \
             number cells in yuan) and the totals of each of the plan's five years, headed in the caller's language.",
        );
    xlsx_op.ok.push((
        200,
        json!({"description": "The workbook, as an attachment", "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}}),
    ));
    api.add(
        Op::post("/api/v1/accounts/{id}/plans", "Begin a key account's plan of a year (客户规划), pre-filled", "plans")
            .describe(
                "Only a key account (else 422 `account_id` plan_needs_key_account); one plan per account and year \
                 (409 naming the existing plan). The plan begins with last year's plan of the account (customer, \
                 competition, team, shares, the outline and forecast of the years still ahead), or the account's \
                 people as its team.",
            )
            .body::<NewPlan>()
            .ok::<PlanView>(201)
            .errors(&[409]),
        create,
    )
    .add(Op::get("/api/v1/accounts/{id}/plans", "An account's plans, newest year first", "plans").one_page::<PlanItem>(200), of_account)
    .add(
        Op::get("/api/v1/plans/{id}", "A plan with what KAM knows of the account, objectives measured and actions tracked today", "plans")
            .ok::<PlanView>(200),
        get_one,
    )
    .add(
        Op::put("/api/v1/plans/{id}", "Save a plan's eight parts (a new version)", "plans")
            .describe(SAVE_RULES)
            .body::<SavePlan>()
            .ok::<PlanView>(200)
            .errors(&[409]),
        save,
    )
    .add(
        Op::get("/api/v1/plans/{id}/versions", "A plan's saved versions, newest first", "plans").one_page::<VersionRow>(200),
        versions,
    )
    .add(
        Op::get("/api/v1/plans/{id}/versions/{version}", "One saved version of a plan, whole", "plans").ok::<VersionView>(200),
        version,
    )
    .add(
        Op::get("/api/v1/plans/{id}/compare", "What changed between two versions of a plan, field by field", "plans")
            .describe("Each change names its path (`objectives[1].target`), its part and the value before and after (absent when added or removed), in the parts' order.")
            .query::<CompareQuery>()
            .one_page::<Change>(200),
        compare,
    )
    .add(xlsx_op, forecast)
    .add(
        Op::get("/api/v1/plans/{id}/attachments", "A plan's documents (part 8, the appendix), oldest first", "plans")
            .one_page::<Attachment>(200),
        |s, c, p| files(s, c, p, Appendix),
    )
    .add(
        upload_body(Op::post("/api/v1/plans/{id}/attachments", "Attach a document to a plan's appendix", "plans"))
            .ok::<Attachment>(201)
            .errors(&[413]),
        (|s, c, p, m| upload(s, c, p, m, Appendix)).layer(limit()),
    )
    .add(download_op("/api/v1/plans/{id}/attachments/{file_id}", "plans"), |s, c, p| download(s, c, p, Appendix))
    .add(
        Op::delete("/api/v1/plans/{id}/attachments/{file_id}", "Remove a document of a plan's appendix", "plans").no_content(),
        |s, c, p| remove(s, c, p, Appendix),
    )
}

async fn create(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>, b: Typed<NewPlan>) -> ApiResult {
    let v = plans::create(&s.app.db, &c.ctx, id, b.typed.year).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

async fn of_account(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    Ok(OnePage::of(plans::list_for_account(&s.app.db, &c.ctx.caller, id).await?).into_response())
}

async fn get_one(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    Ok(Json(plans::get(&s.app.db, &c.ctx.caller, id).await?).into_response())
}

async fn save(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>, b: Typed<SavePlan>) -> ApiResult {
    Ok(Json(plans::save(&s.app.db, &c.ctx, id, &b.typed.body, b.typed.version).await?).into_response())
}

async fn versions(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    Ok(OnePage::of(plans::versions(&s.app.db, &c.ctx.caller, id).await?).into_response())
}

async fn version(State(s): State<AppState>, c: ApiCtx, Params((Id(id), Id(v))): Params<(Id, Id)>) -> ApiResult {
    Ok(Json(plans::version(&s.app.db, &c.ctx.caller, id, v).await?).into_response())
}

async fn compare(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(Id(id)): Params<Id>,
    Query(q): Query<CompareQuery>,
) -> ApiResult {
    Ok(OnePage::of(plans::compare(&s.app.db, &c.ctx.caller, id, q.from, q.to).await?).into_response())
}

/// The forecast workbook's title and headers in `lang`.
pub fn forecast_labels(lang: Lang) -> [String; 8] {
    [
        lang.t("aplan.forecast_title"),
        lang.t("aplan.f_year"),
        lang.t("aplan.f_region"),
        lang.t("aplan.f_platform"),
        lang.t("aplan.f_revenue"),
        lang.t("aplan.f_contribution"),
        lang.t("aplan.f_cost"),
        lang.t("aplan.f_total"),
    ]
}

async fn forecast(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    let (plan, bytes) = plans::forecast_xlsx(&s.app.db, &c.ctx.caller, id, &forecast_labels(c.lang)).await?;
    let name = format!("plan_{}_{}_forecast.xlsx", plan.account_id, plan.year);
    Ok((
        [(header::CONTENT_TYPE, XLSX.to_string()), (header::CONTENT_DISPOSITION, crate::web::api::attachment(&name))],
        bytes,
    )
        .into_response())
}
