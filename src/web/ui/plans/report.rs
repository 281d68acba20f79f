//! The six-monthly progress report's pages (issue 23 item 6): the report for a half-year with
//! its filters, its printed form (A4) and its XLSX. Everything goes through
//! `app::plans::report`.
use askama::Template;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use crate::app::plans::report::{self, Filter, Report};
use crate::domain::DomainError;
use crate::web::api::{q, query_pairs};
use crate::web::auth::UiCtx;
use crate::web::ui::{enc, fail_page, render, Layout, Load, Section};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/plans/report", get(page))
        .route("/plans/report/print", get(print))
        .route("/plans/report.xlsx", get(xlsx))
}

fn filter_of(p: &[(String, String)]) -> Filter {
    let v = |k: &str| q(p, k).map(str::to_string);
    Filter { region: v("region"), tier: v("tier"), owner: v("owner") }
}

fn half_of(ui: &UiCtx, p: &[(String, String)]) -> String {
    q(p, "half").map(str::to_string).unwrap_or_else(|| report::current_half(&ui.ctx.caller))
}

/// The halves to pick from: two years back to next year's, latest first.
fn halves(ui: &UiCtx) -> Vec<String> {
    use chrono::Datelike;
    let y = ui.ctx.caller.day().year();
    (y - 2..=y + 1).rev().flat_map(|y| [format!("{y}-H2"), format!("{y}-H1")]).collect()
}

#[derive(Template)]
#[template(path = "plan_report.html")]
struct ReportPage {
    l: Layout,
    r: Report,
    halves: Vec<String>,
    f_region: String,
    f_tier: String,
    f_owner: String,
    regions: Section<Vec<(String, String)>>,
    owners: Section<Vec<(String, String)>>,
    /// The query string of the half and filters (for the print and XLSX links).
    qs: String,
}

async fn page(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = query_pairs(raw);
    let half = half_of(&ui, &p);
    let r = match report::report(&s.app.db, &ui.ctx.caller, &half, &filter_of(&p)).await {
        Ok(r) => r,
        Err(e) => return fail_page(&ui, e),
    };
    let l = Layout::new(&ui, "plan_report", format!("{} · {}", ui.lang.t("plan_report.title"), r.half));
    let regions = crate::app::people::org::list(&s.app.db)
        .await
        .section("plan report", "regions")
        .map(|us| us.into_iter().filter(|o| o.kind == "region").map(|o| (o.code, o.name)).collect());
    let owners = crate::app::people::users::list(&s.app.db).await.section("plan report", "owners").map(|us| {
        let mut v: Vec<(String, String)> =
            us.into_iter().filter(|u| u.role.works_accounts()).map(|u| (u.username, u.display_name)).collect();
        v.sort_by_cached_key(|(_, n)| crate::domain::pinyin::sort_key(n));
        v
    });
    let f = |k: &str| q(&p, k).unwrap_or("").to_string();
    let qs = enc(&[("half", r.half.as_str()), ("region", &f("region")), ("tier", &f("tier")), ("owner", &f("owner"))]);
    render(&ReportPage {
        halves: halves(&ui),
        f_region: f("region"),
        f_tier: f("tier"),
        f_owner: f("owner"),
        regions,
        owners,
        qs,
        r,
        l,
    })
}

#[derive(Template)]
#[template(path = "plan_report_print.html")]
struct PrintPage {
    l: Layout,
    r: Report,
    company: crate::app::quotes::quotes::Company,
    today: String,
    qs: String,
}

async fn print(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = query_pairs(raw);
    let half = half_of(&ui, &p);
    let res = async {
        let r = report::report(&s.app.db, &ui.ctx.caller, &half, &filter_of(&p)).await?;
        let company = crate::app::quotes::quotes::company(&s.app.db).await?;
        Ok::<_, DomainError>((r, company))
    }
    .await;
    match res {
        Ok((r, company)) => {
            let l = Layout::new(&ui, "plan_report", format!("{} · {}", ui.lang.t("plan_report.title"), r.half));
            let f = |k: &str| q(&p, k).unwrap_or("").to_string();
            let qs = enc(&[
                ("half", r.half.as_str()),
                ("region", &f("region")),
                ("tier", &f("tier")),
                ("owner", &f("owner")),
            ]);
            render(&PrintPage { l, r, company, today: ui.ctx.caller.today(), qs })
        }
        Err(e) => fail_page(&ui, e),
    }
}

async fn xlsx(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = query_pairs(raw);
    let half = half_of(&ui, &p);
    let res = async {
        let r = report::report(&s.app.db, &ui.ctx.caller, &half, &filter_of(&p)).await?;
        let mut t = report::table(&r, &ui.lang.t("plan_report.total"));
        // The phase as a person reads it.
        if let Some(i) = t.keys.iter().position(|k| *k == "plan_phase") {
            for row in t.rows.iter_mut() {
                if let Some(c) = row.get_mut(i).filter(|c| !c.is_empty()) {
                    let key = format!("plan.phase.{c}");
                    let label = ui.lang.t(&key);
                    if !label.ends_with(&key) {
                        *c = label;
                    }
                }
            }
        }
        crate::web::ui::export_download(&s.app.db, &ui, &t, "xlsx", "plan_report").await
    }
    .await;
    res.unwrap_or_else(|e| fail_page(&ui, e))
}
