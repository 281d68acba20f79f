//! Approval pages: the inbox (waiting for me / started by me), a request with every step and
//! the forms to decide, extend or withdraw it; the key-account screening form (大客户筛选) with
//! its risk analysis form; notifications; the profile's channels and delegation; and the
//! administrator's flow definitions and deliveries. Rules stay in `app::approvals`,
//! `app::screenings` and `app::notify`; this module shows what they answer.
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono_tz::Tz;
use serde_json::{Map, Value};

use crate::app::approvals::{self, ApprovalView, FlowView, InboxItem};
use crate::app::classification::screenings;
use crate::app::records::notify::{self, Delivery, NotificationView};
use crate::app::Caller;
use crate::db::parse_ts;
use crate::domain::activity as act;
use crate::domain::approval::Scope;
use crate::domain::role::Role;
use crate::domain::DomainError;
use crate::web::api::{id_of, q, query_pairs};
use crate::web::auth::{UiCtx, UiForm};
use crate::web::ui::forms::{missing_or_forbidden, redisplay_or_redirect, Redisplay};
use crate::web::ui::{fail_page, render, status_and_code, Layout, Load, Section};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/approvals", get(inbox))
        .route("/approvals/{id}", get(show))
        .route("/approvals/{id}/print", get(print))
        .route("/approvals/{id}/decision", post(decide))
        .route("/approvals/{id}/withdraw", post(withdraw))
        .route("/approvals/{id}/extension", post(extend))
        .route("/accounts/{id}/screening", get(screening_form).post(screening_submit))
        .route("/notifications", get(notifications))
        .route("/notifications/read", post(mark_read))
        .route("/profile/channels", post(set_channels))
        .route("/profile/delegation", post(delegate))
        .route("/admin/flows", get(flows_page))
        .route("/admin/flows/{flow}", post(save_flow))
        .route("/admin/deliveries", get(deliveries_page))
        .route("/admin/deliveries/{id}/retry", post(retry))
        .route("/static/nav.js", get(nav_js))
}

// ---- shared helpers ----

/// Fills the navigation's counts (pages that do not call this get them from `nav.js`); a count
/// that fails to load says so in the navigation. `waiting`: the count when the page has it.
async fn counted(s: &AppState, ui: &UiCtx, mut l: Layout, waiting: Option<i64>) -> Layout {
    let c = &ui.ctx.caller;
    if !c.role.is_admin() {
        l.nav_waiting = Some(match waiting {
            Some(n) => Section::Loaded(n),
            None => {
                approvals::counts(&s.app.db, c).await.map(|(w, _)| w).section(l.nav, "navigation: waiting requests")
            }
        });
    }
    l.nav_unread = Some(notify::unread_count(&s.app.db, c).await.section(l.nav, "navigation: unread notifications"));
    l
}

/// The caller's time zone, for showing instants: without it every time shown could be in the
/// wrong zone, so a failed load fails the page.
async fn zone_of(s: &AppState, caller: &Caller, page: &'static str) -> Result<Tz, DomainError> {
    let name =
        crate::app::people::users::get(&s.app.db, &caller.username).await.page_data(page, "time zone")?.time_zone;
    Ok(act::parse_tz(&name).or_else(|_| act::parse_tz(act::DEFAULT_TZ)).unwrap_or(chrono_tz::Asia::Shanghai))
}

/// A stored instant as the caller reads it ("2025-03-01 14:05"), or "—".
fn local(tz: Tz, at: Option<&str>) -> String {
    at.and_then(parse_ts)
        .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| "—".into())
}

fn flow_name(l: &Layout, flow: impl AsRef<str>) -> String {
    let flow = flow.as_ref();
    l.e("flow", flow)
}

/// Where a request's subject is shown.
fn subject_of(v: &Value) -> (String, Option<String>) {
    let label = v.get("label").and_then(Value::as_str).unwrap_or("").to_string();
    let href = match (v.get("type").and_then(Value::as_str), v.get("id").and_then(Value::as_i64)) {
        (Some("account"), Some(id)) => Some(format!("/accounts/{id}")),
        (Some("quote"), Some(id)) => Some(format!("/quotes/{id}")),
        (Some("bid"), Some(id)) => Some(format!("/bids/{id}")),
        (Some("negotiation"), Some(id)) => Some(format!("/negotiations/{id}")),
        (Some("account_plan"), Some(id)) => Some(format!("/plans/{id}/reviews")),
        (Some("suggestion"), Some(id)) => Some(format!("/suggestions/{id}")),
        (Some("sales_plan"), Some(year)) => Some(format!("/sales-plans/{year}")),
        (Some("budget"), Some(id)) => Some(format!("/budgets/{id}")),
        (Some("exec_request"), Some(id)) => Some(format!("/exec-requests/{id}")),
        _ => None,
    };
    (label, href)
}

/// Each field error as "label: message", with the label from `label_of`.
fn messages(l: &Layout, e: &DomainError, label_of: impl Fn(&str) -> String) -> Vec<(String, String)> {
    match e {
        DomainError::Invalid(fs) => fs.iter().map(|f| (f.field.clone(), l.lang.msg("invalid", f.code))).collect(),
        other => vec![(String::new(), l.lang.msg("err", status_and_code(other).1))],
    }
    .into_iter()
    .map(|(f, m)| if f.is_empty() { (f, m) } else { (label_of(&f), m) })
    .collect()
}

fn joined(pairs: &[(String, String)]) -> Vec<String> {
    pairs.iter().map(|(f, m)| if f.is_empty() { m.clone() } else { format!("{f}: {m}") }).collect()
}

fn with_status(mut res: Response, status: StatusCode) -> Response {
    *res.status_mut() = status;
    res
}

// ---- the inbox ----

struct InboxRow {
    id: i64,
    flow: String,
    subject: String,
    subject_href: Option<String>,
    requested_by: String,
    state_code: String,
    state: String,
    step_role: String,
    due: String,
    overdue: bool,
    created: String,
}

#[derive(Template)]
#[template(path = "approvals.html")]
struct InboxPage {
    l: Layout,
    /// `waiting` or `mine`.
    tab: &'static str,
    waiting_count: usize,
    mine_pending: usize,
    rows: Vec<InboxRow>,
    /// Credit triggers waiting for the caller to file the change request.
    to_file: usize,
}

async fn inbox(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = query_pairs(raw);
    let tab = match q(&p, "box") {
        Some("mine") => "mine",
        _ => "waiting",
    };
    let caller = &ui.ctx.caller;
    let now = crate::app::clock::now();
    let res = tokio::try_join!(
        approvals::waiting_for(&s.app.db, caller, now),
        approvals::started_by(&s.app.db, caller, now),
        crate::app::credit::triggers::to_file(&s.app.db, caller, now)
    );
    let (waiting, mine, triggers) = match res {
        Ok(x) => x,
        Err(e) => return fail_page(&ui, e),
    };
    let tz = match zone_of(&s, caller, "approvals").await {
        Ok(tz) => tz,
        Err(e) => return fail_page(&ui, e),
    };
    let l = Layout::new(&ui, "approvals", ui.lang.t("approvals.title"));
    let l = counted(&s, &ui, l, Some(waiting.len() as i64)).await;
    let (waiting_count, mine_pending) =
        (waiting.len(), mine.iter().filter(|m| m.state == crate::domain::approval::State::Pending).count());
    let shown: Vec<InboxItem> = if tab == "mine" { mine } else { waiting };
    let rows = shown
        .into_iter()
        .map(|i| {
            let (subject, subject_href) = subject_of(&i.subject);
            InboxRow {
                id: i.id,
                flow: flow_name(&l, i.flow),
                subject,
                subject_href,
                requested_by: i.requested_by_name,
                state: l.e("approval_state", i.state),
                state_code: i.state.code().to_string(),
                step_role: i.step_role.as_deref().map(|r| l.title_of(r, None)).unwrap_or_else(|| "—".into()),
                due: local(tz, i.due_at.as_deref()),
                overdue: i.overdue,
                created: local(tz, Some(&i.created_at)),
            }
        })
        .collect();
    render(&InboxPage { l, tab, waiting_count, mine_pending, rows, to_file: triggers.len() })
}

// ---- one request ----

struct StepRow {
    n: i64,
    role: String,
    scope: String,
    days: i64,
    state_code: String,
    state: String,
    due: String,
    overdue: bool,
    extended_days: Option<i64>,
    escalated_to: Option<String>,
    escalated_at: String,
    decided_by: Option<String>,
    decided_as: String,
    decided_at: String,
    decision: String,
    comment: Option<String>,
    /// Decided alongside the other steps of its run.
    parallel: bool,
}

#[derive(Template)]
#[template(path = "approval.html")]
struct ApprovalPage {
    l: Layout,
    a: ApprovalView,
    flow: String,
    state: String,
    subject: String,
    subject_href: Option<String>,
    created: String,
    closed: String,
    /// What the request carries, as (label, value): the screening's version and risk score.
    facts: Vec<(String, String)>,
    steps: Vec<StepRow>,
    can_withdraw: bool,
    /// How the caller may decide (self, escalation, delegate of someone), in words.
    decide_as: Option<String>,
    comment: String,
    comment_error: Option<String>,
    days: String,
    days_error: Option<String>,
    /// The flow's longest extension, for the extension form (when the caller may extend).
    max_days: Section<Option<i64>>,
    /// The subject, read-only and whole (a screening: its form and the account's key facts).
    panel: Option<Section<SubjectPanel>>,
    /// The errors of the last post (decision, extension, withdrawal).
    errors: Vec<String>,
    /// Set when the post came too late: the request or step was closed meanwhile.
    conflict: bool,
}

/// A request's subject as its reader sees it: groups of answers, a scored table, and the key
/// facts of what it is about, with what changed since the previous version marked. Built per
/// flow by the presenter; the template renders any flow's panel the same way.
pub(crate) struct SubjectPanel {
    pub(crate) title: String,
    /// Says what the marks compare with (the previous version), when there is one.
    pub(crate) note: Option<String>,
    pub(crate) groups: Vec<PanelGroup>,
    pub(crate) table: Option<PanelTable>,
    pub(crate) facts_title: String,
    pub(crate) facts: Vec<(String, String)>,
    /// Where the facts' link goes, and its words (「打开客户」, 「打开报价」…).
    pub(crate) facts_href: Option<(String, String)>,
    /// The facts are out of the caller's scope.
    pub(crate) facts_hidden: bool,
}

pub(crate) struct PanelGroup {
    pub(crate) heading: String,
    pub(crate) rows: Vec<PanelRow>,
}

pub(crate) struct PanelRow {
    pub(crate) label: String,
    pub(crate) value: String,
    pub(crate) changed: bool,
}

pub(crate) struct PanelTable {
    pub(crate) heading: String,
    pub(crate) head: Vec<String>,
    pub(crate) rows: Vec<(Vec<String>, bool)>,
    pub(crate) foot: Vec<String>,
}

