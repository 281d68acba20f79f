//! Merging a duplicate account into the one kept.
use axum::extract::State;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::app::customers::accounts::AccountView;
use crate::app::customers::merge;
use crate::domain::DomainError;
use crate::web::api::contract::Id;
use crate::web::api::{Api, ApiResult, Op, Params, Typed};
use crate::web::auth::ApiCtx;
use crate::web::AppState;

pub fn routes(api: Api) -> Api {
    api.add(
        Op::post(
            "/api/v1/accounts/{id}/merge",
            "Merge a duplicate into this account (managers): body {duplicate_id, version, duplicate_version}; contacts, documents and team move, the duplicate is removed",
            "accounts",
        )
        .describe(
            "Answers the account kept, as it is after the merge. The versions are the ones the caller read; \
             a changed account is 409 `stale_version` and nothing moves. 409 also when the two cannot be merged \
             (the same account, for instance).",
        )
        .body::<MergeBody>()
        .ok::<AccountView>(200)
        .errors(&[409]),
        merge_into,
    )
}

/// Which account to merge into this one, and the versions the caller read.
#[derive(Deserialize, ToSchema)]
pub struct MergeBody {
    /// The duplicate: it is removed, and its contacts, documents and team move to this account.
    #[schema(required = true, nullable = false)]
    pub duplicate_id: Option<i64>,
    /// The version of this account (the one kept) the caller read.
    pub version: Option<i64>,
    /// The version of the duplicate the caller read.
    pub duplicate_version: Option<i64>,
}

async fn merge_into(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(Id(id)): Params<Id>,
    b: Typed<MergeBody>,
) -> ApiResult {
    let dup = b.typed.duplicate_id.ok_or_else(|| DomainError::invalid("duplicate_id", "required"))?;
    let v = merge::merge(&s.app.db, &c.ctx, id, dup, b.typed.version, b.typed.duplicate_version).await?;
    Ok(Json(v).into_response())
}
