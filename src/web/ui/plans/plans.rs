//! An account's plans on pages (issue 23 items 1, 2, 7, 9): the account's plans by year with the
//! form to begin one; the plan's page (its eight parts beside what KAM knows of the account:
//! the relationship map, the share history, the opportunities, orders and receivables, last
//! year's plan); its editor (every part, repeated rows with blank ones to fill, people by name,
//! the opportunity an objective is about picked from the account's); its versions and their
//! comparison; the printed plan (A4); the appendix's files. Everything goes through
//! `app::plans::plans`.
use std::collections::HashMap;

use askama::Template;
use axum::extract::{Multipart, Path, RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{Map, Value};

use crate::app::plans::plans::{self as plans, Appendix, PlanItem, PlanView, VersionRow};
use crate::app::records::attachments::{FileHolder, MAX_BYTES};
use crate::domain::account_plan::{self as ap, Change, PlanBody};
use crate::domain::error::Errors;
use crate::domain::DomainError;
use crate::web::api::quotes::attachments::file_in;
use crate::web::api::{id_of, q, query_pairs};
use crate::web::auth::{UiCtx, UiForm};
use crate::web::ui::forms::with_flash;
use crate::web::ui::quotes::attachments::{download, parts};
use crate::web::ui::{fail_page, render, Layout};
use crate::web::AppState;

/// Blank rows the editor offers under each table (more with `?more=n`, up to 20).
const BLANK_ROWS: usize = 2;

pub fn routes() -> Router<AppState> {
    let limit = || axum::extract::DefaultBodyLimit::max(MAX_BYTES + 64 * 1024);
    Router::new()
        .route("/accounts/{id}/plans", get(list_page).post(begin))
        .route("/plans/{id}", get(show))
        .route("/plans/{id}/edit", get(edit_form).post(save))
        .route("/plans/{id}/versions", get(versions_page))
        .route("/plans/{id}/compare", get(compare_page))
        .route("/plans/{id}/print", get(print))
        .route("/plans/{id}/forecast.xlsx", get(forecast))
        .route("/plans/{id}/attachments", post(upload).layer(limit()))
        .route("/plans/{id}/attachments/{file_id}", get(|s, ui, p| download(s, ui, p, Appendix)))
        .route("/plans/{id}/attachments/{file_id}/remove", post(remove))
}

// ---------------------------------------------------------------------------------------------
// The account's plans

#[derive(Template)]
#[template(path = "plans.html")]
struct ListPage {
    l: Layout,
    account_id: i64,
    account_name: String,
    is_key: bool,
    plans: Vec<PlanItem>,
    years: Vec<i32>,
    can_begin: bool,
    errors: Vec<String>,
}

async fn list_response(s: &AppState, ui: &UiCtx, id: i64, err: Option<DomainError>) -> Response {
    let caller = &ui.ctx.caller;
    let res = async {
        let a = crate::app::customers::accounts::get(&s.app.db, caller, id).await?;
        let items = plans::list_for_account(&s.app.db, caller, id).await?;
        Ok::<_, DomainError>((a, items))
    }
    .await;
    let (a, items) = match res {
        Ok(x) => x,
        Err(e) => return fail_page(ui, e),
    };
    let this: i32 = caller.today().get(..4).and_then(|y| y.parse().ok()).unwrap_or(2026);
    let years: Vec<i32> = [this, this + 1].into_iter().filter(|y| !items.iter().any(|p| p.year == *y)).collect();
    let l = Layout::new(ui, "accounts", format!("{} · {}", ui.lang.t("aplan.plans"), a.name));
    let status = err.as_ref().map(|e| crate::web::ui::status_and_code(e).0);
    let errors = err.map(|e| crate::web::ui::error_lines(&l, &e)).unwrap_or_default();
    let is_key = a.status == crate::domain::account::Status::KeyAccount;
    let mut res = render(&ListPage {
        can_begin: plans::edits(caller) && is_key && !years.is_empty(),
        l,
        account_id: a.id,
        account_name: a.name,
        is_key,
        plans: items,
        years,
        errors,
    });
    if let Some(st) = status {
        *res.status_mut() = st;
    }
    res
}

async fn list_page(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    match id_of(&id) {
        Ok(id) => list_response(&s, &ui, id, None).await,
        Err(e) => fail_page(&ui, e),
    }
}

async fn begin(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    let Some(year) = form.get("year").and_then(|y| y.trim().parse::<i32>().ok()) else {
        return list_response(&s, ui, id, Some(DomainError::invalid("year", "required"))).await;
    };
    match plans::create(&s.app.db, &ui.ctx, id, year).await {
        Ok(v) => Redirect::to(&with_flash(&format!("/plans/{}", v.plan.id), "saved")).into_response(),
        // Begun already (a second submit of the form): that plan.
        Err(DomainError::Duplicate { existing_id, .. }) => {
            Redirect::to(&with_flash(&format!("/plans/{existing_id}"), "once")).into_response()
        }
        Err(e @ (DomainError::Invalid(_) | DomainError::Conflict(_))) => list_response(&s, ui, id, Some(e)).await,
        Err(e) => fail_page(ui, e),
    }
}

// ---------------------------------------------------------------------------------------------
// The plan's page and its printed form

/// A row of part 2's share history.
pub struct SowLine {
    pub at: String,
    pub sow: String,
    pub tier: String,
    pub rad_class: String,
}

#[derive(Template)]
#[template(path = "plan.html")]
struct PlanPage {
    l: Layout,
    v: PlanView,
    relmap: Option<String>,
    sow: Vec<SowLine>,
    /// Team members by name.
    team_names: Vec<String>,
    /// Each part's texts: (label, text).
    texts: Vec<Vec<(String, String)>>,
    print: bool,
}

#[derive(Template)]
#[template(path = "plan_print.html")]
struct PrintPage {
    l: Layout,
    v: PlanView,
    relmap: Option<String>,
    sow: Vec<SowLine>,
    team_names: Vec<String>,
    texts: Vec<Vec<(String, String)>>,
    print: bool,
    today: String,
    company: Option<crate::app::quotes::quotes::Company>,
}

/// Each part's single texts as (label, text), "—" where the owner wrote nothing.
fn part_texts(l: &Layout, body: &PlanBody) -> Vec<Vec<(String, String)>> {
    let v = serde_json::to_value(body).unwrap_or(Value::Null);
    TEXTS
        .iter()
        .map(|(_, texts)| {
            texts
                .iter()
                .map(|p| {
                    let mut cur = &v;
                    for seg in p.split('.') {
                        cur = cur.get(seg).unwrap_or(&Value::Null);
                    }
                    let t = s(cur);
                    (l.t(&format!("aplan.{p}")), if t.is_empty() { "—".to_string() } else { t })
                })
                .collect()
        })
        .collect()
}

fn sow_lines(l: &Layout, v: &PlanView) -> Vec<SowLine> {
    v.facts
        .sow_history
        .iter()
        .map(|p| SowLine {
            at: l.time(&p.at),
            sow: l.pct(p.sow.as_ref()),
            tier: p.tier.as_deref().map(|t| l.e("tier", t)).unwrap_or_else(|| "—".into()),
            rad_class: p.rad_class.clone().unwrap_or_else(|| "—".into()),
        })
        .collect()
}

async fn team_names(s: &AppState, body: &PlanBody) -> Vec<String> {
    let mut out = vec![];
    for m in &body.team {
        let n = match (&m.user, &m.name) {
            (Some(u), _) => name_of(s, u).await,
            (None, Some(n)) => n.clone(),
            (None, None) => "—".into(),
        };
        out.push(n);
    }
    out
}

async fn name_of(s: &AppState, username: &str) -> String {
    let r = sqlx::query("SELECT display_name FROM users WHERE username = $1")
        .bind(username)
        .fetch_optional(&s.app.db.pool)
        .await
        .ok()
        .flatten();
    r.and_then(|r| sqlx::Row::try_get::<String, _>(&r, "display_name").ok()).unwrap_or_else(|| username.to_string())
}

async fn plan_page(s: &AppState, ui: &UiCtx, id: &str, print: bool) -> Response {
    let res = async {
        let id = id_of(id)?;
        let v = plans::get(&s.app.db, &ui.ctx.caller, id).await?;
        let company = if print { Some(crate::app::quotes::quotes::company(&s.app.db).await?) } else { None };
        Ok::<_, DomainError>((v, company))
    }
    .await;
    let (v, company) = match res {
        Ok(x) => x,
        Err(e) => return fail_page(ui, e),
    };
    let l =
        Layout::new(ui, "accounts", format!("{} {} · {}", v.plan.year, ui.lang.t("aplan.title"), v.plan.account_name));
    let relmap = crate::web::ui::customers::relmap::draw(&l, &v.facts.contacts, &[]);
    let sow = sow_lines(&l, &v);
    let team_names = team_names(s, &v.plan.body).await;
    let texts = part_texts(&l, &v.plan.body);
    if print {
        render(&PrintPage { today: ui.ctx.caller.today(), l, relmap, sow, team_names, texts, print, company, v })
    } else {
        render(&PlanPage { l, relmap, sow, team_names, texts, print, v })
    }
}

async fn show(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    plan_page(&s, &ui, &id, false).await
}

async fn print(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    plan_page(&s, &ui, &id, true).await
}

async fn forecast(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    let res = async {
        let labels = crate::web::api::plans::plans::forecast_labels(ui.lang);
        plans::forecast_xlsx(&s.app.db, &ui.ctx.caller, id_of(&id)?, &labels).await
    }
    .await;
    match res {
        Ok((plan, bytes)) => {
            let name = format!("plan_{}_{}_forecast.xlsx", plan.account_id, plan.year);
            (
                [
                    (axum::http::header::CONTENT_TYPE, crate::web::api::contract::XLSX.to_string()),
                    (axum::http::header::CONTENT_DISPOSITION, crate::web::api::attachment(&name)),
                ],
                bytes,
            )
                .into_response()
        }
        Err(e) => fail_page(&ui, e),
    }
}

// ---------------------------------------------------------------------------------------------
// The editor: every input is named by the field's path in the API (`objectives[0].owner`), so a
// refusal names the very input it is about.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Area,
    Date,
    Num,
    User,
    Check,
    /// A choice among codes labelled `<label kind>.<code>`.
    Pick(&'static [&'static str], &'static str),
    /// One of the account's opportunities.
    Opp,
    /// Kept from the row (its key).
    Hidden,
}

