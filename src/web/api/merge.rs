//! Merging a duplicate account into the one kept.
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::Json;
use serde_json::Value;

use super::{fail, id_of, route, Api, ApiResult};
use crate::app::merge;
use crate::domain::DomainError;
use crate::web::auth::{ApiCtx, JsonBody};
use crate::web::AppState;

pub fn routes(api: Api) -> Api {
    route!(api, POST "/api/v1/accounts/{id}/merge",
        "Merge a duplicate into this account (managers): body {duplicate_id, version, duplicate_version}; contacts, documents and team move, the duplicate is removed",
        "accounts", [], true, merge_into)
}

/// An optional integer field of the body; anything but a number or null is a field error.
fn int(body: &Value, k: &str) -> Result<Option<i64>, DomainError> {
    match body.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_i64().map(Some).ok_or_else(|| DomainError::invalid(k, "expected_integer")),
    }
}

async fn merge_into(
    State(s): State<AppState>,
    c: ApiCtx,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let res = async {
        let id = id_of(&id)?;
        if !body.is_object() {
            return Err(DomainError::invalid("body", "expected_object"));
        }
        let dup = int(&body, "duplicate_id")?.ok_or_else(|| DomainError::invalid("duplicate_id", "required"))?;
        let (version, dup_version) = (int(&body, "version")?, int(&body, "duplicate_version")?);
        merge::merge(&s.app.db, &c.ctx, id, dup, version, dup_version).await
    }
    .await;
    Ok(Json(res.map_err(fail(c.lang))?).into_response())
}
