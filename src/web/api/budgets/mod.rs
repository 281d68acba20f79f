//! Budgets, spending and executive resource requests (issue 25 items 3–4): cost centres ×
//! year, a budget drafted, questioned (质询), submitted through `budget_plan`, revised,
//! approved and closed; spending signed inside its line or approved as a `budget_exception`
//! outside it; budget against actual by cost centre and month (JSON, CSV, XLSX); executive
//! resource requests approved through `exec_resource`, which put an executive visit on the
//! account.
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use chrono::Datelike;
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

use crate::app::budgets::budgets::{
    self as bg, BudgetActual, BudgetAnswerIn, BudgetIn, BudgetLinesIn, BudgetQuestionIn, BudgetVersionIn, BudgetView,
    CategoriesIn, CategoriesView, CentreYear,
};
use crate::app::budgets::exec::{self as ex, ExecRequestIn, ExecRequestView, Executive};
use crate::app::budgets::spending::{self as sp, SpendingIn, SpendingView};
use crate::app::spreadsheets::export::Table;
use crate::web::api::contract::{FormatQuery, Id, OnePage};
use crate::web::api::{person_download, Api, ApiResult, Op, Params, Query, Typed};
use crate::web::auth::ApiCtx;
use crate::web::AppState;

pub fn routes(api: Api) -> Api {
    api.add(
        Op::get("/api/v1/budgets", "The cost centres the caller sees × a year: each one's budget, its state and total", "budgets")
            .describe("A cost centre is an org unit: the KA department (HQ), each region, each branch. `year`: this year when absent.")
            .query::<YearQuery>()
            .one_page::<CentreYear>(200),
        overview,
    )
    .add(
        Op::post("/api/v1/budgets", "Draft a cost centre's budget of a year", "budgets")
            .describe(
                "The KA director drafts any cost centre's budget, a branch manager those of their part of the org tree. \
                 Lines: a category of the company's list, a month 1–12 or 0 for the whole year, an amount in yuan; each \
                 bad line is named (`lines[i].category` invalid_choice, `lines[i].month` month_range or duplicate_line, \
                 `lines[i].amount`). One budget per cost centre and year (409 budget_exists).",
            )
            .body_example::<BudgetIn>(json!({"cost_centre_id": 1, "year": 2027, "lines": [
                {"category": "travel", "month": 0, "amount": "120000.00"},
                {"category": "entertainment", "month": 3, "amount": "20000.00"}]}))
            .ok::<BudgetView>(201)
            .errors(&[404, 409]),
        create,
    )
    .add(
        Op::get("/api/v1/budgets/categories", "The company's spending categories (the company's choice)", "budgets")
            .ok::<CategoriesView>(200),
        categories,
    )
    .add(
        Op::put("/api/v1/budgets/categories", "Set the company's spending categories", "budgets")
            .describe("1–20 categories, codes unique (lowercase letters and `_`), each named. The administrator, the finance manager or the sales department manager.")
            .body::<CategoriesIn>()
            .ok::<CategoriesView>(200)
            .errors(&[409]),
        set_categories,
    )
    .add(
        Op::get("/api/v1/budgets/actual", "Budget against actual by cost centre and month", "budgets")
            .describe(
                "For each cost centre the caller sees: its approved (or closed) budget by month — month lines in their \
                 month, whole-year lines spread evenly (the fen left over in December) —, what is committed (spending \
                 waiting for its signature and out-of-budget requests waiting), spent (signed or approved) and what \
                 remains.",
            )
            .query::<ActualQuery>()
            .ok::<BudgetActual>(200)
            .errors(&[404]),
        actual,
    )
    .add(
        Op::get("/api/v1/budgets/actual/export", "Budget against actual as CSV or XLSX (?format=xlsx)", "budgets")
            .query::<ActualQuery>()
            .query::<FormatQuery>()
            .download()
            .with_format_schema()
            .errors(&[404]),
        actual_export,
    )
    .add(
        Op::get("/api/v1/budgets/{id}", "A budget whole: lines, figures by category, the 质询 questions and answers, revisions", "budgets")
            .ok::<BudgetView>(200),
        get_one,
    )
    .add(
        Op::put("/api/v1/budgets/{id}", "Replace a draft's (or a returned budget's) lines", "budgets")
            .body::<BudgetLinesIn>()
            .ok::<BudgetView>(200)
            .errors(&[409]),
        update,
    )
    .add(
        Op::post("/api/v1/budgets/{id}/questions", "A reviewer's question in the 质询 round", "budgets")
            .describe("The sales department manager, the finance manager, the general manager, the directors; never on one's own draft; before approval.")
            .body_example::<BudgetQuestionIn>(json!({"question": "差旅预算比去年增加30%，依据是什么？"}))
            .ok::<BudgetView>(200)
            .errors(&[409]),
        ask,
    )
    .add(
        Op::post("/api/v1/budgets/{id}/questions/{question}/answer", "The drafter answers a question", "budgets")
            .body_example::<BudgetAnswerIn>(json!({"answer": "新增华东两个重点客户，拜访频次增加"}))
            .ok::<BudgetView>(200)
            .errors(&[409]),
        answer,
    )
    .add(
        Op::post("/api/v1/budgets/{id}/submit", "Submit the budget to the sales department manager (flow budget_plan)", "budgets")
            .describe("Its lines are kept as a revision (one more after a return). At least one line (422 `lines` required).")
            .body::<BudgetVersionIn>()
            .ok::<BudgetView>(200)
            .errors(&[409]),
        submit,
    )
    .add(
        Op::post("/api/v1/budgets/{id}/close", "Close an approved budget at the year's end: no more spending on it", "budgets")
            .body::<BudgetVersionIn>()
            .ok::<BudgetView>(200)
            .errors(&[409]),
        close,
    )
    .add(
        Op::get("/api/v1/spending", "Spending the caller sees (their cost centres), latest first (at most 500)", "budgets")
            .query::<SpendingQuery>()
            .one_page::<SpendingView>(200),
        spending_list,
    )
    .add(
        Op::post("/api/v1/spending", "Record spending against a budget line", "budgets")
            .describe(
                "Inside what the line (the cost centre's approved budget of the day's year, in the category) has left \
                 it waits for the KA director's signature (`submitted`); outside the budget or beyond the line it \
                 starts a `budget_exception` request — the finance manager, then the sales department manager \
                 (`in_approval`). A budget not approved (or none) is 422 `cost_centre_id` budget_not_approved; a \
                 closed year 422 `spent_on` budget_year_closed; nothing is saved on any error.",
            )
            .body_example::<SpendingIn>(json!({"cost_centre_id": 1, "category": "entertainment", "spent_on": "2027-03-12",
                "amount": "3800.00", "purpose": "宴请星河精密采购总监", "account_id": 1}))
            .ok::<SpendingView>(201)
            .errors(&[404]),
        spending_create,
    )
    .add(Op::get("/api/v1/spending/{id}", "A spending record", "budgets").ok::<SpendingView>(200), spending_get)
    .add(
        Op::post("/api/v1/spending/{id}/sign", "The KA director signs spending inside the budget", "budgets")
            .describe("Submitted spending only (409 otherwise); never one's own (403).")
            .body::<BudgetVersionIn>()
            .ok::<SpendingView>(200)
            .errors(&[409]),
        spending_sign,
    )
    .add(
        Op::get("/api/v1/exec-requests", "Executive resource requests of the accounts the caller sees (at most 500)", "budgets")
            .query::<ExecQuery>()
            .one_page::<ExecRequestView>(200),
        exec_list,
    )
    .add(
        Op::get("/api/v1/exec-requests/executives", "The executives a request may name (general manager, marketing director, sales department manager)", "budgets")
            .one_page::<Executive>(200),
        exec_executives,
    )
    .add(
        Op::post("/api/v1/exec-requests", "Ask an executive to support an account (高层资源支持申请表)", "budgets")
            .describe(
                "Approved by the KA director (flow `exec_resource`); approved, an executive visit is put on the account \
                 for the requester — done when its day has come (the service standards count it), planned when it lies \
                 ahead. `executive_id` must be an active general manager, marketing director or sales department \
                 manager (422 not_an_executive); `visit_on` not before today.",
            )
            .body_example::<ExecRequestIn>(json!({"account_id": 1, "executive_id": 2, "purpose": "拜访客户总经理，推动年度框架协议",
                "expected_result": "年内签订框架协议", "visit_on": "2027-03-20"}))
            .ok::<ExecRequestView>(201)
            .errors(&[404]),
        exec_create,
    )
    .add(Op::get("/api/v1/exec-requests/{id}", "An executive resource request", "budgets").ok::<ExecRequestView>(200), exec_get)
}

