//! Visit pages (M4): the list of activities, the visit record form (目标客户拜访记录表) and the
//! record, the weekly visit plan (每周工作计划表) and the manager's side-by-side view, visit
//! statistics against targets, and the week calendar. Every rule (what is effective, what a
//! record needs, who may change it) is `app::activities`'; these handlers only present it.
//!
//! Times are stored as instants and shown in the owner's time zone, the same calendar the
//! counts use; a `datetime-local` field is passed to the app as typed ("2026-11-23T14:30"),
//! which reads it in the owner's zone.
use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{Duration, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::app::customers::contacts::ContactView;
use crate::app::funnel::opportunities::OpportunityView;
use crate::app::records::input::Input;
use crate::app::records::once;
use crate::app::visits::activities::{self as acts, ActivityView, Filter};
use crate::db::{parse_ts, WriteTx};
use crate::domain::account::Attitude;
use crate::domain::activity::{self as act, CustomerAttitude, Kind, Outcome, Status};
use crate::domain::DomainError;
use crate::web::api::{id_of, q, query_pairs};
use crate::web::auth::{UiCtx, UiForm};
use crate::web::ui::customers::accounts::ConfirmPage;
use crate::web::ui::forms::{
    missing_or_forbidden, once_done, once_of, posted_once, redisplay_or_redirect, with_flash, Redisplay,
};
use crate::web::ui::{enc, fail_page, render, Layout, Load, Section};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/activities", get(list).post(create).layer(photo_limit()))
        .route("/activities/new", get(new_form))
        .route("/activities/{id}", get(show))
        .route("/activities/{id}/edit", get(edit_form).post(update).layer(photo_limit()))
        .route("/activities/{id}/photo", get(photo))
        .route("/static/checkin.js", get(checkin_js))
        .route("/activities/{id}/done", post(mark_done))
        .route("/activities/{id}/delete", get(delete_confirm).post(delete))
        .route("/visit-plan", get(plan_page))
        .route("/visit-plan/visits", post(plan_add))
        .route("/visit-plan/submit", post(plan_submit))
        .route("/visit-plans/team", get(team_page))
        .route("/visits/stats", get(stats_page))
        .route("/visits/stats/export", get(stats_export))
        .route("/calendar", get(calendar_page))
}

// ---- check-in (签到): the form's location and photo ----

/// A visit form may carry a photo: its body may be a little more than the largest photo, so a
/// photo just over the limit is refused beside its field, not as a bare 413.
fn photo_limit() -> axum::extract::DefaultBodyLimit {
    axum::extract::DefaultBodyLimit::max(acts::PHOTO_MAX_BYTES + 1024 * 1024)
}

async fn checkin_js() -> Response {
    (
        [
            (axum::http::header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (axum::http::header::CACHE_CONTROL, "max-age=3600"),
        ],
        include_str!("../../../../static/checkin.js"),
    )
        .into_response()
}

/// A visit form as posted: URL-encoded, or multipart when it carries the photo input (the
/// CSRF token and the one-time token `_once` are fields of either).
struct VisitPost {
    form: UiForm,
    photo: Option<Vec<u8>>,
}

impl axum::extract::FromRequest<AppState> for VisitPost {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, s: &AppState) -> Result<Self, Self::Rejection> {
        let multipart = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        if !multipart {
            return Ok(VisitPost { form: UiForm::from_request(req, s).await?, photo: None });
        }
        use axum::extract::FromRequestParts;
        let (mut parts, body) = req.into_parts();
        let ui = UiCtx::from_request_parts(&mut parts, s).await?;
        let lang = ui.lang;
        let m = axum::extract::Multipart::from_request(axum::extract::Request::from_parts(parts, body), s)
            .await
            .map_err(|_| crate::web::ui::error_page(lang, &DomainError::invalid("body", "invalid_form")))?;
        let p = crate::web::api::visits::activities::read_photo_multipart(m)
            .await
            .map_err(|e| crate::web::ui::error_page(lang, &e))?;
        let sent = p.fields.iter().find(|(k, _)| k == "_csrf").map(|(_, v)| v.as_str()).unwrap_or("");
        if !crate::web::auth::same_secret(sent, &ui.csrf) {
            return Err(crate::web::ui::error_page(lang, &DomainError::Csrf));
        }
        Ok(VisitPost { form: UiForm { ui, fields: p.fields }, photo: p.photo })
    }
}

/// The check-in block of a visit form: the location the script filled in (hidden fields, kept
/// when the form comes back), and the errors of it and of the photo.
pub struct CheckInBox {
    pub latitude: String,
    pub longitude: String,
    pub accuracy_m: String,
    pub at: String,
    pub errors: Vec<String>,
}

impl CheckInBox {
    fn new() -> CheckInBox {
        CheckInBox {
            latitude: String::new(),
            longitude: String::new(),
            accuracy_m: String::new(),
            at: String::new(),
            errors: vec![],
        }
    }
    fn refill(&mut self, typed: &[(String, String)]) {
        let get = |k: &str| typed.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim().to_string()).unwrap_or_default();
        self.latitude = get("check_in.latitude");
        self.longitude = get("check_in.longitude");
        self.accuracy_m = get("check_in.accuracy_m");
        self.at = get("check_in.at");
    }
    fn located(&self) -> bool {
        !self.latitude.is_empty() && !self.longitude.is_empty()
    }
    /// What the status line says once a location is in the form (the script says the same).
    fn status(&self, l: &Layout) -> String {
        if !self.located() {
            return String::new();
        }
        l.t("checkin.located")
            .replace("{lat}", &self.latitude)
            .replace("{lon}", &self.longitude)
            .replace("{acc}", if self.accuracy_m.is_empty() { "?" } else { &self.accuracy_m })
    }
}

/// A visit's photo, shown to whoever sees the visit (404 to anyone else, and when none).
async fn photo(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    match async { acts::photo(&s.app.db, &ui.ctx.caller, &s.app.settings.files(), id_of(&id)?).await }.await {
        Ok((p, bytes)) => crate::web::api::visits::activities::photo_response(id_of(&id).unwrap_or(0), &p, bytes),
        Err(e) => fail_page(&ui, e),
    }
}

// ---- shared presentation helpers ----

const DAY_KEYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn default_tz() -> Tz {
    act::parse_tz(act::DEFAULT_TZ).unwrap_or(chrono_tz::Asia::Shanghai)
}

/// Everyone's time zone, to show each record's times in its owner's calendar.
struct Zones {
    by: HashMap<String, Tz>,
    me: Tz,
}

impl Zones {
    /// Without them every time shown could be in the wrong zone: a failed load fails the page.
    async fn load(s: &AppState, ui: &UiCtx, page: &'static str) -> Result<Zones, DomainError> {
        let by: HashMap<String, Tz> = crate::app::people::users::list(&s.app.db)
            .await
            .page_data(page, "time zones")?
            .into_iter()
            .map(|u| (u.username, act::parse_tz(&u.time_zone).unwrap_or_else(|_| default_tz())))
            .collect();
        let me = by.get(&ui.ctx.caller.username).copied().unwrap_or_else(default_tz);
        Ok(Zones { by, me })
    }
    fn of(&self, user: &str) -> Tz {
        self.by.get(user).copied().unwrap_or_else(default_tz)
    }
    /// A stored instant in `user`'s zone, formatted (empty when unset).
    fn local(&self, user: &str, at: Option<&str>, fmt: &str) -> String {
        let tz = self.of(user);
        at.and_then(parse_ts).map(|t| t.with_timezone(&tz).format(fmt).to_string()).unwrap_or_default()
    }
    /// The value of a `datetime-local` field for a stored instant.
    fn input(&self, user: &str, at: Option<&str>) -> String {
        self.local(user, at, "%Y-%m-%dT%H:%M")
    }
    fn now_input(&self) -> String {
        Utc::now().with_timezone(&self.me).format("%Y-%m-%dT%H:%M").to_string()
    }
    fn today(&self) -> String {
        act::local_day(Utc::now(), self.me).format("%Y-%m-%d").to_string()
    }
}

