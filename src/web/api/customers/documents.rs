//! Account documents: upload (multipart), list, download.
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::handler::Handler;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::app::customers::documents::{self, DocType, Document, Upload, MAX_BYTES};
use crate::domain::DomainError;
use crate::web::api::contract::{schema_ref, Id, OnePage};
use crate::web::api::{Api, ApiResult, Op, Params};
use crate::web::auth::ApiCtx;
use crate::web::AppState;

pub fn routes(api: Api) -> Api {
    let mut download_op =
        Op::get("/api/v1/documents/{id}/download", "Download a document (always as an attachment)", "documents");
    download_op.ok.push((
        200,
        json!({"description": "The file's bytes as an attachment, typed as sniffed from the bytes (types a browser \
            would run are sent as application/octet-stream)",
            "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}}),
    ));
    api.add(
        Op::get("/api/v1/accounts/{id}/documents", "The account's documents", "documents").one_page::<Document>(200),
        list,
    )
    .add(
        upload_body(Op::post(
            "/api/v1/accounts/{id}/documents",
            "Upload a document (multipart/form-data: file, title, doc_type); the same title makes a new version",
            "documents",
        ))
        .ok::<Document>(201),
        upload.layer(DefaultBodyLimit::max(MAX_BYTES + 64 * 1024)),
    )
    .add(download_op, download)
}

/// The upload form as the operation's body: `file`, and optionally `title` and `doc_type`.
fn upload_body(mut op: Op) -> Op {
    let doc_type = schema_ref::<DocType>(&mut op.schemas);
    op.body = Some(json!({"required": true, "content": {"multipart/form-data": {"schema": {
        "type": "object",
        "required": ["file"],
        "properties": {
            "file": {"type": "string", "format": "binary", "description": format!("The file, at most {MAX_BYTES} bytes; not empty")},
            "title": {"type": "string", "maxLength": 200, "description": "The document's title (the file name when absent); an existing title gets a new version"},
            "doc_type": {"allOf": [doc_type], "description": "`other` when absent"}
        }
    }}}}));
    op
}

async fn list(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    let items = documents::list(&s.app.db, &c.ctx.caller, id).await?;
    Ok(OnePage::of(items).into_response())
}

/// The parts of an upload form: the file and the text fields beside it.
pub struct Parts {
    pub fields: Vec<(String, String)>,
    pub file_name: String,
    /// The file as received (not copied: an import's may be 64 MB).
    pub bytes: axum::body::Bytes,
}

pub async fn read_multipart(mut m: Multipart) -> Result<Parts, DomainError> {
    let mut p = Parts { fields: vec![], file_name: String::new(), bytes: axum::body::Bytes::new() };
    loop {
        let field = match m.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(DomainError::PayloadTooLarge),
            Err(_) => return Err(DomainError::invalid("file", "invalid_form")),
        };
        let name = field.name().unwrap_or("").to_string();
        if name == "file" {
            p.file_name = field.file_name().unwrap_or("").to_string();
            p.bytes = match field.bytes().await {
                Ok(b) => b,
                Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(DomainError::PayloadTooLarge),
                Err(_) => return Err(DomainError::invalid("file", "invalid_form")),
            };
        } else {
            let v = field.text().await.map_err(|_| DomainError::invalid(&name, "invalid_form"))?;
            p.fields.push((name, v));
        }
    }
    Ok(p)
}

impl Parts {
    pub fn get(&self, k: &str) -> Option<&str> {
        self.fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str()).filter(|v| !v.trim().is_empty())
    }
    pub fn upload(&self) -> Upload<'_> {
        Upload {
            title: self.get("title"),
            doc_type: self.get("doc_type"),
            file_name: &self.file_name,
            bytes: &self.bytes,
        }
    }
}

async fn upload(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(Id(id)): Params<Id>,
    m: Result<Multipart, MultipartRejection>,
) -> ApiResult {
    // A body that is not multipart/form-data is a field error like any other, not a bare 400.
    let m = m.map_err(|_| DomainError::invalid("file", "invalid_form"))?;
    let parts = read_multipart(m).await?;
    let d = documents::upload(&s.app.db, &c.ctx, &s.app.settings.files(), id, &parts.upload()).await?;
    Ok((StatusCode::CREATED, Json(d)).into_response())
}

/// The bytes as a download: the sniffed type, `attachment`, and a sandboxing CSP, so no
/// browser ever renders an uploaded HTML or SVG file as a page of KAM.
pub fn attachment(d: &Document, bytes: Vec<u8>) -> Response {
    file_response(&d.file_name, &d.content_type, bytes)
}

/// Stored bytes as a download under their file name (see [`attachment`]).
pub fn file_response(file_name: &str, content_type: &str, bytes: Vec<u8>) -> Response {
    let ascii: String =
        file_name.chars().map(|c| if c.is_ascii_alphanumeric() || ".-_".contains(c) { c } else { '_' }).collect();
    let utf8 = percent_encoding::utf8_percent_encode(file_name, percent_encoding::NON_ALPHANUMERIC).to_string();
    // Types a browser would run are handed out as plain bytes.
    let active = ["html", "xml", "svg", "javascript", "ecmascript", "pdf"].iter().any(|a| content_type.contains(a));
    let ctype = if active { "application/octet-stream".to_string() } else { content_type.to_string() };
    (
        [
            (header::CONTENT_TYPE, ctype),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{utf8}")),
            (header::CONTENT_SECURITY_POLICY, "default-src 'none'; sandbox".to_string()),
        ],
        bytes,
    )
        .into_response()
}

async fn download(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    let (d, bytes) = documents::download(&s.app.db, &c.ctx.caller, &s.app.settings.files(), id).await?;
    Ok(attachment(&d, bytes))
}
