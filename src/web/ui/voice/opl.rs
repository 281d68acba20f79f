//! The open-points list's pages: the list with its filters, an item with its reviews and the
//! review form, the reviews due for the caller, the monthly report (page, A4 print, XLSX).
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::app::voice::opl::{self, OplFilter, OplItem, OplReport, OplReviewInput, OplView};
use crate::domain::DomainError;
use crate::web::api::contract::XLSX;
use crate::web::api::{id_of, q, query_pairs};
use crate::web::auth::{UiCtx, UiForm};
use crate::web::ui::{enc, fail_page, render, Layout};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/opl", get(list))
        .route("/opl/new", post(create))
        .route("/opl/reviews", get(due))
        .route("/opl/report", get(report_page))
        .route("/opl/report/print", get(report_print))
        .route("/opl/report.xlsx", get(report_xlsx))
        .route("/opl/{id}", get(item))
        .route("/opl/{id}/review", post(review))
}

const PAGE: i64 = 50;

#[derive(Template)]
#[template(path = "opl_list.html")]
struct ListPage {
    l: Layout,
    items: Vec<OplItem>,
    total: i64,
    f_status: String,
    f_source: String,
    f_owner: String,
    f_account: String,
    f_due: bool,
    f_sort: String,
    prev: Option<String>,
    next: Option<String>,
    due_title: bool,
}

async fn list(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = query_pairs(raw);
    let f = |k: &str| q(&p, k).unwrap_or("").to_string();
    let offset: i64 = f("offset").parse().unwrap_or(0).max(0);
    let filter = OplFilter {
        account_id: f("account_id").parse().ok(),
        owner: q(&p, "owner").map(str::to_string),
        status: Some(q(&p, "status").unwrap_or("active").to_string()),
        source: q(&p, "source").map(str::to_string),
        review_due: Some(f("review_due") == "true"),
        sort: q(&p, "sort").map(str::to_string),
        limit: Some(PAGE),
        offset: Some(offset),
    };
    let r = match opl::list(&s.app.db, &ui.ctx.caller, &filter).await {
        Ok(r) => r,
        Err(e) => return fail_page(&ui, e),
    };
    let status = filter.status.clone().unwrap_or_default();
    let base = |o: i64| {
        format!(
            "/opl?{}",
            enc(&[
                ("status", &status),
                ("source", &f("source")),
                ("owner", &f("owner")),
                ("account_id", &f("account_id")),
                ("review_due", &f("review_due")),
                ("sort", &f("sort")),
                ("offset", &o.to_string()),
            ])
        )
    };
    let l = Layout::new(&ui, "opl", ui.lang.t("opl.title"));
    render(&ListPage {
        l,
        prev: (offset > 0).then(|| base((offset - PAGE).max(0))),
        next: (offset + PAGE < r.total).then(|| base(offset + PAGE)),
        items: r.items,
        total: r.total,
        f_status: status.clone(),
        f_source: f("source"),
        f_owner: f("owner"),
        f_account: f("account_id"),
        f_due: f("review_due") == "true",
        f_sort: f("sort"),
        due_title: false,
    })
}

async fn due(State(s): State<AppState>, ui: UiCtx) -> Response {
    let items = match opl::reviews_due(&s.app.db, &ui.ctx.caller).await {
        Ok(r) => r,
        Err(e) => return fail_page(&ui, e),
    };
    let l = Layout::new(&ui, "opl_reviews", ui.lang.t("opl.reviews_title"));
    render(&ListPage {
        l,
        total: items.len() as i64,
        items,
        f_status: String::new(),
        f_source: String::new(),
        f_owner: String::new(),
        f_account: String::new(),
        f_due: true,
        f_sort: String::new(),
        prev: None,
        next: None,
        due_title: true,
    })
}

async fn create(State(s): State<AppState>, form: UiForm) -> Response {
    let ui = &form.ui;
    let get = |k: &str| form.get(k).unwrap_or("").trim().to_string();
    let input = opl::OplInput {
        account_id: get("account_id").parse().unwrap_or(0),
        title: get("title"),
        detail: Some(get("detail")).filter(|d| !d.is_empty()),
        due_on: Some(get("due_on")).filter(|d| !d.is_empty()),
    };
    match opl::raise(&s.app.db, &ui.ctx, &input).await {
        Ok(id) => Redirect::to(&crate::web::ui::forms::with_flash(&format!("/opl/{id}"), "saved")).into_response(),
        Err(e) => fail_page(ui, e),
    }
}