/// The quote version a discount exception asks about, as a panel: every line with its discount
/// (a price below a floor price marked), the terms, and the figures against the author's
/// authority; lines that differ from the version before are marked.
fn quote_panel(
    l: &Layout,
    v: crate::app::quotes::quotes::QuoteView,
    before: Option<crate::app::quotes::quotes::VersionView>,
) -> SubjectPanel {
    let x = &v.latest;
    let floor = x.lines.iter().any(|li| li.floor_price.is_some());
    let mut head = vec![
        l.t("quote_field.description"),
        l.t("quote_field.quantity"),
        l.t("quote_field.list_price"),
        l.t("quote_field.unit_price"),
        l.t("quote_field.discount"),
        l.t("quote_field.amount"),
    ];
    if floor {
        head.push(l.t("quote_field.floor_price"));
    }
    let rows = x
        .lines
        .iter()
        .map(|li| {
            let changed = before.as_ref().is_some_and(|b| {
                b.lines.get(li.position as usize).is_none_or(|o| {
                    (&o.description, &o.quantity, &o.unit_price) != (&li.description, &li.quantity, &li.unit_price)
                })
            });
            let mut name = li.description.clone();
            if li.below_floor {
                name = format!("{name} ⚠ {}", l.t("quote.below_floor"));
            }
            let mut cells = vec![
                name,
                format!("{} {}", li.quantity, li.unit),
                li.list_price.as_ref().map(|p| l.yuan(Some(p))).unwrap_or_else(|| "—".into()),
                l.yuan(Some(&li.unit_price)),
                format!("{}%", li.discount),
                l.yuan(Some(&li.amount)),
            ];
            if floor {
                cells.push(li.floor_price.as_ref().map(|p| l.yuan(Some(p))).unwrap_or_else(|| "—".into()));
            }
            (cells, changed || li.below_floor)
        })
        .collect();
    let mut foot = vec![
        l.t("quote_field.total"),
        String::new(),
        String::new(),
        String::new(),
        format!("{}%", x.discount),
        l.yuan(Some(&x.total)),
    ];
    if floor {
        foot.push(String::new());
    }
    let terms: Vec<String> = x
        .payment_terms
        .iter()
        .map(|t| {
            format!(
                "{} {}%（{}）",
                l.e("installment", t.kind.code()),
                t.percent,
                l.t("quote.days_after").replace("{n}", &t.days.to_string())
            )
        })
        .collect();
    let row = |k: &str, val: String| PanelRow {
        label: l.t(k),
        value: if val.is_empty() { "—".into() } else { val },
        changed: false,
    };
    let mut facts = vec![
        (l.t("quote_field.customer"), v.account_name.clone()),
        (l.t("quote_field.total"), format!("¥{}", l.yuan(Some(&x.total)))),
        (l.t("quote_field.discount"), format!("{}%", x.discount)),
        (l.t("quote.limit_of_author"), format!("{}%", v.author_limit)),
        (l.t("quote.below_floor"), if x.below_floor { l.t("common.yes") } else { l.t("common.no") }),
    ];
    if let Some(m) = &x.margin {
        facts.push((l.t("quote_field.margin"), format!("¥{}", l.yuan(Some(m)))));
    }
    SubjectPanel {
        title: l.t("quote.content").replace("{v}", &x.version_no.to_string()),
        note: before.as_ref().map(|b| l.t("quote.changed_since").replace("{v}", &b.version_no.to_string())),
        groups: vec![PanelGroup {
            heading: l.t("quote.header_group"),
            rows: vec![
                row("quote_field.number", format!("{} v{}", v.number, x.version_no)),
                row("quote_field.opportunity", v.opportunity_name.clone()),
                row("quote_field.quoted_by", v.owner_name.clone()),
                row("quote_field.contact_name", x.contact_name.clone().unwrap_or_default()),
                row("quote_field.quote_date", x.quote_date.clone()),
                row("quote_field.valid_until", x.valid_until.clone()),
                row("quote_field.payment_terms", terms.join("；")),
                row("quote_field.delivery_terms", x.delivery_terms.clone().unwrap_or_default()),
                row("quote_field.notes", x.notes.clone().unwrap_or_default()),
                row("attachments.title", v.enclosed().join("、")),
            ],
        }],
        table: Some(PanelTable { heading: l.t("quote.lines"), head, rows, foot }),
        facts_title: l.t("quote.facts"),
        facts,
        facts_href: Some((format!("/quotes/{}", v.id), l.t("quote.open_quote"))),
        facts_hidden: false,
    }
}

/// The write-off a `bad_debt_writeoff` request asks about, whole: the amount and the reason,
/// the receivable (due date, amount, paid, written off, days overdue), the order and the account,
/// and every collection contact so far.
/// The suggestion a `suggestion` request asks about, whole: what the customer suggested and
/// how it came, the report, the departments asked with their opinions so far (the summary
/// table, 建议汇总表), and the promised reply date.
fn suggestion_panel(l: &Layout, v: crate::app::suggestions::suggestions::SuggestionView) -> SubjectPanel {
    let row = |k: &str, val: String| PanelRow {
        label: l.t(k),
        value: if val.is_empty() { "—".into() } else { val },
        changed: false,
    };
    let groups = vec![
        PanelGroup {
            heading: l.t("suggestion.one"),
            rows: vec![
                row("suggestion.content", v.content.clone()),
                row("suggestion.channel", l.e("suggestion_channel", &v.channel)),
                row("suggestion.category", l.e("suggestion_category", &v.category)),
                row("suggestion.received_on", v.received_on.clone()),
                row("field.contact_id", v.contact_name.clone().unwrap_or_default()),
                row("field.thanks", v.thanks.clone().unwrap_or_default()),
            ],
        },
        PanelGroup {
            heading: l.t("suggestion.report"),
            rows: vec![
                row("field.cause", v.cause.clone().unwrap_or_default()),
                row("field.feasibility", v.feasibility.clone().unwrap_or_default()),
                row("suggestion.reply_due", v.reply_due.clone()),
            ],
        },
    ];
    let head =
        vec![l.t("field.department"), l.t("approval.step_state"), l.t("approval.decided_by"), l.t("field.opinion")];
    let rows: Vec<(Vec<String>, bool)> = v
        .opinions
        .iter()
        .map(|o| {
            (
                vec![
                    l.title_of(&o.role, None),
                    l.e("step_state", &o.state),
                    o.decided_by_name.clone().unwrap_or_else(|| "—".into()),
                    o.opinion.clone().unwrap_or_else(|| "—".into()),
                ],
                false,
            )
        })
        .collect();
    let table =
        (!rows.is_empty()).then(|| PanelTable { heading: l.t("suggestion.opinions"), head, rows, foot: vec![] });
    SubjectPanel {
        title: l.t("suggestion.one"),
        note: None,
        groups,
        table,
        facts_title: l.t("field.account"),
        facts: vec![(l.t("field.account"), v.account_name.clone())],
        facts_href: Some((format!("/suggestions/{}", v.id), l.t("suggestion.open"))),
        facts_hidden: false,
    }
}

fn writeoff_panel(l: &Layout, w: crate::app::orders::writeoffs::WriteoffSubject) -> SubjectPanel {
    let (x, r) = (&w.writeoff, &w.receivable);
    let row = |k: &str, val: String| PanelRow {
        label: l.t(k),
        value: if val.is_empty() { "—".into() } else { val },
        changed: false,
    };
    let overdue = match r.days_overdue {
        Some(d) if d > 0 => l.t("receivables.overdue_days").replace("{n}", &d.to_string()),
        Some(_) => l.t("receivables.not_due"),
        None => "—".into(),
    };
    let mut groups = vec![
        PanelGroup {
            heading: l.t("writeoff.request"),
            rows: vec![
                row("writeoff.amount", format!("¥{}", l.yuan(Some(&x.amount)))),
                row("writeoff.reason", x.reason.clone()),
                row("writeoff.proposed_by", x.requested_by_name.clone()),
                row("writeoff.reserved", format!("¥{}", l.yuan(Some(&w.reserved)))),
            ],
        },
        PanelGroup {
            heading: l.t("writeoff.receivable"),
            rows: vec![
                row("writeoff.installment", l.e("installment", r.kind.code())),
                row("field.due_on", r.due_on.clone().unwrap_or_default()),
                row("writeoff.receivable_amount", format!("¥{}", l.yuan(Some(&r.amount)))),
                row("receivables.paid", format!("¥{}", l.yuan(Some(&r.paid)))),
                row("writeoff.written_off", format!("¥{}", l.yuan(Some(&r.written_off)))),
                row("receivables.outstanding", format!("¥{}", l.yuan(Some(&r.outstanding)))),
                row("collection.days_overdue", overdue),
                row("writeoff.receivable_state", l.e("receivable_state", r.state.code())),
            ],
        },
    ];
    let head = vec![
        l.t("collection.contacted_on"),
        l.t("collection.channel"),
        l.t("collection.what_was_said"),
        l.t("collection.promised"),
        l.t("writeoff.contact_by"),
    ];
    let rows: Vec<(Vec<String>, bool)> = w
        .contacts
        .iter()
        .map(|c| {
            let promised = match (&c.promised_amount, &c.promised_on) {
                (Some(a), Some(d)) => {
                    let kept = match c.kept {
                        Some(true) => l.t("writeoff.kept"),
                        Some(false) => l.t("collection.broken"),
                        None => String::new(),
                    };
                    format!("¥{} · {d} {kept}", l.yuan(Some(a)))
                }
                _ => "—".into(),
            };
            (
                vec![
                    c.contacted_on.clone(),
                    l.e("dun_channel", c.channel.code()),
                    c.note.clone(),
                    promised,
                    c.created_by_name.clone(),
                ],
                false,
            )
        })
        .collect();
    let table = if rows.is_empty() {
        None
    } else {
        Some(PanelTable { heading: l.t("writeoff.contacts"), head, rows, foot: vec![] })
    };
    if table.is_none() {
        groups.push(PanelGroup {
            heading: l.t("writeoff.contacts"),
            rows: vec![row("writeoff.contacts", l.t("writeoff.no_contacts"))],
        });
    }
    SubjectPanel {
        title: l.t("writeoff.subject"),
        note: None,
        groups,
        table,
        facts_title: l.t("writeoff.facts"),
        facts: vec![
            (l.t("order_field.customer"), r.account_name.clone()),
            (l.t("writeoff.order"), r.order_number.clone()),
            (l.t("writeoff.owner"), r.owner_name.clone()),
        ],
        facts_href: Some((format!("/accounts/{}/receivables", r.account_id), l.t("receivables.open_statement"))),
        facts_hidden: false,
    }
}