struct Col {
    key: &'static str,
    kind: Kind,
}

const fn c(key: &'static str, kind: Kind) -> Col {
    Col { key, kind }
}

const MEASURES: &[&str] = &["share", "revenue", "opportunity_won", "manual"];
const STATUSES: &[&str] = &["open", "on_track", "at_risk", "done", "missed"];
const KINDS: &[&str] = &["project", "member", "function"];

/// The repeated tables: their path and columns.
const TABLES: &[(&str, &[Col])] = &[
    (
        "performance.shares",
        &[c("platform", Kind::Text), c("region", Kind::Text), c("share", Kind::Text), c("trend", Kind::Text)],
    ),
    (
        "competition.factors",
        &[c("factor", Kind::Text), c("weight", Kind::Num), c("ours", Kind::Num), c("competitors", Kind::Text)],
    ),
    ("competition.competitors", &[c("name", Kind::Text), c("position", Kind::Area), c("strategy", Kind::Area)]),
    (
        "objectives",
        &[
            c("key", Kind::Hidden),
            c("title", Kind::Text),
            c("owner", Kind::User),
            c("measure", Kind::Pick(MEASURES, "aplan.measure")),
            c("target", Kind::Text),
            c("opportunity_id", Kind::Opp),
            c("due_on", Kind::Date),
            c("status", Kind::Pick(STATUSES, "aplan.status")),
            c("percent", Kind::Num),
            c("actual", Kind::Text),
        ],
    ),
    ("actions.outline", &[c("year", Kind::Num), c("outline", Kind::Area)]),
    (
        "actions.actions",
        &[
            c("key", Kind::Hidden),
            c("title", Kind::Text),
            c("kind", Kind::Pick(KINDS, "aplan.kind")),
            c("project", Kind::Text),
            c("owner", Kind::User),
            c("due_on", Kind::Date),
            c("milestone", Kind::Check),
            c("budget", Kind::Text),
            c("status", Kind::Pick(STATUSES, "aplan.status")),
            c("percent", Kind::Num),
        ],
    ),
    (
        "team",
        &[
            c("user", Kind::User),
            c("name", Kind::Text),
            c("role", Kind::Text),
            c("responsibilities", Kind::Area),
            c("resources", Kind::Area),
            c("function_input", Kind::Area),
            c("development", Kind::Area),
        ],
    ),
    (
        "forecast",
        &[
            c("year", Kind::Num),
            c("region", Kind::Text),
            c("platform", Kind::Text),
            c("revenue", Kind::Text),
            c("contribution", Kind::Text),
            c("cost", Kind::Text),
        ],
    ),
];

