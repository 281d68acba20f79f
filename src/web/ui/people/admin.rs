//! Administration (users, org units), the audit trail and the user's own profile.
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::app::people::auth::{self, TokenInfo};
use crate::app::people::org::{self, OrgUnit};
use crate::app::people::users::{self, UserView};
use crate::app::records::input::Input;
use crate::domain::role::{OrgKind, Role};
use crate::domain::DomainError;
use crate::web::api::{q, query_pairs};
use crate::web::auth::{UiCtx, UiForm};
use crate::web::ui::forms::{forbidden, missing_or_forbidden, redisplay_or_redirect, unless_invalid, Field, FormPage};
use crate::web::ui::{fail_page, history_rows, render, HistoryRow, Layout, Load, Section};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(users_page))
        .route("/admin/users/new", get(new_user).post(create_user))
        .route("/admin/users/{username}/edit", get(edit_user).post(update_user))
        .route("/admin/users/{username}/deactivate", get(deactivate_confirm).post(deactivate))
        .route("/admin/users/{username}/activate", post(activate))
        .route("/admin/users/{username}/handover", get(handover_form).post(handover))
        .route("/admin/users/{username}/password", get(password_form).post(reset_password))
        .route("/admin/org", get(org_page))
        .route("/admin/org/new", get(new_org).post(create_org))
        .route("/admin/org/{code}/edit", get(edit_org).post(update_org))
        .route("/audit", get(audit_page))
        .route("/profile", get(profile))
        .route("/profile/language", post(set_language))
        .route("/profile/money-unit", post(set_money_unit))
        .route("/profile/password", post(set_password))
        .route("/profile/tokens", post(create_token))
        .route("/profile/tokens/{id}/revoke", post(revoke_token))
}

// A page is the natural error here; its size does not matter on this path.
#[allow(clippy::result_large_err)]
fn admin_only(ui: &UiCtx) -> Result<(), Response> {
    if ui.ctx.caller.role.is_admin() {
        Ok(())
    } else {
        Err(fail_page(ui, DomainError::Forbidden))
    }
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    l: Layout,
    /// Each user with the title they are shown with (their role on their unit's kind).
    users: Vec<(UserView, String)>,
}

async fn users_page(State(s): State<AppState>, ui: UiCtx) -> Response {
    if let Err(r) = admin_only(&ui) {
        return r;
    }
    let (users, units) = match (users::list(&s.app.db).await, org::list(&s.app.db).await) {
        (Ok(u), Ok(o)) => (u, o),
        (Err(e), _) | (_, Err(e)) => return fail_page(&ui, e),
    };
    let l = Layout::new(&ui, "users", ui.lang.t("users.title"));
    let kind = |code: &str| units.iter().find(|o| o.code == code).map(|o| o.kind.as_str());
    let users = users
        .into_iter()
        .map(|u| {
            let title = l.title_of(u.role, kind(&u.org_unit));
            (u, title)
        })
        .collect();
    render(&UsersPage { l, users })
}

/// The user form. Its pickers are part of it: one left without its options would submit an
/// empty value and clear what is stored, so a failed load fails the page.
async fn user_form(s: &AppState, l: Layout, u: Option<&UserView>) -> Result<FormPage, DomainError> {
    let units = org::list(&s.app.db).await.page_data("user form", "org units")?;
    let mut all = users::list(&s.app.db).await.page_data("user form", "managers")?;
    all.sort_by_cached_key(|m| crate::domain::pinyin::sort_key(&m.display_name));
    let roles: Vec<&str> = Role::ALL.iter().map(|r| r.code()).collect();
    let g = |f: fn(&UserView) -> Option<String>| u.and_then(f);
    let mut fields = vec![];
    if u.is_none() {
        fields.push(Field::new(&l, "username", "text", None).required().help(l.t("help.username")));
    }
    fields.extend([
        Field::new(&l, "display_name", "text", g(|u| Some(u.display_name.clone()))).required(),
        Field::new(&l, "role", "select", g(|u| Some(u.role.code().to_string())))
            .options(roles.iter().map(|r| (r.to_string(), l.title_of(r, None))).collect())
            .required(),
        Field::new(&l, "org_unit", "select", g(|u| Some(u.org_unit.clone())))
            .options(units.iter().map(|o| (o.code.clone(), format!("{}{}", "　".repeat(o.depth), o.name))).collect())
            .required(),
        Field::new(&l, "manager", "select", g(|u| u.manager.clone())).options(
            all.iter()
                .filter(|m| m.active && Some(&m.username) != u.map(|u| &u.username))
                .map(|m| (m.username.clone(), format!("{} ({})", m.display_name, m.username)))
                .collect(),
        ),
        Field::new(&l, "sales_type", "select", g(|u| u.sales_type.map(|t| t.code().to_string()))).choices(
            &l,
            "sales_type",
            &["ae", "sr"],
        ),
    ]);
    if u.is_none() {
        fields.push(Field::new(&l, "password", "password", None).required().help(l.t("help.password")));
    }
    let (heading, action, submit) = match u {
        Some(u) => (
            format!("{} · {}", l.t("action.edit"), u.username),
            format!("/admin/users/{}/edit", u.username),
            l.t("action.save"),
        ),
        None => (l.t("users.new"), "/admin/users/new".into(), l.t("action.create")),
    };
    Ok(FormPage {
        heading,
        action,
        fields,
        version: u.map(|u| u.version),
        submit,
        cancel: "/admin/users".into(),
        errors: vec![],
        duplicate_of: None,
        once: None,
        l,
    })
}