/// One activity as lists show it.
struct Row {
    v: ActivityView,
    kind: String,
    status: String,
    /// When (occurred, else planned), in the owner's zone: full, and the time of day.
    at: String,
    time: String,
    planned: bool,
}

fn row(l: &Layout, z: &Zones, v: ActivityView) -> Row {
    let at = Some(v.at()).filter(|a| !a.is_empty());
    Row {
        kind: l.e("act_kind", &v.kind),
        status: l.e("act_status", v.status),
        at: z.local(&v.owner, at, "%Y-%m-%d %H:%M"),
        time: z.local(&v.owner, at, "%H:%M"),
        planned: v.status == Status::Planned,
        v,
    }
}

fn rows(l: &Layout, z: &Zones, vs: Vec<ActivityView>) -> Vec<Row> {
    vs.into_iter().map(|v| row(l, z, v)).collect()
}

fn opts<T: Copy>(l: &Layout, kind: &str, all: &[T], code: fn(T) -> &'static str) -> Vec<(String, String)> {
    all.iter().map(|x| (code(*x).to_string(), l.e(kind, code(*x)))).collect()
}

/// A week's Monday, and the label and links around it.
struct Week {
    monday: String,
    label: String,
    prev: String,
    next: String,
    /// (label "周一 11-23", date) for each day.
    days: Vec<(String, String)>,
}

fn week_nav(l: &Layout, monday: &str) -> Week {
    let m = NaiveDate::parse_from_str(monday, "%Y-%m-%d").unwrap_or_else(|_| Utc::now().date_naive());
    let day = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
    Week {
        monday: day(m),
        label: format!("{} – {}", day(m), day(m + Duration::days(6))),
        prev: day(m - Duration::days(7)),
        next: day(m + Duration::days(7)),
        days: (0..7)
            .map(|i| {
                let d = m + Duration::days(i);
                (format!("{} {}", l.t(&format!("field.{}", DAY_KEYS[i as usize])), d.format("%m-%d")), day(d))
            })
            .collect(),
    }
}

/// A field error's message; the visit's length limit reads better than the text one.
fn field_msg(l: &Layout, field: &str, code: &str) -> String {
    match (field, code) {
        ("ends_at", "too_long") => l.t("act.ends_too_long"),
        _ => l.lang.msg("invalid", code),
    }
}

/// Puts an error's messages beside the fields it names and in the summary; gives the status.
fn place_errors(
    l: &Layout,
    err: &DomainError,
    fields: &mut [&mut VField],
    side: &mut Option<String>,
    side_name: &str,
    summary: &mut Vec<String>,
) -> StatusCode {
    let (status, code) = crate::web::ui::status_and_code(err);
    match err {
        DomainError::Invalid(fs) => {
            for fe in fs {
                let msg = field_msg(l, &fe.field, fe.code);
                match fields.iter_mut().find(|f| f.name == fe.field) {
                    Some(f) => {
                        summary.push(format!("{}: {msg}", f.label));
                        f.error = Some(msg);
                    }
                    None => {
                        if fe.field == side_name {
                            *side = Some(msg.clone());
                        }
                        summary.push(format!("{}: {msg}", l.e("field", &fe.field)));
                    }
                }
            }
        }
        DomainError::StaleVersion { .. } => summary.push(l.lang.msg("err", "stale_version")),
        _ => summary.push(l.lang.msg("err", code)),
    }
    if status.is_server_error() {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        status
    }
}

fn with_status(mut res: Response, status: StatusCode) -> Response {
    *res.status_mut() = status;
    res
}

/// The caller's own accounts, or with `q` the accounts in their scope that the accounts list's
/// search finds (name, short name, pinyin, initials), for pickers.
async fn find_accounts(s: &AppState, ui: &UiCtx, page: &'static str, q: Option<&str>) -> Section<Vec<(i64, String)>> {
    let q = q.map(str::trim).filter(|q| !q.is_empty());
    let f = crate::app::customers::accounts::Filter {
        owner: q.is_none().then(|| ui.ctx.caller.username.clone()),
        q: q.map(str::to_string),
        sort: Some("name".into()),
        limit: Some(if q.is_some() { 50 } else { crate::app::MAX_LIMIT }),
        ..Default::default()
    };
    crate::app::customers::accounts::list(&s.app.db, &ui.ctx.caller, &f)
        .await
        .section(page, "account picker")
        .map(|p| p.items.into_iter().map(|a| (a.id, a.name)).collect())
}

/// Salespeople by username, for the owner fields' suggestions (`page`: where, for the log).
async fn people(s: &AppState, page: &'static str) -> Section<Vec<(String, String)>> {
    crate::app::people::users::list(&s.app.db).await.section(page, "owner suggestions").map(|us| {
        us.into_iter().filter(|u| u.active && u.role.works_accounts()).map(|u| (u.username, u.display_name)).collect()
    })
}

// ---- the list ----

#[derive(Template)]
#[template(path = "activities.html")]
struct ListPage {
    l: Layout,
    rows: Vec<Row>,
    account: String,
    owner: String,
    kind: String,
    status: String,
    effective: String,
    checked_in: String,
    from: String,
    to: String,
    kinds: Vec<(String, String)>,
    statuses: Vec<(String, String)>,
    people: Section<Vec<(String, String)>>,
    next_href: Option<String>,
    has_cursor: bool,
    errors: Vec<String>,
}

async fn list(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = crate::web::ui::pick::people_in(&s.app.db, query_pairs(raw), &["owner"]).await;
    let val = |k: &str| q(&p, k).unwrap_or("").trim().to_string();
    let (owner, kind, status, effective, from, to) =
        (val("owner"), val("kind"), val("status"), val("effective"), val("from"), val("to"));
    let checked_in = val("checked_in");
    let l = Layout::new(&ui, "activities", ui.lang.t("act.title"));
    let account = val("account_id");
    let f = Filter {
        owner: Some(owner.clone()),
        account_id: account.parse().ok(),
        kind: Some(kind.clone()),
        status: Some(status.clone()),
        effective: match effective.as_str() {
            "1" => Some(true),
            "0" => Some(false),
            _ => None,
        },
        checked_in: match checked_in.as_str() {
            "1" => Some(true),
            "0" => Some(false),
            _ => None,
        },
        from: Some(from.clone()),
        to: Some(to.clone()),
        cursor: q(&p, "cursor").map(str::to_string),
        ..Default::default()
    };
    let (items, next_cursor, errors, failed) = match acts::list(&s.app.db, &ui.ctx.caller, &f).await {
        Ok(page) => (page.items, page.next_cursor, vec![], None),
        Err(e @ DomainError::Invalid(_)) => {
            let mut summary = vec![];
            let st = place_errors(&l, &e, &mut [], &mut None, "", &mut summary);
            (vec![], None, summary, Some(st))
        }
        Err(e) => return fail_page(&ui, e),
    };
    let z = match Zones::load(&s, &ui, "activities").await {
        Ok(z) => z,
        Err(e) => return fail_page(&ui, e),
    };
    let base = enc(&[
        ("account_id", &account),
        ("owner", &owner),
        ("kind", &kind),
        ("status", &status),
        ("effective", &effective),
        ("checked_in", &checked_in),
        ("from", &from),
        ("to", &to),
    ]);
    let next_href = next_cursor.map(|c| {
        let sep = if base.is_empty() { "" } else { "&" };
        format!("/activities?{base}{sep}{}", enc(&[("cursor", &c)]))
    });
    let page = ListPage {
        rows: rows(&l, &z, items),
        kinds: opts(&l, "act_kind", Kind::ALL, Kind::code),
        statuses: opts(&l, "act_status", Status::ALL, Status::code),
        people: people(&s, "activities").await,
        has_cursor: q(&p, "cursor").is_some(),
        account,
        owner,
        kind,
        status,
        effective,
        checked_in,
        from,
        to,
        next_href,
        errors,
        l,
    };
    match failed {
        Some(st) => with_status(render(&page), st),
        None => render(&page),
    }
}

