//! The annual KA sales plan (issue 25 items 1–2, seed 000 C-1 … C-8): the plan of a year drafted
//! by the KA director, the past year's analysis, the review by the sales department manager
//! (returned and revised as the next version, or approved), the decomposition into the year's
//! quotas, the plan against actual and the year-end appraisal.
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::app::salesplan::analysis::{self, PlanAnalysis};
use crate::app::salesplan::plan::{self, PlanReviewIn, PlanVersionIn, SalesPlanIn, SalesPlanItem, SalesPlanView};
use crate::app::salesplan::split::{self, SplitIn, SplitView};
use crate::app::salesplan::tracking::{self, PlanAppraisalsIn, PlanTracking};
use crate::domain::DomainError;
use crate::web::api::contract::{OnePage, ReportFormat, ReportFormatQuery};
use crate::web::api::{person_download, Api, ApiResult, Op, Params, Query, Typed};
use crate::web::auth::ApiCtx;
use crate::web::i18n::Lang;
use crate::web::AppState;

pub fn routes(api: Api) -> Api {
    api.add(
        Op::get("/api/v1/sales-plans", "The annual sales plans, latest year first", "sales_plans")
            .describe("For the heads of the KA system, finance and the managers of regions, branches and teams; anyone else 403.")
            .one_page::<SalesPlanItem>(200),
        list,
    )
    .add(
        Op::post("/api/v1/sales-plans", "Draft the plan of a year (the KA director)", "sales_plans")
            .describe(
                "Targets by region (org unit code) and month, January to December, for revenue and profit (decimal \
                 yuan strings); the resource plan (budget, people, organisation, systems); the action plan (action, \
                 owner's username, due date). A bad month is 422 on `targets.<region>.months.<YYYY-MM>.<revenue|profit>`. \
                 One plan per year: a second is 409. Anyone but the KA director: 403.",
            )
            .body_example::<NewSalesPlanIn>(json!({"year": 2027, "targets": [{"region": "N",
                "revenue": ["1000000.00", "1000000.00", "1000000.00", "1000000.00", "1000000.00", "1000000.00",
                    "1000000.00", "1000000.00", "1000000.00", "1000000.00", "1000000.00", "1000000.00"],
                "profit": ["200000.00", "200000.00", "200000.00", "200000.00", "200000.00", "200000.00",
                    "200000.00", "200000.00", "200000.00", "200000.00", "200000.00", "200000.00"]}],
                "budget": "差旅与招待费用 120 万元", "actions": [{"action": "华北大区新增两名大客户经理", "owner": "director", "due": "2027-03-31"}]}))
            .ok::<SalesPlanView>(201)
            .errors(&[409]),
        create,
    )
    .add(
        Op::get("/api/v1/sales-plans/{year}", "The plan of a year whole: targets, resources, actions, versions and the reviewers' opinions", "sales_plans")
            .ok::<SalesPlanView>(200),
        get_one,
    )
    .add(
        Op::put("/api/v1/sales-plans/{year}", "Revise the draft, or the returned plan as its next version (the KA director)", "sales_plans")
            .describe("The whole body again with the `version` shown (stale: 409). A plan in review or approved: 409.")
            .body::<SalesPlanIn>()
            .ok::<SalesPlanView>(200)
            .errors(&[409]),
        update,
    )
    .add(
        Op::get("/api/v1/sales-plans/{year}/analysis", "The year before the plan's analysed from the data", "sales_plans")
            .describe(
                "Sales by region and by month (won opportunities' booked amounts), growth against the year before, \
                 each region's share, the ten top accounts, won and lost counts, receivables of the year still open.",
            )
            .ok::<PlanAnalysis>(200),
        get_analysis,
    )
    .add(
        Op::post("/api/v1/sales-plans/{year}/submit", "Submit the plan for review by the sales department manager", "sales_plans")
            .describe(
                "Starts the `annual_plan` flow (one step: the sales department manager; the KA director never decides \
                 his own plan). A returned plan is submitted as its next version. Not a draft or returned: 409.",
            )
            .body::<PlanVersionIn>()
            .ok::<SalesPlanView>(200)
            .errors(&[409]),
        submit,
    )
    .add(
        Op::post("/api/v1/sales-plans/{year}/review", "The sales department manager approves the plan or returns it with an opinion", "sales_plans")
            .describe("`approve`, or `return` with a comment (required). Anyone not holding the open step — the KA director included — 403.")
            .body_example::<PlanReviewIn>(json!({"decision": "return", "comment": "华东大区目标偏低，请按去年增长率重新测算"}))
            .ok::<SalesPlanView>(200)
            .errors(&[409]),
        review,
    )
    .add(
        Op::get("/api/v1/sales-plans/{year}/split", "The approved plan's decomposition by region, team, person and month", "sales_plans")
            .describe("The saved one, else an even proposal to adjust. A plan not approved: 409.")
            .ok::<SplitView>(200)
            .errors(&[409]),
        get_split,
    )
    .add(
        Op::put("/api/v1/sales-plans/{year}/split", "Save the decomposition and generate the year's quotas from it (the KA director)", "sales_plans")
            .describe(
                "Each region's teams (its branches) must add up to the plan's region-month targets and each team's \
                 people (its salespeople) to the team's, for revenue and profit; else 422 `sum_mismatch` on \
                 `regions.<region>.months.<YYYY-MM>.<revenue|profit>` (or `regions.<region>.teams.<team>.months…`) \
                 with the difference in the message and `difference` (sum − target), and nothing is saved. Saved, the \
                 year's quotas are replaced: a row per region, team and person and month, the revenue as the quota \
                 and the profit target beside it. From then on manual quotas of the year are refused.",
            )
            .body::<SplitIn>()
            .ok::<SplitView>(200)
            .errors(&[409]),
        put_split,
    )
    .add(
        Op::get("/api/v1/sales-plans/{year}/tracking", "The plan against actual by month and region, with the year-end appraisal", "sales_plans")
            .describe(
                "Actual revenue: won opportunities booked in the month (the account's region); actual profit: the \
                 margin of the orders signed in the month. `format=csv|xlsx` downloads it.",
            )
            .query::<ReportFormatQuery>()
            .report::<PlanTracking>(),
        get_tracking,
    )
    .add(
        Op::put("/api/v1/sales-plans/{year}/appraisal", "Record the year-end appraisal per region (the KA director, after the year)", "sales_plans")
            .describe("Each region's rating (`excellent`, `good`, `fair`, `poor`) and text. Before the year is over: 422 `year` year_not_over.")
            .body::<PlanAppraisalsIn>()
            .ok::<PlanTracking>(200)
            .errors(&[409]),
        appraise,
    )
}

