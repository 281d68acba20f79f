//! The JSON API. Every route is registered through [`Api`], which records its documentation,
//! so /api/openapi.json is generated from the routes themselves and cannot miss one.
pub mod approvals;
pub mod attainment;
pub mod budgets;
pub mod classification;
pub mod contract;
pub mod credit;
pub mod customers;
pub mod funnel;
pub mod home;
pub mod kpi;
pub mod orders;
pub mod people;
pub mod plans;
pub mod quotes;
pub mod records;
pub mod salesplan;
pub mod service;
pub mod suggestions;
pub mod visits;
pub mod voice;

pub use contract::{Body, Id, Op, Params, Query, Typed};
pub use customers::accounts::filter_from as accounts_filter;
pub use people::admin::audit_filter;

use axum::handler::Handler;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{on, MethodFilter};
use axum::Router;

use super::error::ApiError;
use super::i18n::Lang;
use super::AppState;
use crate::domain::DomainError;

pub struct Api {
    router: Router<AppState>,
    ops: Vec<Op>,
}

/// Marks a request to an operation that documents no `sort`: a `?sort=` there is refused
/// (422 `invalid_choice`), as a list that offers orders refuses one it does not know. The
/// caller's [`ApiCtx`](super::auth::ApiCtx) checks it once the caller is known, so the answer
/// is in their language and an unauthenticated call is still 401.
#[derive(Clone, Copy)]
pub struct Unsorted;

impl Api {
    fn new() -> Api {
        Api { router: Router::new(), ops: vec![] }
    }

    /// Registers a route with its contract (see [`Op`]); the OpenAPI document is built from
    /// these, so it cannot miss a route.
    fn add<H, T>(mut self, op: Op, h: H) -> Api
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = match op.method {
            "GET" => MethodFilter::GET,
            "POST" => MethodFilter::POST,
            "PATCH" => MethodFilter::PATCH,
            "PUT" => MethodFilter::PUT,
            _ => MethodFilter::DELETE,
        };
        let route = on(filter, h);
        let sortable = op.query.iter().any(|p| p["name"] == "sort");
        let route = if sortable { route } else { route.layer(axum::Extension(Unsorted)) };
        self.router = self.router.route(op.path, route);
        self.ops.push(op);
        self
    }
}

pub fn routes() -> (Router<AppState>, Vec<Op>) {
    let api = Api::new();
    let api = customers::accounts::routes(api);
    let api = customers::contacts::routes(api);
    let api = customers::documents::routes(api);
    let api = people::admin::routes(api);
    let api = people::me::routes(api);
    let api = people::role_titles::routes(api);
    let api = people::two_factor::routes(api);
    let api = people::ldap::routes(api);
    let api = customers::merge::routes(api);
    let api = funnel::opportunities::routes(api);
    let api = visits::activities::routes(api);
    let api = approvals::routes(api);
    let api = credit::changes::routes(api);
    let api = classification::classify::routes(api);
    let api = classification::downgrade::routes(api);
    let api = classification::candidates::routes(api);
    let api = visits::development_plans::routes(api);
    let api = visits::retention::routes(api);
    let api = home::routes(api);
    let api = records::consistency::routes(api);
    let api = records::company::routes(api);
    let api = quotes::products::routes(api);
    let api = quotes::quotes::routes(api);
    let api = quotes::bids::routes(api);
    let api = quotes::attachments::routes(api);
    let api = orders::orders::routes(api);
    let api = orders::invoicing::routes(api);
    let api = orders::receivables::routes(api);
    let api = orders::receivable_reports::routes(api);
    let api = orders::deliveries::routes(api);
    let api = orders::attachments::routes(api);
    let api = orders::holds::routes(api);
    let api = orders::writeoffs::routes(api);
    let api = orders::statements::routes(api);
    let api = credit::routes(api);
    let api = plans::routes(api);
    let api = suggestions::routes(api);
    let api = salesplan::routes(api);
    let api = budgets::routes(api);
    let api = attainment::routes(api);
    let api = kpi::routes(api);
    let api = service::routes(api);
    let api = voice::routes(api);
    (api.router.route_layer(axum::middleware::from_fn(super::error::localize)), api.ops)
}

pub type ApiResult = Result<Response, ApiError>;

pub fn query_pairs(raw: Option<String>) -> Vec<(String, String)> {
    raw.and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(&q).ok()).unwrap_or_default()
}

pub fn q<'a>(pairs: &'a [(String, String)], k: &str) -> Option<&'a str> {
    pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
}

pub fn q_i64(pairs: &[(String, String)], k: &str) -> Result<Option<i64>, DomainError> {
    match q(pairs, k) {
        None => Ok(None),
        Some(v) => v.trim().parse().map(Some).map_err(|_| DomainError::invalid(k, "expected_integer")),
    }
}

