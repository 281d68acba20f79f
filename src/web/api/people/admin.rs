//! Users, org units and the audit trail.
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use crate::app::customers::handover::HandOver;
use crate::app::people::org::OrgUnit;
use crate::app::people::users::UserView;
use crate::app::records::audit::{AuditEntry, AuditFilter};
use crate::app::{clamp_limit, people::org, people::users, Page};
use crate::domain::role::{OrgKind, Role, SalesType};
use crate::domain::DomainError;
use crate::web::api::contract::parse_query;
use crate::web::api::{Api, ApiResult, Body, Op, Params, Query, Typed};
use crate::web::auth::ApiCtx;
use crate::web::AppState;

pub fn routes(api: Api) -> Api {
    api.add(Op::get("/api/v1/org-units", "The org tree (HQ, regions, branches)", "org").page::<OrgUnit>(), list_org)
        .add(
            Op::post("/api/v1/org-units", "Create an org unit (admin)", "org")
                .body_example::<OrgUnitCreate>(
                    json!({"code": "HD-NJ", "name": "南京分公司", "kind": "branch", "parent": "HD"}),
                )
                .ok::<OrgUnit>(201)
                .errors(&[409]),
            create_org,
        )
        .add(Op::get("/api/v1/org-units/{code}", "One org unit", "org").ok::<OrgUnit>(200), get_org)
        .add(
            Op::patch("/api/v1/org-units/{code}", "Rename an org unit (admin; needs its version)", "org")
                .body_example::<OrgUnitUpdate>(json!({"version": 2, "name": "华东大区"}))
                .ok::<OrgUnit>(200),
            update_org,
        )
        .add(Op::get("/api/v1/users", "All users", "users").page::<UserView>(), list_users)
        .add(
            Op::get("/api/v1/users/search", "Search active users for a picker", "users")
                .describe(
                    "Active users whose username or display name contains `q`, or whose display name in pinyin \
                     does (林涛: `lintao`, initials `lt`), case-insensitive; in pinyin order of their names. \
                     `pool=owners` keeps those who may hold accounts. A field naming a user accepts the \
                     username, the display name when one active user has it, or the `label` shown here.",
                )
                .query::<UserSearchQuery>()
                .page::<crate::app::people::directory::PickedUser>(),
            search_users,
        )
        .add(
            Op::post("/api/v1/users", "Create a user (admin)", "users")
                .body_example::<UserCreate>(json!({"username": "chen.jing", "display_name": "陈静", "role": "ka_rep",
                    "org_unit": "HD-NJ", "manager": "zhao.lei", "sales_type": "ae", "password": "Kam-2026-start"}))
                .ok::<UserView>(201)
                .errors(&[409]),
            create_user,
        )
        .add(Op::get("/api/v1/users/{username}", "One user", "users").ok::<UserView>(200), get_user)
        .add(
            Op::patch(
                "/api/v1/users/{username}",
                "Change a user's role, org, manager (admin; needs their version)",
                "users",
            )
            .body_example::<UserUpdate>(json!({"version": 3, "role": "ka_manager", "org_unit": "HD", "manager": null}))
            .ok::<UserView>(200),
            update_user,
        )
        .add(
            {
                let mut op = Op::post(
                    "/api/v1/users/{username}/deactivate",
                    "Deactivate a user: ends sessions and tokens (admin)",
                    "users",
                )
                .describe(
                    "The body is optional; a user who still holds accounts needs `successor`, who takes everything \
                     over first (422 `successor_required` without one). Deactivating oneself is 409.",
                )
                .body_example::<DeactivateBody>(json!({"successor": "zhao.lei"}))
                .ok::<UserView>(200)
                .errors(&[409]);
                if let Some(b) = op.body.as_mut() {
                    b["required"] = json!(false);
                }
                op
            },
            deactivate,
        )
        .add(
            Op::post(
                "/api/v1/users/{username}/handover",
                "Hand everything a user holds to a successor in one step (admin)",
                "users",
            )
            .body_example::<HandoverBody>(json!({"to": "zhao.lei"}))
            .ok::<HandOver>(200),
            handover,
        )
        .add(
            Op::post("/api/v1/users/{username}/activate", "Reactivate a user (admin)", "users").ok::<UserView>(200),
            activate,
        )
        .add(
            Op::post(
                "/api/v1/users/{username}/password",
                "Set a user's password (admin, or the user themselves with `current_password`); ends the user's other sessions",
                "users",
            )
            .describe("A user who signs in through the company directory has no KAM password: 409 `password_in_directory`.")
            .body::<PasswordBody>()
            .no_content()
            .errors(&[409]),
            set_password,
        )
        .add(
            Op::get("/api/v1/audit", "The audit trail the caller may see", "audit")
                .describe(
                    "Administrators and the general manager see everything; others must name a record in their \
                     scope (`entity` and `id`; 404 otherwise) or see their own acts.",
                )
                .query::<AuditQuery>()
                .page::<AuditEntry>()
                .errors(&[404]),
            list_audit,
        )
}

