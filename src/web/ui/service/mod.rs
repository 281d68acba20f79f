//! Serving key accounts' pages (issue 24 items 1–3): the service requests (list with filters,
//! the request whole with its opinions, the A4 申请表), the service events (list with filters,
//! the event with its contacts, evaluation and return visit), the account's service team as a
//! section of the account's page, and the panels the approval pages show for `service_request`
//! and `service_evaluation`. Every change goes through `app::service` (and its API); the forms
//! that make them are in `forms`.
mod forms;

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use crate::app::customers::accounts::Seen;
use crate::app::service::events::{self, ServiceEventView};
use crate::app::service::requests::{self, ServiceRequestView};
use crate::app::service::team::{self, ServiceTeamMember};
use crate::app::service::Opinion;
use crate::web::api::{id_of, q, query_pairs};
use crate::web::auth::UiCtx;
use crate::web::ui::approvals::{PanelGroup, PanelRow, PanelTable, SubjectPanel};
use crate::web::ui::{fail_page, render, Layout, Load, Section};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/service-requests", get(request_list))
        .route("/service-requests/{id}", get(request_show))
        .route("/service-requests/{id}/print", get(request_print))
        .route("/service-events", get(event_list))
        .route("/service-events/{id}", get(event_show))
        .route("/accounts/{id}/service-team", get(team_form).post(team_save))
        .merge(forms::routes())
}

// ---- the team's form ----

/// Blank rows the team form offers beside the members.
const BLANK_ROWS: usize = 3;

/// One row of the team form as typed.
struct TeamRow {
    username: String,
    function: String,
    responsibilities: String,
}

