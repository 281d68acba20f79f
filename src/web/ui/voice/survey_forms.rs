//! The survey's forms: the questionnaire and the survey's numbers (the company's choice,
//! `/surveys/settings`), and a quarter's answers entered by staff or imported from the outside
//! provider's workbook (`/surveys/{id}/answers`). The rules are `app::voice::surveys`'s; a
//! refusal shows the form again with what was typed and each field named.
use std::collections::HashMap;

use askama::Template;
use axum::extract::{Multipart, Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::app::spreadsheets::import::Report;
use crate::app::voice::surveys::{self, Campaign, ResponseInput, ScoreInput, SurveyQuestion, SurveySettings};
use crate::domain::DomainError;
use crate::web::api::customers::documents::read_multipart;
use crate::web::api::{id_of, q, query_pairs};
use crate::web::auth::{UiCtx, UiForm};
use crate::web::ui::forms::with_flash;
use crate::web::ui::{fail_page, render, Layout};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/surveys/settings", get(settings_page).post(settings_save))
        .route("/surveys/{id}/answers", get(answers_page).post(answers_save))
        .route("/surveys/{id}/import", post(import_upload))
        .route("/surveys/{id}/import-template.xlsx", get(import_template))
}

/// Blank question rows the questionnaire form offers beside the questions.
const BLANK_QUESTIONS: usize = 2;

/// A form's values as typed and the refusal's message by field.
#[derive(Default)]
struct Typed {
    values: HashMap<String, String>,
    errors: HashMap<String, String>,
}

impl Typed {
    fn of(form: &UiForm) -> Typed {
        Typed { values: form.fields.iter().cloned().collect(), errors: HashMap::new() }
    }
    fn val(&self, k: &str) -> &str {
        self.values.get(k).map(String::as_str).unwrap_or("")
    }
    fn err(&self, k: &str) -> Option<&str> {
        self.errors.get(k).map(String::as_str)
    }
}

/// The summary lines of a refusal, each naming its field, and the message by field for the form.
fn refusal(l: &Layout, e: &DomainError, label: &dyn Fn(&str) -> String, typed: &mut Typed) -> Vec<String> {
    match e {
        DomainError::Invalid(fs) => fs
            .iter()
            .map(|f| {
                let msg = l.lang.msg("invalid", f.code);
                typed.errors.insert(f.field.clone(), msg.clone());
                format!("{}: {msg}", label(&f.field))
            })
            .collect(),
        other => crate::web::ui::error_lines(l, other),
    }
}

// ---- the questionnaire ----

/// One question row as shown: its key, labels and scale.
struct QuestionRow {
    key: String,
    label_zh: String,
    label_en: String,
    scale: String,
}

#[derive(Template)]
#[template(path = "survey_settings.html")]
struct SettingsPage {
    l: Layout,
    rows: Vec<QuestionRow>,
    t: Typed,
    errors: Vec<String>,
}

impl SettingsPage {
    /// The message of a question's field (`questions.{i}.{name}`).
    fn qerr(&self, i: &usize, name: &str) -> Option<&str> {
        self.t.err(&format!("questions.{i}.{name}"))
    }
}

fn may_set(ui: &UiCtx) -> bool {
    surveys::manages(&ui.ctx.caller) || ui.ctx.caller.role.is_admin()
}

fn settings_view(ui: &UiCtx, rows: Vec<QuestionRow>, t: Typed, errors: Vec<String>, status: StatusCode) -> Response {
    let l = Layout::new(ui, "surveys", ui.lang.t("survey.settings_title"));
    let mut r = render(&SettingsPage { l, rows, t, errors });
    *r.status_mut() = status;
    r
}

async fn settings_page(State(s): State<AppState>, ui: UiCtx) -> Response {
    if !may_set(&ui) {
        return fail_page(&ui, DomainError::Forbidden);
    }
    let (set, version) = match surveys::settings(&s.app.db).await {
        Ok(x) => x,
        Err(e) => return fail_page(&ui, e),
    };
    let mut rows: Vec<QuestionRow> = set
        .questions
        .iter()
        .map(|q| QuestionRow {
            key: q.key.clone(),
            label_zh: q.label_zh.clone(),
            label_en: q.label_en.clone(),
            scale: q.scale.clone(),
        })
        .collect();
    for _ in 0..BLANK_QUESTIONS {
        rows.push(QuestionRow {
            key: String::new(),
            label_zh: String::new(),
            label_en: String::new(),
            scale: "1-5".into(),
        });
    }
    let mut t = Typed::default();
    for (k, v) in [
        ("version", version.to_string()),
        ("link_days", set.link_days.to_string()),
        ("low_1_5", set.low_1_5.to_string()),
        ("low_0_10", set.low_0_10.to_string()),
        ("problem_words", set.problem_words.join("\n")),
    ] {
        t.values.insert(k.into(), v);
    }
    settings_view(&ui, rows, t, vec![], StatusCode::OK)
}