/// The credit change request (大客户信用等级变更申请表) a `credit_change` request asks about:
/// the trigger, the clock (file by, the 10-day cap), who filed it and why; for those who see
/// credit the current and proposed grade and limit and the score, for the others only
/// 「信用信息仅主管及以上可见」.
fn credit_change_panel(l: &Layout, c: crate::app::credit::changes::CreditChangeView) -> SubjectPanel {
    let row = |k: &str, val: String| PanelRow {
        label: l.t(k),
        value: if val.is_empty() { "—".into() } else { val },
        changed: false,
    };
    let tr = &c.trigger;
    let mut filed = l.time(&c.filed_at);
    if c.filed_late {
        filed = format!("{filed} · {}", l.t("credit_change.filed_late"));
    }
    let mut groups = vec![
        PanelGroup {
            heading: l.t("credit_change.trigger"),
            rows: vec![
                row("credit_change.trigger_kind", l.e("credit_trigger_kind", tr.kind.code())),
                row("credit_change.note", tr.note.clone()),
                row("credit_change.triggered_at", l.time(&tr.triggered_at)),
                row("credit_change.file_by", l.time(&tr.file_by)),
                row("credit_change.deadline_cap", l.time(&c.deadline_cap)),
            ],
        },
        PanelGroup {
            heading: l.t("credit_change.request"),
            rows: vec![
                row("credit_change.reason", c.reason.clone()),
                row("credit_change.filed_by", c.filed_by_name.clone()),
                row("credit_change.filed_at", filed),
                row("credit_change.state", l.e("credit_change_state", c.state.code())),
                row("credit_change.close_reason", c.close_reason.clone().unwrap_or_default()),
            ],
        },
    ];
    let grade = |g: &Option<String>| g.as_deref().map(|g| l.e("credit", g)).unwrap_or_default();
    let money = |m: &Option<String>| m.as_ref().map(|m| format!("¥{}", l.yuan(Some(m)))).unwrap_or_default();
    match &c.credit {
        Some(f) => {
            groups.push(PanelGroup {
                heading: l.t("credit_change.credit"),
                rows: vec![
                    row("credit_change.from_grade", grade(&f.from_grade)),
                    row("credit_change.to_grade", grade(&f.to_grade)),
                    row("credit_change.from_limit", money(&f.from_limit)),
                    row("credit_change.to_limit", money(&f.to_limit)),
                    row("credit_change.score", f.score.map(|s| s.to_string()).unwrap_or_default()),
                ],
            });
        }
        None => {
            groups.push(PanelGroup {
                heading: l.t("credit_change.credit"),
                rows: vec![row("credit_change.credit", l.t("credit_change.credit_hidden"))],
            });
        }
    }
    let facts = vec![(l.t("order_field.customer"), c.account_name.clone())];
    SubjectPanel {
        title: l.t("credit_change.subject"),
        note: None,
        groups,
        table: None,
        facts_title: l.t("credit_change.facts"),
        facts,
        facts_href: Some((format!("/accounts/{}", c.account_id), l.t("credit_change.open_account"))),
        facts_hidden: false,
    }
}

/// The account plan an `account_plan` review asks about, whole: the plan's summary (account,
/// year, tier, phase, owner, management's priorities, the customer's strategy), its objectives
/// and milestones, and the review's checklist — answered on the review's page, where the
/// facts' link goes (the checklist is the review's form: the engine's own decision refuses it).
fn account_plan_panel(
    l: &Layout,
    p: crate::app::plans::plans::PlanRow,
    r: crate::app::plans::reviews::PlanReviewView,
) -> SubjectPanel {
    let row = |k: &str, val: String| PanelRow {
        label: l.t(k),
        value: if val.is_empty() { "—".into() } else { val },
        changed: false,
    };
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    let b = &p.body;
    let mut groups = vec![PanelGroup {
        heading: l.t("plan_panel.summary"),
        rows: vec![
            row("plan_review.account", p.account_name.clone()),
            row("plan_cal.year", p.year.to_string()),
            row("plan_review.tier", p.tier.as_deref().map(|t| l.e("tier", t)).unwrap_or_default()),
            row("plan_review.phase", l.e("plan_rv_phase", p.phase.code())),
            row("plan_review.period", r.period.clone()),
            row("plan_review.due_on", r.due_on.clone()),
            row("plan_review.submitted_at", l.time_opt(p.submitted_at.as_ref())),
            row("plan_cal.priorities", o(&p.priorities)),
            row("plan_panel.strategy", o(&b.customer.strategy)),
            row("plan_panel.needs", o(&b.competition.needs)),
        ],
    }];
    let milestones: Vec<PanelRow> = b
        .actions
        .actions
        .iter()
        .filter(|a| a.milestone)
        .map(|a| PanelRow {
            label: a.title.clone(),
            value: format!("{} · {}", a.due_on.as_deref().unwrap_or("—"), a.owner.as_deref().unwrap_or("—")),
            changed: false,
        })
        .collect();
    if !milestones.is_empty() {
        groups.push(PanelGroup { heading: l.t("plan_panel.milestones"), rows: milestones });
    }
    groups.push(PanelGroup {
        heading: l.t("plan_review.checklist"),
        rows: if r.checklist.is_empty() {
            vec![row("plan_review.checklist", l.t("plan_panel.answer_on_review"))]
        } else {
            r.checklist
                .iter()
                .map(|a| PanelRow {
                    label: l.t(&format!("plan_review.q.{}", a.question)),
                    value: format!(
                        "{} · {}",
                        a.answer.map(|x| l.e("plan_rv_answer", x.code())).unwrap_or_default(),
                        a.comment.as_deref().unwrap_or("")
                    ),
                    changed: false,
                })
                .collect()
        },
    });
    let table = (!b.objectives.is_empty()).then(|| PanelTable {
        heading: l.t("plan_panel.objectives"),
        head: vec![
            l.t("plan_panel.objective"),
            l.t("plan_cal.owner"),
            l.t("plan_panel.target"),
            l.t("plan_review.due_on"),
        ],
        rows: b
            .objectives
            .iter()
            .map(|x| (vec![x.title.clone(), o(&x.owner), o(&x.target), o(&x.due_on)], false))
            .collect(),
        foot: vec![],
    });
    SubjectPanel {
        title: l.t("plan_panel.title"),
        note: None,
        groups,
        table,
        facts_title: l.t("plan_review.review"),
        facts: vec![
            (l.t("plan_review.state"), l.e("plan_review_state", &r.state)),
            (l.t("plan_review.cadence"), l.e("plan_rv_cadence", r.cadence.code())),
        ],
        facts_href: Some((format!("/plan-reviews/{}", r.id), l.t("plan_panel.open_review"))),
        facts_hidden: false,
    }
}

/// The order version a sign-off asks about, whole: the header, every line (with its margin for
/// those who see costs), the payment terms with their due rules, and the total against the
/// director's threshold; lines that differ from the version before are marked.
fn order_panel(
    l: &Layout,
    v: crate::app::orders::orders::OrderView,
    before: Option<crate::app::orders::orders::VersionView>,
) -> SubjectPanel {
    let x = &v.latest;
    let margins = x.margin.is_some();
    let mut head = vec![
        l.t("quote_field.description"),
        l.t("quote_field.quantity"),
        l.t("quote_field.unit_price"),
        l.t("quote_field.amount"),
    ];
    if margins {
        head.push(l.t("order_field.margin"));
    }
    let rows = x
        .lines
        .iter()
        .map(|li| {
            let changed = before.as_ref().is_some_and(|b| {
                b.lines.get(li.position as usize).is_none_or(|o| {
                    (&o.description, &o.quantity, &o.unit_price) != (&li.description, &li.quantity, &li.unit_price)
                })
            });
            let mut cells = vec![
                li.description.clone(),
                format!("{} {}", li.quantity, li.unit),
                l.yuan(Some(&li.unit_price)),
                l.yuan(Some(&li.amount)),
            ];
            if margins {
                cells.push(match (&li.margin, &li.margin_percent) {
                    (Some(m), Some(p)) => format!("{}（{p}%）", l.yuan(Some(m))),
                    (Some(m), None) => l.yuan(Some(m)),
                    _ => "—".into(),
                });
            }
            (cells, changed)
        })
        .collect();
    let mut foot = vec![l.t("order_field.total"), String::new(), String::new(), l.yuan(Some(&x.total))];
    if margins {
        foot.push(x.margin.as_ref().map(|m| l.yuan(Some(m))).unwrap_or_default());
    }
    let terms: Vec<String> = x
        .payment_terms
        .iter()
        .map(|t| {
            format!(
                "{} {}%（{}）",
                l.e("installment", t.kind.code()),
                t.percent,
                l.t(&format!("due_event.{}", t.due_event.code())).replace("{n}", &t.due_days.to_string())
            )
        })
        .collect();
    let changed =
        |f: &dyn Fn(&crate::app::orders::orders::VersionView) -> String| before.as_ref().is_some_and(|b| f(b) != f(x));
    let row = |k: &str, val: String, ch: bool| PanelRow {
        label: l.t(k),
        value: if val.is_empty() { "—".into() } else { val },
        changed: ch,
    };
    let terms_of = |vv: &crate::app::orders::orders::VersionView| {
        vv.payment_terms.iter().map(|t| format!("{}{}{}", t.kind.code(), t.percent, t.due)).collect::<String>()
    };
    let mut facts = vec![
        (l.t("order_field.customer"), v.account_name.clone()),
        (l.t("order_field.total"), format!("¥{}", l.yuan(Some(&x.total)))),
    ];
    if let Some(t) = &v.director_threshold {
        facts.push((l.t("order.director_threshold"), format!("¥{}", l.yuan(Some(t)))));
    }
    if let Some(t) = &v.signed_total {
        facts.push((l.t("order_field.signed_total"), format!("¥{}", l.yuan(Some(t)))));
    }
    if let Some(m) = &x.margin {
        facts.push((l.t("order_field.margin"), format!("¥{}", l.yuan(Some(m)))));
    }
    SubjectPanel {
        title: l.t("order.content").replace("{v}", &x.version_no.to_string()),
        note: before.as_ref().map(|b| l.t("quote.changed_since").replace("{v}", &b.version_no.to_string())),
        groups: vec![PanelGroup {
            heading: l.t("order.header"),
            rows: vec![
                row("order_field.number", format!("{} v{}", v.number, x.version_no), false),
                row("quote_field.opportunity", v.opportunity_name.clone().unwrap_or_default(), false),
                row("order.from_quote", v.quote_number.clone().unwrap_or_default(), false),
                row("order_field.owner", v.owner_name.clone(), false),
                row(
                    "order_field.contract_no",
                    x.contract_no.clone().unwrap_or_default(),
                    changed(&|b| b.contract_no.clone().unwrap_or_default()),
                ),
                row(
                    "order_field.requested_delivery",
                    x.requested_delivery.clone().unwrap_or_default(),
                    changed(&|b| b.requested_delivery.clone().unwrap_or_default()),
                ),
                row("quote_field.payment_terms", terms.join("；"), changed(&terms_of)),
                row(
                    "order_field.notes",
                    x.notes.clone().unwrap_or_default(),
                    changed(&|b| b.notes.clone().unwrap_or_default()),
                ),
            ],
        }],
        table: Some(PanelTable { heading: l.t("quote.lines"), head, rows, foot }),
        facts_title: l.t("order.facts"),
        facts,
        facts_href: Some((format!("/orders/{}", v.id), l.t("order.open_order"))),
        facts_hidden: false,
    }
}