// ---- the visit record form ----

/// A field of the visit forms.
pub struct VField {
    pub name: &'static str,
    pub label: String,
    /// text, textarea, select, datetime-local, number
    pub kind: &'static str,
    pub value: String,
    pub options: Vec<(String, String)>,
    /// Offer an empty choice ("—") in a select.
    pub blank: bool,
    pub error: Option<String>,
    pub required: bool,
    pub help: Option<String>,
    pub inputmode: &'static str,
    /// A link beside the field: (href, text).
    pub link: Option<(String, String)>,
}

impl VField {
    fn new(l: &Layout, name: &'static str, kind: &'static str, value: String) -> VField {
        VField {
            name,
            label: l.e("field", name),
            kind,
            value,
            options: vec![],
            blank: false,
            error: None,
            required: false,
            help: None,
            inputmode: "",
            link: None,
        }
    }
    fn select(mut self, options: Vec<(String, String)>, blank: bool) -> VField {
        self.kind = "select";
        self.options = options;
        self.blank = blank;
        self
    }
    fn required(mut self) -> VField {
        self.required = true;
        self
    }
    fn help(mut self, h: String) -> VField {
        self.help = Some(h);
        self
    }
    fn text(mut self) -> VField {
        self.inputmode = "text";
        self
    }
}

pub struct Group {
    pub id: &'static str,
    pub legend: String,
    pub fields: Vec<VField>,
}

pub struct ContactChoice {
    pub id: i64,
    pub name: String,
    pub title: String,
    pub checked: bool,
    pub attitude: String,
}

#[derive(Template)]
#[template(path = "activity_form.html")]
struct VisitForm {
    l: Layout,
    heading: String,
    action: String,
    version: Option<i64>,
    account_id: i64,
    account_name: String,
    groups: Vec<Group>,
    contacts: Vec<ContactChoice>,
    attitudes: Vec<(String, String)>,
    contacts_error: Option<String>,
    errors: Vec<String>,
    submit: String,
    cancel: String,
    /// The account picker shown first when no account was given: (id, name).
    picking: bool,
    pick: Section<Vec<(i64, String)>>,
    /// What the account picker was searched for (name, short name, pinyin or initials).
    search: String,
    /// The one-time token of a new record's form.
    once: Option<String>,
    /// The check-in (签到) block: on the form that records a done visit or completes a
    /// planned one, for its owner (the location is set once).
    check_in: Option<CheckInBox>,
}

impl VisitForm {
    fn fields_mut(&mut self) -> Vec<&mut VField> {
        self.groups.iter_mut().flat_map(|g| g.fields.iter_mut()).collect()
    }

    /// Puts back what was typed and ticked.
    fn refill(&mut self, submitted: &[(String, String)]) {
        if let Some(t) = posted_once(submitted) {
            self.once = Some(t.to_string());
        }
        for f in self.fields_mut() {
            if let Some((_, v)) = submitted.iter().find(|(k, _)| k == f.name) {
                f.value = v.clone();
            }
        }
        if let Some(b) = &mut self.check_in {
            b.refill(submitted);
        }
        for c in &mut self.contacts {
            c.checked = submitted.iter().any(|(k, v)| k == "contact" && v.trim() == c.id.to_string());
            if let Some((_, v)) = submitted.iter().find(|(k, _)| *k == format!("attitude_{}", c.id)) {
                c.attitude = v.clone();
            }
        }
    }

    fn with_error(mut self, err: &DomainError) -> Response {
        let mut summary = vec![];
        let mut side = None;
        let mut fs: Vec<&mut VField> = self.groups.iter_mut().flat_map(|g| g.fields.iter_mut()).collect();
        let status = place_errors(&self.l, err, &mut fs, &mut side, "contacts", &mut summary);
        self.contacts_error = side;
        if let (Some(b), DomainError::Invalid(errs)) = (&mut self.check_in, err) {
            b.errors = errs
                .iter()
                .filter(|fe| fe.field.starts_with("check_in") || fe.field == "photo")
                .map(|fe| format!("{}: {}", self.l.e("field", &fe.field), field_msg(&self.l, &fe.field, fe.code)))
                .collect();
        }
        self.errors = summary;
        with_status(render(&self), status)
    }
}

impl Redisplay for VisitForm {
    fn refill(&mut self, typed: &[(String, String)]) {
        VisitForm::refill(self, typed)
    }
    fn with_error(self, err: &DomainError) -> Response {
        VisitForm::with_error(self, err)
    }
}

/// What the form of an account needs: its name, contacts and opportunities.
struct AccountBits {
    id: i64,
    name: String,
    contacts: Vec<ContactView>,
    opportunities: Vec<OpportunityView>,
}

async fn account_bits(s: &AppState, ui: &UiCtx, account_id: i64) -> Result<AccountBits, DomainError> {
    let db = &s.app.db;
    let c = &ui.ctx.caller;
    let (a, contacts, opportunities) = tokio::try_join!(
        crate::app::customers::accounts::get(db, c, account_id),
        crate::app::customers::contacts::of_account(db, c, account_id),
        crate::app::funnel::opportunities::of_account(db, c, account_id),
    )?;
    Ok(AccountBits { id: a.id, name: a.name, contacts, opportunities })
}

/// Initial values of the visit form, by field.
type Values = HashMap<&'static str, String>;

