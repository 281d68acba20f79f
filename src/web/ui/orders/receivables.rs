//! Invoices, receivables and payments on the pages: the order's 发票与应收 section and finance's
//! invoice form, an account's statement (对账) with finance's payment form, and the aging report
//! (帐龄). Every change goes through `app::orders::receivables`.
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::app::orders::receivables::{self as rcv, AccountMoney, InvoiceIn, OrderMoney, PaymentIn};
use crate::domain::receivable::PaymentMethod;
use crate::domain::role::Role;
use crate::domain::DomainError;
use crate::web::api::{id_of, q, query_pairs};
use crate::web::auth::{UiCtx, UiForm};
use crate::web::ui::forms::with_flash;
use crate::web::ui::{fail_page, render, Layout, Load, Section};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/orders/{id}/invoices", post(record_invoice))
        .route("/accounts/{id}/receivables", get(statement).post(record_payment))
        .route("/collection", get(collection_list))
        .route("/receivables/{id}/contacts", post(log_contact))
}

fn today(ui: &UiCtx) -> chrono::NaiveDate {
    chrono::NaiveDate::parse_from_str(&ui.ctx.caller.today(), "%Y-%m-%d").unwrap_or_default()
}

/// The order page's money section.
pub async fn of_order(s: &AppState, ui: &UiCtx, order_id: i64) -> Section<OrderMoney> {
    rcv::of_order(&s.app.db, &ui.ctx.caller, order_id, today(ui)).await.section("order", "money")
}

/// Whether the caller records invoices and payments.
pub fn keeps_books(ui: &UiCtx) -> bool {
    ui.ctx.caller.role == Role::FinanceManager
}

fn text(form: &UiForm, k: &str) -> Option<String> {
    form.get(k).map(str::trim).filter(|v| !v.is_empty()).map(str::to_string)
}

/// Amounts as people type them (`1,280,000`, `128万`) in the API's decimal form.
fn amount(form: &UiForm, k: &str) -> Option<String> {
    text(form, k).map(|v| crate::domain::money::normalize_amount(&v))
}

async fn record_invoice(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    let inp = InvoiceIn {
        number: text(&form, "number"),
        issued_on: text(&form, "issued_on"),
        amount: amount(&form, "amount"),
        tax: amount(&form, "tax"),
        reverses_id: text(&form, "reverses_id").and_then(|v| v.parse().ok()),
        return_id: text(&form, "return_id").and_then(|v| v.parse().ok()),
        note: text(&form, "note"),
    };
    match rcv::record_invoice(&s.app.db, &ui.ctx, id, &inp).await {
        Ok(_) => Redirect::to(&with_flash(&format!("/orders/{id}#money"), "saved")).into_response(),
        Err(e @ (DomainError::NotFound | DomainError::Forbidden)) => fail_page(ui, e),
        Err(e) => super::orders::show_page(&s, ui, id, None, Some(e)).await,
    }
}

// ---------------------------------------------------------------------------------------------
// An account's statement

#[derive(Template)]
#[template(path = "account_receivables.html")]
struct StatementPage {
    l: Layout,
    account_id: i64,
    account_name: String,
    m: AccountMoney,
    keeps_books: bool,
    methods: Vec<&'static str>,
    today: String,
    /// What was typed in a refused payment form, and why.
    typed: Vec<(String, String)>,
    errors: Vec<String>,
    /// The account's write-offs (坏账核销) and whether the caller proposes one.
    writeoffs: Section<Vec<crate::app::orders::writeoffs::WriteoffView>>,
    may_writeoff: bool,
}

impl StatementPage {
    /// Something is open to write off.
    fn has_open(&self) -> bool {
        self.m.receivables.iter().any(|r| r.state == crate::domain::receivable::ReceivableState::Open)
    }
    fn tv(&self, k: &str) -> String {
        self.typed.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default()
    }
}

pub(super) async fn statement_page(
    s: &AppState,
    ui: &UiCtx,
    id: i64,
    typed: Vec<(String, String)>,
    err: Option<DomainError>,
) -> Response {
    let res = async {
        let a = crate::app::customers::accounts::get(&s.app.db, &ui.ctx.caller, id).await?;
        let m = rcv::of_account(&s.app.db, &ui.ctx.caller, id, today(ui)).await?;
        Ok::<_, DomainError>((a, m))
    }
    .await;
    let (a, m) = match res {
        Ok(x) => x,
        Err(e) => return fail_page(ui, e),
    };
    let l = Layout::new(ui, "accounts", format!("{} · {}", ui.lang.t("receivables.statement"), a.name));
    let status = err.as_ref().map(|e| crate::web::ui::status_and_code(e).0);
    let errors = err.map(|e| crate::web::ui::error_lines(&l, &e)).unwrap_or_default();
    let (writeoffs, may_writeoff) = super::writeoffs::of_account(s, ui, id).await;
    let mut res = render(&StatementPage {
        writeoffs,
        may_writeoff,
        l,
        account_id: id,
        account_name: a.name,
        m,
        keeps_books: keeps_books(ui),
        methods: PaymentMethod::ALL.iter().map(|m| m.code()).collect(),
        today: ui.ctx.caller.today(),
        typed,
        errors,
    });
    if let Some(st) = status {
        *res.status_mut() = st;
    }
    res
}