/// The single texts of each part, in the order of the parts.
const TEXTS: &[(&str, &[&str])] = &[
    (
        "customer",
        &[
            "customer.strategy",
            "customer.financial_market",
            "customer.product_strategy",
            "customer.production",
            "customer.purchasing_strategy",
            "customer.supplier_management",
            "customer.decision_process",
            "customer.organisation",
            "customer.relationship_plan",
        ],
    ),
    ("performance", &["performance.customer_results", "performance.last_plan", "performance.attention"]),
    ("competition", &["competition.needs"]),
    ("objectives", &[]),
    ("actions", &["actions.budget", "actions.resources"]),
    ("team", &[]),
    ("forecast", &[]),
    ("appendix", &["appendix"]),
];

/// One input of the editor as shown.
pub struct Input {
    pub name: String,
    pub label: String,
    pub value: String,
    /// `text`, `area`, `date`, `num`, `user`, `check`, `select`, `hidden`.
    pub kind: &'static str,
    pub options: Vec<(String, String)>,
    pub error: Option<String>,
}

/// A repeated table of the editor.
pub struct EditTable {
    pub path: String,
    pub title: String,
    pub heads: Vec<String>,
    pub rows: Vec<Vec<Input>>,
    pub error: Option<String>,
}

/// One part of the editor: its texts and tables.
pub struct EditPart {
    pub code: String,
    pub title: String,
    pub texts: Vec<Input>,
    pub tables: Vec<EditTable>,
}

