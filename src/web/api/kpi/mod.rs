//! KPI performance contracts and team performance (issue 25 items 5–6): the role templates and
//! score cap, contracts issued, adjusted, acknowledged by both sides, the manager's actuals and
//! veto, closed at the year's end; scorecards of a person, a team and the department by quarter
//! and year (JSON, CSV, XLSX); team evaluations, coefficients, awards, promotion flags.
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

use crate::app::kpi::contracts::{
    self as kc, ActualIn, ContractIn, ContractItem, ContractUpdate, ContractView, VersionIn, VetoIn,
};
use crate::app::kpi::score::{self as ks, Promotion, Scorecard, TeamScorecard};
use crate::app::kpi::team::{
    self as kt, AwardIn, AwardView, CoefficientIn, CoefficientView, EvaluationIn, EvaluationView,
};
use crate::app::kpi::templates::{self as ktp, TemplatesIn, TemplatesView};
use crate::app::kpi::{period_of, Period};
use crate::app::spreadsheets::export::Table;
use crate::web::api::contract::{FormatQuery, Id, OnePage};
use crate::web::api::{person_download, Api, ApiResult, Op, Params, Query, Typed};
use crate::web::auth::ApiCtx;
use crate::web::AppState;

pub fn routes(api: Api) -> Api {
    api.add(
        Op::get("/api/v1/kpi/templates", "The performance contract's role templates and the score cap", "kpi")
            .describe("The built-in three samples of seed 000 (大客户销售主管 → ka_director, 大客户销售经理 → ka_manager, 大客户销售代表 → ka_rep) until the company saves its own.")
            .ok::<TemplatesView>(200),
        templates,
    )
    .add(
        Op::put("/api/v1/kpi/templates", "Save the role templates and the score cap", "kpi")
            .describe(
                "The KA director or the administrator. One template per role; each 1–40 indicators (category financial, \
                 operating or management; a measure KAM computes or `manual`; weight in whole percent; target) whose \
                 weights sum to 100 (else 422 `templates[i].indicators` weights_not_100); a veto item. The cap 100–200 %.",
            )
            .body::<TemplatesIn>()
            .ok::<TemplatesView>(200)
            .errors(&[409]),
        set_templates,
    )
    .add(
        Op::get("/api/v1/kpi/contracts", "The contracts of a year the caller sees", "kpi")
            .describe("A person sees their own, a manager their team's, the KA director, the sales department manager and the general manager every one.")
            .query::<ContractsQuery>()
            .one_page::<ContractItem>(200),
        contracts,
    )
    .add(
        Op::post("/api/v1/kpi/contracts", "Issue a person's contract of a year (业绩合同)", "kpi")
            .describe(
                "Their manager, the KA director or the sales department manager issues it (发约人), from the template of \
                 the person's role (none: 422 `user_id` no_template); the indicators' targets and weights may be given \
                 (weights summing to 100, else 422 `indicators` weights_not_100). One per person and year (409 contract_exists).",
            )
            .body_example::<ContractIn>(json!({"user_id": 7, "year": 2027, "bonus_base": "60000.00"}))
            .ok::<ContractView>(201)
            .errors(&[409]),
        create,
    )
    .add(Op::get("/api/v1/kpi/contracts/{id}", "A contract whole, with the manager's actuals", "kpi").ok::<ContractView>(200), get_one)
    .add(
        Op::put("/api/v1/kpi/contracts/{id}", "Adjust a contract's targets, weights and bonus base", "kpi")
            .describe("The issuer's side. Weights still sum to 100. Changed indicators take both acknowledgements back. A closed contract is 409 contract_closed.")
            .body::<ContractUpdate>()
            .ok::<ContractView>(200)
            .errors(&[409]),
        update,
    )
    .add(
        Op::post("/api/v1/kpi/contracts/{id}/acknowledge", "Acknowledge a contract: the holder (受约人) or the issuer's side (发约人)", "kpi")
            .describe("Who and when is recorded for each side; both done, the contract is `acknowledged`.")
            .body::<VersionIn>()
            .ok::<ContractView>(200)
            .errors(&[409]),
        acknowledge,
    )
    .add(
        Op::post("/api/v1/kpi/contracts/{id}/actuals", "Enter the actual of an indicator KAM holds no data for", "kpi")
            .describe("A `manual` indicator only (a computed one is 422 `indicator` computed_indicator); a period of the contract's year (`2027`, `2027-Q1`). Over the actual's version (0 for a new one).")
            .body_example::<ActualIn>(json!({"indicator": "team_satisfaction", "period": "2027-Q1", "value": "92.00", "version": 0}))
            .ok::<ContractView>(200)
            .errors(&[409]),
        actual,
    )
    .add(
        Op::post("/api/v1/kpi/contracts/{id}/veto", "Record the veto item (否定项) hit, with a reason, or clear it", "kpi")
            .describe("Hit, the score is zero whatever the indicators earn.")
            .body::<VetoIn>()
            .ok::<ContractView>(200)
            .errors(&[409]),
        veto,
    )
    .add(
        Op::post("/api/v1/kpi/contracts/{id}/close", "Close a contract after its year: its yearly score is frozen", "kpi")
            .describe("409 year_not_over before the year ends. The frozen scores decide the promotion flag.")
            .body::<VersionIn>()
            .ok::<ContractView>(200)
            .errors(&[409]),
        close,
    )
    .add(
        Op::get("/api/v1/kpi/scorecards/people/{id}", "A person's scorecard of a quarter or the year", "kpi")
            .describe("Each indicator's target, actual (computed or entered), achievement (capped) and points; the weighted score, zero when the veto item is hit; the bonus base × the team coefficient; the promotion flag. 404 without a contract of the year or outside the caller's scope.")
            .query::<PeriodQuery>()
            .ok::<Scorecard>(200),
        person,
    )
    .add(
        Op::get("/api/v1/kpi/scorecards/teams/{id}", "A team's scorecard: every member of its part of the org tree", "kpi")
            .query::<PeriodQuery>()
            .ok::<TeamScorecard>(200),
        team,
    )
    .add(
        Op::get("/api/v1/kpi/scorecards/department", "The KA department's scorecard: every contract of the year", "kpi")
            .describe("The KA director, the sales department manager and the general manager (404 for others).")
            .query::<PeriodQuery>()
            .ok::<TeamScorecard>(200)
            .errors(&[404]),
        department,
    )
    .add(
        Op::get("/api/v1/kpi/scorecards/export", "A team's or the department's scorecard as CSV or XLSX (?format=xlsx)", "kpi")
            .describe("A row per person and indicator, and the person's score, coefficient and bonus.")
            .query::<ExportQuery>()
            .query::<FormatQuery>()
            .download()
            .with_format_schema()
            .errors(&[404]),
        export,
    )
    .add(
        Op::get("/api/v1/kpi/team-evaluations", "The teams' quarterly evaluations of a year", "kpi")
            .query::<YearQuery>()
            .one_page::<EvaluationView>(200),
        evaluations,
    )
    .add(
        Op::post("/api/v1/kpi/team-evaluations", "Record a team's evaluation of a quarter: targets met and next targets", "kpi")
            .describe("The team's manager or the KA director; the same quarter again revises it over its version.")
            .body_example::<EvaluationIn>(json!({"org_unit_id": 4, "period": "2027-Q1", "targets_met": "完成季度销售额的96%",
                "met_pct": "96.00", "next_targets": "二季度新签三家重点客户", "next_revenue": "3000000.00", "version": 0}))
            .ok::<EvaluationView>(200)
            .errors(&[409]),
        evaluate,
    )
    .add(
        Op::get("/api/v1/kpi/coefficients", "The team coefficients of a year", "kpi").query::<YearQuery>().one_page::<CoefficientView>(200),
        coefficients,
    )
    .add(
        Op::put("/api/v1/kpi/coefficients", "Set a team's coefficient for a quarter or a year (at most 1.0)", "kpi")
            .describe("The KA director, the sales department manager or the general manager. Above 1.0 is 422 `coefficient` coefficient_above_one, nothing saved. It multiplies each member's bonus base on the scorecard.")
            .body_example::<CoefficientIn>(json!({"org_unit_id": 4, "period": "2027", "coefficient": "0.95", "version": 0}))
            .ok::<CoefficientView>(200)
            .errors(&[409]),
        set_coefficient,
    )
    .add(Op::get("/api/v1/kpi/awards", "The awards of a year", "kpi").query::<YearQuery>().one_page::<AwardView>(200), awards)
    .add(
        Op::post("/api/v1/kpi/awards", "Record an award: the year's best team, or a quarterly award", "kpi")
            .describe("The KA director, the sales department manager or the general manager.")
            .body_example::<AwardIn>(json!({"kind": "best_team", "period": "2027", "org_unit_id": 4, "title": "年度最佳团队"}))
            .ok::<AwardView>(201),
        award,
    )
    .add(
        Op::get("/api/v1/kpi/promotions", "The people flagged for promotion: three closed years running at 90 % or more", "kpi")
            .one_page::<Promotion>(200),
        promotions,
    )
}