async fn new_user(State(s): State<AppState>, ui: UiCtx) -> Response {
    if let Err(r) = admin_only(&ui) {
        return r;
    }
    match user_form(&s, Layout::new(&ui, "users", ui.lang.t("users.new")), None).await {
        Ok(page) => render(&page),
        Err(e) => fail_page(&ui, e),
    }
}

async fn create_user(State(s): State<AppState>, form: UiForm) -> Response {
    let ui = &form.ui;
    let res = match Input::from_form(&form.fields) {
        Ok(inp) => users::create(&s.app.db, &ui.ctx, &inp).await,
        Err(e) => Err(e),
    };
    // The password is never sent back.
    let typed: Vec<(String, String)> = form.fields.iter().filter(|(k, _)| k != "password").cloned().collect();
    redisplay_or_redirect(
        ui,
        res,
        |_| "/admin/users".into(),
        forbidden,
        Some(&typed),
        async |_| user_form(&s, Layout::new(ui, "users", ui.lang.t("users.new")), None).await,
    )
    .await
}

async fn edit_user(State(s): State<AppState>, ui: UiCtx, Path(username): Path<String>) -> Response {
    if let Err(r) = admin_only(&ui) {
        return r;
    }
    let page = async {
        let u = users::get(&s.app.db, &username).await?;
        user_form(&s, Layout::new(&ui, "users", u.username.clone()), Some(&u)).await
    }
    .await;
    match page {
        Ok(page) => render(&page),
        Err(e) => fail_page(&ui, e),
    }
}

async fn update_user(State(s): State<AppState>, Path(username): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let res = match Input::from_form(&form.fields) {
        Ok(inp) => users::update(&s.app.db, &ui.ctx, &username, &inp).await,
        Err(e) => Err(e),
    };
    redisplay_or_redirect(
        ui,
        res,
        |_| "/admin/users".into(),
        missing_or_forbidden,
        Some(&form.fields),
        async |_| {
            let cur = users::get(&s.app.db, &username).await.page_data("user form", "user")?;
            user_form(&s, Layout::new(ui, "users", username.clone()), Some(&cur)).await
        },
    )
    .await
}

/// The successor choice shared by the deactivate and hand-over pages: what the user holds and
/// who may take it over are the page's own data.
async fn successor_page(s: &AppState, ui: &UiCtx, username: &str, deactivate: bool) -> Result<FormPage, DomainError> {
    let l = Layout::new(ui, "users", username.to_string());
    let held = async {
        let u = users::get(&s.app.db, username).await?;
        let mut conn = s.app.db.pool.acquire().await?;
        crate::app::customers::handover::holdings(&mut conn, u.id).await
    }
    .await
    .page_data("successor", "holdings")?;
    let all = users::list(&s.app.db).await.page_data("successor", "users")?;
    let others: Vec<(String, String)> = all
        .iter()
        .filter(|u| u.active && u.username != username && u.role != Role::Admin)
        .map(|u| (u.username.clone(), format!("{} ({}, {})", u.display_name, u.username, l.title_of(u.role, None))))
        .collect();
    let mut f = Field::new(&l, "successor", "select", None).options(others);
    f.label = l.t("users.successor");
    f.help = Some(l.t("users.holds").replace("{n}", &held.to_string()));
    f.required = !deactivate || held > 0;
    let (heading, action, submit) = if deactivate {
        (
            format!("{} · {username}", l.t("users.deactivate")),
            format!("/admin/users/{username}/deactivate"),
            l.t("users.deactivate"),
        )
    } else {
        (
            format!("{} · {username}", l.t("users.handover")),
            format!("/admin/users/{username}/handover"),
            l.t("users.handover"),
        )
    };
    let mut page = FormPage {
        heading,
        action,
        fields: vec![f],
        version: None,
        submit,
        cancel: "/admin/users".into(),
        errors: vec![],
        duplicate_of: None,
        once: None,
        l,
    };
    if deactivate {
        page.errors.clear();
        page.l.flash.push(page.l.t("users.deactivate_confirm"));
    }
    Ok(page)
}