/// The bid a bid exception asks about, as a panel: the tender, the decision and its reasons,
/// and which exceptions apply (a price below a floor price, terms outside policy, a bond above
/// the flow's limit).
fn bid_panel(l: &Layout, b: crate::app::quotes::bids::BidView) -> SubjectPanel {
    let row = |k: &str, val: String| PanelRow {
        label: l.t(k),
        value: if val.is_empty() { "—".into() } else { val },
        changed: false,
    };
    let yuan = |v: &Option<String>| v.as_ref().map(|x| format!("¥{}", l.yuan(Some(x)))).unwrap_or_default();
    let yes_no = |on: bool| if on { l.t("common.yes") } else { l.t("common.no") };
    let exceptions = [
        ("field.below_floor", b.below_floor),
        ("field.terms_outside_policy", b.terms_outside_policy),
        ("bid.bond_above_limit", b.bond_above_limit),
    ]
    .iter()
    .map(|(k, on)| PanelRow { label: l.t(k), value: yes_no(*on), changed: *on })
    .collect();
    SubjectPanel {
        title: l.t("bid.panel_title"),
        note: None,
        groups: vec![
            PanelGroup {
                heading: l.t("bid.tender_group"),
                rows: vec![
                    row("field.issuer", b.issuer.clone()),
                    row("field.tender_no", b.tender_no.clone().unwrap_or_default()),
                    row("bid_field.opportunity", b.opportunity_name.clone()),
                    row("bid_field.owner", b.owner_name.clone()),
                    row("field.questions_due", b.questions_due.clone().unwrap_or_default()),
                    row("field.submission_due", b.submission_due.clone()),
                    row("field.bond_amount", yuan(&b.bond_amount)),
                    row("field.bond_return_on", b.bond_return_on.clone().unwrap_or_default()),
                    row("field.documents", b.documents.clone().unwrap_or_default()),
                ],
            },
            PanelGroup {
                heading: l.t("bid.decision_group"),
                rows: vec![
                    row("field.decision", l.e("bid_decision", b.decision)),
                    row("field.reasons", b.decision_reasons.clone().unwrap_or_default()),
                    row("field.bid_price", yuan(&b.bid_price)),
                    row("field.exception_note", b.exception_note.clone().unwrap_or_default()),
                ],
            },
            PanelGroup { heading: l.t("bid.facts"), rows: exceptions },
        ],
        table: None,
        facts_title: l.t("bid_field.customer"),
        facts: vec![
            (l.t("bid_field.customer"), b.account_name.clone()),
            (l.t("field.bond_amount"), yuan(&b.bond_amount)),
            (l.t("bid.exception_state"), l.e("bid_exception_state", b.exception_state)),
        ],
        facts_href: Some((format!("/bids/{}", b.id), l.t("bid.open_bid"))),
        facts_hidden: false,
    }
}

/// The negotiation round a negotiation escalation asks about, as a panel: the round as recorded
/// and the ask (the discount and why).
fn round_panel(l: &Layout, n: crate::app::quotes::negotiations::RoundView) -> SubjectPanel {
    let row = |k: &str, val: String| PanelRow {
        label: l.t(k),
        value: if val.is_empty() { "—".into() } else { val },
        changed: false,
    };
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    SubjectPanel {
        title: l.t("negotiation.panel_title"),
        note: None,
        groups: vec![
            PanelGroup {
                heading: l.t("negotiation.round_group"),
                rows: vec![
                    row("field.held_on", n.held_on.clone()),
                    row("field.participants", n.participants.clone()),
                    row("field.our_position", o(&n.our_position)),
                    row("field.their_position", o(&n.their_position)),
                    row("field.concessions", o(&n.concessions)),
                    row("field.next_step", o(&n.next_step)),
                    row("negotiation.recorded_by", n.created_by_name.clone()),
                ],
            },
            PanelGroup {
                heading: l.t("negotiation.escalation"),
                rows: vec![
                    PanelRow {
                        label: l.t("field.asked_discount"),
                        value: n.asked_discount.as_ref().map(|d| format!("{d}%")).unwrap_or_else(|| "—".into()),
                        changed: true,
                    },
                    row("field.escalation_reason", o(&n.escalation_reason)),
                ],
            },
        ],
        table: None,
        facts_title: l.t("negotiation.facts"),
        facts: vec![
            (l.t("bid_field.customer"), n.account_name.clone()),
            (l.t("bid_field.opportunity"), n.opportunity_name.clone()),
            (l.t("field.asked_discount"), n.asked_discount.as_ref().map(|d| format!("{d}%")).unwrap_or_default()),
        ],
        facts_href: Some((format!("/negotiations/{}", n.id), l.t("negotiation.open_round"))),
        facts_hidden: false,
    }
}

/// The screening a request asks about, as a panel.
fn screening_panel(l: &Layout, r: screenings::ScreeningReview) -> SubjectPanel {
    let rows = |answers: Vec<screenings::Answer>| {
        answers
            .into_iter()
            .map(|a| PanelRow {
                label: l.t(&format!("screening.{}", a.key)),
                value: if a.text.is_empty() { "—".into() } else { a.text },
                changed: a.changed,
            })
            .collect()
    };
    let weight_total: i64 = r.risk.iter().map(|x| x.weight).sum();
    let table = PanelTable {
        heading: l.t("screening.risk"),
        head: vec![
            l.t("screening.indicator"),
            l.t("screening.score"),
            l.t("screening.weight"),
            l.t("screening.points"),
        ],
        rows: r
            .risk
            .iter()
            .map(|x| {
                (
                    vec![l.e("risk", &x.indicator), format!("{} / 5", x.score), x.weight.to_string(), x.points.clone()],
                    x.changed,
                )
            })
            .collect(),
        foot: vec![
            l.t("screening.total"),
            String::new(),
            weight_total.to_string(),
            format!("{} / 100", r.screening.risk_score),
        ],
    };
    let (facts, facts_href, facts_hidden) = match &r.account {
        Some(a) => {
            let mut f = vec![
                (l.t("field.status"), l.e("status", a.status)),
                (l.t("field.buying_power"), l.money(a.buying_power.as_ref())),
                (l.t("field.sales_12m"), l.money(a.sales_12m.as_ref())),
                (l.t("field.sow"), a.sow.as_deref().map(|v| format!("{v}%")).unwrap_or_else(|| "—".into())),
                (l.t("field.rad_class"), a.rad_class.clone().unwrap_or_else(|| "—".into())),
                (l.t("field.tier"), a.tier.as_deref().map(|t| l.e("tier", t)).unwrap_or_else(|| "—".into())),
                (l.t("field.pipeline"), l.money(r.pipeline_open.as_ref())),
            ];
            if let Some(c) = &a.credit {
                f.push((
                    l.t("field.credit_grade"),
                    c.credit_grade.as_deref().map(|g| l.e("credit", g)).unwrap_or_else(|| "—".into()),
                ));
                f.push((l.t("field.credit_limit"), l.money(c.credit_limit.as_ref())));
            }
            (f, Some(format!("/accounts/{}", a.id)), false)
        }
        None => (vec![], None, true),
    };
    SubjectPanel {
        title: l.t("screening.content").replace("{v}", &r.screening.version.to_string()),
        note: r.previous_version.map(|p| l.t("screening.changed_since").replace("{v}", &p.to_string())),
        groups: vec![
            PanelGroup { heading: l.t("screening.criteria"), rows: rows(r.criteria) },
            PanelGroup { heading: l.t("screening.analyses"), rows: rows(r.analyses) },
        ],
        table: Some(table),
        facts_title: l.t("screening.account_facts"),
        facts,
        facts_href: facts_href.map(|h| (h, l.t("screening.open_account"))),
        facts_hidden,
    }
}

/// Who decided (or may decide) in words: 本人, 升级审批, 代 X 审批.
fn as_whom(l: &Layout, v: &str) -> String {
    match v {
        "self" => l.t("approval.as_self"),
        "escalation" => l.t("approval.as_escalation"),
        other => match other.strip_prefix("delegate of ") {
            Some(who) => l.t("approval.as_delegate").replace("{who}", who),
            None => other.to_string(),
        },
    }
}

/// What was typed in the forms of the page, and what went wrong.
#[derive(Default)]
struct Typed {
    comment: String,
    days: String,
    err: Option<DomainError>,
}

async fn approval_page(s: &AppState, ui: &UiCtx, id: i64, typed: Typed, flash: Option<String>) -> Response {
    let a = match approvals::get(&s.app.db, &ui.ctx.caller, id).await {
        Ok(a) => a,
        Err(e) => return fail_page(ui, e),
    };
    let tz = match zone_of(s, &ui.ctx.caller, "approval").await {
        Ok(tz) => tz,
        Err(e) => return fail_page(ui, e),
    };
    let mut l = counted(s, ui, Layout::new(ui, "approvals", format!("#{}", a.id)), None).await;
    l.flash.extend(flash);
    let (subject, subject_href) = subject_of(&a.subject);
    l.title = format!("{} · {subject}", flow_name(&l, a.flow));
    let mut facts = vec![];
    if let Some(v) = a.payload.get("screening_version").and_then(Value::as_i64) {
        facts.push((l.t("screening.version"), format!("v{v}")));
    }
    if let Some(v) = a.payload.get("risk_score").and_then(Value::as_i64) {
        facts.push((l.t("screening.risk_score"), format!("{v} / 100")));
    }
    let steps = step_rows(&l, tz, &a);
    let max_days = if a.can_extend {
        approvals::flows(&s.app.db).await.section("approval", "extension limit").map(|fs| {
            fs.into_iter()
                .find(|f| f.flow == a.flow.code())
                .and_then(|f| f.definition.extension_of(a.current_step.unwrap_or(0) as usize).map(|e| e.max_days))
        })
    } else {
        Section::Loaded(None)
    };
    let panel = panel_of(s, ui, &l, &a).await;
    let mut comment_error = None;
    let mut days_error = None;
    let mut errors = vec![];
    let mut conflict = false;
    let status = typed.err.as_ref().map(|e| status_and_code(e).0);
    match &typed.err {
        None => {}
        Some(DomainError::Invalid(fs)) => {
            for f in fs {
                let msg = match (f.field.as_str(), f.code) {
                    ("comment", "required") => l.t("approval.comment_required"),
                    _ => l.lang.msg("invalid", f.code),
                };
                match f.field.as_str() {
                    "comment" => comment_error = Some(msg.clone()),
                    "days" => days_error = Some(msg.clone()),
                    _ => {}
                }
                errors.push(format!("{}: {msg}", l.e("approval_field", &f.field)));
            }
        }
        Some(e @ DomainError::Conflict(_)) => {
            conflict = true;
            errors.push(l.lang.msg("err", status_and_code(e).1));
            errors.push(l.t("approval.now").replace("{state}", &l.e("approval_state", a.state)));
        }
        Some(e) => errors.push(l.lang.msg("err", status_and_code(e).1)),
    }
    let page = ApprovalPage {
        flow: flow_name(&l, a.flow),
        state: l.e("approval_state", a.state),
        subject,
        subject_href,
        created: local(tz, Some(&a.created_at)),
        closed: local(tz, a.closed_at.as_deref()),
        facts,
        panel,
        steps,
        can_withdraw: a.state == crate::domain::approval::State::Pending && a.requested_by == ui.ctx.caller.username,
        decide_as: a.can_decide.as_deref().map(|v| as_whom(&l, v)),
        comment: typed.comment,
        comment_error,
        days: typed.days,
        days_error,
        max_days,
        errors,
        conflict,
        a,
        l,
    };
    let res = render(&page);
    match status {
        Some(st) => with_status(res, st),
        None => res,
    }
}

