//! The service pages' forms (issue 24 items 1–3): a service and support request written for an
//! account, saved as a draft, changed over its version while a draft or returned, and submitted;
//! a service event planned with the account's contacts invited, changed over its version,
//! recorded as held (a form on the event's page), cancelled from a confirm page; the evaluation
//! form of a held event, saved as a draft or submitted for review. Every change goes through
//! `app::service` — the same functions the API calls; a refusal shows the form again with what
//! was typed and each fault beside its field.
use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::app::customers::{accounts, contacts};
use crate::app::service::events::{self, EventContact, ServiceEvaluationIn, ServiceEventHeld, ServiceEventIn};
use crate::app::service::requests::{self, ServiceRequestIn};
use crate::domain::service::{ServiceEventKind, ServiceKind};
use crate::domain::DomainError;
use crate::web::api::id_of;
use crate::web::auth::{UiCtx, UiForm};
use crate::web::ui::forms::with_flash;
use crate::web::ui::{fail_page, render, Layout};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/accounts/{id}/service-requests/new", get(request_new).post(request_create))
        .route("/service-requests/{id}/edit", get(request_edit).post(request_save))
        .route("/service-requests/{id}/submit", post(request_submit))
        .route("/accounts/{id}/service-events/new", get(event_new).post(event_create))
        .route("/service-events/{id}/edit", get(event_edit).post(event_save))
        .route("/service-events/{id}/held", post(event_held))
        .route("/service-events/{id}/cancel", get(event_cancel_page).post(event_cancel))
        .route("/service-events/{id}/evaluation", get(evaluation_form).post(evaluation_save))
}

// ---- what was typed, and the refusal by field ----

/// A form's fields as typed (or as stored, when a form opens on a record), and the refusal's
/// messages by field. Checkboxes are named one per choice (`service_consulting`,
/// `invited_12`), so a ticked box is a field that is there.
#[derive(Default)]
pub struct Typed {
    values: HashMap<String, String>,
    errors: HashMap<String, String>,
}

impl Typed {
    fn of(form: &UiForm) -> Typed {
        Typed { values: form.fields.iter().filter(|(k, _)| k != "_csrf").cloned().collect(), errors: HashMap::new() }
    }
    pub(super) fn set(&mut self, k: impl Into<String>, v: impl Into<String>) {
        self.values.insert(k.into(), v.into());
    }
    pub(super) fn set_opt(&mut self, k: &str, v: Option<&str>) {
        self.set(k, v.unwrap_or_default());
    }
    pub fn val(&self, k: &str) -> &str {
        self.values.get(k).map(String::as_str).unwrap_or("")
    }
    pub fn err(&self, k: &str) -> Option<&str> {
        self.errors.get(k).map(String::as_str)
    }
    pub fn checked(&self, k: &str) -> bool {
        self.values.contains_key(k)
    }
}

/// The label of a field the service forms name (a list's row, `invited[2]`, is its list).
fn label(l: &Layout, field: &str) -> String {
    let key = match field {
        "account_id" => "service.account",
        "content" => "service.content",
        "deeper_needs" => "service.deeper_needs",
        "needs_changes" => "service.needs_changes",
        "organisation" => "service.organisation",
        "services" => "service.services",
        "kind" => "service.event_kind",
        "title" => "service.event_title",
        "starts_at" => "service.starts_at",
        "place" => "service.place",
        "invited" => "service.invited",
        "attended" => "service.attended",
        "notes" => "service.notes",
        "done" => "service.done",
        "reaction" => "service.reaction",
        "problems" => "service.problems",
        "score" => "service.score",
        "suggestions" => "service.suggestions",
        other => return l.e("field", other),
    };
    l.t(key)
}

/// Summary lines of a refusal, each fault's message put beside its field; a stale version puts
/// the current one in the form, so saving again is a deliberate overwrite.
pub(super) fn refusal(l: &Layout, e: &DomainError, typed: &mut Typed) -> Vec<String> {
    match e {
        DomainError::Invalid(fs) => {
            let mut lines: Vec<String> = vec![];
            for f in fs {
                let name = f.field.split('[').next().unwrap_or(&f.field);
                let msg = l.lang.msg("invalid", f.code);
                let line = format!("{}: {msg}", label(l, name));
                typed.errors.entry(name.to_string()).or_insert(msg);
                if !lines.contains(&line) {
                    lines.push(line);
                }
            }
            lines
        }
        DomainError::StaleVersion { current } => {
            typed.set("version", current.to_string());
            crate::web::ui::error_lines(l, e)
        }
        other => crate::web::ui::error_lines(l, other),
    }
}

