//! Candidates by rule on the pages (issue 22 item 7): the candidate list of those who decide
//! screenings with its filters, paging, export and the proposal of a candidate, and the
//! identification criteria's settings page. Every change goes through
//! `app::classification::candidates`.
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::app::classification::candidates::{self as cand, CandidateRow, CriteriaIn, CriteriaView, Filter, ProposeIn};
use crate::domain::account::Industry;
use crate::domain::DomainError;
use crate::web::api::{id_of, person_download, q, query_pairs};
use crate::web::auth::{UiCtx, UiForm};
use crate::web::ui::forms::with_flash;
use crate::web::ui::{fail_page, render, Layout};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/candidates", get(list))
        .route("/candidates/export.xlsx", get(export))
        .route("/candidates/{id}/propose", post(propose))
        .route("/settings/candidate-criteria", get(settings).post(save_settings))
}

fn text(form: &UiForm, k: &str) -> Option<String> {
    form.get(k).map(str::trim).filter(|v| !v.is_empty()).map(str::to_string)
}

#[derive(Template)]
#[template(path = "candidates.html")]
struct ListPage {
    l: Layout,
    items: Vec<CandidateRow>,
    next: Option<String>,
    /// The filters as given, and the query string of the export link.
    industry: String,
    org: String,
    status: String,
    sort: String,
    query: String,
    industries: Vec<&'static str>,
    orgs: Vec<(String, String)>,
    criteria: CriteriaView,
    errors: Vec<String>,
}

fn filter_of(p: &[(String, String)]) -> Filter {
    Filter {
        industry: q(p, "industry").map(str::to_string),
        org: q(p, "org").map(str::to_string),
        status: q(p, "status").map(str::to_string),
        sort: q(p, "sort").map(str::to_string),
        cursor: q(p, "cursor").map(str::to_string),
        limit: None,
    }
}

async fn list_page(s: &AppState, ui: &UiCtx, p: Vec<(String, String)>, err: Option<DomainError>) -> Response {
    let f = filter_of(&p);
    let res = async {
        let page = cand::list(&s.app.db, &ui.ctx.caller, &f).await?;
        let criteria = cand::load(&s.app.db).await?;
        let units = crate::app::people::org::list(&s.app.db).await?;
        Ok::<_, DomainError>((page, criteria, units))
    }
    .await;
    let (page, criteria, units) = match res {
        Ok(v) => v,
        Err(e) => return fail_page(ui, e),
    };
    let l = Layout::new(ui, "candidates", ui.lang.t("cand.title"));
    let status = err.as_ref().map(|e| crate::web::ui::status_and_code(e).0);
    let errors = err.map(|e| crate::web::ui::error_lines(&l, &e)).unwrap_or_default();
    let keep: Vec<(String, String)> =
        p.iter().filter(|(k, v)| k != "cursor" && !v.is_empty()).map(|(k, v)| (k.clone(), v.clone())).collect();
    let query = serde_urlencoded::to_string(&keep).unwrap_or_default();
    let next = page.next_cursor.map(|c| {
        let mut with = keep.clone();
        with.push(("cursor".into(), c));
        serde_urlencoded::to_string(&with).unwrap_or_default()
    });
    let mut res = render(&ListPage {
        l,
        items: page.items,
        next,
        industry: f.industry.unwrap_or_default(),
        org: f.org.unwrap_or_default(),
        status: f.status.unwrap_or_default(),
        sort: f.sort.unwrap_or_default(),
        query,
        industries: Industry::ALL.iter().map(|i| i.code()).collect(),
        orgs: crate::web::ui::pick::org_options(&units),
        criteria,
        errors,
    });
    if let Some(st) = status {
        *res.status_mut() = st;
    }
    res
}

async fn list(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    list_page(&s, &ui, query_pairs(raw), None).await
}

async fn export(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let f = Filter { cursor: None, ..filter_of(&query_pairs(raw)) };
    match cand::export_rows(&s.app.db, &ui.ctx.caller, &f).await {
        Ok(rows) => person_download(&cand::table(&rows), &ui.ctx.caller, ui.lang, "xlsx", "candidates")
            .unwrap_or_else(|e| fail_page(&ui, e)),
        Err(e) => fail_page(&ui, e),
    }
}

async fn propose(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    match cand::propose(&s.app.db, &ui.ctx, id, &ProposeIn { note: text(&form, "note") }).await {
        Ok(_) => Redirect::to(&with_flash(&format!("/accounts/{id}"), "saved")).into_response(),
        Err(e @ (DomainError::NotFound | DomainError::Forbidden)) => fail_page(ui, e),
        Err(e) => list_page(&s, ui, vec![], Some(e)).await,
    }
}

// ---------------------------------------------------------------------------------------------
// The criteria