pub fn id_of(s: &str) -> Result<i64, DomainError> {
    s.parse().map_err(|_| DomainError::NotFound)
}

/// An export for the API as a download: XLSX when asked (`format=xlsx`), CSV otherwise; headers
/// are the field codes and the file is `name.ext`. The pages' downloads go through
/// `ui::export_download` ([`labelled_download`]).
pub fn export_response(
    t: &crate::app::spreadsheets::export::Table,
    format: Option<&str>,
    name: &str,
) -> Result<Response, DomainError> {
    let headers: Vec<String> = t.keys.iter().map(|k| k.to_string()).collect();
    download(t, &headers, format, name, name, None)
}

/// The label of a code in the user's language (`stage.won` → 赢单); anything else as it is.
pub fn code_label(lang: Lang, col: crate::app::spreadsheets::export::Col, v: &str) -> String {
    match col {
        crate::app::spreadsheets::export::Col::Code(kind) => {
            let key = format!("{kind}.{v}");
            let s = lang.t(&key);
            if s.ends_with(&key) {
                v.to_string()
            } else {
                s
            }
        }
        _ => v.to_string(),
    }
}

/// A download for a person: headers in the user's language, the file named in it with today's
/// date in the reader's time zone (`客户列表_2026-12-03.xlsx`); in XLSX codes through `labels`
/// and no internal columns. CSV keeps codes and decimal strings.
pub fn labelled_download(
    t: &crate::app::spreadsheets::export::Table,
    format: Option<&str>,
    lang: Lang,
    tz: chrono_tz::Tz,
    name: &str,
    labels: crate::app::spreadsheets::export::Labeller,
) -> Result<Response, DomainError> {
    let headers: Vec<String> = t.keys.iter().map(|k| lang.t(&format!("field.{k}"))).collect();
    let key = format!("export.file.{name}");
    let title = lang.t(&key);
    let title = if title.ends_with(&key) { name.to_string() } else { title };
    let today = chrono::Utc::now().with_timezone(&tz).format("%Y-%m-%d");
    download(t, &headers, format, name, &format!("{title}_{today}"), Some(labels))
}

/// A table as a download for the calling person: [`labelled_download`] with codes labelled in
/// their language and the file dated in their time zone.
pub fn person_download(
    t: &crate::app::spreadsheets::export::Table,
    caller: &crate::app::Caller,
    lang: Lang,
    format: &str,
    name: &str,
) -> Result<Response, DomainError> {
    let labels = move |col: crate::app::spreadsheets::export::Col, v: &str| code_label(lang, col, v);
    let tz = crate::domain::activity::parse_tz(&caller.time_zone).unwrap_or(chrono_tz::Asia::Shanghai);
    labelled_download(t, Some(format), lang, tz, name, &labels)
}

/// A table under the given headers as a download named `name` (also the XLSX sheet's name).
pub fn table_download(
    t: &crate::app::spreadsheets::export::Table,
    headers: &[String],
    format: Option<&str>,
    name: &str,
) -> Result<Response, DomainError> {
    download(t, headers, format, name, name, None)
}

/// Characters left as they are in an RFC 5987 `filename*` value (attr-char).
const ATTR_CHAR: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

fn download(
    t: &crate::app::spreadsheets::export::Table,
    headers: &[String],
    format: Option<&str>,
    sheet: &str,
    file: &str,
    labels: Option<crate::app::spreadsheets::export::Labeller>,
) -> Result<Response, DomainError> {
    let (bytes, ctype, ext) = match format {
        Some("xlsx") => (
            crate::app::spreadsheets::export::xlsx(t, headers, sheet, labels)?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
        None | Some("csv") => (crate::app::spreadsheets::export::csv(t, headers)?, "text/csv; charset=utf-8", "csv"),
        Some(_) => return Err(DomainError::invalid("format", "invalid_choice")),
    };
    let name = format!("{file}.{ext}");
    let disposition = attachment_as(&name, sheet);
    Ok(([(header::CONTENT_TYPE, ctype.to_string()), (header::CONTENT_DISPOSITION, disposition)], bytes).into_response())
}

/// `Content-Disposition` of a download named `name` (in the user's language).
pub fn attachment(name: &str) -> String {
    attachment_as(name, "kam")
}

/// `filename` for old clients (ASCII only: `prefix` and what of the name is ASCII, e.g. the
/// key and the date), `filename*` in UTF-8.
fn attachment_as(name: &str, prefix: &str) -> String {
    let ascii: String = name.chars().filter(|c| c.is_ascii_graphic() && *c != '"' && *c != '\\').collect();
    let ascii = if ascii == name { ascii } else { format!("{prefix}_{}", ascii.trim_start_matches('_')) };
    if ascii == name {
        format!("attachment; filename=\"{name}\"")
    } else {
        let utf8 = percent_encoding::utf8_percent_encode(name, ATTR_CHAR);
        format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{utf8}")
    }
}
