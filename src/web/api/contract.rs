//! The API's contract, declared next to each route: what an operation reads (typed path,
//! query and body) and what it answers (typed responses and the error statuses it can give).
//! [`Op`] records it for the OpenAPI document (`web/openapi.rs`); the extractors [`Params`],
//! [`Query`] and [`Body`] read a request into the same types, so the document and the server
//! cannot disagree on a field's type.
use std::collections::BTreeSet;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::response::IntoResponse;
use axum::Json;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::openapi::path::ParameterIn;
use utoipa::openapi::{RefOr, Schema};
use utoipa::{IntoParams, ToSchema};

use crate::app::records::input::Input;
use crate::app::spreadsheets::export::Table;
use crate::domain::DomainError;
use crate::web::api::{export_response, ApiResult};
use crate::web::auth::JsonBody;
use crate::web::error::ApiError;
use crate::web::AppState;

/// Component schemas an operation refers to, by name.
pub type Schemas = Vec<(String, RefOr<Schema>)>;

/// A named type's schema: registered among the components, referred to by `$ref`.
pub fn schema_ref<T: ToSchema>(out: &mut Schemas) -> Value {
    let name = T::name().to_string();
    T::schemas(out);
    out.push((name.clone(), T::schema()));
    json!({"$ref": format!("#/components/schemas/{name}")})
}

pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// One documented API operation.
#[derive(Clone)]
pub struct Op {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    pub description: Option<&'static str>,
    pub tag: &'static str,
    /// Query parameters (OpenAPI parameter objects).
    pub query: Vec<Value>,
    /// The request body object, when the operation takes one.
    pub body: Option<Value>,
    /// Success responses by status: (status, response object).
    pub ok: Vec<(u16, Value)>,
    /// Error statuses beyond the ones every operation of its kind can answer.
    pub errors: BTreeSet<u16>,
    /// Component schemas the operation refers to.
    pub schemas: Schemas,
}

impl Op {
    fn new(method: &'static str, path: &'static str, summary: &'static str, tag: &'static str) -> Op {
        Op {
            method,
            path,
            summary,
            description: None,
            tag,
            query: vec![],
            body: None,
            ok: vec![],
            errors: BTreeSet::new(),
            schemas: vec![],
        }
    }
    pub fn get(path: &'static str, summary: &'static str, tag: &'static str) -> Op {
        Op::new("GET", path, summary, tag)
    }
    pub fn post(path: &'static str, summary: &'static str, tag: &'static str) -> Op {
        Op::new("POST", path, summary, tag)
    }
    pub fn put(path: &'static str, summary: &'static str, tag: &'static str) -> Op {
        Op::new("PUT", path, summary, tag)
    }
    pub fn patch(path: &'static str, summary: &'static str, tag: &'static str) -> Op {
        Op::new("PATCH", path, summary, tag)
    }
    pub fn delete(path: &'static str, summary: &'static str, tag: &'static str) -> Op {
        Op::new("DELETE", path, summary, tag)
    }

    /// A longer explanation shown under the summary.
    pub fn describe(mut self, text: &'static str) -> Op {
        self.description = Some(text);
        self
    }

    /// The query parameters, from the type the handler reads them into.
    pub fn query<T: IntoParams>(mut self) -> Op {
        for p in T::into_params(|| Some(ParameterIn::Query)) {
            self.query.push(serde_json::to_value(p).unwrap_or_default());
        }
        self
    }

    /// A JSON body of type `T`, required.
    pub fn body<T: ToSchema>(mut self) -> Op {
        let schema = schema_ref::<T>(&mut self.schemas);
        self.body = Some(json!({"required": true, "content": {"application/json": {"schema": schema}}}));
        self
    }

    /// Like [`Op::body`], with an example request.
    pub fn body_example<T: ToSchema>(mut self, example: Value) -> Op {
        self = self.body::<T>();
        if let Some(b) = self.body.as_mut() {
            b["content"]["application/json"]["example"] = example;
        }
        self
    }

    /// A body that is a file (bytes of one of the content types).
    pub fn file_body(mut self, content_types: &[&str]) -> Op {
        let mut content = serde_json::Map::new();
        for ct in content_types {
            content.insert(ct.to_string(), json!({"schema": {"type": "string", "format": "binary"}}));
        }
        self.body = Some(json!({"required": true, "content": content}));
        self
    }

    /// A JSON answer of type `T` with the given status.
    pub fn ok<T: ToSchema>(mut self, status: u16) -> Op {
        let schema = schema_ref::<T>(&mut self.schemas);
        self.ok.push((
            status,
            json!({"description": describe_status(status), "content": {"application/json": {"schema": schema}}}),
        ));
        self
    }

