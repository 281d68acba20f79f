//! The annual sales plan's pages (issue 25 items 1–2): the years, a year's plan with the past
//! year's analysis, its targets, resource and action plans, versions and the reviewers'
//! opinions (submit; approve or return), the draft's form, the decomposition's form and the
//! plan against actual with the year-end appraisal. Every change goes through
//! `app::salesplan`.
use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::app::salesplan::analysis::{self, PlanAnalysis};
use crate::app::salesplan::plan::{
    self, PlanActionIn, PlanReviewIn, PlanVersionIn, RegionTargetsIn, SalesPlanIn, SalesPlanItem, SalesPlanView,
};
use crate::app::salesplan::split::{self, PersonSplitIn, RegionSplitIn, SplitIn, SplitView, TeamSplitIn};
use crate::app::salesplan::tracking::{self, PlanAppraisalIn, PlanAppraisalsIn, PlanTracking, RATINGS};
use crate::domain::DomainError;
use crate::web::api::salesplan::{gap_message, year_of};
use crate::web::api::{q, query_pairs};
use crate::web::auth::{UiCtx, UiForm};
use crate::web::ui::approvals::{PanelGroup, PanelRow, PanelTable, SubjectPanel};
use crate::web::ui::forms::with_flash;
use crate::web::ui::{fail_page, render, Layout};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/sales-plans", get(list))
        .route("/sales-plans/new", get(new_form).post(create))
        .route("/sales-plans/{year}", get(show))
        .route("/sales-plans/{year}/edit", get(edit_form).post(update))
        .route("/sales-plans/{year}/submit", post(submit))
        .route("/sales-plans/{year}/review", post(review))
        .route("/sales-plans/{year}/split", get(split_form).post(save_split))
        .route("/sales-plans/{year}/tracking", get(tracking_page))
        .route("/sales-plans/{year}/tracking/export", get(tracking_export))
        .route("/sales-plans/{year}/appraisal", post(appraise))
}

/// A form's fields as typed (or as loaded), and the refusal's messages by field.
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
    pub fn err(&self, k: &str) -> Option<&str> {
        self.field_errors.get(k).map(String::as_str)
    }
    fn set(&mut self, k: String, v: String) {
        self.values.insert(k, v);
    }
}

/// Summary lines and field messages of a refusal; a level that does not add up says by how much.
fn refusal(l: &Layout, e: &DomainError, typed: &mut Typed, gaps: &[split::SplitGap]) -> Vec<String> {
    if let DomainError::Invalid(fs) = e {
        let mut lines = vec![];
        for f in fs {
            let msg = match gaps.iter().find(|g| g.field == f.field && f.code == "sum_mismatch") {
                Some(g) => gap_message(l.lang, &g.difference),
                None => l.lang.msg("invalid", f.code),
            };
            lines.push(format!("{}: {msg}", field_label(l, &f.field)));
            typed.field_errors.insert(f.field.clone(), msg);
        }
        return lines;
    }
    crate::web::ui::error_lines(l, e)
}

/// `targets.N.months.2027-03.revenue` → 「华北大区 · 2027-03 · 收入」-like words from its parts.
fn field_label(l: &Layout, field: &str) -> String {
    let parts: Vec<&str> = field.split('.').collect();
    let words: Vec<String> = parts
        .iter()
        .filter(|p| !matches!(**p, "targets" | "regions" | "teams" | "people" | "months"))
        .map(|p| match *p {
            "revenue" | "profit" | "budget" | "people_plan" | "organisation" | "systems" | "region" | "team"
            | "user" | "rating" | "text" | "year" | "version" => l.t(&format!("sales_plan.f_{p}")),
            other => other.to_string(),
        })
        .collect();
    if words.is_empty() {
        field.to_string()
    } else {
        words.join(" · ")
    }
}

fn field(form: &UiForm, k: &str) -> Option<String> {
    form.get(k).map(str::trim).filter(|v| !v.is_empty()).map(str::to_string)
}

fn amount(form: &UiForm, k: &str) -> String {
    field(form, k).unwrap_or_else(|| "0".into())
}

fn version(form: &UiForm) -> i64 {
    form.get("version").and_then(|v| v.parse().ok()).unwrap_or(0)
}

fn status_of(res: &mut Response, err: &Option<DomainError>) {
    if let Some(e) = err {
        *res.status_mut() = crate::web::ui::status_and_code(e).0;
    }
}