/// A new org unit: headquarters (no parent), a region (under headquarters) or a branch (under
/// a region).
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct OrgUnitCreate {
    /// Letters, digits, `-` and `_`; unique.
    #[schema(required = true, nullable = false, min_length = 1, max_length = 32, pattern = "^[A-Za-z0-9_-]+$")]
    pub code: Option<String>,
    #[schema(required = true, nullable = false, min_length = 1, max_length = 100)]
    pub name: Option<String>,
    #[schema(required = true, nullable = false)]
    pub kind: Option<OrgKind>,
    /// The parent unit's code.
    pub parent: Option<String>,
}

/// A new name for an org unit (its code and place in the tree are fixed).
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct OrgUnitUpdate {
    /// The version read.
    #[schema(required = true, nullable = false)]
    pub version: Option<i64>,
    #[schema(required = true, nullable = false, min_length = 1, max_length = 100)]
    pub name: Option<String>,
}

/// A new user.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct UserCreate {
    /// Letters, digits, `.`, `-` and `_`; unique.
    #[schema(required = true, nullable = false, min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9._-]+$")]
    pub username: Option<String>,
    /// The username when absent.
    #[schema(max_length = 100)]
    pub display_name: Option<String>,
    #[schema(required = true, nullable = false)]
    pub role: Option<Role>,
    /// An org unit's code.
    #[schema(required = true, nullable = false)]
    pub org_unit: Option<String>,
    /// The manager's username.
    pub manager: Option<String>,
    /// Salespeople: account executive (`ae`) or sales representative (`sr`).
    pub sales_type: Option<SalesType>,
    /// At least 8 characters.
    #[schema(required = true, nullable = false, min_length = 8, max_length = 256)]
    pub password: Option<String>,
}

/// A user's changes: send `version` and only the fields to change (`manager` or `sales_type`
/// null clears it).
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct UserUpdate {
    /// The version read.
    #[schema(required = true, nullable = false)]
    pub version: Option<i64>,
    #[schema(min_length = 1, max_length = 100)]
    pub display_name: Option<String>,
    pub role: Option<Role>,
    /// An org unit's code.
    pub org_unit: Option<String>,
    /// The manager's username, not the user's own.
    pub manager: Option<String>,
    pub sales_type: Option<SalesType>,
    /// An IANA time zone, e.g. `Asia/Shanghai`.
    pub time_zone: Option<String>,
}

/// Optional: who takes over what the user holds.
#[derive(Deserialize, ToSchema, Default)]
pub struct DeactivateBody {
    /// An active user's username.
    pub successor: Option<String>,
}

/// The successor.
#[derive(Deserialize, ToSchema)]
pub struct HandoverBody {
    /// An active user's username.
    #[schema(required = true, nullable = false)]
    pub to: Option<String>,
}

/// A new password.
#[derive(Deserialize, ToSchema)]
pub struct PasswordBody {
    /// At least 8 characters.
    #[schema(required = true, nullable = false, min_length = 8, max_length = 256)]
    pub password: Option<String>,
    /// The caller's password now: required when they set their own (422 `required` or
    /// `wrong_password` on this field); not asked of an administrator resetting someone else's.
    #[schema(nullable = false, max_length = 256)]
    pub current_password: Option<String>,
}

/// Which part of the audit trail.
#[derive(Deserialize, IntoParams, Serialize)]
pub struct AuditQuery {
    /// The kind of record: `account`, `contact`, `user`, `org_unit`, `approval`, …
    pub entity: Option<String>,
    /// The record's id (or username, or code); with `entity`.
    pub id: Option<String>,
    /// Only the acts of this person (username; `system` for the system's own).
    pub actor: Option<String>,
    /// From this day (`YYYY-MM-DD`, in the caller's time zone), inclusive.
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<String>,
    /// To this day (`YYYY-MM-DD`, in the caller's time zone), inclusive; not before `from`.
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<String>,
    /// The previous page's `next_cursor`.
    pub cursor: Option<i64>,
    /// Entries per page, 50 when absent.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

impl AuditQuery {
    fn filter(self) -> Result<AuditFilter, DomainError> {
        let mut e = crate::domain::error::Errors::default();
        let mut day = |field: &'static str, v: Option<String>| match v.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(d) => e.take(field, chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| "date_format")),
        };
        let (from, to) = (day("from", self.from), day("to", self.to));
        e.finish()?;
        Ok(AuditFilter {
            entity: self.entity,
            entity_id: self.id,
            actor: self.actor,
            from,
            to,
            cursor: self.cursor,
            limit: clamp_limit(self.limit)?,
        })
    }
}

/// The audit filter from a query's pairs (the UI's audit page reads the same parameters).
pub fn audit_filter(p: &[(String, String)]) -> Result<AuditFilter, DomainError> {
    let raw = serde_html_form::to_string(p).unwrap_or_default();
    parse_query::<AuditQuery>(&raw)?.filter()
}

/// The org tree and the user directory are not business data, but the API still wants a caller.
async fn list_org(State(s): State<AppState>, _c: ApiCtx) -> ApiResult {
    Ok(Json(Page { items: org::list(&s.app.db).await?, next_cursor: None }).into_response())
}