    /// Like [`Op::ok`], with an example answer.
    pub fn ok_example<T: ToSchema>(mut self, status: u16, example: Value) -> Op {
        self = self.ok::<T>(status);
        if let Some((_, r)) = self.ok.last_mut() {
            r["content"]["application/json"]["example"] = example;
        }
        self
    }

    /// A page of `T`: `{"items": [T…], "next_cursor": string|null}`.
    pub fn page<T: ToSchema>(mut self) -> Op {
        let item = schema_ref::<T>(&mut self.schemas);
        let schema = json!({"type": "object", "required": ["items", "next_cursor"], "properties": {
            "items": {"type": "array", "items": item},
            "next_cursor": {"type": ["string", "null"], "description": "Pass as `cursor` for the next page; null on the last page."}}});
        self.ok.push((
            200,
            json!({"description": "A page of items", "content": {"application/json": {"schema": schema}}}),
        ));
        self
    }

    /// A whole list in the shape of a page: `{"items": [T…], "next_cursor": null}` ([`OnePage`]).
    pub fn one_page<T: ToSchema>(mut self, status: u16) -> Op {
        let item = schema_ref::<T>(&mut self.schemas);
        let schema = json!({"type": "object", "required": ["items", "next_cursor"], "properties": {
            "items": {"type": "array", "items": item},
            "next_cursor": {"type": "null", "description": "Always null: the list is one page."}}});
        self.ok.push((
            status,
            json!({"description": describe_status(status), "content": {"application/json": {"schema": schema}}}),
        ));
        self
    }

    /// A JSON answer described by a literal schema (for small ad-hoc shapes).
    pub fn ok_schema(mut self, status: u16, schema: Value) -> Op {
        self.ok.push((
            status,
            json!({"description": describe_status(status), "content": {"application/json": {"schema": schema}}}),
        ));
        self
    }

    /// 204: done, nothing to say.
    pub fn no_content(mut self) -> Op {
        self.ok.push((204, json!({"description": "Done; no body"})));
        self
    }

    /// A download: CSV (default) or XLSX (`?format=xlsx`).
    pub fn download(mut self) -> Op {
        self.ok.push((200, download_response()));
        self
    }

    /// Registers the `Format` schema that a `FormatQuery` parameter refers to.
    pub fn with_format_schema(mut self) -> Op {
        schema_ref::<Format>(&mut self.schemas);
        self
    }

    /// A report: JSON of type `T`, or a CSV/XLSX download with `?format=csv|xlsx`.
    pub fn report<T: ToSchema>(mut self) -> Op {
        let schema = schema_ref::<T>(&mut self.schemas);
        let mut r = download_response();
        r["description"] = json!("The report as JSON, or as a CSV/XLSX download with `?format=csv|xlsx`");
        r["content"]["application/json"] = json!({"schema": schema});
        self.ok.push((200, r));
        self
    }

    /// Error statuses this operation can answer beyond the defaults (401, 403, 422; 404 with a
    /// path parameter; 409 for PATCH and DELETE; 413 with a body; 415 with a JSON body).
    pub fn errors(mut self, statuses: &[u16]) -> Op {
        self.errors.extend(statuses.iter().copied());
        self
    }

    /// Every error status the operation can answer.
    pub fn error_statuses(&self) -> BTreeSet<u16> {
        let mut s: BTreeSet<u16> = [401, 403].into_iter().collect();
        if self.path.contains('{') {
            s.insert(404);
        }
        // Any operation refuses a query's `sort` it does not offer (`api::Unsorted`).
        s.insert(422);
        if let Some(b) = &self.body {
            s.insert(413);
            if b["content"].get("application/json").is_some() {
                s.insert(415);
            }
        }
        if matches!(self.method, "PATCH" | "DELETE") {
            s.insert(409);
        }
        // Any operation may find the database unreachable; any write, the disk full.
        s.insert(503);
        if self.method != "GET" {
            s.insert(507);
        }
        s.extend(self.errors.iter().copied());
        s
    }
}

fn download_response() -> Value {
    json!({"description": "A download (attachment): CSV, UTF-8 with BOM, or XLSX with `?format=xlsx`", "content": {
        "text/csv": {"schema": {"type": "string"}},
        XLSX: {"schema": {"type": "string", "format": "binary"}}}})
}

fn describe_status(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        _ => "Success",
    }
}

/// Yuan as a decimal string with at most two decimals ("1200000", "1200000.50"). A JSON
/// number is refused (`money_must_be_string`): money never passes through a float.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Money(pub String);

