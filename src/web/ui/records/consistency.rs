//! The page of records that contradict themselves (`/admin/consistency`).
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use crate::app::records::consistency::{self, Contradiction};
use crate::web::auth::UiCtx;
use crate::web::ui::{fail_page, render, Layout};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/admin/consistency", get(page))
}

#[derive(Template)]
#[template(path = "consistency.html")]
struct Page {
    l: Layout,
    total: i64,
    items: Vec<Contradiction>,
}

async fn page(State(s): State<AppState>, ui: UiCtx) -> Response {
    match consistency::find(&s.app.db, &ui.ctx.caller).await {
        Ok(r) => render(&Page {
            l: Layout::new(&ui, "consistency", ui.lang.t("consistency.title")),
            total: r.total,
            items: r.items,
        }),
        Err(e) => fail_page(&ui, e),
    }
}
