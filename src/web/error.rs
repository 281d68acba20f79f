//! One error type for the web layer: a domain error plus the caller's language and whether
//! the answer is JSON (API) or a page (UI).
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use super::i18n::Lang;
use crate::domain::DomainError;

pub struct ApiError {
    pub err: DomainError,
    pub lang: Lang,
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
        DomainError::TooManyRequests { .. } => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests"),
        DomainError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
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
        let (status, code) = status_and_code(&self.err);
        if let DomainError::Internal(e) = &self.err {
            tracing::error!("internal error: {e:#}");
        }
        let mut message = self.lang.msg("err", code);
        if let DomainError::Invalid(fields) = &self.err {
            let names: Vec<String> =
                fields.iter().map(|f| format!("{}: {}", f.field, self.lang.msg("invalid", f.code))).collect();
            message = format!("{message} ({})", names.join("; "));
        }
        let body = json!({"error": {"code": code, "message": message, "details": details(&self.err, self.lang)}});
        let mut res = (status, Json(body)).into_response();
        if let DomainError::TooManyRequests { retry_after_secs } = self.err {
            if let Ok(v) = retry_after_secs.to_string().parse() {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        res
    }
}