fn visit_form(l: Layout, a: &AccountBits, v: Option<&ActivityView>, vals: &Values) -> VisitForm {
    let val = |k: &str| vals.get(k).cloned().unwrap_or_default();
    let text = |name: &'static str| VField::new(&l, name, "text", val(name)).text();
    let area = |name: &'static str| VField::new(&l, name, "textarea", val(name));
    let when = |name: &'static str| VField::new(&l, name, "datetime-local", val(name));
    let opp_options =
        a.opportunities.iter().map(|o| (o.id.to_string(), format!("{} · {}", o.name, l.e("stage", o.stage)))).collect();
    let groups = vec![
        Group {
            id: "basics",
            legend: l.t("act.group.basics"),
            fields: vec![
                VField::new(&l, "kind", "select", val("kind"))
                    .select(opts(&l, "act_kind", Kind::ALL, Kind::code), false)
                    .required(),
                VField::new(&l, "status", "select", val("status"))
                    .select(opts(&l, "act_status", Status::ALL, Status::code), false)
                    .required()
                    .help(l.t("act.help.status")),
                when("planned_at").help(l.t("act.help.planned_at")),
                when("occurred_at").help(l.t("act.help.occurred_at")),
                when("ends_at"),
                text("place"),
                text("participants"),
            ],
        },
        Group {
            id: "content",
            legend: l.t("act.group.content"),
            fields: vec![
                area("objective"),
                area("materials"),
                area("talking_points"),
                area("customer_views"),
                area("problems").help(l.t("act.help.problems")),
            ],
        },
        Group {
            id: "result",
            legend: l.t("act.group.result"),
            fields: vec![
                VField::new(&l, "outcome", "select", val("outcome"))
                    .select(opts(&l, "outcome", Outcome::ALL, Outcome::code), false)
                    .help(l.t("act.help.outcome")),
                {
                    let mut f = VField::new(&l, "opportunity_id", "select", val("opportunity_id"))
                        .select(opp_options, true)
                        .help(l.t("act.help.opportunity"));
                    f.link = Some((format!("/accounts/{}/opportunities/new", a.id), l.t("act.establish")));
                    f
                },
                area("next_steps"),
                VField::new(&l, "customer_attitude", "select", val("customer_attitude"))
                    .select(opts(&l, "cust_att", CustomerAttitude::ALL, CustomerAttitude::code), true),
                VField::new(&l, "purpose", "select", val("purpose"))
                    .select(
                        crate::domain::classify::PURPOSES
                            .iter()
                            .map(|p| (p.to_string(), l.t(&format!("purpose.{p}"))))
                            .collect(),
                        true,
                    )
                    .help(l.t("act.help.purpose")),
                area("summary"),
            ],
        },
    ];
    let met: HashMap<i64, Option<String>> =
        v.map(|v| v.contacts.iter().map(|c| (c.contact_id, c.attitude.clone())).collect()).unwrap_or_default();
    let contacts = a
        .contacts
        .iter()
        // An erased contact is offered only where it was met already.
        .filter(|c| c.erased_at.is_none() || met.contains_key(&c.id))
        .map(|c| ContactChoice {
            id: c.id,
            name: if c.erased_at.is_some() { l.t("privacy.erased_contact") } else { c.name.clone() },
            title: c.title.clone().unwrap_or_default(),
            checked: met.contains_key(&c.id),
            attitude: met.get(&c.id).cloned().flatten().or_else(|| c.attitude.clone()).unwrap_or_default(),
        })
        .collect();
    let (heading, action, cancel, submit) = match v {
        Some(v) => (
            format!("{} · {}", l.t("act.edit"), v.account_name),
            format!("/activities/{}/edit", v.id),
            format!("/activities/{}", v.id),
            l.t("action.save"),
        ),
        None => (
            format!("{} · {}", l.t("act.form_title"), a.name),
            "/activities".to_string(),
            format!("/accounts/{}#activities", a.id),
            l.t("act.record"),
        ),
    };
    VisitForm {
        heading,
        action,
        version: v.map(|v| v.version),
        account_id: a.id,
        account_name: a.name.clone(),
        groups,
        contacts,
        attitudes: opts(&l, "attitude", Attitude::ALL, Attitude::code),
        contacts_error: None,
        errors: vec![],
        submit,
        cancel,
        picking: false,
        pick: Section::Loaded(vec![]),
        search: String::new(),
        once: None,
        check_in: None,
        l,
    }
}

/// The values of a new record: a visit, done now (or planned, when asked).
fn new_values(z: &Zones, planned: bool, opportunity_id: Option<&str>) -> Values {
    let mut v = Values::new();
    v.insert("kind", Kind::Visit.code().into());
    v.insert("outcome", Outcome::None.code().into());
    if planned {
        v.insert("status", Status::Planned.code().into());
    } else {
        v.insert("status", Status::Done.code().into());
        v.insert("occurred_at", z.now_input());
    }
    if let Some(o) = opportunity_id {
        v.insert("opportunity_id", o.to_string());
    }
    v
}

/// The values of a stored record; `done`: completing a planned one (when it happened: its
/// planned time if that has passed, else now).
fn record_values(z: &Zones, v: &ActivityView, done: bool) -> Values {
    let o = |x: &Option<String>| x.clone().unwrap_or_default();
    let mut m = Values::new();
    m.insert("kind", v.kind.clone());
    m.insert("status", v.status.code().to_string());
    m.insert("planned_at", z.input(&v.owner, v.planned_at.as_deref()));
    m.insert("occurred_at", z.input(&v.owner, v.occurred_at.as_deref()));
    m.insert("ends_at", z.input(&v.owner, v.ends_at.as_deref()));
    for (k, x) in [
        ("place", &v.place),
        ("participants", &v.participants),
        ("objective", &v.objective),
        ("materials", &v.materials),
        ("talking_points", &v.talking_points),
        ("customer_views", &v.customer_views),
        ("problems", &v.problems),
        ("next_steps", &v.next_steps),
        ("summary", &v.summary),
        ("customer_attitude", &v.customer_attitude),
        ("purpose", &v.purpose),
    ] {
        m.insert(k, o(x));
    }
    m.insert("outcome", v.outcome.clone());
    m.insert("opportunity_id", v.opportunity_id.map(|i| i.to_string()).unwrap_or_default());
    if done && v.status == Status::Planned {
        m.insert("status", Status::Done.code().into());
        let passed = v.planned_at.as_deref().and_then(parse_ts).filter(|t| *t <= Utc::now());
        m.insert(
            "occurred_at",
            match passed {
                Some(_) => z.input(&v.owner, v.planned_at.as_deref()),
                None => Utc::now().with_timezone(&z.of(&v.owner)).format("%Y-%m-%dT%H:%M").to_string(),
            },
        );
    }
    m
}

/// The record's own fields of a posted form, for the use case (contacts apart).
fn record_input(fields: &[(String, String)], creating: bool) -> Result<Input, DomainError> {
    let kept: Vec<(String, String)> = fields
        .iter()
        .filter(|(k, _)| {
            k == "version"
                || acts::CHECK_IN_FIELDS.contains(&k.as_str())
                || (acts::FIELDS.contains(&k.as_str()) && (creating || k != "account_id"))
        })
        .cloned()
        .collect();
    Input::from_form(&kept)
}

/// The contacts ticked (`contact` = id), each with the attitude chosen beside it.
fn met_contacts(fields: &[(String, String)]) -> Result<acts::MetInput, DomainError> {
    let mut out = vec![];
    for (_, v) in fields.iter().filter(|(k, _)| k == "contact") {
        let id: i64 = v.trim().parse().map_err(|_| DomainError::invalid("contacts", "expected_integer"))?;
        let att = fields
            .iter()
            .find(|(k, _)| *k == format!("attitude_{id}"))
            .map(|(_, a)| a.trim().to_string())
            .filter(|a| !a.is_empty());
        out.push((id, att));
    }
    Ok(out)
}

