//! The KPI pages (issue 25 items 5–6): the scorecards of the department, a team and a person by
//! quarter and year (with the XLSX and CSV), the contracts of the year and the form to issue
//! one, a contract with its acknowledgements, targets, manager's actuals, veto and closing, the
//! contract printable on A4 with the signature lines, team performance (evaluations,
//! coefficients, awards, promotions) and the role templates. Every change goes through
//! `app::kpi`.
use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::app::kpi::contracts::{
    self as kc, ActualIn, ContractItem, ContractUpdate, ContractView, Issuable, VersionIn, VetoIn,
};
use crate::app::kpi::score::{self as ks, Promotion, Scorecard, TeamScorecard};
use crate::app::kpi::team::{
    self as kt, AwardIn, AwardView, CoefficientIn, CoefficientView, EvaluationIn, EvaluationView,
};
use crate::app::kpi::templates::{self as ktp, TemplatesIn, TemplatesView};
use crate::app::kpi::{self as kpi, Period, Team};
use crate::domain::DomainError;
use crate::web::api::{id_of, q, query_pairs};
use crate::web::auth::{UiCtx, UiForm};
use crate::web::ui::forms::with_flash;
use crate::web::ui::{export_download, fail_page, render, Layout};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/kpi", get(overview))
        .route("/kpi/contracts", post(create))
        .route("/kpi/contracts/{id}", get(show))
        .route("/kpi/contracts/{id}/print", get(print))
        .route("/kpi/contracts/{id}/acknowledge", post(acknowledge))
        .route("/kpi/contracts/{id}/targets", post(targets))
        .route("/kpi/contracts/{id}/actuals", post(actual))
        .route("/kpi/contracts/{id}/veto", post(veto))
        .route("/kpi/contracts/{id}/close", get(close_confirm).post(close))
        .route("/kpi/people/{id}", get(person))
        .route("/kpi/team", get(team_page))
        .route("/kpi/team/evaluations", post(evaluate))
        .route("/kpi/team/coefficients", post(coefficient))
        .route("/kpi/team/awards", post(award))
        .route("/kpi/templates", get(templates).post(save_templates))
}

/// A form's fields as typed, and the refusal's messages by field.
#[derive(Default)]
pub struct Typed {
    values: HashMap<String, String>,
    field_errors: HashMap<String, String>,
}

impl Typed {
    fn of(form: &UiForm) -> Typed {
        Typed { values: form.fields.iter().cloned().collect(), field_errors: HashMap::new() }
    }
    pub fn val(&self, k: &str) -> &str {
        self.values.get(k).map(String::as_str).unwrap_or("")
    }
    pub fn or(&self, k: &str, saved: &str) -> String {
        self.values.get(k).cloned().unwrap_or_else(|| saved.to_string())
    }
    pub fn err(&self, k: &str) -> Option<&str> {
        self.field_errors.get(k).map(String::as_str)
    }
}

fn refusal(l: &Layout, e: &DomainError, typed: &mut Typed) -> Vec<String> {
    if let DomainError::Invalid(fs) = e {
        for f in fs {
            typed.field_errors.insert(f.field.clone(), l.lang.msg("invalid", f.code));
        }
        return fs
            .iter()
            .map(|f| {
                let label = if f.field.starts_with("indicators") || f.field.starts_with("templates") {
                    l.t("kpi.indicators")
                } else {
                    l.e("field", &f.field)
                };
                format!("{label}: {}", l.lang.msg("invalid", f.code))
            })
            .collect();
    }
    crate::web::ui::error_lines(l, e)
}

fn field(form: &UiForm, k: &str) -> Option<String> {
    form.get(k).map(str::trim).filter(|v| !v.is_empty()).map(str::to_string)
}

fn version(form: &UiForm) -> i64 {
    form.get("version").and_then(|v| v.parse().ok()).unwrap_or(0)
}

fn with_status(mut res: Response, err: &Option<DomainError>) -> Response {
    if let Some(e) = err {
        *res.status_mut() = crate::web::ui::status_and_code(e).0;
    }
    res
}

fn period_in(ui: &UiCtx, p: &[(String, String)]) -> Period {
    q(p, "period").and_then(Period::parse).unwrap_or_else(|| Period::year(ks::this_year(&ui.ctx.caller)))
}