#[derive(Deserialize, IntoParams, Default)]
pub struct ContractsQuery {
    /// The year (this year when absent).
    #[param(minimum = 2000, maximum = 2100)]
    pub year: Option<i64>,
    /// One team (org unit) only.
    pub org_unit_id: Option<i64>,
}

#[derive(Deserialize, IntoParams, Default)]
pub struct YearQuery {
    /// The year (this year when absent).
    #[param(minimum = 2000, maximum = 2100)]
    pub year: Option<i64>,
}

#[derive(Deserialize, IntoParams, Default)]
pub struct PeriodQuery {
    /// `2027` (the year) or `2027-Q1` … (this year when absent).
    #[param(pattern = r"^\d{4}(-Q[1-4])?$", max_length = 7)]
    pub period: Option<String>,
}

#[derive(Deserialize, IntoParams, Default)]
pub struct ExportQuery {
    /// `2027` (the year) or `2027-Q1` … (this year when absent).
    #[param(pattern = r"^\d{4}(-Q[1-4])?$", max_length = 7)]
    pub period: Option<String>,
    /// A team; the department when absent.
    pub org_unit_id: Option<i64>,
}

fn year_in(y: Option<i64>, c: &ApiCtx) -> Result<i32, crate::domain::DomainError> {
    match y {
        None => Ok(ks::this_year(&c.ctx.caller)),
        Some(y) if (2000..=2100).contains(&y) => Ok(y as i32),
        Some(_) => Err(crate::domain::DomainError::invalid("year", "year_range")),
    }
}

