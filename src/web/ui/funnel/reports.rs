//! Report pages that are not the funnel's own: sales progress and pipeline by region, the
//! monthly order forecast, and the CSV/XLSX export of every report (headers in the user's
//! language). The figures come from `app::reports` and the use cases it builds on.
use askama::Template;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::app::funnel::opportunities::{self as opps, FunnelQuery};
use crate::app::funnel::reports::{self, Monthly, RegionsReport};
use crate::app::spreadsheets::export::Table;
use crate::domain::money::parse_fen;
use crate::web::api::{q, query_pairs};
use crate::web::auth::UiCtx;
use crate::web::ui::{fail_page, render, Layout};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/reports/regions", get(regions_page))
        .route("/reports/monthly", get(monthly_page))
        .route("/reports/{report}/export", get(export))
}

/// A bar of a chart: its label, value text and width (0–360 px) and top.
struct Bar {
    label: String,
    value: String,
    width: i64,
    y: i64,
    class: &'static str,
}

fn width(v: i64, max: i64) -> i64 {
    if max > 0 {
        ((v.max(0) as i128 * 360) / max as i128) as i64
    } else {
        0
    }
}

#[derive(Template)]
#[template(path = "regions.html")]
struct RegionsPage {
    l: Layout,
    r: RegionsReport,
    stages: Vec<&'static str>,
    bars: Vec<Bar>,
    height: i64,
}

async fn regions_page(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = query_pairs(raw);
    let r = match reports::regions(&s.app.db, &ui.ctx.caller, q(&p, "period")).await {
        Ok(r) => r,
        Err(e) => return fail_page(&ui, e),
    };
    let l = Layout::new(&ui, "regions", ui.lang.t("reports.regions.title"));
    // Per region: booked against quota, and the weighted pipeline, on one scale.
    let fen = |v: Option<&String>| v.and_then(|v| parse_fen(v).ok()).unwrap_or(0);
    let max = r
        .regions
        .iter()
        .flat_map(|g| {
            let p = g.progress.as_ref();
            [fen(p.and_then(|f| f.quota.as_ref())), fen(p.map(|f| &f.booked)), fen(Some(&g.weighted_pipeline))]
        })
        .max()
        .unwrap_or(0);
    let mut bars = vec![];
    for g in &r.regions {
        let name = if g.name.is_empty() { l.t("reports.regions.none") } else { g.name.clone() };
        let p = g.progress.as_ref();
        for (key, class, v) in [
            ("field.quota", "quota", p.and_then(|f| f.quota.as_ref())),
            ("field.booked", "booked", p.map(|f| &f.booked)),
            ("field.weighted_pipeline", "weighted", Some(&g.weighted_pipeline)),
        ] {
            let y = bars.len() as i64 * 22;
            bars.push(Bar {
                label: format!("{name} · {}", l.t(key)),
                value: l.compact(v),
                width: width(fen(v), max),
                y,
                class,
            });
        }
    }
    render(&RegionsPage {
        height: bars.len() as i64 * 22 + 4,
        bars,
        stages: crate::domain::opportunity::Stage::ALL.iter().map(|s| s.code()).collect(),
        r,
        l,
    })
}

#[derive(Template)]
#[template(path = "monthly.html")]
struct MonthlyPage {
    l: Layout,
    m: Monthly,
    owner: String,
    bars: Vec<Bar>,
    height: i64,
}

async fn monthly_page(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = crate::web::ui::pick::people_in(&s.app.db, query_pairs(raw), &["owner"]).await;
    let owner = q(&p, "owner").unwrap_or("").to_string();
    let m = match reports::monthly(&s.app.db, &ui.ctx.caller, Some(&owner)).await {
        Ok(m) => m,
        Err(e) => return fail_page(&ui, e),
    };
    let l = Layout::new(&ui, "monthly", ui.lang.t("reports.monthly.title"));
    let fen = |v: &String| parse_fen(v).unwrap_or(0);
    let max = m.months.iter().flat_map(|r| [fen(&r.booked), fen(&r.pipeline)]).max().unwrap_or(0);
    let mut bars = vec![];
    for r in &m.months {
        for (key, class, v) in [
            ("field.booked", "booked", &r.booked),
            ("field.pipeline", "quota", &r.pipeline),
            ("field.weighted_pipeline", "weighted", &r.weighted_pipeline),
        ] {
            let y = bars.len() as i64 * 22;
            bars.push(Bar {
                label: format!("{} · {}", r.month, l.t(key)),
                value: l.compact(Some(v)),
                width: width(fen(v), max),
                y,
                class,
            });
        }
    }
    render(&MonthlyPage { height: bars.len() as i64 * 22 + 4, bars, m, owner, l })
}

/// `/reports/{funnel|v-value|forecast|regions|monthly}/export?format=csv|xlsx&…`: the report
/// with the same filters as its page, as a download.
async fn export(
    State(s): State<AppState>,
    ui: UiCtx,
    axum::extract::Path(report): axum::extract::Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let p = query_pairs(raw);
    let (db, caller) = (&s.app.db, &ui.ctx.caller);
    let table: Result<Table, crate::domain::DomainError> = async {
        Ok(match report.as_str() {
            "funnel" => {
                let fq = FunnelQuery {
                    as_of: q(&p, "as_of").map(str::to_string),
                    owner: q(&p, "owner").map(str::to_string),
                    org: q(&p, "org").map(str::to_string),
                };
                let mut t = reports::funnel_table(&opps::funnel(db, caller, &fq).await?);
                // Stages by their names in the user's language.
                for row in &mut t.rows {
                    row[0] = ui.lang.t(&format!("stage.{}", row[0]));
                }
                t
            }
            "v-value" => {
                reports::v_value_table(&crate::app::funnel::quotas::v_report(db, caller, q(&p, "period"), None).await?)
            }
            "forecast" => {
                reports::forecast_table(&crate::app::funnel::forecasts::report(db, caller, q(&p, "owner")).await?)
            }
            "regions" => reports::regions_table(&reports::regions(db, caller, q(&p, "period")).await?),
            "monthly" => reports::monthly_table(&reports::monthly(db, caller, q(&p, "owner")).await?),
            "rad" | "coverage" | "service-standards" => {
                use crate::app::classification::classify_views as clv;
                let scope =
                    clv::Scope { org: q(&p, "org").map(str::to_string), owner: q(&p, "owner").map(str::to_string) };
                match report.as_str() {
                    "rad" => clv::rad_table(&clv::rad(db, caller, &scope).await?),
                    "coverage" => clv::coverage_table(&clv::coverage(db, caller, &scope, q(&p, "period")).await?),
                    _ => {
                        let mut t = clv::service_table(
                            &clv::service(db, caller, &scope, q(&p, "tier"), q(&p, "standard")).await?,
                        );
                        // Tiers and standards by their names in the user's language.
                        for row in &mut t.rows {
                            row[3] = ui.lang.t(&format!("tier.{}", row[3]));
                            row[4] = ui.lang.t(&format!("svc.{}", row[4]));
                        }
                        t
                    }
                }
            }
            _ => return Err(crate::domain::DomainError::NotFound),
        })
    }
    .await;
    let res = match table {
        Ok(t) => crate::web::ui::export_download(&s.app.db, &ui, &t, q(&p, "format").unwrap_or("csv"), &report).await,
        Err(e) => Err(e),
    };
    match res {
        Ok(r) => r.into_response(),
        Err(e) => fail_page(&ui, e),
    }
}