/// A whole number typed in a field, or the field's error (`not_a_number`).
fn number(form: &UiForm, field: &str, bad: &mut Vec<(String, &'static str)>) -> i64 {
    match form.get(field).unwrap_or("").trim().parse::<i64>() {
        Ok(n) => n,
        Err(_) => {
            bad.push((field.to_string(), "not_a_number"));
            0
        }
    }
}

async fn settings_save(State(s): State<AppState>, form: UiForm) -> Response {
    let ui = &form.ui;
    if !may_set(ui) {
        return fail_page(ui, DomainError::Forbidden);
    }
    let f = |k: String| form.get(&k).unwrap_or("").trim().to_string();
    // The rows as typed; blank ones dropped, so the numbers of the rows that stay are the
    // positions the rules name.
    let mut rows = vec![];
    for i in 0..(crate::domain::service::ROWS_MAX + BLANK_QUESTIONS) {
        if form.get(&format!("key_{i}")).is_none() {
            break;
        }
        let row = QuestionRow {
            key: f(format!("key_{i}")),
            label_zh: f(format!("label_zh_{i}")),
            label_en: f(format!("label_en_{i}")),
            scale: f(format!("scale_{i}")),
        };
        if row.key.is_empty() && row.label_zh.is_empty() && row.label_en.is_empty() {
            continue;
        }
        rows.push(row);
    }
    let mut bad = vec![];
    let link_days = number(&form, "link_days", &mut bad);
    let low_1_5 = number(&form, "low_1_5", &mut bad);
    let low_0_10 = number(&form, "low_0_10", &mut bad);
    let version = form.get("version").and_then(|v| v.trim().parse::<i64>().ok()).unwrap_or(-1);
    let problem_words = form
        .get("problem_words")
        .unwrap_or("")
        .split(['\n', ',', '，'])
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(String::from)
        .collect();
    let set = SurveySettings {
        questions: rows
            .iter()
            .map(|r| SurveyQuestion {
                key: r.key.clone(),
                label_zh: r.label_zh.clone(),
                label_en: r.label_en.clone(),
                scale: r.scale.clone(),
            })
            .collect(),
        link_days,
        low_1_5,
        low_0_10,
        problem_words,
    };
    let res = if bad.is_empty() {
        surveys::save_settings(&s.app.db, &ui.ctx, &set, version).await
    } else {
        Err(DomainError::Invalid(
            bad.into_iter().map(|(field, code)| crate::domain::error::FieldError { field, code }).collect(),
        ))
    };
    match res {
        Ok(()) => Redirect::to(&with_flash("/surveys/settings", "saved")).into_response(),
        Err(e @ (DomainError::Invalid(_) | DomainError::StaleVersion { .. })) => {
            let status = crate::web::ui::status_and_code(&e).0;
            let l = Layout::new(ui, "surveys", String::new());
            let mut t = Typed::of(&form);
            let label = |field: &str| settings_label(ui, field);
            let errors = refusal(&l, &e, &label, &mut t);
            for _ in 0..BLANK_QUESTIONS {
                rows.push(QuestionRow {
                    key: String::new(),
                    label_zh: String::new(),
                    label_en: String::new(),
                    scale: "1-5".into(),
                });
            }
            settings_view(ui, rows, t, errors, status)
        }
        Err(e) => fail_page(ui, e),
    }
}

/// A field of the questionnaire by its label: `questions.2.key` is "问题 3 · 代码".
fn settings_label(ui: &UiCtx, field: &str) -> String {
    let parts: Vec<&str> = field.split('.').collect();
    match parts.as_slice() {
        ["questions", i, name] => {
            let n = i.parse::<usize>().map(|n| n + 1).unwrap_or(0);
            format!(
                "{} · {}",
                ui.lang.t("survey.question_n").replace("{n}", &n.to_string()),
                ui.lang.t(&format!("survey.q_{name}"))
            )
        }
        ["questions"] => ui.lang.t("survey.question"),
        [name] => ui.lang.t(&format!("survey.set_{name}")),
        _ => field.to_string(),
    }
}

// ---- a quarter's answers: entered, or imported ----

#[derive(Template)]
#[template(path = "survey_answers.html")]
struct AnswersPage {
    l: Layout,
    c: Campaign,
    accounts: Vec<(i64, String)>,
    t: Typed,
    errors: Vec<String>,
    /// A refused workbook's rows: (row, column, value, reason).
    row_errors: Vec<(usize, String, String, String)>,
    import_errors: Vec<String>,
}

impl AnswersPage {
    /// The scores a question's scale offers.
    fn scale(&self, q: &SurveyQuestion) -> Vec<i64> {
        let (lo, hi) = q.range();
        (lo..=hi).collect()
    }
    fn score_field(&self, q: &SurveyQuestion) -> String {
        format!("score_{}", q.key)
    }
    fn qlabel<'a>(&self, q: &'a SurveyQuestion) -> &'a str {
        q.label(self.l.lang.code())
    }
}

