//! The sales-credit split's pages (issue 25 item 7): attainment by org unit and month (KA
//! teams and branches credited, regions and headquarters counting each order once), the split
//! setting's form and its history, and the KA department's virtual profit centre, each year's
//! tables downloadable as XLSX or CSV. Every rule is `app::attainment`'s.
use std::collections::HashMap;

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use chrono::Datelike;

use crate::app::attainment::credits::{self, Attainment, ProfitCentre};
use crate::app::attainment::split::{self, CreditSplitIn, CreditSplitView};
use crate::domain::DomainError;
use crate::web::api::{q, query_pairs};
use crate::web::auth::{UiCtx, UiForm};
use crate::web::ui::forms::with_flash;
use crate::web::ui::{fail_page, render, Layout};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/attainment", get(attainment_page))
        .route("/attainment/export", get(attainment_export))
        .route("/attainment/split", get(split_form).post(split_save))
        .route("/attainment/profit-centre", get(profit_centre_page))
        .route("/attainment/profit-centre/export", get(profit_centre_export))
}

/// A form's fields as typed, and the refusal's messages by field.
#[derive(Default)]
pub struct Typed {
    values: HashMap<String, String>,
    field_errors: HashMap<String, String>,
}

impl Typed {
    pub fn val(&self, k: &str) -> &str {
        self.values.get(k).map(String::as_str).unwrap_or("")
    }
    pub fn err(&self, k: &str) -> Option<&str> {
        self.field_errors.get(k).map(String::as_str)
    }
}

fn year_of(ui: &UiCtx, p: &[(String, String)]) -> i32 {
    q(p, "year")
        .and_then(|y| y.parse::<i32>().ok())
        .filter(|y| (2000..=2100).contains(y))
        .unwrap_or_else(|| ui.ctx.caller.day().year())
}

fn format_of(p: &[(String, String)]) -> &'static str {
    if q(p, "format") == Some("csv") {
        "csv"
    } else {
        "xlsx"
    }
}

// ---- attainment ----

#[derive(Template)]
#[template(path = "attainment_units.html")]
struct AttainmentPage {
    l: Layout,
    a: Attainment,
    unit: String,
    units: Vec<(String, String)>,
    sees_all: bool,
}

impl AttainmentPage {
    fn side(&self, side: &str) -> &Vec<credits::UnitAttainment> {
        if side == "ka_team" {
            &self.a.teams
        } else {
            &self.a.branches
        }
    }
}

async fn attainment_page(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = query_pairs(raw);
    let year = year_of(&ui, &p);
    let unit = q(&p, "unit").unwrap_or("").trim().to_string();
    match credits::attainment(&s.app.db, &ui.ctx.caller, year, Some(unit.as_str())).await {
        Ok(a) => {
            let units = match credits::units_seen(&s.app.db, &ui.ctx.caller).await {
                Ok(u) => u,
                Err(e) => return fail_page(&ui, e),
            };
            let l = Layout::new(&ui, "attainment", format!("{} · {year}", ui.lang.t("attainment.title")));
            render(&AttainmentPage { l, a, unit, units, sees_all: credits::sees_all(&ui.ctx.caller) })
        }
        Err(e) => fail_page(&ui, e),
    }
}

async fn attainment_export(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = query_pairs(raw);
    let year = year_of(&ui, &p);
    let a = match credits::attainment(&s.app.db, &ui.ctx.caller, year, q(&p, "unit")).await {
        Ok(a) => a,
        Err(e) => return fail_page(&ui, e),
    };
    match crate::web::ui::export_download(&s.app.db, &ui, &credits::attainment_table(&a), format_of(&p), "attainment")
        .await
    {
        Ok(r) => r,
        Err(e) => fail_page(&ui, e),
    }
}

// ---- the split ----

#[derive(Template)]
#[template(path = "attainment_split.html")]
struct SplitPage {
    l: Layout,
    v: CreditSplitView,
    typed: Typed,
    errors: Vec<String>,
}

async fn split_view(s: &AppState, ui: &UiCtx, typed: Option<Typed>, err: Option<DomainError>) -> Response {
    let v = match split::get(&s.app.db, &ui.ctx.caller).await {
        Ok(v) => v,
        Err(e) => return fail_page(ui, e),
    };
    let mut typed = typed.unwrap_or_else(|| {
        let mut t = Typed::default();
        t.values.insert("team_share".into(), v.team_share.clone());
        t.values.insert("branch_share".into(), v.branch_share.clone());
        t.values.insert("note".into(), v.note.clone().unwrap_or_default());
        t
    });
    let l = Layout::new(ui, "attainment", ui.lang.t("attainment.split_title"));
    let mut errors = vec![];
    if let Some(e) = &err {
        match e {
            DomainError::Invalid(fs) => {
                for f in fs {
                    let msg = l.lang.msg("invalid", f.code);
                    errors.push(format!("{}: {msg}", l.t(&format!("attainment.f_{}", f.field))));
                    typed.field_errors.insert(f.field.clone(), msg);
                }
            }
            other => errors = crate::web::ui::error_lines(&l, other),
        }
    }
    let mut res = render(&SplitPage { l, v, typed, errors });
    if let Some(e) = &err {
        *res.status_mut() = crate::web::ui::status_and_code(e).0;
    }
    res
}

async fn split_form(State(s): State<AppState>, ui: UiCtx) -> Response {
    split_view(&s, &ui, None, None).await
}

async fn split_save(State(s): State<AppState>, form: UiForm) -> Response {
    let ui = &form.ui;
    let get = |k: &str| form.get(k).map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
    let inp = CreditSplitIn {
        team_share: get("team_share").map(|v| v.trim_end_matches('%').to_string()),
        branch_share: get("branch_share").map(|v| v.trim_end_matches('%').to_string()),
        note: get("note"),
        version: form.get("version").and_then(|v| v.parse().ok()).unwrap_or(0),
    };
    match split::set(&s.app.db, &ui.ctx, &inp).await {
        Ok(_) => Redirect::to(&with_flash("/attainment/split", "saved")).into_response(),
        Err(e @ DomainError::Forbidden) => fail_page(ui, e),
        Err(e) => {
            let typed = Typed { values: form.fields.iter().cloned().collect(), field_errors: HashMap::new() };
            split_view(&s, ui, Some(typed), Some(e)).await
        }
    }
}

// ---- the profit centre ----

#[derive(Template)]
#[template(path = "attainment_profit_centre.html")]
struct ProfitCentrePage {
    l: Layout,
    p: ProfitCentre,
}

async fn profit_centre_page(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = query_pairs(raw);
    let year = year_of(&ui, &p);
    match credits::profit_centre(&s.app.db, &ui.ctx.caller, year).await {
        Ok(p) => {
            let l = Layout::new(&ui, "attainment", format!("{} · {year}", ui.lang.t("attainment.pc_title")));
            render(&ProfitCentrePage { l, p })
        }
        Err(e) => fail_page(&ui, e),
    }
}

async fn profit_centre_export(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = query_pairs(raw);
    let year = year_of(&ui, &p);
    let pc = match credits::profit_centre(&s.app.db, &ui.ctx.caller, year).await {
        Ok(p) => p,
        Err(e) => return fail_page(&ui, e),
    };
    match crate::web::ui::export_download(
        &s.app.db,
        &ui,
        &credits::profit_centre_table(&pc),
        format_of(&p),
        "profit_centre",
    )
    .await
    {
        Ok(r) => r,
        Err(e) => fail_page(&ui, e),
    }
}
