//! The planning year's pages (issue 23 item 3): the planning calendar of a year — every key
//! account in scope with its plan's phase, owner, tier, dates, next review and reviewer, late
//! plans marked, filtered, sorted, paged and exported — with the year's calendar (set by the
//! KA director and those above); an account's priorities and reviewer; the plan settings.
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

use crate::app::plans::calendar::{
    self, PlanCalendarFilter, PlanCalendarIn, PlanCalendarRow, PlanCalendarView, PlanSettingsIn,
};
use crate::app::Page;
use crate::domain::account_plan::Cadence;
use crate::domain::DomainError;
use crate::web::api::{id_of, q, query_pairs};
use crate::web::auth::{UiCtx, UiForm};
use crate::web::ui::forms::with_flash;
use crate::web::ui::{fail_page, render, Layout};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/plans/calendar", get(list))
        .route("/plans/calendar/{year}", axum::routing::post(save_calendar))
        .route("/plans/calendar/{year}/accounts/{id}", get(priorities_form).post(save_priorities))
        .route("/settings/plans", get(settings_page).post(save_settings))
}

fn field(form: &UiForm, k: &str) -> String {
    form.get(k).map(str::trim).unwrap_or_default().to_string()
}

fn year_of(s: &str) -> Result<i32, DomainError> {
    s.trim().parse::<i32>().ok().filter(|y| (2000..=2100).contains(y)).ok_or(DomainError::NotFound)
}

// ---- the planning calendar ----

#[derive(Template)]
#[template(path = "plan_calendar.html")]
struct CalendarPage {
    l: Layout,
    year: i32,
    cal: PlanCalendarView,
    page: Page<PlanCalendarRow>,
    /// The filter as given (phase, tier, region, late, q, sort).
    f_phase: String,
    f_tier: String,
    f_region: String,
    f_late: bool,
    f_q: String,
    f_sort: String,
    /// The query string of the filter (for the next page and the export).
    query: String,
    phases: Vec<&'static str>,
    tiers: Vec<&'static str>,
    /// The sort keys and their labels.
    sorts: Vec<(&'static str, &'static str)>,
    /// The calendar form as typed (after a refused save) and its errors.
    form: PlanCalendarIn,
    errors: Vec<String>,
}

fn form_of(c: &PlanCalendarView) -> PlanCalendarIn {
    PlanCalendarIn {
        prepare_from: c.prepare_from.clone(),
        draft_from: c.draft_from.clone(),
        draft_due: c.draft_due.clone(),
        review_due: c.review_due.clone(),
        execute_from: c.execute_from.clone(),
        priorities: c.priorities.clone(),
        guidelines: c.guidelines.clone(),
        version: c.version,
    }
}

