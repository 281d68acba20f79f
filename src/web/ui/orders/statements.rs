//! Bank statements on the pages (finance): the list with the upload form, a statement's lines
//! with their proposed matches — confirmed one by one (the account and the receivable by
//! picker) or all at once, or ignored with a reason — and the opening-balance import (期初导入).
//! Every change goes through `app::orders::statements` and `app::orders::opening`.
use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::app::orders::statements::{self as st, ConfirmLineIn, IgnoreLineIn, Imported, ProposedReceivable};
use crate::app::orders::{opening, statements::StatementRow, statements::StatementView};
use crate::app::spreadsheets::import::{Report, Source};
use crate::domain::DomainError;
use crate::web::api::customers::documents::read_multipart;
use crate::web::api::id_of;
use crate::web::auth::{UiCtx, UiForm};
use crate::web::ui::forms::with_flash;
use crate::web::ui::{error_lines, fail_page, render, Layout};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/payments/statements", get(list).post(upload))
        .route("/payments/statements/{id}", get(show))
        .route("/payments/statements/{id}/confirm", post(confirm_all))
        .route("/payments/statements/{id}/lines/{line}/confirm", post(confirm))
        .route("/payments/statements/{id}/lines/{line}/ignore", post(ignore))
        .route("/receivables/opening", get(opening_page).post(opening_upload))
}

/// A refused file's rows: (row, column, value, reason).
type RowErrors = Vec<(usize, String, String, String)>;

fn row_errors(ui: &UiCtx, r: Report) -> RowErrors {
    r.errors
        .into_iter()
        .map(|e| {
            let col = ui.lang.t(&format!("bank.col_{}", e.column));
            (e.row, col, e.value, crate::web::ui::import_reason(ui.lang, &e.code))
        })
        .collect()
}

#[derive(Template)]
#[template(path = "bank_statements.html")]
struct ListPage {
    l: Layout,
    rows: Vec<StatementRow>,
    errors: Vec<String>,
    row_errors: RowErrors,
}

async fn list_page(s: &AppState, ui: &UiCtx, errors: Vec<String>, row_errors: RowErrors) -> Response {
    match st::list(&s.app.db, &ui.ctx.caller).await {
        Ok(rows) => {
            let l = Layout::new(ui, "aging", ui.lang.t("bank.title"));
            let refused = !errors.is_empty() || !row_errors.is_empty();
            let mut res = render(&ListPage { l, rows, errors, row_errors });
            if refused {
                *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            }
            res
        }
        Err(e) => fail_page(ui, e),
    }
}

async fn list(State(s): State<AppState>, ui: UiCtx) -> Response {
    list_page(&s, &ui, vec![], vec![]).await
}

async fn upload(State(s): State<AppState>, ui: UiCtx, m: Multipart) -> Response {
    let res = async {
        let p = read_multipart(m).await?;
        if !crate::web::auth::same_secret(p.get("_csrf").unwrap_or(""), &ui.csrf) {
            return Err(DomainError::Csrf);
        }
        if p.bytes.is_empty() {
            return Err(DomainError::invalid("file", "required"));
        }
        let name = Some(p.file_name.clone()).filter(|n| !n.is_empty());
        let max = s.app.settings.import_max_errors;
        st::import(&s.app.db, &ui.ctx, name.as_deref(), Source::bytes(p.bytes), false, max).await
    }
    .await;
    match res {
        Ok(Imported::Statement(v)) => {
            Redirect::to(&with_flash(&format!("/payments/statements/{}", v.statement.id), "saved")).into_response()
        }
        Ok(Imported::Refused(r)) => {
            let rows = row_errors(&ui, r);
            list_page(&s, &ui, vec![ui.lang.msg("err", "invalid_input")], rows).await
        }
        Err(e @ DomainError::Invalid(_)) => {
            let l = Layout::new(&ui, "aging", String::new());
            list_page(&s, &ui, error_lines(&l, &e), vec![]).await
        }
        Err(e) => fail_page(&ui, e),
    }
}