async fn new_form(State(s): State<AppState>, ui: UiCtx, uri: Uri, RawQuery(raw): RawQuery) -> Response {
    let p = query_pairs(raw);
    let l = Layout::new(&ui, "activities", ui.lang.t("act.form_title"));
    let Some(aid) = q(&p, "account_id") else {
        // First choose the account: its contacts and opportunities fill the form (by number
        // when the list of one's own is not at hand).
        let search = q(&p, "q").unwrap_or("").trim().to_string();
        let pick = find_accounts(&s, &ui, "visit form", Some(&search)).await;
        return render(&VisitForm {
            search,
            heading: l.t("act.form_title"),
            action: "/activities/new".into(),
            version: None,
            account_id: 0,
            account_name: String::new(),
            groups: vec![],
            contacts: vec![],
            attitudes: vec![],
            contacts_error: None,
            errors: vec![],
            submit: l.t("act.next"),
            cancel: "/activities".into(),
            picking: true,
            pick,
            once: None,
            check_in: None,
            l,
        });
    };
    // The form of a new record carries its one-time token in its address.
    let once = match once_of(&uri) {
        Ok(t) => t,
        Err(redirect) => return redirect.into_response(),
    };
    let (a, z) = match async {
        Ok::<_, DomainError>((
            account_bits(&s, &ui, id_of(aid.trim())?).await?,
            Zones::load(&s, &ui, "visit form").await?,
        ))
    }
    .await
    {
        Ok(x) => x,
        Err(e) => return fail_page(&ui, e),
    };
    let planned = matches!(q(&p, "planned"), Some("1" | "true"));
    let mut page = visit_form(l, &a, None, &new_values(&z, planned, q(&p, "opportunity_id")));
    page.once = Some(once);
    page.check_in = Some(CheckInBox::new());
    render(&page)
}

async fn create(State(s): State<AppState>, post: VisitPost) -> Response {
    let VisitPost { form, photo } = post;
    let ui = &form.ui;
    let res = async {
        let inp = record_input(&form.fields, true)?;
        let met = met_contacts(&form.fields)?;
        // The photo is checked (and its bytes kept) first: a refused one saves nothing.
        let photo = match photo.as_deref() {
            Some(b) => Some(acts::store_photo(&s.app.db, &s.app.settings.files(), b).await?),
            None => None,
        };
        let page = |v: &ActivityView| format!("/activities/{}", v.id);
        let create = async |tx: &mut WriteTx| {
            let v = acts::create_in(tx, &ui.ctx, &inp, Some(&met)).await?;
            match &photo {
                Some(p) => acts::attach_photo_in(tx, &ui.ctx, v.id, p).await,
                None => Ok(v),
            }
        };
        once::create(&s.app.db, &ui.ctx, posted_once(&form.fields), page, create).await
    }
    .await;
    // Without an account there is no form to come back to.
    let aid = form.get("account_id").and_then(|v| v.trim().parse::<i64>().ok());
    let error_page = |e: &DomainError| aid.is_none() || missing_or_forbidden(e);
    redisplay_or_redirect(
        ui,
        res,
        |o| once_done(o, |v| format!("/activities/{}", v.id)),
        error_page,
        Some(&form.fields),
        async |_| {
            let a = account_bits(&s, ui, aid.ok_or(DomainError::NotFound)?).await?;
            let l = Layout::new(ui, "activities", ui.lang.t("act.form_title"));
            let mut page = visit_form(l, &a, None, &Values::new());
            page.check_in = Some(CheckInBox::new());
            Ok(page)
        },
    )
    .await
}

async fn edit_page(s: &AppState, ui: &UiCtx, id: i64, done: bool) -> Result<VisitForm, DomainError> {
    let v = acts::get(&s.app.db, &ui.ctx.caller, id).await?;
    let a = account_bits(s, ui, v.account_id).await?;
    let z = Zones::load(s, ui, "visit form").await?;
    let l = Layout::new(ui, "activities", format!("{} · {}", ui.lang.t("act.edit"), v.account_name));
    let vals = record_values(&z, &v, done);
    let completing = done && v.status == Status::Planned;
    let mut page = visit_form(l, &a, Some(&v), &vals);
    if completing && !v.checked_in && v.owner == ui.ctx.caller.username {
        page.check_in = Some(CheckInBox::new());
    }
    Ok(page)
}

async fn edit_form(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>, RawQuery(raw): RawQuery) -> Response {
    let done = matches!(q(&query_pairs(raw), "done"), Some("1" | "true"));
    match async { edit_page(&s, &ui, id_of(&id)?, done).await }.await {
        Ok(page) => render(&page),
        Err(e) => fail_page(&ui, e),
    }
}

async fn update(State(s): State<AppState>, Path(id): Path<String>, post: VisitPost) -> Response {
    let VisitPost { form, photo } = post;
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    // The form that completed a planned visit carried the check-in block: it comes back with it.
    let completing = form.fields.iter().any(|(k, _)| k.starts_with("check_in."));
    let res = async {
        let inp = record_input(&form.fields, false)?;
        let met = met_contacts(&form.fields)?;
        let photo = match photo.as_deref() {
            Some(b) => Some(acts::store_photo(&s.app.db, &s.app.settings.files(), b).await?),
            None => None,
        };
        acts::update_with_photo(&s.app.db, &ui.ctx, id, &inp, Some(&met), photo.as_ref()).await
    }
    .await;
    // After a refused change: the form again, with what was typed, against the current record
    // (a stale version takes the current one, so saving again is a deliberate overwrite).
    redisplay_or_redirect(
        ui,
        res,
        |v| with_flash(&format!("/activities/{}", v.id), "saved"),
        missing_or_forbidden,
        Some(&form.fields),
        async |e| {
            let mut page = edit_page(&s, ui, id, false).await?;
            if completing {
                page.check_in = Some(CheckInBox::new());
            }
            if !matches!(e, DomainError::StaleVersion { .. }) {
                if let Some(v) = form.get("version").and_then(|v| v.trim().parse().ok()) {
                    page.version = Some(v);
                }
            }
            Ok(page)
        },
    )
    .await
}

/// Marks a planned visit done as it stands; what it still needs is asked on the edit form.
async fn mark_done(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    let mut inp = Input::from_pairs(&[("status", Some(Status::Done.code()))]);
    inp.version = form.get("version").and_then(|v| v.trim().parse().ok());
    let res = acts::update(&s.app.db, &ui.ctx, id, &inp, None).await;
    // Refused: shown on the completing form, with the app's reason (nothing was typed).
    redisplay_or_redirect(
        ui,
        res,
        |v| with_flash(&format!("/activities/{}", v.id), "saved"),
        missing_or_forbidden,
        None,
        async |_| edit_page(&s, ui, id, true).await,
    )
    .await
}

// ---- the record ----

#[derive(Template)]
#[template(path = "activity.html")]
struct ShowPage {
    l: Layout,
    v: ActivityView,
    kind: String,
    status: String,
    outcome: String,
    customer_attitude: String,
    purpose: String,
    planned_at: String,
    occurred_at: String,
    ends_at: String,
    time_zone: String,
    /// Why the record is not an effective visit, in words (empty when it is).
    why_not: Vec<String>,
    /// (text, overdue) of the follow-up after this visit.
    follow_up: Option<(String, bool)>,
    /// (contact id, name, attitude code, attitude label) of the contacts met.
    contacts: Vec<(i64, String, String, String)>,
    planned: bool,
    can_edit: bool,
    /// The check-in's coordinates, "39.904211, 116.407395" (empty when not checked in).
    coords: String,
    /// The same as a `geo:` address (opens the phone's map).
    geo: String,
    /// The photo is a type browsers show (JPEG, PNG, WebP); HEIC is offered as a link.
    photo_inline: bool,
}

