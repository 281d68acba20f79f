//! Delivery on the pages: the order page's 出库与验收 section (its loader and its forms: a new
//! outbound, ship, deliver, accept with the acceptance document, cancel) and the logistics
//! worklist (`/logistics`). Every change goes through `app::orders::deliveries`.
use askama::Template;
use axum::extract::{Multipart, Path, RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::app::orders::deliveries::{
    self as dl, AcceptIn, DeliverIn, LogisticsWorklist, OrderDelivery, OutboundCancelIn, OutboundIn, OutboundLineIn,
    ShipIn, WorklistFilter,
};
use crate::app::records::attachments::{FileIn, MAX_BYTES};
use crate::domain::DomainError;
use crate::web::api::customers::documents::read_multipart;
use crate::web::api::{id_of, q, query_pairs};
use crate::web::auth::{UiCtx, UiForm};
use crate::web::ui::forms::with_flash;
use crate::web::ui::{enc, fail_page, render, Layout, Load, Section};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    let limit = || axum::extract::DefaultBodyLimit::max(MAX_BYTES + 64 * 1024);
    Router::new()
        .route("/logistics", get(worklist))
        .route("/orders/{id}/outbounds", post(prepare))
        .route("/outbounds/{id}", get(show))
        .route("/outbounds/{id}/act", post(act))
        .route("/outbounds/{id}/accept", post(accept).layer(limit()))
}

/// The order page's delivery section.
pub async fn of_order(s: &AppState, ui: &UiCtx, order_id: i64) -> Section<OrderDelivery> {
    dl::of_order(&s.app.db, &ui.ctx.caller, order_id).await.section("order", "delivery")
}

/// Whether the caller prepares and moves the order's outbounds.
pub async fn may_write(s: &AppState, ui: &UiCtx, order_id: i64) -> bool {
    dl::may_write(&s.app.db, &ui.ctx.caller, order_id).await.unwrap_or(false)
}

fn text(form: &UiForm, k: &str) -> Option<String> {
    form.get(k).map(str::trim).filter(|v| !v.is_empty()).map(str::to_string)
}

fn back(order_id: i64, anchor: &str) -> Response {
    Redirect::to(&with_flash(&format!("/orders/{order_id}#{anchor}"), "saved")).into_response()
}

/// A new outbound from the order page: one quantity field per order line (`q_<position>`).
async fn prepare(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    let lines = form
        .fields
        .iter()
        .filter_map(|(k, v)| {
            // Every line of the order in its order (an empty field sends none of it), so a
            // refusal's `lines[i]` is the order's line i + 1.
            let pos = k.strip_prefix("q_")?.parse().ok()?;
            let v = v.trim();
            Some(OutboundLineIn { position: pos, quantity: if v.is_empty() { "0".into() } else { v.to_string() } })
        })
        .collect();
    let inp = OutboundIn { lines, note: text(&form, "note") };
    match dl::prepare(&s.app.db, &ui.ctx, id, &inp).await {
        Ok(v) => back(id, &format!("outbound-{}", v.id)),
        Err(e @ (DomainError::NotFound | DomainError::Forbidden)) => fail_page(ui, e),
        Err(e) => super::orders::show_page_typed(&s, ui, id, None, Some(e), form.fields.clone()).await,
    }
}

/// An outbound's address: its place on its order's page.
async fn show(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    let res = async {
        let id = id_of(&id)?;
        Ok::<_, DomainError>((id, dl::order_of(&s.app.db, &ui.ctx.caller, id).await?))
    }
    .await;
    match res {
        Ok((id, order)) => Redirect::to(&format!("/orders/{order}#outbound-{id}")).into_response(),
        Err(e) => fail_page(&ui, e),
    }
}

