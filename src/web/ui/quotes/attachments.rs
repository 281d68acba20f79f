//! The files of quotes and bids on their pages: upload (a multipart form carrying its CSRF
//! token), download, remove (confirmed). A refused upload shows the record's page again with
//! the reason. Every change goes through `app::quotes::files`.
use axum::extract::{Multipart, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::app::quotes::files::Holder;
use crate::app::records::attachments::{FileHolder, MAX_BYTES};
use crate::domain::DomainError;
use crate::web::api::customers::documents::{file_response, read_multipart, Parts};
use crate::web::api::id_of;
use crate::web::api::quotes::attachments::file_in;
use crate::web::auth::{UiCtx, UiForm};
use crate::web::ui::fail_page;
use crate::web::ui::forms::with_flash;
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    let limit = || axum::extract::DefaultBodyLimit::max(MAX_BYTES + 64 * 1024);
    let mut r = Router::new();
    for h in [Holder::Quote, Holder::Bid] {
        let base = format!("/{}/{{id}}/attachments", h.path());
        r = r
            .route(&base, post(move |s, ui, p, m| upload(s, ui, p, m, h)).layer(limit()))
            .route(&format!("{base}/{{file_id}}"), get(move |s, ui, p| download(s, ui, p, h)))
            .route(&format!("{base}/{{file_id}}/remove"), post(move |s, p, form| remove(s, p, form, h)));
    }
    r
}

/// The upload's parts, its CSRF token checked like any form's.
pub(crate) async fn parts(ui: &UiCtx, m: Multipart) -> Result<Parts, DomainError> {
    let p = read_multipart(m).await?;
    if !crate::web::auth::same_secret(p.get("_csrf").unwrap_or(""), &ui.csrf) {
        return Err(DomainError::Csrf);
    }
    Ok(p)
}

fn ids(id: &str, file_id: &str) -> Result<(i64, i64), DomainError> {
    Ok((id_of(id)?, id_of(file_id)?))
}

/// Where a file change leaves the user: the record's files, with the flash.
fn back(h: Holder, id: i64, flash: &str) -> Response {
    Redirect::to(&with_flash(&format!("/{}/{id}#attachments", h.path()), flash)).into_response()
}

/// A refusal the user can act on shows the record again with its reason; the rest is the
/// error page.
pub(crate) fn recoverable(e: &DomainError) -> bool {
    matches!(e, DomainError::Invalid(_) | DomainError::Conflict(_) | DomainError::PayloadTooLarge)
}

/// The record's page again, with the reason of a refusal.
async fn again(s: &AppState, ui: &UiCtx, h: Holder, id: i64, e: DomainError) -> Response {
    match h {
        Holder::Quote => super::quotes::show_page(s, ui, id, None, Some(e)).await,
        Holder::Bid => super::bids::show_page(s, ui, id, "attach", vec![], Some(e)).await,
    }
}

async fn upload(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>, m: Multipart, h: Holder) -> Response {
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(&ui, e),
    };
    let res = async {
        let p = parts(&ui, m).await?;
        h.attach(&s.app.db, &ui.ctx, &s.app.settings.files(), id, &file_in(&p)).await
    }
    .await;
    match res {
        Ok(_) => back(h, id, "attached"),
        Err(e) if recoverable(&e) => again(&s, &ui, h, id, e).await,
        Err(e) => fail_page(&ui, e),
    }
}

/// A record's file (any [`FileHolder`]), or the error page.
pub(crate) async fn download<H: FileHolder>(
    State(s): State<AppState>,
    ui: UiCtx,
    Path((id, f)): Path<(String, String)>,
    h: H,
) -> Response {
    let res = async {
        let (id, f) = ids(&id, &f)?;
        h.file(&s.app.db, &ui.ctx.caller, &s.app.settings.files(), id, f).await
    }
    .await;
    match res {
        Ok((a, bytes)) => file_response(&a.file_name, &a.content_type, bytes),
        Err(e) => fail_page(&ui, e),
    }
}

async fn remove(State(s): State<AppState>, Path((id, f)): Path<(String, String)>, form: UiForm, h: Holder) -> Response {
    let ui = &form.ui;
    let (id, f) = match ids(&id, &f) {
        Ok(x) => x,
        Err(e) => return fail_page(ui, e),
    };
    match h.detach(&s.app.db, &ui.ctx, id, f).await {
        Ok(()) => back(h, id, "detached"),
        Err(e) if recoverable(&e) => again(&s, ui, h, id, e).await,
        Err(e) => fail_page(ui, e),
    }
}
