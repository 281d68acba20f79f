//! Customer suggestions' pages (issue 24, seed 003 §一.3): the list with its filters, a
//! suggestion recorded from its account, and a suggestion's page with what is next — its
//! report and the departments concerned, a department's opinion, what was done, the reply to
//! the customer. Every change goes through `app::suggestions`.
use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::app::suggestions::suggestions::{
    self as sg, SuggestionExecutionIn, SuggestionIn, SuggestionItem, SuggestionOpinionIn, SuggestionReplyIn,
    SuggestionReportIn, SuggestionView,
};
use crate::domain::approval::Pick;
use crate::domain::suggestion::{CATEGORIES, CHANNELS, STATES};
use crate::domain::DomainError;
use crate::web::api::{id_of, q, query_pairs};
use crate::web::auth::{UiCtx, UiForm};
use crate::web::ui::forms::with_flash;
use crate::web::ui::{fail_page, render, Layout};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/suggestions", get(list))
        .route("/accounts/{id}/suggestions/new", get(new_form).post(create))
        .route("/suggestions/{id}", get(show))
        .route("/suggestions/{id}/submit", post(submit))
        .route("/suggestions/{id}/opinion", post(opinion))
        .route("/suggestions/{id}/execution", post(execute))
        .route("/suggestions/{id}/reply", post(reply))
}

/// A form's fields as typed, and the refusal's messages by field.
#[derive(Default)]
pub struct Typed {
    values: HashMap<String, String>,
    field_errors: HashMap<String, String>,
}

impl Typed {
    fn of(form: &UiForm) -> Typed {
        Typed { values: form.fields.iter().cloned().collect(), field_errors: HashMap::new() }
    }
    pub fn val(&self, k: &str) -> &str {
        self.values.get(k).map(String::as_str).unwrap_or("")
    }
    pub fn err(&self, k: &str) -> Option<&str> {
        self.field_errors.get(k).map(String::as_str)
    }
    pub fn checked(&self, k: &str) -> bool {
        self.values.contains_key(k)
    }
}

/// Summary lines and field messages of a refusal.
fn refusal(l: &Layout, e: &DomainError, typed: &mut Typed) -> Vec<String> {
    if let DomainError::Invalid(fs) = e {
        for f in fs {
            typed.field_errors.insert(f.field.clone(), l.lang.msg("invalid", f.code));
        }
    }
    crate::web::ui::error_lines(l, e)
}

fn field(form: &UiForm, k: &str) -> Option<String> {
    form.get(k).map(str::trim).filter(|v| !v.is_empty()).map(str::to_string)
}

// ---- the list ----

#[derive(Template)]
#[template(path = "suggestions.html")]
struct ListPage {
    l: Layout,
    items: Vec<SuggestionItem>,
    states: &'static [&'static str],
    f_state: String,
    f_q: String,
    f_overdue: bool,
}

async fn list(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = query_pairs(raw);
    let f = sg::Filter {
        account_id: q(&p, "account").and_then(|a| a.parse().ok()),
        state: q(&p, "state").map(str::to_string).filter(|s| !s.is_empty()),
        overdue: q(&p, "overdue").is_some(),
        q: q(&p, "q").map(str::to_string),
    };
    match sg::list(&s.app.db, &ui.ctx.caller, &f).await {
        Ok(items) => {
            let l = Layout::new(&ui, "suggestions", ui.lang.t("suggestion.title"));
            render(&ListPage {
                l,
                items,
                states: STATES,
                f_state: f.state.unwrap_or_default(),
                f_q: f.q.unwrap_or_default(),
                f_overdue: f.overdue,
            })
        }
        Err(e) => fail_page(&ui, e),
    }
}

// ---- recording one ----

#[derive(Template)]
#[template(path = "suggestion_new.html")]
struct NewPage {
    l: Layout,
    account_id: i64,
    account_name: String,
    contacts: Vec<(i64, String)>,
    channels: &'static [&'static str],
    categories: &'static [&'static str],
    typed: Typed,
    errors: Vec<String>,
    today: String,
}

async fn new_page(s: &AppState, ui: &UiCtx, account_id: i64, mut typed: Typed, err: Option<DomainError>) -> Response {
    let caller = &ui.ctx.caller;
    let a = match crate::app::customers::accounts::get(&s.app.db, caller, account_id).await {
        Ok(a) => a,
        Err(e) => return fail_page(ui, e),
    };
    let contacts = match crate::app::customers::contacts::of_account(&s.app.db, caller, a.seen()).await {
        Ok(cs) => cs.into_iter().map(|c| (c.id, c.name)).collect(),
        Err(e) => return fail_page(ui, e),
    };
    let l = Layout::new(ui, "suggestions", format!("{} · {}", ui.lang.t("suggestion.new"), a.name));
    let status = err.as_ref().map(|e| crate::web::ui::status_and_code(e).0);
    let errors = err.map(|e| refusal(&l, &e, &mut typed)).unwrap_or_default();
    let mut res = render(&NewPage {
        account_id,
        account_name: a.name.clone(),
        contacts,
        channels: CHANNELS,
        categories: CATEGORIES,
        typed,
        errors,
        today: caller.day().to_string(),
        l,
    });
    if let Some(st) = status {
        *res.status_mut() = st;
    }
    res
}

async fn new_form(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    match id_of(&id) {
        Ok(id) => new_page(&s, &ui, id, Typed::default(), None).await,
        Err(e) => fail_page(&ui, e),
    }
}