/// A page rendered under the refusal's status (200 without one).
pub(super) fn answer<T: Template>(page: &T, err: Option<&DomainError>) -> Response {
    let mut res = render(page);
    if let Some(e) = err {
        *res.status_mut() = crate::web::ui::status_and_code(e).0;
    }
    res
}

fn field(form: &UiForm, k: &str) -> Option<String> {
    form.get(k).map(str::trim).filter(|v| !v.is_empty()).map(str::to_string)
}

/// The ids of the boxes ticked among `prefix_<id>`.
fn ticked(form: &UiForm, prefix: &str) -> Vec<i64> {
    let mut out = vec![];
    for (k, _) in &form.fields {
        if let Some(id) = k.strip_prefix(prefix).and_then(|i| i.parse::<i64>().ok()) {
            if !out.contains(&id) {
                out.push(id);
            }
        }
    }
    out
}

/// Which button sent the form: `intent=submit` submits too.
fn submitting(form: &UiForm) -> bool {
    form.get("intent") == Some("submit")
}

/// Where a change went well: the record's page with "saved".
fn saved(url: &str) -> Response {
    Redirect::to(&with_flash(url, "saved")).into_response()
}

fn not_yours(e: &DomainError) -> bool {
    matches!(e, DomainError::NotFound | DomainError::Forbidden)
}

// ---- service requests ----

#[derive(Template)]
#[template(path = "service_request_form.html")]
struct RequestForm {
    l: Layout,
    account_id: i64,
    account_name: String,
    /// Editing: the request's number and state.
    editing: Option<(i64, String)>,
    action: String,
    /// Only a key account's requests are taken.
    key_account: bool,
    services: Vec<(String, String)>,
    opinions: Vec<Vec<String>>,
    typed: Typed,
    errors: Vec<String>,
}

async fn request_new_page(
    s: &AppState,
    ui: &UiCtx,
    account_id: i64,
    mut typed: Typed,
    err: Option<DomainError>,
) -> Response {
    let a = match accounts::get(&s.app.db, &ui.ctx.caller, account_id).await {
        Ok(a) => a,
        Err(e) => return fail_page(ui, e),
    };
    if !ui.ctx.caller.role.edits_accounts() {
        return fail_page(ui, DomainError::Forbidden);
    }
    let l = Layout::new(ui, "ka_service", format!("{} · {}", ui.lang.t("service.request_new"), a.name));
    let errors = err.as_ref().map(|e| refusal(&l, e, &mut typed)).unwrap_or_default();
    let page = RequestForm {
        account_id,
        account_name: a.name.clone(),
        editing: None,
        action: format!("/accounts/{account_id}/service-requests/new"),
        key_account: a.status == crate::domain::account::Status::KeyAccount,
        services: service_choices(&l),
        opinions: vec![],
        typed,
        errors,
        l,
    };
    answer(&page, err.as_ref())
}

fn service_choices(l: &Layout) -> Vec<(String, String)> {
    ServiceKind::ALL.iter().map(|k| (k.code().to_string(), l.e("service_kind", k.code()))).collect()
}

fn request_in(form: &UiForm) -> ServiceRequestIn {
    ServiceRequestIn {
        account_id: None,
        content: field(form, "content"),
        deeper_needs: field(form, "deeper_needs"),
        needs_changes: field(form, "needs_changes"),
        organisation: field(form, "organisation"),
        services: ServiceKind::ALL
            .iter()
            .filter(|k| form.get(&format!("service_{}", k.code())).is_some())
            .map(|k| k.code().to_string())
            .collect(),
        version: form.get("version").and_then(|v| v.trim().parse().ok()),
        submit: submitting(form),
    }
}

async fn request_new(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    match id_of(&id) {
        Ok(id) => request_new_page(&s, &ui, id, Typed::default(), None).await,
        Err(e) => fail_page(&ui, e),
    }
}