fn this_year(c: &ApiCtx) -> i64 {
    c.ctx.caller.day().year() as i64
}

#[derive(Deserialize, IntoParams, Default)]
pub struct YearQuery {
    /// The year (this year when absent).
    #[param(minimum = 2000, maximum = 2100)]
    pub year: Option<i64>,
}

#[derive(Deserialize, IntoParams, Default)]
pub struct ActualQuery {
    /// The year (this year when absent).
    #[param(minimum = 2000, maximum = 2100)]
    pub year: Option<i64>,
    /// One cost centre only.
    pub cost_centre_id: Option<i64>,
}

#[derive(Deserialize, IntoParams, Default)]
pub struct SpendingQuery {
    pub cost_centre_id: Option<i64>,
    #[param(minimum = 2000, maximum = 2100)]
    pub year: Option<i64>,
    /// `submitted`, `signed`, `in_approval`, `approved`, `rejected`, `returned`, `cancelled`.
    #[param(max_length = 20, pattern = "^(submitted|signed|in_approval|approved|rejected|returned|cancelled)$")]
    pub state: Option<String>,
}

#[derive(Deserialize, IntoParams, Default)]
pub struct ExecQuery {
    pub account_id: Option<i64>,
    /// `in_approval`, `approved`, `rejected`, `returned`, `cancelled`.
    #[param(max_length = 20, pattern = "^(in_approval|approved|rejected|returned|cancelled)$")]
    pub state: Option<String>,
}