async fn deactivate_confirm(State(s): State<AppState>, ui: UiCtx, Path(username): Path<String>) -> Response {
    if let Err(r) = admin_only(&ui) {
        return r;
    }
    match successor_page(&s, &ui, &username, true).await {
        Ok(page) => render(&page),
        Err(e) => fail_page(&ui, e),
    }
}

async fn deactivate(State(s): State<AppState>, Path(username): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let res = users::set_active_with(&s.app.db, &ui.ctx, &username, false, form.get("successor")).await;
    redisplay_or_redirect(
        ui,
        res,
        |_| "/admin/users".into(),
        unless_invalid,
        None,
        async |_| successor_page(&s, ui, &username, true).await,
    )
    .await
}

async fn handover_form(State(s): State<AppState>, ui: UiCtx, Path(username): Path<String>) -> Response {
    if let Err(r) = admin_only(&ui) {
        return r;
    }
    match successor_page(&s, &ui, &username, false).await {
        Ok(page) => render(&page),
        Err(e) => fail_page(&ui, e),
    }
}

async fn handover(State(s): State<AppState>, Path(username): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let res =
        crate::app::customers::handover::hand_over(&s.app.db, &ui.ctx, &username, form.get("successor").unwrap_or(""))
            .await;
    // Done: the page of what moved, counted.
    let res = match res {
        Ok(h) => return handover_done(&s, ui, h).await,
        Err(e) => Err::<(), _>(e),
    };
    redisplay_or_redirect(
        ui,
        res,
        |_| "/admin/users".into(),
        unless_invalid,
        None,
        async |_| successor_page(&s, ui, &username, false).await,
    )
    .await
}

#[derive(Template)]
#[template(path = "handover_done.html")]
struct HandoverDone {
    l: Layout,
    from_name: String,
    to_name: String,
    rows: Vec<(String, usize)>,
}

/// What a hand-over moved, by kind, with the two people by name.
async fn handover_done(s: &AppState, ui: &UiCtx, h: crate::app::customers::handover::HandOver) -> Response {
    let name = |u: &str| {
        let u = u.to_string();
        async move { users::get(&s.app.db, &u).await.map(|v| v.display_name).unwrap_or(u) }
    };
    let (from_name, to_name) = (name(&h.from).await, name(&h.to).await);
    let l = Layout::new(ui, "users", ui.lang.t("handover_done.title"));
    let rows = [
        ("accounts", h.accounts),
        ("opportunities", h.opportunities),
        ("team_places", h.team_places),
        ("reports", h.reports),
        ("planned_activities", h.planned_activities),
        ("follow_ups", h.follow_ups),
        ("return_visits", h.return_visits),
        ("requests", h.requests),
        ("forecasts", h.forecasts),
        ("plan_actions", h.plan_actions),
        ("opl_items", h.opl_items),
        ("service_places", h.service_places),
    ]
    .into_iter()
    .map(|(k, n)| (l.e("field", k), n))
    .collect();
    render(&HandoverDone { l, from_name, to_name, rows })
}

async fn activate(State(s): State<AppState>, Path(username): Path<String>, form: UiForm) -> Response {
    match users::set_active(&s.app.db, &form.ui.ctx, &username, true).await {
        Ok(_) => Redirect::to("/admin/users").into_response(),
        Err(e) => fail_page(&form.ui, e),
    }
}

#[derive(Template)]
#[template(path = "org.html")]
struct OrgPage {
    l: Layout,
    units: Vec<OrgUnit>,
}