/// One of an outbound's steps (`action`: ship, deliver, cancel).
async fn act(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let res = async {
        let id = id_of(&id)?;
        let order = dl::order_of(&s.app.db, &ui.ctx.caller, id).await?;
        Ok::<_, DomainError>((id, order))
    }
    .await;
    let (id, order) = match res {
        Ok(x) => x,
        Err(e) => return fail_page(ui, e),
    };
    let version = form.get("version").and_then(|v| v.trim().parse().ok()).unwrap_or(0);
    let db = &s.app.db;
    let res = match form.get("action").unwrap_or("") {
        "ship" => {
            let inp = ShipIn {
                version,
                carrier: text(&form, "carrier"),
                waybill: text(&form, "waybill"),
                shipped_on: text(&form, "shipped_on"),
            };
            dl::ship(db, &ui.ctx, id, &inp).await
        }
        "deliver" => {
            dl::deliver(db, &ui.ctx, id, &DeliverIn { version, delivered_on: text(&form, "delivered_on") }).await
        }
        "cancel" => dl::cancel(db, &ui.ctx, id, &OutboundCancelIn { version, reason: text(&form, "reason") }).await,
        _ => Err(DomainError::invalid("action", "invalid_choice")),
    };
    match res {
        Ok(_) => back(order, &format!("outbound-{id}")),
        Err(e @ (DomainError::NotFound | DomainError::Forbidden)) => fail_page(ui, e),
        Err(e) => super::orders::show_page(&s, ui, order, None, Some(e)).await,
    }
}

/// The customer accepted (验收): the day, a note and the acceptance document in one form.
async fn accept(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>, m: Multipart) -> Response {
    let res = async {
        let id = id_of(&id)?;
        let order = dl::order_of(&s.app.db, &ui.ctx.caller, id).await?;
        Ok::<_, DomainError>((id, order))
    }
    .await;
    let (id, order) = match res {
        Ok(x) => x,
        Err(e) => return fail_page(&ui, e),
    };
    let res = async {
        let p = read_multipart(m).await?;
        if !crate::web::auth::same_secret(p.get("_csrf").unwrap_or(""), &ui.csrf) {
            return Err(DomainError::Csrf);
        }
        let get = |k: &str| p.get(k).map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
        let inp = AcceptIn {
            version: get("version").and_then(|v| v.parse().ok()).unwrap_or(0),
            accepted_on: get("accepted_on"),
            note: get("note"),
        };
        let doc =
            (!p.bytes.is_empty()).then(|| FileIn { file_name: &p.file_name, note: Some("验收单"), bytes: &p.bytes });
        dl::accept(&s.app.db, &ui.ctx, &s.app.settings.files(), id, &inp, doc.as_ref()).await
    }
    .await;
    match res {
        Ok(_) => back(order, &format!("outbound-{id}")),
        Err(e @ (DomainError::NotFound | DomainError::Forbidden | DomainError::Csrf)) => fail_page(&ui, e),
        Err(e) => super::orders::show_page(&s, &ui, order, None, Some(e)).await,
    }
}

// ---------------------------------------------------------------------------------------------
// The logistics worklist

#[derive(Template)]
#[template(path = "logistics.html")]
struct WorklistPage {
    l: Layout,
    w: LogisticsWorklist,
    late_only: bool,
    account_id: String,
    /// The account the list is narrowed to, by name.
    account_name: Option<String>,
}

async fn worklist(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = query_pairs(raw);
    let late_only = matches!(q(&p, "late"), Some("1" | "true" | "on"));
    let res = async {
        let account_id = crate::web::api::q_i64(&p, "account_id")?;
        let w = dl::worklist(&s.app.db, &ui.ctx.caller, &WorklistFilter { late_only, account_id }).await?;
        Ok::<_, DomainError>((account_id, w))
    }
    .await;
    let (account_id, w) = match res {
        Ok(x) => x,
        Err(e) => return fail_page(&ui, e),
    };
    let account_name =
        account_id.and_then(|a| w.items.iter().find(|i| i.account_id == a).map(|i| i.account_name.clone()));
    let l = Layout::new(&ui, "logistics", ui.lang.t("logistics.title"));
    render(&WorklistPage {
        l,
        w,
        late_only,
        account_id: account_id.map(|a| a.to_string()).unwrap_or_default(),
        account_name,
    })
}

impl WorklistPage {
    /// The list's address with the late filter as given and the account as `a`.
    fn href(&self, late: &bool, account: &str) -> String {
        let q = enc(&[("late", if *late { "1" } else { "" }), ("account_id", account)]);
        if q.is_empty() {
            "/logistics".into()
        } else {
            format!("/logistics?{q}")
        }
    }
}