/// A line as the page shows it: the line, and the receivables its picker offers.
struct LineRow {
    v: st::StatementLineView,
    offered: Vec<ProposedReceivable>,
}

impl LineRow {
    fn proposed(&self, id: &i64) -> bool {
        self.v.receivables.first().is_some_and(|r| r.id == *id)
    }
    fn by_label(&self, l: &Layout) -> String {
        l.t(&format!("bank.by_{}", self.v.match_by.as_deref().unwrap_or("")))
    }
    fn state_label(&self, l: &Layout) -> String {
        l.t(&format!("bank.state_{}", self.v.state.code()))
    }
}

#[derive(Template)]
#[template(path = "bank_statement.html")]
struct ShowPage {
    l: Layout,
    s: StatementView,
    lines: Vec<LineRow>,
    accounts: Vec<(i64, String)>,
    may_confirm: bool,
    errors: Vec<String>,
}

async fn show_page(s: &AppState, ui: &UiCtx, id: i64, err: Option<DomainError>) -> Response {
    let res = async {
        let v = st::get(&s.app.db, &ui.ctx.caller, id).await?;
        let accounts = st::pick_accounts(&s.app.db, &ui.ctx.caller).await?;
        let ids: Vec<i64> = v.lines.iter().filter_map(|l| l.account_id).collect();
        let open = st::open_of(&s.app.db, &ids).await?;
        Ok::<_, DomainError>((v, accounts, open))
    }
    .await;
    let (v, accounts, open) = match res {
        Ok(x) => x,
        Err(e) => return fail_page(ui, e),
    };
    let title = format!("{} #{}", ui.lang.t("bank.title"), v.statement.id);
    let l = Layout::new(ui, "aging", title);
    let status = err.as_ref().map(|e| crate::web::ui::status_and_code(e).0);
    let errors = err.map(|e| error_lines(&l, &e)).unwrap_or_default();
    let lines = v
        .lines
        .iter()
        .map(|x| LineRow {
            v: x.clone(),
            offered: x.account_id.and_then(|a| open.get(&a).cloned()).unwrap_or_default(),
        })
        .collect();
    let mut res = render(&ShowPage { l, s: v, lines, accounts, may_confirm: st::may_confirm(&ui.ctx.caller), errors });
    if let Some(code) = status {
        *res.status_mut() = code;
    }
    res
}

async fn show(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    match id_of(&id) {
        Ok(id) => show_page(&s, &ui, id, None).await,
        Err(e) => fail_page(&ui, e),
    }
}

fn ids(id: &str, line: &str) -> Result<(i64, i64), DomainError> {
    Ok((id_of(id)?, id_of(line)?))
}

fn saved(id: i64) -> Response {
    Redirect::to(&with_flash(&format!("/payments/statements/{id}"), "saved")).into_response()
}

async fn confirm(State(s): State<AppState>, Path((id, line)): Path<(String, String)>, form: UiForm) -> Response {
    let ui = &form.ui;
    let (id, line) = match ids(&id, &line) {
        Ok(x) => x,
        Err(e) => return fail_page(ui, e),
    };
    let res = async {
        let v = st::get(&s.app.db, &ui.ctx.caller, id).await?;
        let l = v.lines.iter().find(|l| l.id == line).ok_or(DomainError::NotFound)?;
        // The account by the name the picker gave (empty: the proposed one).
        let typed = form.get("account").map(str::trim).unwrap_or("");
        let account = if typed.is_empty() || Some(typed) == l.account_name.as_deref() {
            l.account_id
        } else {
            let accounts = st::pick_accounts(&s.app.db, &ui.ctx.caller).await?;
            match accounts.iter().find(|(_, n)| n == typed) {
                Some((a, _)) => Some(*a),
                None => return Err(DomainError::invalid("account_id", "account_unknown")),
            }
        };
        let receivable_id = form.get("receivable_id").and_then(|r| r.trim().parse::<i64>().ok());
        let version = form.get("version").and_then(|v| v.parse().ok());
        let inp = ConfirmLineIn { version, account_id: account, allocations: None, receivable_id };
        st::confirm(&s.app.db, &ui.ctx, id, line, &inp).await.map(|_| ())
    }
    .await;
    match res {
        Ok(()) => saved(id),
        Err(e @ (DomainError::NotFound | DomainError::Forbidden)) => fail_page(ui, e),
        Err(e) => show_page(&s, ui, id, Some(e)).await,
    }
}