async fn org_page(State(s): State<AppState>, ui: UiCtx) -> Response {
    if let Err(r) = admin_only(&ui) {
        return r;
    }
    match org::list(&s.app.db).await {
        Ok(units) => render(&OrgPage { l: Layout::new(&ui, "org", ui.lang.t("org.title")), units }),
        Err(e) => fail_page(&ui, e),
    }
}

/// The org unit form; its parent picker is part of it, so a failed load fails the page.
async fn org_form(s: &AppState, l: Layout, o: Option<&OrgUnit>) -> Result<FormPage, DomainError> {
    let units = org::list(&s.app.db).await.page_data("org form", "org units")?;
    let mut fields = vec![];
    if o.is_none() {
        fields.push(Field::new(&l, "code", "text", None).required().help(l.t("help.code")));
    }
    fields.push(Field::new(&l, "name", "text", o.map(|o| o.name.clone())).required());
    if o.is_none() {
        let kinds: Vec<&str> = OrgKind::ALL.iter().map(|k| k.code()).collect();
        fields.push(Field::new(&l, "kind", "select", None).choices(&l, "org_kind", &kinds).required());
        fields.push(Field::new(&l, "parent", "select", None).options(crate::web::ui::pick::org_options(
            &units.into_iter().filter(|u| u.kind != "branch").collect::<Vec<_>>(),
        )));
    }
    let (heading, action, submit) = match o {
        Some(o) => {
            (format!("{} · {}", l.t("action.edit"), o.name), format!("/admin/org/{}/edit", o.code), l.t("action.save"))
        }
        None => (l.t("org.new"), "/admin/org/new".into(), l.t("action.create")),
    };
    Ok(FormPage {
        heading,
        action,
        fields,
        version: o.map(|o| o.version),
        submit,
        cancel: "/admin/org".into(),
        errors: vec![],
        duplicate_of: None,
        once: None,
        l,
    })
}

async fn new_org(State(s): State<AppState>, ui: UiCtx) -> Response {
    if let Err(r) = admin_only(&ui) {
        return r;
    }
    match org_form(&s, Layout::new(&ui, "org", ui.lang.t("org.new")), None).await {
        Ok(page) => render(&page),
        Err(e) => fail_page(&ui, e),
    }
}

async fn create_org(State(s): State<AppState>, form: UiForm) -> Response {
    let ui = &form.ui;
    let res = match Input::from_form(&form.fields) {
        Ok(inp) => org::create(&s.app.db, &ui.ctx, &inp).await,
        Err(e) => Err(e),
    };
    redisplay_or_redirect(
        ui,
        res,
        |_| "/admin/org".into(),
        forbidden,
        Some(&form.fields),
        async |_| org_form(&s, Layout::new(ui, "org", ui.lang.t("org.new")), None).await,
    )
    .await
}

async fn edit_org(State(s): State<AppState>, ui: UiCtx, Path(code): Path<String>) -> Response {
    if let Err(r) = admin_only(&ui) {
        return r;
    }
    let page = async {
        let o = org::get(&s.app.db, &code).await?;
        org_form(&s, Layout::new(&ui, "org", o.name.clone()), Some(&o)).await
    }
    .await;
    match page {
        Ok(page) => render(&page),
        Err(e) => fail_page(&ui, e),
    }
}

