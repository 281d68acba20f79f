//! The server-rendered web UI. Handlers parse the request, call the same use cases as the
//! API, and render askama templates; rules stay in `app`.
pub mod approvals;
pub mod attainment;
pub mod budgets;
pub mod classification;
pub mod credit;
pub mod customers;
mod forms;
pub mod funnel;
pub mod home;
pub mod kpi;
pub mod orders;
pub mod people;
pub mod pick;
pub mod plans;
pub mod quotes;
pub mod records;
pub mod salesplan;
pub mod service;
pub mod spreadsheets;
pub mod suggestions;
pub mod visits;
pub mod voice;
pub use spreadsheets::imports::more_errors_text;
pub use spreadsheets::imports::reason as import_reason;

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use super::auth::{cookie, same_secret, UiCtx, UiForm, LOGIN_CSRF_COOKIE, SESSION_COOKIE};
use super::error::status_and_code;
use super::i18n::Lang;
use super::{AppState, RequestId};
use crate::app::people::auth;
use crate::app::people::two_factor::Stage;
use crate::app::records::audit::AuditEntry;
use crate::domain::money::display_fen;
use crate::domain::DomainError;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", post(logout))
        .route("/static/app.css", get(css))
        .route("/static/print.css", get(print_css))
        .route("/static/app.js", get(js))
        .merge(home::routes())
        .merge(customers::accounts::routes())
        .merge(visits::activities::routes())
        .merge(people::admin::routes())
        .merge(people::two_factor::routes())
        .merge(people::ldap::routes())
        .merge(people::role_titles::routes())
        .merge(records::consistency::routes())
        .merge(records::company::routes())
        .merge(approvals::routes())
        .merge(credit::changes::routes())
        .merge(classification::classify::routes())
        .merge(classification::downgrade::routes())
        .merge(classification::candidates::routes())
        .merge(visits::development_plans::routes())
        .merge(visits::retention::routes())
        .merge(spreadsheets::imports::routes())
        .merge(customers::merge::routes())
        .merge(funnel::opportunities::routes())
        .merge(funnel::reports::routes())
        .merge(quotes::quotes::routes())
        .merge(orders::orders::routes())
        .merge(orders::invoicing::routes())
        .merge(orders::receivables::routes())
        .merge(orders::receivable_reports::routes())
        .merge(orders::deliveries::routes())
        .merge(orders::writeoffs::routes())
        .merge(orders::attachments::routes())
        .merge(orders::holds::routes())
        .merge(orders::statements::routes())
        .merge(quotes::bids::routes())
        .merge(quotes::attachments::routes())
        .merge(pick::routes())
        .merge(quotes::products::routes())
        .merge(credit::routes())
        .merge(plans::routes())
        .merge(suggestions::routes())
        .merge(salesplan::routes())
        .merge(budgets::routes())
        .merge(attainment::routes())
        .merge(kpi::routes())
        .merge(service::routes())
        .merge(voice::routes())
}

/// The messages a redirect may leave for the next page (`?flash=code`, texts `flash.code`):
/// saved, deleted, a create form posted again (nothing new was created), a password changed,
/// a file attached or removed.
pub const FLASHES: &[&str] = &["saved", "deleted", "once", "password_changed", "attached", "detached"];

