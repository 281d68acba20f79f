//! Two-factor sign-in through the API (`app::people::two_factor`): the company's setting of the
//! roles that must use it, a user's own state, enrolment (the secret and its QR code, confirmed
//! by the first code, which gives the recovery codes), new recovery codes, turning it off, and
//! the administrator's reset. The code at sign-in belongs to the sign-in pages; API tokens are
//! their own credential and never ask for a code.
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;

use crate::app::people::two_factor::{
    self as tf, CodeIn, Enrolment, RecoveryCodes, TwoFactorSettings, TwoFactorSettingsIn, TwoFactorStatus,
};
use crate::web::api::{Api, ApiResult, Op, Params, Typed};
use crate::web::auth::ApiCtx;
use crate::web::AppState;

pub fn routes(api: Api) -> Api {
    api.add(
        Op::get(
            "/api/v1/settings/two-factor",
            "The roles that must use two-factor sign-in (none by default: the company's choice), with the setting's version",
            "settings",
        )
        .ok::<TwoFactorSettings>(200),
        get_settings,
    )
    .add(
        Op::put("/api/v1/settings/two-factor", "Replace the roles that must use two-factor sign-in (administrator)", "settings")
            .describe(
                "Role codes as in /api/v1/users (`director`, `ka_manager`, `finance_manager`, …); an unknown one: 422 \
                 naming `roles`; the version read, one saved since: 409. A user of a newly required role sets it \
                 up at their next sign-in in the browser; API tokens are unaffected.",
            )
            .body_example::<TwoFactorSettingsIn>(json!({"roles": ["director", "finance_manager"], "version": 0}))
            .ok::<TwoFactorSettings>(200)
            .errors(&[409]),
        put_settings,
    )
    .add(
        Op::get("/api/v1/me/two-factor", "My two-factor sign-in: on or off, required for my role, recovery codes left", "me")
            .ok::<TwoFactorStatus>(200),
        my_status,
    )
    .add(
        Op::post(
            "/api/v1/me/two-factor/enrolment",
            "Start setting up two-factor sign-in: a new secret, its otpauth:// address and QR code (SVG)",
            "me",
        )
        .describe(
            "Asked again before it is confirmed, the same secret is given. Nothing changes for sign-in until \
             POST /api/v1/me/two-factor/confirm with the first code. On already: 409 `two_factor_enabled`.",
        )
        .ok::<Enrolment>(200)
        .errors(&[409]),
        enrol,
    )
    .add(
        Op::post(
            "/api/v1/me/two-factor/confirm",
            "Turn two-factor sign-in on with the first code the authenticator shows; answers the ten recovery codes (shown once)",
            "me",
        )
        .describe("A wrong or used code, or no enrolment started: 422 naming `otp`.")
        .body_example::<CodeIn>(json!({"otp": "123456"}))
        .ok::<RecoveryCodes>(200),
        confirm,
    )
    .add(
        Op::post(
            "/api/v1/me/two-factor/recovery-codes",
            "New recovery codes after a current code; the old ones stop working",
            "me",
        )
        .describe("A wrong or used code, or two-factor off: 422 naming `otp`.")
        .body_example::<CodeIn>(json!({"otp": "123456"}))
        .ok::<RecoveryCodes>(200),
        renew,
    )
    .add(
        Op::post("/api/v1/me/two-factor/disable", "Turn two-factor sign-in off after a current code", "me")
            .describe(
                "A wrong or used code: 422 naming `otp`; a role that must use it (the company's setting): 422 \
                 `two_factor_required`.",
            )
            .body_example::<CodeIn>(json!({"otp": "123456"}))
            .no_content(),
        disable,
    )
    .add(
        Op::post(
            "/api/v1/users/{username}/two-factor/reset",
            "Clear a user's two-factor sign-in (administrator; a lost phone): their sessions end",
            "users",
        )
        .no_content(),
        reset,
    )
}

async fn get_settings(State(s): State<AppState>, _c: ApiCtx) -> ApiResult {
    Ok(Json(tf::settings(&s.app.db).await?).into_response())
}

async fn put_settings(State(s): State<AppState>, c: ApiCtx, b: Typed<TwoFactorSettingsIn>) -> ApiResult {
    Ok(Json(tf::save_settings(&s.app.db, &c.ctx, &b.typed).await?).into_response())
}

async fn my_status(State(s): State<AppState>, c: ApiCtx) -> ApiResult {
    Ok(Json(tf::status(&s.app.db, &c.ctx.caller).await?).into_response())
}

async fn reset(State(s): State<AppState>, c: ApiCtx, Params(u): Params<String>) -> ApiResult {
    tf::reset(&s.app.db, &c.ctx, &u).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn enrol(State(s): State<AppState>, c: ApiCtx) -> ApiResult {
    Ok(Json(tf::begin(&s.app.db, &c.ctx.caller).await?).into_response())
}

async fn confirm(State(s): State<AppState>, c: ApiCtx, b: Typed<CodeIn>) -> ApiResult {
    let recovery_codes = tf::confirm(&s.app.db, &c.ctx, &b.typed.otp, None).await?;
    Ok(Json(RecoveryCodes { recovery_codes }).into_response())
}

async fn renew(State(s): State<AppState>, c: ApiCtx, b: Typed<CodeIn>) -> ApiResult {
    let recovery_codes = tf::renew_recovery_codes(&s.app.db, &c.ctx, &b.typed.otp).await?;
    Ok(Json(RecoveryCodes { recovery_codes }).into_response())
}

async fn disable(State(s): State<AppState>, c: ApiCtx, b: Typed<CodeIn>) -> ApiResult {
    tf::disable(&s.app.db, &c.ctx, &b.typed.otp).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