/// The periods to pick: the year and its quarters, of last year, this year and next.
fn periods(year: i32) -> Vec<String> {
    let mut out = vec![];
    for y in [year + 1, year, year - 1] {
        out.push(Period::year(y).code());
        for qn in 1..=4 {
            out.push(Period { year: y, quarter: Some(qn) }.code());
        }
    }
    out
}

fn period_label(l: &Layout, code: &str) -> String {
    match Period::parse(code) {
        Some(Period { year, quarter: Some(qn) }) => {
            l.t("kpi.quarter_label").replace("{y}", &year.to_string()).replace("{q}", &qn.to_string())
        }
        Some(Period { year, quarter: None }) => l.t("kpi.year_label").replace("{y}", &year.to_string()),
        None => code.to_string(),
    }
}

// ---- the scorecards ----

#[derive(Template)]
#[template(path = "kpi_overview.html")]
struct OverviewPage {
    l: Layout,
    period: String,
    periods: Vec<String>,
    card: Option<TeamScorecard>,
    teams: Vec<Team>,
    team: Option<i64>,
    contracts: Vec<ContractItem>,
    issuable: Vec<Issuable>,
    year: i32,
    typed: Typed,
    errors: Vec<String>,
}

impl OverviewPage {
    fn period_name(&self, p: &str) -> String {
        period_label(&self.l, p)
    }
    fn selected_team(&self, id: &i64) -> bool {
        self.team == Some(*id)
    }
}

async fn overview_page(
    s: &AppState,
    ui: &UiCtx,
    p: Period,
    team: Option<i64>,
    typed: Typed,
    err: Option<DomainError>,
) -> Response {
    let caller = &ui.ctx.caller;
    if !kpi::may_see(caller) {
        return fail_page(ui, DomainError::Forbidden);
    }
    let teams = match kpi::visible_teams(&s.app.db, caller).await {
        Ok(t) => t,
        Err(e) => return fail_page(ui, e),
    };
    let card = if team.is_some() || ks::sees_department(caller) || kpi::leads(caller.role) {
        match crate::web::api::kpi::export_card(s, caller, ui.lang, p, team).await {
            Ok(c) => Some(c),
            Err(e) => return fail_page(ui, e),
        }
    } else {
        None
    };
    let contracts = match kc::list(&s.app.db, caller, i64::from(p.year), None).await {
        Ok(c) => c,
        Err(e) => return fail_page(ui, e),
    };
    let issuable = match kc::issuable(&s.app.db, caller).await {
        Ok(c) => c,
        Err(e) => return fail_page(ui, e),
    };
    let mut l = Layout::new(ui, "kpi", format!("{} · {}", ui.lang.t("kpi.title"), period_label_lang(ui, &p.code())));
    let mut typed = typed;
    let errors = err.as_ref().map(|e| refusal(&l, e, &mut typed)).unwrap_or_default();
    l.title = format!("{} · {}", l.t("kpi.title"), period_label(&l, &p.code()));
    let res = render(&OverviewPage {
        l,
        period: p.code(),
        periods: periods(ks::this_year(caller)),
        card,
        teams,
        team,
        contracts,
        issuable,
        year: p.year,
        typed,
        errors,
    });
    with_status(res, &err)
}

fn period_label_lang(ui: &UiCtx, code: &str) -> String {
    match Period::parse(code) {
        Some(Period { year, quarter: Some(qn) }) => {
            ui.lang.t("kpi.quarter_label").replace("{y}", &year.to_string()).replace("{q}", &qn.to_string())
        }
        Some(Period { year, .. }) => ui.lang.t("kpi.year_label").replace("{y}", &year.to_string()),
        None => code.to_string(),
    }
}

async fn overview(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = query_pairs(raw);
    let period = period_in(&ui, &p);
    let caller = &ui.ctx.caller;
    let team = q(&p, "team").and_then(|t| t.parse::<i64>().ok());
    if let Some(fmt @ ("xlsx" | "csv")) = q(&p, "format") {
        let card = match crate::web::api::kpi::export_card(&s, caller, ui.lang, period, team).await {
            Ok(c) => c,
            Err(e) => return fail_page(&ui, e),
        };
        let t = crate::web::api::kpi::scorecard_table(&card);
        return match export_download(&s.app.db, &ui, &t, fmt, "kpi_scorecard").await {
            Ok(r) => r,
            Err(e) => fail_page(&ui, e),
        };
    }
    // A salesperson's KPI page is their own scorecard.
    if team.is_none() && !ks::sees_department(caller) && !kpi::leads(caller.role) && kpi::may_see(caller) {
        return Redirect::to(&format!("/kpi/people/{}?period={}", caller.user_id, period.code())).into_response();
    }
    overview_page(&s, &ui, period, team, Typed::default(), None).await
}