/// Why a record is not an effective visit, in words (the codes come from the use case).
fn why_not(l: &Layout, v: &ActivityView) -> Vec<String> {
    v.why_not_effective.iter().map(|k| l.t(&format!("act.why.{k}"))).collect()
}

async fn show(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    let res = async {
        let v = acts::get(&s.app.db, &ui.ctx.caller, id_of(&id)?).await?;
        // Whether to offer the edit: the page is not shown without knowing.
        let can_edit = acts::may_change(&s.app.db, &ui.ctx.caller, v.id).await.page_data("activity", "may edit")?;
        Ok::<_, DomainError>((v, can_edit, Zones::load(&s, &ui, "activity").await?))
    }
    .await;
    let (v, can_edit, z) = match res {
        Ok(x) => x,
        Err(e) => return fail_page(&ui, e),
    };
    let l = Layout::new(&ui, "activities", format!("{} · {}", ui.lang.t("act.record_title"), v.account_name));
    let fmt = |at: &Option<String>| {
        let t = z.local(&v.owner, at.as_deref(), "%Y-%m-%d %H:%M");
        if t.is_empty() {
            "—".to_string()
        } else {
            t
        }
    };
    let owner_today = act::local_day(Utc::now(), z.of(&v.owner)).format("%Y-%m-%d").to_string();
    let follow_up = match (&v.follow_up_due, v.followed_up_by) {
        (_, Some(by)) => Some((l.t("act.followed_up").replace("{id}", &by.to_string()), false)),
        (Some(due), None) => Some((l.t("act.follow_up_due").replace("{date}", due), *due < owner_today)),
        (None, None) => None,
    };
    let contacts = v
        .contacts
        .iter()
        .map(|c| {
            let code = c.attitude.clone().unwrap_or_default();
            let label = if code.is_empty() { "—".to_string() } else { l.e("attitude", &code) };
            let name = if c.erased { l.t("privacy.erased_contact") } else { c.name.clone() };
            (c.contact_id, name, code, label)
        })
        .collect();
    let page = ShowPage {
        kind: l.e("act_kind", &v.kind),
        status: l.e("act_status", v.status),
        outcome: l.e("outcome", &v.outcome),
        customer_attitude: v.customer_attitude.as_deref().map(|a| l.e("cust_att", a)).unwrap_or_else(|| "—".into()),
        purpose: v.purpose.as_deref().map(|p| l.t(&format!("purpose.{p}"))).unwrap_or_else(|| "—".into()),
        planned_at: fmt(&v.planned_at),
        occurred_at: fmt(&v.occurred_at),
        ends_at: fmt(&v.ends_at),
        time_zone: z.of(&v.owner).name().to_string(),
        why_not: why_not(&l, &v),
        follow_up,
        contacts,
        planned: v.status == Status::Planned,
        can_edit,
        coords: v.check_in.as_ref().map(|c| format!("{:.6}, {:.6}", c.latitude, c.longitude)).unwrap_or_default(),
        geo: v.check_in.as_ref().map(|c| format!("{:.6},{:.6}", c.latitude, c.longitude)).unwrap_or_default(),
        photo_inline: v.photo.as_ref().is_some_and(|p| p.content_type != "image/heif"),
        v,
        l,
    };
    render(&page)
}

async fn delete_confirm(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    let v = match async { acts::get(&s.app.db, &ui.ctx.caller, id_of(&id)?).await }.await {
        Ok(v) => v,
        Err(e) => return fail_page(&ui, e),
    };
    let l = Layout::new(&ui, "activities", v.account_name.clone());
    render(&ConfirmPage {
        heading: format!("{} · {} · {}", l.t("action.delete"), v.account_name, v.local_day),
        message: l.t("act.delete_confirm"),
        action: format!("/activities/{}/delete", v.id),
        version: Some(v.version),
        submit: l.t("action.delete"),
        cancel: format!("/activities/{}", v.id),
        l,
    })
}

async fn delete(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let version = form.get("version").and_then(|v| v.trim().parse().ok());
    let res = async {
        let id = id_of(&id)?;
        let v = acts::get(&s.app.db, &ui.ctx.caller, id).await?;
        acts::delete(&s.app.db, &ui.ctx, id, version).await?;
        Ok::<_, DomainError>(v.account_id)
    }
    .await;
    match res {
        Ok(aid) => Redirect::to(&with_flash(&format!("/accounts/{aid}#activities"), "deleted")).into_response(),
        Err(e) => fail_page(ui, e),
    }
}

// ---- the weekly plan ----

#[derive(Template)]
#[template(path = "visit_plan.html")]
struct PlanPage {
    l: Layout,
    /// The add form's one-time token (the caller's own plan).
    once: Option<String>,
    /// What the add form's account picker was searched for.
    search: String,
    p: acts::VisitPlan,
    rows: Vec<Row>,
    w: Week,
    own: bool,
    status: String,
    submitted_at: String,
    /// The owner's query part for the week links ("" for oneself).
    owner_qs: String,
    /// The caller's accounts for the add form's picker (by number without them).
    my_accounts: Section<Vec<(i64, String)>>,
    add: Vec<VField>,
    add_errors: Vec<String>,
    note: String,
    note_error: Option<String>,
    submit_errors: Vec<String>,
}

/// What a refused form on the plan page brings back.
enum PlanState {
    Fresh,
    Add(Vec<(String, String)>, DomainError),
    Submit(Vec<(String, String)>, DomainError),
}

fn add_fields(l: &Layout, accounts: &[(i64, String)]) -> Vec<VField> {
    let mut pick = VField::new(l, "account_id", "select", String::new())
        .select(accounts.iter().map(|(id, n)| (id.to_string(), n.clone())).collect(), true)
        .required();
    pick.label = l.t("field.account");
    let mut no = VField::new(l, "account_no", "number", String::new());
    no.label = l.t("plan.account_no");
    no.inputmode = "numeric";
    let mut fields = vec![];
    if !accounts.is_empty() {
        fields.push(pick);
    }
    fields.extend([
        no,
        VField::new(l, "planned_at", "datetime-local", String::new()).required(),
        VField::new(l, "objective", "text", String::new()).text(),
        VField::new(l, "place", "text", String::new()).text(),
        VField::new(l, "materials", "text", String::new()).text(),
    ]);
    fields
}