// ---- the years ----

#[derive(Template)]
#[template(path = "salesplan_list.html")]
struct ListPage {
    l: Layout,
    items: Vec<SalesPlanItem>,
    may_draft: bool,
    next_year: i32,
}

async fn list(State(s): State<AppState>, ui: UiCtx) -> Response {
    match plan::list(&s.app.db, &ui.ctx.caller).await {
        Ok(items) => {
            let l = Layout::new(&ui, "sales_plans", ui.lang.t("sales_plan.title"));
            use chrono::Datelike;
            render(&ListPage {
                l,
                items,
                may_draft: plan::may_draft(&ui.ctx.caller),
                next_year: ui.ctx.caller.day().year() + 1,
            })
        }
        Err(e) => fail_page(&ui, e),
    }
}

// ---- the draft's form ----

#[derive(Template)]
#[template(path = "salesplan_edit.html")]
struct EditPage {
    l: Layout,
    /// None: a new plan (the year is a field).
    year: Option<i32>,
    months: Vec<String>,
    regions: Vec<(String, String)>,
    users: Vec<(String, String)>,
    action_rows: usize,
    version: i64,
    typed: Typed,
    errors: Vec<String>,
}

async fn edit_page(
    s: &AppState,
    ui: &UiCtx,
    year: Option<i32>,
    typed: Option<Typed>,
    err: Option<DomainError>,
) -> Response {
    let caller = &ui.ctx.caller;
    if !plan::may_draft(caller) {
        return fail_page(ui, DomainError::Forbidden);
    }
    let (mut typed, version, shown_year) = match (year, typed) {
        (Some(y), t) => match plan::get(&s.app.db, caller, y).await {
            Ok(v) => {
                let version = v.version;
                (t.unwrap_or_else(|| typed_of(&v)), version, y)
            }
            Err(e) => return fail_page(ui, e),
        },
        (None, t) => {
            let t = t.unwrap_or_default();
            use chrono::Datelike;
            let y = t.val("year").parse().unwrap_or(caller.day().year() + 1);
            (t, 0, y)
        }
    };
    let regions = {
        let mut conn = match s.app.db.pool.acquire().await {
            Ok(c) => c,
            Err(e) => return fail_page(ui, e.into()),
        };
        match plan::regions(&mut conn).await {
            Ok(r) => r.into_iter().map(|(_, c, n)| (c, n)).collect(),
            Err(e) => return fail_page(ui, e),
        }
    };
    let users = match crate::app::people::users::list(&s.app.db).await {
        Ok(us) => {
            us.into_iter().filter(|u| u.active && !u.role.is_admin()).map(|u| (u.username, u.display_name)).collect()
        }
        Err(e) => return fail_page(ui, e),
    };
    let title = match year {
        Some(y) => format!("{} · {y}", ui.lang.t("sales_plan.edit")),
        None => ui.lang.t("sales_plan.new"),
    };
    let l = Layout::new(ui, "sales_plans", title);
    let errors = err.as_ref().map(|e| refusal(&l, e, &mut typed, &[])).unwrap_or_default();
    let filled = (0..100).take_while(|i| !typed.val(&format!("actions[{i}].action")).is_empty()).count();
    let mut res = render(&EditPage {
        l,
        year,
        months: plan::months(shown_year),
        regions,
        users,
        action_rows: filled + 3,
        version,
        typed,
        errors,
    });
    status_of(&mut res, &err);
    res
}

/// The form's values of a saved plan.
fn typed_of(v: &SalesPlanView) -> Typed {
    let mut t = Typed::default();
    let ms = plan::months(v.year);
    for r in &v.targets {
        for (i, m) in ms.iter().enumerate() {
            t.set(format!("targets.{}.months.{m}.revenue", r.region), r.revenue.get(i).cloned().unwrap_or_default());
            t.set(format!("targets.{}.months.{m}.profit", r.region), r.profit.get(i).cloned().unwrap_or_default());
        }
    }
    for (k, val) in
        [("budget", &v.budget), ("people", &v.people), ("organisation", &v.organisation), ("systems", &v.systems)]
    {
        t.set(k.into(), val.clone().unwrap_or_default());
    }
    for (i, a) in v.actions.iter().enumerate() {
        t.set(format!("actions[{i}].action"), a.action.clone());
        t.set(format!("actions[{i}].owner"), a.owner.clone().unwrap_or_default());
        t.set(format!("actions[{i}].due"), a.due.clone());
    }
    t
}