async fn create(State(s): State<AppState>, form: UiForm) -> Response {
    let ui = &form.ui;
    let year = field(&form, "year")
        .and_then(|y| y.parse::<i64>().ok())
        .unwrap_or_else(|| i64::from(ks::this_year(&ui.ctx.caller)));
    let Some(user) = field(&form, "user_id").and_then(|u| u.parse::<i64>().ok()) else {
        let p = Period::year(year as i32);
        return overview_page(&s, ui, p, None, Typed::of(&form), Some(DomainError::invalid("user_id", "required")))
            .await;
    };
    let inp = kc::ContractIn { user_id: user, year, bonus_base: field(&form, "bonus_base"), indicators: None };
    match kc::create(&s.app.db, &ui.ctx, &inp).await {
        Ok(v) => Redirect::to(&with_flash(&format!("/kpi/contracts/{}", v.id), "saved")).into_response(),
        Err(e @ DomainError::Forbidden) => fail_page(ui, e),
        Err(e) => {
            overview_page(&s, ui, Period::year(year.clamp(2000, 2100) as i32), None, Typed::of(&form), Some(e)).await
        }
    }
}

#[derive(Template)]
#[template(path = "kpi_person.html")]
struct PersonPage {
    l: Layout,
    c: Scorecard,
    period: String,
    periods: Vec<String>,
}

impl PersonPage {
    fn period_name(&self, p: &str) -> String {
        period_label(&self.l, p)
    }
}

async fn person(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>, RawQuery(raw): RawQuery) -> Response {
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(&ui, e),
    };
    let p = query_pairs(raw);
    let period = period_in(&ui, &p);
    let c = match ks::person(&s.app.db, &ui.ctx.caller, id, period).await {
        Ok(c) => c,
        Err(e) => return fail_page(&ui, e),
    };
    let l = Layout::new(
        &ui,
        "kpi",
        format!("{} · {} · {}", ui.lang.t("kpi.scorecard"), c.holder_name, period_label_lang(&ui, &period.code())),
    );
    render(&PersonPage { l, c, period: period.code(), periods: periods(ks::this_year(&ui.ctx.caller)) })
}

// ---- a contract ----

#[derive(Template)]
#[template(path = "kpi_contract.html")]
struct ContractPage {
    l: Layout,
    v: ContractView,
    periods: Vec<String>,
    typed: Typed,
    errors: Vec<String>,
}

impl ContractPage {
    fn period_name(&self, p: &str) -> String {
        period_label(&self.l, p)
    }
    fn weight_of(&self, key: &str, saved: &i64) -> String {
        self.typed.or(&format!("weight_{key}"), &saved.to_string())
    }
    fn target_of(&self, key: &str, saved: &str) -> String {
        self.typed.or(&format!("target_{key}"), saved)
    }
    fn manual(&self) -> Vec<&crate::app::kpi::templates::Indicator> {
        self.v.indicators.iter().filter(|i| i.measure == "manual").collect()
    }
    fn indicator_name(&self, key: &str) -> String {
        self.v.indicators.iter().find(|i| i.key == key).map(|i| i.name.clone()).unwrap_or_else(|| key.to_string())
    }
}

async fn contract_page(s: &AppState, ui: &UiCtx, id: i64, typed: Typed, err: Option<DomainError>) -> Response {
    let v = match kc::get(&s.app.db, &ui.ctx.caller, id).await {
        Ok(v) => v,
        Err(e) => return fail_page(ui, e),
    };
    let l = Layout::new(ui, "kpi", format!("{} · {} · {}", v.title, v.holder_name, v.year));
    let mut typed = typed;
    let errors = err.as_ref().map(|e| refusal(&l, e, &mut typed)).unwrap_or_default();
    let year = v.year as i32;
    let periods = std::iter::once(Period::year(year).code())
        .chain((1..=4).map(|qn| Period { year, quarter: Some(qn) }.code()))
        .collect();
    let res = render(&ContractPage { l, v, periods, typed, errors });
    with_status(res, &err)
}

