//! Directory sign-in on the pages: the administrator's page showing the directory's settings
//! (from `kam.toml` or the environment; never the service account's password), whether it
//! answers now, the last sync and a "sync now" button. Rules stay in `app::people::ldap`.
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::app::people::ldap::{self, DirectoryStatus};
use crate::domain::DomainError;
use crate::web::auth::{UiCtx, UiForm};
use crate::web::ui::forms::with_flash;
use crate::web::ui::{error_lines, fail_page, render, status_and_code, Layout};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/settings/directory", get(page)).route("/settings/directory/sync", post(sync_now))
}

#[derive(Template)]
#[template(path = "directory_settings.html")]
struct Page {
    l: Layout,
    p: DirectoryStatus,
    /// The last sync's time in the user's time zone.
    last_at: String,
    errors: Vec<String>,
}

async fn view(s: &AppState, ui: &UiCtx, err: Option<DomainError>) -> Response {
    let p = match ldap::status(&s.app.db, s.app.settings.directory.as_deref(), &ui.ctx).await {
        Ok(p) => p,
        Err(e) => return fail_page(ui, e),
    };
    let l = Layout::new(ui, "directory", ui.lang.t("directory.title"));
    let last_at = p.last_sync.as_ref().map(|r| l.time(&r.at)).unwrap_or_default();
    let status = err.as_ref().map(|e| status_and_code(e).0);
    let errors = err.map(|e| error_lines(&l, &e)).unwrap_or_default();
    let mut res = render(&Page { l, p, last_at, errors });
    if let Some(st) = status {
        *res.status_mut() = st;
    }
    res
}

async fn page(State(s): State<AppState>, ui: UiCtx) -> Response {
    view(&s, &ui, None).await
}

async fn sync_now(State(s): State<AppState>, form: UiForm) -> Response {
    let ui = &form.ui;
    match ldap::sync_now(&s.app.db, s.app.settings.directory.as_deref(), &ui.ctx).await {
        Ok(_) => Redirect::to(&with_flash("/settings/directory", "directory_synced")).into_response(),
        Err(e @ DomainError::Forbidden) => fail_page(ui, e),
        Err(e) => view(&s, ui, Some(e)).await,
    }
}
