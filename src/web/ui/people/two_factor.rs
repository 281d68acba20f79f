//! Two-factor sign-in on the pages: the sign-in's second step (the code, or enrolment where the
//! role requires it, then the recovery codes), the profile's own page (turn on, new recovery
//! codes, turn off) and the administrator's setting of the roles that must use it. Rules stay
//! in `app::people::two_factor`.
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::app::people::two_factor::{self as tf, Enrolment, Stage, TwoFactorSettings, TwoFactorStatus};
use crate::app::{Ctx, Error};
use crate::domain::role::Role;
use crate::domain::DomainError;
use crate::web::auth::{cookie, same_secret, UiCtx, UiForm, SESSION_COOKIE};
use crate::web::i18n::Lang;
use crate::web::ui::forms::with_flash;
use crate::web::ui::{enc, error_lines, error_page, fail_page, render, status_and_code, Layout};
use crate::web::{AppState, RequestId};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login/two-factor", get(code_page).post(code_submit))
        .route("/login/two-factor/enrol", get(enrol_page).post(enrol_submit))
        .route("/login/two-factor/cancel", post(cancel))
        .route("/profile/two-factor", get(profile_page))
        .route("/profile/two-factor/enrol", post(profile_enrol))
        .route("/profile/two-factor/recovery-codes", post(profile_renew))
        .route("/profile/two-factor/disable", post(profile_disable))
        .route("/settings/two-factor", get(settings_page).post(settings_save))
        .route("/admin/users/{username}/two-factor-reset", post(admin_reset))
}

#[derive(Template)]
#[template(path = "two_factor_signin.html")]
struct SignInStep {
    lang: Lang,
    csrf: String,
    next: String,
    error: Option<String>,
    enrol: Option<Enrolment>,
    codes: Option<Vec<String>>,
}

fn fields_of(body: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes(body).unwrap_or_default()
}

fn field(fields: &[(String, String)], k: &str) -> String {
    fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default()
}

fn to_login() -> Response {
    Redirect::to("/login").into_response()
}

fn step_page(p: SignInStep, status: StatusCode) -> Response {
    let mut res = render(&p);
    *res.status_mut() = status;
    res
}

/// The message for a refused code, in the user's language.
fn refusal(lang: Lang, e: &DomainError) -> String {
    match e {
        DomainError::Invalid(fs) => fs.iter().map(|f| lang.msg("invalid", f.code)).collect::<Vec<_>>().join("；"),
        other => lang.msg("err", status_and_code(other).1),
    }
}

async fn code_page(State(s): State<AppState>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let Some(sid) = cookie(&headers, SESSION_COOKIE) else { return to_login() };
    match tf::pending(&s.app, sid).await {
        Ok(Some((c, csrf, Stage::Code))) => {
            let next = super::super::safe_next(super::super::query_get(&raw, "next"));
            let lang = Lang::from_code(&c.locale);
            step_page(SignInStep { lang, csrf, next, error: None, enrol: None, codes: None }, StatusCode::OK)
        }
        Ok(Some((_, _, Stage::Enrol))) => Redirect::to("/login/two-factor/enrol").into_response(),
        Ok(_) => to_login(),
        Err(e) => error_page(Lang::Zh, &e),
    }
}

/// A session waiting at `stage`, for a posted step: its user, CSRF token (checked against the
/// form's), the id, the language and where to go next; else the page to answer with.
struct Waiting<'a> {
    caller: crate::app::Caller,
    csrf: String,
    sid: &'a str,
    lang: Lang,
    next: String,
}

// A page is the natural refusal here.
#[allow(clippy::result_large_err)]
async fn waiting<'a>(
    s: &AppState,
    headers: &'a HeaderMap,
    stage: Stage,
    f: &[(String, String)],
) -> Result<Waiting<'a>, Response> {
    let Some(sid) = cookie(headers, SESSION_COOKIE) else { return Err(to_login()) };
    let (caller, csrf) = match tf::pending(&s.app, sid).await {
        Ok(Some((c, csrf, st))) if st == stage => (c, csrf),
        Ok(_) => return Err(to_login()),
        Err(e) => return Err(error_page(Lang::Zh, &e)),
    };
    let lang = Lang::from_code(&caller.locale);
    if !same_secret(&field(f, "_csrf"), &csrf) {
        return Err(error_page(lang, &DomainError::Csrf));
    }
    Ok(Waiting { caller, csrf, sid, lang, next: super::super::safe_next(Some(field(f, "next"))) })
}