/// A new plan: its year and its body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSalesPlanIn {
    #[schema(minimum = 2000, maximum = 2100)]
    pub year: i32,
    #[serde(default)]
    pub targets: Vec<plan::RegionTargetsIn>,
    #[serde(default)]
    pub budget: Option<String>,
    #[serde(default)]
    pub people: Option<String>,
    #[serde(default)]
    pub organisation: Option<String>,
    #[serde(default)]
    pub systems: Option<String>,
    #[serde(default)]
    pub actions: Vec<plan::PlanActionIn>,
}

/// A year in a path: four digits (anything else is 404).
pub fn year_of(s: &str) -> Result<i32, DomainError> {
    s.trim().parse::<i32>().ok().filter(|y| (2000..=2100).contains(y)).ok_or(DomainError::NotFound)
}

async fn list(State(s): State<AppState>, c: ApiCtx) -> ApiResult {
    Ok(OnePage::of(plan::list(&s.app.db, &c.ctx.caller).await?).into_response())
}

async fn create(State(s): State<AppState>, c: ApiCtx, b: Typed<NewSalesPlanIn>) -> ApiResult {
    let b = b.typed;
    let inp = SalesPlanIn {
        targets: b.targets,
        budget: b.budget,
        people: b.people,
        organisation: b.organisation,
        systems: b.systems,
        actions: b.actions,
        version: None,
    };
    Ok((StatusCode::CREATED, Json(plan::create(&s.app.db, &c.ctx, b.year, &inp).await?)).into_response())
}

async fn get_one(State(s): State<AppState>, c: ApiCtx, Params(year): Params<String>) -> ApiResult {
    Ok(Json(plan::get(&s.app.db, &c.ctx.caller, year_of(&year)?).await?).into_response())
}