/// The plan's body from the form: a region whose months are all blank is left out; a blank
/// month of a region given is 0; a blank action row is left out.
async fn body_of(s: &AppState, form: &UiForm, year: i32) -> Result<SalesPlanIn, DomainError> {
    let regions = {
        let mut conn = s.app.db.pool.acquire().await?;
        plan::regions(&mut conn).await?
    };
    let ms = plan::months(year);
    let mut targets = vec![];
    for (_, code, _) in regions {
        let key = |m: &str, k: &str| format!("targets.{code}.months.{m}.{k}");
        if ms.iter().all(|m| field(form, &key(m, "revenue")).is_none() && field(form, &key(m, "profit")).is_none()) {
            continue;
        }
        targets.push(RegionTargetsIn {
            revenue: ms.iter().map(|m| amount(form, &key(m, "revenue"))).collect(),
            profit: ms.iter().map(|m| amount(form, &key(m, "profit"))).collect(),
            region: code,
        });
    }
    let mut actions = vec![];
    for i in 0..100 {
        let a = field(form, &format!("actions[{i}].action"));
        let o = field(form, &format!("actions[{i}].owner"));
        let d = field(form, &format!("actions[{i}].due"));
        if a.is_none() && o.is_none() && d.is_none() {
            if form.get(&format!("actions[{i}].action")).is_none() {
                break;
            }
            continue;
        }
        actions.push(PlanActionIn { action: a, owner: o, due: d });
    }
    Ok(SalesPlanIn {
        targets,
        budget: field(form, "budget"),
        people: field(form, "people"),
        organisation: field(form, "organisation"),
        systems: field(form, "systems"),
        actions,
        version: Some(version(form)),
    })
}

async fn new_form(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = query_pairs(raw);
    let mut t = Typed::default();
    if let Some(y) = q(&p, "year") {
        t.set("year".into(), y.to_string());
    }
    edit_page(&s, &ui, None, Some(t), None).await
}

async fn create(State(s): State<AppState>, form: UiForm) -> Response {
    let ui = &form.ui;
    let Some(year) = field(&form, "year").and_then(|y| y.parse::<i32>().ok()) else {
        let e = DomainError::invalid("year", "year_range");
        return edit_page(&s, ui, None, Some(Typed::of(&form)), Some(e)).await;
    };
    let res = match body_of(&s, &form, year).await {
        Ok(inp) => plan::create(&s.app.db, &ui.ctx, year, &inp).await,
        Err(e) => Err(e),
    };
    match res {
        Ok(v) => Redirect::to(&with_flash(&format!("/sales-plans/{}", v.year), "saved")).into_response(),
        Err(e @ (DomainError::NotFound | DomainError::Forbidden)) => fail_page(ui, e),
        Err(e) => edit_page(&s, ui, None, Some(Typed::of(&form)), Some(e)).await,
    }
}

async fn edit_form(State(s): State<AppState>, ui: UiCtx, Path(year): Path<String>) -> Response {
    match year_of(&year) {
        Ok(y) => edit_page(&s, &ui, Some(y), None, None).await,
        Err(e) => fail_page(&ui, e),
    }
}

async fn update(State(s): State<AppState>, Path(year): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let year = match year_of(&year) {
        Ok(y) => y,
        Err(e) => return fail_page(ui, e),
    };
    let res = match body_of(&s, &form, year).await {
        Ok(inp) => plan::update(&s.app.db, &ui.ctx, year, &inp).await,
        Err(e) => Err(e),
    };
    match res {
        Ok(_) => Redirect::to(&with_flash(&format!("/sales-plans/{year}"), "saved")).into_response(),
        Err(e @ (DomainError::NotFound | DomainError::Forbidden)) => fail_page(ui, e),
        Err(e) => edit_page(&s, ui, Some(year), Some(Typed::of(&form)), Some(e)).await,
    }
}

// ---- a year's plan ----

#[derive(Template)]
#[template(path = "salesplan.html")]
struct ShowPage {
    l: Layout,
    v: SalesPlanView,
    a: PlanAnalysis,
    typed: Typed,
    errors: Vec<String>,
}

