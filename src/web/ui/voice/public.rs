//! The customer's page of a one-time survey link (`/s/{token}`): no sign-in, no navigation,
//! only the questions. A used, expired or unknown link answers 410 and records nothing; a bad
//! score re-shows the form naming the field (422).
use askama::Template;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};

use crate::app::voice::surveys::{self, LinkState, ScoreInput, SurveyQuestion};
use crate::domain::DomainError;
use crate::web::i18n::Lang;
use crate::web::ui::{error_page, render};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/s/{token}", get(page).post(answer))
}

/// One value of a question's scale.
pub struct Choice {
    pub v: i64,
    pub on: bool,
}

/// Where the request came from (the rate limit's key).
pub struct ClientAddr(Option<std::net::SocketAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(parts.extensions.get::<ConnectInfo<std::net::SocketAddr>>().map(|c| c.0)))
    }
}

/// One question as the form shows it.
pub struct Shown {
    pub key: String,
    pub label: String,
    pub values: Vec<Choice>,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "survey_public.html")]
struct PublicPage {
    lang: Lang,
    quarter: String,
    department: String,
    questions: Vec<Shown>,
    comment: String,
    respondent: String,
    errors: Vec<String>,
    token: String,
}

#[derive(Template)]
#[template(path = "survey_public_done.html")]
struct DonePage {
    lang: Lang,
    gone: bool,
}

fn lang_of(h: &HeaderMap, raw: &Option<String>) -> Lang {
    crate::web::api::query_pairs(raw.clone())
        .iter()
        .find(|(k, _)| k == "lang")
        .map(|(_, v)| Lang::from_code(v))
        .or_else(|| Lang::from_headers(h))
        .unwrap_or(Lang::Zh)
}

fn client_of(h: &HeaderMap, addr: Option<std::net::SocketAddr>) -> String {
    h.get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|v| v.trim().to_string())
        .or_else(|| addr.map(|a| a.ip().to_string()))
        .unwrap_or_else(|| "unknown".into())
}

fn shown(qs: &[SurveyQuestion], lang: Lang, chosen: &[(String, Option<i64>)], errs: &[(String, String)]) -> Vec<Shown> {
    qs.iter()
        .map(|q| {
            let (lo, hi) = q.range();
            Shown {
                key: q.key.clone(),
                label: q.label(lang.code()).to_string(),
                values: (lo..=hi)
                    .map(|v| Choice { v, on: chosen.iter().any(|(k, c)| *k == q.key && *c == Some(v)) })
                    .collect(),
                error: errs.iter().find(|(f, _)| *f == format!("scores.{}", q.key)).map(|(_, m)| m.clone()),
            }
        })
        .collect()
}

fn gone(lang: Lang) -> Response {
    let mut r = render(&DonePage { lang, gone: true });
    *r.status_mut() = StatusCode::GONE;
    r
}

async fn page(
    State(s): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    addr: ClientAddr,
) -> Response {
    let lang = lang_of(&headers, &raw);
    match surveys::open_link(&s.app.db, &client_of(&headers, addr.0), &token).await {
        Ok(LinkState::Open { campaign, department, .. }) => render(&PublicPage {
            lang,
            quarter: campaign.quarter.clone(),
            department: lang.t(&format!("survey.dept.{department}")),
            questions: shown(&campaign.questions, lang, &[], &[]),
            comment: String::new(),
            respondent: String::new(),
            errors: vec![],
            token,
        }),
        Ok(LinkState::Gone) => gone(lang),
        Err(e) => error_page(lang, &e),
    }
}

async fn answer(
    State(s): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    addr: ClientAddr,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let lang = lang_of(&headers, &raw);
    let client = client_of(&headers, addr.0);
    let get =
        |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim().to_string()).filter(|v| !v.is_empty());
    let mut scores = vec![];
    let mut bad_number = vec![];
    for (k, v) in &fields {
        if let Some(q) = k.strip_prefix("score_") {
            let v = v.trim();
            let score = if v.is_empty() {
                None
            } else {
                match v.parse::<i64>() {
                    Ok(n) => Some(n),
                    Err(_) => {
                        bad_number.push(format!("scores.{q}"));
                        None
                    }
                }
            };
            scores.push(ScoreInput { question: q.to_string(), score });
        }
    }
    let comment = get("comment");
    let respondent = get("respondent");
    let result = if bad_number.is_empty() {
        surveys::answer_link(&s.app.db, &client, &token, scores.clone(), comment.clone(), respondent.clone()).await
    } else {
        Err(DomainError::Invalid(
            bad_number.iter().map(|f| crate::domain::error::FieldError::new(f, "not_a_number")).collect(),
        ))
    };
    match result {
        Ok(Some(_)) => render(&DonePage { lang, gone: false }),
        Ok(None) => gone(lang),
        Err(DomainError::Invalid(errs)) => {
            // Show the form again with what was typed, naming each field (the link stays unused).
            let state = surveys::open_link(&s.app.db, &client, &token).await;
            let Ok(LinkState::Open { campaign, department, .. }) = state else { return gone(lang) };
            let named: Vec<(String, String)> =
                errs.iter().map(|e| (e.field.clone(), lang.msg("invalid", e.code))).collect();
            let label_of = |f: &str| {
                f.strip_prefix("scores.")
                    .and_then(|k| campaign.questions.iter().find(|q| q.key == k))
                    .map(|q| q.label(lang.code()).to_string())
                    .unwrap_or_else(|| lang.t(&format!("field.{f}")))
            };
            let chosen: Vec<(String, Option<i64>)> = scores.iter().map(|s| (s.question.clone(), s.score)).collect();
            let mut r = render(&PublicPage {
                lang,
                quarter: campaign.quarter.clone(),
                department: lang.t(&format!("survey.dept.{department}")),
                questions: shown(&campaign.questions, lang, &chosen, &named),
                comment: comment.unwrap_or_default(),
                respondent: respondent.unwrap_or_default(),
                errors: named.iter().map(|(f, m)| format!("{}: {m}", label_of(f))).collect(),
                token,
            });
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            r
        }
        Err(e) => error_page(lang, &e).into_response(),
    }
}