fn may_answer(ui: &UiCtx) -> bool {
    ui.ctx.caller.role.edits_accounts() || surveys::manages(&ui.ctx.caller)
}

struct Refused {
    errors: Vec<String>,
    row_errors: Vec<(usize, String, String, String)>,
    import_errors: Vec<String>,
}

async fn answers_view(s: &AppState, ui: &UiCtx, id: &str, t: Typed, refused: Refused, status: StatusCode) -> Response {
    if !may_answer(ui) {
        return fail_page(ui, DomainError::Forbidden);
    }
    let c = match id_of(id) {
        Ok(cid) => match surveys::campaign(&s.app.db, cid).await {
            Ok(c) => c,
            Err(e) => return fail_page(ui, e),
        },
        Err(e) => return fail_page(ui, e),
    };
    let accounts = match super::surveys::key_accounts(s, ui).await {
        Ok(a) => a,
        Err(e) => return fail_page(ui, e),
    };
    let l = Layout::new(ui, "surveys", format!("{} · {}", ui.lang.t("survey.answers_title"), c.quarter));
    let mut r = render(&AnswersPage {
        l,
        c,
        accounts,
        t,
        errors: refused.errors,
        row_errors: refused.row_errors,
        import_errors: refused.import_errors,
    });
    *r.status_mut() = status;
    r
}

fn nothing_refused() -> Refused {
    Refused { errors: vec![], row_errors: vec![], import_errors: vec![] }
}

async fn answers_page(
    State(s): State<AppState>,
    ui: UiCtx,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let p = query_pairs(raw);
    let mut t = Typed::default();
    t.values.insert("account_id".into(), q(&p, "account_id").unwrap_or("").to_string());
    answers_view(&s, &ui, &id, t, nothing_refused(), StatusCode::OK).await
}

async fn answers_save(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let res = async {
        let cid = id_of(&id)?;
        let c = surveys::campaign(&s.app.db, cid).await?;
        let account_id = match form.get("account_id").unwrap_or("").trim().parse::<i64>() {
            Ok(a) => a,
            Err(_) => return Err(DomainError::invalid("account_id", "required")),
        };
        let scores = c
            .questions
            .iter()
            .map(|q| ScoreInput {
                question: q.key.clone(),
                score: form.get(&format!("score_{}", q.key)).and_then(|v| v.trim().parse::<i64>().ok()),
            })
            .collect();
        let opt = |k: &str| form.get(k).map(str::trim).filter(|v| !v.is_empty()).map(String::from);
        let input = ResponseInput {
            account_id,
            department: form.get("department").unwrap_or("").trim().to_string(),
            respondent: opt("respondent"),
            scores,
            comment: opt("comment"),
        };
        surveys::enter(&s.app.db, &ui.ctx, cid, &input).await.map(|_| (cid, c))
    }
    .await;
    match res {
        Ok((cid, _)) => Redirect::to(&with_flash(&format!("/surveys/{cid}/answers"), "saved")).into_response(),
        Err(e @ (DomainError::Invalid(_) | DomainError::Duplicate { .. })) => {
            let status = crate::web::ui::status_and_code(&e).0;
            let l = Layout::new(ui, "surveys", String::new());
            let mut t = Typed::of(&form);
            // The questions' wording names the fields: a failed read is the page's failure.
            let campaign = match id_of(&id) {
                Ok(cid) => match surveys::campaign(&s.app.db, cid).await {
                    Ok(c) => c,
                    Err(e) => return fail_page(ui, e),
                },
                Err(e) => return fail_page(ui, e),
            };
            let label = |field: &str| answer_label(ui, Some(&campaign), field);
            let errors = match &e {
                DomainError::Duplicate { .. } => {
                    vec![format!("{}: {}", ui.lang.t("survey.department"), ui.lang.t("survey.already_answered"))]
                }
                _ => refusal(&l, &e, &label, &mut t),
            };
            answers_view(&s, ui, &id, t, Refused { errors, row_errors: vec![], import_errors: vec![] }, status).await
        }
        Err(e) => fail_page(ui, e),
    }
}

