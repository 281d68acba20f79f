//! The role titles page (administrator): one text per role and language, the manual's title as
//! the placeholder, and "restore defaults".
use askama::Template;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::app::people::role_titles;
use crate::domain::role::{title_slots, RoleTitles};
use crate::domain::DomainError;
use crate::web::api::query_pairs;
use crate::web::auth::{UiCtx, UiForm};
use crate::web::ui::{fail_page, render, Layout};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/admin/role-titles", get(page).post(save)).route("/admin/role-titles/reset", post(reset))
}

/// One role's line: its code, what the fields hold, and the manual's titles.
struct Row {
    slot: &'static str,
    zh: String,
    en: String,
    zh_default: String,
    en_default: String,
}

#[derive(Template)]
#[template(path = "role_titles.html")]
struct Page {
    l: Layout,
    rows: Vec<Row>,
    version: i64,
    saved: bool,
    errors: Vec<(String, String)>,
}

use crate::web::i18n::default_title;

fn rows(titles: &RoleTitles) -> Vec<Row> {
    title_slots()
        .into_iter()
        .map(|slot| {
            let (zh_default, en_default) = (default_title(slot, false), default_title(slot, true));
            Row {
                slot,
                zh: titles.get(slot, false).map(str::to_string).unwrap_or_else(|| zh_default.clone()),
                en: titles.get(slot, true).map(str::to_string).unwrap_or_else(|| en_default.clone()),
                zh_default,
                en_default,
            }
        })
        .collect()
}

#[allow(clippy::result_large_err)]
fn admin_only(ui: &UiCtx) -> Result<(), Response> {
    if ui.ctx.caller.role.is_admin() {
        Ok(())
    } else {
        Err(fail_page(ui, DomainError::Forbidden))
    }
}

async fn page(State(s): State<AppState>, ui: UiCtx, RawQuery(q): RawQuery) -> Response {
    if let Err(r) = admin_only(&ui) {
        return r;
    }
    let saved = query_pairs(q).iter().any(|(k, _)| k == "saved");
    match role_titles::load(&s.app.db).await {
        Ok((titles, version)) => render(&Page {
            l: Layout::new(&ui, "role_titles", ui.lang.t("titles.title")),
            rows: rows(&titles),
            version,
            saved,
            errors: vec![],
        }),
        Err(e) => fail_page(&ui, e),
    }
}

async fn save(State(s): State<AppState>, form: UiForm) -> Response {
    let typed: Vec<(String, String, String)> = title_slots()
        .into_iter()
        .map(|slot| {
            let get = |lang: &str| form.get(&format!("{lang}.{slot}")).unwrap_or("").to_string();
            (slot.to_string(), get("zh"), get("en"))
        })
        .collect();
    store(&s, &form, &typed).await
}

async fn reset(State(s): State<AppState>, form: UiForm) -> Response {
    store(&s, &form, &[]).await
}

async fn store(s: &AppState, form: &UiForm, typed: &[(String, String, String)]) -> Response {
    let ui = &form.ui;
    let version = form.get("version").and_then(|v| v.trim().parse::<i64>().ok()).unwrap_or(-1);
    match role_titles::save(&s.app.db, &ui.ctx, typed, default_title, version).await {
        Ok(_) => Redirect::to("/admin/role-titles?saved=1").into_response(),
        Err(e @ DomainError::Forbidden) => fail_page(ui, e),
        Err(e) => {
            let (_, current) = match role_titles::load(&s.app.db).await {
                Ok(v) => v,
                Err(e) => return fail_page(ui, e),
            };
            let errors: Vec<(String, String)> = match &e {
                DomainError::Invalid(fs) => {
                    fs.iter().map(|f| (f.field.clone(), ui.lang.msg("invalid", f.code))).collect()
                }
                other => {
                    let (_, code) = crate::web::error::status_and_code(other);
                    vec![(String::new(), ui.lang.msg("err", code))]
                }
            };
            // What was typed stays in the form, with the current version.
            let mut rows = rows(&RoleTitles::default());
            for r in rows.iter_mut() {
                if let Some((_, zh, en)) = typed.iter().find(|(slot, _, _)| slot == r.slot) {
                    r.zh = zh.clone();
                    r.en = en.clone();
                }
            }
            let mut res = render(&Page {
                l: Layout::new(ui, "role_titles", ui.lang.t("titles.title")),
                rows,
                version: current,
                saved: false,
                errors,
            });
            *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            res
        }
    }
}
