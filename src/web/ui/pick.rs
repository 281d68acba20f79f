//! The pickers' helpers for pages: the people search `static/picker.js` asks as the user types
//! (`GET /pick/users?q=&pool=`, the session's own JSON; API clients use
//! `GET /api/v1/users/search`, the same search), and the script itself.
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::app::people::directory;
use crate::web::api::{q, query_pairs};
use crate::web::auth::UiCtx;
use crate::web::error::ApiError;
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/pick/users", get(users)).route("/static/picker.js", get(js))
}

/// At most this many people per answer: a picker shows a short list to choose from.
const SHOWN: usize = 12;

async fn users(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = query_pairs(raw);
    let res = async {
        let pool = crate::web::api::people::admin::pick_pool(q(&p, "pool"))?;
        directory::search_users(&s.app.db, &ui.ctx.caller, q(&p, "q"), pool, SHOWN).await
    }
    .await;
    match res {
        Ok(items) => Json(serde_json::json!({ "items": items })).into_response(),
        Err(e) => ApiError::new(e, ui.lang).into_response(),
    }
}

async fn js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "max-age=3600")],
        include_str!("../../../static/picker.js"),
    )
        .into_response()
}

/// A page's query with its person parameters as usernames (`owner=林涛` → `owner=rep`): a
/// filter field takes a name, a username or the picker's label. What names nobody stays as
/// typed (the filter then finds nothing, as before).
pub async fn people_in(db: &crate::db::Db, mut pairs: Vec<(String, String)>, keys: &[&str]) -> Vec<(String, String)> {
    for (k, v) in pairs.iter_mut() {
        if keys.contains(&k.as_str()) && !v.trim().is_empty() {
            if let Ok(u) = directory::username_of(db, v).await {
                *v = u;
            }
        }
    }
    pairs
}

/// Org units for a select, by name, indented by level (headquarters, its regions, each
/// region's branches): (code, label).
pub fn org_options(units: &[crate::app::people::org::OrgUnit]) -> Vec<(String, String)> {
    units.iter().map(|o| (o.code.clone(), format!("{}{}", "\u{3000}".repeat(o.depth), o.name))).collect()
}