/// A field of the answers by its label: `scores.delivery` is the question's label.
fn answer_label(ui: &UiCtx, c: Option<&Campaign>, field: &str) -> String {
    if let Some(key) = field.strip_prefix("scores.") {
        if let Some(q) = c.and_then(|c| c.questions.iter().find(|q| q.key == key)) {
            return q.label(ui.lang.code()).to_string();
        }
        return key.to_string();
    }
    match field {
        "account_id" => ui.lang.t("survey.account"),
        "department" => ui.lang.t("survey.department"),
        "respondent" => ui.lang.t("field.respondent"),
        "comment" => ui.lang.t("survey.comment"),
        other => other.to_string(),
    }
}

async fn import_upload(State(s): State<AppState>, Path(id): Path<String>, ui: UiCtx, m: Multipart) -> Response {
    let res = async {
        let cid = id_of(&id)?;
        let p = read_multipart(m).await?;
        if !crate::web::auth::same_secret(p.get("_csrf").unwrap_or(""), &ui.csrf) {
            return Err(DomainError::Csrf);
        }
        if p.bytes.is_empty() {
            return Err(DomainError::invalid("file", "required"));
        }
        let c = surveys::campaign(&s.app.db, cid).await?;
        Ok((surveys::import(&s.app.db, &ui.ctx, cid, &p.bytes).await?, c))
    }
    .await;
    match res {
        Ok((r, _)) if !r.refused() => {
            let msg = ui.lang.t("survey.imported").replace("{n}", &r.created.to_string());
            let mut t = Typed::default();
            t.values.insert("imported".into(), msg);
            answers_view(&s, &ui, &id, t, nothing_refused(), StatusCode::OK).await
        }
        Ok((r, c)) => {
            let row_errors = row_errors(&ui, &c, r);
            let refused =
                Refused { errors: vec![], row_errors, import_errors: vec![ui.lang.msg("err", "invalid_input")] };
            answers_view(&s, &ui, &id, Typed::default(), refused, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e @ DomainError::Invalid(_)) => {
            let l = Layout::new(&ui, "surveys", String::new());
            let lines = crate::web::ui::error_lines(&l, &e);
            let refused = Refused { errors: vec![], row_errors: vec![], import_errors: lines };
            answers_view(&s, &ui, &id, Typed::default(), refused, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => fail_page(&ui, e),
    }
}

async fn import_template(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    use axum::http::header;
    if !may_answer(&ui) {
        return fail_page(&ui, DomainError::Forbidden);
    }
    let c = match id_of(&id) {
        Ok(cid) => match surveys::campaign(&s.app.db, cid).await {
            Ok(c) => c,
            Err(e) => return fail_page(&ui, e),
        },
        Err(e) => return fail_page(&ui, e),
    };
    let mut labels =
        vec![ui.lang.t("survey.template_sheet"), ui.lang.t("import.column"), ui.lang.t("survey.template_means")];
    labels.extend(c.departments.iter().map(|d| ui.lang.t(&format!("survey.dept.{d}"))));
    match surveys::import_template(&c, ui.lang.code(), &labels) {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, crate::web::api::contract::XLSX.to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    crate::web::api::attachment(&format!("survey_import_{}.xlsx", c.quarter)),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => fail_page(&ui, e),
    }
}

/// A refused workbook's rows, each column by its label and each reason in words.
fn row_errors(ui: &UiCtx, c: &Campaign, r: Report) -> Vec<(usize, String, String, String)> {
    r.errors
        .into_iter()
        .map(|e| {
            let col = answer_label(ui, Some(c), &format!("scores.{}", e.column));
            let col = match e.column.as_str() {
                "account" => ui.lang.t("survey.account"),
                "department" => ui.lang.t("survey.department"),
                _ => col,
            };
            let reason = match e.code.as_str() {
                "already_answered" => ui.lang.t("survey.already_answered"),
                code => crate::web::ui::import_reason(ui.lang, code),
            };
            (e.row, col, e.value, reason)
        })
        .collect()
}
