//! The development plan's page (大客户开发方案, issue 22 item 9): the form of a prospect's or
//! candidate's plan — development value, advantages, method, competitors, planned steps with
//! their owners picked by name — and every saved version. The account page shows the plan in
//! force beside the development record. Saving goes through `app::visits::development_plans`.
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

use crate::app::visits::development_plans::{self as plans, DevCompetitor, DevPlanIn, DevPlanView, DevStepIn};
use crate::domain::DomainError;
use crate::web::api::id_of;
use crate::web::auth::{UiCtx, UiForm};
use crate::web::ui::forms::with_flash;
use crate::web::ui::{fail_page, render, Layout};
use crate::web::AppState;

/// Rows the form offers beyond the plan's own.
const BLANK_ROWS: usize = 3;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/accounts/{id}/development-plan", get(show).post(save))
        .route("/accounts/{id}/development-plan/print", get(print))
}

/// A step's row as the form shows it (the owner by name).
pub struct StepRow {
    pub step: String,
    pub owner: String,
    pub due_on: String,
    pub done: bool,
}

#[derive(Template)]
#[template(path = "development_plan.html")]
struct PlanPage {
    l: Layout,
    account_id: i64,
    account_name: String,
    v: DevPlanView,
    dev_value: String,
    advantages: String,
    method: String,
    market_influence: String,
    loyalty: String,
    competitors: Vec<DevCompetitor>,
    steps: Vec<StepRow>,
    errors: Vec<String>,
}

/// The form as typed.
struct Typed {
    dev_value: String,
    advantages: String,
    method: String,
    market_influence: String,
    loyalty: String,
    competitors: Vec<DevCompetitor>,
    steps: Vec<StepRow>,
}

async fn page(s: &AppState, ui: &UiCtx, id: i64, typed: Option<Typed>, err: Option<DomainError>) -> Response {
    let res = async {
        let a = crate::app::customers::accounts::get(&s.app.db, &ui.ctx.caller, id).await?;
        let v = plans::get(&s.app.db, &ui.ctx.caller, a.seen()).await?;
        Ok::<_, DomainError>((a, v))
    }
    .await;
    let (a, v) = match res {
        Ok(x) => x,
        Err(e) => return fail_page(ui, e),
    };
    let n = |x: Option<i64>| x.map(|x| x.to_string()).unwrap_or_default();
    let mut t = typed.unwrap_or_else(|| match &v.plan {
        Some(p) => Typed {
            dev_value: p.dev_value.clone().unwrap_or_default(),
            advantages: p.advantages.clone().unwrap_or_default(),
            method: p.method.clone().unwrap_or_default(),
            market_influence: n(p.market_influence),
            loyalty: n(p.loyalty),
            competitors: p.competitors.clone(),
            steps: p
                .steps
                .iter()
                .map(|s| StepRow {
                    step: s.step.clone(),
                    owner: s.owner_name.clone().or_else(|| s.owner.clone()).unwrap_or_default(),
                    due_on: s.due_on.clone().unwrap_or_default(),
                    done: s.done,
                })
                .collect(),
        },
        None => Typed {
            dev_value: String::new(),
            advantages: String::new(),
            method: String::new(),
            market_influence: String::new(),
            loyalty: String::new(),
            competitors: vec![],
            steps: vec![],
        },
    });
    for _ in 0..BLANK_ROWS {
        t.competitors.push(DevCompetitor { name: String::new(), position: None });
        t.steps.push(StepRow { step: String::new(), owner: String::new(), due_on: String::new(), done: false });
    }
    let l = Layout::new(ui, "accounts", ui.lang.t("devplan.title"));
    let status = err.as_ref().map(|e| crate::web::ui::status_and_code(e).0);
    let errors = err.map(|e| crate::web::ui::error_lines(&l, &e)).unwrap_or_default();
    let mut res = render(&PlanPage {
        l,
        account_id: a.id,
        account_name: a.name.clone(),
        v,
        dev_value: t.dev_value,
        advantages: t.advantages,
        method: t.method,
        market_influence: t.market_influence,
        loyalty: t.loyalty,
        competitors: t.competitors,
        steps: t.steps,
        errors,
    });
    if let Some(st) = status {
        *res.status_mut() = st;
    }
    res
}

