//! A plan's reviews' pages (issue 23 item 4): the plan's reviews with the owner's Submit for
//! review, a review with its checklist for the reviewer to answer (accepted, or to revise by a
//! date, with the actions it sets), and the reviews due for the caller beside their own plans
//! due. Every change goes through `app::plans::reviews`.
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::app::plans::reviews::{
    self, PlanChecklistAnswer, PlanDue, PlanReviewAction, PlanReviewDecision, PlanReviewDue, PlanReviewOutcome,
    PlanReviewView, PlanReviews,
};
use crate::domain::account_plan::{Answer, CHECKLIST};
use crate::domain::DomainError;
use crate::web::api::id_of;
use crate::web::auth::{UiCtx, UiForm};
use crate::web::ui::forms::with_flash;
use crate::web::ui::{fail_page, render, Layout};
use crate::web::AppState;

/// Blank action rows the decision form offers.
const ACTION_ROWS: usize = 3;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/plans/reviews", get(due))
        .route("/plans/{id}/reviews", get(of_plan))
        .route("/plans/{id}/submit", post(submit))
        .route("/plan-reviews/{id}", get(show).post(decide))
}

// ---- a plan's reviews ----

#[derive(Template)]
#[template(path = "plan_reviews.html")]
struct PlanReviewsPage {
    l: Layout,
    v: PlanReviews,
    errors: Vec<String>,
}

async fn plan_page(s: &AppState, ui: &UiCtx, id: i64, err: Option<DomainError>) -> Response {
    let v = match reviews::of_plan(&s.app.db, &ui.ctx.caller, id).await {
        Ok(v) => v,
        Err(e) => return fail_page(ui, e),
    };
    let l = Layout::new(ui, "plans", format!("{} · {} {}", ui.lang.t("plan_review.title"), v.account_name, v.year));
    let status = err.as_ref().map(|e| crate::web::ui::status_and_code(e).0);
    let errors = err.map(|e| crate::web::ui::error_lines(&l, &e)).unwrap_or_default();
    let mut res = render(&PlanReviewsPage { l, v, errors });
    if let Some(st) = status {
        *res.status_mut() = st;
    }
    res
}

async fn of_plan(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    match id_of(&id) {
        Ok(id) => plan_page(&s, &ui, id, None).await,
        Err(e) => fail_page(&ui, e),
    }
}

async fn submit(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    match reviews::submit(&s.app.db, &ui.ctx, id, crate::app::clock::now()).await {
        Ok(_) => Redirect::to(&with_flash(&format!("/plans/{id}/reviews"), "saved")).into_response(),
        Err(e @ (DomainError::NotFound | DomainError::Forbidden)) => fail_page(ui, e),
        Err(e) => plan_page(&s, ui, id, Some(e)).await,
    }
}

// ---- a review ----

/// A checklist question as the form shows it.
struct QuestionRow {
    question: &'static str,
    answer: String,
    comment: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "plan_review.html")]
struct ReviewPage {
    l: Layout,
    v: PlanReviewView,
    questions: Vec<QuestionRow>,
    outcome: String,
    revise_by: String,
    actions: Vec<PlanReviewAction>,
    comment: String,
    errors: Vec<String>,
    answers: Vec<&'static str>,
}

/// The decision form as typed.
struct Typed {
    answers: Vec<PlanChecklistAnswer>,
    outcome: String,
    revise_by: String,
    actions: Vec<PlanReviewAction>,
    comment: String,
}

async fn review_page(s: &AppState, ui: &UiCtx, id: i64, typed: Option<Typed>, err: Option<DomainError>) -> Response {
    let v = match reviews::get(&s.app.db, &ui.ctx.caller, id).await {
        Ok(v) => v,
        Err(e) => return fail_page(ui, e),
    };
    let l = Layout::new(
        ui,
        "plans",
        format!("{} · {} {} · {}", ui.lang.t("plan_review.review"), v.account_name, v.year, v.period),
    );
    let status = err.as_ref().map(|e| crate::web::ui::status_and_code(e).0);
    let mut field_errors: Vec<(String, String)> = vec![];
    let mut errors = vec![];
    if let Some(e) = &err {
        match e {
            DomainError::Invalid(fs) => {
                for f in fs {
                    let msg = l.lang.msg("invalid", f.code);
                    let q = f.field.strip_prefix("checklist.").map(|q| q.split('.').next().unwrap_or(q));
                    match q {
                        Some(q) => {
                            // Named in the summary too, so the alert says which question is missing.
                            errors.push(format!(
                                "{} · {}: {msg}",
                                l.t("plan_review.field.checklist"),
                                l.t(&format!("plan_review.q_short.{q}"))
                            ));
                            field_errors.push((q.to_string(), msg))
                        }
                        None => {
                            errors.push(format!("{}: {msg}", l.t(&format!("plan_review.field.{}", label_of(&f.field)))))
                        }
                    }
                }
            }
            other => errors = crate::web::ui::error_lines(&l, other),
        }
    }
    let t = typed.unwrap_or_else(|| Typed {
        answers: v.checklist.clone(),
        outcome: String::new(),
        revise_by: v.revise_by.clone().unwrap_or_default(),
        actions: v.actions.clone(),
        comment: String::new(),
    });
    let questions = CHECKLIST
        .iter()
        .map(|q| {
            let a = t.answers.iter().find(|a| a.question == *q);
            QuestionRow {
                question: q,
                answer: a.and_then(|a| a.answer).map(|x| x.code().to_string()).unwrap_or_default(),
                comment: a.and_then(|a| a.comment.clone()).unwrap_or_default(),
                error: field_errors.iter().find(|(f, _)| f == q).map(|(_, m)| m.clone()),
            }
        })
        .collect();
    let mut actions = t.actions.clone();
    if v.can_decide.is_some() {
        for _ in 0..ACTION_ROWS {
            actions.push(PlanReviewAction { text: String::new(), owner: None, due_on: None });
        }
    }
    let mut res = render(&ReviewPage {
        l,
        v,
        questions,
        outcome: t.outcome,
        revise_by: t.revise_by,
        actions,
        comment: t.comment,
        errors,
        answers: vec!["yes", "partly", "no"],
    });
    if let Some(st) = status {
        *res.status_mut() = st;
    }
    res
}

