//! The surveys' pages: the campaigns (open a quarter), a quarter's scores by question,
//! department, account and region with the trend over quarters (an SVG drawn here), the
//! quarterly report printed (A4) or as XLSX, and a one-time link made for a customer's contact.
use askama::Template;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::app::voice::surveys::{self, Avg, Campaign, NewLink, Scores};
use crate::domain::DomainError;
use crate::web::api::contract::XLSX;
use crate::web::api::id_of;
use crate::web::auth::{UiCtx, UiForm};
use crate::web::ui::{fail_page, render, Layout};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/surveys", get(list).post(open))
        .route("/surveys/{id}", get(page))
        .route("/surveys/{id}/print", get(print))
        .route("/surveys/{id}/report.xlsx", get(xlsx))
        .route("/surveys/{id}/link", post(link))
}

fn sections(ui: &UiCtx, s: &Scores) -> Vec<(String, Vec<Avg>)> {
    vec![
        (ui.lang.t("survey.question"), s.by_question.clone()),
        (ui.lang.t("survey.department"), s.by_department.clone()),
        (ui.lang.t("survey.account"), s.by_account.clone()),
        (ui.lang.t("survey.region"), s.by_region.clone()),
    ]
}

#[derive(Template)]
#[template(path = "survey_list.html")]
struct ListPage {
    l: Layout,
    campaigns: Vec<Campaign>,
    manages: bool,
    suggested: String,
    error: Option<String>,
}

async fn list_page(s: &AppState, ui: &UiCtx, error: Option<String>) -> Response {
    let campaigns = match surveys::campaigns(&s.app.db, &ui.ctx.caller).await {
        Ok(c) => c,
        Err(e) => return fail_page(ui, e),
    };
    let l = Layout::new(ui, "surveys", ui.lang.t("survey.title"));
    let status =
        if error.is_some() { axum::http::StatusCode::UNPROCESSABLE_ENTITY } else { axum::http::StatusCode::OK };
    let mut r = render(&ListPage {
        l,
        campaigns,
        manages: surveys::manages(&ui.ctx.caller),
        suggested: surveys::quarter_of(ui.ctx.caller.day()),
        error,
    });
    *r.status_mut() = status;
    r
}

async fn list(State(s): State<AppState>, ui: UiCtx) -> Response {
    list_page(&s, &ui, None).await
}

async fn open(State(s): State<AppState>, form: UiForm) -> Response {
    let ui = &form.ui;
    match surveys::open_campaign(&s.app.db, &ui.ctx, form.get("quarter").unwrap_or("")).await {
        Ok(id) => Redirect::to(&format!("/surveys/{id}")).into_response(),
        Err(DomainError::Invalid(fs)) => {
            let msg = fs
                .iter()
                .map(|f| format!("{}: {}", ui.lang.t("field.quarter"), ui.lang.msg("invalid", f.code)))
                .collect();
            list_page(&s, ui, Some(msg)).await
        }
        Err(e @ DomainError::Duplicate { .. }) => {
            let (_, c) = crate::web::error::status_and_code(&e);
            list_page(&s, ui, Some(format!("{}: {}", ui.lang.t("field.quarter"), ui.lang.msg("err", c)))).await
        }
        Err(e) => fail_page(ui, e),
    }
}

#[derive(Template)]
#[template(path = "survey_scores.html")]
struct ScoresPage {
    l: Layout,
    c: Campaign,
    s: Scores,
    svg: String,
    sections: Vec<(String, Vec<Avg>)>,
    link: Option<NewLink>,
    base_url: String,
    accounts: Vec<(i64, String)>,
    may_link: bool,
}

