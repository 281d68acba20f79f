//! How long check-in locations and photos are kept (`app::visits::retention`): the company's
//! setting, read and replaced.
use axum::extract::State;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;

use crate::app::visits::retention::{self as rt, RetentionSettings, RetentionSettingsIn};
use crate::web::api::{Api, ApiResult, Op, Typed};
use crate::web::auth::ApiCtx;
use crate::web::AppState;

pub fn routes(api: Api) -> Api {
    api.add(
        Op::get(
            "/api/v1/settings/check-in-retention",
            "How many days visits' check-in locations and photos are kept (365 by default: the company's choice), with the setting's version",
            "settings",
        )
        .ok::<RetentionSettings>(200),
        get_settings,
    )
    .add(
        Op::put(
            "/api/v1/settings/check-in-retention",
            "Replace the retention period of check-in locations and photos (administrator)",
            "settings",
        )
        .describe(
            "1 to 3650 days (else 422 naming `days`); the version read, one saved since: 409. Once a day the \
             locations taken and photos uploaded longer ago are deleted; the visits stay, checked in.",
        )
        .body_example::<RetentionSettingsIn>(json!({"days": 180, "version": 0}))
        .ok::<RetentionSettings>(200)
        .errors(&[409]),
        put_settings,
    )
}

async fn get_settings(State(s): State<AppState>, _c: ApiCtx) -> ApiResult {
    Ok(Json(rt::settings(&s.app.db).await?).into_response())
}

async fn put_settings(State(s): State<AppState>, c: ApiCtx, b: Typed<RetentionSettingsIn>) -> ApiResult {
    Ok(Json(rt::save_settings(&s.app.db, &c.ctx, &b.typed).await?).into_response())
}
