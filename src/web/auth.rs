//! Who is calling: extractors for the API (bearer token, or session cookie plus CSRF header)
//! and for the UI (session cookie; forms carry the CSRF token in `_csrf`).
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method};
use axum::response::{IntoResponse, Redirect, Response};

use super::error::ApiError;
use super::i18n::Lang;
use super::{AppState, RequestId};
use crate::app::{people::auth, Ctx};
use crate::domain::DomainError;

pub const SESSION_COOKIE: &str = "kam_session";
pub const LOGIN_CSRF_COOKIE: &str = "kam_login_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

pub fn cookie<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn request_id(parts: &Parts) -> String {
    parts.extensions.get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default()
}

fn is_safe(m: &Method) -> bool {
    matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Compares secrets in constant time.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// An authenticated API caller and the language for its messages.
pub struct ApiCtx {
    pub ctx: Ctx,
    pub lang: Lang,
}

impl FromRequestParts<AppState> for ApiCtx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Self::Rejection> {
        let hdr_lang = Lang::from_headers(&parts.headers);
        let fail = |err| ApiError::new(err, hdr_lang.unwrap_or(Lang::Zh));
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| t.trim().to_string());
        let caller = if let Some(token) = bearer {
            auth::token_caller(&s.app, &token).await.map_err(fail)?.ok_or_else(|| fail(DomainError::Unauthenticated))?
        } else if let Some(sid) = cookie(&parts.headers, SESSION_COOKIE) {
            let (caller, csrf) = auth::session_caller(&s.app, sid)
                .await
                .map_err(fail)?
                .ok_or_else(|| fail(DomainError::Unauthenticated))?;
            if !is_safe(&parts.method) {
                let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
                if !same_secret(sent, &csrf) {
                    return Err(ApiError::new(DomainError::Csrf, Lang::from_code(&caller.locale)));
                }
            }
            caller
        } else {
            return Err(fail(DomainError::Unauthenticated));
        };
        let lang = hdr_lang.unwrap_or_else(|| Lang::from_code(&caller.locale));
        if let Some(slot) = parts.extensions.get::<super::error::LangSlot>() {
            let _ = slot.0.set(lang);
        }
        if parts.extensions.get::<super::api::Unsorted>().is_some() {
            let pairs = super::api::query_pairs(parts.uri.query().map(str::to_string));
            if super::api::q(&pairs, "sort").is_some() {
                return Err(ApiError::new(DomainError::invalid("sort", "invalid_choice"), lang));
            }
        }
        Ok(ApiCtx { ctx: Ctx { caller, request_id: request_id(parts) }, lang })
    }
}

/// Whether the request says its body is JSON: `application/json` or a `+json` type
/// (`application/merge-patch+json`), with no charset but UTF-8.
pub fn is_json(h: &HeaderMap) -> bool {
    let Some(v) = h.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else { return false };
    let mut parts = v.split(';');
    let mime = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let json = mime == "application/json"
        || mime.strip_prefix("application/").is_some_and(|sub| sub.len() > 5 && sub.ends_with("+json"));
    json && parts.all(|p| match p.split_once('=') {
        Some((k, v)) if k.trim().eq_ignore_ascii_case("charset") => {
            matches!(v.trim().trim_matches('"').to_ascii_lowercase().as_str(), "utf-8" | "utf8")
        }
        _ => true,
    })
}

/// A JSON body read with the size limit: 415 without `Content-Type: application/json`, 413
/// when too large, 422 when not JSON.
pub struct JsonBody(pub serde_json::Value);

impl FromRequest<AppState> for JsonBody {
    type Rejection = ApiError;

    /// Refusals carry no language: the API's `localize` layer writes them in the one the
    /// caller's `ApiCtx` settled on (extracted before the body).
    async fn from_request(req: Request, s: &AppState) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(DomainError::UnsupportedMediaType.into());
        }
        let bytes = Bytes::from_request(req, s).await.map_err(|_| DomainError::PayloadTooLarge)?;
        Ok(JsonBody(serde_json::from_slice(&bytes).map_err(|_| DomainError::invalid("body", "invalid_json"))?))
    }
}

/// A signed-in UI user. Without a valid session the browser is sent to the sign-in page.
pub struct UiCtx {
    pub ctx: Ctx,
    pub csrf: String,
    pub lang: Lang,
    /// The message the previous step left for this page (`?flash=code`), if it is one we know.
    pub flash: Option<&'static str>,
    /// Managers and above: who reports to them directly, for the navigation (empty otherwise).
    pub team: Vec<crate::app::home::Person>,
}

impl FromRequestParts<AppState> for UiCtx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Self::Rejection> {
        let to_login = || {
            let next = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
            let next: String =
                percent_encoding::utf8_percent_encode(next, percent_encoding::NON_ALPHANUMERIC).to_string();
            Redirect::to(&format!("/login?next={next}")).into_response()
        };
        let Some(sid) = cookie(&parts.headers, SESSION_COOKIE) else { return Err(to_login()) };
        match auth::session_caller(&s.app, sid).await {
            Ok(Some((caller, csrf))) => {
                let lang = Lang::from_code(&caller.locale);
                let flash = parts.uri.query().and_then(|raw| {
                    let pairs = super::api::query_pairs(Some(raw.to_string()));
                    let code = super::api::q(&pairs, "flash")?;
                    super::ui::FLASHES.iter().find(|f| **f == code).copied()
                });
                let team = match crate::app::home::direct_reports(&s.app.db, &caller).await {
                    Ok(t) => t,
                    Err(e) => {
                        tracing::error!("navigation: the team could not be loaded: {e:#}");
                        vec![]
                    }
                };
                Ok(UiCtx { ctx: Ctx { caller, request_id: request_id(parts) }, csrf, lang, flash, team })
            }
            Ok(None) => Err(to_login()),
            // A page, not JSON: the database down, the disk full.
            Err(e) => Err(super::ui::error_page(Lang::from_headers(&parts.headers).unwrap_or(Lang::Zh), &e)),
        }
    }
}

/// A posted UI form: the signed-in user plus the fields, after the CSRF token matched.
pub struct UiForm {
    pub ui: UiCtx,
    pub fields: Vec<(String, String)>,
}

impl UiForm {
    pub fn get(&self, k: &str) -> Option<&str> {
        self.fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
    }
}

impl FromRequest<AppState> for UiForm {
    type Rejection = Response;

    async fn from_request(req: Request, s: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let ui = UiCtx::from_request_parts(&mut parts, s).await?;
        let req = Request::from_parts(parts, body);
        let lang = ui.lang;
        let bytes = Bytes::from_request(req, s)
            .await
            .map_err(|_| super::ui::error_page(lang, &DomainError::PayloadTooLarge))?;
        let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
            .map_err(|_| super::ui::error_page(lang, &DomainError::invalid("body", "invalid_form")))?;
        let sent = fields.iter().find(|(k, _)| k == "_csrf").map(|(_, v)| v.as_str()).unwrap_or("");
        if !same_secret(sent, &ui.csrf) {
            return Err(super::ui::error_page(lang, &DomainError::Csrf));
        }
        Ok(UiForm { ui, fields })
    }
}