async fn statement(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    match id_of(&id) {
        Ok(id) => statement_page(&s, &ui, id, vec![], None).await,
        Err(e) => fail_page(&ui, e),
    }
}

/// Finance records a payment on the statement page; it goes to the oldest due first.
async fn record_payment(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    let method = match text(&form, "method").map(|m| PaymentMethod::parse(&m)) {
        None => None,
        Some(Ok(m)) => Some(m),
        Some(Err(c)) => {
            return statement_page(&s, ui, id, form.fields.clone(), Some(DomainError::invalid("method", c))).await
        }
    };
    let inp = PaymentIn {
        account_id: Some(id),
        received_on: text(&form, "received_on"),
        amount: amount(&form, "amount"),
        method,
        reference: text(&form, "reference"),
        payer: text(&form, "payer"),
        note: text(&form, "note"),
        allocations: None,
    };
    match rcv::record_payment(&s.app.db, &ui.ctx, &inp).await {
        Ok(_) => Redirect::to(&with_flash(&format!("/accounts/{id}/receivables"), "saved")).into_response(),
        Err(e @ (DomainError::NotFound | DomainError::Forbidden)) => fail_page(ui, e),
        Err(e) => statement_page(&s, ui, id, form.fields.clone(), Some(e)).await,
    }
}

// ---------------------------------------------------------------------------------------------
// The collection worklist

#[derive(Template)]
#[template(path = "collection.html")]
struct CollectionPage {
    l: Layout,
    w: crate::app::orders::collection::Worklist,
    owner: String,
    channels: Vec<&'static str>,
    today: String,
    /// The receivable a refused contact was for, what was typed and why.
    failed: Option<i64>,
    typed: Vec<(String, String)>,
    errors: Vec<String>,
}

impl CollectionPage {
    fn is_failed(&self, id: impl std::borrow::Borrow<i64>) -> bool {
        self.failed == Some(*id.borrow())
    }
    fn tv(&self, k: &str) -> String {
        self.typed.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default()
    }
}

async fn collection_page(
    s: &AppState,
    ui: &UiCtx,
    owner: String,
    failed: Option<i64>,
    typed: Vec<(String, String)>,
    err: Option<DomainError>,
) -> Response {
    let w = match crate::app::orders::collection::worklist(&s.app.db, &ui.ctx.caller, Some(owner.as_str()), today(ui))
        .await
    {
        Ok(w) => w,
        Err(e) => return fail_page(ui, e),
    };
    let l = Layout::new(ui, "collection", ui.lang.t("collection.title"));
    let status = err.as_ref().map(|e| crate::web::ui::status_and_code(e).0);
    let errors = err.map(|e| crate::web::ui::error_lines(&l, &e)).unwrap_or_default();
    let mut res = render(&CollectionPage {
        l,
        w,
        owner,
        channels: crate::domain::receivable::Channel::ALL.iter().map(|c| c.code()).collect(),
        today: ui.ctx.caller.today(),
        failed,
        typed,
        errors,
    });
    if let Some(st) = status {
        *res.status_mut() = st;
    }
    res
}

async fn collection_list(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = crate::web::ui::pick::people_in(&s.app.db, query_pairs(raw), &["owner"]).await;
    let owner = q(&p, "owner").unwrap_or("").to_string();
    collection_page(&s, &ui, owner, None, vec![], None).await
}

async fn log_contact(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    let owner = text(&form, "owner").unwrap_or_default();
    let channel = match text(&form, "channel").map(|c| crate::domain::receivable::Channel::parse(&c)) {
        None => None,
        Some(Ok(c)) => Some(c),
        Some(Err(c)) => {
            return collection_page(
                &s,
                ui,
                owner,
                Some(id),
                form.fields.clone(),
                Some(DomainError::invalid("channel", c)),
            )
            .await
        }
    };
    let inp = crate::app::orders::collection::CollectionContactIn {
        contacted_on: text(&form, "contacted_on"),
        channel,
        note: text(&form, "note"),
        promised_amount: amount(&form, "promised_amount"),
        promised_on: text(&form, "promised_on"),
    };
    match crate::app::orders::collection::log_contact(&s.app.db, &ui.ctx, id, &inp, today(ui)).await {
        Ok(_) => {
            let to = format!("/collection?{}#r-{id}", crate::web::ui::enc(&[("owner", &owner)]));
            Redirect::to(&with_flash(&to, "saved")).into_response()
        }
        Err(e @ (DomainError::NotFound | DomainError::Forbidden)) => fail_page(ui, e),
        Err(e) => collection_page(&s, ui, owner, Some(id), form.fields.clone(), Some(e)).await,
    }
}
