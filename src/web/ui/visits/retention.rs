//! The retention period of check-in locations and photos on the pages (the administrator's
//! setting). Rules stay in `app::visits::retention`.
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

use crate::app::visits::retention::{self as rt, RetentionSettings, RetentionSettingsIn};
use crate::domain::DomainError;
use crate::web::auth::{UiCtx, UiForm};
use crate::web::ui::forms::with_flash;
use crate::web::ui::{error_lines, fail_page, render, status_and_code, Layout};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/settings/check-in-retention", get(settings).post(save_settings))
}

#[derive(Template)]
#[template(path = "retention_settings.html")]
struct SettingsPage {
    l: Layout,
    p: RetentionSettings,
    days: String,
    can_edit: bool,
    errors: Vec<String>,
}

async fn settings_page(s: &AppState, ui: &UiCtx, typed: Option<String>, err: Option<DomainError>) -> Response {
    let p = match rt::settings(&s.app.db).await {
        Ok(p) => p,
        Err(e) => return fail_page(ui, e),
    };
    let l = Layout::new(ui, "retention", ui.lang.t("retention.settings_title"));
    let status = err.as_ref().map(|e| status_and_code(e).0);
    let errors = err.map(|e| error_lines(&l, &e)).unwrap_or_default();
    let days = typed.unwrap_or_else(|| p.days.to_string());
    let mut res = render(&SettingsPage { l, p, days, can_edit: rt::may_edit(ui.ctx.caller.role), errors });
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
    let typed = form.get("days").unwrap_or("").trim().to_string();
    let Ok(days) = typed.parse::<i64>() else {
        return settings_page(&s, ui, Some(typed), Some(DomainError::invalid("days", "retention_days_range"))).await;
    };
    let version = form.get("version").and_then(|v| v.trim().parse().ok()).unwrap_or(0);
    match rt::save_settings(&s.app.db, &ui.ctx, &RetentionSettingsIn { days, version }).await {
        Ok(_) => Redirect::to(&with_flash("/settings/check-in-retention", "saved")).into_response(),
        Err(e @ DomainError::Forbidden) => fail_page(ui, e),
        Err(e) => settings_page(&s, ui, Some(typed), Some(e)).await,
    }
}