/// The request's steps as the page and the print show them (times in the caller's zone).
fn step_rows(l: &Layout, tz: Tz, a: &approvals::ApprovalView) -> Vec<StepRow> {
    a.steps
        .iter()
        .map(|st| StepRow {
            n: st.position + 1,
            role: l.title_of(st.role, None),
            scope: l.e("scope", &st.scope),
            days: st.days,
            state: l.e("step_state", &st.state),
            state_code: st.state.clone(),
            due: local(tz, st.due_at.as_deref()),
            overdue: st.overdue,
            extended_days: st.extended_days,
            escalated_to: st.escalated_to_name.clone(),
            escalated_at: local(tz, st.escalated_at.as_deref()),
            decided_by: st.decided_by_name.clone(),
            decided_as: st.decided_as.as_deref().map(|v| as_whom(l, v)).unwrap_or_default(),
            decided_at: local(tz, st.decided_at.as_deref()),
            decision: st.decision.as_deref().map(|d| l.e("decision", d)).unwrap_or_else(|| "—".into()),
            comment: st.comment.clone(),
            parallel: st.parallel,
        })
        .collect()
}

/// The request's subject, whole, for the flows that have one (the page and the print).
async fn panel_of(s: &AppState, ui: &UiCtx, l: &Layout, a: &approvals::ApprovalView) -> Option<Section<SubjectPanel>> {
    if a.flow == crate::domain::approval::Flow::KaScreening {
        Some(
            screenings::for_approval(&s.app.db, &ui.ctx.caller, a.id)
                .await
                .section("approval", "subject")
                .map(|r| screening_panel(l, r)),
        )
    } else if a.flow == crate::domain::approval::Flow::DiscountException {
        Some(
            crate::app::quotes::quotes::for_approval(&s.app.db, &ui.ctx.caller, a.id)
                .await
                .section("approval", "subject")
                .map(|(v, before)| quote_panel(l, v, before)),
        )
    } else if a.flow == crate::domain::approval::Flow::BidException {
        Some(
            crate::app::quotes::bids::for_approval(&s.app.db, a.id)
                .await
                .section("approval", "subject")
                .map(|b| bid_panel(l, b)),
        )
    } else if a.flow == crate::domain::approval::Flow::NegotiationEscalation {
        Some(
            crate::app::quotes::negotiations::for_approval(&s.app.db, a.id)
                .await
                .section("approval", "subject")
                .map(|n| round_panel(l, n)),
        )
    } else if a.flow == crate::domain::approval::Flow::BadDebtWriteoff {
        let today = chrono::NaiveDate::parse_from_str(&ui.ctx.caller.today(), "%Y-%m-%d").unwrap_or_default();
        Some(
            crate::app::orders::writeoffs::for_approval(&s.app.db, &ui.ctx.caller, a.id, today)
                .await
                .section("approval", "subject")
                .map(|w| writeoff_panel(l, w)),
        )
    } else if a.flow == crate::domain::approval::Flow::KaDowngrade {
        Some(
            crate::app::classification::downgrade::for_approval(&s.app.db, &ui.ctx.caller, a.id)
                .await
                .section("approval", "subject")
                .map(|r| crate::web::ui::classification::downgrade::panel(l, r)),
        )
    } else if a.flow == crate::domain::approval::Flow::CreditChange {
        Some(
            crate::app::credit::changes::for_approval(&s.app.db, &ui.ctx.caller, a.id, crate::app::clock::now())
                .await
                .section("approval", "subject")
                .map(|c| credit_change_panel(l, c)),
        )
    } else if a.flow == crate::domain::approval::Flow::ServiceRequest {
        Some(
            crate::app::service::requests::for_approval(&s.app.db, &ui.ctx.caller, a.id)
                .await
                .section("approval", "subject")
                .map(|v| crate::web::ui::service::request_panel(l, v)),
        )
    } else if a.flow == crate::domain::approval::Flow::ServiceEvaluation {
        Some(
            crate::app::service::events::for_approval(&s.app.db, &ui.ctx.caller, a.id)
                .await
                .section("approval", "subject")
                .map(|v| crate::web::ui::service::evaluation_panel(l, v)),
        )
    } else if a.flow == crate::domain::approval::Flow::AccountPlan {
        Some(
            crate::app::plans::reviews::for_approval(&s.app.db, &ui.ctx.caller, a.id)
                .await
                .section("approval", "subject")
                .map(|(p, r)| account_plan_panel(l, p, r)),
        )
    } else if a.flow == crate::domain::approval::Flow::Suggestion {
        Some(
            crate::app::suggestions::suggestions::for_approval(&s.app.db, &ui.ctx.caller, a.id)
                .await
                .section("approval", "subject")
                .map(|v| suggestion_panel(l, v)),
        )
    } else if a.flow == crate::domain::approval::Flow::AnnualPlan {
        Some(
            crate::app::salesplan::plan::for_approval(&s.app.db, &ui.ctx.caller, a.id)
                .await
                .section("approval", "subject")
                .map(|v| crate::web::ui::salesplan::panel(l, v)),
        )
    } else if a.flow == crate::domain::approval::Flow::BudgetPlan {
        Some(
            crate::app::budgets::budgets::for_approval(&s.app.db, &ui.ctx.caller, a.id)
                .await
                .section("approval", "subject")
                .map(|v| crate::web::ui::budgets::budget_panel(l, v)),
        )
    } else if a.flow == crate::domain::approval::Flow::BudgetException {
        Some(
            crate::app::budgets::spending::for_approval(&s.app.db, &ui.ctx.caller, a.id)
                .await
                .section("approval", "subject")
                .map(|(v, b)| crate::web::ui::budgets::spending_panel(l, v, b)),
        )
    } else if a.flow == crate::domain::approval::Flow::ExecResource {
        Some(
            crate::app::budgets::exec::for_approval(&s.app.db, &ui.ctx.caller, a.id)
                .await
                .section("approval", "subject")
                .map(|v| crate::web::ui::budgets::exec_panel(l, v)),
        )
    } else if a.flow == crate::domain::approval::Flow::OrderSignoff {
        Some(
            crate::app::orders::orders::for_approval(&s.app.db, &ui.ctx.caller, a.id)
                .await
                .section("approval", "subject")
                .map(|(v, before)| order_panel(l, v, before)),
        )
    } else {
        None
    }
}

async fn show(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>, RawQuery(raw): RawQuery) -> Response {
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(&ui, e),
    };
    let p = query_pairs(raw);
    let flash = match q(&p, "done") {
        Some(d @ ("approve" | "reject" | "return" | "withdraw" | "extend" | "submitted")) => {
            Some(ui.lang.t(&format!("approval.done_{d}")))
        }
        _ => None,
    };
    approval_page(&s, &ui, id, Typed::default(), flash).await
}

/// Handles the answer of a post on a request: back to it with a word on success; the page
/// with the error otherwise (a 409 shows the request as it is now).
async fn after_post(
    s: &AppState,
    ui: &UiCtx,
    id: i64,
    res: Result<ApprovalView, DomainError>,
    done: &str,
    typed: Typed,
) -> Response {
    match res {
        Ok(_) => Redirect::to(&format!("/approvals/{id}?done={done}")).into_response(),
        Err(e @ (DomainError::NotFound | DomainError::Forbidden)) => fail_page(ui, e),
        Err(e) => approval_page(s, ui, id, Typed { err: Some(e), ..typed }, None).await,
    }
}

async fn decide(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    let decision = form.get("decision").unwrap_or("").to_string();
    let comment = form.get("comment").unwrap_or("").to_string();
    // The step the page showed: a decision made meanwhile by someone else (or a double click)
    // is a 409, not a decision on the next step.
    let step = form.get("step").and_then(|v| v.trim().parse::<i64>().ok());
    let res =
        approvals::decide_step(&s.app.db, &ui.ctx, id, step, &decision, Some(&comment), crate::app::clock::now()).await;
    let done = match decision.as_str() {
        "approve" => "approve",
        "reject" => "reject",
        _ => "return",
    };
    after_post(&s, ui, id, res, done, Typed { comment, ..Default::default() }).await
}

async fn withdraw(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    let res = approvals::withdraw(&s.app.db, &ui.ctx, id, crate::app::clock::now()).await;
    after_post(&s, ui, id, res, "withdraw", Typed::default()).await
}

async fn extend(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    let days = form.get("days").unwrap_or("").trim().to_string();
    let res = match days.parse::<i64>() {
        Ok(d) => approvals::extend(&s.app.db, &ui.ctx, id, d, crate::app::clock::now()).await,
        Err(_) => Err(DomainError::invalid("days", "expected_integer")),
    };
    after_post(&s, ui, id, res, "extend", Typed { days, ..Default::default() }).await
}

// ---- the screening form ----

struct TextField {
    name: &'static str,
    label: String,
    value: String,
    error: Option<String>,
    max: usize,
    /// One line (the criteria) or several.
    short: bool,
}

struct Indicator {
    code: String,
    label: String,
    weight: i64,
    value: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "screening_form.html")]
struct ScreeningPage {
    l: Layout,
    account_id: i64,
    account_name: String,
    account_status: String,
    /// 筛选标准 (sales amount, market influence, loyalty, strategic region).
    criteria: Vec<TextField>,
    /// Needs, resources, fit and competitors.
    analyses: Vec<TextField>,
    indicators: Vec<Indicator>,
    weight_total: i64,
    errors: Vec<String>,
    /// The latest version submitted before: (version, score, approval).
    last: Option<(i64, i64, Option<i64>)>,
}

const CRITERIA: [&str; 4] = ["sales_amount", "market_influence", "loyalty", "strategic_region"];

fn screening_page(
    l: Layout,
    account: &crate::app::customers::accounts::AccountView,
    weights: &[(String, i64)],
    values: &dyn Fn(&str) -> String,
    last: Option<(i64, i64, Option<i64>)>,
) -> ScreeningPage {
    let mut criteria = vec![];
    let mut analyses = vec![];
    for (name, max) in screenings::TEXTS {
        let short = CRITERIA.contains(name);
        let f = TextField {
            name,
            label: l.t(&format!("screening.{name}")),
            value: values(name),
            error: None,
            max: *max,
            short,
        };
        if short {
            criteria.push(f);
        } else {
            analyses.push(f);
        }
    }
    let indicators = weights
        .iter()
        .map(|(k, w)| Indicator {
            label: l.e("risk", k),
            weight: *w,
            value: values(&format!("risk.{k}")),
            error: None,
            code: k.clone(),
        })
        .collect();
    ScreeningPage {
        account_id: account.id,
        account_name: account.name.clone(),
        account_status: l.e("status", account.status),
        criteria,
        analyses,
        indicators,
        weight_total: weights.iter().map(|(_, w)| w).sum(),
        errors: vec![],
        last,
        l,
    }
}

