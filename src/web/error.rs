//! One error type for the web layer: a domain error plus the caller's language and whether
//! the answer is JSON (API) or a page (UI).
use std::sync::{Arc, Mutex, OnceLock};

use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use super::i18n::Lang;
use crate::domain::error::{Fault, RETRY_AFTER_SECS};
use crate::domain::DomainError;

pub struct ApiError {
    pub err: DomainError,
    /// The caller's language when already known (an extractor's rejection); `None` when the
    /// handler returned the error with `?`: [`localize`] then renders it in the language the
    /// request's `ApiCtx` settled on.
    pub lang: Option<Lang>,
}

impl From<DomainError> for ApiError {
    fn from(err: DomainError) -> Self {
        ApiError { err, lang: None }
    }
}

impl ApiError {
    pub fn new(err: DomainError, lang: Lang) -> Self {
        ApiError { err, lang: Some(lang) }
    }
}

/// The language an API request's messages are written in, settled by its `ApiCtx` extractor.
#[derive(Clone, Default)]
pub struct LangSlot(pub Arc<OnceLock<Lang>>);

/// An error returned with `?` before its language was known; [`localize`] renders it.
#[derive(Clone)]
struct PendingError(Arc<Mutex<Option<DomainError>>>);

/// Middleware around the API: gives each request a [`LangSlot`] and renders errors that
/// handlers returned with `?` in the caller's language (the `ApiCtx`'s choice, else
/// `Accept-Language`, else Chinese).
pub async fn localize(mut req: Request, next: Next) -> Response {
    let hdr = Lang::from_headers(req.headers());
    let slot = LangSlot::default();
    req.extensions_mut().insert(slot.clone());
    let mut res = next.run(req).await;
    if let Some(p) = res.extensions_mut().remove::<PendingError>() {
        let err = p.0.lock().ok().and_then(|mut e| e.take());
        if let Some(err) = err {
            let lang = slot.0.get().copied().or(hdr).unwrap_or(Lang::Zh);
            return render(err, lang);
        }
    }
    res
}

pub fn status_and_code(e: &DomainError) -> (StatusCode, &'static str) {
    match e {
        DomainError::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
        DomainError::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
        DomainError::Csrf => (StatusCode::FORBIDDEN, "csrf_failed"),
        DomainError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
        DomainError::StaleVersion { .. } => (StatusCode::CONFLICT, "stale_version"),
        DomainError::Duplicate { .. } => (StatusCode::CONFLICT, "duplicate"),
        DomainError::Conflict(c) => (StatusCode::CONFLICT, c),
        DomainError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_input"),
        DomainError::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
        DomainError::UnsupportedMediaType => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
        DomainError::TooManyRequests { .. } => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests"),
        DomainError::StorageFull(_) => (StatusCode::INSUFFICIENT_STORAGE, "storage_full"),
        DomainError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "database_unavailable"),
        DomainError::Internal(_) => match e.fault() {
            Some(Fault::StorageFull) => (StatusCode::INSUFFICIENT_STORAGE, "storage_full"),
            Some(Fault::Unavailable) => (StatusCode::SERVICE_UNAVAILABLE, "database_unavailable"),
            None => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        },
    }
}

/// `details` of the error body: each bad field with its translated message, or the pointer
/// to the existing record for a duplicate.
pub fn details(e: &DomainError, lang: Lang) -> Value {
    match e {
        DomainError::Invalid(fields) => {
            let mut m = Map::new();
            for f in fields {
                m.insert(f.field.clone(), json!({"code": f.code, "message": lang.msg("invalid", f.code)}));
            }
            json!({ "fields": m })
        }
        DomainError::Duplicate { field, existing_id } => {
            let mut d = json!({"field": field});
            if *field == "name" {
                d["hint"] = json!("send \"allow_duplicate_name\": true to create it all the same");
            }
            if *existing_id > 0 {
                d["existing_id"] = json!(existing_id);
                d["existing"] = json!(format!("/api/v1/accounts/{existing_id}"));
            }
            d
        }
        DomainError::StaleVersion { current } => json!({"current_version": current}),
        DomainError::TooManyRequests { retry_after_secs } => json!({"retry_after": retry_after_secs}),
        _ => json!({}),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self.lang {
            Some(lang) => render(self.err, lang),
            None => {
                let mut res = status_and_code(&self.err).0.into_response();
                res.extensions_mut().insert(PendingError(Arc::new(Mutex::new(Some(self.err)))));
                res
            }
        }
    }
}

/// The error as `{"error": {code, message, details}}` in `lang`, with its status.
pub fn render(err: DomainError, lang: Lang) -> Response {
    let (status, code) = status_and_code(&err);
    log_failure(&err);
    let mut message = lang.msg("err", code);
    if let DomainError::Invalid(fields) = &err {
        let names: Vec<String> =
            fields.iter().map(|f| format!("{}: {}", f.field, lang.msg("invalid", f.code))).collect();
        message = format!("{message} ({})", names.join("; "));
    }
    let body = json!({"error": {"code": code, "message": message, "details": details(&err, lang)}});
    let mut res = (status, Json(body)).into_response();
    if let DomainError::TooManyRequests { retry_after_secs } = err {
        if let Ok(v) = retry_after_secs.to_string().parse() {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    add_retry_after(&mut res);
    res
}

/// Logs a failure the caller cannot fix: a defect (`internal`) as an error, a fault (full
/// disk, database unreachable) as a warning with its cause.
pub fn log_failure(err: &DomainError) {
    match (err, err.fault()) {
        (_, Some(f)) => tracing::warn!("{f:?}: {err:#}"),
        (DomainError::Internal(e), None) => tracing::error!("internal error: {e:#}"),
        _ => {}
    }
}

/// A 503 (the database unavailable) says when to retry.
pub fn add_retry_after(res: &mut Response) {
    if res.status() == StatusCode::SERVICE_UNAVAILABLE && !res.headers().contains_key(header::RETRY_AFTER) {
        res.headers_mut().insert(header::RETRY_AFTER, axum::http::HeaderValue::from(RETRY_AFTER_SECS));
    }
}