/// The label key of a decision field (`actions[0].text` → `actions`).
fn label_of(field: &str) -> &str {
    let head = field.split(['.', '[']).next().unwrap_or(field);
    match head {
        "revise_by" | "actions" | "comment" | "outcome" | "checklist" => head,
        _ => "checklist",
    }
}

async fn show(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    match id_of(&id) {
        Ok(id) => review_page(&s, &ui, id, None, None).await,
        Err(e) => fail_page(&ui, e),
    }
}

fn field(form: &UiForm, k: &str) -> String {
    form.get(k).map(str::trim).unwrap_or_default().to_string()
}

async fn decide(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    let answers: Vec<PlanChecklistAnswer> = CHECKLIST
        .iter()
        .map(|q| PlanChecklistAnswer {
            question: q.to_string(),
            answer: Answer::parse(&field(&form, &format!("answer_{q}"))).ok(),
            comment: Some(field(&form, &format!("comment_{q}"))).filter(|c| !c.is_empty()),
        })
        .collect();
    let mut actions = vec![];
    for i in 0..(crate::domain::account_plan::ROWS_MAX + ACTION_ROWS) {
        let text = field(&form, &format!("action_{i}"));
        let owner = field(&form, &format!("action_owner_{i}"));
        let due_on = field(&form, &format!("action_due_{i}"));
        if form.get(&format!("action_{i}")).is_none() {
            break;
        }
        if text.is_empty() && owner.is_empty() && due_on.is_empty() {
            continue;
        }
        // An owner is picked by name (or username); what names nobody is refused by the use case.
        let owner = match owner.as_str() {
            "" => None,
            o => Some(crate::app::people::directory::username_of(&s.app.db, o).await.unwrap_or_else(|_| o.to_string())),
        };
        actions.push(PlanReviewAction { text, owner, due_on: Some(due_on).filter(|d| !d.is_empty()) });
    }
    let typed = Typed {
        answers: answers.clone(),
        outcome: field(&form, "outcome"),
        revise_by: field(&form, "revise_by"),
        actions: actions.clone(),
        comment: field(&form, "comment"),
    };
    let outcome = match typed.outcome.as_str() {
        "accepted" => PlanReviewOutcome::Accepted,
        "revise" => PlanReviewOutcome::Revise,
        _ => {
            let e = DomainError::invalid("outcome", "required");
            return review_page(&s, ui, id, Some(typed), Some(e)).await;
        }
    };
    let inp = PlanReviewDecision {
        checklist: answers,
        outcome,
        revise_by: Some(typed.revise_by.clone()).filter(|d| !d.is_empty()),
        actions,
        comment: Some(typed.comment.clone()).filter(|c| !c.is_empty()),
        step: field(&form, "step").parse().ok(),
    };
    match reviews::decide(&s.app.db, &ui.ctx, id, &inp, crate::app::clock::now()).await {
        Ok(_) => Redirect::to(&with_flash(&format!("/plan-reviews/{id}"), "saved")).into_response(),
        Err(e @ (DomainError::NotFound | DomainError::Forbidden)) => fail_page(ui, e),
        Err(e) => review_page(&s, ui, id, Some(typed), Some(e)).await,
    }
}

// ---- the reviews due ----

#[derive(Template)]
#[template(path = "plan_reviews_due.html")]
struct DuePage {
    l: Layout,
    due: Vec<PlanReviewDue>,
    owned: Vec<PlanDue>,
}

async fn due(State(s): State<AppState>, ui: UiCtx) -> Response {
    let now = crate::app::clock::now();
    let res = async {
        let due = reviews::due_for(&s.app.db, &ui.ctx.caller, now).await?;
        let owned = reviews::owner_due(&s.app.db, &ui.ctx.caller, now).await?;
        Ok::<_, DomainError>((due, owned))
    }
    .await;
    match res {
        Ok((due, owned)) => {
            let l = Layout::new(&ui, "plans", ui.lang.t("plan_review.due_title"));
            render(&DuePage { l, due, owned })
        }
        Err(e) => fail_page(&ui, e),
    }
}