async fn request_create(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    let inp = ServiceRequestIn { account_id: Some(id), ..request_in(&form) };
    match requests::create(&s.app.db, &ui.ctx, &inp, crate::app::clock::now()).await {
        Ok(v) => saved(&format!("/service-requests/{}", v.id)),
        Err(e) if not_yours(&e) => fail_page(ui, e),
        Err(e) => request_new_page(&s, ui, id, Typed::of(&form), Some(e)).await,
    }
}

async fn request_edit_page(
    s: &AppState,
    ui: &UiCtx,
    id: i64,
    typed: Option<Typed>,
    err: Option<DomainError>,
) -> Response {
    let v = match requests::get(&s.app.db, &ui.ctx.caller, id).await {
        Ok(v) => v,
        Err(e) => return fail_page(ui, e),
    };
    if !ui.ctx.caller.role.edits_accounts() {
        return fail_page(ui, DomainError::Forbidden);
    }
    if !v.may_edit {
        return fail_page(ui, DomainError::Conflict("service_request_not_editable"));
    }
    let mut typed = typed.unwrap_or_else(|| {
        let mut t = Typed::default();
        t.set("content", v.content.as_str());
        t.set_opt("deeper_needs", v.deeper_needs.as_deref());
        t.set_opt("needs_changes", v.needs_changes.as_deref());
        t.set_opt("organisation", v.organisation.as_deref());
        for k in &v.services {
            t.set(format!("service_{}", k.code()), "1");
        }
        t.set("version", v.version.to_string());
        t
    });
    let l =
        Layout::new(ui, "ka_service", format!("{} #{} · {}", ui.lang.t("service.request_edit"), v.id, v.account_name));
    let errors = err.as_ref().map(|e| refusal(&l, e, &mut typed)).unwrap_or_default();
    let opinions = v.opinions.iter().map(|o| super::opinion_row(&l, o)).collect();
    let page = RequestForm {
        account_id: v.account_id,
        account_name: v.account_name.clone(),
        editing: Some((v.id, v.state.clone())),
        action: format!("/service-requests/{}/edit", v.id),
        key_account: true,
        services: service_choices(&l),
        opinions,
        typed,
        errors,
        l,
    };
    answer(&page, err.as_ref())
}

async fn request_edit(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    match id_of(&id) {
        Ok(id) => request_edit_page(&s, &ui, id, None, None).await,
        Err(e) => fail_page(&ui, e),
    }
}

async fn request_save(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    match requests::update(&s.app.db, &ui.ctx, id, &request_in(&form), crate::app::clock::now()).await {
        Ok(v) => saved(&format!("/service-requests/{}", v.id)),
        Err(e) if not_yours(&e) => fail_page(ui, e),
        Err(e @ DomainError::Conflict(_)) => super::request_page_with(&s, ui, id, Some(e)).await,
        Err(e) => request_edit_page(&s, ui, id, Some(Typed::of(&form)), Some(e)).await,
    }
}

async fn request_submit(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    match requests::submit(&s.app.db, &ui.ctx, id, crate::app::clock::now()).await {
        Ok(v) => saved(&format!("/service-requests/{}", v.id)),
        Err(e) if not_yours(&e) => fail_page(ui, e),
        Err(e) => super::request_page_with(&s, ui, id, Some(e)).await,
    }
}

// ---- service events ----

/// A contact as the picker lists it: the name, and the title when there is one.
fn contact_label(name: &str, title: Option<&str>) -> String {
    match title.map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => format!("{name} · {t}"),
        None => name.to_string(),
    }
}

/// The account's contacts for the picker. The account's service staff who do not see the
/// account itself pick among the event's own contacts.
pub(super) async fn contact_choices(
    s: &AppState,
    ui: &UiCtx,
    account_id: i64,
    known: &[&EventContact],
) -> Result<Vec<(i64, String)>, DomainError> {
    let caller = &ui.ctx.caller;
    let mut out: Vec<(i64, String)> = match accounts::get(&s.app.db, caller, account_id).await {
        Ok(a) => contacts::of_account(&s.app.db, caller, a.seen())
            .await?
            .into_iter()
            .map(|c| (c.id, contact_label(&c.name, c.title.as_deref())))
            .collect(),
        Err(DomainError::NotFound) => vec![],
        Err(e) => return Err(e),
    };
    for c in known {
        if !out.iter().any(|(id, _)| *id == c.id) {
            out.push((c.id, contact_label(&c.name, c.title.as_deref())));
        }
    }
    Ok(out)
}