async fn get_org(State(s): State<AppState>, _c: ApiCtx, Params(code): Params<String>) -> ApiResult {
    Ok(Json(org::get(&s.app.db, &code).await?).into_response())
}

async fn create_org(State(s): State<AppState>, c: ApiCtx, b: Body<OrgUnitCreate>) -> ApiResult {
    Ok((StatusCode::CREATED, Json(org::create(&s.app.db, &c.ctx, &b.input).await?)).into_response())
}

async fn update_org(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(code): Params<String>,
    b: Body<OrgUnitUpdate>,
) -> ApiResult {
    Ok(Json(org::update(&s.app.db, &c.ctx, &code, &b.input).await?).into_response())
}

/// `GET /api/v1/users/search`: what was typed, which users, how many.
#[derive(Deserialize, IntoParams)]
pub struct UserSearchQuery {
    /// Part of a username, a display name, or a display name in pinyin (full or initials).
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// `owners`: only users who may hold accounts; `active` (default): every active user.
    #[param(pattern = "^(active|owners)$")]
    pub pool: Option<String>,
    /// At most this many (1–100, default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

/// The picker's pool of a query's `pool` value.
pub fn pick_pool(v: Option<&str>) -> Result<crate::app::people::directory::Pool, DomainError> {
    use crate::app::people::directory::Pool;
    match v.map(str::trim).filter(|v| !v.is_empty()) {
        None | Some("active") => Ok(Pool::Active),
        Some("owners") => Ok(Pool::Owners),
        Some(_) => Err(DomainError::invalid("pool", "invalid_choice")),
    }
}

async fn search_users(State(s): State<AppState>, c: ApiCtx, Query(q): Query<UserSearchQuery>) -> ApiResult {
    let pool = pick_pool(q.pool.as_deref())?;
    let limit = match q.limit {
        None => 20,
        Some(n) if (1..=100).contains(&n) => n as usize,
        Some(_) => return Err(DomainError::invalid("limit", "out_of_range").into()),
    };
    let items =
        crate::app::people::directory::search_users(&s.app.db, &c.ctx.caller, q.q.as_deref(), pool, limit).await?;
    Ok(Json(Page { items, next_cursor: None }).into_response())
}

async fn list_users(State(s): State<AppState>, _c: ApiCtx) -> ApiResult {
    Ok(Json(Page { items: users::list(&s.app.db).await?, next_cursor: None }).into_response())
}

async fn get_user(State(s): State<AppState>, _c: ApiCtx, Params(u): Params<String>) -> ApiResult {
    Ok(Json(users::get(&s.app.db, &u).await?).into_response())
}

async fn create_user(State(s): State<AppState>, c: ApiCtx, b: Body<UserCreate>) -> ApiResult {
    Ok((StatusCode::CREATED, Json(users::create(&s.app.db, &c.ctx, &b.input).await?)).into_response())
}

async fn update_user(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(u): Params<String>,
    b: Body<UserUpdate>,
) -> ApiResult {
    Ok(Json(users::update(&s.app.db, &c.ctx, &u, &b.input).await?).into_response())
}

async fn deactivate(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(u): Params<String>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult {
    // The body is optional: `{"successor": "…"}` when the user still holds accounts.
    let b = if body.is_empty() {
        DeactivateBody::default()
    } else if !crate::web::auth::is_json(&headers) {
        return Err(DomainError::UnsupportedMediaType.into());
    } else {
        let raw = serde_json::from_slice(&body).map_err(|_| DomainError::invalid("body", "invalid_json"))?;
        Typed::<DeactivateBody>::from_value(raw)?.typed
    };
    Ok(Json(users::set_active_with(&s.app.db, &c.ctx, &u, false, b.successor.as_deref()).await?).into_response())
}

async fn handover(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(u): Params<String>,
    b: Typed<HandoverBody>,
) -> ApiResult {
    let to = b.typed.to.as_deref().unwrap_or("");
    Ok(Json(crate::app::customers::handover::hand_over(&s.app.db, &c.ctx, &u, to).await?).into_response())
}

async fn activate(State(s): State<AppState>, c: ApiCtx, Params(u): Params<String>) -> ApiResult {
    Ok(Json(users::set_active(&s.app.db, &c.ctx, &u, true).await?).into_response())
}

async fn list_audit(State(s): State<AppState>, c: ApiCtx, Query(q): Query<AuditQuery>) -> ApiResult {
    Ok(Json(crate::app::records::history::list(&s.app.db, &c.ctx, &q.filter()?, None).await?).into_response())
}

async fn set_password(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(u): Params<String>,
    headers: axum::http::HeaderMap,
    b: Typed<PasswordBody>,
) -> ApiResult {
    let p = users::NewPassword {
        password: b.typed.password.as_deref().unwrap_or(""),
        current_password: b.typed.current_password.as_deref(),
        password_confirm: None,
    };
    // A session calling for itself stays signed in; every other session of the user ends.
    let keep = crate::web::auth::cookie(&headers, crate::web::auth::SESSION_COOKIE);
    users::set_password(&s.app.db, &c.ctx, &u, p, keep).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
