//! Invoices, receivables, payments and the aging report (issue 21).
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

use crate::app::orders::collection::{self, CollectionContact, CollectionContactIn, Worklist};
use crate::app::orders::receivable_reports::{AgingBy, AgingReport};
use crate::app::orders::receivables::{
    self as rcv, AccountMoney, InvoiceIn, InvoiceView, OrderMoney, PaymentIn, PaymentView,
};
use crate::web::api::contract::Id;
use crate::web::api::{Api, ApiResult, Op, Params, Query, Typed};
use crate::web::auth::ApiCtx;
use crate::web::AppState;

pub fn routes(api: Api) -> Api {
    api.add(
        Op::get("/api/v1/orders/{id}/money", "An order's invoices and receivables, what is invoiced and what is left", "receivables")
            .ok::<OrderMoney>(200),
        of_order,
    )
    .add(
        Op::post("/api/v1/orders/{id}/invoices", "Record an invoice (发票) against a signed order (finance)", "receivables")
            .describe(
                "At most what is left to invoice; a red-letter invoice (reverses_id) at most what its original still \
                 counts, stored negative. The first invoice makes the installments counting from it fall due. A \
                 number in use, an amount beyond what is left: 422 naming the field, nothing saved.",
            )
            .body_example::<InvoiceIn>(json!({"number": "04418821", "issued_on": "2027-03-10", "amount": "300000.00", "tax": "34513.27"}))
            .ok::<InvoiceView>(201)
            .errors(&[403, 404, 409]),
        record_invoice,
    )
    .add(
        Op::post("/api/v1/payments", "Record a payment (收款) and allocate it (finance)", "receivables")
            .describe(
                "Without `allocations` the payment goes to the account's open receivables, the oldest due first; \
                 with them, each to its receivable (above 0, at most what it still owes, together at most the \
                 payment). What no receivable takes is the customer's credit balance.",
            )
            .body_example::<PaymentIn>(json!({"account_id": 12, "received_on": "2027-03-20", "amount": "150000.00", "method": "transfer", "reference": "CMB20270320-0031"}))
            .ok::<PaymentView>(201)
            .errors(&[403, 404]),
        record_payment,
    )
    .add(
        Op::get("/api/v1/accounts/{id}/receivables", "An account's receivables, payments, outstanding and credit balance", "receivables")
            .ok::<AccountMoney>(200),
        of_account,
    )
    .add(
        Op::get("/api/v1/collection", "A collection worklist (催款): overdue receivables, the largest amount × days past due first", "receivables")
            .describe(
                "Each with its dunning level (remind 1 day, owner_calls 15, manager_calls 30, finance_letter 60, hold \
                 90; each broken promise raises it one) and its latest contact. Without `owner`: the caller's own, \
                 or everyone's in scope for managers and finance.",
            )
            .query::<WorklistQuery>()
            .ok::<Worklist>(200),
        worklist,
    )
    .add(
        Op::get("/api/v1/receivables/{id}/contacts", "A receivable's collection contacts (催款记录), oldest first", "receivables")
            .ok::<CollectionContactList>(200),
        contacts,
    )
    .add(
        Op::post("/api/v1/receivables/{id}/contacts", "Log a collection contact, with the customer's promise to pay", "receivables")
            .body_example::<CollectionContactIn>(json!({"channel": "phone", "note": "财务刘经理确认月底前付款", "promised_amount": "50000.00", "promised_on": "2027-03-31"}))
            .ok::<CollectionContact>(201)
            .errors(&[403, 404, 409]),
        log_contact,
    )
    .add(
        Op::get("/api/v1/reports/aging", "Receivables aging (帐龄) in scope: not yet due, 0–30, 31–60, 61–90, over 90 days past due", "receivables")
            .query::<AgingQuery>()
            .ok::<AgingReport>(200),
        aging,
    )
}

/// Whose worklist.
#[derive(Deserialize, IntoParams)]
pub struct WorklistQuery {
    /// A username: the caller's own, someone they manage, or anyone's for finance.
    #[param(max_length = 100)]
    pub owner: Option<String>,
}

/// `{"items": […]}`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct CollectionContactList {
    pub items: Vec<CollectionContact>,
}

async fn worklist(State(s): State<AppState>, c: ApiCtx, Query(q): Query<WorklistQuery>) -> ApiResult {
    Ok(Json(collection::worklist(&s.app.db, &c.ctx.caller, q.owner.as_deref(), today(&c)).await?).into_response())
}

async fn contacts(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    let items = collection::contacts(&s.app.db, &c.ctx.caller, id, today(&c)).await?;
    Ok(Json(CollectionContactList { items }).into_response())
}

async fn log_contact(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(Id(id)): Params<Id>,
    b: Typed<CollectionContactIn>,
) -> ApiResult {
    let v = collection::log_contact(&s.app.db, &c.ctx, id, &b.typed, today(&c)).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

/// How to group the aging report.
#[derive(Deserialize, IntoParams)]
pub struct AgingQuery {
    /// `account` (default), `owner`, `team` (the owner's direct manager), `branch` or `region` (the owner's org unit).
    #[param(inline)]
    pub by: Option<AgingBy>,
}

fn today(c: &ApiCtx) -> chrono::NaiveDate {
    chrono::NaiveDate::parse_from_str(&c.ctx.caller.today(), "%Y-%m-%d").unwrap_or_default()
}

async fn of_order(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    Ok(Json(rcv::of_order(&s.app.db, &c.ctx.caller, id, today(&c)).await?).into_response())
}

async fn record_invoice(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(Id(id)): Params<Id>,
    b: Typed<InvoiceIn>,
) -> ApiResult {
    let v = rcv::record_invoice(&s.app.db, &c.ctx, id, &b.typed).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

async fn record_payment(State(s): State<AppState>, c: ApiCtx, b: Typed<PaymentIn>) -> ApiResult {
    let v = rcv::record_payment(&s.app.db, &c.ctx, &b.typed).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

async fn of_account(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    Ok(Json(rcv::of_account(&s.app.db, &c.ctx.caller, id, today(&c)).await?).into_response())
}

async fn aging(State(s): State<AppState>, c: ApiCtx, Query(q): Query<AgingQuery>) -> ApiResult {
    let by = q.by.unwrap_or(AgingBy::Account);
    let bounds = crate::app::orders::policy::load(&s.app.db).await?.bounds();
    let r = crate::app::orders::receivable_reports::aging(&s.app.db, &c.ctx.caller, by, today(&c), &bounds).await?;
    Ok(Json(r).into_response())
}