#[derive(Template)]
#[template(path = "plan_edit.html")]
struct EditPage {
    l: Layout,
    v: PlanView,
    version: i64,
    parts: Vec<EditPart>,
    errors: Vec<String>,
    more: usize,
}

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Bool(b) => {
            if *b {
                "on".into()
            } else {
                String::new()
            }
        }
        other => other.to_string(),
    }
}

/// The plan as the editor's values, path → text (people by name).
async fn values_of(st: &AppState, body: &PlanBody) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let v = serde_json::to_value(body).unwrap_or(Value::Null);
    for (_, texts) in TEXTS {
        for p in *texts {
            let mut cur = &v;
            for seg in p.split('.') {
                cur = cur.get(seg).unwrap_or(&Value::Null);
            }
            out.insert(p.to_string(), s(cur));
        }
    }
    for (path, cols) in TABLES {
        let mut cur = &v;
        for seg in path.split('.') {
            cur = cur.get(seg).unwrap_or(&Value::Null);
        }
        for (i, row) in cur.as_array().cloned().unwrap_or_default().iter().enumerate() {
            for col in *cols {
                let x = row.get(col.key).unwrap_or(&Value::Null);
                let text = match (col.kind, col.key) {
                    (_, "competitors") => x
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .map(|c| format!("{}:{}", s(&c["competitor"]), s(&c["score"])))
                                .collect::<Vec<_>>()
                                .join("; ")
                        })
                        .unwrap_or_default(),
                    (Kind::User, _) if x.is_string() => name_of(st, x.as_str().unwrap_or("")).await,
                    _ => s(x),
                };
                out.insert(format!("{path}[{i}].{}", col.key), text);
            }
        }
    }
    out
}

