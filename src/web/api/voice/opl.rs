//! The open-points list: items, their two-weekly reviews, the reviews due, the monthly report.
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

use crate::app::voice::opl::{self, OplFilter, OplInput, OplItem, OplPage, OplReport, OplReviewInput, OplView};
use crate::web::api::contract::{Id, OnePage, XLSX};
use crate::web::api::{Api, ApiResult, Op, Params, Query, Typed};
use crate::web::auth::ApiCtx;
use crate::web::i18n::Lang;
use crate::web::AppState;

pub fn routes(api: Api) -> Api {
    api.add(
        Op::get("/api/v1/opl", "The open points the caller sees, filtered, sorted and paged", "opl")
            .describe(
                "Items of the accounts in the caller's scope. Filters: `account_id`, `owner` (the lead's username), \
                 `status` (`open`, `in_progress`, `closed`, `active`), `source` (`survey`, `suggestion`, \
                 `service_evaluation`, `manual`), `review_due=true`. `sort`: `next_review_on` (default), `due_on`, \
                 `created_at`, `account`; `limit` (≤ 500) and `offset`.",
            )
            .query::<OplFilter>()
            .ok::<OplPage>(200),
        list,
    )
    .add(
        Op::post("/api/v1/opl", "Raise an open point by hand on an account the caller sees (source `manual`)", "opl")
            .describe("Led by the account's KA manager (else the owner's manager, else the owner), first reviewed 14 days on.")
            .body_example::<OplInput>(json!({"account_id": 7, "title": "到货包装破损", "due_on": "2027-01-15"}))
            .ok::<OplView>(201)
            .errors(&[404]),
        raise,
    )
    .add(
        Op::get("/api/v1/opl/reviews-due", "The caller's items whose two-weekly review is due (as their lead)", "opl")
            .one_page::<OplItem>(200),
        due,
    )
    .add(
        Op::get("/api/v1/opl/report", "The monthly progress report: opened and closed per month, ageing, open items", "opl")
            .describe("`?month=YYYY-MM` (default this month); `?format=xlsx` downloads it.")
            .query::<OplReportQuery>()
            .ok::<OplReport>(200),
        report,
    )
    .add(Op::get("/api/v1/opl/{id}", "An open point with its reviews", "opl").ok::<OplView>(200), get_one)
    .add(
        Op::post("/api/v1/opl/{id}/reviews", "Review an open point: progress, status after it; the next review 14 days on", "opl")
            .describe(
                "The item's lead or a manager of accounts. `progress` required, `status` one of `open`, \
                 `in_progress`, `closed` (closed: no next review); `version` must be the item's (409 otherwise).",
            )
            .body_example::<OplReviewInput>(json!({"progress": "已与物流商确认新的装箱规范", "status": "in_progress", "version": 1}))
            .ok::<OplView>(200)
            .errors(&[404, 409]),
        review,
    )
}

/// `?month=&format=`.
#[derive(Deserialize, IntoParams)]
pub struct OplReportQuery {
    /// `YYYY-MM`.
    #[param(pattern = r"^[0-9]{4}-[0-9]{2}$")]
    pub month: Option<String>,
    /// `xlsx` to download.
    pub format: Option<String>,
}

async fn list(State(s): State<AppState>, c: ApiCtx, Query(f): Query<OplFilter>) -> ApiResult {
    Ok(Json(opl::list(&s.app.db, &c.ctx.caller, &f).await?).into_response())
}

async fn raise(State(s): State<AppState>, c: ApiCtx, b: Typed<OplInput>) -> ApiResult {
    let id = opl::raise(&s.app.db, &c.ctx, &b.typed).await?;
    Ok((StatusCode::CREATED, Json(opl::get(&s.app.db, &c.ctx.caller, id).await?)).into_response())
}

async fn due(State(s): State<AppState>, c: ApiCtx) -> ApiResult {
    Ok(OnePage::of(opl::reviews_due(&s.app.db, &c.ctx.caller).await?).into_response())
}

async fn get_one(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    Ok(Json(opl::get(&s.app.db, &c.ctx.caller, id).await?).into_response())
}

async fn review(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(Id(id)): Params<Id>,
    b: Typed<OplReviewInput>,
) -> ApiResult {
    Ok(Json(opl::review(&s.app.db, &c.ctx, id, &b.typed).await?).into_response())
}

/// The workbook's labels in the reader's language.
pub fn report_labels(lang: Lang) -> Vec<String> {
    [
        "opl.report_title",
        "opl.month",
        "opl.opened",
        "opl.closed_n",
        "opl.open_at_end",
        "opl.age",
        "opl.count",
        "opl.account",
        "opl.title_f",
        "opl.owner",
        "opl.status",
        "opl.raised",
        "opl.next_review",
    ]
    .iter()
    .map(|k| lang.t(k))
    .collect()
}

async fn report(State(s): State<AppState>, c: ApiCtx, Query(q): Query<OplReportQuery>) -> ApiResult {
    let r = opl::report(&s.app.db, &c.ctx.caller, q.month.as_deref()).await?;
    if q.format.as_deref() == Some("xlsx") {
        let bytes = opl::report_xlsx(&r, &report_labels(c.lang))?;
        let name = format!("opl_{}.xlsx", r.month);
        return Ok((
            [
                (header::CONTENT_TYPE, XLSX.to_string()),
                (header::CONTENT_DISPOSITION, crate::web::api::attachment(&name)),
            ],
            bytes,
        )
            .into_response());
    }
    Ok(Json(r).into_response())
}
