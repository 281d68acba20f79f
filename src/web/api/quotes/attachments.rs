//! The files of quotes and bids: list, upload (multipart: `file`, `note`), download, remove.
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::handler::Handler;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;

use crate::app::quotes::files::Holder;
use crate::app::records::attachments::{Attachment, FileHolder, FileIn, MAX_BYTES};
use crate::domain::DomainError;
use crate::web::api::contract::{Id, OnePage};
use crate::web::api::customers::documents::{file_response, read_multipart, Parts};
use crate::web::api::{Api, ApiResult, Op, Params};
use crate::web::auth::ApiCtx;
use crate::web::AppState;

pub fn routes(api: Api) -> Api {
    let limit = || DefaultBodyLimit::max(MAX_BYTES + 64 * 1024);
    api.add(
        Op::get("/api/v1/quotes/{id}/attachments", "A quote's files (附件), oldest first", "quotes")
            .one_page::<Attachment>(200),
        |s, c, p| list(s, c, p, Holder::Quote),
    )
    .add(
        upload_body(Op::post(
            "/api/v1/quotes/{id}/attachments",
            "Enclose a file with a quote, under its latest version (not once the quote is lost or expired)",
            "quotes",
        ))
        .ok::<Attachment>(201)
        .errors(&[409, 413]),
        (|s, c, p, m| upload(s, c, p, m, Holder::Quote)).layer(limit()),
    )
    .add(download_op("/api/v1/quotes/{id}/attachments/{file_id}", "quotes"), |s, c, p| download(s, c, p, Holder::Quote))
    .add(
        Op::delete(
            "/api/v1/quotes/{id}/attachments/{file_id}",
            "Remove a quote's file: one added under the latest version while it is a draft or awaits approval",
            "quotes",
        )
        .no_content()
        .errors(&[409]),
        |s, c, p| remove(s, c, p, Holder::Quote),
    )
    .add(
        Op::get("/api/v1/bids/{id}/attachments", "A bid's documents (招标文件, 投标文件…), oldest first", "bids")
            .one_page::<Attachment>(200),
        |s, c, p| list(s, c, p, Holder::Bid),
    )
    .add(
        upload_body(Op::post("/api/v1/bids/{id}/attachments", "Add a document to a bid", "bids"))
            .ok::<Attachment>(201)
            .errors(&[409, 413]),
        (|s, c, p, m| upload(s, c, p, m, Holder::Bid)).layer(limit()),
    )
    .add(download_op("/api/v1/bids/{id}/attachments/{file_id}", "bids"), |s, c, p| download(s, c, p, Holder::Bid))
    .add(
        Op::delete(
            "/api/v1/bids/{id}/attachments/{file_id}",
            "Remove a bid's document while the tender is open",
            "bids",
        )
        .no_content()
        .errors(&[409]),
        |s, c, p| remove(s, c, p, Holder::Bid),
    )
}

pub(crate) fn download_op(path: &'static str, tag: &'static str) -> Op {
    let mut op = Op::get(path, "Download a file (always as an attachment)", tag);
    op.ok.push((
        200,
        json!({"description": "The file's bytes as an attachment, typed as sniffed from the bytes (types a browser \
            would run are sent as application/octet-stream)",
            "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}}),
    ));
    op
}

/// The upload form as the operation's body: `file`, and optionally `note`.
pub(crate) fn upload_body(mut op: Op) -> Op {
    op.body = Some(json!({"required": true, "content": {"multipart/form-data": {"schema": {
        "type": "object",
        "required": ["file"],
        "properties": {
            "file": {"type": "string", "format": "binary", "description": format!("The file, at most {MAX_BYTES} bytes; not empty")},
            "note": {"type": "string", "maxLength": 200, "description": "What the file is (「技术规格书」, 「招标文件」…)"}
        }
    }}}}));
    op
}

/// An upload's parts; a body that is not multipart/form-data is a field error like any other.
pub(crate) async fn parts(m: Result<Multipart, MultipartRejection>) -> Result<Parts, DomainError> {
    read_multipart(m.map_err(|_| DomainError::invalid("file", "invalid_form"))?).await
}

pub(crate) fn file_in(p: &Parts) -> FileIn<'_> {
    FileIn { file_name: &p.file_name, note: p.get("note"), bytes: &p.bytes }
}

/// A record's files (any [`FileHolder`]).
pub(crate) async fn list<H: FileHolder>(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(Id(id)): Params<Id>,
    h: H,
) -> ApiResult {
    Ok(OnePage::of(h.list(&s.app.db, &c.ctx.caller, id).await?).into_response())
}

/// Adds a file to a record (any [`FileHolder`]).
pub(crate) async fn upload<H: FileHolder>(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(Id(id)): Params<Id>,
    m: Result<Multipart, MultipartRejection>,
    h: H,
) -> ApiResult {
    let p = parts(m).await?;
    let a = h.attach(&s.app.db, &c.ctx, &s.app.settings.files(), id, &file_in(&p)).await?;
    Ok((StatusCode::CREATED, Json(a)).into_response())
}

/// A record's file (any [`FileHolder`]).
pub(crate) async fn download<H: FileHolder>(
    State(s): State<AppState>,
    c: ApiCtx,
    Params((Id(id), Id(f))): Params<(Id, Id)>,
    h: H,
) -> ApiResult {
    let (a, bytes) = h.file(&s.app.db, &c.ctx.caller, &s.app.settings.files(), id, f).await?;
    Ok(file_response(&a.file_name, &a.content_type, bytes))
}

/// Removes a record's file (any [`FileHolder`]).
pub(crate) async fn remove<H: FileHolder>(
    State(s): State<AppState>,
    c: ApiCtx,
    Params((Id(id), Id(f))): Params<(Id, Id)>,
    h: H,
) -> ApiResult {
    h.detach(&s.app.db, &c.ctx, id, f).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