fn year_in(y: Option<i64>, c: &ApiCtx) -> Result<i64, crate::domain::DomainError> {
    match y {
        None => Ok(this_year(c)),
        Some(y) if (2000..=2100).contains(&y) => Ok(y),
        Some(_) => Err(crate::domain::DomainError::invalid("year", "year_range")),
    }
}

async fn overview(State(s): State<AppState>, c: ApiCtx, Query(q): Query<YearQuery>) -> ApiResult {
    let year = year_in(q.year, &c)?;
    Ok(OnePage::of(bg::overview(&s.app.db, &c.ctx.caller, year as i32).await?).into_response())
}

async fn create(State(s): State<AppState>, c: ApiCtx, b: Typed<BudgetIn>) -> ApiResult {
    Ok((StatusCode::CREATED, Json(bg::create(&s.app.db, &c.ctx, &b.typed).await?)).into_response())
}

async fn categories(State(s): State<AppState>, _c: ApiCtx) -> ApiResult {
    Ok(Json(bg::categories(&s.app.db).await?).into_response())
}

async fn set_categories(State(s): State<AppState>, c: ApiCtx, b: Typed<CategoriesIn>) -> ApiResult {
    Ok(Json(bg::set_categories(&s.app.db, &c.ctx, &b.typed).await?).into_response())
}

async fn actual(State(s): State<AppState>, c: ApiCtx, Query(q): Query<ActualQuery>) -> ApiResult {
    let year = year_in(q.year, &c)?;
    Ok(Json(bg::actual(&s.app.db, &c.ctx.caller, year, q.cost_centre_id).await?).into_response())
}

/// Budget against actual as a table: a row per cost centre and month, and its year (month 0).
pub fn actual_table(a: &BudgetActual) -> Table {
    let mut rows = vec![];
    for c in &a.centres {
        for f in c.months.iter().chain(std::iter::once(&c.year)) {
            rows.push(vec![
                c.cost_centre_name.clone(),
                if f.month == 0 { String::new() } else { f.month.to_string() },
                f.budget.clone(),
                f.committed.clone(),
                f.spent.clone(),
                f.remaining.clone(),
            ]);
        }
    }
    Table {
        keys: vec![
            "cost_centre",
            "month",
            "amount_budget",
            "amount_budget_committed",
            "amount_budget_spent",
            "amount_budget_remaining",
        ],
        rows,
    }
}