async fn show(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    match id_of(&id) {
        Ok(id) => contract_page(&s, &ui, id, Typed::default(), None).await,
        Err(e) => fail_page(&ui, e),
    }
}

async fn after(s: &AppState, form: &UiForm, id: i64, res: Result<ContractView, DomainError>) -> Response {
    match res {
        Ok(_) => Redirect::to(&with_flash(&format!("/kpi/contracts/{id}"), "saved")).into_response(),
        Err(e @ (DomainError::NotFound | DomainError::Forbidden)) => fail_page(&form.ui, e),
        Err(e) => contract_page(s, &form.ui, id, Typed::of(form), Some(e)).await,
    }
}

async fn acknowledge(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(&form.ui, e),
    };
    let res = kc::acknowledge(&s.app.db, &form.ui.ctx, id, &VersionIn { version: version(&form) }).await;
    after(&s, &form, id, res).await
}

async fn targets(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(&form.ui, e),
    };
    let v = match kc::get(&s.app.db, &form.ui.ctx.caller, id).await {
        Ok(v) => v,
        Err(e) => return fail_page(&form.ui, e),
    };
    let mut indicators = v.indicators.clone();
    let mut bad_weight = vec![];
    for i in indicators.iter_mut() {
        if let Some(w) = form.get(&format!("weight_{}", i.key)) {
            match w.trim().parse::<i64>() {
                Ok(n) => i.weight = n,
                Err(_) => bad_weight.push(format!("weight_{}", i.key)),
            }
        }
        if let Some(t) = form.get(&format!("target_{}", i.key)) {
            i.target = t.trim().replace([',', '，'], "");
        }
    }
    if !bad_weight.is_empty() {
        let e = DomainError::Invalid(
            bad_weight.into_iter().map(|f| crate::domain::error::FieldError::new(f, "weight_range")).collect(),
        );
        return contract_page(&s, &form.ui, id, Typed::of(&form), Some(e)).await;
    }
    let inp = ContractUpdate {
        indicators: indicators.clone(),
        bonus_base: field(&form, "bonus_base"),
        version: version(&form),
    };
    let res = kc::update(&s.app.db, &form.ui.ctx, id, &inp).await.map_err(|e| match e {
        DomainError::Invalid(fs) => DomainError::Invalid(
            fs.into_iter()
                .map(|mut f| {
                    // `indicators[i].target` → the row's field.
                    if let Some((i, rest)) = f.field.strip_prefix("indicators[").and_then(|r| r.split_once("].")) {
                        if let Some(ind) = i.parse::<usize>().ok().and_then(|i| indicators.get(i)) {
                            f.field = format!("{rest}_{}", ind.key);
                        }
                    }
                    f
                })
                .collect(),
        ),
        e => e,
    });
    after(&s, &form, id, res).await
}

async fn actual(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(&form.ui, e),
    };
    let inp = ActualIn {
        indicator: field(&form, "indicator").unwrap_or_default(),
        period: field(&form, "period").unwrap_or_default(),
        value: field(&form, "value").unwrap_or_default(),
        note: field(&form, "note"),
        version: version(&form),
    };
    // A correction of an actual already entered goes over its version.
    let inp = match kc::get(&s.app.db, &form.ui.ctx.caller, id).await {
        Ok(v) => {
            let period = Period::parse(&inp.period).map(|p| p.code()).unwrap_or_default();
            let ver = v
                .actuals
                .iter()
                .find(|a| a.indicator == inp.indicator && a.period == period)
                .map(|a| a.version)
                .unwrap_or(0);
            ActualIn { version: ver, ..inp }
        }
        Err(e) => return fail_page(&form.ui, e),
    };
    let res = kc::set_actual(&s.app.db, &form.ui.ctx, id, &inp).await;
    after(&s, &form, id, res).await
}

async fn veto(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(&form.ui, e),
    };
    let inp = VetoIn { hit: form.get("hit") == Some("1"), reason: field(&form, "reason"), version: version(&form) };
    let res = kc::set_veto(&s.app.db, &form.ui.ctx, id, &inp).await;
    after(&s, &form, id, res).await
}

#[derive(Template)]
#[template(path = "kpi_close.html")]
struct ClosePage {
    l: Layout,
    v: ContractView,
}

