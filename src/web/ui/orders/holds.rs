//! Holds, the receivables policy and the dunning letter on the pages (issue 21, DOMAIN.md
//! §12.5): the order page's 冻结 section, finance's list of held orders, the settings page of
//! buckets and levels, and the printable 催款函. Every change goes through `app::orders`.
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::app::orders::collection::{self, Letter};
use crate::app::orders::credit_decisions::{self, CreditDecisionIn};
use crate::app::orders::holds::{self, HoldIn, HoldView, ReleaseIn};
use crate::app::orders::policy::{self, LevelIo, ReceivablesPolicy, ReceivablesPolicyIn};
use crate::domain::receivable::CreditDecision;
use crate::domain::DomainError;
use crate::web::api::{id_of, q, query_pairs};
use crate::web::auth::{UiCtx, UiForm};
use crate::web::ui::forms::with_flash;
use crate::web::ui::{fail_page, render, Layout, Load, Section};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/orders/{id}/holds", post(place))
        .route("/holds", get(list))
        .route("/holds/{id}/release", post(release))
        .route("/holds/{id}/credit-decision", post(credit_decision))
        .route("/settings/receivables", get(settings).post(save_settings))
        .route("/accounts/{id}/dunning-letter", get(letter).post(letter_sent))
}

fn text(form: &UiForm, k: &str) -> Option<String> {
    form.get(k).map(str::trim).filter(|v| !v.is_empty()).map(str::to_string)
}

/// The order page's holds, and what the caller may do with them.
pub struct OrderHolds {
    pub holds: Section<Vec<HoldView>>,
    pub can_hold: bool,
    pub can_release: bool,
    /// The finance manager or the KA director: decides credit holds.
    pub can_decide: bool,
}

pub async fn of_order(s: &AppState, ui: &UiCtx, order_id: i64) -> OrderHolds {
    let holds = holds::of_order(&s.app.db, &ui.ctx.caller, order_id).await.section("order", "holds");
    let can_hold = holds::may_place_order(&s.app.db, &ui.ctx.caller, order_id).await.unwrap_or(false);
    OrderHolds {
        holds,
        can_hold,
        can_release: holds::may_release(&ui.ctx.caller),
        can_decide: credit_decisions::may_decide(&ui.ctx.caller),
    }
}

/// Where a form on another page sends the user back to (a local path only).
fn back(form: &UiForm, default: &str) -> String {
    match text(form, "back") {
        Some(b) if b.starts_with('/') && !b.starts_with("//") => b,
        _ => default.to_string(),
    }
}

async fn place(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    match holds::place(&s.app.db, &ui.ctx, id, &HoldIn { reason: text(&form, "reason") }).await {
        Ok(_) => Redirect::to(&with_flash(&format!("/orders/{id}#holds"), "saved")).into_response(),
        Err(e @ (DomainError::NotFound | DomainError::Forbidden)) => fail_page(ui, e),
        Err(e) => super::orders::show_page(&s, ui, id, None, Some(e)).await,
    }
}

#[derive(Template)]
#[template(path = "holds.html")]
struct ListPage {
    l: Layout,
    items: Vec<HoldView>,
    active: bool,
    can_release: bool,
    can_decide: bool,
    errors: Vec<String>,
}

async fn list_page(s: &AppState, ui: &UiCtx, active: bool, err: Option<DomainError>) -> Response {
    let items = match holds::list(&s.app.db, &ui.ctx.caller, active).await {
        Ok(v) => v,
        Err(e) => return fail_page(ui, e),
    };
    let l = Layout::new(ui, "holds", ui.lang.t("hold.list_title"));
    let status = err.as_ref().map(|e| crate::web::ui::status_and_code(e).0);
    let errors = err.map(|e| crate::web::ui::error_lines(&l, &e)).unwrap_or_default();
    let mut res = render(&ListPage {
        l,
        items,
        active,
        can_release: holds::may_release(&ui.ctx.caller),
        can_decide: credit_decisions::may_decide(&ui.ctx.caller),
        errors,
    });
    if let Some(st) = status {
        *res.status_mut() = st;
    }
    res
}

async fn list(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = query_pairs(raw);
    let active = q(&p, "all").is_none();
    list_page(&s, &ui, active, None).await
}

async fn release(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    let version = text(&form, "version").and_then(|v| v.parse().ok()).unwrap_or(0);
    let to = back(&form, "/holds");
    match holds::release(&s.app.db, &ui.ctx, id, &ReleaseIn { reason: text(&form, "reason"), version }).await {
        Ok(_) => Redirect::to(&with_flash(&to, "saved")).into_response(),
        Err(e @ (DomainError::NotFound | DomainError::Forbidden)) => fail_page(ui, e),
        Err(e) => list_page(&s, ui, true, Some(e)).await,
    }
}

