//! Write-offs (坏账核销) and returns (退货) on the pages: the 「核销坏账」 form of an account's
//! statement, and the order page's 退货 section with its form and, for finance, the red-letter
//! invoice form of each return with the amount to credit proposed. Every change goes through
//! `app::orders::{writeoffs, returns}`.
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::Router;

use crate::app::orders::returns::{self as rt, OrderReturns, ReturnIn, ReturnLineIn};
use crate::app::orders::writeoffs::{self as wo, WriteoffIn, WriteoffView};
use crate::domain::DomainError;
use crate::web::api::id_of;
use crate::web::auth::{UiCtx, UiForm};
use crate::web::ui::forms::with_flash;
use crate::web::ui::{fail_page, Load, Section};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/accounts/{id}/write-offs", post(propose)).route("/orders/{id}/returns", post(record_return))
}

fn text(form: &UiForm, k: &str) -> Option<String> {
    form.get(k).map(str::trim).filter(|v| !v.is_empty()).map(str::to_string)
}

/// The account's write-offs for its statement page, and whether the caller may propose one.
pub async fn of_account(s: &AppState, ui: &UiCtx, account_id: i64) -> (Section<Vec<WriteoffView>>, bool) {
    let list = wo::of_account(&s.app.db, &ui.ctx.caller, account_id).await.section("account", "write-offs");
    (list, crate::domain::writeoff::may_propose(ui.ctx.caller.role))
}

/// The order's returns for its page.
pub async fn of_order(s: &AppState, ui: &UiCtx, order_id: i64) -> Section<OrderReturns> {
    rt::of_order(&s.app.db, &ui.ctx.caller, order_id).await.section("order", "returns")
}

/// The statement's 「核销坏账」 form: a receivable picked from the open ones, the amount and the
/// reason (confirmed in the browser); the request goes to finance.
async fn propose(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    let Some(rid) = text(&form, "receivable_id").and_then(|v| v.parse::<i64>().ok()) else {
        return super::receivables::statement_page(
            &s,
            ui,
            id,
            form.fields.clone(),
            Some(DomainError::invalid("receivable_id", "required")),
        )
        .await;
    };
    let inp = WriteoffIn {
        amount: text(&form, "wo_amount").map(|v| crate::domain::money::normalize_amount(&v)),
        reason: text(&form, "wo_reason"),
    };
    match wo::propose(&s.app.db, &ui.ctx, rid, &inp).await {
        Ok(w) => match w.approval_id {
            Some(a) => Redirect::to(&format!("/approvals/{a}?done=submitted")).into_response(),
            None => Redirect::to(&with_flash(&format!("/accounts/{id}/receivables"), "saved")).into_response(),
        },
        Err(e @ (DomainError::NotFound | DomainError::Forbidden)) => fail_page(ui, e),
        Err(DomainError::Invalid(fs)) => {
            // The form's own names, so the statement page marks the right field.
            let fs = fs
                .into_iter()
                .map(|mut f| {
                    if f.field == "amount" || f.field == "reason" {
                        f.field = format!("wo_{}", f.field);
                    }
                    f
                })
                .collect();
            super::receivables::statement_page(&s, ui, id, form.fields.clone(), Some(DomainError::Invalid(fs))).await
        }
        Err(e) => super::receivables::statement_page(&s, ui, id, form.fields.clone(), Some(e)).await,
    }
}

/// The order page's return form: a quantity per line (`r_<position>`), the day and the reason.
async fn record_return(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    let lines = form
        .fields
        .iter()
        .filter_map(|(k, v)| {
            let pos = k.strip_prefix("r_")?.parse::<i64>().ok()?;
            let q = v.trim();
            (!q.is_empty()).then(|| ReturnLineIn { position: pos, quantity: q.to_string() })
        })
        .collect();
    let inp = ReturnIn { lines, reason: text(&form, "return_reason"), returned_on: text(&form, "returned_on") };
    match rt::record(&s.app.db, &ui.ctx, id, &inp).await {
        Ok(_) => Redirect::to(&with_flash(&format!("/orders/{id}#returns"), "saved")).into_response(),
        Err(e @ (DomainError::NotFound | DomainError::Forbidden)) => fail_page(ui, e),
        Err(e) => super::orders::show_page_typed(&s, ui, id, None, Some(e), form.fields.clone()).await,
    }
}
