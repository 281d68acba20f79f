//! The caller's own profile and API tokens.
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::people::auth::TokenInfo;
use crate::app::people::users::UserView;
use crate::app::{people::auth, people::users};
use crate::web::api::contract::{Id, OnePage};
use crate::web::api::{Api, ApiResult, Op, Params, Typed};
use crate::web::auth::ApiCtx;
use crate::web::AppState;

pub fn routes(api: Api) -> Api {
    api.add(Op::get("/api/v1/me", "Who am I", "me").ok::<Me>(200), me)
        .add(
            Op::get("/api/v1/me/tokens", "My API tokens (never their secrets)", "me").one_page::<TokenInfo>(200),
            tokens,
        )
        .add(
            Op::post("/api/v1/me/tokens", "Create an API token; the secret is shown once", "me")
                .body::<NewToken>()
                .ok::<CreatedToken>(201)
                .errors(&[409]),
            create_token,
        )
        .add(
            Op::put("/api/v1/me/time-zone", "Set my time zone: {time_zone: \"Asia/Shanghai\"}", "me")
                .body::<TimeZoneBody>()
                .no_content(),
            set_time_zone,
        )
        .add(
            Op::put("/api/v1/me/money-unit", "Set my unit for amounts on pages: {money_unit: \"yuan\"|\"wan\"}", "me")
                .describe("Pages show amounts in 元 or 万元; the API always answers in 元 (decimal strings).")
                .body::<MoneyUnitBody>()
                .no_content(),
            set_money_unit,
        )
        .add(Op::delete("/api/v1/me/tokens/{id}", "Revoke one of my API tokens", "me").no_content(), revoke)
}

/// The caller's profile, and whether they see credit information.
#[derive(Serialize, ToSchema)]
pub struct Me {
    #[serde(flatten)]
    pub user: UserView,
    /// Whether the caller's role sees the accounts' credit fields.
    pub sees_credit: bool,
}

/// A new token's name.
#[derive(Deserialize, ToSchema)]
pub struct NewToken {
    /// What the token is for; `api` when absent.
    #[schema(max_length = 100)]
    pub name: Option<String>,
}

/// The new token, with its secret: shown this once, never again.
#[derive(Serialize, ToSchema)]
pub struct CreatedToken {
    pub id: i64,
    pub name: String,
    /// The secret to send as `Authorization: Bearer …`.
    #[schema(pattern = "^kam_")]
    pub token: String,
}

/// The caller's time zone.
#[derive(Deserialize, ToSchema)]
pub struct TimeZoneBody {
    /// An IANA time zone name, e.g. `Asia/Shanghai`.
    #[schema(required = true, nullable = false, min_length = 1, example = "Asia/Shanghai")]
    pub time_zone: Option<String>,
}

/// The caller's unit for amounts on pages.
#[derive(Deserialize, ToSchema)]
pub struct MoneyUnitBody {
    /// `yuan` (元) or `wan` (万元).
    #[schema(required = true, nullable = false, pattern = "^(yuan|wan)$", example = "wan")]
    pub money_unit: Option<String>,
}

async fn set_money_unit(State(s): State<AppState>, c: ApiCtx, b: Typed<MoneyUnitBody>) -> ApiResult {
    users::set_money_unit(&s.app.db, &c.ctx, b.typed.money_unit.as_deref().unwrap_or("")).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn me(State(s): State<AppState>, c: ApiCtx) -> ApiResult {
    let user = users::get(&s.app.db, &c.ctx.caller.username).await?;
    Ok(Json(Me { user, sees_credit: c.ctx.caller.sees_credit() }).into_response())
}

async fn tokens(State(s): State<AppState>, c: ApiCtx) -> ApiResult {
    let items = auth::list_tokens(&s.app.db, &c.ctx.caller).await?;
    Ok(OnePage::of(items).into_response())
}

async fn create_token(State(s): State<AppState>, c: ApiCtx, b: Typed<NewToken>) -> ApiResult {
    let name = b.typed.name.as_deref().unwrap_or("api");
    let (id, token) = auth::create_token(&s.app.db, &c.ctx, &c.ctx.caller.username, name).await?;
    Ok((StatusCode::CREATED, Json(CreatedToken { id, name: name.to_string(), token })).into_response())
}

async fn revoke(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    auth::revoke_token(&s.app.db, &c.ctx, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn set_time_zone(State(s): State<AppState>, c: ApiCtx, b: Typed<TimeZoneBody>) -> ApiResult {
    users::set_time_zone(&s.app.db, &c.ctx, b.typed.time_zone.as_deref().unwrap_or("")).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