impl Redisplay for ScreeningPage {
    /// Puts back what was typed in the texts and the risk indicators.
    fn refill(&mut self, typed: &[(String, String)]) {
        let typed_as = |k: &str| typed.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        for f in self.criteria.iter_mut().chain(self.analyses.iter_mut()) {
            if let Some(v) = typed_as(f.name) {
                f.value = v;
            }
        }
        for i in &mut self.indicators {
            if let Some(v) = typed_as(&format!("risk.{}", i.code)) {
                i.value = v;
            }
        }
    }

    /// Puts each error beside its field and in the summary, in the user's language.
    fn with_error(mut self, err: &DomainError) -> Response {
        let lang = self.l.lang;
        let (status, code) = status_and_code(err);
        match err {
            DomainError::Invalid(fs) => {
                for fe in fs {
                    let msg = lang.msg("invalid", fe.code);
                    if let Some(k) = fe.field.strip_prefix("risk.") {
                        match self.indicators.iter_mut().find(|i| i.code == k) {
                            Some(i) => {
                                self.errors.push(format!("{}: {msg}", i.label));
                                i.error = Some(msg);
                            }
                            None => self.errors.push(format!("{}: {msg}", self.l.e("risk", k))),
                        }
                        continue;
                    }
                    match self.criteria.iter_mut().chain(self.analyses.iter_mut()).find(|f| f.name == fe.field) {
                        Some(f) => {
                            self.errors.push(format!("{}: {msg}", f.label));
                            f.error = Some(msg);
                        }
                        None => self.errors.push(format!("{}: {msg}", self.l.e("screening", &fe.field))),
                    }
                }
            }
            _ => self.errors.push(lang.msg("err", code)),
        }
        with_status(render(&self), if status.is_server_error() { StatusCode::INTERNAL_SERVER_ERROR } else { status })
    }
}

