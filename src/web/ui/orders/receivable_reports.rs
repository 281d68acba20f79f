//! The receivables reports on the pages: the aging (帐龄) by account, owner, team, branch and
//! region with the DSO, each figure a link to its receivables list (/receivables, exportable);
//! the collection forecast by week with its bar chart; an account's statement (对账单) as a
//! printable A4 page and as XLSX. Everything is read through `app::orders::receivable_reports`.
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::header;
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use crate::app::orders::receivable_reports::{
    self as rr, AgingBy, AgingReport, CollectionForecast, DsoReport, Filter, Statement,
};
use crate::app::orders::receivables::ReceivableView;
use crate::domain::receivable::ReceivableState;
use crate::domain::DomainError;
use crate::web::api::{id_of, q, query_pairs};
use crate::web::auth::UiCtx;
use crate::web::ui::{enc, fail_page, render, Layout};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/reports/aging", get(aging))
        .route("/receivables", get(list))
        .route("/receivables/export.xlsx", get(|s, ui, q| export(s, ui, q, "xlsx")))
        .route("/receivables/export.csv", get(|s, ui, q| export(s, ui, q, "csv")))
        .route("/reports/collection-forecast", get(forecast))
        .route("/accounts/{id}/statement/print", get(statement_print))
        .route("/accounts/{id}/statement/xlsx", get(statement_xlsx))
}

fn today(ui: &UiCtx) -> chrono::NaiveDate {
    chrono::NaiveDate::parse_from_str(&ui.ctx.caller.today(), "%Y-%m-%d").unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// The aging report

#[derive(Template)]
#[template(path = "aging.html")]
struct AgingPage {
    l: Layout,
    r: AgingReport,
    by: &'static str,
    bys: Vec<&'static str>,
    dso: Option<DsoReport>,
    days: i64,
}

impl AgingPage {
    /// The receivables list a figure sums: the row's key (`None`: the total row) and the
    /// column (`None`: the row's total).
    fn href(&self, key: Option<&str>, bucket: Option<usize>) -> String {
        let b = bucket.map(|b| b.to_string()).unwrap_or_default();
        let mut p: Vec<(&str, &str)> = vec![("state", "open"), ("bucket", &b)];
        if let Some(k) = key {
            match (self.by, k) {
                ("account", k) => p.push(("account_id", k)),
                ("owner", k) => p.push(("owner", k)),
                (kind, "") => p.push(("outside", kind)),
                ("team", k) => p.push(("team", k)),
                (_, k) => p.push(("org", k)),
            }
        }
        format!("/receivables?{}", enc(&p))
    }
    fn label_of(&self, key: &str, label: &str) -> String {
        if key.is_empty() {
            self.l.t(&format!("rr.outside.{}", self.by))
        } else {
            label.to_string()
        }
    }
}

async fn aging(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = query_pairs(raw);
    let by = match AgingBy::parse(q(&p, "by").unwrap_or("account")) {
        Ok(b) => b,
        Err(c) => return fail_page(&ui, DomainError::invalid("by", c)),
    };
    let days = match q(&p, "days").map(|d| d.trim().parse::<i64>()) {
        None => rr::DSO_DAYS,
        Some(Ok(d)) => d,
        Some(Err(_)) => return fail_page(&ui, DomainError::invalid("days", "expected_integer")),
    };
    let t = today(&ui);
    let bounds = match crate::app::orders::policy::load(&s.app.db).await {
        Ok(p) => p.bounds(),
        Err(e) => return fail_page(&ui, e),
    };
    let r = match rr::aging(&s.app.db, &ui.ctx.caller, by, t, &bounds).await {
        Ok(r) => r,
        Err(e) => return fail_page(&ui, e),
    };
    let dso = match rr::dso(&s.app.db, &ui.ctx.caller, t, days).await {
        Ok(d) => Some(d),
        Err(e @ DomainError::Invalid(_)) => return fail_page(&ui, e),
        Err(_) => None,
    };
    let l = Layout::new(&ui, "aging", ui.lang.t("receivables.aging"));
    render(&AgingPage { l, r, by: by.code(), bys: AgingBy::ALL.iter().map(|b| b.code()).collect(), dso, days })
}

// ---------------------------------------------------------------------------------------------
// The receivables list

#[derive(Template)]
#[template(path = "receivable_list.html")]
struct ListPage {
    l: Layout,
    rows: Vec<ReceivableView>,
    /// The filter as typed, by field.
    v: Vec<(&'static str, String)>,
    states: Vec<&'static str>,
    buckets: Vec<(String, String)>,
    sorts: &'static [&'static str],
    orgs: Vec<(String, String)>,
    /// What the filter narrows to, in words (an account's name, a person's).
    narrowed: Vec<String>,
    next_href: Option<String>,
    base: String,
}

impl ListPage {
    fn fv(&self, k: &str) -> String {
        self.v.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()).unwrap_or_default()
    }
}