/// How many rows of `path` the values hold.
fn rows_in(values: &HashMap<String, String>, path: &str) -> usize {
    let pre = format!("{path}[");
    values
        .keys()
        .filter_map(|k| k.strip_prefix(&pre))
        .filter_map(|k| k.split(']').next()?.parse::<usize>().ok())
        .map(|i| i + 1)
        .max()
        .unwrap_or(0)
}

fn error_for(l: &Layout, errs: &[crate::domain::error::FieldError], name: &str) -> Option<String> {
    let found: Vec<String> = errs
        .iter()
        .filter(|e| e.field == name || e.field.starts_with(&format!("{name}[")))
        .map(|e| l.lang.msg("invalid", e.code))
        .collect();
    (!found.is_empty()).then(|| found.join("; "))
}

fn editor(
    l: &Layout,
    v: &PlanView,
    values: &HashMap<String, String>,
    errs: &[crate::domain::error::FieldError],
    more: usize,
) -> Vec<EditPart> {
    let mut opps: Vec<(String, String)> = vec![(String::new(), "—".into())];
    for o in v.facts.won.iter().chain(v.facts.open.iter()) {
        opps.push((o.id.to_string(), format!("{} ({})", o.name, l.e("stage", &o.stage))));
    }
    let input = |name: String, label: String, kind: Kind| {
        let value = values.get(&name).cloned().unwrap_or_default();
        let error = error_for(l, errs, &name);
        let (k, options) = match kind {
            Kind::Text => ("text", vec![]),
            Kind::Area => ("area", vec![]),
            Kind::Date => ("date", vec![]),
            Kind::Num => ("num", vec![]),
            Kind::User => ("user", vec![]),
            Kind::Check => ("check", vec![]),
            Kind::Hidden => ("hidden", vec![]),
            Kind::Opp => ("select", opps.clone()),
            Kind::Pick(codes, kind) => (
                "select",
                std::iter::once((String::new(), "—".to_string()))
                    .chain(codes.iter().map(|c| (c.to_string(), l.e(kind, c))))
                    .collect(),
            ),
        };
        Input { name, label, value, kind: k, options, error }
    };
    let mut out = vec![];
    for (part, texts) in TEXTS {
        let texts = texts.iter().map(|p| input(p.to_string(), l.t(&format!("aplan.{p}")), Kind::Area)).collect();
        let mut tables = vec![];
        for (path, cols) in TABLES.iter().filter(|(p, _)| p.split('.').next() == Some(part)) {
            let n = rows_in(values, path) + BLANK_ROWS + more;
            let heads = cols
                .iter()
                .filter(|c| c.kind != Kind::Hidden)
                .map(|c| l.t(&format!("aplan.{path}.{}", c.key)))
                .collect();
            let rows = (0..n)
                .map(|i| {
                    cols.iter()
                        .map(|col| {
                            input(
                                format!("{path}[{i}].{}", col.key),
                                format!("{} {}", l.t(&format!("aplan.{path}.{}", col.key)), i + 1),
                                col.kind,
                            )
                        })
                        .collect()
                })
                .collect();
            tables.push(EditTable {
                path: path.to_string(),
                title: l.t(&format!("aplan.{path}")),
                heads,
                rows,
                error: errs.iter().find(|e| e.field == *path).map(|e| l.lang.msg("invalid", e.code)),
            });
        }
        out.push(EditPart { code: part.to_string(), title: l.t(&format!("aplan.part.{part}")), texts, tables });
    }
    out
}