async fn update_org(State(s): State<AppState>, Path(code): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let res = match Input::from_form(&form.fields) {
        Ok(inp) => org::update(&s.app.db, &ui.ctx, &code, &inp).await,
        Err(e) => Err(e),
    };
    redisplay_or_redirect(
        ui,
        res,
        |_| "/admin/org".into(),
        missing_or_forbidden,
        Some(&form.fields),
        async |_| {
            let cur = org::get(&s.app.db, &code).await.page_data("org form", "org unit")?;
            org_form(&s, Layout::new(ui, "org", code.clone()), Some(&cur)).await
        },
    )
    .await
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    l: Layout,
    history: Vec<HistoryRow>,
    next_href: Option<String>,
    /// The filter as typed: record kind, record id, person (username), from, to.
    entity: String,
    id: String,
    actor: String,
    from: String,
    to: String,
    /// The kinds of record to choose from (code, label).
    entities: Vec<(&'static str, String)>,
    /// The people to choose from (username, name), for those who see the whole trail.
    people: Vec<(String, String)>,
    errors: Vec<String>,
}

/// The kinds of record the audit trail holds.
const AUDITED: &[&str] = &[
    "account",
    "contact",
    "opportunity",
    "product",
    "quote",
    "order",
    "activity",
    "visit_plan",
    "approval",
    "screening",
    "classification",
    "quota",
    "forecast",
    "forecast_adjustment",
    "activity_targets",
    "import_run",
    "user",
    "org_unit",
    "delegation",
    "api_token",
    "session",
    "flow",
    "settings",
    "delivery",
];

async fn audit_page(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = query_pairs(raw);
    let l = Layout::new(&ui, "audit", ui.lang.t("audit.title"));
    let get = |k: &str| q(&p, k).unwrap_or("").trim().to_string();
    let people = if ui.ctx.caller.role.sees_all_audit() {
        match users::list(&s.app.db).await.page_data("audit", "people") {
            Ok(us) => us.into_iter().map(|u| (u.username, u.display_name)).collect(),
            Err(e) => return fail_page(&ui, e),
        }
    } else {
        vec![]
    };
    let mut page = AuditPage {
        history: vec![],
        next_href: None,
        entity: get("entity"),
        id: get("id"),
        actor: get("actor"),
        from: get("from"),
        to: get("to"),
        entities: AUDITED.iter().map(|e| (*e, l.e("entity", e))).collect(),
        people,
        errors: vec![],
        l,
    };
    let result = match crate::web::api::audit_filter(&p) {
        Ok(f) => crate::app::records::history::list(&s.app.db, &ui.ctx, &f, None).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(items) => {
            let keep: Vec<(&str, String)> = ["entity", "id", "actor", "from", "to"]
                .iter()
                .filter_map(|k| q(&p, k).filter(|v| !v.is_empty()).map(|v| (*k, v.to_string())))
                .collect();
            page.next_href = items.next_cursor.map(|c| {
                let mut k = keep.clone();
                k.push(("cursor", c));
                format!("/audit?{}", serde_urlencoded::to_string(&k).unwrap_or_default())
            });
            page.history = history_rows(&page.l, items.items);
            render(&page)
        }
        Err(e @ DomainError::Invalid(_)) => {
            page.errors = crate::web::ui::error_lines(&page.l, &e);
            render(&page)
        }
        Err(e) => fail_page(&ui, e),
    }
}

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage {
    l: Layout,
    username: String,
    tokens: Vec<TokenInfo>,
    new_token: Option<String>,
    /// The password form's refusal, beside its fields.
    pw: PasswordErrors,
    /// Notification channels and delegation (委托审批).
    f: crate::web::ui::approvals::ProfileForms,
    /// The delegations given that have not ended.
    delegations: Section<Vec<crate::app::approvals::DelegationView>>,
}

/// What was wrong with the password form, field by field (the summary lists them all).
#[derive(Default)]
pub struct PasswordErrors {
    pub summary: Vec<String>,
    pub current_password: Option<String>,
    pub password: Option<String>,
    pub password_confirm: Option<String>,
}

async fn profile_page(
    s: &AppState,
    ui: &UiCtx,
    new_token: Option<String>,
    password_error: Option<PasswordErrors>,
    flash: Option<String>,
) -> Response {
    profile_page_with(s, ui, new_token, password_error, flash, None).await
}

/// The profile, with the channel and delegation forms as given (else as stored).
pub(crate) async fn profile_page_with(
    s: &AppState,
    ui: &UiCtx,
    new_token: Option<String>,
    password_error: Option<PasswordErrors>,
    flash: Option<String>,
    forms: Option<crate::web::ui::approvals::ProfileForms>,
) -> Response {
    let tokens = match auth::list_tokens(&s.app.db, &ui.ctx.caller).await {
        Ok(t) => t,
        Err(e) => return fail_page(ui, e),
    };
    let f = match forms {
        Some(f) => f,
        None => match crate::web::ui::approvals::ProfileForms::load(s, ui).await {
            Ok(f) => f,
            Err(e) => return fail_page(ui, e),
        },
    };
    let delegations = crate::app::approvals::delegations(&s.app.db, &ui.ctx.caller, chrono::Utc::now())
        .await
        .section("profile", "delegations");
    let mut l = Layout::new(ui, "profile", ui.lang.t("profile.title"));
    l.flash.extend(flash);
    render(&ProfilePage {
        l,
        username: ui.ctx.caller.username.clone(),
        tokens,
        new_token,
        pw: password_error.unwrap_or_default(),
        f,
        delegations,
    })
}

async fn profile(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = query_pairs(raw);
    let saved = q(&p, "saved").map(|_| ui.lang.t("profile.saved"));
    let saved = saved.or_else(|| q(&p, "delegated").map(|_| ui.lang.t("delegation.saved")));
    profile_page(&s, &ui, None, None, saved).await
}

async fn set_language(State(s): State<AppState>, form: UiForm) -> Response {
    match users::set_locale(&s.app.db, &form.ui.ctx, form.get("locale").unwrap_or("")).await {
        Ok(()) => Redirect::to("/profile?saved=1").into_response(),
        Err(e) => fail_page(&form.ui, e),
    }
}

async fn set_money_unit(State(s): State<AppState>, form: UiForm) -> Response {
    match users::set_money_unit(&s.app.db, &form.ui.ctx, form.get("money_unit").unwrap_or("")).await {
        Ok(()) => Redirect::to("/profile?saved=1").into_response(),
        Err(e) => fail_page(&form.ui, e),
    }
}

/// The user's own password: the current one, the new one twice. The other sessions end; this
/// one stays, and the profile says so.
async fn set_password(State(s): State<AppState>, headers: HeaderMap, form: UiForm) -> Response {
    let ui = &form.ui;
    let p = users::NewPassword {
        password: form.get("password").unwrap_or(""),
        current_password: Some(form.get("current_password").unwrap_or("")),
        password_confirm: Some(form.get("password_confirm").unwrap_or("")),
    };
    let keep = crate::web::auth::cookie(&headers, crate::web::auth::SESSION_COOKIE);
    match users::set_password(&s.app.db, &ui.ctx, &ui.ctx.caller.username, p, keep).await {
        Ok(_) => Redirect::to("/profile?flash=password_changed").into_response(),
        Err(DomainError::Invalid(fs)) => {
            let mut pw = PasswordErrors::default();
            for f in &fs {
                let msg = ui.lang.msg("invalid", f.code);
                pw.summary.push(format!("{}: {msg}", ui.lang.t(&format!("field.{}", f.field))));
                match f.field.as_str() {
                    "current_password" => pw.current_password = Some(msg),
                    "password_confirm" => pw.password_confirm = Some(msg),
                    _ => pw.password = Some(msg),
                }
            }
            let mut r = profile_page(&s, ui, None, Some(pw), None).await;
            *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            r
        }
        Err(e) => fail_page(ui, e),
    }
}

async fn create_token(State(s): State<AppState>, form: UiForm) -> Response {
    let ui = &form.ui;
    match auth::create_token(&s.app.db, &ui.ctx, &ui.ctx.caller.username, form.get("name").unwrap_or("")).await {
        // The secret is shown on this one response and never again.
        Ok((_, token)) => profile_page(&s, ui, Some(token), None, None).await,
        Err(e) => fail_page(ui, e),
    }
}

async fn revoke_token(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    match async { auth::revoke_token(&s.app.db, &ui.ctx, crate::web::api::id_of(&id)?).await }.await {
        Ok(()) => Redirect::to("/profile#tokens").into_response(),
        Err(e) => fail_page(ui, e),
    }
}

fn password_page(ui: &UiCtx, username: &str) -> FormPage {
    let l = Layout::new(ui, "users", username.to_string());
    FormPage {
        heading: format!("{} · {username}", l.t("users.reset_password")),
        action: format!("/admin/users/{username}/password"),
        fields: vec![Field::new(&l, "password", "password", None).required().help(l.t("help.password"))],
        version: None,
        submit: l.t("action.save"),
        cancel: "/admin/users".into(),
        errors: vec![],
        duplicate_of: None,
        once: None,
        l,
    }
}

async fn password_form(ui: UiCtx, Path(username): Path<String>) -> Response {
    if let Err(r) = admin_only(&ui) {
        return r;
    }
    render(&password_page(&ui, &username))
}

async fn reset_password(State(s): State<AppState>, Path(username): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let p = users::NewPassword { password: form.get("password").unwrap_or(""), ..Default::default() };
    // An administrator's reset: that user's sessions all end.
    let res = users::set_password(&s.app.db, &ui.ctx, &username, p, None).await;
    // The password is never sent back.
    redisplay_or_redirect(
        ui,
        res,
        |_| "/admin/users?flash=saved".into(),
        missing_or_forbidden,
        None,
        async |_| Ok(password_page(ui, &username)),
    )
    .await
}