async fn close_confirm(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(&ui, e),
    };
    match kc::get(&s.app.db, &ui.ctx.caller, id).await {
        Ok(v) if v.may_edit => {
            let l = Layout::new(&ui, "kpi", ui.lang.t("kpi.close_title"));
            render(&ClosePage { l, v })
        }
        Ok(_) => fail_page(&ui, DomainError::Forbidden),
        Err(e) => fail_page(&ui, e),
    }
}

async fn close(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(&form.ui, e),
    };
    let res = kc::close(&s.app.db, &form.ui.ctx, id, &VersionIn { version: version(&form) }).await;
    after(&s, &form, id, res).await
}

#[derive(Template)]
#[template(path = "kpi_contract_print.html")]
struct PrintPage {
    l: Layout,
    v: ContractView,
    company: Option<String>,
    today: String,
}

impl PrintPage {
    fn in_category(&self, c: &str) -> Vec<&crate::app::kpi::templates::Indicator> {
        self.v.indicators.iter().filter(|i| i.category == c).collect()
    }
}

async fn print(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(&ui, e),
    };
    let v = match kc::get(&s.app.db, &ui.ctx.caller, id).await {
        Ok(v) => v,
        Err(e) => return fail_page(&ui, e),
    };
    // A failed read of the company is the page's failure, never a contract printed without it.
    let company = match crate::app::records::company::get(&s.app.db).await {
        Ok(c) => Some(c.company.name).filter(|n| !n.is_empty()),
        Err(e) => return fail_page(&ui, e),
    };
    let l = Layout::new(&ui, "kpi", format!("{} · {}", v.title, v.holder_name));
    let today = ui.ctx.caller.today();
    render(&PrintPage { l, v, company, today })
}

// ---- team performance ----

#[derive(Template)]
#[template(path = "kpi_team.html")]
struct TeamPage {
    l: Layout,
    year: i32,
    teams: Vec<Team>,
    evaluations: Vec<EvaluationView>,
    coefficients: Vec<CoefficientView>,
    awards: Vec<AwardView>,
    promotions: Vec<Promotion>,
    periods: Vec<String>,
    may_decide: bool,
    may_evaluate: bool,
    typed: Typed,
    errors: Vec<String>,
}

impl TeamPage {
    fn period_name(&self, p: &str) -> String {
        period_label(&self.l, p)
    }
    fn quarters(&self) -> Vec<String> {
        self.periods.iter().filter(|p| p.contains("-Q")).cloned().collect()
    }
}

async fn team_view(s: &AppState, ui: &UiCtx, year: i32, typed: Typed, err: Option<DomainError>) -> Response {
    let caller = &ui.ctx.caller;
    if !kpi::may_see(caller) {
        return fail_page(ui, DomainError::Forbidden);
    }
    let db = &s.app.db;
    let teams = match kpi::visible_teams(db, caller).await {
        Ok(t) => t,
        Err(e) => return fail_page(ui, e),
    };
    let (ev, co, aw, pr) = (
        kt::evaluations(db, caller, year).await,
        kt::coefficients(db, caller, year).await,
        kt::awards(db, caller, year).await,
        ks::promotions(db, caller).await,
    );
    let (evaluations, coefficients, awards, promotions) = match (ev, co, aw, pr) {
        (Ok(a), Ok(b), Ok(c), Ok(d)) => (a, b, c, d),
        (Err(e), ..) | (_, Err(e), ..) | (_, _, Err(e), _) | (_, _, _, Err(e)) => return fail_page(ui, e),
    };
    let l = Layout::new(ui, "kpi_team", format!("{} · {year}", ui.lang.t("kpi.team_title")));
    let mut typed = typed;
    let errors = err.as_ref().map(|e| refusal(&l, e, &mut typed)).unwrap_or_default();
    let may_evaluate = teams.iter().any(|t| kpi::may_evaluate(caller, &t.path));
    let res = render(&TeamPage {
        l,
        year,
        teams,
        evaluations,
        coefficients,
        awards,
        promotions,
        periods: std::iter::once(Period::year(year).code())
            .chain((1..=4).map(|qn| Period { year, quarter: Some(qn) }.code()))
            .collect(),
        may_decide: kt::may_decide(caller),
        may_evaluate,
        typed,
        errors,
    });
    with_status(res, &err)
}

async fn team_page(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = query_pairs(raw);
    let year = q(&p, "year")
        .and_then(|y| y.parse::<i32>().ok())
        .filter(|y| (2000..=2100).contains(y))
        .unwrap_or_else(|| ks::this_year(&ui.ctx.caller));
    team_view(&s, &ui, year, Typed::default(), None).await
}