async fn plan_view(
    s: &AppState,
    ui: &UiCtx,
    owner: Option<&str>,
    week: Option<&str>,
    state: PlanState,
    once: Option<String>,
    search: String,
) -> Response {
    let mut p = match acts::plan(&s.app.db, &ui.ctx.caller, owner, week).await {
        Ok(p) => p,
        Err(e) => return fail_page(ui, e),
    };
    let own = p.owner == ui.ctx.caller.username;
    let z = match Zones::load(s, ui, "visit plan").await {
        Ok(z) => z,
        Err(e) => return fail_page(ui, e),
    };
    let l = Layout::new(ui, "visit_plan", format!("{} · {}", ui.lang.t("plan.title"), p.name));
    let visits = std::mem::take(&mut p.visits);
    let my_accounts =
        if own { find_accounts(s, ui, "visit plan", Some(&search)).await } else { Section::Loaded(vec![]) };
    let mut add = add_fields(&l, my_accounts.items());
    let mut add_errors = vec![];
    let mut submit_errors = vec![];
    let mut note = p.note.clone().unwrap_or_default();
    let mut note_error = None;
    let mut status = StatusCode::OK;
    match &state {
        PlanState::Fresh => {}
        PlanState::Add(typed, e) => {
            for f in &mut add {
                if let Some((_, v)) = typed.iter().find(|(k, _)| k == f.name) {
                    f.value = v.clone();
                }
            }
            let mut fs: Vec<&mut VField> = add.iter_mut().collect();
            let mut account_err = None;
            status = place_errors(&l, e, &mut fs, &mut account_err, "account_id", &mut add_errors);
            // Without a picker the number field answers for the account.
            if let (Some(m), Some(f)) = (account_err, add.iter_mut().find(|f| f.name == "account_no")) {
                f.error = Some(m);
            }
        }
        PlanState::Submit(typed, e) => {
            note = typed.iter().find(|(k, _)| k == "note").map(|(_, v)| v.clone()).unwrap_or_default();
            status = place_errors(&l, e, &mut [], &mut note_error, "note", &mut submit_errors);
        }
    }
    let owner_qs = if own { String::new() } else { enc(&[("owner", &p.owner)]) };
    let page = PlanPage {
        rows: rows(&l, &z, visits),
        w: week_nav(&l, &p.week),
        own,
        status: l.e("plan_status", &p.status),
        submitted_at: z.local(&p.owner, p.submitted_at.as_deref(), "%Y-%m-%d %H:%M"),
        owner_qs,
        my_accounts,
        add,
        add_errors,
        note,
        note_error,
        submit_errors,
        once: once.filter(|_| own),
        search,
        p,
        l,
    };
    with_status(render(&page), status)
}

async fn plan_page(State(s): State<AppState>, ui: UiCtx, uri: Uri) -> Response {
    let p = query_pairs(uri.query().map(str::to_string));
    let owner = q(&p, "owner").filter(|o| *o != ui.ctx.caller.username);
    // The caller's own plan carries a one-time token for its add form in its address.
    let once = match owner {
        Some(_) => None,
        None => match once_of(&uri) {
            Ok(t) => Some(t),
            Err(redirect) => return redirect.into_response(),
        },
    };
    let search = q(&p, "q").unwrap_or("").trim().to_string();
    plan_view(&s, &ui, owner, q(&p, "week"), PlanState::Fresh, once, search).await
}

/// Adds a planned visit to the caller's plan.
async fn plan_add(State(s): State<AppState>, form: UiForm) -> Response {
    let ui = &form.ui;
    let g = |k: &str| form.get(k).map(str::trim).filter(|v| !v.is_empty());
    let account = g("account_no").or(g("account_id"));
    let inp = Input::from_pairs(&[
        ("account_id", account),
        ("kind", Some(Kind::Visit.code())),
        ("status", Some(Status::Planned.code())),
        ("planned_at", g("planned_at")),
        ("objective", g("objective")),
        ("place", g("place")),
        ("materials", g("materials")),
    ]);
    let target = |v: &ActivityView| format!("/visit-plan?week={}#plan-visits", v.week);
    let create = async |tx: &mut WriteTx| acts::create_in(tx, &ui.ctx, &inp, None).await;
    match once::create(&s.app.db, &ui.ctx, posted_once(&form.fields), target, create).await {
        Ok(o) => Redirect::to(&once_done(o, |v| target(&v))).into_response(),
        Err(e @ DomainError::Forbidden) => fail_page(ui, e),
        Err(e) => {
            // An account not found is the number typed: say so beside it.
            let e = match e {
                DomainError::NotFound => DomainError::invalid("account_id", "unknown_account"),
                e => e,
            };
            let once = posted_once(&form.fields).map(str::to_string);
            plan_view(&s, ui, None, form.get("week"), PlanState::Add(form.fields.clone(), e), once, String::new()).await
        }
    }
}

async fn plan_submit(State(s): State<AppState>, form: UiForm) -> Response {
    let ui = &form.ui;
    let week = form.get("week").map(str::to_string);
    match acts::submit_plan(&s.app.db, &ui.ctx, week.as_deref(), form.get("note")).await {
        Ok(p) => Redirect::to(&format!("/visit-plan?week={}", p.week)).into_response(),
        Err(e @ (DomainError::Forbidden | DomainError::NotFound)) => fail_page(ui, e),
        Err(e) => {
            plan_view(&s, ui, None, week.as_deref(), PlanState::Submit(form.fields.clone(), e), None, String::new())
                .await
        }
    }
}

/// One member's plan on the manager's page.
struct PlanCard {
    p: acts::VisitPlan,
    status: String,
    rows: Vec<Row>,
}

#[derive(Template)]
#[template(path = "visit_plans_team.html")]
struct TeamPage {
    l: Layout,
    w: Week,
    cards: Vec<PlanCard>,
    planned: i64,
    done: i64,
    effective: i64,
}

async fn team_page(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = query_pairs(raw);
    let plans = match acts::team_plans(&s.app.db, &ui.ctx.caller, q(&p, "week")).await {
        Ok(x) => x,
        Err(e) => return fail_page(&ui, e),
    };
    let z = match Zones::load(&s, &ui, "team plans").await {
        Ok(z) => z,
        Err(e) => return fail_page(&ui, e),
    };
    let l = Layout::new(&ui, "visit_plan", ui.lang.t("plan.team_title"));
    // The week as the app resolved it (every plan carries it); the caller's own otherwise.
    let week = match plans.first() {
        Some(p) => p.week.clone(),
        None => {
            let d = q(&p, "week").and_then(|w| NaiveDate::parse_from_str(w.trim(), "%Y-%m-%d").ok());
            act::monday(d.unwrap_or_else(|| act::local_day(Utc::now(), z.me))).format("%Y-%m-%d").to_string()
        }
    };
    let (planned, done, effective) =
        plans.iter().fold((0, 0, 0), |a, p| (a.0 + p.planned, a.1 + p.done, a.2 + p.effective));
    let cards = plans
        .into_iter()
        .map(|mut p| {
            let visits = std::mem::take(&mut p.visits);
            PlanCard { status: l.e("plan_status", &p.status), rows: rows(&l, &z, visits), p }
        })
        .collect();
    render(&TeamPage { w: week_nav(&l, &week), cards, planned, done, effective, l })
}

// ---- statistics ----

struct PersonRow {
    username: String,
    name: String,
    sales_type: String,
    /// Calls count for inside sales, effective visits for everyone else.
    inside: bool,
    /// (value, below the daily target) Monday to Sunday.
    cells: Vec<(i64, bool)>,
    total: i64,
    target: i64,
    daily_target: i64,
    /// A salesperson has targets; others are listed for their own records only.
    has_target: bool,
    met: bool,
    done: i64,
    planned: i64,
    planned_done: i64,
    /// "3 working days below target", or empty.
    days_below: String,
    /// Done face-to-face visits, those checked in, and the share ("67%", or "—").
    visits: i64,
    checked_in: i64,
    checked_in_pct: String,
}

struct GroupRow {
    key: String,
    name: String,
    people: i64,
    cells: Vec<i64>,
    effective: i64,
    calls: i64,
    done: i64,
    planned: i64,
    planned_done: i64,
    target: i64,
    visits: i64,
    checked_in: i64,
    checked_in_pct: String,
}