async fn show(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    match id_of(&id) {
        Ok(id) => page(&s, &ui, id, None, None).await,
        Err(e) => fail_page(&ui, e),
    }
}

fn field(form: &UiForm, k: &str) -> String {
    form.get(k).map(str::trim).unwrap_or_default().to_string()
}

async fn save(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    let rows = plans::MAX_ROWS + BLANK_ROWS;
    let mut competitors = vec![];
    for i in 0..rows {
        let name = field(&form, &format!("competitor_{i}"));
        let position = field(&form, &format!("position_{i}"));
        if name.is_empty() && position.is_empty() {
            continue;
        }
        competitors.push(DevCompetitor { name, position: Some(position).filter(|p| !p.is_empty()) });
    }
    let mut steps = vec![];
    for i in 0..rows {
        let step = field(&form, &format!("step_{i}"));
        let owner = field(&form, &format!("owner_{i}"));
        let due_on = field(&form, &format!("due_{i}"));
        let done = form.get(&format!("done_{i}")).is_some();
        if step.is_empty() && owner.is_empty() && due_on.is_empty() {
            continue;
        }
        steps.push(StepRow { step, owner, due_on, done });
    }
    let typed = Typed {
        dev_value: field(&form, "dev_value"),
        advantages: field(&form, "advantages"),
        method: field(&form, "method"),
        market_influence: field(&form, "market_influence"),
        loyalty: field(&form, "loyalty"),
        competitors: competitors.clone(),
        steps,
    };
    let mut e = crate::domain::error::Errors::default();
    let mut score = |k: &str, v: &str| -> Option<i64> {
        if v.is_empty() {
            return None;
        }
        e.take(k, v.parse::<i64>().map_err(|_| "expected_integer"))
    };
    let market_influence = score("market_influence", &typed.market_influence);
    let loyalty = score("loyalty", &typed.loyalty);
    if let Err(err) = e.finish() {
        return page(&s, ui, id, Some(typed), Some(err)).await;
    }
    // A step's owner is picked by name (or username); what names nobody is refused by the use case.
    let mut step_ins = vec![];
    for r in &typed.steps {
        let owner = match r.owner.as_str() {
            "" => None,
            o => Some(crate::app::people::directory::username_of(&s.app.db, o).await.unwrap_or_else(|_| o.to_string())),
        };
        step_ins.push(DevStepIn {
            step: r.step.clone(),
            owner,
            due_on: Some(r.due_on.clone()).filter(|d| !d.is_empty()),
            done: r.done,
        });
    }
    let opt = |v: &str| Some(v.to_string()).filter(|v| !v.is_empty());
    let inp = DevPlanIn {
        dev_value: opt(&typed.dev_value),
        advantages: opt(&typed.advantages),
        method: opt(&typed.method),
        competitors,
        steps: step_ins,
        market_influence,
        loyalty,
        version: field(&form, "version").parse().unwrap_or(0),
    };
    match plans::save(&s.app.db, &ui.ctx, id, &inp).await {
        Ok(_) => Redirect::to(&with_flash(&format!("/accounts/{id}"), "saved")).into_response(),
        Err(e @ (DomainError::NotFound | DomainError::Forbidden)) => fail_page(ui, e),
        Err(e) => page(&s, ui, id, Some(typed), Some(e)).await,
    }
}

/// The plan printed (A4, the seed's 大客户开发方案): the plan in force, its steps with their
/// owners by name, who saved it and when.
#[derive(Template)]
#[template(path = "development_plan_print.html")]
struct PlanPrint {
    l: Layout,
    account_name: String,
    v: DevPlanView,
    company: crate::app::quotes::quotes::Company,
    today: String,
}

async fn print(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    let res = async {
        let a = crate::app::customers::accounts::get(&s.app.db, &ui.ctx.caller, id_of(&id)?).await?;
        let v = plans::get(&s.app.db, &ui.ctx.caller, a.seen()).await?;
        let company = crate::app::quotes::quotes::company(&s.app.db).await?;
        Ok::<_, DomainError>((a.name, v, company))
    }
    .await;
    match res {
        Ok((account_name, v, company)) => {
            let l = Layout::new(&ui, "accounts", format!("{} · {account_name}", ui.lang.t("devplan.title")));
            render(&PlanPrint { l, account_name, v, company, today: ui.ctx.caller.today() })
        }
        Err(e) => fail_page(&ui, e),
    }
}