impl<'de> serde::Deserialize<'de> for Money {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::String(s) => Ok(Money(s)),
            Value::Number(_) => Err(serde::de::Error::custom("money_must_be_string")),
            _ => Err(serde::de::Error::custom("money_format")),
        }
    }
}

impl utoipa::PartialSchema for Money {
    fn schema() -> RefOr<Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(crate::web::openapi::MONEY_PATTERN))
            .description(Some("Yuan (元) as a decimal string, at most two decimals; never a JSON number"))
            .examples(["1200000.00"])
            .into()
    }
}

impl ToSchema for Money {
    fn name() -> std::borrow::Cow<'static, str> {
        "Money".into()
    }
}

/// A calendar date, `YYYY-MM-DD`; an empty string is none (as an empty form field), which the
/// document says.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Date(pub String);

impl utoipa::PartialSchema for Date {
    fn schema() -> RefOr<Schema> {
        use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Type};
        let date = ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Date)));
        AnyOfBuilder::new()
            .item(date)
            .item(ObjectBuilder::new().schema_type(Type::String).max_length(Some(0)))
            .description(Some("`YYYY-MM-DD`; an empty string is none"))
            .examples(["2026-12-31"])
            .into()
    }
}

impl ToSchema for Date {
    fn name() -> std::borrow::Cow<'static, str> {
        "Date".into()
    }
}

/// `{"count": n}`: how many records match.
#[derive(serde::Serialize, ToSchema)]
pub struct Count {
    pub count: i64,
}

/// `?cursor=&limit=`: paging of a list.
#[derive(serde::Deserialize, IntoParams)]
pub struct PageQuery {
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Items per page, 50 when absent.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// `?version=`: the version the caller read; a stale one is 409.
#[derive(serde::Deserialize, IntoParams)]
pub struct VersionQuery {
    pub version: Option<i64>,
}

/// `?format=csv|xlsx`: a download's format (CSV when absent).
#[derive(serde::Deserialize, IntoParams)]
pub struct FormatQuery {
    pub format: Option<Format>,
}

impl FormatQuery {
    pub fn code(&self) -> Option<&'static str> {
        self.format.map(Format::code)
    }
}

/// A download's format.
#[derive(serde::Deserialize, ToSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    pub fn code(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }
}

/// A typed path: `Params<Id>`, `Params<(Id, String)>`. A malformed id is 404, as for an id
/// that does not exist.
pub struct Params<T>(pub T);

impl<T, S> FromRequestParts<S> for Params<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, s: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, s).await {
            Ok(axum::extract::Path(v)) => Ok(Params(v)),
            Err(_) => Err(DomainError::NotFound.into()),
        }
    }
}

/// A record id in a path: digits only (anything else is "not found").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Id(pub i64);

impl<'de> serde::Deserialize<'de> for Id {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map(Id).map_err(|_| serde::de::Error::custom("not an id"))
    }
}

/// The query string read into `T` (derive `Deserialize` and `IntoParams`). Empty values count
/// as absent; repeated keys fill a `Vec`. A value of the wrong type is 422 naming the field.
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _s: &S) -> Result<Self, Self::Rejection> {
        let raw = parts.uri.query().unwrap_or("");
        Ok(Query(parse_query(raw)?))
    }
}

/// Reads a query string into `T` (see [`Query`]).
pub fn parse_query<T: DeserializeOwned>(raw: &str) -> Result<T, DomainError> {
    let pairs: Vec<(String, String)> = serde_html_form::from_str(raw).unwrap_or_default();
    let pairs: Vec<(String, String)> = pairs.into_iter().filter(|(_, v)| !v.trim().is_empty()).collect();
    let clean = serde_html_form::to_string(&pairs).unwrap_or_default();
    match serde_html_form::from_str::<T>(&clean) {
        Ok(v) => Ok(v),
        Err(e) => {
            // Name the field: the first pair that alone does not read.
            let msg = e.to_string();
            let field = pairs
                .iter()
                .find(|p| {
                    serde_html_form::from_str::<T>(&serde_html_form::to_string([*p]).unwrap_or_default()).is_err()
                })
                .map(|(k, _)| k.clone())
                .unwrap_or_else(|| "query".to_string());
            Err(DomainError::invalid(field, code_of(&msg)))
        }
    }
}

/// Codes a type's own deserializer reports as its whole message (`serde::de::Error::custom`).
const OWN_CODES: &[&str] = &["money_must_be_string", "money_format", "date_format", "datetime_format"];