async fn edit_response(
    st: &AppState,
    ui: &UiCtx,
    id: i64,
    typed: Option<(HashMap<String, String>, i64)>,
    err: Option<DomainError>,
    more: usize,
) -> Response {
    let v = match plans::get(&st.app.db, &ui.ctx.caller, id).await {
        Ok(v) => v,
        Err(e) => return fail_page(ui, e),
    };
    if !v.editable {
        return fail_page(ui, DomainError::Forbidden);
    }
    let (values, version) = match typed {
        Some(t) => t,
        None => (values_of(st, &v.plan.body).await, v.plan.version),
    };
    let l =
        Layout::new(ui, "accounts", format!("{} · {} {}", ui.lang.t("aplan.edit"), v.plan.account_name, v.plan.year));
    let status = err.as_ref().map(|e| crate::web::ui::status_and_code(e).0);
    let field_errs = match &err {
        Some(DomainError::Invalid(fs)) => fs.clone(),
        _ => vec![],
    };
    let errors = err.map(|e| crate::web::ui::error_lines(&l, &e)).unwrap_or_default();
    let parts = editor(&l, &v, &values, &field_errs, more);
    let mut res = render(&EditPage { l, v, version, parts, errors, more });
    if let Some(code) = status {
        *res.status_mut() = code;
    }
    res
}

async fn edit_form(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>, RawQuery(raw): RawQuery) -> Response {
    let p = query_pairs(raw);
    let more = q(&p, "more").and_then(|m| m.parse::<usize>().ok()).unwrap_or(0).min(20);
    match id_of(&id) {
        Ok(id) => edit_response(&s, &ui, id, None, None, more).await,
        Err(e) => fail_page(&ui, e),
    }
}

/// The typed form as the plan's body: texts as typed, numbers parsed (a number that is none is
/// named), people by username, empty rows left out.
async fn body_of(st: &AppState, values: &HashMap<String, String>) -> Result<PlanBody, DomainError> {
    let mut e = Errors::default();
    let mut root = Map::new();
    let put = |root: &mut Map<String, Value>, path: &str, v: Value| {
        let mut segs: Vec<&str> = path.split('.').collect();
        let last = segs.pop().unwrap_or("");
        let mut cur = root;
        for seg in segs {
            cur = cur.entry(seg).or_insert_with(|| Value::Object(Map::new())).as_object_mut().expect("object");
        }
        cur.insert(last.to_string(), v);
    };
    for (_, texts) in TEXTS {
        for p in *texts {
            let t = values.get(*p).map(|v| v.trim()).unwrap_or("");
            if !t.is_empty() {
                put(&mut root, p, Value::String(t.to_string()));
            }
        }
    }
    for (path, cols) in TABLES {
        let mut rows = vec![];
        for i in 0..rows_in(values, path) {
            let get =
                |k: &str| values.get(&format!("{path}[{i}].{k}")).map(|v| v.trim().to_string()).unwrap_or_default();
            let filled = cols
                .iter()
                .any(|c| !matches!(c.kind, Kind::Hidden | Kind::Check | Kind::Pick(_, _)) && !get(c.key).is_empty());
            if !filled {
                continue;
            }
            let mut row = Map::new();
            for col in *cols {
                let raw = get(col.key);
                let name = format!("{path}[{i}].{}", col.key);
                let v = match col.kind {
                    Kind::Check => Value::Bool(!raw.is_empty()),
                    Kind::Num | Kind::Opp if raw.is_empty() => match (col.key, *path) {
                        ("percent", _) | ("opportunity_id", _) => Value::Null,
                        _ => Value::from(0),
                    },
                    Kind::Num | Kind::Opp => match raw.parse::<i64>() {
                        Ok(n) => Value::from(n),
                        Err(_) => {
                            e.add(&name, "expected_integer");
                            Value::Null
                        }
                    },
                    Kind::User if raw.is_empty() => Value::Null,
                    Kind::User => {
                        Value::String(crate::app::people::directory::username_of(&st.app.db, &raw).await.unwrap_or(raw))
                    }
                    Kind::Pick(_, _) if raw.is_empty() => match col.key {
                        "kind" => Value::String("project".into()),
                        _ => Value::Null,
                    },
                    _ if col.key == "competitors" => {
                        let mut list = vec![];
                        for part in raw.split([';', '；']).map(str::trim).filter(|p| !p.is_empty()) {
                            match part.rsplit_once([':', '：']).map(|(n, s)| (n.trim(), s.trim().parse::<i64>())) {
                                Some((n, Ok(score))) => list.push(serde_json::json!({"competitor": n, "score": score})),
                                _ => e.add(&name, "competitor_scores"),
                            }
                        }
                        Value::Array(list)
                    }
                    Kind::Text | Kind::Area | Kind::Date | Kind::Hidden | Kind::Pick(_, _) => {
                        if raw.is_empty()
                            && !matches!(
                                col.key,
                                "title"
                                    | "platform"
                                    | "share"
                                    | "factor"
                                    | "name"
                                    | "role"
                                    | "outline"
                                    | "revenue"
                                    | "contribution"
                                    | "cost"
                                    | "key"
                            )
                        {
                            Value::Null
                        } else {
                            Value::String(raw)
                        }
                    }
                };
                if !v.is_null() {
                    row.insert(col.key.to_string(), v);
                }
            }
            // Required numbers left out of a row are refused by the domain's checks.
            rows.push(Value::Object(row));
        }
        if !rows.is_empty() {
            put(&mut root, path, Value::Array(rows));
        }
    }
    e.finish()?;
    serde_json::from_value::<PlanBody>(Value::Object(root)).map_err(|_| DomainError::invalid("body", "invalid_form"))
}