fn pct_text(p: Option<i64>) -> String {
    p.map(|x| format!("{x}%")).unwrap_or_else(|| "—".into())
}

/// A bar of the effective-visits chart.
struct Bar {
    name: String,
    value: i64,
    y: i64,
    width: i64,
    target_x: i64,
    met: bool,
}

#[derive(Template)]
#[template(path = "visit_stats.html")]
struct StatsPage {
    l: Layout,
    w: Week,
    people: Vec<PersonRow>,
    /// (heading key, rows): teams, regions.
    sections: Vec<(&'static str, Vec<GroupRow>)>,
    bars: Vec<Bar>,
    chart_h: i64,
    /// The week's last day, for the links to the list of its visits.
    sunday: String,
}

fn group_rows(gs: &[acts::GroupWeek]) -> Vec<GroupRow> {
    gs.iter()
        .map(|g| GroupRow {
            key: g.key.clone(),
            name: g.name.clone(),
            people: g.people,
            cells: g.days.iter().map(|d| d.effective).collect(),
            effective: g.effective,
            calls: g.calls,
            done: g.done,
            planned: g.planned,
            planned_done: g.planned_done,
            target: g.target_effective,
            visits: g.visits,
            checked_in: g.checked_in,
            checked_in_pct: pct_text(g.checked_in_pct),
        })
        .collect()
}

async fn stats_page(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = query_pairs(raw);
    let st = match acts::stats(&s.app.db, &ui.ctx.caller, q(&p, "week")).await {
        Ok(x) => x,
        Err(e) => return fail_page(&ui, e),
    };
    let l = Layout::new(&ui, "visit_stats", ui.lang.t("vstats.title"));
    let people: Vec<PersonRow> = st
        .people
        .iter()
        .map(|p| {
            let inside = p.sales_type.as_deref() == Some("sr");
            let daily = if inside { p.targets.daily_calls } else { p.targets.daily_effective };
            PersonRow {
                username: p.username.clone(),
                name: p.name.clone(),
                sales_type: p.sales_type.as_deref().map(|t| l.e("sales_type", t)).unwrap_or_else(|| "—".into()),
                inside,
                cells: p.days.iter().map(|d| (if inside { d.calls } else { d.effective }, d.below_target)).collect(),
                total: if inside { p.calls } else { p.effective },
                target: if inside { p.targets.daily_calls * 5 } else { p.targets.weekly_effective },
                daily_target: daily,
                has_target: p.sales_type.is_some(),
                met: p.met,
                done: p.done,
                planned: p.planned,
                planned_done: p.planned_done,
                days_below: if p.days_below_target > 0 && p.sales_type.is_some() {
                    l.t("vstats.days_below").replace("{n}", &p.days_below_target.to_string())
                } else {
                    String::new()
                },
                visits: p.visits,
                checked_in: p.checked_in,
                checked_in_pct: pct_text(p.checked_in_pct),
            }
        })
        .collect();
    let charted: Vec<&PersonRow> = people.iter().filter(|p| p.has_target && !p.inside).collect();
    let max = charted.iter().map(|p| p.total.max(p.target)).max().unwrap_or(1).max(1);
    let bars = charted
        .iter()
        .enumerate()
        .map(|(i, p)| Bar {
            name: p.name.clone(),
            value: p.total,
            y: i as i64 * 26,
            width: p.total * 360 / max,
            target_x: 150 + p.target * 360 / max,
            met: p.met,
        })
        .collect::<Vec<_>>();
    let page = StatsPage {
        sunday: st.days.last().cloned().unwrap_or_default(),
        w: week_nav(&l, &st.week),
        sections: vec![("vstats.teams", group_rows(&st.teams)), ("vstats.regions", group_rows(&st.regions))],
        chart_h: bars.len() as i64 * 26 + 4,
        bars,
        people,
        l,
    };
    render(&page)
}

async fn stats_export(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = query_pairs(raw);
    let res = async {
        let st = acts::stats(&s.app.db, &ui.ctx.caller, q(&p, "week")).await?;
        let format = q(&p, "format").unwrap_or("csv");
        crate::web::ui::export_download(&s.app.db, &ui, &acts::stats_table(&st), format, "visits").await
    }
    .await;
    res.unwrap_or_else(|e| fail_page(&ui, e))
}

// ---- the calendar ----

struct CalDay {
    head: String,
    day: String,
    today: bool,
    items: Vec<Row>,
    /// Tender deadlines that day (`app::quotes::bids`).
    bids: Vec<crate::app::quotes::bids::BidDeadline>,
}

#[derive(Template)]
#[template(path = "calendar.html")]
struct CalendarPage {
    l: Layout,
    w: Week,
    team: bool,
    owner: String,
    /// Who is shown, for the heading.
    who: String,
    people: Section<Vec<(String, String)>>,
    /// The filter's query part for the week links.
    filter_qs: String,
    days: Vec<CalDay>,
}

/// The week's tender deadlines: the person's own bids, or everyone's the caller sees (the
/// team). A failure leaves them out, logged.
async fn week_bids(s: &AppState, ui: &UiCtx, cal: &acts::Calendar) -> Vec<crate::app::quotes::bids::BidDeadline> {
    let (Some(first), Some(last)) = (cal.days.first(), cal.days.last()) else { return vec![] };
    crate::app::quotes::bids::deadlines(&s.app.db, &ui.ctx.caller, cal.owner.as_deref(), &first.day, &last.day, 500)
        .await
        .section("calendar", "bids")
        .loaded()
        .cloned()
        .unwrap_or_default()
}

async fn calendar_page(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = crate::web::ui::pick::people_in(&s.app.db, query_pairs(raw), &["owner"]).await;
    let team = matches!(q(&p, "team"), Some("1" | "true"));
    let owner = q(&p, "owner").unwrap_or("").trim().to_string();
    let cal = match acts::calendar(&s.app.db, &ui.ctx.caller, Some(&owner), team, q(&p, "week")).await {
        Ok(c) => c,
        Err(e) => return fail_page(&ui, e),
    };
    let z = match Zones::load(&s, &ui, "calendar").await {
        Ok(z) => z,
        Err(e) => return fail_page(&ui, e),
    };
    let l = Layout::new(&ui, "calendar", ui.lang.t("cal.title"));
    let w = week_nav(&l, &cal.week);
    let today = z.today();
    let people = people(&s, "calendar").await;
    let who = match &cal.owner {
        None => l.t("cal.team"),
        Some(u) if *u == ui.ctx.caller.username => ui.ctx.caller.display_name.clone(),
        Some(u) => people.items().iter().find(|p| &p.0 == u).map(|p| p.1.clone()).unwrap_or_else(|| u.clone()),
    };
    let bids = week_bids(&s, &ui, &cal).await;
    let days = cal
        .days
        .into_iter()
        .zip(w.days.iter())
        .map(|(d, (head, _))| CalDay {
            head: head.clone(),
            today: d.day == today,
            items: rows(&l, &z, d.items),
            bids: bids.iter().filter(|b| b.day == d.day).cloned().collect(),
            day: d.day,
        })
        .collect();
    let filter_qs = enc(&[("owner", if team { "" } else { &owner }), ("team", if team { "1" } else { "" })]);
    render(&CalendarPage { w, team, owner, who, people, filter_qs, days, l })
}