async fn code_submit(
    State(s): State<AppState>,
    headers: HeaderMap,
    axum::Extension(rid): axum::Extension<RequestId>,
    body: axum::body::Bytes,
) -> Response {
    let f = fields_of(&body);
    let Waiting { csrf, sid, lang, next, .. } = match waiting(&s, &headers, Stage::Code, &f).await {
        Ok(w) => w,
        Err(page) => return page,
    };
    match tf::verify(&s.app, sid, &field(&f, "otp"), &rid.0).await {
        Ok(()) => Redirect::to(&next).into_response(),
        Err(e @ (DomainError::Invalid(_) | DomainError::TooManyRequests { .. })) => {
            let status = status_and_code(&e).0;
            let mut res = step_page(
                SignInStep { lang, csrf, next, error: Some(refusal(lang, &e)), enrol: None, codes: None },
                status,
            );
            if let DomainError::TooManyRequests { retry_after_secs } = e {
                if let Ok(v) = retry_after_secs.to_string().parse() {
                    res.headers_mut().insert(header::RETRY_AFTER, v);
                }
            }
            res
        }
        Err(DomainError::Unauthenticated) => to_login(),
        Err(e) => error_page(lang, &e),
    }
}

async fn enrol_page(State(s): State<AppState>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let Some(sid) = cookie(&headers, SESSION_COOKIE) else { return to_login() };
    let (caller, csrf) = match tf::pending(&s.app, sid).await {
        Ok(Some((c, csrf, Stage::Enrol))) => (c, csrf),
        Ok(_) => return to_login(),
        Err(e) => return error_page(Lang::Zh, &e),
    };
    let lang = Lang::from_code(&caller.locale);
    let next = super::super::safe_next(super::super::query_get(&raw, "next"));
    match tf::begin(&s.app.db, &caller).await {
        Ok(e) => step_page(SignInStep { lang, csrf, next, error: None, enrol: Some(e), codes: None }, StatusCode::OK),
        Err(e) => error_page(lang, &e),
    }
}