#[derive(Template)]
#[template(path = "opl_item.html")]
struct ItemPage {
    l: Layout,
    v: OplView,
    errors: Vec<String>,
    progress: String,
    status: String,
    due_on: String,
}

async fn item_page(s: &AppState, ui: &UiCtx, id: &str, typed: Option<(OplReviewInput, DomainError)>) -> Response {
    let v = match opl::get(
        &s.app.db,
        &ui.ctx.caller,
        match id_of(id) {
            Ok(i) => i,
            Err(e) => return fail_page(ui, e),
        },
    )
    .await
    {
        Ok(v) => v,
        Err(e) => return fail_page(ui, e),
    };
    let l = Layout::new(ui, "opl", format!("{} · {}", ui.lang.t("opl.item"), v.item.title));
    let (errors, progress, status, due_on, code) = match typed {
        Some((inp, DomainError::Invalid(fs))) => (
            fs.iter()
                .map(|f| format!("{}: {}", ui.lang.t(&format!("field.{}", f.field)), ui.lang.msg("invalid", f.code)))
                .collect(),
            inp.progress,
            inp.status,
            inp.due_on.unwrap_or_default(),
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Some((inp, e)) => {
            let (st, c) = crate::web::error::status_and_code(&e);
            (vec![ui.lang.msg("err", c)], inp.progress, inp.status, inp.due_on.unwrap_or_default(), st)
        }
        None => (
            vec![],
            String::new(),
            v.item.status.clone(),
            v.item.due_on.clone().unwrap_or_default(),
            axum::http::StatusCode::OK,
        ),
    };
    let mut r = render(&ItemPage { l, v, errors, progress, status, due_on });
    *r.status_mut() = code;
    r
}

async fn item(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    item_page(&s, &ui, &id, None).await
}

async fn review(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let get = |k: &str| form.get(k).unwrap_or("").trim().to_string();
    let inp = OplReviewInput {
        progress: get("progress"),
        status: get("status"),
        due_on: Some(get("due_on")).filter(|d| !d.is_empty()),
        version: get("version").parse().unwrap_or(0),
    };
    let Ok(n) = id_of(&id) else { return fail_page(ui, DomainError::NotFound) };
    match opl::review(&s.app.db, &ui.ctx, n, &inp).await {
        Ok(_) => Redirect::to(&crate::web::ui::forms::with_flash(&format!("/opl/{n}"), "saved")).into_response(),
        Err(e @ (DomainError::NotFound | DomainError::Forbidden)) => fail_page(ui, e),
        Err(e) => item_page(&s, ui, &id, Some((inp, e))).await,
    }
}

#[derive(Template)]
#[template(path = "opl_report.html")]
struct ReportPage {
    l: Layout,
    r: OplReport,
}

#[derive(Template)]
#[template(path = "opl_report_print.html")]
struct ReportPrint {
    l: Layout,
    r: OplReport,
}

async fn load_report(s: &AppState, ui: &UiCtx, raw: Option<String>) -> Result<OplReport, DomainError> {
    let p = query_pairs(raw);
    opl::report(&s.app.db, &ui.ctx.caller, q(&p, "month")).await
}

async fn report_page(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    match load_report(&s, &ui, raw).await {
        Ok(r) => {
            let l = Layout::new(&ui, "opl_report", format!("{} · {}", ui.lang.t("opl.report_title"), r.month));
            render(&ReportPage { l, r })
        }
        Err(e) => fail_page(&ui, e),
    }
}

async fn report_print(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    match load_report(&s, &ui, raw).await {
        Ok(r) => {
            let l = Layout::new(&ui, "opl_report", format!("{} · {}", ui.lang.t("opl.report_title"), r.month));
            render(&ReportPrint { l, r })
        }
        Err(e) => fail_page(&ui, e),
    }
}

async fn report_xlsx(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let r = match load_report(&s, &ui, raw).await {
        Ok(r) => r,
        Err(e) => return fail_page(&ui, e),
    };
    match opl::report_xlsx(&r, &crate::web::api::voice::opl::report_labels(ui.lang)) {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, XLSX.to_string()),
                (header::CONTENT_DISPOSITION, crate::web::api::attachment(&format!("opl_{}.xlsx", r.month))),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => fail_page(&ui, e),
    }
}