async fn calendar_page(
    s: &AppState,
    ui: &UiCtx,
    pairs: &[(String, String)],
    year: Option<i32>,
    typed: Option<PlanCalendarIn>,
    err: Option<DomainError>,
) -> Response {
    let g = |k: &str| q(pairs, k).map(str::trim).unwrap_or("").to_string();
    let year = match year {
        Some(y) => y,
        None => match g("year").as_str() {
            "" => crate::web::api::plans::calendar::default_year(ui.ctx.caller.day()),
            y => match year_of(y) {
                Ok(y) => y,
                Err(e) => return fail_page(ui, e),
            },
        },
    };
    let opt = |k: &str| Some(g(k)).filter(|v| !v.is_empty());
    let f = PlanCalendarFilter {
        phase: opt("phase"),
        tier: opt("tier"),
        region: opt("region"),
        late: g("late") == "1" || g("late") == "true",
        q: opt("q"),
        sort: opt("sort"),
        cursor: opt("cursor"),
        limit: None,
    };
    let res = async {
        let cal = calendar::calendar(&s.app.db, &ui.ctx.caller, year).await?;
        let page = calendar::rows(&s.app.db, &ui.ctx.caller, year, &f).await?;
        Ok::<_, DomainError>((cal, page))
    }
    .await;
    let (cal, page) = match res {
        Ok(x) => x,
        Err(e) => return fail_page(ui, e),
    };
    let l = Layout::new(ui, "plans", format!("{} · {year}", ui.lang.t("plan_cal.title")));
    let status = err.as_ref().map(|e| crate::web::ui::status_and_code(e).0);
    let errors = err
        .map(|e| match e {
            DomainError::Invalid(fs) => fs
                .iter()
                .map(|x| format!("{}: {}", l.t(&format!("plan_cal.{}", x.field)), l.lang.msg("invalid", x.code)))
                .collect(),
            other => crate::web::ui::error_lines(&l, &other),
        })
        .unwrap_or_default();
    let (y, late) = (year.to_string(), if f.late { "1" } else { "" });
    let (phase, tier, region, qq, sort) = (g("phase"), g("tier"), g("region"), g("q"), g("sort"));
    let query = crate::web::ui::enc(&[
        ("year", y.as_str()),
        ("phase", phase.as_str()),
        ("tier", tier.as_str()),
        ("region", region.as_str()),
        ("late", late),
        ("q", qq.as_str()),
        ("sort", sort.as_str()),
    ]);
    let form = typed.unwrap_or_else(|| form_of(&cal));
    let mut res = render(&CalendarPage {
        l,
        year,
        cal,
        page,
        f_phase: g("phase"),
        f_tier: g("tier"),
        f_region: g("region"),
        f_late: f.late,
        f_q: g("q"),
        f_sort: g("sort"),
        query,
        phases: vec!["not_started", "preparation", "drafting", "review", "execution"],
        tiers: crate::domain::classify::TIERS.to_vec(),
        sorts: vec![
            ("name", "plan_cal.account"),
            ("next_review", "plan_cal.next_review"),
            ("phase", "plan_cal.phase"),
            ("tier", "plan_cal.tier"),
            ("owner", "plan_cal.owner"),
        ],
        form,
        errors,
    });
    if let Some(st) = status {
        *res.status_mut() = st;
    }
    res
}

async fn list(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    calendar_page(&s, &ui, &query_pairs(raw), None, None, None).await
}

async fn save_calendar(State(s): State<AppState>, Path(year): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let year = match year_of(&year) {
        Ok(y) => y,
        Err(e) => return fail_page(ui, e),
    };
    let opt = |k: &str| Some(field(&form, k)).filter(|v| !v.is_empty());
    let inp = PlanCalendarIn {
        prepare_from: field(&form, "prepare_from"),
        draft_from: field(&form, "draft_from"),
        draft_due: field(&form, "draft_due"),
        review_due: field(&form, "review_due"),
        execute_from: field(&form, "execute_from"),
        priorities: opt("priorities"),
        guidelines: opt("guidelines"),
        version: field(&form, "version").parse().unwrap_or(0),
    };
    match calendar::set_calendar(&s.app.db, &ui.ctx, year, &inp).await {
        Ok(_) => Redirect::to(&with_flash(&format!("/plans/calendar?year={year}"), "saved")).into_response(),
        Err(e @ (DomainError::NotFound | DomainError::Forbidden)) => fail_page(ui, e),
        Err(e) => calendar_page(&s, ui, &[], Some(year), Some(inp), Some(e)).await,
    }
}

// ---- an account's priorities ----

#[derive(Template)]
#[template(path = "plan_calendar_priorities.html")]
struct PrioritiesPage {
    l: Layout,
    year: i32,
    account_id: i64,
    account_name: String,
    plan_id: Option<i64>,
    priorities: String,
    reviewer: String,
    errors: Vec<String>,
}