/// What every page's frame needs: language, who is signed in, the CSRF token, the nav.
pub struct Layout {
    pub lang: Lang,
    pub title: String,
    pub nav: &'static str,
    pub display_name: String,
    /// The caller's title (their role's, as the company names it; see `title_of`).
    pub role_title: String,
    pub role_titles: crate::domain::role::RoleTitles,
    pub csrf: String,
    pub is_admin: bool,
    pub sees_credit: bool,
    pub has_pool: bool,
    pub flash: Vec<String>,
    /// The navigation's counts (requests waiting for me, unread notifications) when the page
    /// loaded them (or tried to); otherwise a small script fills them in.
    pub nav_waiting: Option<Section<i64>>,
    pub nav_unread: Option<Section<i64>>,
    /// The caller's time zone: every instant on a page is shown in it.
    pub tz: chrono_tz::Tz,
    /// The user's unit for amounts (元 or 万元).
    pub money_unit: crate::domain::money::MoneyUnit,
    /// Managers and above: the people who report to them directly (the navigation's 我的团队).
    pub team: Vec<crate::app::home::Person>,
    /// Manages accounts (the team's plans and 1×1s are theirs to open).
    pub manages: bool,
    /// Works the logistics worklist (物流: the navigation's 发货工作台).
    pub logistics: bool,
    /// Keeps the books (财务: the navigation's 银行对账单 and 应收与催款设置).
    pub finance: bool,
    /// Decides screenings (the navigation's 候选大客户 and its criteria).
    pub proposes: bool,
    /// Keeps the account plans' settings (the navigation's 客户规划设置).
    pub plan_settings: bool,
    /// Sees budgets (the navigation's 预算与费用).
    pub budgets: bool,
    /// Reads attainment under the sales-credit split (the navigation's 业绩达成).
    pub attainment: bool,
    /// Sees the KPI pages (the navigation's 业绩合同与考核).
    pub kpi: bool,
}