async fn actual_export(
    State(s): State<AppState>,
    c: ApiCtx,
    Query(q): Query<ActualQuery>,
    Query(fmt): Query<FormatQuery>,
) -> ApiResult {
    let year = year_in(q.year, &c)?;
    let a = bg::actual(&s.app.db, &c.ctx.caller, year, q.cost_centre_id).await?;
    Ok(person_download(&actual_table(&a), &c.ctx.caller, c.lang, fmt.code().unwrap_or("csv"), "budget_actual")?)
}

async fn get_one(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    Ok(Json(bg::get(&s.app.db, &c.ctx.caller, id).await?).into_response())
}

async fn update(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(Id(id)): Params<Id>,
    b: Typed<BudgetLinesIn>,
) -> ApiResult {
    Ok(Json(bg::update(&s.app.db, &c.ctx, id, &b.typed).await?).into_response())
}

async fn ask(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(Id(id)): Params<Id>,
    b: Typed<BudgetQuestionIn>,
) -> ApiResult {
    Ok(Json(bg::ask(&s.app.db, &c.ctx, id, &b.typed).await?).into_response())
}

async fn answer(
    State(s): State<AppState>,
    c: ApiCtx,
    Params((Id(id), Id(q))): Params<(Id, Id)>,
    b: Typed<BudgetAnswerIn>,
) -> ApiResult {
    Ok(Json(bg::answer(&s.app.db, &c.ctx, id, q, &b.typed).await?).into_response())
}

async fn submit(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(Id(id)): Params<Id>,
    b: Typed<BudgetVersionIn>,
) -> ApiResult {
    Ok(Json(bg::submit(&s.app.db, &c.ctx, id, &b.typed).await?).into_response())
}

async fn close(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(Id(id)): Params<Id>,
    b: Typed<BudgetVersionIn>,
) -> ApiResult {
    Ok(Json(bg::close(&s.app.db, &c.ctx, id, &b.typed).await?).into_response())
}

async fn spending_list(State(s): State<AppState>, c: ApiCtx, Query(q): Query<SpendingQuery>) -> ApiResult {
    let f = sp::Filter { cost_centre_id: q.cost_centre_id, year: q.year, state: q.state };
    Ok(OnePage::of(sp::list(&s.app.db, &c.ctx.caller, &f).await?).into_response())
}

async fn spending_create(State(s): State<AppState>, c: ApiCtx, b: Typed<SpendingIn>) -> ApiResult {
    Ok((StatusCode::CREATED, Json(sp::create(&s.app.db, &c.ctx, &b.typed).await?)).into_response())
}

async fn spending_get(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    Ok(Json(sp::get(&s.app.db, &c.ctx.caller, id).await?).into_response())
}

async fn spending_sign(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(Id(id)): Params<Id>,
    b: Typed<BudgetVersionIn>,
) -> ApiResult {
    Ok(Json(sp::sign(&s.app.db, &c.ctx, id, b.typed.version).await?).into_response())
}

async fn exec_list(State(s): State<AppState>, c: ApiCtx, Query(q): Query<ExecQuery>) -> ApiResult {
    let f = ex::Filter { account_id: q.account_id, state: q.state };
    Ok(OnePage::of(ex::list(&s.app.db, &c.ctx.caller, &f).await?).into_response())
}

async fn exec_executives(State(s): State<AppState>, _c: ApiCtx) -> ApiResult {
    Ok(OnePage::of(ex::executives(&s.app.db).await?).into_response())
}

async fn exec_create(State(s): State<AppState>, c: ApiCtx, b: Typed<ExecRequestIn>) -> ApiResult {
    Ok((StatusCode::CREATED, Json(ex::create(&s.app.db, &c.ctx, &b.typed).await?)).into_response())
}

async fn exec_get(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    Ok(Json(ex::get(&s.app.db, &c.ctx.caller, id).await?).into_response())
}
