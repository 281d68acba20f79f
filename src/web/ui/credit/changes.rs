//! The credit triggers waiting to be filed (the KA manager's list, and the KA director's once
//! one escalated), the filing form, and a person's proposal of a credit review from the account
//! page. Every change goes through `app::credit`; grades show only to those who see credit.
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::app::clock;
use crate::app::credit::changes::{self, CreditFilingIn};
use crate::app::credit::triggers::{self, CreditProposalIn, CreditTriggerView};
use crate::domain::account::CreditGrade;
use crate::domain::DomainError;
use crate::web::api::id_of;
use crate::web::auth::{UiCtx, UiForm};
use crate::web::ui::forms::with_flash;
use crate::web::ui::{error_lines, fail_page, render, status_and_code, Layout};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/credit/triggers", get(list))
        .route("/credit/triggers/{id}/filing", post(file))
        .route("/accounts/{id}/credit-review", get(proposal_form).post(propose))
}

fn text(form: &UiForm, k: &str) -> Option<String> {
    form.get(k).map(str::trim).filter(|v| !v.is_empty()).map(str::to_string)
}

#[derive(Template)]
#[template(path = "credit_triggers.html")]
struct ListPage {
    l: Layout,
    items: Vec<CreditTriggerView>,
    errors: Vec<String>,
    /// The trigger the refused filing was for, and the reason typed.
    typed: Option<(i64, String)>,
}

async fn list_page(s: &AppState, ui: &UiCtx, err: Option<(i64, String, DomainError)>) -> Response {
    let items = match triggers::to_file(&s.app.db, &ui.ctx.caller, clock::now()).await {
        Ok(v) => v,
        Err(e) => return fail_page(ui, e),
    };
    let l = Layout::new(ui, "approvals", ui.lang.t("credit_trigger.list_title"));
    let (status, errors, typed) = match err {
        None => (None, vec![], None),
        Some((id, reason, e)) => (Some(status_and_code(&e).0), error_lines(&l, &e), Some((id, reason))),
    };
    let mut res = render(&ListPage { l, items, errors, typed });
    if let Some(st) = status {
        *res.status_mut() = st;
    }
    res
}

async fn list(State(s): State<AppState>, ui: UiCtx) -> Response {
    list_page(&s, &ui, None).await
}

async fn file(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    let reason = text(&form, "reason");
    let inp = CreditFilingIn { reason: reason.clone(), ..CreditFilingIn::default() };
    match changes::file(&s.app.db, &ui.ctx, id, &inp, clock::now()).await {
        Ok(c) => match c.approval_id {
            Some(a) => Redirect::to(&with_flash(&format!("/approvals/{a}"), "saved")).into_response(),
            None => Redirect::to(&with_flash("/credit/triggers", "saved")).into_response(),
        },
        Err(e @ (DomainError::NotFound | DomainError::Forbidden)) => fail_page(ui, e),
        Err(e) => list_page(&s, ui, Some((id, reason.unwrap_or_default(), e))).await,
    }
}

#[derive(Template)]
#[template(path = "credit_review.html")]
struct ProposalPage {
    l: Layout,
    account_id: i64,
    account_name: String,
    /// The grades (code, name) for those who see credit; empty for a KA manager.
    grades: Vec<(String, String)>,
    grade: String,
    note: String,
    errors: Vec<String>,
}

async fn proposal_page(
    s: &AppState,
    ui: &UiCtx,
    account_id: i64,
    typed: Option<(String, String)>,
    err: Option<DomainError>,
) -> Response {
    let name = match crate::app::customers::accounts::get(&s.app.db, &ui.ctx.caller, account_id).await {
        Ok(a) => a.name,
        Err(e) => return fail_page(ui, e),
    };
    let c = &ui.ctx.caller;
    if !(c.sees_credit() || c.role == crate::domain::role::Role::KaManager) {
        return fail_page(ui, DomainError::Forbidden);
    }
    let l = Layout::new(ui, "accounts", ui.lang.t("credit_trigger.propose_title"));
    let grades = if c.sees_credit() {
        CreditGrade::ALL.iter().map(|g| (g.code().to_string(), l.e("credit", g.code()))).collect()
    } else {
        vec![]
    };
    let (grade, note) = typed.unwrap_or_default();
    let status = err.as_ref().map(|e| status_and_code(e).0);
    let errors = err.map(|e| error_lines(&l, &e)).unwrap_or_default();
    let mut res = render(&ProposalPage { l, account_id, account_name: name, grades, grade, note, errors });
    if let Some(st) = status {
        *res.status_mut() = st;
    }
    res
}

async fn proposal_form(State(s): State<AppState>, Path(id): Path<String>, ui: UiCtx) -> Response {
    match id_of(&id) {
        Ok(id) => proposal_page(&s, &ui, id, None, None).await,
        Err(e) => fail_page(&ui, e),
    }
}

async fn propose(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    let (grade, note) = (text(&form, "proposed_grade"), text(&form, "note"));
    let inp = CreditProposalIn { account_id: Some(id), proposed_grade: grade.clone(), note: note.clone() };
    match triggers::propose(&s.app.db, &ui.ctx, &inp, clock::now()).await {
        Ok(_) => Redirect::to(&with_flash(&format!("/accounts/{id}"), "saved")).into_response(),
        Err(e @ (DomainError::NotFound | DomainError::Forbidden)) => fail_page(ui, e),
        Err(e) => proposal_page(&s, ui, id, Some((grade.unwrap_or_default(), note.unwrap_or_default())), Some(e)).await,
    }
}