impl Layout {
    pub fn new(ui: &UiCtx, nav: &'static str, title: String) -> Layout {
        let c = &ui.ctx.caller;
        Layout {
            lang: ui.lang,
            title,
            nav,
            display_name: c.display_name.clone(),
            role_title: ui.lang.role_title(&c.role_titles, crate::domain::role::title_slot(c.role, c.org_kind)),
            role_titles: c.role_titles.clone(),
            csrf: ui.csrf.clone(),
            is_admin: c.role.is_admin(),
            sees_credit: c.sees_credit(),
            has_pool: matches!(c.role, crate::domain::role::Role::KaRep | crate::domain::role::Role::InsideSales),
            flash: ui.flash.map(|f| ui.lang.t(&format!("flash.{f}"))).into_iter().collect(),
            nav_waiting: None,
            nav_unread: None,
            tz: crate::domain::activity::parse_tz(&c.time_zone).unwrap_or(chrono_tz::Asia::Shanghai),
            money_unit: c.money_unit,
            team: ui.team.clone(),
            manages: c.role.manages_accounts(),
            logistics: c.role == crate::domain::role::Role::LogisticsManager,
            finance: c.role == crate::domain::role::Role::FinanceManager,
            proposes: crate::app::classification::candidates::may_propose(c.role),
            plan_settings: crate::app::plans::calendar::may_edit_settings(c.role),
            budgets: crate::app::budgets::budgets::may_see(c),
            attainment: crate::app::attainment::credits::may_see(c) || crate::app::attainment::split::may_edit(c),
            kpi: crate::app::kpi::may_see(c),
        }
    }
    /// The navigation's group of the current page (marked `aria-current`).
    pub fn group(&self) -> &'static str {
        match self.nav {
            "accounts" | "contacts" | "pool" | "candidates" => "customers",
            "opportunities" | "forecast" | "vvalue" | "quotes" | "orders" | "bids" | "products" | "logistics"
            | "aging" | "collection" | "holds" | "sales_plans" | "budgets" | "exec_requests" | "attainment" | "kpi"
            | "kpi_team" => "sales",
            "home" | "today" | "activities" | "visit_plan" | "visit_stats" | "calendar" => "visits",
            "funnel" | "regions" | "monthly" | "rad" | "coverage" | "service" => "reports",
            "audit" if !self.is_admin => "reports",
            "approvals" => "approvals",
            "users" | "org" | "role_titles" | "flows" | "deliveries" | "cls_settings" | "two_factor" | "directory"
            | "retention" | "audit" | "consistency" | "company" | "recv_settings" | "cand_settings" => "admin",
            "credit_settings" if self.is_admin => "admin",
            "credit_lists" | "credit_settings" => "customers",
            "plan_settings" if self.is_admin => "admin",
            "plans" | "plan_report" | "plan_settings" => "customers",
            "suggestions" | "ka_service" | "surveys" | "opl" | "opl_reviews" | "opl_report" => "voice",
            _ => "",
        }
    }
    /// A contact's name as stored where a record names them (a quote, a suggestion, a service
    /// event): "erased contact" in the reader's language when the person's data was erased
    /// (the stored name is then `privacy::ERASED_NAME`).
    pub fn person(&self, name: impl AsRef<str>) -> String {
        let name = name.as_ref();
        if name == crate::app::customers::privacy::ERASED_NAME {
            self.t("privacy.erased_contact")
        } else {
            name.to_string()
        }
    }
    /// A stored instant (RFC 3339 UTC) in the caller's time zone, `2026-12-03 09:25`; "—" when
    /// absent. A date alone is shown as it is.
    pub fn time(&self, at: impl AsRef<str>) -> String {
        let at = at.as_ref();
        match crate::db::parse_ts(at) {
            Some(t) => t.with_timezone(&self.tz).format("%Y-%m-%d %H:%M").to_string(),
            None if at.is_empty() => "—".into(),
            None => at.to_string(),
        }
    }
    /// [`Layout::time`] of an optional instant.
    pub fn time_opt(&self, at: Option<&String>) -> String {
        at.map(|a| self.time(a)).unwrap_or_else(|| "—".into())
    }
    /// " (n)" after a navigation link, or nothing when there is none or it is not known here;
    /// a count that failed to load says so.
    pub fn badge(&self, n: &Option<Section<i64>>) -> String {
        match n {
            Some(Section::Loaded(n)) if *n > 0 => format!(" ({n})"),
            Some(Section::Failed) => format!(" ({})", self.t("section.failed_short")),
            _ => String::new(),
        }
    }
    pub fn badge_failed(&self, n: &Option<Section<i64>>) -> bool {
        n.as_ref().is_some_and(Section::failed)
    }
    pub fn t(&self, key: &str) -> String {
        self.lang.t(key)
    }
    /// An amount in the user's unit (元: 1,280,000.00; 万元: 128.00), "—" when there is none.
    pub fn money(&self, v: Option<&String>) -> String {
        match v.and_then(|s| fen_of(s)) {
            Some(f) => self.money_unit.display(f),
            None => "—".into(),
        }
    }
    /// An amount in 元 with two decimals whatever the user's unit (a document the customer
    /// receives states the exact amount): 1,280,000.00; "—" when there is none.
    pub fn yuan(&self, v: Option<&String>) -> String {
        match v.and_then(|s| fen_of(s)) {
            Some(f) => crate::domain::money::display_fen(f),
            None => "—".into(),
        }
    }
    /// A figure for a board or a chart: ¥128万, ¥1.2亿.
    pub fn compact(&self, v: Option<&String>) -> String {
        match v.and_then(|s| fen_of(s)) {
            Some(f) => crate::domain::money::compact_fen(f),
            None => "—".into(),
        }
    }
    /// "金额单位：万元" above a table of amounts.
    pub fn unit_note(&self) -> String {
        self.t(&format!("money.unit_note.{}", self.money_unit.code()))
    }
    /// A percentage figure rounded (not truncated) to one decimal: "12.46" → "12.5%".
    pub fn pct(&self, v: Option<&String>) -> String {
        match v.and_then(|s| pct_round(s)) {
            Some(p) => format!("{p}%"),
            None => "—".into(),
        }
    }
    /// The title a person with `role` on a unit of `org_kind` (a code; `None` when not known) is
    /// shown with, as the company names it.
    pub fn title_of(&self, role: impl AsRef<str>, org_kind: Option<&str>) -> String {
        use crate::domain::role::{title_slot, OrgKind, Role};
        let role = role.as_ref();
        match Role::parse(role) {
            Ok(r) => {
                let slot = title_slot(r, org_kind.and_then(|k| OrgKind::parse(k).ok()));
                self.lang.role_title(&self.role_titles, slot)
            }
            Err(_) => self.e("role", role),
        }
    }
    /// The label of an enumerated value, e.g. `e("industry", "power")` → 电力.
    pub fn e(&self, kind: &str, value: impl AsRef<str>) -> String {
        let value = value.as_ref();
        let key = format!("{kind}.{value}");
        let s = self.lang.t(&key);
        if s.ends_with(&key) {
            value.to_string()
        } else {
            s
        }
    }
}