fn kind_choices(l: &Layout) -> Vec<(String, String)> {
    ServiceEventKind::ALL.iter().map(|k| (k.code().to_string(), l.e("service_event_kind", k.code()))).collect()
}

/// A stored instant as a `datetime-local` value in the zone the app reads it in (Asia/Shanghai).
fn local_input(at: &str) -> String {
    crate::db::parse_ts(at)
        .map(|t| t.with_timezone(&chrono_tz::Asia::Shanghai).format("%Y-%m-%dT%H:%M").to_string())
        .unwrap_or_default()
}

#[derive(Template)]
#[template(path = "service_event_form.html")]
struct EventForm {
    l: Layout,
    account_id: i64,
    account_name: String,
    /// Editing: the event's id and state.
    editing: Option<(i64, String)>,
    action: String,
    kinds: Vec<(String, String)>,
    contacts: Vec<(i64, String)>,
    /// A held event's form also says who attended; a planned one keeps what it had.
    held: bool,
    kept_attended: Vec<i64>,
    typed: Typed,
    errors: Vec<String>,
}

fn event_in(form: &UiForm) -> ServiceEventIn {
    ServiceEventIn {
        account_id: None,
        kind: field(form, "kind"),
        title: field(form, "title"),
        starts_at: field(form, "starts_at"),
        place: field(form, "place"),
        invited: ticked(form, "invited_"),
        attended: ticked(form, "attended_"),
        notes: field(form, "notes"),
        version: form.get("version").and_then(|v| v.trim().parse().ok()),
    }
}

async fn event_new_page(
    s: &AppState,
    ui: &UiCtx,
    account_id: i64,
    mut typed: Typed,
    err: Option<DomainError>,
) -> Response {
    let a = match accounts::get(&s.app.db, &ui.ctx.caller, account_id).await {
        Ok(a) => a,
        Err(e) => return fail_page(ui, e),
    };
    let contacts = match contact_choices(s, ui, account_id, &[]).await {
        Ok(c) => c,
        Err(e) => return fail_page(ui, e),
    };
    let l = Layout::new(ui, "ka_service", format!("{} · {}", ui.lang.t("service.event_new"), a.name));
    let errors = err.as_ref().map(|e| refusal(&l, e, &mut typed)).unwrap_or_default();
    let page = EventForm {
        account_id,
        account_name: a.name.clone(),
        editing: None,
        action: format!("/accounts/{account_id}/service-events/new"),
        kinds: kind_choices(&l),
        contacts,
        held: false,
        kept_attended: vec![],
        typed,
        errors,
        l,
    };
    answer(&page, err.as_ref())
}

async fn event_new(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    match id_of(&id) {
        Ok(id) => event_new_page(&s, &ui, id, Typed::default(), None).await,
        Err(e) => fail_page(&ui, e),
    }
}

async fn event_create(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    let inp = ServiceEventIn { account_id: Some(id), ..event_in(&form) };
    match events::create(&s.app.db, &ui.ctx, &inp, crate::app::clock::now()).await {
        Ok(v) => saved(&format!("/service-events/{}", v.id)),
        Err(e) if not_yours(&e) => fail_page(ui, e),
        Err(e) => event_new_page(&s, ui, id, Typed::of(&form), Some(e)).await,
    }
}