async fn templates(State(s): State<AppState>, c: ApiCtx) -> ApiResult {
    Ok(Json(ktp::get(&s.app.db, &c.ctx.caller).await?).into_response())
}

async fn set_templates(State(s): State<AppState>, c: ApiCtx, b: Typed<TemplatesIn>) -> ApiResult {
    Ok(Json(ktp::set(&s.app.db, &c.ctx, &b.typed).await?).into_response())
}

async fn contracts(State(s): State<AppState>, c: ApiCtx, Query(q): Query<ContractsQuery>) -> ApiResult {
    let year = year_in(q.year, &c)?;
    Ok(OnePage::of(kc::list(&s.app.db, &c.ctx.caller, i64::from(year), q.org_unit_id).await?).into_response())
}

async fn create(State(s): State<AppState>, c: ApiCtx, b: Typed<ContractIn>) -> ApiResult {
    Ok((StatusCode::CREATED, Json(kc::create(&s.app.db, &c.ctx, &b.typed).await?)).into_response())
}

async fn get_one(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    Ok(Json(kc::get(&s.app.db, &c.ctx.caller, id).await?).into_response())
}

async fn update(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(Id(id)): Params<Id>,
    b: Typed<ContractUpdate>,
) -> ApiResult {
    Ok(Json(kc::update(&s.app.db, &c.ctx, id, &b.typed).await?).into_response())
}

async fn acknowledge(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(Id(id)): Params<Id>,
    b: Typed<VersionIn>,
) -> ApiResult {
    Ok(Json(kc::acknowledge(&s.app.db, &c.ctx, id, &b.typed).await?).into_response())
}

async fn actual(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>, b: Typed<ActualIn>) -> ApiResult {
    Ok(Json(kc::set_actual(&s.app.db, &c.ctx, id, &b.typed).await?).into_response())
}

async fn veto(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>, b: Typed<VetoIn>) -> ApiResult {
    Ok(Json(kc::set_veto(&s.app.db, &c.ctx, id, &b.typed).await?).into_response())
}

async fn close(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>, b: Typed<VersionIn>) -> ApiResult {
    Ok(Json(kc::close(&s.app.db, &c.ctx, id, &b.typed).await?).into_response())
}

async fn person(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(Id(id)): Params<Id>,
    Query(q): Query<PeriodQuery>,
) -> ApiResult {
    let p = period_of(q.period.as_deref(), &c.ctx.caller)?;
    Ok(Json(ks::person(&s.app.db, &c.ctx.caller, id, p).await?).into_response())
}

async fn team(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(Id(id)): Params<Id>,
    Query(q): Query<PeriodQuery>,
) -> ApiResult {
    let p = period_of(q.period.as_deref(), &c.ctx.caller)?;
    Ok(Json(ks::team(&s.app.db, &c.ctx.caller, id, p).await?).into_response())
}

async fn department(State(s): State<AppState>, c: ApiCtx, Query(q): Query<PeriodQuery>) -> ApiResult {
    let p = period_of(q.period.as_deref(), &c.ctx.caller)?;
    let name = c.lang.t("kpi.department");
    Ok(Json(ks::department(&s.app.db, &c.ctx.caller, p, name).await?).into_response())
}