/// An error in the user's language, as lines above a form: each bad field named by its label,
/// any other error by its message.
pub fn error_lines(l: &Layout, e: &DomainError) -> Vec<String> {
    match e {
        DomainError::Invalid(fs) => {
            fs.iter().map(|f| format!("{}: {}", l.e("field", &f.field), l.lang.msg("invalid", f.code))).collect()
        }
        other => vec![l.lang.msg("err", status_and_code(other).1)],
    }
}

/// A query string of the pairs that have a value (`a=1&b=x%20y`).
pub fn enc(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs.iter().filter(|(_, v)| !v.is_empty()).collect::<Vec<_>>()).unwrap_or_default()
}

/// A decimal string (also negative: a remaining quota) as fen.
fn fen_of(s: &str) -> Option<i64> {
    match s.trim().strip_prefix('-') {
        Some(b) => crate::domain::money::parse_fen(b).ok().map(|f| -f),
        None => crate::domain::money::parse_fen(s).ok(),
    }
}

/// A decimal percentage ("12.46") rounded half away from zero to one decimal, from its digits:
/// "12.5", "51" (no ".0").
fn pct_round(s: &str) -> Option<String> {
    let t = s.trim();
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if int.is_empty() || !int.bytes().all(|c| c.is_ascii_digit()) || !frac.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let tenth = frac.bytes().next().map_or(0, |d| i64::from(d - b'0'));
    let mut n: i64 = int.parse::<i64>().ok()? * 10 + tenth;
    if frac.as_bytes().get(1).is_some_and(|d| *d >= b'5') {
        n += 1;
    }
    let sign = if neg && n != 0 { "-" } else { "" };
    Some(if n % 10 == 0 { format!("{sign}{}", n / 10) } else { format!("{sign}{}.{}", n / 10, n % 10) })
}

pub fn money(v: &Option<String>) -> String {
    match v.as_deref().and_then(|s| crate::domain::money::parse_fen(s).ok()) {
        Some(f) => display_fen(f),
        None => "—".into(),
    }
}

/// An export downloaded from a page: headers, file name and (in XLSX) codes in the user's
/// language, org units and people by their names ([`crate::web::api::labelled_download`]).
pub async fn export_download(
    db: &crate::db::Db,
    ui: &UiCtx,
    t: &crate::app::spreadsheets::export::Table,
    format: &str,
    name: &str,
) -> Result<Response, DomainError> {
    use crate::app::spreadsheets::export::{column, Col};
    use std::collections::HashMap;
    let lang = ui.lang;
    let wants = |c: Col| format == "xlsx" && t.keys.iter().any(|k| column(k) == c);
    let orgs: HashMap<String, String> = if wants(Col::Org) {
        crate::app::people::org::list(db).await?.into_iter().map(|o| (o.code, o.name)).collect()
    } else {
        HashMap::new()
    };
    let people: HashMap<String, String> = if wants(Col::Person) {
        crate::app::people::users::list(db).await?.into_iter().map(|u| (u.username, u.display_name)).collect()
    } else {
        HashMap::new()
    };
    let labels = move |col: Col, v: &str| match col {
        Col::Org => orgs.get(v).cloned().unwrap_or_else(|| v.to_string()),
        Col::Person => people.get(v).cloned().unwrap_or_else(|| v.to_string()),
        _ => crate::web::api::code_label(lang, col, v),
    };
    let tz = crate::domain::activity::parse_tz(&ui.ctx.caller.time_zone).unwrap_or(chrono_tz::Asia::Shanghai);
    crate::web::api::labelled_download(t, Some(format), lang, tz, name, &labels)
}

pub fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!("template: {e}");
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    l: Layout,
    heading: String,
    message: String,
}

/// A page for an error; used where no signed-in frame is at hand (extractors).
pub fn error_page(lang: Lang, err: &DomainError) -> Response {
    let (status, code) = status_and_code(err);
    let body = format!(
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{status}</title><link rel=\"stylesheet\" href=\"/static/app.css\"></head><body><main><h1>{}</h1><p class=\"error\" role=\"alert\">{}</p><p><a href=\"/\">KAM</a></p></main></body></html>",
        lang.code(),
        status.as_u16(),
        askama_escape(&lang.msg("err", code))
    );
    crate::web::error::log_failure(err);
    let mut res = (status, Html(body)).into_response();
    crate::web::error::add_retry_after(&mut res);
    res
}

