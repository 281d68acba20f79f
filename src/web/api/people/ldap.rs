//! Directory sign-in through the API (`app::people::ldap`): its state for the administrator and
//! "sync now". Signing in itself is the sign-in page's (API clients use tokens).
use axum::extract::State;
use axum::response::IntoResponse;
use axum::Json;

use crate::app::people::ldap::{self, DirectoryStatus, SyncReport};
use crate::web::api::{Api, ApiResult, Op};
use crate::web::auth::ApiCtx;
use crate::web::AppState;

pub fn routes(api: Api) -> Api {
    api.add(
        Op::get(
            "/api/v1/directory",
            "Directory sign-in (LDAP / Active Directory) as configured, whether the directory answers now, the last sync (administrator)",
            "settings",
        )
        .describe(
            "The settings come from kam.toml or KAM_LDAP_* (the service account's password is never shown); \
             `configured` is false without KAM_LDAP_URL.",
        )
        .ok::<DirectoryStatus>(200),
        status,
    )
    .add(
        Op::post(
            "/api/v1/directory/sync",
            "Look every directory user up now: the disabled and removed deactivated, the others brought up to date (administrator)",
            "settings",
        )
        .describe("Without directory sign-in configured: 409 `directory_not_configured`; the directory unreachable: 409 `directory_unavailable`, nothing changed.")
        .ok::<SyncReport>(200)
        .errors(&[409]),
        sync_now,
    )
}

async fn status(State(s): State<AppState>, c: ApiCtx) -> ApiResult {
    Ok(Json(ldap::status(&s.app.db, s.app.settings.directory.as_deref(), &c.ctx).await?).into_response())
}

async fn sync_now(State(s): State<AppState>, c: ApiCtx) -> ApiResult {
    Ok(Json(ldap::sync_now(&s.app.db, s.app.settings.directory.as_deref(), &c.ctx).await?).into_response())
}