/// A scorecard as a table: a row per person and indicator, then the person's total row.
pub fn scorecard_table(t: &TeamScorecard) -> Table {
    let mut rows = vec![];
    for p in &t.people {
        for i in &p.indicators {
            rows.push(vec![
                p.team_name.clone(),
                p.holder_name.clone(),
                t.period.clone(),
                i.name.clone(),
                i.weight.to_string(),
                i.target.clone(),
                i.actual.clone().unwrap_or_default(),
                i.achievement.clone(),
                i.points.clone(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            ]);
        }
        rows.push(vec![
            p.team_name.clone(),
            p.holder_name.clone(),
            t.period.clone(),
            p.veto_name.clone(),
            String::new(),
            String::new(),
            if p.veto_hit { "✗".into() } else { String::new() },
            String::new(),
            p.weighted.clone(),
            p.score.clone(),
            p.bonus_base.clone(),
            p.coefficient.clone().unwrap_or_default(),
            p.bonus.clone().unwrap_or_default(),
        ]);
    }
    Table {
        keys: vec![
            "kpi_team",
            "kpi_person",
            "kpi_period",
            "kpi_indicator",
            "kpi_weight",
            "kpi_target",
            "kpi_actual",
            "kpi_achievement",
            "kpi_points",
            "kpi_score",
            "kpi_bonus_base",
            "kpi_coefficient",
            "kpi_bonus",
        ],
        rows,
    }
}

/// The scorecard to export: a team's, or the department's (else the caller's own team when
/// they lead one).
pub async fn export_card(
    s: &AppState,
    caller: &crate::app::Caller,
    lang: crate::web::i18n::Lang,
    p: Period,
    team: Option<i64>,
) -> Result<TeamScorecard, crate::domain::DomainError> {
    match team {
        Some(t) => ks::team(&s.app.db, caller, t, p).await,
        None if ks::sees_department(caller) => ks::department(&s.app.db, caller, p, lang.t("kpi.department")).await,
        None => ks::team(&s.app.db, caller, caller.org_unit_id, p).await,
    }
}

async fn export(
    State(s): State<AppState>,
    c: ApiCtx,
    Query(q): Query<ExportQuery>,
    Query(fmt): Query<FormatQuery>,
) -> ApiResult {
    let p = period_of(q.period.as_deref(), &c.ctx.caller)?;
    let t = export_card(&s, &c.ctx.caller, c.lang, p, q.org_unit_id).await?;
    Ok(person_download(&scorecard_table(&t), &c.ctx.caller, c.lang, fmt.code().unwrap_or("csv"), "kpi_scorecard")?)
}

async fn evaluations(State(s): State<AppState>, c: ApiCtx, Query(q): Query<YearQuery>) -> ApiResult {
    let year = year_in(q.year, &c)?;
    Ok(OnePage::of(kt::evaluations(&s.app.db, &c.ctx.caller, year).await?).into_response())
}

async fn evaluate(State(s): State<AppState>, c: ApiCtx, b: Typed<EvaluationIn>) -> ApiResult {
    Ok(Json(kt::evaluate(&s.app.db, &c.ctx, &b.typed).await?).into_response())
}

async fn coefficients(State(s): State<AppState>, c: ApiCtx, Query(q): Query<YearQuery>) -> ApiResult {
    let year = year_in(q.year, &c)?;
    Ok(OnePage::of(kt::coefficients(&s.app.db, &c.ctx.caller, year).await?).into_response())
}

async fn set_coefficient(State(s): State<AppState>, c: ApiCtx, b: Typed<CoefficientIn>) -> ApiResult {
    Ok(Json(kt::set_coefficient(&s.app.db, &c.ctx, &b.typed).await?).into_response())
}

async fn awards(State(s): State<AppState>, c: ApiCtx, Query(q): Query<YearQuery>) -> ApiResult {
    let year = year_in(q.year, &c)?;
    Ok(OnePage::of(kt::awards(&s.app.db, &c.ctx.caller, year).await?).into_response())
}

async fn award(State(s): State<AppState>, c: ApiCtx, b: Typed<AwardIn>) -> ApiResult {
    Ok((StatusCode::CREATED, Json(kt::award(&s.app.db, &c.ctx, &b.typed).await?)).into_response())
}

async fn promotions(State(s): State<AppState>, c: ApiCtx) -> ApiResult {
    Ok(OnePage::of(ks::promotions(&s.app.db, &c.ctx.caller).await?).into_response())
}