#[derive(Template)]
#[template(path = "service_team_form.html")]
struct TeamForm {
    l: Layout,
    account_id: i64,
    account_name: String,
    rows: Vec<TeamRow>,
    people: Vec<(String, String)>,
    functions: Vec<(&'static str, String)>,
    errors: Vec<String>,
    /// The team's version read (kept as typed on a refusal, so a stale save stays refused).
    version: i64,
}

async fn team_page(
    s: &AppState,
    ui: &UiCtx,
    account_id: i64,
    typed: Option<(Vec<TeamRow>, i64)>,
    err: Option<crate::domain::DomainError>,
) -> Response {
    let a = match crate::app::customers::accounts::get(&s.app.db, &ui.ctx.caller, account_id).await {
        Ok(a) => a,
        Err(e) => return fail_page(ui, e),
    };
    if !team::may_edit(&ui.ctx.caller) {
        return fail_page(ui, crate::domain::DomainError::Forbidden);
    }
    let (mut rows, version) = match typed {
        Some(r) => r,
        None => match team::get(&s.app.db, &ui.ctx.caller, account_id).await {
            Ok(t) => (
                t.members
                    .into_iter()
                    .map(|m| TeamRow {
                        username: m.username,
                        function: m.function.code().to_string(),
                        responsibilities: m.responsibilities.unwrap_or_default(),
                    })
                    .collect(),
                t.version,
            ),
            Err(e) => return fail_page(ui, e),
        },
    };
    for _ in 0..BLANK_ROWS {
        rows.push(TeamRow { username: String::new(), function: String::new(), responsibilities: String::new() });
    }
    let people = match crate::app::people::users::list(&s.app.db).await {
        Ok(us) => {
            let mut us: Vec<_> = us.into_iter().filter(|u| u.active && !u.role.is_admin()).collect();
            us.sort_by_cached_key(|u| crate::domain::pinyin::sort_key(&u.display_name));
            us.into_iter()
                .map(|u| (u.username.clone(), crate::app::people::directory::label(&u.display_name, &u.username)))
                .collect()
        }
        Err(e) => return fail_page(ui, e),
    };
    let l = Layout::new(ui, "ka_service", format!("{} · {}", ui.lang.t("service.team"), a.name));
    let functions = crate::domain::service::ServiceFunction::ALL
        .iter()
        .map(|f| (f.code(), l.e("service_function", f.code())))
        .collect();
    let status = err.as_ref().map(|e| crate::web::ui::status_and_code(e).0);
    let errors = err.map(|e| crate::web::ui::error_lines(&l, &e)).unwrap_or_default();
    let mut res =
        render(&TeamForm { l, account_id, account_name: a.name.clone(), rows, people, functions, errors, version });
    if let Some(st) = status {
        *res.status_mut() = st;
    }
    res
}

async fn team_form(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    match id_of(&id) {
        Ok(id) => team_page(&s, &ui, id, None, None).await,
        Err(e) => fail_page(&ui, e),
    }
}

async fn team_save(State(s): State<AppState>, Path(id): Path<String>, form: crate::web::auth::UiForm) -> Response {
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    let f = |k: String| form.get(&k).unwrap_or("").trim().to_string();
    let mut typed = vec![];
    for i in 0..(crate::domain::service::ROWS_MAX + BLANK_ROWS) {
        if form.get(&format!("username_{i}")).is_none() {
            break;
        }
        let row = TeamRow {
            username: f(format!("username_{i}")),
            function: f(format!("function_{i}")),
            responsibilities: f(format!("responsibilities_{i}")),
        };
        if row.username.is_empty() && row.function.is_empty() && row.responsibilities.is_empty() {
            continue;
        }
        typed.push(row);
    }
    let members = typed
        .iter()
        .map(|r| team::ServiceTeamMemberIn {
            username: r.username.clone(),
            function: r.function.clone(),
            responsibilities: Some(r.responsibilities.clone()).filter(|s| !s.is_empty()),
        })
        .collect();
    let version = form.get("version").and_then(|v| v.trim().parse::<i64>().ok()).unwrap_or(-1);
    match team::put(&s.app.db, &ui.ctx, id, &team::ServiceTeamIn { members, version }).await {
        Ok(_) => axum::response::IntoResponse::into_response(axum::response::Redirect::to(
            &crate::web::ui::forms::with_flash(&format!("/accounts/{id}"), "saved"),
        )),
        Err(e) => team_page(&s, ui, id, Some((typed, version)), Some(e)).await,
    }
}

/// An opinion as a table row: the step's role, its state, who decided, when, the comment.
fn opinion_row(l: &Layout, o: &Opinion) -> Vec<String> {
    vec![
        l.e("role", &o.role),
        l.e("step_state", &o.state),
        o.decided_by_name.clone().unwrap_or_else(|| "—".into()),
        o.decided_at.as_deref().map(|t| l.time(t)).unwrap_or_else(|| "—".into()),
        o.comment.clone().unwrap_or_else(|| "—".into()),
    ]
}

fn services_text(l: &Layout, v: &ServiceRequestView) -> String {
    v.services.iter().map(|s| l.e("service_kind", s.code())).collect::<Vec<_>>().join("、")
}

// ---- requests ----

#[derive(Template)]
#[template(path = "service_requests.html")]
struct RequestList {
    l: Layout,
    items: Vec<ServiceRequestView>,
    account_id: String,
    state: String,
    states: Vec<(&'static str, String)>,
    /// The account named by the filter, when the caller may write it a request.
    new_for: Option<i64>,
}

async fn request_list(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = query_pairs(raw);
    let account_id = q(&p, "account_id").unwrap_or("").trim().to_string();
    let state = q(&p, "state").unwrap_or("").trim().to_string();
    let f =
        requests::Filter { account_id: account_id.parse().ok(), state: Some(state.clone()).filter(|s| !s.is_empty()) };
    let items = match requests::list(&s.app.db, &ui.ctx.caller, &f).await {
        Ok(i) => i,
        Err(e) => return fail_page(&ui, e),
    };
    let l = Layout::new(&ui, "ka_service", ui.lang.t("service.requests"));
    let states = ["draft", "submitted", "approved", "returned", "rejected"]
        .iter()
        .map(|c| (*c, l.e("service_state", c)))
        .collect();
    let new_for = f.account_id.filter(|_| ui.ctx.caller.role.edits_accounts());
    render(&RequestList { l, items, account_id, state, states, new_for })
}

#[derive(Template)]
#[template(path = "service_request.html")]
struct RequestPage {
    l: Layout,
    v: ServiceRequestView,
    services: String,
    opinions: Vec<Vec<String>>,
    /// A refused submit's message.
    errors: Vec<String>,
}

async fn request_page(s: &AppState, ui: &UiCtx, id: &str) -> Result<RequestPage, crate::domain::DomainError> {
    let v = requests::get(&s.app.db, &ui.ctx.caller, id_of(id)?).await?;
    let l = Layout::new(ui, "ka_service", format!("{} · {}", ui.lang.t("service.request"), v.account_name));
    let services = services_text(&l, &v);
    let opinions = v.opinions.iter().map(|o| opinion_row(&l, o)).collect();
    Ok(RequestPage { l, v, services, opinions, errors: vec![] })
}

async fn request_show(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    match request_page(&s, &ui, &id).await {
        Ok(p) => render(&p),
        Err(e) => fail_page(&ui, e),
    }
}

/// The request's page with a refusal of what was asked from it (a submit, a save no longer
/// allowed), under the refusal's status.
async fn request_page_with(s: &AppState, ui: &UiCtx, id: i64, err: Option<crate::domain::DomainError>) -> Response {
    match request_page(s, ui, &id.to_string()).await {
        Ok(mut p) => {
            if let Some(e) = &err {
                p.errors = crate::web::ui::error_lines(&p.l, e);
            }
            forms::answer(&p, err.as_ref())
        }
        Err(e) => fail_page(ui, e),
    }
}

#[derive(Template)]
#[template(path = "service_request_print.html")]
struct RequestPrint {
    l: Layout,
    v: ServiceRequestView,
    services: Vec<(String, bool)>,
    opinions: Vec<Vec<String>>,
}

async fn request_print(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    match request_page(&s, &ui, &id).await {
        Ok(p) => {
            let services = crate::domain::service::ServiceKind::ALL
                .iter()
                .map(|k| (p.l.e("service_kind", k.code()), p.v.services.contains(k)))
                .collect();
            render(&RequestPrint { services, l: p.l, v: p.v, opinions: p.opinions })
        }
        Err(e) => fail_page(&ui, e),
    }
}

// ---- events ----

#[derive(Template)]
#[template(path = "service_events.html")]
struct EventList {
    l: Layout,
    items: Vec<ServiceEventView>,
    account_id: String,
    state: String,
    kind: String,
    return_state: String,
    states: Vec<(&'static str, String)>,
    kinds: Vec<(&'static str, String)>,
    return_states: Vec<(&'static str, String)>,
    /// The account named by the filter (planning an event of it).
    new_for: Option<i64>,
}

async fn event_list(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = query_pairs(raw);
    let get = |k: &str| q(&p, k).unwrap_or("").trim().to_string();
    let (account_id, state, kind, return_state) = (get("account_id"), get("state"), get("kind"), get("return_state"));
    let some = |s: &str| Some(s.to_string()).filter(|s| !s.is_empty());
    let f = events::Filter {
        account_id: account_id.parse().ok(),
        state: some(&state),
        kind: some(&kind),
        return_state: some(&return_state),
    };
    let items = match events::list(&s.app.db, &ui.ctx.caller, &f).await {
        Ok(i) => i,
        Err(e) => return fail_page(&ui, e),
    };
    let l = Layout::new(&ui, "ka_service", ui.lang.t("service.events"));
    let states = ["planned", "held", "cancelled"].iter().map(|c| (*c, l.e("service_event_state", c))).collect();
    let kinds = crate::domain::service::ServiceEventKind::ALL
        .iter()
        .map(|k| (k.code(), l.e("service_event_kind", k.code())))
        .collect();
    let return_states = ["due", "answered", "overdue"].iter().map(|c| (*c, l.e("service_return", c))).collect();
    let new_for = f.account_id.filter(|_| ui.ctx.caller.role.edits_accounts());
    render(&EventList { l, items, account_id, state, kind, return_state, states, kinds, return_states, new_for })
}

#[derive(Template)]
#[template(path = "service_event.html")]
struct EventPage {
    l: Layout,
    v: ServiceEventView,
    opinions: Vec<Vec<String>>,
    /// The held form's contacts to tick (a planned event the caller may change).
    contacts: Vec<(i64, String)>,
    typed: forms::Typed,
    errors: Vec<String>,
}

async fn event_show(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    match id_of(&id) {
        Ok(id) => event_page(&s, &ui, id, forms::Typed::default(), None).await,
        Err(e) => fail_page(&ui, e),
    }
}

/// The event's page; a refusal of what was asked from it (recording it as held, a change no
/// longer allowed) shown above, and the held form as typed.
async fn event_page(
    s: &AppState,
    ui: &UiCtx,
    id: i64,
    mut typed: forms::Typed,
    err: Option<crate::domain::DomainError>,
) -> Response {
    let v = match events::get(&s.app.db, &ui.ctx.caller, id).await {
        Ok(v) => v,
        Err(e) => return fail_page(ui, e),
    };
    let l = Layout::new(ui, "ka_service", format!("{} · {}", v.title, v.account_name));
    let opinions =
        v.evaluation.as_ref().map(|e| e.opinions.iter().map(|o| opinion_row(&l, o)).collect()).unwrap_or_default();
    let contacts = if v.may_edit && v.state == "planned" {
        let known: Vec<_> = v.invited.iter().chain(v.attended.iter()).collect();
        match forms::contact_choices(s, ui, v.account_id, &known).await {
            Ok(c) => c,
            Err(e) => return fail_page(ui, e),
        }
    } else {
        vec![]
    };
    if !typed.checked("held_form") {
        // Those invited are ticked as attending until told otherwise.
        for c in &v.invited {
            typed.set(format!("attended_{}", c.id), "1");
        }
        typed.set_opt("notes", v.notes.as_deref());
    }
    let errors = err.as_ref().map(|e| forms::refusal(&l, e, &mut typed)).unwrap_or_default();
    forms::answer(&EventPage { l, v, opinions, contacts, typed, errors }, err.as_ref())
}

// ---- the account's section ----

#[derive(Template)]
#[template(path = "service_account_section.html")]
pub struct AccountSection<'a> {
    pub l: &'a Layout,
    pub can_edit: bool,
    /// Those who edit accounts, and the account's service staff, plan its events.
    pub may_plan: bool,
    pub account_id: i64,
    pub members: Section<Vec<ServiceTeamMember>>,
}

/// The service section of an account's page: the service team, links to its requests and
/// events (an empty string when it cannot be read).
pub async fn account_section(s: &AppState, ui: &UiCtx, l: &Layout, seen: Seen) -> String {
    // A failed read is logged and shown as the section's failure, never as an empty team.
    let members =
        team::get(&s.app.db, &ui.ctx.caller, seen.id()).await.map(|t| t.members).section("account", "service team");
    let caller = &ui.ctx.caller;
    let can_edit = team::may_edit(caller);
    let serves = members.loaded().is_some_and(|ms| ms.iter().any(|m| m.username == caller.username));
    AccountSection { l, can_edit, may_plan: can_edit || serves, account_id: seen.id(), members }
        .render()
        .unwrap_or_default()
}

// ---- approval panels ----

fn row(l: &Layout, k: &str, val: String) -> PanelRow {
    PanelRow { label: l.t(k), value: if val.is_empty() { "—".into() } else { val }, changed: false }
}

fn opinions_table(l: &Layout, opinions: &[Opinion]) -> PanelTable {
    PanelTable {
        heading: l.t("service.opinions"),
        head: vec![
            l.t("service.step_role"),
            l.t("service.step_state"),
            l.t("service.decided_by"),
            l.t("service.decided_at"),
            l.t("service.opinion"),
        ],
        rows: opinions.iter().map(|o| (opinion_row(l, o), false)).collect(),
        foot: vec![],
    }
}

/// A `service_request` request's subject, whole: the 申请表's every field and the opinions.
pub(crate) fn request_panel(l: &Layout, v: ServiceRequestView) -> SubjectPanel {
    let services = services_text(l, &v);
    SubjectPanel {
        title: l.t("service.request"),
        note: None,
        groups: vec![PanelGroup {
            heading: format!("{} #{}", l.t("service.request"), v.id),
            rows: vec![
                row(l, "service.applicant", v.applicant_name.clone()),
                row(l, "service.applied_on", v.applied_on.clone()),
                row(l, "service.content", v.content.clone()),
                row(l, "service.deeper_needs", v.deeper_needs.clone().unwrap_or_default()),
                row(l, "service.needs_changes", v.needs_changes.clone().unwrap_or_default()),
                row(l, "service.organisation", v.organisation.clone().unwrap_or_default()),
                row(l, "service.services", services),
            ],
        }],
        table: Some(opinions_table(l, &v.opinions)),
        facts_title: v.account_name.clone(),
        facts: vec![],
        facts_href: Some((format!("/service-requests/{}", v.id), l.t("service.open_request"))),
        facts_hidden: false,
    }
}

/// A `service_evaluation` request's subject, whole: the event and the evaluation form.
pub(crate) fn evaluation_panel(l: &Layout, v: ServiceEventView) -> SubjectPanel {
    let people = |cs: &[crate::app::service::events::EventContact]| {
        cs.iter().map(|c| l.person(&c.name)).collect::<Vec<_>>().join("、")
    };
    let mut groups = vec![PanelGroup {
        heading: l.t("service.event"),
        rows: vec![
            row(l, "service.event_kind", l.e("service_event_kind", v.kind.code())),
            row(l, "service.event_title", v.title.clone()),
            row(l, "service.starts_at", l.time(&v.starts_at)),
            row(l, "service.place", v.place.clone().unwrap_or_default()),
            row(l, "service.invited", people(&v.invited)),
            row(l, "service.attended", people(&v.attended)),
        ],
    }];
    let mut table = None;
    if let Some(e) = &v.evaluation {
        groups.push(PanelGroup {
            heading: l.t("service.evaluation"),
            rows: vec![
                row(l, "service.done", e.done.clone()),
                row(l, "service.reaction", e.reaction.clone().unwrap_or_default()),
                row(l, "service.problems", e.problems.join("；")),
                row(l, "service.score", format!("{}/5", e.score)),
                row(l, "service.suggestions", e.suggestions.clone().unwrap_or_default()),
                row(l, "service.written_by", e.written_by_name.clone()),
            ],
        });
        table = Some(opinions_table(l, &e.opinions));
    }
    SubjectPanel {
        title: l.t("service.evaluation"),
        note: None,
        groups,
        table,
        facts_title: v.account_name.clone(),
        facts: vec![],
        facts_href: Some((format!("/service-events/{}", v.id), l.t("service.open_event"))),
        facts_hidden: false,
    }
}