/// A stable field-error code for a serde message.
fn code_of(msg: &str) -> &'static str {
    let head = msg.split(" at line").next().unwrap_or(msg);
    if let Some(c) = OWN_CODES.iter().find(|c| **c == head) {
        c
    } else if msg.contains("unknown field") {
        "unknown_field"
    } else if msg.contains("unknown variant") {
        "invalid_choice"
    } else if msg.contains("missing field") {
        "required"
    } else if msg.contains("invalid digit") || msg.contains("expected i64") || msg.contains("integer") {
        "expected_integer"
    } else if msg.contains("expected a boolean") || msg.contains("provided string was not `true` or `false`") {
        "expected_boolean"
    } else if msg.contains("expected a string") {
        "expected_string"
    } else if msg.contains("expected a sequence") || msg.contains("expected struct") || msg.contains("expected a map") {
        "expected_object"
    } else {
        "invalid_format"
    }
}

/// The keys a JSON object of this schema may hold, or `None` when it takes any (a free-form
/// object, `additionalProperties` other than `false`, or a choice of shapes). `components`
/// resolves `$ref`s. The one rule behind both the server's check of a body's keys
/// ([`JsonOf`]) and the document's `additionalProperties: false` on request bodies.
pub fn object_keys(schema: &Value, components: &serde_json::Map<String, Value>) -> Option<BTreeSet<String>> {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or(r);
        return object_keys(components.get(name)?, components);
    }
    if schema.get("additionalProperties").is_some_and(|a| a != &Value::Bool(false))
        || schema.get("oneOf").is_some()
        || schema.get("anyOf").is_some()
    {
        return None;
    }
    let mut keys: BTreeSet<String> =
        schema.get("properties").and_then(Value::as_object).map(|p| p.keys().cloned().collect()).unwrap_or_default();
    match schema.get("allOf").and_then(Value::as_array) {
        Some(parts) => {
            for p in parts {
                keys.extend(object_keys(p, components)?);
            }
        }
        None if schema.get("properties").is_none() => return None,
        None => {}
    }
    Some(keys)
}

/// The keys a body of type `T` may hold (see [`object_keys`]), worked out once per type.
fn body_keys<T: ToSchema>() -> Option<std::sync::Arc<BTreeSet<String>>> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};
    type Cache = Mutex<HashMap<&'static str, Option<Arc<BTreeSet<String>>>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let key = std::any::type_name::<T>();
    if let Some(k) = cache.lock().ok().and_then(|c| c.get(key).cloned()) {
        return k;
    }
    let mut refs = Schemas::new();
    T::schemas(&mut refs);
    let components: serde_json::Map<String, Value> =
        refs.into_iter().map(|(n, s)| (n, serde_json::to_value(s).unwrap_or_default())).collect();
    let keys = object_keys(&serde_json::to_value(T::schema()).unwrap_or_default(), &components).map(Arc::new);
    if let Ok(mut c) = cache.lock() {
        c.insert(key, keys.clone());
    }
    keys
}

/// A JSON object body read as `T` (which the OpenAPI document shows), for a handler that reads
/// nothing else of it, strictly: anything but an object is 422 `expected_object` (field
/// `body`); a key `T`'s schema does not name is 422 `unknown_field` naming it (every such key
/// at once); a field of the wrong JSON type is 422 naming the field; 415 without
/// `Content-Type: application/json`; 413 when too large. `raw` is the body as sent (checked).
pub struct Typed<T> {
    pub typed: T,
    pub raw: Value,
}

impl<T: DeserializeOwned + ToSchema> Typed<T> {
    /// Reads an already parsed body.
    pub fn from_value(raw: Value) -> Result<Self, DomainError> {
        let Some(obj) = raw.as_object() else {
            return Err(DomainError::invalid("body", "expected_object"));
        };
        if let Some(keys) = body_keys::<T>() {
            let mut e = crate::domain::error::Errors::default();
            for k in obj.keys().filter(|k| !keys.contains(*k)) {
                e.add(k, "unknown_field");
            }
            e.finish()?;
        }
        Ok(Typed { typed: typed_of(&raw)?, raw })
    }
}

impl<T> FromRequest<AppState> for Typed<T>
where
    T: DeserializeOwned + ToSchema + Send,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, s: &AppState) -> Result<Self, Self::Rejection> {
        let JsonBody(raw) = JsonBody::from_request(req, s).await?;
        Ok(Typed::from_value(raw)?)
    }
}

/// `raw` read as `T`, a field of the wrong JSON type named.
fn typed_of<T: DeserializeOwned>(raw: &Value) -> Result<T, DomainError> {
    serde_path_to_error::deserialize(raw).map_err(|e| {
        let field = e.path().to_string();
        let field = if field == "." { "body".to_string() } else { field };
        DomainError::invalid(field, code_of(&e.inner().to_string()))
    })
}