async fn page(s: &AppState, ui: &UiCtx, year: i32, mut typed: Typed, err: Option<DomainError>) -> Response {
    let caller = &ui.ctx.caller;
    let v = match plan::get(&s.app.db, caller, year).await {
        Ok(v) => v,
        Err(e) => return fail_page(ui, e),
    };
    let a = match analysis::analyse(&s.app.db, caller, year).await {
        Ok(a) => a,
        Err(e) => return fail_page(ui, e),
    };
    let l = Layout::new(ui, "sales_plans", format!("{} · {year}", ui.lang.t("sales_plan.one")));
    let errors = err.as_ref().map(|e| refusal(&l, e, &mut typed, &[])).unwrap_or_default();
    let mut res = render(&ShowPage { l, v, a, typed, errors });
    status_of(&mut res, &err);
    res
}

async fn show(State(s): State<AppState>, ui: UiCtx, Path(year): Path<String>) -> Response {
    match year_of(&year) {
        Ok(y) => page(&s, &ui, y, Typed::default(), None).await,
        Err(e) => fail_page(&ui, e),
    }
}

async fn after(s: &AppState, form: &UiForm, year: i32, res: Result<SalesPlanView, DomainError>) -> Response {
    let ui = &form.ui;
    match res {
        Ok(_) => Redirect::to(&with_flash(&format!("/sales-plans/{year}"), "saved")).into_response(),
        Err(e @ (DomainError::NotFound | DomainError::Forbidden)) => fail_page(ui, e),
        Err(e) => page(s, ui, year, Typed::of(form), Some(e)).await,
    }
}

async fn submit(State(s): State<AppState>, Path(year): Path<String>, form: UiForm) -> Response {
    let year = match year_of(&year) {
        Ok(y) => y,
        Err(e) => return fail_page(&form.ui, e),
    };
    let res = plan::submit(&s.app.db, &form.ui.ctx, year, &PlanVersionIn { version: version(&form) }).await;
    after(&s, &form, year, res).await
}

async fn review(State(s): State<AppState>, Path(year): Path<String>, form: UiForm) -> Response {
    let year = match year_of(&year) {
        Ok(y) => y,
        Err(e) => return fail_page(&form.ui, e),
    };
    let inp = PlanReviewIn {
        decision: field(&form, "decision").unwrap_or_else(|| "approve".into()),
        comment: field(&form, "comment"),
    };
    let res = plan::review(&s.app.db, &form.ui.ctx, year, &inp).await;
    after(&s, &form, year, res).await
}

// ---- the decomposition ----

#[derive(Template)]
#[template(path = "salesplan_split.html")]
struct SplitPage {
    l: Layout,
    v: SplitView,
    typed: Typed,
    errors: Vec<String>,
}

fn typed_of_split(v: &SplitView) -> Typed {
    let mut t = Typed::default();
    for r in &v.regions {
        for tm in &r.teams {
            for (i, m) in v.months.iter().enumerate() {
                let p = format!("regions.{}.teams.{}", r.region, tm.team);
                t.set(format!("{p}.months.{m}.revenue"), tm.revenue.get(i).cloned().unwrap_or_default());
                t.set(format!("{p}.months.{m}.profit"), tm.profit.get(i).cloned().unwrap_or_default());
                for pe in &tm.people {
                    let pp = format!("{p}.people.{}", pe.user);
                    t.set(format!("{pp}.months.{m}.revenue"), pe.revenue.get(i).cloned().unwrap_or_default());
                    t.set(format!("{pp}.months.{m}.profit"), pe.profit.get(i).cloned().unwrap_or_default());
                }
            }
        }
    }
    t
}

async fn split_page(
    s: &AppState,
    ui: &UiCtx,
    year: i32,
    typed: Option<Typed>,
    err: Option<DomainError>,
    gaps: &[split::SplitGap],
) -> Response {
    let v = match split::get(&s.app.db, &ui.ctx.caller, year).await {
        Ok(v) => v,
        Err(e) => return fail_page(ui, e),
    };
    let mut typed = typed.unwrap_or_else(|| typed_of_split(&v));
    let l = Layout::new(ui, "sales_plans", format!("{} · {year}", ui.lang.t("sales_plan.split")));
    let errors = err.as_ref().map(|e| refusal(&l, e, &mut typed, gaps)).unwrap_or_default();
    let mut res = render(&SplitPage { l, v, typed, errors });
    status_of(&mut res, &err);
    res
}

async fn split_form(State(s): State<AppState>, ui: UiCtx, Path(year): Path<String>) -> Response {
    match year_of(&year) {
        Ok(y) => split_page(&s, &ui, y, None, None, &[]).await,
        Err(e) => fail_page(&ui, e),
    }
}