const KEYS: [&str; 11] =
    ["account_id", "owner", "team", "org", "outside", "bucket", "state", "due_from", "due_to", "sort", "limit"];

/// The filter, the values as typed by field, and the query again (without the cursor).
type Listed = (Filter, Vec<(&'static str, String)>, String);

fn filter_of(p: &[(String, String)]) -> Result<Listed, DomainError> {
    let v: Vec<(&'static str, String)> = KEYS.iter().map(|k| (*k, q(p, k).unwrap_or("").trim().to_string())).collect();
    let get = |k: &str| v.iter().find(|(n, _)| *n == k).map(|(_, x)| x.clone()).filter(|x| !x.is_empty());
    let int = |k: &str| -> Result<Option<i64>, DomainError> {
        get(k).map(|x| x.parse::<i64>().map_err(|_| DomainError::invalid(k, "expected_integer"))).transpose()
    };
    let f = Filter {
        account_id: int("account_id")?,
        owner: get("owner"),
        team: get("team"),
        org: get("org"),
        outside: get("outside"),
        bucket: int("bucket")?,
        state: get("state"),
        due_from: get("due_from"),
        due_to: get("due_to"),
        sort: get("sort"),
        cursor: q(p, "cursor").map(str::to_string),
        limit: int("limit")?,
    };
    let pairs: Vec<(&str, &str)> = v.iter().map(|(k, x)| (*k, x.as_str())).collect();
    Ok((f, v.clone(), enc(&pairs)))
}

async fn list(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = crate::web::ui::pick::people_in(&s.app.db, query_pairs(raw), &["owner", "team"]).await;
    let (f, v, base) = match filter_of(&p) {
        Ok(x) => x,
        Err(e) => return fail_page(&ui, e),
    };
    let t = today(&ui);
    let bounds = match crate::app::orders::policy::load(&s.app.db).await {
        Ok(p) => p.bounds(),
        Err(e) => return fail_page(&ui, e),
    };
    let page = match rr::list(&s.app.db, &ui.ctx.caller, &f, t, &bounds).await {
        Ok(p) => p,
        Err(e) => return fail_page(&ui, e),
    };
    let mut narrowed = vec![];
    if let Some(a) = f.account_id {
        match crate::app::customers::accounts::get(&s.app.db, &ui.ctx.caller, a).await {
            Ok(a) => narrowed.push(a.name),
            Err(e) => return fail_page(&ui, e),
        }
    }
    for u in [f.owner.as_deref(), f.team.as_deref()].into_iter().flatten() {
        let name: Option<String> = sqlx::query_scalar("SELECT display_name FROM users WHERE username = $1")
            .bind(u)
            .fetch_optional(&s.app.db.pool)
            .await
            .ok()
            .flatten();
        narrowed.push(name.unwrap_or_else(|| u.to_string()));
    }
    let mut buckets = vec![("0".to_string(), ui.lang.t("receivables.not_due"))];
    for (i, b) in crate::domain::receivable::bucket_labels(&bounds).into_iter().enumerate() {
        buckets.push(((i + 1).to_string(), format!("{b} {}", ui.lang.t("receivables.days"))));
    }
    let orgs = crate::app::people::org::list(&s.app.db)
        .await
        .map(|us| crate::web::ui::pick::org_options(&us))
        .unwrap_or_default();
    let l = Layout::new(&ui, "aging", ui.lang.t("rr.list_title"));
    render(&ListPage {
        l,
        rows: page.items,
        next_href: page.next_cursor.map(|c| format!("/receivables?{base}&cursor={c}")),
        v,
        states: ReceivableState::ALL.iter().map(|s| s.code()).collect(),
        buckets,
        sorts: rr::SORTS,
        orgs,
        narrowed,
        base,
    })
}

async fn export(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery, format: &str) -> Response {
    let p = crate::web::ui::pick::people_in(&s.app.db, query_pairs(raw), &["owner", "team"]).await;
    let res = async {
        let (f, _, _) = filter_of(&p)?;
        let bounds = crate::app::orders::policy::load(&s.app.db).await?.bounds();
        let rows = rr::export_rows(&s.app.db, &ui.ctx.caller, &f, today(&ui), &bounds).await?;
        crate::web::api::person_download(&rr::table(&rows), &ui.ctx.caller, ui.lang, format, "receivables")
    }
    .await;
    res.unwrap_or_else(|e| fail_page(&ui, e))
}

// ---------------------------------------------------------------------------------------------
// The collection forecast

#[derive(Template)]
#[template(path = "collection_forecast.html")]
struct ForecastPage {
    l: Layout,
    f: CollectionForecast,
    chart: String,
}

fn fen(s: &str) -> i64 {
    match s.strip_prefix('-') {
        Some(x) => -crate::domain::money::parse_fen(x).unwrap_or(0),
        None => crate::domain::money::parse_fen(s).unwrap_or(0),
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The forecast's totals as a bar chart: one bar per column (overdue first), labelled.
fn chart(l: &Layout, f: &CollectionForecast) -> String {
    use std::fmt::Write;
    let mut cols: Vec<(String, i64, &str)> = vec![(l.t("rr.overdue"), fen(&f.total.overdue), "overdue")];
    for (w, v) in f.weeks.iter().zip(&f.total.weeks) {
        cols.push((w.get(5..).unwrap_or(w).to_string(), fen(v), "week"));
    }
    let max = cols.iter().map(|c| c.1).max().unwrap_or(0).max(1);
    let (w, h, top, base) = (720, 240, 20, 200);
    let step = w / cols.len() as i64;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" id="forecast-chart" role="img" aria-labelledby="forecast-cap" width="{w}" height="{h}" viewBox="0 0 {w} {h}">"#
    );
    for (i, (label, v, class)) in cols.iter().enumerate() {
        let bh = (v.max(&0) * (base - top) / max).max(0);
        let x = i as i64 * step + 8;
        let fill = if *class == "overdue" { "#c0392b" } else { "#3b6ea5" };
        let _ = write!(
            svg,
            r#"<rect class="bar-{class}" x="{x}" y="{}" width="{}" height="{bh}" fill="{fill}"><title>{}</title></rect>"#,
            base - bh,
            step - 16,
            esc(&format!("{label}: ¥{}", crate::domain::money::compact_fen(*v)))
        );
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" font-size="11" text-anchor="middle">{}</text>"#,
            x + (step - 16) / 2,
            base - bh - 4,
            esc(&crate::domain::money::compact_fen(*v))
        );
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" font-size="11" text-anchor="middle">{}</text>"#,
            x + (step - 16) / 2,
            base + 16,
            esc(label)
        );
    }
    svg.push_str("</svg>");
    svg
}

async fn forecast(State(s): State<AppState>, ui: UiCtx) -> Response {
    match rr::forecast(&s.app.db, &ui.ctx.caller, today(&ui)).await {
        Ok(f) => {
            let l = Layout::new(&ui, "aging", ui.lang.t("rr.forecast_title"));
            let chart = chart(&l, &f);
            render(&ForecastPage { l, f, chart })
        }
        Err(e) => fail_page(&ui, e),
    }
}

// ---------------------------------------------------------------------------------------------
// The statement (对账单)

#[derive(Template)]
#[template(path = "statement_print.html")]
struct StatementPrint {
    l: Layout,
    st: Statement,
    company: crate::app::quotes::quotes::Company,
    today: String,
    period: String,
}

async fn statement_of(s: &AppState, ui: &UiCtx, id: &str, raw: Option<String>) -> Result<Statement, DomainError> {
    let p = query_pairs(raw);
    let t = today(ui);
    let (from, to) = rr::statement_period(q(&p, "from"), q(&p, "to"), t)?;
    rr::statement(&s.app.db, &ui.ctx.caller, id_of(id)?, from, to, t).await
}

async fn statement_print(
    State(s): State<AppState>,
    ui: UiCtx,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let res = async {
        let st = statement_of(&s, &ui, &id, raw).await?;
        let company = crate::app::quotes::quotes::company(&s.app.db).await?;
        Ok::<_, DomainError>((st, company))
    }
    .await;
    match res {
        Ok((st, company)) => {
            let l = Layout::new(&ui, "accounts", format!("{} · {}", ui.lang.t("rr.statement_doc"), st.account_name));
            let period = enc(&[("from", &st.from), ("to", &st.to)]);
            render(&StatementPrint { l, st, company, today: ui.ctx.caller.today(), period })
        }
        Err(e) => fail_page(&ui, e),
    }
}

async fn statement_xlsx(
    State(s): State<AppState>,
    ui: UiCtx,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let res = async {
        let st = statement_of(&s, &ui, &id, raw).await?;
        crate::web::api::person_download(&rr::statement_table(&st), &ui.ctx.caller, ui.lang, "xlsx", "statement")
    }
    .await;
    match res {
        Ok(mut r) => {
            r.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => fail_page(&ui, e),
    }
}