/// A JSON object body read as `T`, keeping it whole (`raw`) for a use case that reads nested
/// objects and arrays itself — and so checks the keys itself, reporting every problem at once
/// (unknown keys among them); otherwise as [`Typed`].
pub struct JsonOf<T> {
    pub typed: T,
    pub raw: Value,
}

impl<T: DeserializeOwned> JsonOf<T> {
    /// Reads an already parsed body.
    pub fn from_value(raw: Value) -> Result<Self, DomainError> {
        if !raw.is_object() {
            return Err(DomainError::invalid("body", "expected_object"));
        }
        Ok(JsonOf { typed: typed_of(&raw)?, raw })
    }
}

impl<T> FromRequest<AppState> for JsonOf<T>
where
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, s: &AppState) -> Result<Self, Self::Rejection> {
        let JsonBody(raw) = JsonBody::from_request(req, s).await?;
        Ok(JsonOf::from_value(raw)?)
    }
}

/// A flat JSON body read as `T` ([`JsonOf`]) and handed to a use case as its [`Input`] (shared
/// with the UI's forms, so every rule is checked once). The use case checks the keys
/// (`Input::check_keys`: `unknown_field`, and `forbidden_field` for a field of the record the
/// caller may not set), with its other rules, all at once; a handler that only reads `T` takes
/// [`Typed`].
pub struct Body<T> {
    pub typed: T,
    pub input: Input,
}

impl<T: DeserializeOwned> Body<T> {
    /// Reads an already parsed body (a presenter that took nested parts out first).
    pub fn from_value(raw: Value) -> Result<Self, DomainError> {
        let JsonOf { typed, raw } = JsonOf::<T>::from_value(raw)?;
        let input = Input::from_json(&raw)?;
        Ok(Body { typed, input })
    }
}

impl<T> FromRequest<AppState> for Body<T>
where
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, s: &AppState) -> Result<Self, Self::Rejection> {
        let JsonBody(raw) = JsonBody::from_request(req, s).await?;
        Ok(Body::from_value(raw)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct F {
        q: Option<String>,
        limit: Option<i64>,
        #[serde(default)]
        map: Vec<String>,
    }

    #[test]
    fn a_query_reads_typed_values_and_names_the_bad_field() {
        let f: F = parse_query("q=%E5%8C%97&limit=&map=a:b&map=c:").expect("reads");
        assert_eq!(f.q.as_deref(), Some("北"));
        assert_eq!(f.limit, None, "an empty value is absent");
        assert_eq!(f.map, vec!["a:b".to_string(), "c:".to_string()]);
        match parse_query::<F>("q=x&limit=ten") {
            Err(DomainError::Invalid(v)) => {
                assert_eq!(v[0].field, "limit");
                assert_eq!(v[0].code, "expected_integer");
            }
            other => panic!("expected invalid limit, got {other:?}"),
        }
    }
}

/// `?format=json|csv|xlsx`: a report as JSON (default) or as a download.
#[derive(Deserialize, IntoParams)]
pub struct ReportFormatQuery {
    /// `json` (default), `csv` or `xlsx`.
    #[param(inline)]
    pub format: Option<ReportFormat>,
}

/// A report's format.
#[derive(Deserialize, ToSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    Json,
    Csv,
    Xlsx,
}

/// A report as JSON, or with `?format=csv|xlsx` as that download (column keys as headers).
pub fn report<T: Serialize>(v: T, f: ReportFormatQuery, table: impl FnOnce(&T) -> Table, name: &str) -> ApiResult {
    match f.format {
        None | Some(ReportFormat::Json) => Ok(Json(v).into_response()),
        Some(ReportFormat::Csv) => Ok(export_response(&table(&v), Some("csv"), name)?),
        Some(ReportFormat::Xlsx) => Ok(export_response(&table(&v), Some("xlsx"), name)?),
    }
}

/// Adds an example to the JSON answer of a [`Op::report`] (which keeps its downloads).
pub fn report_example(mut op: Op, example: Value) -> Op {
    if let Some((_, r)) = op.ok.iter_mut().rev().find(|(status, _)| *status == 200) {
        r["content"]["application/json"]["example"] = example;
    }
    op
}

/// A whole list answered in the shape of a page (`next_cursor` always null), so clients read
/// every list the same way ([`Op::one_page`]).
#[derive(Serialize)]
pub struct OnePage<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<()>,
}

impl<T: Serialize> OnePage<T> {
    pub fn of(items: Vec<T>) -> Json<OnePage<T>> {
        Json(OnePage { items, next_cursor: None })
    }
}