#[derive(Template)]
#[template(path = "candidate_criteria.html")]
struct SettingsPage {
    l: Layout,
    c: CriteriaView,
    /// The form's values as shown (the criteria, or what was typed).
    min_buying_power: String,
    min_sales_12m: String,
    industries: Vec<(&'static str, bool)>,
    orgs: Vec<(String, String, bool)>,
    min_market_influence: String,
    min_loyalty: String,
    required: String,
    can_edit: bool,
    errors: Vec<String>,
}

/// The criteria's form as typed.
struct Typed {
    min_buying_power: String,
    min_sales_12m: String,
    industries: Vec<String>,
    regions: Vec<String>,
    min_market_influence: String,
    min_loyalty: String,
    required: String,
}

async fn settings_page(s: &AppState, ui: &UiCtx, typed: Option<Typed>, err: Option<DomainError>) -> Response {
    let res = async {
        let c = cand::load(&s.app.db).await?;
        let units = crate::app::people::org::list(&s.app.db).await?;
        Ok::<_, DomainError>((c, units))
    }
    .await;
    let (c, units) = match res {
        Ok(v) => v,
        Err(e) => return fail_page(ui, e),
    };
    let shown = |v: &Option<String>| v.clone().unwrap_or_default();
    let n = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    let t = typed.unwrap_or_else(|| Typed {
        min_buying_power: shown(&c.min_buying_power),
        min_sales_12m: shown(&c.min_sales_12m),
        industries: c.industries.clone(),
        regions: c.regions.clone(),
        min_market_influence: n(c.min_market_influence),
        min_loyalty: n(c.min_loyalty),
        required: c.required.to_string(),
    });
    let l = Layout::new(ui, "cand_settings", ui.lang.t("cand.criteria_title"));
    let status = err.as_ref().map(|e| crate::web::ui::status_and_code(e).0);
    let errors = err.map(|e| crate::web::ui::error_lines(&l, &e)).unwrap_or_default();
    let mut res = render(&SettingsPage {
        l,
        min_buying_power: t.min_buying_power,
        min_sales_12m: t.min_sales_12m,
        industries: Industry::ALL.iter().map(|i| (i.code(), t.industries.iter().any(|x| x == i.code()))).collect(),
        orgs: crate::web::ui::pick::org_options(&units)
            .into_iter()
            .map(|(code, label)| {
                let on = t.regions.contains(&code);
                (code, label, on)
            })
            .collect(),
        min_market_influence: t.min_market_influence,
        min_loyalty: t.min_loyalty,
        required: t.required,
        can_edit: cand::may_edit(ui.ctx.caller.role),
        c,
        errors,
    });
    if let Some(st) = status {
        *res.status_mut() = st;
    }
    res
}

async fn settings(State(s): State<AppState>, ui: UiCtx) -> Response {
    settings_page(&s, &ui, None, None).await
}

async fn save_settings(State(s): State<AppState>, form: UiForm) -> Response {
    let ui = &form.ui;
    let all = |k: &str| {
        form.fields.iter().filter(|(n, v)| n == k && !v.trim().is_empty()).map(|(_, v)| v.trim().to_string()).collect()
    };
    let typed = Typed {
        min_buying_power: text(&form, "min_buying_power").unwrap_or_default(),
        min_sales_12m: text(&form, "min_sales_12m").unwrap_or_default(),
        industries: all("industries"),
        regions: all("regions"),
        min_market_influence: text(&form, "min_market_influence").unwrap_or_default(),
        min_loyalty: text(&form, "min_loyalty").unwrap_or_default(),
        required: text(&form, "required").unwrap_or_default(),
    };
    // Amounts as people type them (in their unit); scores and the count as whole numbers.
    let mut e = crate::domain::error::Errors::default();
    let mut money = |field: &str, v: &str| -> Option<String> {
        if v.is_empty() {
            return None;
        }
        e.take(field, crate::domain::money::parse_amount(v)).map(crate::domain::money::format_fen)
    };
    let min_buying_power = money("min_buying_power", &typed.min_buying_power);
    let min_sales_12m = money("min_sales_12m", &typed.min_sales_12m);
    let mut int = |field: &str, v: &str| -> Option<i64> {
        if v.is_empty() {
            return None;
        }
        e.take(field, v.parse::<i64>().map_err(|_| "expected_integer"))
    };
    let min_market_influence = int("min_market_influence", &typed.min_market_influence);
    let min_loyalty = int("min_loyalty", &typed.min_loyalty);
    let required = int("required", &typed.required).unwrap_or(0);
    if let Err(err) = e.finish() {
        return settings_page(&s, ui, Some(typed), Some(err)).await;
    }
    let inp = CriteriaIn {
        min_buying_power,
        min_sales_12m,
        industries: typed.industries.clone(),
        regions: typed.regions.clone(),
        min_market_influence,
        min_loyalty,
        required,
        version: text(&form, "version").and_then(|v| v.parse().ok()).unwrap_or(0),
    };
    match cand::save(&s.app.db, &ui.ctx, &inp).await {
        Ok(_) => Redirect::to(&with_flash("/settings/candidate-criteria", "saved")).into_response(),
        Err(e @ DomainError::Forbidden) => fail_page(ui, e),
        Err(e) => settings_page(&s, ui, Some(typed), Some(e)).await,
    }
}