async fn enrol_submit(
    State(s): State<AppState>,
    headers: HeaderMap,
    axum::Extension(rid): axum::Extension<RequestId>,
    body: axum::body::Bytes,
) -> Response {
    let f = fields_of(&body);
    let Waiting { caller, csrf, sid, lang, next } = match waiting(&s, &headers, Stage::Enrol, &f).await {
        Ok(w) => w,
        Err(page) => return page,
    };
    let ctx = Ctx { caller: caller.clone(), request_id: rid.0.clone() };
    match tf::confirm(&s.app.db, &ctx, &field(&f, "otp"), Some(sid)).await {
        Ok(codes) => {
            step_page(SignInStep { lang, csrf, next, error: None, enrol: None, codes: Some(codes) }, StatusCode::OK)
        }
        Err(e @ DomainError::Invalid(_)) => match tf::begin(&s.app.db, &caller).await {
            Ok(en) => step_page(
                SignInStep { lang, csrf, next, error: Some(refusal(lang, &e)), enrol: Some(en), codes: None },
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            Err(e) => error_page(lang, &e),
        },
        Err(e) => error_page(lang, &e),
    }
}

/// Leaves the second step: the waiting session ends.
async fn cancel(State(s): State<AppState>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let f = fields_of(&body);
    if let Some(sid) = cookie(&headers, SESSION_COOKIE) {
        if let Ok(Some((_, csrf, _))) = tf::pending(&s.app, sid).await {
            if same_secret(&field(&f, "_csrf"), &csrf) {
                let _ = crate::app::people::auth::logout(&s.app, sid).await;
            }
        }
    }
    to_login()
}

#[derive(Template)]
#[template(path = "two_factor_profile.html")]
struct ProfilePage {
    l: Layout,
    st: TwoFactorStatus,
    enabled_at: String,
    enrol: Option<Enrolment>,
    codes: Option<Vec<String>>,
    errors: Vec<String>,
}

async fn profile_view(s: &AppState, ui: &UiCtx, codes: Option<Vec<String>>, err: Option<DomainError>) -> Response {
    let st = match tf::status(&s.app.db, &ui.ctx.caller).await {
        Ok(st) => st,
        Err(e) => return fail_page(ui, e),
    };
    let enrol = if st.enabled {
        None
    } else {
        match tf::begin(&s.app.db, &ui.ctx.caller).await {
            Ok(e) => Some(e),
            Err(e) => return fail_page(ui, e),
        }
    };
    let l = Layout::new(ui, "profile", ui.lang.t("tf.title"));
    let status = err.as_ref().map(|e| status_and_code(e).0);
    let errors = err.map(|e| error_lines(&l, &e)).unwrap_or_default();
    let enabled_at = st.enabled_at.as_deref().map(|t| l.time(t)).unwrap_or_default();
    let mut res = render(&ProfilePage { l, st, enabled_at, enrol, codes, errors });
    if let Some(st) = status {
        *res.status_mut() = st;
    }
    res
}

async fn profile_page(State(s): State<AppState>, ui: UiCtx) -> Response {
    profile_view(&s, &ui, None, None).await
}

async fn profile_enrol(State(s): State<AppState>, form: UiForm) -> Response {
    let ui = &form.ui;
    match tf::confirm(&s.app.db, &ui.ctx, form.get("otp").unwrap_or(""), None).await {
        Ok(codes) => profile_view(&s, ui, Some(codes), None).await,
        Err(e) => profile_view(&s, ui, None, Some(e)).await,
    }
}

async fn profile_renew(State(s): State<AppState>, form: UiForm) -> Response {
    let ui = &form.ui;
    match tf::renew_recovery_codes(&s.app.db, &ui.ctx, form.get("otp").unwrap_or("")).await {
        Ok(codes) => profile_view(&s, ui, Some(codes), None).await,
        Err(e) => profile_view(&s, ui, None, Some(e)).await,
    }
}

async fn profile_disable(State(s): State<AppState>, form: UiForm) -> Response {
    let ui = &form.ui;
    match tf::disable(&s.app.db, &ui.ctx, form.get("otp").unwrap_or("")).await {
        Ok(()) => Redirect::to(&with_flash("/profile/two-factor", "saved")).into_response(),
        Err(e) => profile_view(&s, ui, None, Some(e)).await,
    }
}

#[derive(Template)]
#[template(path = "two_factor_settings.html")]
struct SettingsPage {
    l: Layout,
    p: TwoFactorSettings,
    /// (code, label, ticked)
    roles: Vec<(&'static str, String, bool)>,
    can_edit: bool,
    errors: Vec<String>,
}

async fn settings_view(s: &AppState, ui: &UiCtx, typed: Option<Vec<String>>, err: Option<DomainError>) -> Response {
    let p = match tf::settings(&s.app.db).await {
        Ok(p) => p,
        Err(e) => return fail_page(ui, e),
    };
    let l = Layout::new(ui, "two_factor", ui.lang.t("tf.settings_title"));
    let ticked = typed.unwrap_or_else(|| p.roles.clone());
    let roles =
        Role::ALL.iter().map(|r| (r.code(), l.e("role", r.code()), ticked.iter().any(|t| t == r.code()))).collect();
    let status = err.as_ref().map(|e| status_and_code(e).0);
    let errors = err.map(|e| error_lines(&l, &e)).unwrap_or_default();
    let mut res = render(&SettingsPage { l, p, roles, can_edit: tf::may_edit(ui.ctx.caller.role), errors });
    if let Some(st) = status {
        *res.status_mut() = st;
    }
    res
}

async fn settings_page(State(s): State<AppState>, ui: UiCtx) -> Response {
    settings_view(&s, &ui, None, None).await
}

async fn settings_save(State(s): State<AppState>, form: UiForm) -> Response {
    let ui = &form.ui;
    let roles: Vec<String> = form.fields.iter().filter(|(k, _)| k == "roles").map(|(_, v)| v.clone()).collect();
    let version = form.get("version").and_then(|v| v.trim().parse().ok()).unwrap_or(0);
    let inp = tf::TwoFactorSettingsIn { roles: roles.clone(), version };
    match tf::save_settings(&s.app.db, &ui.ctx, &inp).await {
        Ok(_) => Redirect::to(&with_flash("/settings/two-factor", "saved")).into_response(),
        Err(e @ Error::Forbidden) => fail_page(ui, e),
        Err(e) => settings_view(&s, ui, Some(roles), Some(e)).await,
    }
}

async fn admin_reset(State(s): State<AppState>, Path(username): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    match tf::reset(&s.app.db, &ui.ctx, &username).await {
        Ok(()) => Redirect::to(&format!("/admin/users?{}", enc(&[("flash", "saved")]))).into_response(),
        Err(e) => fail_page(ui, e),
    }
}