async fn create(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    let contact_id = match field(&form, "contact_id").map(|c| c.parse::<i64>()) {
        None => None,
        Some(Ok(c)) => Some(c),
        Some(Err(_)) => {
            let e = DomainError::invalid("contact_id", "expected_integer");
            return new_page(&s, ui, id, Typed::of(&form), Some(e)).await;
        }
    };
    let inp = SuggestionIn {
        channel: field(&form, "channel"),
        category: field(&form, "category"),
        received_on: field(&form, "received_on"),
        contact_id,
        content: field(&form, "content"),
        thanks: field(&form, "thanks"),
        reply_due: field(&form, "reply_due"),
    };
    match sg::create(&s.app.db, &ui.ctx, id, &inp).await {
        Ok(v) => Redirect::to(&with_flash(&format!("/suggestions/{}", v.id), "saved")).into_response(),
        Err(e @ (DomainError::NotFound | DomainError::Forbidden)) => fail_page(ui, e),
        Err(e) => new_page(&s, ui, id, Typed::of(&form), Some(e)).await,
    }
}

// ---- a suggestion ----

#[derive(Template)]
#[template(path = "suggestion.html")]
struct ShowPage {
    l: Layout,
    v: SuggestionView,
    departments: Vec<String>,
    typed: Typed,
    errors: Vec<String>,
}

async fn page(s: &AppState, ui: &UiCtx, id: i64, mut typed: Typed, err: Option<DomainError>) -> Response {
    let v = match sg::get(&s.app.db, &ui.ctx.caller, id).await {
        Ok(v) => v,
        Err(e) => return fail_page(ui, e),
    };
    let departments = {
        let mut conn = match s.app.db.pool.acquire().await {
            Ok(c) => c,
            Err(e) => return fail_page(ui, e.into()),
        };
        match sg::department_roles(&mut conn).await {
            Ok(d) => d,
            Err(e) => return fail_page(ui, e),
        }
    };
    let l = Layout::new(ui, "suggestions", format!("{} · {}", ui.lang.t("suggestion.one"), v.account_name));
    let status = err.as_ref().map(|e| crate::web::ui::status_and_code(e).0);
    let errors = err.map(|e| refusal(&l, &e, &mut typed)).unwrap_or_default();
    let mut res = render(&ShowPage { l, v, departments, typed, errors });
    if let Some(st) = status {
        *res.status_mut() = st;
    }
    res
}

async fn show(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    match id_of(&id) {
        Ok(id) => page(&s, &ui, id, Typed::default(), None).await,
        Err(e) => fail_page(&ui, e),
    }
}

/// Runs a change from the suggestion's page: back to the page, or the page again with the
/// refusal and what was typed.
async fn after(s: &AppState, form: &UiForm, id: i64, res: Result<SuggestionView, DomainError>) -> Response {
    let ui = &form.ui;
    match res {
        Ok(_) => Redirect::to(&with_flash(&format!("/suggestions/{id}"), "saved")).into_response(),
        Err(e @ (DomainError::NotFound | DomainError::Forbidden)) => fail_page(ui, e),
        Err(e) => page(s, ui, id, Typed::of(form), Some(e)).await,
    }
}

fn version(form: &UiForm) -> i64 {
    form.get("version").and_then(|v| v.parse().ok()).unwrap_or(0)
}

async fn submit(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(&form.ui, e),
    };
    // The departments ticked (`dept_<role>`), each with its deadline in days (`days_<role>`).
    let mut departments: Vec<Pick> = vec![];
    let mut bad_days = None;
    for (k, _) in &form.fields {
        let Some(role) = k.strip_prefix("dept_") else { continue };
        if departments.iter().any(|p| p.role == role) {
            continue;
        }
        let days = match field(&form, &format!("days_{role}")).map(|d| d.parse::<i64>()) {
            None => None,
            Some(Ok(d)) => Some(d),
            Some(Err(_)) => {
                bad_days = Some(format!("departments[{}].days", departments.len()));
                None
            }
        };
        departments.push(Pick { role: role.to_string(), days });
    }
    let res = match bad_days {
        Some(f) => Err(DomainError::invalid(&f, "expected_integer")),
        None => {
            let inp = SuggestionReportIn {
                cause: field(&form, "cause"),
                feasibility: field(&form, "feasibility"),
                departments,
                version: version(&form),
            };
            sg::submit(&s.app.db, &form.ui.ctx, id, &inp).await
        }
    };
    after(&s, &form, id, res).await
}

async fn opinion(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(&form.ui, e),
    };
    let inp = SuggestionOpinionIn {
        opinion: field(&form, "opinion"),
        decision: field(&form, "decision").unwrap_or_else(|| "approve".into()),
    };
    let res = sg::opinion(&s.app.db, &form.ui.ctx, id, &inp).await;
    after(&s, &form, id, res).await
}

async fn execute(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(&form.ui, e),
    };
    let inp = SuggestionExecutionIn { execution: field(&form, "execution"), version: version(&form) };
    let res = sg::execute(&s.app.db, &form.ui.ctx, id, &inp).await;
    after(&s, &form, id, res).await
}

async fn reply(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(&form.ui, e),
    };
    let res = match field(&form, "feedback_score").map(|n| n.parse::<i64>()) {
        Some(Err(_)) => Err(DomainError::invalid("feedback_score", "expected_integer")),
        score => {
            let inp = SuggestionReplyIn {
                reply: field(&form, "reply"),
                feedback_score: score.and_then(Result::ok),
                feedback: field(&form, "feedback"),
                version: version(&form),
            };
            sg::reply(&s.app.db, &form.ui.ctx, id, &inp).await
        }
    };
    after(&s, &form, id, res).await
}
