//! The way down and back on the pages: the account page's status section (why it was
//! downgraded, its fulfilment for those who see credit, every change of status, the manual
//! downgrade's button), the manual downgrade form, the request page's panel of a
//! `ka_downgrade` request, and the fulfilment rule's setting (the grace). Rules stay in
//! `app::classification::downgrade`.
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

use crate::app::classification::downgrade::{
    self as dg, DowngradeIn, DowngradeReview, FulfilmentFigures, StatusHistory,
};
use crate::app::customers::accounts::{AccountView, Seen};
use crate::app::Caller;
use crate::domain::account::Status;
use crate::domain::DomainError;
use crate::web::api::id_of;
use crate::web::auth::{UiCtx, UiForm};
use crate::web::ui::approvals::{PanelGroup, PanelRow, SubjectPanel};
use crate::web::ui::forms::with_flash;
use crate::web::ui::{error_lines, fail_page, render, status_and_code, Layout, Load, Section};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/accounts/{id}/downgrade", get(form_page).post(submit))
        .route("/settings/downgrade", get(settings).post(save_settings))
}

/// A fulfilment record in words: "到期 4 期，按时付清 2 期（50.00%）", or that none fell due.
fn figures_text(l: &Layout, f: &FulfilmentFigures) -> String {
    match &f.rate {
        Some(rate) => l
            .t("downgrade.fulfilment_figures")
            .replace("{due}", &f.due.to_string())
            .replace("{fulfilled}", &f.fulfilled.to_string())
            .replace("{rate}", rate),
        None => l.t("downgrade.fulfilment_none"),
    }
}

/// Why a change was made, in words: the reason, and a manual downgrade's note.
fn why_text(l: &Layout, reason: &str, note: Option<&str>) -> String {
    let r = l.e("reason_code", reason);
    match note.filter(|n| !n.is_empty()) {
        Some(n) => format!("{r}：{n}"),
        None => r,
    }
}

/// One change of status as the account page lists it.
pub struct StatusRow {
    pub at: String,
    pub change: String,
    pub why: String,
    /// The figures it was made on (credit viewers only).
    pub figures: Option<String>,
    pub by: String,
    pub approval_id: Option<i64>,
}

/// The account page's status section.
pub struct StatusSection {
    pub rows: Vec<StatusRow>,
    /// Why the account is downgraded, with the figures for those who see credit.
    pub why: Option<String>,
    /// The fulfilment record today (credit viewers only), and whether it is below the line.
    pub fulfilment: Option<(String, bool)>,
    /// "宽限 0 天（公司自定）".
    pub grace: String,
    pub pending: Option<i64>,
    pub can_request: bool,
}

fn section_of(l: &Layout, caller: &Caller, status: Status, h: StatusHistory) -> StatusSection {
    let why = match h.items.first() {
        Some(c) if status == Status::Downgraded && c.to_status == "downgraded" => Some(match c.reason.as_str() {
            dg::REASON_MANUAL => l.t("downgrade.why_manual").replace("{reason}", c.note.as_deref().unwrap_or("")),
            _ => match c.figures.as_ref().and_then(|f| f.rate.clone().map(|r| (f, r))) {
                Some((f, rate)) => l
                    .t("downgrade.why_figures")
                    .replace("{due}", &f.due.to_string())
                    .replace("{fulfilled}", &f.fulfilled.to_string())
                    .replace("{rate}", &rate),
                None => l.t("downgrade.why_plain"),
            },
        }),
        _ => None,
    };
    let rows = h
        .items
        .iter()
        .map(|c| StatusRow {
            at: l.time(&c.changed_at),
            change: format!("{} → {}", l.e("status", &c.from_status), l.e("status", &c.to_status)),
            why: why_text(l, &c.reason, c.note.as_deref()),
            figures: c.figures.as_ref().map(|f| figures_text(l, f)),
            by: if c.changed_by == "system" { l.t("downgrade.system") } else { c.changed_by_name.clone() },
            approval_id: c.approval_id,
        })
        .collect();
    StatusSection {
        rows,
        why,
        fulfilment: h.fulfilment.as_ref().map(|f| (figures_text(l, f), f.below_line())),
        grace: l.t("downgrade.grace_note").replace("{n}", &h.grace_days.to_string()),
        can_request: status == Status::KeyAccount && h.pending_request.is_none() && dg::may_request(caller.role),
        pending: h.pending_request,
    }
}

/// The account page's status section, loaded as a part of the page.
pub async fn account_section(
    s: &AppState,
    caller: &Caller,
    l: &Layout,
    seen: Seen,
    status: Status,
) -> Section<StatusSection> {
    dg::history(&s.app.db, caller, seen)
        .await
        .section("account", "status history")
        .map(|h| section_of(l, caller, status, h))
}

// ---- the manual downgrade form ----

#[derive(Template)]
#[template(path = "downgrade_form.html")]
struct FormPage {
    l: Layout,
    a: AccountView,
    reason: String,
    reason_error: Option<String>,
    errors: Vec<String>,
}

fn form_of(ui: &UiCtx, a: AccountView, reason: String, err: Option<&DomainError>) -> Response {
    let l = Layout::new(ui, "accounts", format!("{} · {}", ui.lang.t("downgrade.form_title"), a.name));
    let mut reason_error = None;
    let mut errors = vec![];
    if let Some(e) = err {
        if let DomainError::Invalid(fs) = e {
            for f in fs.iter().filter(|f| f.field == "reason") {
                reason_error = Some(l.lang.msg("invalid", f.code));
            }
        }
        errors = error_lines(&l, e);
    }
    let mut res = render(&FormPage { l, a, reason, reason_error, errors });
    if let Some(e) = err {
        *res.status_mut() = status_and_code(e).0;
    }
    res
}