/// The account, the risk form's indicators and weights, and the latest screening.
async fn screening_context(
    s: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<
    (crate::app::customers::accounts::AccountView, Vec<(String, i64)>, Option<screenings::ScreeningView>),
    DomainError,
> {
    let account = crate::app::customers::accounts::get(&s.app.db, caller, id).await?;
    let weights = approvals::flows(&s.app.db)
        .await?
        .into_iter()
        .find(|f| f.flow == crate::domain::approval::Flow::KaScreening.code())
        .map(|f| f.definition.risk_weights)
        .unwrap_or_default();
    let last = screenings::list(&s.app.db, caller, id).await?.into_iter().next();
    Ok((account, weights, last))
}

async fn screening_form(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    let res = async { screening_context(&s, &ui.ctx.caller, id_of(&id)?).await }.await;
    let (account, weights, last) = match res {
        Ok(x) => x,
        Err(e) => return fail_page(&ui, e),
    };
    // A new version starts from the last one (after a return for changes, say).
    let form = last.as_ref().map(|v| v.form.clone()).unwrap_or(Value::Null);
    let values = |k: &str| match k.strip_prefix("risk.") {
        Some(r) => form["risk"][r].as_i64().map(|n| n.to_string()).unwrap_or_default(),
        None => form[k].as_str().unwrap_or("").to_string(),
    };
    let l = Layout::new(&ui, "accounts", format!("{} · {}", ui.lang.t("screening.title"), account.name));
    let l = counted(&s, &ui, l, None).await;
    let last = last.map(|v| (v.version, v.risk_score, v.approval_id));
    render(&screening_page(l, &account, &weights, &values, last))
}

async fn screening_submit(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let (account, weights, last) = match async { screening_context(&s, &ui.ctx.caller, id_of(&id)?).await }.await {
        Ok(x) => x,
        Err(e) => return fail_page(ui, e),
    };
    let mut body = Map::new();
    for (k, _) in screenings::TEXTS {
        body.insert(k.to_string(), Value::String(form.get(k).unwrap_or("").to_string()));
    }
    let mut risk = Map::new();
    for (k, _) in &weights {
        if let Some(v) = form.get(&format!("risk.{k}")).map(str::trim).filter(|v| !v.is_empty()) {
            // Not a number: sent as it is, for the app to refuse.
            let v = v.parse::<i64>().map(Value::from).unwrap_or_else(|_| Value::String(v.to_string()));
            risk.insert(k.clone(), v);
        }
    }
    body.insert("risk".into(), Value::Object(risk));
    let res = screenings::submit(&s.app.db, &ui.ctx, account.id, &Value::Object(body)).await;
    let done = |v: screenings::ScreeningView| match v.approval_id {
        Some(a) => format!("/approvals/{a}?done=submitted"),
        None => format!("/accounts/{}#screening", account.id),
    };
    redisplay_or_redirect(ui, res, done, missing_or_forbidden, Some(&form.fields), async |_| {
        let l = Layout::new(ui, "accounts", format!("{} · {}", ui.lang.t("screening.title"), account.name));
        let l = counted(&s, ui, l, None).await;
        let last = last.map(|v| (v.version, v.risk_score, v.approval_id));
        Ok(screening_page(l, &account, &weights, &|_| String::new(), last))
    })
    .await
}

/// One version of an account's screening as the account page lists it.
pub struct ScreeningRow {
    pub version: i64,
    pub risk_score: i64,
    pub submitted_by: String,
    pub submitted_at: String,
    pub approval_id: Option<i64>,
    pub state_code: String,
    pub state: String,
}

/// The account's screenings, newest first, with the state of each one's request (none shown
/// for a request the caller may not see).
pub async fn screening_rows(
    s: &AppState,
    caller: &Caller,
    l: &Layout,
    account: impl Into<crate::app::customers::accounts::AccountRef>,
) -> Result<Vec<ScreeningRow>, DomainError> {
    let list = screenings::list(&s.app.db, caller, account).await?;
    let mut out = vec![];
    for v in list {
        let state_code = match v.approval_id {
            Some(a) => match approvals::get(&s.app.db, caller, a).await {
                Ok(a) => a.state.code().to_string(),
                Err(DomainError::NotFound) => String::new(),
                Err(e) => return Err(e),
            },
            None => String::new(),
        };
        out.push(ScreeningRow {
            version: v.version,
            risk_score: v.risk_score,
            submitted_by: v.submitted_by,
            submitted_at: v.submitted_at.get(..10).unwrap_or(&v.submitted_at).to_string(),
            approval_id: v.approval_id,
            state: if state_code.is_empty() { "—".into() } else { l.e("approval_state", &state_code) },
            state_code,
        });
    }
    Ok(out)
}

// ---- notifications ----

struct NoteRow {
    n: NotificationView,
    at: String,
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct NotificationsPage {
    l: Layout,
    rows: Vec<NoteRow>,
    unread: usize,
}

async fn notifications(State(s): State<AppState>, ui: UiCtx) -> Response {
    let list = match notify::mine(&s.app.db, &ui.ctx.caller, false).await {
        Ok(l) => l,
        Err(e) => return fail_page(&ui, e),
    };
    let tz = match zone_of(&s, &ui.ctx.caller, "notifications").await {
        Ok(tz) => tz,
        Err(e) => return fail_page(&ui, e),
    };
    let l = counted(&s, &ui, Layout::new(&ui, "notifications", ui.lang.t("notifications.title")), None).await;
    let unread = list.iter().filter(|n| !n.read).count();
    let rows = list.into_iter().map(|n| NoteRow { at: local(tz, Some(&n.created_at)), n }).collect();
    render(&NotificationsPage { l, rows, unread })
}

async fn mark_read(State(s): State<AppState>, form: UiForm) -> Response {
    let id = form.get("id").and_then(|v| v.trim().parse::<i64>().ok());
    match notify::mark_read(&s.app.db, &form.ui.ctx, id).await {
        Ok(()) => Redirect::to("/notifications").into_response(),
        Err(e) => fail_page(&form.ui, e),
    }
}

// ---- the profile: channels and delegation ----

/// The profile's notification channels and delegation forms: what they show, and errors.
pub struct ProfileForms {
    pub email: String,
    pub notify_email: bool,
    pub webhook_url: String,
    pub notify_webhook: bool,
    pub channel_errors: Vec<(String, String)>,
    pub email_error: Option<String>,
    pub webhook_error: Option<String>,
    pub delegate: String,
    pub starts_on: String,
    pub ends_on: String,
    pub delegation_errors: Vec<String>,
    /// Users one may delegate to: (username, "name (username)"), suggestions for the field.
    pub people: Section<Vec<(String, String)>>,
}

impl ProfileForms {
    /// The forms as stored: the caller's channels, an empty delegation. The channels are what
    /// the form saves back: without them it would save empty ones, so a failed load fails
    /// the page.
    pub async fn load(s: &AppState, ui: &UiCtx) -> Result<ProfileForms, DomainError> {
        let ch = notify::channels_of(&s.app.db, &ui.ctx.caller).await.page_data("profile", "notification channels")?;
        let people =
            crate::app::people::users::list(&s.app.db).await.section("profile", "delegate suggestions").map(|us| {
                us.into_iter()
                    .filter(|u| {
                        u.active && u.role != crate::domain::role::Role::Admin && u.username != ui.ctx.caller.username
                    })
                    .map(|u| (u.username.clone(), format!("{} ({})", u.display_name, u.username)))
                    .collect()
            });
        Ok(ProfileForms {
            email: ch.email.unwrap_or_default(),
            notify_email: ch.notify_email,
            webhook_url: ch.webhook_url.unwrap_or_default(),
            notify_webhook: ch.notify_webhook,
            channel_errors: vec![],
            email_error: None,
            webhook_error: None,
            delegate: String::new(),
            starts_on: String::new(),
            ends_on: String::new(),
            delegation_errors: vec![],
            people,
        })
    }
}

async fn set_channels(State(s): State<AppState>, form: UiForm) -> Response {
    let ui = &form.ui;
    let on = |k: &str| matches!(form.get(k), Some("1" | "on" | "true"));
    let email = form.get("email").unwrap_or("").to_string();
    let hook = form.get("webhook_url").unwrap_or("").to_string();
    let res =
        notify::set_channels(&s.app.db, &ui.ctx, Some(&email), on("notify_email"), Some(&hook), on("notify_webhook"))
            .await;
    match res {
        Ok(()) => Redirect::to("/profile?saved=1#channels").into_response(),
        Err(e @ DomainError::Invalid(_)) => {
            let mut f = match ProfileForms::load(&s, ui).await {
                Ok(f) => f,
                Err(e) => return fail_page(ui, e),
            };
            let l = Layout::new(ui, "profile", String::new());
            if let DomainError::Invalid(fs) = &e {
                for fe in fs {
                    let msg = ui.lang.msg("invalid", fe.code);
                    match fe.field.as_str() {
                        "email" => f.email_error = Some(msg.clone()),
                        "webhook_url" => f.webhook_error = Some(msg.clone()),
                        _ => {}
                    }
                }
            }
            f.channel_errors = messages(&l, &e, |k| l.t(&format!("channels.{k}")));
            (f.email, f.notify_email, f.webhook_url, f.notify_webhook) =
                (email, on("notify_email"), hook, on("notify_webhook"));
            let res = crate::web::ui::people::admin::profile_page_with(&s, ui, None, None, None, Some(f)).await;
            with_status(res, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => fail_page(ui, e),
    }
}

async fn delegate(State(s): State<AppState>, form: UiForm) -> Response {
    let ui = &form.ui;
    let g = |k: &str| form.get(k).unwrap_or("").trim().to_string();
    let (who, from, to) = (g("delegate"), g("starts_on"), g("ends_on"));
    match approvals::delegate(&s.app.db, &ui.ctx, &who, &from, &to).await {
        Ok(()) => Redirect::to("/profile?delegated=1#delegation").into_response(),
        Err(e @ DomainError::Invalid(_)) => {
            let mut f = match ProfileForms::load(&s, ui).await {
                Ok(f) => f,
                Err(e) => return fail_page(ui, e),
            };
            let l = Layout::new(ui, "profile", String::new());
            let pairs = match &e {
                DomainError::Invalid(fs) => fs
                    .iter()
                    .map(|fe| {
                        let msg = match (fe.field.as_str(), fe.code) {
                            ("ends_on", "too_long") => l.t("delegation.too_long"),
                            _ => l.lang.msg("invalid", fe.code),
                        };
                        (l.t(&format!("delegation.{}", fe.field)), msg)
                    })
                    .collect(),
                _ => vec![],
            };
            f.delegation_errors = joined(&pairs);
            (f.delegate, f.starts_on, f.ends_on) = (who, from, to);
            let res = crate::web::ui::people::admin::profile_page_with(&s, ui, None, None, None, Some(f)).await;
            with_status(res, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => fail_page(ui, e),
    }
}

// ---- the administrator: flows and deliveries ----

struct FlowBox {
    f: FlowView,
    name: String,
    /// The JSON in the advanced view: the current definition, or what was typed.
    text: String,
    errors: Vec<String>,
    saved: bool,
    /// (position, role, scope, days, condition in words or "", the step's extension in words
    /// or "").
    steps: Vec<(i64, String, String, i64, String, String)>,
    extension: Option<(String, i64)>,
    risk: Vec<(String, i64)>,
    /// The form's rows: the steps (and one empty row to add a step), or what was typed.
    rows: Vec<FlowStepRow>,
    /// The extension: role code (empty: none) and days; the cap over all steps.
    ext_role: String,
    ext_days: String,
    max_total: String,
    /// The risk weights as edited: indicator code, its label, the weight typed.
    weights: Vec<(String, String, String)>,
    /// The discount authority as edited: role code, its title, the limit typed (percent).
    limits: Vec<(String, String, String)>,
    /// The bond limit (bid exceptions) as typed; None when the flow has none.
    bond_limit: Option<String>,
    /// The advanced view (JSON) was the one posted.
    json_open: bool,
}

/// One step as the form shows it (what was typed, so a refusal keeps it).
struct FlowStepRow {
    role: String,
    scope: String,
    days: String,
    /// The step applies only above this figure (a percentage); empty: always.
    above: String,
    /// The step's own extension: the role that may grant it (empty: none) and its maximum days.
    ext_role: String,
    ext_days: String,
    /// The tiers (classes) the step is kept to, comma-separated; empty: every subject.
    tiers: String,
    /// Decided alongside the step before it.
    parallel: bool,
    /// Applies only when the request picks its role.
    pick: bool,
}

/// The flow form's fields: `role_N`, `scope_N`, `days_N` per step row (a row without a role,
/// or with `remove_N`, is left out) with the step's own extension `ext_role_N`/`ext_days_N`,
/// the flow's (older) `ext_role`/`ext_days` for every step, `max_total_days`, and
/// `risk_key_N`/`risk_weight_N`. Numbers that are not numbers are refused by field.
fn definition_from_form(form: &UiForm, flow: &str) -> Result<Value, DomainError> {
    // An order's threshold is an amount in 元 (kept in fen); a discount's a percentage.
    let amount = crate::domain::approval::Flow::parse(flow).is_ok_and(|f| f.threshold_is_amount());
    let get = |k: String| form.get(&k).map(str::trim).unwrap_or("").to_string();
    let mut e = crate::domain::error::Errors::default();
    let number = |e: &mut crate::domain::error::Errors, field: String, v: &str| -> Option<i64> {
        e.take(&field, v.parse::<i64>().map_err(|_| "expected_integer"))
    };
    let mut steps = vec![];
    for i in 0..=crate::domain::approval::MAX_STEPS {
        let role = get(format!("role_{i}"));
        if role.is_empty() || form.get(&format!("remove_{i}")).is_some() {
            continue;
        }
        let n = steps.len();
        let days = number(&mut e, format!("steps[{n}].days"), &get(format!("days_{i}"))).unwrap_or(0);
        let mut step = serde_json::json!({"role": role, "scope": get(format!("scope_{i}")), "days": days});
        let above = get(format!("above_{i}"));
        if !above.is_empty() {
            let parsed = if amount {
                crate::domain::money::parse_amount(&above)
            } else {
                crate::domain::money::parse_bp(above.trim_end_matches('%'))
            };
            if let Some(v) = e.take(&format!("steps[{n}].above"), parsed) {
                step["above"] = serde_json::json!(v);
            }
        }
        let ext_role = get(format!("ext_role_{i}"));
        if !ext_role.is_empty() {
            let days = number(&mut e, format!("steps[{n}].extension.max_days"), &get(format!("ext_days_{i}")));
            step["extension"] = serde_json::json!({"role": ext_role, "max_days": days.unwrap_or(0)});
        }
        let tiers: Vec<String> = get(format!("tiers_{i}"))
            .split([',', '，', ' ', '、'])
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect();
        if !tiers.is_empty() {
            step["tiers"] = serde_json::json!(tiers);
        }
        if form.get(&format!("parallel_{i}")).is_some() {
            step["parallel"] = serde_json::json!(true);
        }
        if form.get(&format!("pick_{i}")).is_some() {
            step["pick"] = serde_json::json!(true);
        }
        steps.push(step);
    }
    let mut d = serde_json::json!({ "steps": steps });
    let ext_role = get("ext_role".into());
    if !ext_role.is_empty() {
        let days = number(&mut e, "extension.max_days".into(), &get("ext_days".into())).unwrap_or(0);
        d["extension"] = serde_json::json!({"role": ext_role, "max_days": days});
    }
    let max_total = get("max_total_days".into());
    if !max_total.is_empty() {
        d["max_total_days"] = serde_json::json!(number(&mut e, "max_total_days".into(), &max_total));
    }
    let mut weights = vec![];
    for i in 0..50 {
        let key = get(format!("risk_key_{i}"));
        if key.is_empty() {
            continue;
        }
        let w = number(&mut e, format!("risk_weights[{i}]"), &get(format!("risk_weight_{i}"))).unwrap_or(0);
        weights.push(serde_json::json!([key, w]));
    }
    if !weights.is_empty() {
        d["risk_weights"] = Value::Array(weights);
    }
    let mut limits = vec![];
    for i in 0..50 {
        let role = get(format!("limit_role_{i}"));
        if role.is_empty() {
            continue;
        }
        let v = get(format!("limit_{i}"));
        if let Some(bp) = e.take(&format!("limits.{role}"), crate::domain::money::parse_bp(v.trim_end_matches('%'))) {
            limits.push(serde_json::json!([role, bp]));
        }
    }
    if !limits.is_empty() {
        d["limits"] = Value::Array(limits);
    }
    if form.get("bond_limit").is_some() {
        match crate::domain::money::parse_amount(&get("bond_limit".into())) {
            Ok(f) => d["bond_limit"] = serde_json::json!(crate::domain::money::format_fen(f)),
            Err(c) => e.add("bond_limit", c),
        }
    }
    e.finish()?;
    Ok(d)
}

/// A flow field's label: 「第 2 步 · 天数」 for `steps[1].days`.
fn flow_field_label(l: &Layout, f: &str) -> String {
    if let Some(rest) = f.strip_prefix("steps[") {
        if let Some((n, field)) = rest.split_once("].") {
            let n = n.parse::<usize>().map(|n| n + 1).unwrap_or(0);
            let label = match field {
                "role" => l.t("approval.role"),
                "scope" => l.t("flows.scope"),
                "above" => l.t("flows.above"),
                "extension.role" => l.t("flows.ext_role"),
                "extension.max_days" => l.t("flows.ext_days"),
                _ => l.t("flows.days"),
            };
            return format!("{} · {label}", l.t("flows.step").replace("{n}", &n.to_string()));
        }
    }
    match f {
        "extension.max_days" => l.t("flows.ext_days"),
        "extension.role" => l.t("flows.ext_role"),
        "max_total_days" => l.t("flows.max_total_days"),
        "steps" => l.t("flows.steps"),
        f if f.starts_with("risk_weights") => l.t("screening.risk"),
        f if f.starts_with("limits") => l.t("flows.limits"),
        "bond_limit" => l.t("flows.bond_limit"),
        _ => l.t("flows.definition"),
    }
}

#[derive(Template)]
#[template(path = "flows.html")]
struct FlowsPage {
    l: Layout,
    flows: Vec<FlowBox>,
    /// The roles a step may name (code, title) and the scopes (code, label).
    roles: Vec<(String, String)>,
    scopes: Vec<(String, String)>,
    /// Errors of a post that names no flow shown here.
    errors: Vec<String>,
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

/// The flows page; `edited`: the flow posted, with what was typed and what went wrong (or
/// that it was saved).
async fn flows_view(s: &AppState, ui: &UiCtx, edited: Option<Edited>) -> Response {
    let all = match approvals::flows(&s.app.db).await {
        Ok(f) => f,
        Err(e) => return fail_page(ui, e),
    };
    let l = counted(s, ui, Layout::new(ui, "flows", ui.lang.t("flows.title")), None).await;
    let mut status = StatusCode::OK;
    let mut errors = vec![];
    if let Some(Edited { flow, error: Some(e), .. }) = &edited {
        if !all.iter().any(|f| f.flow == flow) {
            status = status_and_code(e).0;
            errors = joined(&messages(&l, e, |k| flow_field_label(&l, k)));
        }
    }
    let roles: Vec<(String, String)> = Role::ALL
        .iter()
        .filter(|r| !r.is_admin())
        .map(|r| (r.code().to_string(), l.title_of(r.code(), None)))
        .collect();
    let scopes: Vec<(String, String)> =
        Scope::ALL.iter().map(|sc| (sc.code().to_string(), l.e("scope", sc.code()))).collect();
    let flows: Vec<FlowBox> = all
        .into_iter()
        .map(|f| {
            let d = &f.definition;
            let amount = crate::domain::approval::Flow::parse(f.flow).is_ok_and(|x| x.threshold_is_amount());
            let above_text = |a: i64| {
                if amount {
                    crate::domain::money::format_fen(a)
                } else {
                    crate::domain::money::format_bp(a)
                }
            };
            let mut rows: Vec<FlowStepRow> = d
                .steps
                .iter()
                .map(|st| FlowStepRow {
                    role: st.role.clone(),
                    scope: st.scope.clone(),
                    days: st.days.to_string(),
                    above: st.above.map(above_text).unwrap_or_default(),
                    ext_role: st.extension.as_ref().map(|e| e.role.clone()).unwrap_or_default(),
                    ext_days: st.extension.as_ref().map(|e| e.max_days.to_string()).unwrap_or_default(),
                    tiers: st.tiers.join(","),
                    parallel: st.parallel,
                    pick: st.pick,
                })
                .collect();
            if rows.len() < crate::domain::approval::MAX_STEPS {
                rows.push(FlowStepRow {
                    role: String::new(),
                    scope: "hq".into(),
                    days: String::new(),
                    above: String::new(),
                    ext_role: String::new(),
                    ext_days: String::new(),
                    tiers: String::new(),
                    parallel: false,
                    pick: false,
                });
            }
            let mut b = FlowBox {
                name: flow_name(&l, f.flow),
                text: serde_json::to_string_pretty(d).unwrap_or_default(),
                errors: vec![],
                saved: false,
                steps: d
                    .steps
                    .iter()
                    .enumerate()
                    .map(|(i, st)| {
                        let when = st
                            .above
                            .map(|a| {
                                if amount {
                                    l.t("flows.when_total_above").replace("{a}", &l.yuan(Some(&above_text(a))))
                                } else {
                                    l.t("flows.when_above").replace("{p}", &above_text(a))
                                }
                            })
                            .into_iter()
                            .chain((!st.tiers.is_empty()).then(|| {
                                format!(
                                    "{}: {}",
                                    l.t("flows.tiers"),
                                    st.tiers.iter().map(|t| l.e("tier", t)).collect::<Vec<_>>().join("、")
                                )
                            }))
                            .chain(st.parallel.then(|| l.t("approval.parallel")))
                            .chain(st.pick.then(|| l.t("flows.pick")))
                            .collect::<Vec<_>>()
                            .join(" · ");
                        let ext = st
                            .extension
                            .as_ref()
                            .map(|e| {
                                l.t("flows.extension")
                                    .replace("{role}", &l.title_of(&e.role, None))
                                    .replace("{n}", &e.max_days.to_string())
                            })
                            .unwrap_or_default();
                        (i as i64 + 1, l.title_of(&st.role, None), l.e("scope", &st.scope), st.days, when, ext)
                    })
                    .collect(),
                extension: d.extension.as_ref().map(|e| (l.title_of(&e.role, None), e.max_days)),
                risk: d.risk_weights.iter().map(|(k, w)| (l.e("risk", k), *w)).collect(),
                rows,
                ext_role: d.extension.as_ref().map(|e| e.role.clone()).unwrap_or_default(),
                ext_days: d.extension.as_ref().map(|e| e.max_days.to_string()).unwrap_or_default(),
                max_total: d.max_total_days.map(|n| n.to_string()).unwrap_or_default(),
                weights: d.risk_weights.iter().map(|(k, w)| (k.clone(), l.e("risk", k), w.to_string())).collect(),
                limits: d
                    .limits
                    .iter()
                    .map(|(r, bp)| (r.clone(), l.title_of(r, None), crate::domain::money::format_bp(*bp)))
                    .collect(),
                bond_limit: d.bond_limit.clone(),
                json_open: false,
                f,
            };
            if let Some(ed) = &edited {
                if ed.flow == b.f.flow {
                    match &ed.error {
                        None => b.saved = true,
                        Some(e) => {
                            status = status_and_code(e).0;
                            b.errors = joined(&messages(&l, e, |k| flow_field_label(&l, k)));
                            match &ed.typed {
                                FlowTyped::Json(text) => {
                                    b.text = text.clone();
                                    b.json_open = true;
                                }
                                FlowTyped::Form(fields) => b.keep_typed(&l, fields),
                            }
                        }
                    }
                }
            }
            b
        })
        .collect();
    with_status(render(&FlowsPage { l, flows, errors, roles, scopes }), status)
}

impl FlowBox {
    /// What was typed into the form, shown again after a refusal.
    fn keep_typed(&mut self, l: &Layout, fields: &[(String, String)]) {
        let get = |k: String| fields.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()).unwrap_or_default();
        self.rows = (0..=crate::domain::approval::MAX_STEPS)
            .filter(|i| fields.iter().any(|(n, _)| *n == format!("role_{i}")))
            .map(|i| FlowStepRow {
                role: get(format!("role_{i}")),
                scope: get(format!("scope_{i}")),
                days: get(format!("days_{i}")),
                above: get(format!("above_{i}")),
                ext_role: get(format!("ext_role_{i}")),
                ext_days: get(format!("ext_days_{i}")),
                tiers: get(format!("tiers_{i}")),
                parallel: !get(format!("parallel_{i}")).is_empty(),
                pick: !get(format!("pick_{i}")).is_empty(),
            })
            .collect();
        self.limits = (0..50)
            .filter_map(|i| {
                let r = get(format!("limit_role_{i}"));
                (!r.is_empty()).then(|| (r.clone(), l.title_of(&r, None), get(format!("limit_{i}"))))
            })
            .collect();
        if self.bond_limit.is_some() {
            self.bond_limit = Some(get("bond_limit".into()));
        }
        self.ext_role = get("ext_role".into());
        self.ext_days = get("ext_days".into());
        self.max_total = get("max_total_days".into());
        self.weights = (0..50)
            .filter_map(|i| {
                let k = get(format!("risk_key_{i}"));
                (!k.is_empty()).then(|| (k.clone(), l.e("risk", &k), get(format!("risk_weight_{i}"))))
            })
            .collect();
    }
}

/// A flow posted and refused or saved: what was typed (the form's fields or the JSON).
struct Edited {
    flow: String,
    typed: FlowTyped,
    error: Option<DomainError>,
}

enum FlowTyped {
    Form(Vec<(String, String)>),
    Json(String),
}

async fn flows_page(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    if let Err(r) = admin_only(&ui) {
        return r;
    }
    let saved = q(&query_pairs(raw), "saved").map(|f| Edited {
        flow: f.to_string(),
        typed: FlowTyped::Form(vec![]),
        error: None,
    });
    flows_view(&s, &ui, saved).await
}

/// Saves a flow from its form (one row per step) or, in the advanced view, from its JSON; the
/// version the page showed is the one saved over (another save in between is refused).
async fn save_flow(State(s): State<AppState>, Path(flow): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let expected = form.get("version").and_then(|v| v.trim().parse::<i64>().ok());
    let (typed, body) = if form.get("mode") == Some("json") {
        let text = form.get("definition").unwrap_or("").to_string();
        let body = serde_json::from_str::<Value>(&text).map_err(|_| DomainError::invalid("definition", "invalid_json"));
        (FlowTyped::Json(text), body)
    } else {
        let fields: Vec<(String, String)> = form.fields.iter().filter(|(k, _)| k != "_csrf").cloned().collect();
        (FlowTyped::Form(fields), definition_from_form(&form, &flow))
    };
    let res = match body {
        Ok(v) => approvals::set_definition_over(&s.app.db, &ui.ctx, &flow, &v, expected).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match res {
        Ok(()) => Redirect::to(&format!("/admin/flows?saved={flow}#flow-{flow}")).into_response(),
        Err(e @ (DomainError::Forbidden | DomainError::NotFound)) => fail_page(ui, e),
        Err(e) => flows_view(&s, ui, Some(Edited { flow, typed, error: Some(e) })).await,
    }
}

struct DeliveryRow {
    d: Delivery,
    next: String,
    sent: String,
}

#[derive(Template)]
#[template(path = "deliveries.html")]
struct DeliveriesPage {
    l: Layout,
    state: String,
    rows: Vec<DeliveryRow>,
}

async fn deliveries_page(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    if let Err(r) = admin_only(&ui) {
        return r;
    }
    let p = query_pairs(raw);
    let state = q(&p, "state").unwrap_or("").to_string();
    let list = match notify::deliveries(&s.app.db, &ui.ctx, Some(&state)).await {
        Ok(l) => l,
        Err(e) => return fail_page(&ui, e),
    };
    let tz = match zone_of(&s, &ui.ctx.caller, "deliveries").await {
        Ok(tz) => tz,
        Err(e) => return fail_page(&ui, e),
    };
    let l = counted(&s, &ui, Layout::new(&ui, "deliveries", ui.lang.t("deliveries.title")), None).await;
    let rows = list
        .into_iter()
        .map(|d| DeliveryRow { next: local(tz, Some(&d.next_attempt_at)), sent: local(tz, d.sent_at.as_deref()), d })
        .collect();
    render(&DeliveriesPage { l, state, rows })
}

async fn retry(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    match async { notify::retry(&s.app.db, &ui.ctx, id_of(&id)?).await }.await {
        Ok(()) => Redirect::to("/admin/deliveries?state=pending").into_response(),
        Err(e) => fail_page(ui, e),
    }
}

// ---- the navigation's counts on the other pages ----

/// Fills the navigation's counts on pages rendered without them, from the API.
const NAV_JS: &str = r#"// Fills the counts of the navigation on pages rendered without them.
(function () {
  var nav = document.querySelector("header.top nav");
  if (!nav || nav.getAttribute("data-counted") === "1" || !window.fetch) { return; }
  fetch("/api/v1/approvals/counts", { credentials: "same-origin", headers: { "Accept": "application/json" } })
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (c) {
      if (!c) { return; }
      var put = function (id, n) {
        var el = document.getElementById(id);
        if (el) { el.textContent = n > 0 ? " (" + n + ")" : ""; }
      };
      put("nav-waiting", c.waiting);
      put("nav-unread", c.unread_notifications);
    })
    .catch(function () {});
})();
"#;

async fn nav_js() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "max-age=3600")], NAV_JS)
        .into_response()
}

/// A request printed (A4): its subject whole as the approval page shows it, every step with
/// who decided, when, how and why, and the company's letterhead — the paper form of the flow
/// (大客户信用等级变更申请表, 大客户确认表, 订货单签核 …).
#[derive(Template)]
#[template(path = "approval_print.html")]
struct ApprovalPrint {
    l: Layout,
    a: ApprovalView,
    flow: String,
    state: String,
    subject: String,
    created: String,
    closed: String,
    panel: Option<Section<SubjectPanel>>,
    steps: Vec<StepRow>,
    company: crate::app::quotes::quotes::Company,
}

async fn print(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    let res = async {
        let a = approvals::get(&s.app.db, &ui.ctx.caller, id_of(&id)?).await?;
        let tz = zone_of(&s, &ui.ctx.caller, "approval").await?;
        let company = crate::app::quotes::quotes::company(&s.app.db).await?;
        Ok::<_, DomainError>((a, tz, company))
    }
    .await;
    let (a, tz, company) = match res {
        Ok(x) => x,
        Err(e) => return fail_page(&ui, e),
    };
    let mut l = Layout::new(&ui, "approvals", format!("#{}", a.id));
    let (subject, _) = subject_of(&a.subject);
    l.title = format!("{} · {subject}", flow_name(&l, a.flow));
    let steps = step_rows(&l, tz, &a);
    let panel = panel_of(&s, &ui, &l, &a).await;
    let page = ApprovalPrint {
        flow: flow_name(&l, a.flow),
        state: l.e("approval_state", a.state),
        subject,
        created: local(tz, Some(&a.created_at)),
        closed: local(tz, a.closed_at.as_deref()),
        panel,
        steps,
        company,
        a,
        l,
    };
    render(&page)
}
