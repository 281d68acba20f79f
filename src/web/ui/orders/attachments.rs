//! The files of orders (the signed contract) and outbounds (the acceptance document) on the
//! order's page: upload (a multipart form carrying its CSRF token), download, remove
//! (confirmed). A refused upload shows the order's page again with the reason. Every change
//! goes through `app::orders::files`.
use axum::extract::{Multipart, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::app::orders::files::Holder;
use crate::app::records::attachments::{FileHolder, MAX_BYTES};
use crate::domain::DomainError;
use crate::web::api::id_of;
use crate::web::api::quotes::attachments::file_in;
use crate::web::auth::{UiCtx, UiForm};
use crate::web::ui::fail_page;
use crate::web::ui::forms::with_flash;
use crate::web::ui::quotes::attachments::{download, parts, recoverable};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    let limit = || axum::extract::DefaultBodyLimit::max(MAX_BYTES + 64 * 1024);
    let mut r = Router::new();
    for h in [Holder::Order, Holder::Outbound] {
        let base = format!("/{}/{{id}}/attachments", h.path());
        r = r
            .route(&base, post(move |s, ui, p, m| upload(s, ui, p, m, h)).layer(limit()))
            .route(&format!("{base}/{{file_id}}"), get(move |s, ui, p| download(s, ui, p, h)))
            .route(&format!("{base}/{{file_id}}/remove"), post(move |s, p, form| remove(s, p, form, h)));
    }
    r
}

/// The order whose page shows the record's files.
async fn order_of(s: &AppState, ui: &UiCtx, h: Holder, id: i64) -> Result<i64, DomainError> {
    match h {
        Holder::Order => Ok(id),
        Holder::Outbound => crate::app::orders::deliveries::order_of(&s.app.db, &ui.ctx.caller, id).await,
    }
}

fn anchor(h: Holder, id: i64) -> String {
    match h {
        Holder::Order => "attachments".into(),
        Holder::Outbound => format!("outbound-{id}"),
    }
}

async fn upload(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>, m: Multipart, h: Holder) -> Response {
    let res = async {
        let id = id_of(&id)?;
        Ok::<_, DomainError>((id, order_of(&s, &ui, h, id).await?))
    }
    .await;
    let (id, order) = match res {
        Ok(x) => x,
        Err(e) => return fail_page(&ui, e),
    };
    let res = async {
        let p = parts(&ui, m).await?;
        h.attach(&s.app.db, &ui.ctx, &s.app.settings.files(), id, &file_in(&p)).await
    }
    .await;
    match res {
        Ok(_) => Redirect::to(&with_flash(&format!("/orders/{order}#{}", anchor(h, id)), "attached")).into_response(),
        Err(e) if recoverable(&e) => super::orders::show_page(&s, &ui, order, None, Some(e)).await,
        Err(e) => fail_page(&ui, e),
    }
}

async fn remove(State(s): State<AppState>, Path((id, f)): Path<(String, String)>, form: UiForm, h: Holder) -> Response {
    let ui = &form.ui;
    let res = async {
        let (id, f) = (id_of(&id)?, id_of(&f)?);
        let order = order_of(&s, ui, h, id).await?;
        Ok::<_, DomainError>((id, f, order))
    }
    .await;
    let (id, f, order) = match res {
        Ok(x) => x,
        Err(e) => return fail_page(ui, e),
    };
    match h.detach(&s.app.db, &ui.ctx, id, f).await {
        Ok(()) => Redirect::to(&with_flash(&format!("/orders/{order}#{}", anchor(h, id)), "detached")).into_response(),
        Err(e) if recoverable(&e) => super::orders::show_page(&s, ui, order, None, Some(e)).await,
        Err(e) => fail_page(ui, e),
    }
}