async fn save_split(State(s): State<AppState>, Path(year): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let year = match year_of(&year) {
        Ok(y) => y,
        Err(e) => return fail_page(ui, e),
    };
    // The structure shown (regions, teams, people) with the amounts typed.
    let shown = match split::get(&s.app.db, &ui.ctx.caller, year).await {
        Ok(v) => v,
        Err(e) => return fail_page(ui, e),
    };
    let ms = &shown.months;
    let twelve = |p: &str, k: &str| -> Vec<String> {
        ms.iter().map(|m| amount(&form, &format!("{p}.months.{m}.{k}"))).collect()
    };
    let inp = SplitIn {
        regions: shown
            .regions
            .iter()
            .map(|r| RegionSplitIn {
                region: r.region.clone(),
                teams: r
                    .teams
                    .iter()
                    .map(|tm| {
                        let p = format!("regions.{}.teams.{}", r.region, tm.team);
                        TeamSplitIn {
                            team: tm.team.clone(),
                            revenue: twelve(&p, "revenue"),
                            profit: twelve(&p, "profit"),
                            people: tm
                                .people
                                .iter()
                                .map(|pe| {
                                    let pp = format!("{p}.people.{}", pe.user);
                                    PersonSplitIn {
                                        user: pe.user.clone(),
                                        revenue: twelve(&pp, "revenue"),
                                        profit: twelve(&pp, "profit"),
                                    }
                                })
                                .collect(),
                        }
                    })
                    .collect(),
            })
            .collect(),
        version: version(&form),
    };
    match split::save(&s.app.db, &ui.ctx, year, &inp).await {
        Ok(_) => Redirect::to(&with_flash(&format!("/sales-plans/{year}/split"), "saved")).into_response(),
        Err(e @ (DomainError::NotFound | DomainError::Forbidden)) => fail_page(ui, e),
        Err(e) => {
            // A failed read is the page's failure, never a form without its gaps.
            let gaps = match split::gaps_of(&s.app.db, year, &inp).await {
                Ok(g) => g,
                Err(e) => return fail_page(ui, e),
            };
            split_page(&s, ui, year, Some(Typed::of(&form)), Some(e), &gaps).await
        }
    }
}

// ---- plan against actual ----

#[derive(Template)]
#[template(path = "salesplan_tracking.html")]
struct TrackingPage {
    l: Layout,
    t: PlanTracking,
    ratings: &'static [&'static str],
    typed: Typed,
    errors: Vec<String>,
}

async fn tracking_view(
    s: &AppState,
    ui: &UiCtx,
    year: i32,
    typed: Option<Typed>,
    err: Option<DomainError>,
) -> Response {
    let t = match tracking::tracking(&s.app.db, &ui.ctx.caller, year).await {
        Ok(t) => t,
        Err(e) => return fail_page(ui, e),
    };
    let mut typed = typed.unwrap_or_else(|| {
        let mut ty = Typed::default();
        for a in &t.appraisal {
            ty.set(format!("regions.{}.rating", a.region), a.rating.clone());
            ty.set(format!("regions.{}.text", a.region), a.text.clone());
        }
        ty
    });
    let l = Layout::new(ui, "sales_plans", format!("{} · {year}", ui.lang.t("sales_plan.tracking")));
    let errors = err.as_ref().map(|e| refusal(&l, e, &mut typed, &[])).unwrap_or_default();
    let mut res = render(&TrackingPage { l, t, ratings: RATINGS, typed, errors });
    status_of(&mut res, &err);
    res
}

async fn tracking_page(State(s): State<AppState>, ui: UiCtx, Path(year): Path<String>) -> Response {
    match year_of(&year) {
        Ok(y) => tracking_view(&s, &ui, y, None, None).await,
        Err(e) => fail_page(&ui, e),
    }
}

async fn tracking_export(
    State(s): State<AppState>,
    ui: UiCtx,
    Path(year): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let year = match year_of(&year) {
        Ok(y) => y,
        Err(e) => return fail_page(&ui, e),
    };
    let p = query_pairs(raw);
    let format = if q(&p, "format") == Some("csv") { "csv" } else { "xlsx" };
    let t = match tracking::tracking(&s.app.db, &ui.ctx.caller, year).await {
        Ok(t) => t,
        Err(e) => return fail_page(&ui, e),
    };
    match crate::web::ui::export_download(&s.app.db, &ui, &tracking::table(&t), format, "sales_plan_tracking").await {
        Ok(r) => r,
        Err(e) => fail_page(&ui, e),
    }
}