fn year_of_form(form: &UiForm) -> i32 {
    field(form, "period")
        .and_then(|p| Period::parse(&p))
        .map(|p| p.year)
        .unwrap_or_else(|| ks::this_year(&form.ui.ctx.caller))
}

async fn team_after<T>(s: &AppState, form: &UiForm, res: Result<T, DomainError>) -> Response {
    let year = year_of_form(form);
    match res {
        Ok(_) => Redirect::to(&with_flash(&format!("/kpi/team?year={year}"), "saved")).into_response(),
        Err(e @ DomainError::Forbidden) => fail_page(&form.ui, e),
        Err(e) => team_view(s, &form.ui, year, Typed::of(form), Some(e)).await,
    }
}

fn id_field(form: &UiForm, k: &str) -> i64 {
    field(form, k).and_then(|v| v.parse().ok()).unwrap_or(0)
}

async fn evaluate(State(s): State<AppState>, form: UiForm) -> Response {
    let inp = EvaluationIn {
        org_unit_id: id_field(&form, "org_unit_id"),
        period: field(&form, "period").unwrap_or_default(),
        targets_met: field(&form, "targets_met"),
        met_pct: field(&form, "met_pct").unwrap_or_default(),
        next_targets: field(&form, "next_targets"),
        next_revenue: field(&form, "next_revenue").unwrap_or_default().replace([',', '，'], ""),
        version: 0,
    };
    // Revising the quarter's evaluation goes over the version shown on the page.
    let year = year_of_form(&form);
    let ver = kt::evaluations(&s.app.db, &form.ui.ctx.caller, year)
        .await
        .ok()
        .and_then(|l| {
            l.into_iter().find(|e| {
                e.org_unit_id == inp.org_unit_id
                    && Some(e.period.clone()) == Period::parse(&inp.period).map(|p| p.code())
            })
        })
        .map(|e| e.version)
        .unwrap_or(0);
    let res = kt::evaluate(&s.app.db, &form.ui.ctx, &EvaluationIn { version: ver, ..inp }).await;
    team_after(&s, &form, res).await
}

async fn coefficient(State(s): State<AppState>, form: UiForm) -> Response {
    let inp = CoefficientIn {
        org_unit_id: id_field(&form, "org_unit_id"),
        period: field(&form, "period").unwrap_or_default(),
        coefficient: field(&form, "coefficient").unwrap_or_default(),
        version: 0,
    };
    let year = year_of_form(&form);
    let ver = kt::coefficients(&s.app.db, &form.ui.ctx.caller, year)
        .await
        .ok()
        .and_then(|l| {
            l.into_iter().find(|c| {
                c.org_unit_id == inp.org_unit_id
                    && Some(c.period.clone()) == Period::parse(&inp.period).map(|p| p.code())
            })
        })
        .map(|c| c.version)
        .unwrap_or(0);
    let res = kt::set_coefficient(&s.app.db, &form.ui.ctx, &CoefficientIn { version: ver, ..inp }).await;
    team_after(&s, &form, res).await
}

async fn award(State(s): State<AppState>, form: UiForm) -> Response {
    let inp = AwardIn {
        kind: field(&form, "kind").unwrap_or_default(),
        period: field(&form, "period").unwrap_or_default(),
        org_unit_id: field(&form, "org_unit_id").and_then(|v| v.parse().ok()),
        user_id: field(&form, "user_id").and_then(|v| v.parse().ok()),
        title: field(&form, "title"),
        reason: field(&form, "reason"),
    };
    let res = kt::award(&s.app.db, &form.ui.ctx, &inp).await;
    team_after(&s, &form, res).await
}

// ---- templates ----

#[derive(Template)]
#[template(path = "kpi_templates.html")]
struct TemplatesPage {
    l: Layout,
    t: TemplatesView,
    may_edit: bool,
    typed: Typed,
    errors: Vec<String>,
}