async fn save(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    let values: HashMap<String, String> =
        form.fields.iter().filter(|(k, _)| !k.starts_with('_') && k != "version").cloned().collect();
    let version: i64 = form.get("version").and_then(|v| v.parse().ok()).unwrap_or(0);
    let res = match body_of(&s, &values).await {
        Ok(body) => plans::save(&s.app.db, &ui.ctx, id, &body, version).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match res {
        Ok(()) => Redirect::to(&with_flash(&format!("/plans/{id}"), "saved")).into_response(),
        Err(e @ (DomainError::NotFound | DomainError::Forbidden)) => fail_page(ui, e),
        Err(e) => edit_response(&s, ui, id, Some((values, version)), Some(e), 0).await,
    }
}

// ---------------------------------------------------------------------------------------------
// Versions and their comparison

/// A change as shown: where (labelled), before, after.
pub struct ChangeLine {
    /// Whether it begins its part's group.
    pub first: bool,
    pub part: String,
    pub path: String,
    pub before: String,
    pub after: String,
}

#[derive(Template)]
#[template(path = "plan_versions.html")]
struct VersionsPage {
    l: Layout,
    plan_id: i64,
    account_id: i64,
    title: String,
    versions: Vec<VersionRow>,
    from: i64,
    to: i64,
    /// The comparison (None on the versions' page).
    changes: Option<Vec<ChangeLine>>,
}

fn change_lines(l: &Layout, cs: Vec<Change>) -> Vec<ChangeLine> {
    let mut last = String::new();
    cs.into_iter()
        .map(|c| ChangeLine {
            first: std::mem::replace(&mut last, c.part.clone()) != c.part,
            part: l.t(&format!("aplan.part.{}", c.part)),
            path: c.path,
            before: c.before.as_ref().map(s).unwrap_or_else(|| "—".into()),
            after: c.after.as_ref().map(s).unwrap_or_else(|| "—".into()),
        })
        .collect()
}

async fn versions_response(st: &AppState, ui: &UiCtx, id: &str, cmp: Option<(i64, i64)>) -> Response {
    let res = async {
        let id = id_of(id)?;
        let mut conn = st.app.db.pool.acquire().await?;
        let plan = plans::load_in(&mut conn, &ui.ctx.caller, id).await?;
        drop(conn);
        let versions = plans::versions(&st.app.db, &ui.ctx.caller, id).await?;
        let mut changes = match cmp {
            Some((from, to)) => Some(plans::compare(&st.app.db, &ui.ctx.caller, id, from, to).await?),
            None => None,
        };
        // People by name: an owner or a team member changed shows who, not their username.
        if let Some(cs) = changes.as_mut() {
            let mut conn = st.app.db.pool.acquire().await?;
            for c in cs.iter_mut().filter(|c| c.path.ends_with(".owner") || c.path.ends_with(".user")) {
                for v in [&mut c.before, &mut c.after] {
                    if let Some(serde_json::Value::String(u)) = v.as_ref() {
                        let name: Option<String> =
                            sqlx::query("SELECT COALESCE(display_name, username) AS n FROM users WHERE username = $1")
                                .bind(u.as_str())
                                .fetch_optional(&mut *conn)
                                .await?
                                .map(|r| sqlx::Row::try_get(&r, "n"))
                                .transpose()?;
                        if let Some(n) = name {
                            *v = Some(serde_json::Value::String(n));
                        }
                    }
                }
            }
        }
        Ok::<_, DomainError>((plan, versions, changes))
    }
    .await;
    let (plan, versions, changes) = match res {
        Ok(x) => x,
        Err(e) => return fail_page(ui, e),
    };
    let title = format!("{} {} · {}", plan.year, ui.lang.t("aplan.title"), plan.account_name);
    let l = Layout::new(ui, "accounts", format!("{} · {title}", ui.lang.t("aplan.versions")));
    let (from, to) = cmp.unwrap_or((plan.version.saturating_sub(1).max(1), plan.version));
    let changes = changes.map(|c| change_lines(&l, c));
    render(&VersionsPage { l, plan_id: plan.id, account_id: plan.account_id, title, versions, from, to, changes })
}

async fn versions_page(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    versions_response(&s, &ui, &id, None).await
}

async fn compare_page(
    State(s): State<AppState>,
    ui: UiCtx,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let p = query_pairs(raw);
    let n = |k: &str| q(&p, k).and_then(|v| v.trim().parse::<i64>().ok());
    match (n("from"), n("to")) {
        (Some(from), Some(to)) => versions_response(&s, &ui, &id, Some((from, to))).await,
        _ => fail_page(&ui, DomainError::invalid("from", "required")),
    }
}

// ---------------------------------------------------------------------------------------------
// The appendix's files

async fn upload(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>, m: Multipart) -> Response {
    let res = async {
        let id = id_of(&id)?;
        let p = parts(&ui, m).await?;
        Appendix.attach(&s.app.db, &ui.ctx, &s.app.settings.files(), id, &file_in(&p)).await?;
        Ok::<_, DomainError>(id)
    }
    .await;
    match res {
        Ok(id) => Redirect::to(&with_flash(&format!("/plans/{id}#appendix"), "attached")).into_response(),
        Err(e) => fail_page(&ui, e),
    }
}

async fn remove(State(s): State<AppState>, Path((id, f)): Path<(String, String)>, form: UiForm) -> Response {
    let ui = &form.ui;
    let res = async {
        let (id, f) = (id_of(&id)?, id_of(&f)?);
        Appendix.detach(&s.app.db, &ui.ctx, id, f).await?;
        Ok::<_, DomainError>(id)
    }
    .await;
    match res {
        Ok(id) => Redirect::to(&with_flash(&format!("/plans/{id}#appendix"), "detached")).into_response(),
        Err(e) => fail_page(ui, e),
    }
}

/// The plan's horizon, for the editor's help.
pub fn horizon(year: i32) -> String {
    ap::horizon(year).to_string()
}