async fn event_edit_page(
    s: &AppState,
    ui: &UiCtx,
    id: i64,
    typed: Option<Typed>,
    err: Option<DomainError>,
) -> Response {
    let v = match events::get(&s.app.db, &ui.ctx.caller, id).await {
        Ok(v) => v,
        Err(e) => return fail_page(ui, e),
    };
    if !v.may_edit {
        return fail_page(ui, DomainError::Forbidden);
    }
    if v.state == "cancelled" {
        return fail_page(ui, DomainError::Conflict("service_event_cancelled"));
    }
    let known: Vec<&EventContact> = v.invited.iter().chain(v.attended.iter()).collect();
    let contacts = match contact_choices(s, ui, v.account_id, &known).await {
        Ok(c) => c,
        Err(e) => return fail_page(ui, e),
    };
    let mut typed = typed.unwrap_or_else(|| {
        let mut t = Typed::default();
        t.set("kind", v.kind.code());
        t.set("title", v.title.as_str());
        t.set("starts_at", local_input(&v.starts_at));
        t.set_opt("place", v.place.as_deref());
        t.set_opt("notes", v.notes.as_deref());
        for c in &v.invited {
            t.set(format!("invited_{}", c.id), "1");
        }
        for c in &v.attended {
            t.set(format!("attended_{}", c.id), "1");
        }
        t.set("version", v.version.to_string());
        t
    });
    let held = v.state == "held";
    let kept_attended = if held {
        vec![]
    } else {
        typed.values.keys().filter_map(|k| k.strip_prefix("attended_")?.parse().ok()).collect()
    };
    let l = Layout::new(ui, "ka_service", format!("{} · {}", ui.lang.t("service.event_edit"), v.title));
    let errors = err.as_ref().map(|e| refusal(&l, e, &mut typed)).unwrap_or_default();
    let page = EventForm {
        account_id: v.account_id,
        account_name: v.account_name.clone(),
        editing: Some((v.id, v.state.clone())),
        action: format!("/service-events/{}/edit", v.id),
        kinds: kind_choices(&l),
        contacts,
        held,
        kept_attended,
        typed,
        errors,
        l,
    };
    answer(&page, err.as_ref())
}

async fn event_edit(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    match id_of(&id) {
        Ok(id) => event_edit_page(&s, &ui, id, None, None).await,
        Err(e) => fail_page(&ui, e),
    }
}

async fn event_save(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    match events::update(&s.app.db, &ui.ctx, id, &event_in(&form), crate::app::clock::now()).await {
        Ok(v) => saved(&format!("/service-events/{}", v.id)),
        Err(e) if not_yours(&e) => fail_page(ui, e),
        Err(e @ DomainError::Conflict(_)) => super::event_page(&s, ui, id, Typed::default(), Some(e)).await,
        Err(e) => event_edit_page(&s, ui, id, Some(Typed::of(&form)), Some(e)).await,
    }
}

/// Records the event as held, from the form on its page (refused: the page again, the form
/// as typed).
async fn event_held(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    let inp = ServiceEventHeld {
        attended: ticked(&form, "attended_"),
        notes: field(&form, "notes"),
        version: form.get("version").and_then(|v| v.trim().parse().ok()).unwrap_or(0),
    };
    match events::record_held(&s.app.db, &ui.ctx, id, &inp, crate::app::clock::now()).await {
        Ok(v) => saved(&format!("/service-events/{}", v.id)),
        Err(e) if not_yours(&e) => fail_page(ui, e),
        Err(e) => {
            let mut typed = Typed::of(&form);
            typed.set("held_form", "1");
            super::event_page(&s, ui, id, typed, Some(e)).await
        }
    }
}

#[derive(Template)]
#[template(path = "service_event_cancel.html")]
struct CancelPage {
    l: Layout,
    v: events::ServiceEventView,
    errors: Vec<String>,
}

async fn cancel_page(s: &AppState, ui: &UiCtx, id: i64, err: Option<DomainError>) -> Response {
    let v = match events::get(&s.app.db, &ui.ctx.caller, id).await {
        Ok(v) => v,
        Err(e) => return fail_page(ui, e),
    };
    if !v.may_edit {
        return fail_page(ui, DomainError::Forbidden);
    }
    if v.state != "planned" {
        return fail_page(ui, DomainError::Conflict("service_event_not_planned"));
    }
    let l = Layout::new(ui, "ka_service", format!("{} · {}", ui.lang.t("service.cancel_event"), v.title));
    let errors = match &err {
        Some(DomainError::Invalid(fs)) if fs.iter().any(|f| f.field == "confirm") => {
            vec![l.t("service.cancel_unconfirmed")]
        }
        Some(e) => crate::web::ui::error_lines(&l, e),
        None => vec![],
    };
    answer(&CancelPage { l, v, errors }, err.as_ref())
}