fn askama_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// An error inside a signed-in page: the frame stays, the message is in the user's language.
pub fn fail_page(ui: &UiCtx, err: DomainError) -> Response {
    let (status, code) = status_and_code(&err);
    // A load named with `Load::page_data` says in the log which page and part failed.
    crate::web::error::log_failure(&err);
    let l = Layout::new(ui, "", ui.lang.t("err.title"));
    let page = ErrorPage { heading: format!("{}", status.as_u16()), message: ui.lang.msg("err", code), l };
    let mut res = render(&page);
    *res.status_mut() = status;
    crate::web::error::add_retry_after(&mut res);
    res
}

/// What a page loaded for one of its secondary parts (a side list, a picker's options, a count
/// in the header): the data, or that loading it failed (logged by [`Load::section`]). The page
/// shows the rest, and in that part a notice that it could not be loaded
/// (`templates/section_failed.html`), never an empty list that reads as "there is none".
pub enum Section<T> {
    Loaded(T),
    Failed,
}

impl<T> Section<T> {
    /// The data, when it loaded (`{% if let Some(x) = part.loaded() %}` in templates).
    pub fn loaded(&self) -> Option<&T> {
        match self {
            Section::Loaded(v) => Some(v),
            Section::Failed => None,
        }
    }
    pub fn failed(&self) -> bool {
        matches!(self, Section::Failed)
    }
    pub fn as_ref(&self) -> Section<&T> {
        match self {
            Section::Loaded(v) => Section::Loaded(v),
            Section::Failed => Section::Failed,
        }
    }
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Section<U> {
        match self {
            Section::Loaded(v) => Section::Loaded(f(v)),
            Section::Failed => Section::Failed,
        }
    }
}

impl<I> Section<Vec<I>> {
    /// The loaded items, or none when the part failed: for a picker that has a fallback (the
    /// template still shows the notice when [`Section::failed`]).
    pub fn items(&self) -> &[I] {
        match self {
            Section::Loaded(v) => v,
            Section::Failed => &[],
        }
    }
}

/// A use case's answer as a page takes it, named by page and part for the log.
pub trait Load<T> {
    /// A secondary part of the page: on failure the error is logged with the page and part,
    /// and the part says it could not be loaded; the page itself still renders.
    fn section(self, page: &'static str, part: &'static str) -> Section<T>;
    /// The page's own data: a failure fails the page (with `?`, then [`fail_page`]); an
    /// internal error carries the page and part into the line [`fail_page`] logs.
    fn page_data(self, page: &'static str, part: &'static str) -> Result<T, DomainError>;
}

impl<T> Load<T> for Result<T, DomainError> {
    fn section(self, page: &'static str, part: &'static str) -> Section<T> {
        match self {
            Ok(v) => Section::Loaded(v),
            Err(e) => {
                tracing::error!(page, part, "page {page}: section {part} could not be loaded: {e:#}");
                Section::Failed
            }
        }
    }
    fn page_data(self, page: &'static str, part: &'static str) -> Result<T, DomainError> {
        self.map_err(|e| match e {
            DomainError::Internal(e) => {
                DomainError::Internal(e.context(format!("page {page}: {part} could not be loaded")))
            }
            e => e,
        })
    }
}

pub struct HistoryRow {
    pub at: String,
    pub at_display: String,
    pub who: String,
    pub entity: String,
    pub entity_id: String,
    /// The kind of record in the reader's language (客户, 商机, …).
    pub entity_label: String,
    /// The record's page, where it has one.
    pub href: Option<String>,
    pub action_key: String,
    pub changes: Vec<(String, String, String)>,
}

/// The page of an audited record, where it has one.
fn record_href(entity: &str, id: &str) -> Option<String> {
    let numeric = !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit());
    let path = match entity {
        "account" => "accounts",
        "contact" => "contacts",
        "opportunity" => "opportunities",
        "activity" => "activities",
        "approval" => "approvals",
        "import_run" => "imports",
        "product" => "products",
        "quote" => "quotes",
        "order" => "orders",
        _ => return None,
    };
    numeric.then(|| format!("/{path}/{id}"))
}