impl TemplatesPage {
    fn weight_of(&self, role: &str, key: &str, saved: &i64) -> String {
        self.typed.or(&format!("weight_{role}_{key}"), &saved.to_string())
    }
    fn target_of(&self, role: &str, key: &str, saved: &str) -> String {
        self.typed.or(&format!("target_{role}_{key}"), saved)
    }
    fn cap(&self) -> String {
        self.typed.or("cap_pct", &self.t.cap_pct.to_string())
    }
    fn removing(&self, role: &str, key: &str) -> bool {
        !self.typed.val(&format!("remove_{role}_{key}")).is_empty()
    }
    fn new_val(&self, role: &str, field: &str) -> String {
        self.typed.val(&format!("new_{role}_{field}")).to_string()
    }
    fn categories(&self) -> &'static [&'static str] {
        ktp::CATEGORIES
    }
    fn measures(&self) -> &'static [&'static str] {
        ktp::MEASURES
    }
    fn kinds(&self) -> &'static [&'static str] {
        ktp::KINDS
    }
}

/// The new indicator a template's blank row describes (`new_{role}_…`), when it has a name (its
/// key is given when saved).
fn new_indicator(form: &UiForm, role: &str, bad: &mut Vec<String>) -> Option<ktp::Indicator> {
    let name = field(form, &format!("new_{role}_name"))?;
    let get = |f: &str| field(form, &format!("new_{role}_{f}")).unwrap_or_default();
    let weight = match get("weight").parse::<i64>() {
        Ok(n) => n,
        Err(_) => {
            bad.push(format!("new_{role}_weight"));
            0
        }
    };
    Some(ktp::Indicator {
        key: String::new(),
        category: get("category"),
        name,
        measure: get("measure"),
        kind: get("kind"),
        unit: get("unit"),
        weight,
        target: get("target").replace([',', '，'], ""),
        lower_is_better: false,
    })
}

async fn templates_view(s: &AppState, ui: &UiCtx, typed: Typed, err: Option<DomainError>) -> Response {
    let t = match ktp::get(&s.app.db, &ui.ctx.caller).await {
        Ok(t) => t,
        Err(e) => return fail_page(ui, e),
    };
    let l = Layout::new(ui, "kpi", ui.lang.t("kpi.templates_title"));
    let mut typed = typed;
    let errors = err.as_ref().map(|e| refusal(&l, e, &mut typed)).unwrap_or_default();
    let may_edit = ktp::may_edit(&ui.ctx.caller);
    let res = render(&TemplatesPage { l, t, may_edit, typed, errors });
    with_status(res, &err)
}

async fn templates(State(s): State<AppState>, ui: UiCtx) -> Response {
    templates_view(&s, &ui, Typed::default(), None).await
}

async fn save_templates(State(s): State<AppState>, form: UiForm) -> Response {
    let cur = match ktp::get(&s.app.db, &form.ui.ctx.caller).await {
        Ok(t) => t,
        Err(e) => return fail_page(&form.ui, e),
    };
    let mut list = cur.templates.clone();
    let mut bad = vec![];
    for t in list.iter_mut() {
        for i in t.indicators.iter_mut() {
            let wk = format!("weight_{}_{}", t.role, i.key);
            if let Some(w) = form.get(&wk) {
                match w.trim().parse::<i64>() {
                    Ok(n) => i.weight = n,
                    Err(_) => bad.push(wk),
                }
            }
            if let Some(v) = form.get(&format!("target_{}_{}", t.role, i.key)) {
                i.target = v.trim().replace([',', '，'], "");
            }
        }
        // Ticked「移除」: gone on saving; a named blank row: a new indicator.
        let role = t.role.clone();
        t.indicators.retain(|i| field(&form, &format!("remove_{role}_{}", i.key)).is_none());
        if let Some(i) = new_indicator(&form, &role, &mut bad) {
            t.indicators.push(i);
        }
    }
    let cap = form.get("cap_pct").and_then(|c| c.trim().parse::<i64>().ok());
    if cap.is_none() {
        bad.push("cap_pct".into());
    }
    if !bad.is_empty() {
        let e = DomainError::Invalid(
            bad.into_iter().map(|f| crate::domain::error::FieldError::new(f, "number_format")).collect(),
        );
        return templates_view(&s, &form.ui, Typed::of(&form), Some(e)).await;
    }
    let inp = TemplatesIn { cap_pct: cap.unwrap_or(0), templates: list, version: version(&form) };
    match ktp::set(&s.app.db, &form.ui.ctx, &inp).await {
        Ok(_) => Redirect::to(&with_flash("/kpi/templates", "saved")).into_response(),
        Err(e @ DomainError::Forbidden) => fail_page(&form.ui, e),
        Err(e) => templates_view(&s, &form.ui, Typed::of(&form), Some(e)).await,
    }
}