/// A credit decision from the holds page or the order page: the button pressed says which.
async fn credit_decision(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    let version = text(&form, "version").and_then(|v| v.parse().ok()).unwrap_or(0);
    let decision = match text(&form, "decision").as_deref().map(CreditDecision::parse) {
        Some(Ok(d)) => d,
        _ => return list_page(&s, ui, true, Some(DomainError::invalid("decision", "invalid_choice"))).await,
    };
    let to = back(&form, "/holds");
    let inp = CreditDecisionIn { decision, reason: text(&form, "reason"), version };
    match credit_decisions::decide(&s.app.db, &ui.ctx, id, &inp).await {
        Ok(_) => Redirect::to(&with_flash(&to, "saved")).into_response(),
        Err(e @ (DomainError::NotFound | DomainError::Forbidden)) => fail_page(ui, e),
        Err(e) => list_page(&s, ui, true, Some(e)).await,
    }
}

// ---------------------------------------------------------------------------------------------
// The policy

#[derive(Template)]
#[template(path = "receivables_settings.html")]
struct SettingsPage {
    l: Layout,
    p: ReceivablesPolicy,
    /// The rows of the levels' form: the policy's levels and blank rows up to 6.
    rows: Vec<LevelIo>,
    buckets: String,
    actions: Vec<&'static str>,
    can_edit: bool,
    errors: Vec<String>,
}

async fn settings_page(
    s: &AppState,
    ui: &UiCtx,
    typed: Option<(String, Vec<LevelIo>)>,
    err: Option<DomainError>,
) -> Response {
    let p = match policy::load(&s.app.db).await {
        Ok(p) => p,
        Err(e) => return fail_page(ui, e),
    };
    let (buckets, mut rows) = match typed {
        Some(t) => t,
        None => (p.buckets.iter().map(i64::to_string).collect::<Vec<_>>().join(","), p.levels.clone()),
    };
    while rows.len() < 6 {
        rows.push(LevelIo { days: 0, action: String::new() });
    }
    let l = Layout::new(ui, "recv_settings", ui.lang.t("policy.title"));
    let status = err.as_ref().map(|e| crate::web::ui::status_and_code(e).0);
    let errors = err.map(|e| crate::web::ui::error_lines(&l, &e)).unwrap_or_default();
    let mut res = render(&SettingsPage {
        l,
        p,
        rows,
        buckets,
        actions: vec!["remind", "owner_calls", "manager_calls", "finance_letter", "hold"],
        can_edit: policy::may_edit(ui.ctx.caller.role),
        errors,
    });
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
    let buckets_typed = text(&form, "buckets").unwrap_or_default();
    let mut bad = false;
    let buckets: Vec<i64> = buckets_typed
        .split([',', '，', ' '])
        .filter(|v| !v.trim().is_empty())
        .map(|v| {
            v.trim().parse::<i64>().unwrap_or_else(|_| {
                bad = true;
                0
            })
        })
        .collect();
    let mut levels = vec![];
    for i in 0..6 {
        let action = text(&form, &format!("action_{i}")).unwrap_or_default();
        let days = text(&form, &format!("days_{i}"));
        if action.is_empty() && days.is_none() {
            continue;
        }
        let days = days.and_then(|d| d.parse::<i64>().ok()).unwrap_or(0);
        levels.push(LevelIo { days, action });
    }
    let typed = Some((buckets_typed.clone(), levels.clone()));
    if bad {
        return settings_page(&s, ui, typed, Some(DomainError::invalid("buckets", "buckets_ascending"))).await;
    }
    let version = text(&form, "version").and_then(|v| v.parse().ok()).unwrap_or(0);
    match policy::save(&s.app.db, &ui.ctx, &ReceivablesPolicyIn { buckets, levels, version }).await {
        Ok(_) => Redirect::to(&with_flash("/settings/receivables", "saved")).into_response(),
        Err(e @ DomainError::Forbidden) => fail_page(ui, e),
        Err(e) => settings_page(&s, ui, typed, Some(e)).await,
    }
}

// ---------------------------------------------------------------------------------------------
// The dunning letter

#[derive(Template)]
#[template(path = "dunning_letter.html")]
struct LetterPage {
    l: Layout,
    v: Letter,
    company: crate::app::quotes::quotes::Company,
    /// Whether the caller logs the letter as sent (the owner, above them, or finance).
    can_log: bool,
}

async fn letter(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    let res = async {
        let id = id_of(&id)?;
        let v = collection::letter(&s.app.db, &ui.ctx.caller, id, ui.ctx.caller.day()).await?;
        let company = crate::app::quotes::quotes::company(&s.app.db).await?;
        Ok::<_, DomainError>((v, company))
    }
    .await;
    match res {
        Ok((v, company)) => {
            let l = Layout::new(&ui, "collection", format!("{} · {}", ui.lang.t("letter.title"), v.account_name));
            render(&LetterPage {
                l,
                v,
                company,
                can_log: ui.ctx.caller.role != crate::domain::role::Role::LogisticsManager,
            })
        }
        Err(e) => fail_page(&ui, e),
    }
}

async fn letter_sent(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    let note = ui.lang.t("letter.logged_note");
    match collection::letter_sent(&s.app.db, &ui.ctx, id, &note, ui.ctx.caller.day()).await {
        Ok(_) => Redirect::to(&with_flash(&format!("/accounts/{id}/dunning-letter"), "saved")).into_response(),
        Err(e) => fail_page(ui, e),
    }
}