async fn form_page(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    let a = match async { crate::app::customers::accounts::get(&s.app.db, &ui.ctx.caller, id_of(&id)?).await }.await {
        Ok(a) => a,
        Err(e) => return fail_page(&ui, e),
    };
    if !dg::may_request(ui.ctx.caller.role) {
        return fail_page(&ui, DomainError::Forbidden);
    }
    form_of(&ui, a, String::new(), None)
}

async fn submit(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let a = match async { crate::app::customers::accounts::get(&s.app.db, &ui.ctx.caller, id_of(&id)?).await }.await {
        Ok(a) => a,
        Err(e) => return fail_page(ui, e),
    };
    let reason = form.get("reason").unwrap_or("").to_string();
    match dg::request(&s.app.db, &ui.ctx, a.id, &DowngradeIn { reason: Some(reason.clone()) }).await {
        Ok(v) => Redirect::to(&format!("/approvals/{}?done=submitted", v.approval_id)).into_response(),
        Err(e @ (DomainError::NotFound | DomainError::Forbidden)) => fail_page(ui, e),
        Err(e) => form_of(ui, a, reason, Some(&e)),
    }
}

// ---- the request page's panel ----

/// The manual downgrade a `ka_downgrade` request asks about: the reason, the account's status
/// and tier when asked, and the account's facts now (its fulfilment for those who see credit).
pub(crate) fn panel(l: &Layout, r: DowngradeReview) -> SubjectPanel {
    let row = |k: &str, value: String| PanelRow {
        label: l.t(k),
        value: if value.is_empty() { "—".into() } else { value },
        changed: false,
    };
    let groups = vec![PanelGroup {
        heading: l.t("downgrade.subject"),
        rows: vec![
            row("downgrade.reason", r.reason.clone()),
            row("downgrade.status_at_request", l.e("status", &r.status_at_request)),
            row("downgrade.tier_at_request", r.tier_at_request.as_deref().map(|t| l.e("tier", t)).unwrap_or_default()),
        ],
    }];
    let (facts, facts_href, facts_hidden) = match &r.account {
        Some(a) => {
            let mut f = vec![
                (l.t("downgrade.status_now"), l.e("status", a.status)),
                (l.t("field.tier"), a.tier.as_deref().map(|t| l.e("tier", t)).unwrap_or_else(|| "—".into())),
                (l.t("field.owner"), a.names.owner.clone().or_else(|| a.owner.clone()).unwrap_or_else(|| "—".into())),
                (l.t("field.sales_12m"), l.money(a.sales_12m.as_ref())),
            ];
            if let Some(ful) = &r.fulfilment {
                let mut v = figures_text(l, ful);
                if ful.below_line() {
                    v = format!("{v} · {}", l.t("downgrade.below_line"));
                }
                f.push((l.t("downgrade.fulfilment"), v));
            }
            (f, Some((format!("/accounts/{}#status", a.id), l.t("downgrade.open_account"))), false)
        }
        None => (vec![], None, true),
    };
    SubjectPanel {
        title: l.t("downgrade.subject"),
        note: None,
        groups,
        table: None,
        facts_title: l.t("downgrade.facts"),
        facts,
        facts_href,
        facts_hidden,
    }
}

// ---- the setting ----

#[derive(Template)]
#[template(path = "downgrade_settings.html")]
struct SettingsPage {
    l: Layout,
    p: dg::DowngradeSettings,
    grace: String,
    can_edit: bool,
    errors: Vec<String>,
}

async fn settings_page(s: &AppState, ui: &UiCtx, typed: Option<String>, err: Option<DomainError>) -> Response {
    let p = match dg::settings(&s.app.db).await {
        Ok(p) => p,
        Err(e) => return fail_page(ui, e),
    };
    let l = Layout::new(ui, "cls_settings", ui.lang.t("downgrade.settings"));
    let status = err.as_ref().map(|e| status_and_code(e).0);
    let errors = err.map(|e| error_lines(&l, &e)).unwrap_or_default();
    let grace = typed.unwrap_or_else(|| p.grace_days.to_string());
    let mut res = render(&SettingsPage { l, p, grace, can_edit: dg::may_edit(ui.ctx.caller.role), errors });
    if let Some(st) = status {
        *res.status_mut() = st;
    }
    res
}

async fn settings(State(s): State<AppState>, ui: UiCtx) -> Response {
    settings_page(&s, &ui, None, None).await
}

async fn save_settings(State(s): State<AppState>, form: UiForm) -> Response {
    let ui = &form.ui;
    let typed = form.get("grace_days").unwrap_or("").trim().to_string();
    let Ok(grace_days) = typed.parse::<i64>() else {
        return settings_page(&s, ui, Some(typed), Some(DomainError::invalid("grace_days", "grace_range"))).await;
    };
    let version = form.get("version").and_then(|v| v.trim().parse().ok()).unwrap_or(0);
    match dg::save_settings(&s.app.db, &ui.ctx, &dg::DowngradeSettingsIn { grace_days, version }).await {
        Ok(_) => Redirect::to(&with_flash("/settings/downgrade", "saved")).into_response(),
        Err(e @ DomainError::Forbidden) => fail_page(ui, e),
        Err(e) => settings_page(&s, ui, Some(typed), Some(e)).await,
    }
}