async fn event_cancel_page(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    match id_of(&id) {
        Ok(id) => cancel_page(&s, &ui, id, None).await,
        Err(e) => fail_page(&ui, e),
    }
}

/// Cancels a planned event — only from the confirm page (`confirm=yes`); without it, the
/// confirm page again and nothing changed.
async fn event_cancel(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    if form.get("confirm") != Some("yes") {
        return cancel_page(&s, ui, id, Some(DomainError::invalid("confirm", "required"))).await;
    }
    let version = form.get("version").and_then(|v| v.trim().parse().ok()).unwrap_or(0);
    match events::cancel(&s.app.db, &ui.ctx, id, version, crate::app::clock::now()).await {
        Ok(v) => saved(&format!("/service-events/{}", v.id)),
        Err(e) if not_yours(&e) => fail_page(ui, e),
        Err(e) => super::event_page(&s, ui, id, Typed::default(), Some(e)).await,
    }
}

// ---- the evaluation ----

#[derive(Template)]
#[template(path = "service_evaluation_form.html")]
struct EvaluationForm {
    l: Layout,
    v: events::ServiceEventView,
    scores: Vec<String>,
    typed: Typed,
    errors: Vec<String>,
}

async fn evaluation_page(
    s: &AppState,
    ui: &UiCtx,
    id: i64,
    typed: Option<Typed>,
    err: Option<DomainError>,
) -> Response {
    let v = match events::get(&s.app.db, &ui.ctx.caller, id).await {
        Ok(v) => v,
        Err(e) => return fail_page(ui, e),
    };
    if !v.may_edit {
        return fail_page(ui, DomainError::Forbidden);
    }
    if v.state != "held" {
        return fail_page(ui, DomainError::Conflict("service_event_not_held"));
    }
    if !v.may_evaluate {
        return fail_page(ui, DomainError::Conflict("evaluation_not_editable"));
    }
    let mut typed = typed.unwrap_or_else(|| {
        let mut t = Typed::default();
        match &v.evaluation {
            Some(e) => {
                t.set("done", e.done.as_str());
                t.set_opt("reaction", e.reaction.as_deref());
                t.set("problems", e.problems.join("\n"));
                t.set("score", e.score.to_string());
                t.set_opt("suggestions", e.suggestions.as_deref());
                t.set("version", e.version.to_string());
            }
            None => t.set("version", "0"),
        }
        t
    });
    let l = Layout::new(ui, "ka_service", format!("{} · {}", ui.lang.t("service.evaluation"), v.title));
    let errors = err.as_ref().map(|e| refusal(&l, e, &mut typed)).unwrap_or_default();
    let scores = (1..=5).map(|n| n.to_string()).collect();
    answer(&EvaluationForm { l, v, scores, typed, errors }, err.as_ref())
}

async fn evaluation_form(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    match id_of(&id) {
        Ok(id) => evaluation_page(&s, &ui, id, None, None).await,
        Err(e) => fail_page(&ui, e),
    }
}

async fn evaluation_save(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    let res = match field(&form, "score").map(|n| n.parse::<i64>()) {
        Some(Err(_)) => Err(DomainError::invalid("score", "expected_integer")),
        score => {
            let inp = ServiceEvaluationIn {
                done: field(&form, "done"),
                reaction: field(&form, "reaction"),
                problems: form.get("problems").unwrap_or("").lines().map(str::to_string).collect(),
                score: score.and_then(Result::ok),
                suggestions: field(&form, "suggestions"),
                version: form.get("version").and_then(|v| v.trim().parse().ok()).unwrap_or(0),
                submit: submitting(&form),
            };
            events::evaluate(&s.app.db, &ui.ctx, id, &inp, crate::app::clock::now()).await
        }
    };
    match res {
        Ok(v) => saved(&format!("/service-events/{}#evaluation-h", v.id)),
        Err(e) if not_yours(&e) => fail_page(ui, e),
        Err(e @ DomainError::Conflict(_)) => super::event_page(&s, ui, id, Typed::default(), Some(e)).await,
        Err(e) => evaluation_page(&s, ui, id, Some(Typed::of(&form)), Some(e)).await,
    }
}
