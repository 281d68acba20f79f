//! The files of quotes and bids on their pages: upload (a multipart form carrying its CSRF
//! token), download, remove (confirmed). A refused upload shows the record's page again with
//! the reason. Every change goes through `app::quotes::{quotes, bids}`.
use axum::extract::{Multipart, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::app::quotes::{bids, quotes};
use crate::app::records::attachments::{FileIn, MAX_BYTES};
use crate::domain::DomainError;
use crate::web::api::customers::documents::{file_response, read_multipart, Parts};
use crate::web::api::id_of;
use crate::web::auth::{UiCtx, UiForm};
use crate::web::ui::fail_page;
use crate::web::ui::forms::with_flash;
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    let limit = || axum::extract::DefaultBodyLimit::max(MAX_BYTES + 64 * 1024);
    Router::new()
        .route("/quotes/{id}/attachments", post(quote_upload).layer(limit()))
        .route("/quotes/{id}/attachments/{file_id}", get(quote_download))
        .route("/quotes/{id}/attachments/{file_id}/remove", post(quote_remove))
        .route("/bids/{id}/attachments", post(bid_upload).layer(limit()))
        .route("/bids/{id}/attachments/{file_id}", get(bid_download))
        .route("/bids/{id}/attachments/{file_id}/remove", post(bid_remove))
}

/// The upload's parts, its CSRF token checked like any form's.
async fn parts(ui: &UiCtx, m: Multipart) -> Result<Parts, DomainError> {
    let p = read_multipart(m).await?;
    if !crate::web::auth::same_secret(p.get("_csrf").unwrap_or(""), &ui.csrf) {
        return Err(DomainError::Csrf);
    }
    Ok(p)
}

fn file_in(p: &Parts) -> FileIn<'_> {
    FileIn { file_name: &p.file_name, note: p.get("note"), bytes: &p.bytes }
}

fn ids(id: &str, file_id: &str) -> Result<(i64, i64), DomainError> {
    Ok((id_of(id)?, id_of(file_id)?))
}

/// Where a file change leaves the user: the record's files, with the flash.
fn back(base: &str, id: i64, flash: &str) -> Response {
    Redirect::to(&with_flash(&format!("/{base}/{id}#attachments"), flash)).into_response()
}

/// A refusal the user can act on shows the record again with its reason; the rest is the
/// error page.
fn recoverable(e: &DomainError) -> bool {
    matches!(e, DomainError::Invalid(_) | DomainError::Conflict(_) | DomainError::PayloadTooLarge)
}

async fn quote_upload(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>, m: Multipart) -> Response {
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(&ui, e),
    };
    let res = async {
        let p = parts(&ui, m).await?;
        quotes::attach(&s.app.db, &ui.ctx, &s.app.settings.data_dir, id, &file_in(&p)).await
    }
    .await;
    match res {
        Ok(_) => back("quotes", id, "attached"),
        Err(e) if recoverable(&e) => super::quotes::show_page(&s, &ui, id, None, Some(e)).await,
        Err(e) => fail_page(&ui, e),
    }
}

async fn quote_download(State(s): State<AppState>, ui: UiCtx, Path((id, f)): Path<(String, String)>) -> Response {
    let res = async {
        let (id, f) = ids(&id, &f)?;
        quotes::attachment(&s.app.db, &ui.ctx.caller, &s.app.settings.data_dir, id, f).await
    }
    .await;
    match res {
        Ok((a, bytes)) => file_response(&a.file_name, &a.content_type, bytes),
        Err(e) => fail_page(&ui, e),
    }
}

async fn quote_remove(State(s): State<AppState>, Path((id, f)): Path<(String, String)>, form: UiForm) -> Response {
    let ui = &form.ui;
    let (id, f) = match ids(&id, &f) {
        Ok(x) => x,
        Err(e) => return fail_page(ui, e),
    };
    match quotes::detach(&s.app.db, &ui.ctx, id, f).await {
        Ok(()) => back("quotes", id, "detached"),
        Err(e) if recoverable(&e) => super::quotes::show_page(&s, ui, id, None, Some(e)).await,
        Err(e) => fail_page(ui, e),
    }
}

async fn bid_upload(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>, m: Multipart) -> Response {
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(&ui, e),
    };
    let res = async {
        let p = parts(&ui, m).await?;
        bids::attach(&s.app.db, &ui.ctx, &s.app.settings.data_dir, id, &file_in(&p)).await
    }
    .await;
    match res {
        Ok(_) => back("bids", id, "attached"),
        Err(e) if recoverable(&e) => super::bids::show_page(&s, &ui, id, "attach", vec![], Some(e)).await,
        Err(e) => fail_page(&ui, e),
    }
}

async fn bid_download(State(s): State<AppState>, ui: UiCtx, Path((id, f)): Path<(String, String)>) -> Response {
    let res = async {
        let (id, f) = ids(&id, &f)?;
        bids::attachment(&s.app.db, &ui.ctx.caller, &s.app.settings.data_dir, id, f).await
    }
    .await;
    match res {
        Ok((a, bytes)) => file_response(&a.file_name, &a.content_type, bytes),
        Err(e) => fail_page(&ui, e),
    }
}

async fn bid_remove(State(s): State<AppState>, Path((id, f)): Path<(String, String)>, form: UiForm) -> Response {
    let ui = &form.ui;
    let (id, f) = match ids(&id, &f) {
        Ok(x) => x,
        Err(e) => return fail_page(ui, e),
    };
    match bids::detach(&s.app.db, &ui.ctx, id, f).await {
        Ok(()) => back("bids", id, "detached"),
        Err(e) if recoverable(&e) => super::bids::show_page(&s, ui, id, "attach", vec![], Some(e)).await,
        Err(e) => fail_page(ui, e),
    }
}