/// A stored value as the pages show it: enumerations by their label in the user's language.
fn show_json(l: &Layout, field: &str, v: Option<&serde_json::Value>) -> String {
    let kind = match field {
        "industry" | "status" | "tier" | "decision_role" | "attitude" | "gender" | "role" | "sales_type" | "kind" => {
            Some(field)
        }
        "credit_grade" => Some("credit"),
        "quote_state" => Some("quote_state"),
        "order_state" => Some("order_state"),
        _ => None,
    };
    match (field, v) {
        ("merge", Some(m @ serde_json::Value::Object(_))) => return merge_summary(l, m),
        // A quote's lines: how many, each as "description × quantity @ price".
        ("lines", Some(serde_json::Value::Array(lines))) => {
            let one = |x: &serde_json::Value| {
                let s = |k: &str| x.get(k).and_then(serde_json::Value::as_str).unwrap_or("").to_string();
                format!("{} × {} @ {}", s("description"), s("quantity"), s("unit_price"))
            };
            return format!(
                "{}：{}",
                l.t("quote.n_lines").replace("{n}", &lines.len().to_string()),
                lines.iter().map(one).collect::<Vec<_>>().join("；")
            );
        }
        ("merged_into", Some(serde_json::Value::Number(n))) => return format!("#{n}"),
        _ => {}
    }
    match v {
        None | Some(serde_json::Value::Null) => "—".into(),
        Some(serde_json::Value::String(s)) => match kind {
            Some(k) => l.e(if k == "kind" { "org_kind" } else { k }, s),
            // An instant (a deadline, a claim) in the reader's time zone.
            None if crate::db::parse_ts(s).is_some() => l.time(s),
            None => s.clone(),
        },
        Some(v) => v.to_string(),
    }
}

/// The merge recorded on the survivor, in words: which account came in and what moved.
fn merge_summary(l: &Layout, m: &serde_json::Value) -> String {
    let mut parts = vec![format!("#{} {}", m["duplicate_id"], m["duplicate_name"].as_str().unwrap_or(""))];
    if let Some(moved) = m["moved"].as_object() {
        // What moved; tables with nothing in them are not worth a word.
        parts.extend(
            moved
                .iter()
                .filter(|(_, n)| n.as_i64() != Some(0))
                .map(|(t, n)| l.t(&format!("merge.table.{t}")).replace("{n}", &n.to_string())),
        );
    }
    parts.join("; ")
}