async fn priorities_page(
    s: &AppState,
    ui: &UiCtx,
    year: i32,
    account_id: i64,
    typed: Option<(String, String)>,
    err: Option<DomainError>,
) -> Response {
    let res = async {
        let a = crate::app::customers::accounts::get(&s.app.db, &ui.ctx.caller, account_id).await?;
        let mut conn = s.app.db.pool.acquire().await?;
        let plan_id = crate::app::plans::plans::id_of(&mut conn, account_id, year).await?;
        let plan = match plan_id {
            Some(id) => Some(crate::app::plans::plans::load_in(&mut conn, &ui.ctx.caller, id).await?),
            None => None,
        };
        let reviewer = match plan.as_ref().and_then(|p| p.reviewer_id) {
            Some(id) => sqlx::query("SELECT COALESCE(display_name, username) AS n FROM users WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?
                .map(|r| sqlx::Row::try_get::<String, _>(&r, "n"))
                .transpose()?,
            None => None,
        };
        Ok::<_, DomainError>((a, plan, reviewer))
    }
    .await;
    let (a, plan, reviewer) = match res {
        Ok(x) => x,
        Err(e) => return fail_page(ui, e),
    };
    if !calendar::may_plan(ui.ctx.caller.role) {
        return fail_page(ui, DomainError::Forbidden);
    }
    let l = Layout::new(ui, "plans", format!("{} · {} {year}", ui.lang.t("plan_cal.priorities"), a.name));
    let status = err.as_ref().map(|e| crate::web::ui::status_and_code(e).0);
    let errors = err.map(|e| crate::web::ui::error_lines(&l, &e)).unwrap_or_default();
    let (priorities, reviewer) = typed.unwrap_or_else(|| {
        (plan.as_ref().and_then(|p| p.priorities.clone()).unwrap_or_default(), reviewer.unwrap_or_default())
    });
    let mut res = render(&PrioritiesPage {
        l,
        year,
        account_id,
        account_name: a.name.clone(),
        plan_id: plan.map(|p| p.id),
        priorities,
        reviewer,
        errors,
    });
    if let Some(st) = status {
        *res.status_mut() = st;
    }
    res
}

async fn priorities_form(State(s): State<AppState>, ui: UiCtx, Path((year, id)): Path<(String, String)>) -> Response {
    match (year_of(&year), id_of(&id)) {
        (Ok(y), Ok(id)) => priorities_page(&s, &ui, y, id, None, None).await,
        (Err(e), _) | (_, Err(e)) => fail_page(&ui, e),
    }
}

async fn save_priorities(
    State(s): State<AppState>,
    Path((year, id)): Path<(String, String)>,
    form: UiForm,
) -> Response {
    let ui = &form.ui;
    let (year, id) = match (year_of(&year), id_of(&id)) {
        (Ok(y), Ok(id)) => (y, id),
        (Err(e), _) | (_, Err(e)) => return fail_page(ui, e),
    };
    let priorities = field(&form, "priorities");
    let typed_reviewer = field(&form, "reviewer");
    // The reviewer is picked by name (or username); what names nobody is refused by the use case.
    let reviewer = match typed_reviewer.as_str() {
        "" => None,
        r => Some(crate::app::people::directory::username_of(&s.app.db, r).await.unwrap_or_else(|_| r.to_string())),
    };
    let p = Some(priorities.as_str()).filter(|p| !p.is_empty());
    match calendar::set_account_priorities(&s.app.db, &ui.ctx, id, year, p, reviewer.as_deref()).await {
        Ok(_) => Redirect::to(&with_flash(&format!("/plans/calendar?year={year}"), "saved")).into_response(),
        Err(e @ (DomainError::NotFound | DomainError::Forbidden)) => fail_page(ui, e),
        Err(e) => priorities_page(&s, ui, year, id, Some((priorities, typed_reviewer)), Some(e)).await,
    }
}

// ---- the plan settings ----

#[derive(Template)]
#[template(path = "plan_settings.html")]
struct SettingsPage {
    l: Layout,
    /// Each tier with its cadence and whether the report covers it.
    tiers: Vec<(&'static str, String, bool)>,
    cadences: Vec<&'static str>,
    lead_days: String,
    version: i64,
    is_default: bool,
    may_edit: bool,
    errors: Vec<String>,
}

async fn settings_view(s: &AppState, ui: &UiCtx, typed: Option<SettingsTyped>, err: Option<DomainError>) -> Response {
    let v = match calendar::load_settings(&s.app.db).await {
        Ok(v) => v,
        Err(e) => return fail_page(ui, e),
    };
    let l = Layout::new(ui, "plan_settings", ui.lang.t("plan_settings.title"));
    let status = err.as_ref().map(|e| crate::web::ui::status_and_code(e).0);
    let errors = err
        .map(|e| match e {
            DomainError::Invalid(fs) => fs
                .iter()
                .map(|x| format!("{}: {}", l.t(&format!("plan_settings.{}", x.field)), l.lang.msg("invalid", x.code)))
                .collect(),
            other => crate::web::ui::error_lines(&l, &other),
        })
        .unwrap_or_default();
    let t = typed.unwrap_or_else(|| SettingsTyped {
        cadences: [v.strategic, v.a, v.b, v.c].iter().map(|c| c.code().to_string()).collect(),
        lead_days: v.lead_days.to_string(),
        report_tiers: v.report_tiers.clone(),
    });
    let mut res = render(&SettingsPage {
        l,
        tiers: crate::domain::classify::TIERS
            .iter()
            .copied()
            .zip(t.cadences)
            .map(|(tier, c)| (tier, c, t.report_tiers.iter().any(|r| r == tier)))
            .collect(),
        cadences: Cadence::ALL.iter().map(|c| c.code()).collect(),
        lead_days: t.lead_days,
        version: v.version,
        is_default: v.is_default,
        may_edit: calendar::may_edit_settings(ui.ctx.caller.role),
        errors,
    });
    if let Some(st) = status {
        *res.status_mut() = st;
    }
    res
}

struct SettingsTyped {
    cadences: Vec<String>,
    lead_days: String,
    report_tiers: Vec<String>,
}

async fn settings_page(State(s): State<AppState>, ui: UiCtx) -> Response {
    settings_view(&s, &ui, None, None).await
}

async fn save_settings(State(s): State<AppState>, form: UiForm) -> Response {
    let ui = &form.ui;
    let tiers = crate::domain::classify::TIERS;
    let cadences: Vec<String> = tiers.iter().map(|t| field(&form, &format!("cadence_{t}"))).collect();
    let report_tiers: Vec<String> =
        tiers.iter().filter(|t| form.get(&format!("report_{t}")).is_some()).map(|t| t.to_string()).collect();
    let typed = SettingsTyped { cadences: cadences.clone(), lead_days: field(&form, "lead_days"), report_tiers };
    let mut e = crate::domain::error::Errors::default();
    let mut cad = |i: usize| e.take(&format!("cadence_{}", tiers[i]), Cadence::parse(&cadences[i]));
    let (a0, a1, a2, a3) = (cad(0), cad(1), cad(2), cad(3));
    let lead_days = e.take("lead_days", typed.lead_days.parse::<i64>().map_err(|_| "expected_integer"));
    let (Some(strategic), Some(a), Some(b), Some(c), Some(lead_days)) = (a0, a1, a2, a3, lead_days) else {
        let err = e.finish().err();
        return settings_view(&s, ui, Some(typed), err).await;
    };
    let inp = PlanSettingsIn {
        strategic,
        a,
        b,
        c,
        lead_days,
        report_tiers: typed.report_tiers.clone(),
        version: field(&form, "version").parse().unwrap_or(0),
    };
    match calendar::save_settings(&s.app.db, &ui.ctx, &inp).await {
        Ok(_) => Redirect::to(&with_flash("/settings/plans", "saved")).into_response(),
        Err(e @ (DomainError::NotFound | DomainError::Forbidden)) => fail_page(ui, e),
        Err(e) => settings_view(&s, ui, Some(typed), Some(e)).await,
    }
}