async fn ignore(State(s): State<AppState>, Path((id, line)): Path<(String, String)>, form: UiForm) -> Response {
    let ui = &form.ui;
    let (id, line) = match ids(&id, &line) {
        Ok(x) => x,
        Err(e) => return fail_page(ui, e),
    };
    let inp = IgnoreLineIn {
        version: form.get("version").and_then(|v| v.parse().ok()),
        reason: form.get("reason").map(str::to_string),
    };
    match st::ignore(&s.app.db, &ui.ctx, id, line, &inp).await {
        Ok(_) => saved(id),
        Err(e @ (DomainError::NotFound | DomainError::Forbidden)) => fail_page(ui, e),
        Err(e) => show_page(&s, ui, id, Some(e)).await,
    }
}

async fn confirm_all(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    match st::confirm_proposed(&s.app.db, &ui.ctx, id).await {
        Ok(_) => saved(id),
        Err(e @ (DomainError::NotFound | DomainError::Forbidden)) => fail_page(ui, e),
        Err(e) => show_page(&s, ui, id, Some(e)).await,
    }
}

// ---------------------------------------------------------------------------------------------
// Opening balances

#[derive(Template)]
#[template(path = "opening_import.html")]
struct OpeningPage {
    l: Layout,
    errors: Vec<String>,
    row_errors: RowErrors,
    done: Option<String>,
}

fn opening_view(ui: &UiCtx, errors: Vec<String>, row_errors: RowErrors, done: Option<String>) -> Response {
    if !opening::may_import(&ui.ctx.caller) {
        return fail_page(ui, DomainError::Forbidden);
    }
    let refused = !errors.is_empty() || !row_errors.is_empty();
    let l = Layout::new(ui, "aging", ui.lang.t("opening.title"));
    let mut res = render(&OpeningPage { l, errors, row_errors, done });
    if refused {
        *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    res
}

async fn opening_page(ui: UiCtx) -> Response {
    opening_view(&ui, vec![], vec![], None)
}

async fn opening_upload(State(s): State<AppState>, ui: UiCtx, m: Multipart) -> Response {
    let res = async {
        let p = read_multipart(m).await?;
        if !crate::web::auth::same_secret(p.get("_csrf").unwrap_or(""), &ui.csrf) {
            return Err(DomainError::Csrf);
        }
        if p.bytes.is_empty() {
            return Err(DomainError::invalid("file", "required"));
        }
        let dry_run = p.get("dry_run").is_some();
        opening::import(&s.app.db, &ui.ctx, Source::bytes(p.bytes), dry_run, s.app.settings.import_max_errors).await
    }
    .await;
    match res {
        Ok(r) if !r.refused() => {
            let key = if r.committed { "opening.done" } else { "opening.checked" };
            let msg = ui.lang.t(key).replace("{n}", &r.created.to_string());
            opening_view(&ui, vec![], vec![], Some(msg))
        }
        Ok(r) => {
            let rows = row_errors(&ui, r);
            opening_view(&ui, vec![ui.lang.msg("err", "invalid_input")], rows, None)
        }
        Err(e @ DomainError::Invalid(_)) => {
            let l = Layout::new(&ui, "aging", String::new());
            opening_view(&ui, error_lines(&l, &e), vec![], None)
        }
        Err(e) => fail_page(&ui, e),
    }
}