pub fn history_rows(l: &Layout, entries: Vec<AuditEntry>) -> Vec<HistoryRow> {
    entries
        .into_iter()
        .map(|e| {
            let changes = e
                .changed
                .iter()
                // A creation lists every field; the record page shows them already.
                .filter(|_| e.what != "create")
                .filter(|k| !matches!(k.as_str(), "id" | "created_at"))
                .map(|k| {
                    let b = e.before.as_ref().and_then(|v| v.get(k));
                    let a = e.after.as_ref().and_then(|v| v.get(k));
                    (l.e("field", k), show_json(l, k, b), show_json(l, k, a))
                })
                .collect();
            HistoryRow {
                at_display: l.time(&e.at),
                at: e.at,
                who: e.who_name,
                entity_label: l.e("entity", &e.entity),
                href: record_href(&e.entity, &e.entity_id),
                entity: e.entity,
                entity_id: e.entity_name.unwrap_or(e.entity_id),
                action_key: format!("action.{}", e.what),
                changes,
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    lang: Lang,
    csrf: String,
    next: String,
    username: String,
    error: Option<String>,
}

fn query_get(raw: &Option<String>, k: &str) -> Option<String> {
    super::api::q(&super::api::query_pairs(raw.clone()), k).map(str::to_string)
}

fn safe_next(n: Option<String>) -> String {
    match n {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") => n,
        _ => "/".into(),
    }
}

fn login_lang(h: &HeaderMap, raw: &Option<String>) -> Lang {
    query_get(raw, "lang")
        .map(|l| Lang::from_code(&l))
        .or_else(|| cookie(h, "kam_lang").map(Lang::from_code))
        .unwrap_or(Lang::Zh)
}

fn login_form(lang: Lang, next: String, username: String, error: Option<String>, status: StatusCode) -> Response {
    // Double-submit token for the sign-in form (there is no session yet to hold one).
    let csrf = auth::random_token("");
    let page = LoginPage { lang, csrf: csrf.clone(), next, username, error };
    let mut res = render(&page);
    *res.status_mut() = status;
    let h = res.headers_mut();
    for c in [
        format!("{LOGIN_CSRF_COOKIE}={csrf}; Path=/login; HttpOnly; SameSite=Strict"),
        format!("kam_lang={}; Path=/; SameSite=Lax; Max-Age=31536000", lang.code()),
    ] {
        if let Ok(v) = c.parse() {
            h.append(header::SET_COOKIE, v);
        }
    }
    res
}

async fn login_page(headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let lang = login_lang(&headers, &raw);
    login_form(lang, safe_next(query_get(&raw, "next")), String::new(), None, StatusCode::OK)
}

async fn login_submit(
    State(s): State<AppState>,
    headers: HeaderMap,
    axum::Extension(rid): axum::Extension<RequestId>,
    body: axum::body::Bytes,
) -> Response {
    let lang = login_lang(&headers, &None);
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let f = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let next = safe_next(Some(f("next")));
    let username = f("username");
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or("");
    if expected.is_empty() || !same_secret(&f("_csrf"), expected) {
        return login_form(lang, next, username, Some(lang.msg("err", "csrf_failed")), StatusCode::FORBIDDEN);
    }
    let old = cookie(&headers, SESSION_COOKIE);
    match auth::login(&s.app, &username, &f("password"), old, &rid.0).await {
        Ok(sess) => {
            let to = match sess.stage {
                Stage::Done => next,
                Stage::Code => format!("/login/two-factor?{}", enc(&[("next", &next)])),
                Stage::Enrol => format!("/login/two-factor/enrol?{}", enc(&[("next", &next)])),
            };
            let mut res = Redirect::to(&to).into_response();
            let secure = if s.app.settings.secure_cookies { "; Secure" } else { "" };
            let c = format!("{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax{secure}", sess.id);
            if let Ok(v) = c.parse() {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
            if let Ok(v) = format!("{LOGIN_CSRF_COOKIE}=; Path=/login; Max-Age=0").parse() {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
            res
        }
        Err(DomainError::TooManyRequests { retry_after_secs }) => {
            let mut res = login_form(
                lang,
                next,
                username,
                Some(lang.msg("err", "too_many_requests")),
                StatusCode::TOO_MANY_REQUESTS,
            );
            if let Ok(v) = retry_after_secs.to_string().parse() {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            res
        }
        Err(DomainError::Unauthenticated) => {
            login_form(lang, next, username, Some(lang.t("login.failed")), StatusCode::UNAUTHORIZED)
        }
        // The directory: unreachable, or the user in no mapped group or unit.
        Err(DomainError::Conflict(code)) => {
            login_form(lang, next, username, Some(lang.msg("err", code)), StatusCode::CONFLICT)
        }
        Err(e) => error_page(lang, &e),
    }
}

/// Ends the session on the server (the cookie alone is not trusted to go away).
async fn logout(State(s): State<AppState>, headers: HeaderMap, form: UiForm) -> Response {
    if let Some(sid) = cookie(&headers, SESSION_COOKIE) {
        if let Err(e) = auth::logout(&s.app, sid).await {
            return fail_page(&form.ui, e);
        }
    }
    let mut res = Redirect::to("/login").into_response();
    if let Ok(v) = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0").parse() {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

async fn css() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "max-age=3600")],
        include_str!("../../../static/app.css"),
    )
        .into_response()
}

/// The printable documents' stylesheet (A4; a quote).
async fn print_css() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "max-age=3600")],
        include_str!("../../../static/print.css"),
    )
        .into_response()
}

async fn js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "max-age=3600")],
        include_str!("../../../static/app.js"),
    )
        .into_response()
}
