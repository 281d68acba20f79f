//! Satisfaction surveys: the questionnaire, the quarterly campaigns, answers entered, imported
//! or asked through one-time links, the scores and their trend.
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::IntoParams;

use crate::app::voice::surveys::{self, Campaign, NewLink, ResponseInput, Scores, SurveySettings, TrendPoint};
use crate::web::api::contract::{Id, OnePage, XLSX};
use crate::web::api::{Api, ApiResult, Op, Params, Query, Typed};
use crate::web::auth::ApiCtx;
use crate::web::i18n::Lang;
use crate::web::AppState;

pub fn routes(api: Api) -> Api {
    api.add(
        Op::get("/api/v1/surveys/settings", "The questionnaire (the company's choice) and the survey's numbers", "surveys")
            .ok::<SurveySettingsView>(200),
        get_settings,
    )
    .add(
        Op::put("/api/v1/surveys/settings", "Set the questionnaire (needs its version; 0 before the first save)", "surveys")
            .body::<SurveySettingsInput>()
            .ok::<SurveySettingsView>(200)
            .errors(&[409]),
        put_settings,
    )
    .add(Op::get("/api/v1/surveys/campaigns", "The quarterly campaigns, newest first", "surveys").one_page::<Campaign>(200), campaigns)
    .add(
        Op::post("/api/v1/surveys/campaigns", "Open a quarter's campaign (`2026-Q4`) for every key account", "surveys")
            .body_example::<SurveyCampaignInput>(json!({"quarter": "2026-Q4"}))
            .ok::<Campaign>(201)
            .errors(&[409]),
        open,
    )
    .add(
        Op::post("/api/v1/surveys/campaigns/{id}/responses", "Enter a department's answers (staff)", "surveys")
            .describe(
                "A score outside its question's scale is 422 `scores.<question>`; a department the campaign did not ask \
                 is 422 `department`; nothing is recorded. A low score or a problem stated in the comment raises an \
                 open point led by the account's KA manager.",
            )
            .body_example::<ResponseInput>(json!({"account_id": 7, "department": "logistics", "respondent": "王工",
                "scores": [{"question": "delivery", "score": 2}], "comment": "到货延误"}))
            .ok::<SurveyCreated>(201)
            .errors(&[404, 409]),
        enter,
    )
    .add(
        Op::post("/api/v1/surveys/campaigns/{id}/links", "Make a one-time link for one department of a key account", "surveys")
            .describe("The token is returned once (only its hash is kept); it expires after the setting's days and answers once.")
            .body::<SurveyLinkInput>()
            .ok::<NewLink>(201)
            .errors(&[404]),
        link,
    )
    .add(
        Op::post("/api/v1/surveys/campaigns/{id}/import", "Import the outside provider's XLSX: all rows or none", "surveys")
            .describe(
                "Header row: `account` (name or id), `department`, `respondent`, one column per question key, `comment`. \
                 Any refused row: 422, nothing is recorded, and the answer carries the report beside the error \
                 (`errors` lists each row's problems), as the other imports.",
            )
            .file_body(&[XLSX])
            .ok::<crate::web::api::customers::accounts::ImportReport>(200)
            .errors(&[404, 422]),
        import,
    )
    .add(
        Op::get("/api/v1/surveys/campaigns/{id}/scores", "A campaign's scores by question, department, account, region and overall", "surveys")
            .describe("`?account_id=` for one account; `?format=xlsx` downloads the quarterly report.")
            .query::<ScoresQuery>()
            .ok::<Scores>(200),
        scores,
    )
    .add(
        Op::get("/api/v1/surveys/trend", "The satisfaction trend over the last quarters (percent of scale)", "surveys")
            .query::<TrendQuery>()
            .one_page::<TrendPoint>(200),
        trend,
    )
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SurveySettingsView {
    pub settings: SurveySettings,
    pub version: i64,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct SurveySettingsInput {
    pub settings: SurveySettings,
    pub version: i64,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct SurveyCampaignInput {
    /// `YYYY-Qn`.
    pub quarter: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct SurveyLinkInput {
    pub account_id: i64,
    pub department: String,
    #[serde(default)]
    pub respondent: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SurveyCreated {
    pub id: i64,
}

#[derive(Deserialize, IntoParams)]
pub struct ScoresQuery {
    pub account_id: Option<i64>,
    /// `xlsx` to download.
    pub format: Option<String>,
}

#[derive(Deserialize, IntoParams)]
pub struct TrendQuery {
    /// How many quarters (default 8).
    pub quarters: Option<i64>,
    pub account_id: Option<i64>,
}

async fn get_settings(State(s): State<AppState>, _c: ApiCtx) -> ApiResult {
    let (settings, version) = surveys::settings(&s.app.db).await?;
    Ok(Json(SurveySettingsView { settings, version }).into_response())
}

async fn put_settings(State(s): State<AppState>, c: ApiCtx, b: Typed<SurveySettingsInput>) -> ApiResult {
    surveys::save_settings(&s.app.db, &c.ctx, &b.typed.settings, b.typed.version).await?;
    let (settings, version) = surveys::settings(&s.app.db).await?;
    Ok(Json(SurveySettingsView { settings, version }).into_response())
}

async fn campaigns(State(s): State<AppState>, c: ApiCtx) -> ApiResult {
    Ok(OnePage::of(surveys::campaigns(&s.app.db, &c.ctx.caller).await?).into_response())
}

async fn open(State(s): State<AppState>, c: ApiCtx, b: Typed<SurveyCampaignInput>) -> ApiResult {
    let id = surveys::open_campaign(&s.app.db, &c.ctx, &b.typed.quarter).await?;
    Ok((StatusCode::CREATED, Json(surveys::campaign(&s.app.db, id).await?)).into_response())
}

async fn enter(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>, b: Typed<ResponseInput>) -> ApiResult {
    let rid = surveys::enter(&s.app.db, &c.ctx, id, &b.typed).await?;
    Ok((StatusCode::CREATED, Json(SurveyCreated { id: rid })).into_response())
}

async fn link(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(Id(id)): Params<Id>,
    b: Typed<SurveyLinkInput>,
) -> ApiResult {
    let l = &b.typed;
    let n = surveys::make_link(&s.app.db, &c.ctx, id, l.account_id, &l.department, l.respondent.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(n)).into_response())
}

async fn import(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>, body: Bytes) -> ApiResult {
    let r = surveys::import(&s.app.db, &c.ctx, id, &body).await?;
    if r.refused() {
        return Ok(crate::web::api::orders::statements::refused(c.lang, r));
    }
    Ok(Json(crate::web::api::orders::statements::report_of(c.lang, r)).into_response())
}

/// The quarterly report workbook's labels.
pub fn scores_labels(lang: Lang) -> Vec<String> {
    [
        "survey.report_title",
        "survey.question",
        "survey.department",
        "survey.account",
        "survey.region",
        "survey.responses",
        "survey.pct",
        "survey.avg",
    ]
    .iter()
    .map(|k| lang.t(k))
    .collect()
}

async fn scores(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(Id(id)): Params<Id>,
    Query(q): Query<ScoresQuery>,
) -> ApiResult {
    let locale = c.ctx.caller.locale.clone();
    let sc = surveys::scores(&s.app.db, &c.ctx.caller, id, q.account_id, &locale).await?;
    if q.format.as_deref() == Some("xlsx") {
        let tr = surveys::trend(&s.app.db, &c.ctx.caller, 8, q.account_id).await?;
        let bytes = surveys::scores_xlsx(&sc, &tr, &scores_labels(c.lang))?;
        let name = format!("survey_{}.xlsx", sc.quarter);
        return Ok((
            [
                (header::CONTENT_TYPE, XLSX.to_string()),
                (header::CONTENT_DISPOSITION, crate::web::api::attachment(&name)),
            ],
            bytes,
        )
            .into_response());
    }
    Ok(Json(sc).into_response())
}

async fn trend(State(s): State<AppState>, c: ApiCtx, Query(q): Query<TrendQuery>) -> ApiResult {
    let n = q.quarters.unwrap_or(8).clamp(1, 40) as usize;
    Ok(OnePage::of(surveys::trend(&s.app.db, &c.ctx.caller, n, q.account_id).await?).into_response())
}