async fn appraise(State(s): State<AppState>, Path(year): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let year = match year_of(&year) {
        Ok(y) => y,
        Err(e) => return fail_page(ui, e),
    };
    let t = match tracking::tracking(&s.app.db, &ui.ctx.caller, year).await {
        Ok(t) => t,
        Err(e) => return fail_page(ui, e),
    };
    let regions = t
        .regions
        .iter()
        .filter(|r| {
            field(&form, &format!("regions.{}.rating", r.region)).is_some()
                || field(&form, &format!("regions.{}.text", r.region)).is_some()
        })
        .map(|r| PlanAppraisalIn {
            region: r.region.clone(),
            rating: field(&form, &format!("regions.{}.rating", r.region)),
            text: field(&form, &format!("regions.{}.text", r.region)),
        })
        .collect();
    match tracking::appraise(&s.app.db, &ui.ctx, year, &PlanAppraisalsIn { regions, version: version(&form) }).await {
        Ok(_) => Redirect::to(&with_flash(&format!("/sales-plans/{year}/tracking"), "saved")).into_response(),
        Err(e @ (DomainError::NotFound | DomainError::Forbidden)) => fail_page(ui, e),
        Err(e) => tracking_view(&s, ui, year, Some(Typed::of(&form)), Some(e)).await,
    }
}

// ---- the approval request's panel ----

/// The plan an `annual_plan` request asks about, whole: the targets by region with their totals
/// and the months over all regions, the resource and action plans.
pub(crate) fn panel(l: &Layout, v: SalesPlanView) -> SubjectPanel {
    let row = |k: &str, val: String| PanelRow {
        label: l.t(k),
        value: if val.is_empty() { "—".into() } else { val },
        changed: false,
    };
    let mut groups = vec![PanelGroup {
        heading: l.t("sales_plan.resources"),
        rows: vec![
            row("sales_plan.f_budget", v.budget.clone().unwrap_or_default()),
            row("sales_plan.f_people_plan", v.people.clone().unwrap_or_default()),
            row("sales_plan.f_organisation", v.organisation.clone().unwrap_or_default()),
            row("sales_plan.f_systems", v.systems.clone().unwrap_or_default()),
        ],
    }];
    groups.push(PanelGroup {
        heading: l.t("sales_plan.months"),
        rows: v
            .months
            .iter()
            .map(|m| PanelRow {
                label: m.month.clone(),
                value: format!(
                    "{} {} · {} {}",
                    l.t("sales_plan.f_revenue"),
                    l.money(Some(&m.revenue)),
                    l.t("sales_plan.f_profit"),
                    l.money(Some(&m.profit))
                ),
                changed: false,
            })
            .collect(),
    });
    if !v.actions.is_empty() {
        groups.push(PanelGroup {
            heading: l.t("sales_plan.actions"),
            rows: v
                .actions
                .iter()
                .map(|a| PanelRow {
                    label: a.due.clone(),
                    value: match &a.owner_name {
                        Some(n) => format!("{} · {n}", a.action),
                        None => a.action.clone(),
                    },
                    changed: false,
                })
                .collect(),
        });
    }
    let head = vec![l.t("sales_plan.f_region"), l.t("sales_plan.f_revenue"), l.t("sales_plan.f_profit")];
    let rows = v
        .targets
        .iter()
        .map(|t| (vec![t.region_name.clone(), l.money(Some(&t.revenue_total)), l.money(Some(&t.profit_total))], false))
        .collect();
    let foot = vec![l.t("sales_plan.total"), l.money(Some(&v.revenue_total)), l.money(Some(&v.profit_total))];
    SubjectPanel {
        title: format!("{} · {} · v{}", l.t("sales_plan.one"), v.year, v.revision),
        note: Some(l.unit_note()),
        groups,
        table: Some(PanelTable { heading: l.t("sales_plan.targets"), head, rows, foot }),
        facts_title: l.t("sales_plan.one"),
        facts: vec![(l.t("sales_plan.state"), l.e("sales_plan_state", &v.state))],
        facts_href: Some((format!("/sales-plans/{}", v.year), l.t("sales_plan.open"))),
        facts_hidden: false,
    }
}
