//! The home per role (工作台): `/` (and `/today`) for everyone but the administrator, who lands
//! on the users. The content is `app::home::home`, as `GET /api/v1/home` gives it.
use askama::Template;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

use super::{fail_page, render, Layout, Load};
use crate::app::home::Home;
use crate::web::auth::UiCtx;
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/", get(page)).route("/today", get(page)).route("/static/menu.js", get(menu_js))
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    l: Layout,
    d: Home,
    /// The caller's username (links to their own rows of a report).
    me: String,
}

impl HomePage {
    /// A percentage for a progress bar (0–100; over 100 stays full).
    fn pct_of(&self, count: impl std::borrow::Borrow<i64>, target: impl std::borrow::Borrow<i64>) -> i64 {
        let (count, target) = (*count.borrow(), *target.borrow());
        if target <= 0 {
            0
        } else {
            (count * 100 / target).clamp(0, 100)
        }
    }
    /// The completion ("45.20") as a bar's value.
    fn bar(&self, completion: &Option<String>) -> String {
        completion.as_deref().unwrap_or("0").to_string()
    }
    /// Today and tomorrow: (day, title key, empty-state key, the day's activities).
    #[allow(clippy::type_complexity)]
    fn agenda_days(&self) -> Vec<(&str, &'static str, &'static str, Vec<&crate::app::home::AgendaItem>)> {
        let of = |day: &str| self.d.agenda.iter().filter(|a| a.day == day).collect();
        vec![
            (self.d.today.as_str(), "home.today", "home.no_agenda_today", of(&self.d.today)),
            (self.d.tomorrow.as_str(), "home.tomorrow", "home.no_agenda_tomorrow", of(&self.d.tomorrow)),
        ]
    }
}

async fn page(State(s): State<AppState>, ui: UiCtx) -> Response {
    if ui.ctx.caller.role.is_admin() {
        return Redirect::to("/admin/users").into_response();
    }
    match crate::app::home::home(&s.app.db, &ui.ctx.caller).await.page_data("home", "home") {
        Ok(d) => render(&HomePage {
            l: Layout::new(&ui, "home", ui.lang.t("home.title")),
            d,
            me: ui.ctx.caller.username.clone(),
        }),
        Err(e) => fail_page(&ui, e),
    }
}

async fn menu_js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "max-age=3600")],
        include_str!("../../../../static/menu.js"),
    )
        .into_response()
}