async fn load(s: &AppState, ui: &UiCtx, id: &str) -> Result<(Campaign, Scores, String), DomainError> {
    let id = id_of(id)?;
    let c = surveys::campaign(&s.app.db, id).await?;
    let sc = surveys::scores(&s.app.db, &ui.ctx.caller, id, None, ui.lang.code()).await?;
    let tr = surveys::trend(&s.app.db, &ui.ctx.caller, 8, None).await?;
    let labels: Vec<(String, String)> =
        surveys::DEPARTMENTS.iter().map(|d| (d.to_string(), ui.lang.t(&format!("survey.dept.{d}")))).collect();
    Ok((c, sc, surveys::trend_svg(&tr, &labels)))
}

async fn scores_page(s: &AppState, ui: &UiCtx, id: &str, link: Option<NewLink>) -> Response {
    let (c, sc, svg) = match load(s, ui, id).await {
        Ok(x) => x,
        Err(e) => return fail_page(ui, e),
    };
    let accounts = match key_accounts(s, ui).await {
        Ok(a) => a,
        Err(e) => return fail_page(ui, e),
    };
    let l = Layout::new(ui, "surveys", format!("{} · {}", ui.lang.t("survey.report_title"), c.quarter));
    let caller = &ui.ctx.caller;
    render(&ScoresPage {
        l,
        c,
        sections: sections(ui, &sc),
        s: sc,
        svg,
        link,
        base_url: s.app.settings.channels.base_url.clone(),
        accounts,
        may_link: caller.role.edits_accounts() || surveys::manages(caller),
    })
}

/// The key accounts in the caller's scope a survey asks (the first 500 by name): the choice of
/// the link and answer forms.
pub(super) async fn key_accounts(s: &AppState, ui: &UiCtx) -> Result<Vec<(i64, String)>, DomainError> {
    use sqlx::Row;
    let mut sq = crate::db::sql::Sql::new("SELECT a.id, a.name FROM accounts a WHERE a.status = 'key_account'");
    crate::app::customers::accounts::push_scope(&mut sq, &ui.ctx.caller);
    sq.push(" ORDER BY a.name LIMIT 500");
    let rows = sq.query().fetch_all(&s.app.db.pool).await.map_err(DomainError::from)?;
    rows.iter().map(|r| Ok((r.try_get::<i64, _>("id")?, r.try_get::<String, _>("name")?))).collect()
}

async fn page(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    scores_page(&s, &ui, &id, None).await
}

async fn link(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let Ok(cid) = id_of(&id) else { return fail_page(ui, DomainError::NotFound) };
    let account: i64 = form.get("account_id").unwrap_or("").parse().unwrap_or(0);
    let dept = form.get("department").unwrap_or("");
    match surveys::make_link(&s.app.db, &ui.ctx, cid, account, dept, form.get("respondent")).await {
        Ok(n) => scores_page(&s, ui, &id, Some(n)).await,
        Err(e) => fail_page(ui, e),
    }
}

#[derive(Template)]
#[template(path = "survey_print.html")]
struct PrintPage {
    l: Layout,
    c: Campaign,
    s: Scores,
    svg: String,
    sections: Vec<(String, Vec<Avg>)>,
}

async fn print(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    match load(&s, &ui, &id).await {
        Ok((c, sc, svg)) => {
            let l = Layout::new(&ui, "surveys", format!("{} · {}", ui.lang.t("survey.report_title"), c.quarter));
            render(&PrintPage { l, c, sections: sections(&ui, &sc), s: sc, svg })
        }
        Err(e) => fail_page(&ui, e),
    }
}

async fn xlsx(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    let (c, sc, _) = match load(&s, &ui, &id).await {
        Ok(x) => x,
        Err(e) => return fail_page(&ui, e),
    };
    let tr = match surveys::trend(&s.app.db, &ui.ctx.caller, 8, None).await {
        Ok(t) => t,
        Err(e) => return fail_page(&ui, e),
    };
    match surveys::scores_xlsx(&sc, &tr, &crate::web::api::voice::surveys::scores_labels(ui.lang)) {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, XLSX.to_string()),
                (header::CONTENT_DISPOSITION, crate::web::api::attachment(&format!("survey_{}.xlsx", c.quarter))),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => fail_page(&ui, e),
    }
}