async fn update(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(year): Params<String>,
    b: Typed<SalesPlanIn>,
) -> ApiResult {
    Ok(Json(plan::update(&s.app.db, &c.ctx, year_of(&year)?, &b.typed).await?).into_response())
}

async fn get_analysis(State(s): State<AppState>, c: ApiCtx, Params(year): Params<String>) -> ApiResult {
    Ok(Json(analysis::analyse(&s.app.db, &c.ctx.caller, year_of(&year)?).await?).into_response())
}

async fn submit(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(year): Params<String>,
    b: Typed<PlanVersionIn>,
) -> ApiResult {
    Ok(Json(plan::submit(&s.app.db, &c.ctx, year_of(&year)?, &b.typed).await?).into_response())
}

async fn review(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(year): Params<String>,
    b: Typed<PlanReviewIn>,
) -> ApiResult {
    Ok(Json(plan::review(&s.app.db, &c.ctx, year_of(&year)?, &b.typed).await?).into_response())
}

async fn get_split(State(s): State<AppState>, c: ApiCtx, Params(year): Params<String>) -> ApiResult {
    Ok(Json(split::get(&s.app.db, &c.ctx.caller, year_of(&year)?).await?).into_response())
}

/// The message of a field that does not add up, with the difference: "… (差额 -100.00)".
pub fn gap_message(lang: Lang, difference: &str) -> String {
    format!("{} ({}: {difference})", lang.msg("invalid", "sum_mismatch"), lang.t("sales_plan.difference"))
}

async fn put_split(State(s): State<AppState>, c: ApiCtx, Params(year): Params<String>, b: Typed<SplitIn>) -> ApiResult {
    let year = year_of(&year)?;
    match split::save(&s.app.db, &c.ctx, year, &b.typed).await {
        Ok(v) => Ok(Json(v).into_response()),
        Err(DomainError::Invalid(fs)) if fs.iter().any(|f| f.code == "sum_mismatch") => {
            let gaps = split::gaps_of(&s.app.db, year, &b.typed).await?;
            Ok(refusal_with_gaps(c.lang, &fs, &gaps))
        }
        Err(e) => Err(e.into()),
    }
}

/// The 422 of a decomposition that does not add up: every field as usual, those that do not add
/// up with the difference in their message and as `difference`.
fn refusal_with_gaps(lang: Lang, fs: &[crate::domain::error::FieldError], gaps: &[split::SplitGap]) -> Response {
    let mut m = Map::new();
    let mut names = vec![];
    for f in fs {
        let gap = gaps.iter().find(|g| g.field == f.field && f.code == "sum_mismatch");
        let message = match gap {
            Some(g) => gap_message(lang, &g.difference),
            None => lang.msg("invalid", f.code),
        };
        names.push(format!("{}: {message}", f.field));
        let mut o = json!({"code": f.code, "message": message});
        if let Some(g) = gap {
            o["difference"] = Value::String(g.difference.clone());
            o["target"] = Value::String(g.target.clone());
            o["sum"] = Value::String(g.sum.clone());
        }
        m.insert(f.field.clone(), o);
    }
    let message = format!("{} ({})", lang.msg("err", "invalid_input"), names.join("; "));
    let body = json!({"error": {"code": "invalid_input", "message": message, "details": {"fields": m}}});
    (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
}

async fn get_tracking(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(year): Params<String>,
    Query(f): Query<ReportFormatQuery>,
) -> ApiResult {
    let t = tracking::tracking(&s.app.db, &c.ctx.caller, year_of(&year)?).await?;
    match f.format {
        None | Some(ReportFormat::Json) => Ok(Json(t).into_response()),
        Some(ReportFormat::Csv) => {
            Ok(person_download(&tracking::table(&t), &c.ctx.caller, c.lang, "csv", "sales_plan_tracking")?)
        }
        Some(ReportFormat::Xlsx) => {
            Ok(person_download(&tracking::table(&t), &c.ctx.caller, c.lang, "xlsx", "sales_plan_tracking")?)
        }
    }
}

async fn appraise(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(year): Params<String>,
    b: Typed<PlanAppraisalsIn>,
) -> ApiResult {
    Ok(Json(tracking::appraise(&s.app.db, &c.ctx, year_of(&year)?, &b.typed).await?).into_response())
}
