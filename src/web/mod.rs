//! HTTP: the JSON API under /api/v1, the server-rendered UI, and the plumbing both share
//! (request ids, security headers, metrics, authentication extractors, error mapping).
pub mod api;
pub mod auth;
pub mod error;
pub mod i18n;
pub mod metrics;
pub mod openapi;
pub mod ui;

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderName, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::app::App;

/// Largest request body we read; larger ones get 413.
pub const BODY_LIMIT: usize = 1024 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub metrics: Arc<metrics::Metrics>,
    pub openapi: Arc<serde_json::Value>,
}

/// The id of the current request, shown in the `x-request-id` header and the audit rows.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

pub fn router(app: App) -> Router {
    let (api_router, ops) = api::routes();
    let openapi = Arc::new(openapi::document(&ops));
    let state = AppState { app, metrics: Arc::new(metrics::Metrics::default()), openapi };
    Router::new()
        .merge(api_router)
        .merge(ui::routes())
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics::render))
        .route("/api/openapi.json", get(openapi_json))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                 form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
            ),
        ))
        // Pages and API answers are the signed-in user's: never kept by the browser, so Back
        // after signing out asks the server (and lands on the sign-in page). Static assets say
        // their own caching.
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .with_state(state)
}

/// Gives every request an id, counts it for /metrics, and adds the id to the response.
async fn observe(State(s): State<AppState>, mut req: Request, next: Next) -> Response {
    let id = crate::app::people::auth::random_token("")[..16].to_string();
    req.extensions_mut().insert(RequestId(id.clone()));
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let method = req.method().to_string();
    let start = Instant::now();
    // Read replicas: a write request reads from the primary; so does a user right after their
    // own write, which is marked here before the answer leaves (db/replica.rs).
    let write =
        !matches!(*req.method(), axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS);
    let (mut res, reads) = crate::db::replica::ReadRoute::scope(write, next.run(req)).await;
    if write && res.status().as_u16() < 400 && s.app.db.replica().is_some() {
        if let Some(user) = reads.user_id() {
            if let Err(e) = crate::app::people::auth::mark_wrote(&s.app.db, user).await {
                tracing::warn!(error = %e, "could not mark the user's write for read-your-writes");
            }
        }
    }
    s.metrics.observe(&route, &method, res.status().as_u16(), start.elapsed());
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(HeaderName::from_static("x-request-id"), v);
    }
    res
}

/// Below this much free space where KAM writes (the SQLite file's folder, the data folder),
/// `/healthz` reports the storage as full: writes are failing or about to.
const MIN_FREE_BYTES: u64 = 4 * 1024 * 1024;

/// 200 when the database answers (within a few seconds) and the disk KAM writes to has room;
/// otherwise 503 naming what is wrong (`database`, `storage`), so a supervisor notices.
async fn healthz(State(s): State<AppState>) -> Response {
    let database = s.app.db.ping().await;
    let mut dirs = vec![s.app.settings.data_dir.clone()];
    dirs.extend(s.app.db.sqlite_dir());
    let free = dirs.iter().filter_map(|d| fs4::available_space(d).ok()).min();
    let storage = free.is_none_or(|f| f >= MIN_FREE_BYTES);
    let body = serde_json::json!({
        "status": if database && storage { "ok" } else { "unavailable" },
        "database": if database { "ok" } else { "unavailable" },
        "storage": if storage { "ok" } else { "full" },
        "free_bytes": free,
    });
    if database && storage {
        Json(body).into_response()
    } else {
        let mut res = (axum::http::StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
        error::add_retry_after(&mut res);
        res
    }
}

async fn openapi_json(State(s): State<AppState>) -> Response {
    Json((*s.openapi).clone()).into_response()
}
