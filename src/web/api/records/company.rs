//! The company's profile (`app::records::company`): read by anyone signed in (it is printed on
//! documents), written by the administrator.
use axum::extract::State;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::app::records::company::{self, Company, CompanyView};
use crate::web::api::{Api, ApiResult, Op, Typed};
use crate::web::auth::ApiCtx;
use crate::web::AppState;

pub fn routes(api: Api) -> Api {
    api.add(
        Op::get("/api/v1/company", "The company as its documents name it (name, address, phone, fax, website, logo)", "org")
            .ok::<CompanyView>(200),
        get,
    )
    .add(
        Op::put("/api/v1/admin/company", "Save the company's profile (administrator; over its version, 0 before the first save)", "org")
            .describe(
                "`logo`: absent keeps the stored one, an empty string removes it, a `data:image/png;base64,…` URL \
                 (PNG, JPEG, GIF or WebP, at most 200 KB) replaces it.",
            )
            .body_example::<CompanyBody>(json!({"version": 0, "name": "华信精密测量技术有限公司", "address": "北京市海淀区中关村大街 1 号", "phone": "010-8888 6666"}))
            .ok::<CompanyView>(200)
            .errors(&[409]),
        put,
    )
}

/// The profile as saved, with the version it was read at.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompanyBody {
    pub version: i64,
    #[schema(max_length = 100)]
    pub name: String,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub fax: Option<String>,
    #[serde(default)]
    pub website: Option<String>,
    #[serde(default)]
    pub logo: Option<String>,
}

async fn get(State(s): State<AppState>, _c: ApiCtx) -> ApiResult {
    Ok(Json(company::get(&s.app.db).await?).into_response())
}

async fn put(State(s): State<AppState>, c: ApiCtx, b: Typed<CompanyBody>) -> ApiResult {
    let b = b.typed;
    let body =
        Company { name: b.name, address: b.address, phone: b.phone, fax: b.fax, website: b.website, logo: b.logo };
    Ok(Json(company::set(&s.app.db, &c.ctx, &body, b.version).await?).into_response())
}
