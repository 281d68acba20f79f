//! Contacts: the people of an account's buying committee.
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::app::customers::contacts::{self, ContactView, Filter};
use crate::app::customers::privacy::{self, PersonalData};
use crate::app::spreadsheets::export;
use crate::domain::account::{Attitude, DecisionRole, Gender};
use crate::web::api::contract::{Count, Date, FormatQuery, Id, PageQuery, VersionQuery};
use crate::web::api::{export_response, Api, ApiResult, Body, Op, Params, Query, Typed};
use crate::web::auth::ApiCtx;
use crate::web::AppState;

pub fn routes(api: Api) -> Api {
    api.add(
        Op::get("/api/v1/contacts", "List contacts in scope", "contacts")
            .query::<FilterQuery>()
            .query::<PageQuery>()
            .page::<ContactView>(),
        list,
    )
    .add(
        Op::get("/api/v1/contacts/count", "Count contacts in scope", "contacts")
            .query::<FilterQuery>()
            .ok::<Count>(200),
        count,
    )
    .add(
        Op::get("/api/v1/contacts/export", "Export contacts in scope as CSV or XLSX (?format=xlsx)", "contacts")
            .query::<FilterQuery>()
            .query::<FormatQuery>()
            .download(),
        export_csv,
    )
    .add(Op::get("/api/v1/contacts/{id}", "Get one contact", "contacts").ok::<ContactView>(200), get)
    .add(
        Op::patch("/api/v1/contacts/{id}", "Update a contact (needs its version)", "contacts")
            .body_example::<ContactUpdate>(
                serde_json::json!({"version": 3, "title": "信息中心主任", "relationship": 4}),
            )
            .ok::<ContactView>(200),
        update,
    )
    .add(
        Op::delete("/api/v1/contacts/{id}", "Delete a contact", "contacts").query::<VersionQuery>().no_content(),
        delete,
    )
    .add(
        Op::get(
            "/api/v1/contacts/{id}/personal-data",
            "Everything KAM holds about one contact person, for them (个人信息保护法), as a JSON download",
            "contacts",
        )
        .describe(
            "The contact's fields and account, whom they report to and who reports to them, the activities they took \
             part in, quote versions addressed to them, their suggestions, the service events they were invited to or \
             attended, and the recorded changes of their data. Anyone who sees the contact (else 404); the export is \
             recorded in the audit trail (`personal_data_export`, with the counts, not the data).",
        )
        .ok::<PersonalData>(200),
        personal_data,
    )
    .add(
        Op::post(
            "/api/v1/contacts/{id}/erase",
            "Erase a contact's personal data at the person's request (irreversible; KA manager and above)",
            "contacts",
        )
        .describe(
            "Every personal field is blanked and `erased_at` set; the name becomes a neutral marker and the pages show \
             \"erased contact\". The records naming the contact (activities, quotes, suggestions, service events) \
             stay; the copies of the person's data on them and in earlier audit rows are blanked too. Send the \
             version read (another change since: 409); erased already: 409 `contact_erased`; a role below KA \
             manager: 403.",
        )
        .body_example::<EraseIn>(serde_json::json!({"version": 3}))
        .ok::<ContactView>(200)
        .errors(&[409]),
        erase,
    )
}

/// The version of the contact read, to erase it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EraseIn {
    pub version: i64,
}

/// Which contacts: a search text and/or one account.
#[derive(Deserialize, IntoParams)]
pub struct FilterQuery {
    /// Matches the name, department, title, phone or email.
    #[param(max_length = 200)]
    pub q: Option<String>,
    pub account_id: Option<i64>,
}

/// A contact's fields. On create `name` is required; on update send `version` and only the
/// fields to change (null clears one).
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct ContactUpdate {
    /// The version read (update only).
    pub version: Option<i64>,
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    pub gender: Option<Gender>,
    pub birthday: Option<Date>,
    #[schema(max_length = 100)]
    pub department: Option<String>,
    #[schema(max_length = 100)]
    pub title: Option<String>,
    /// Another contact of the same account; no loops.
    pub reports_to: Option<i64>,
    pub decision_role: Option<DecisionRole>,
    pub attitude: Option<Attitude>,
    #[schema(minimum = 1, maximum = 5)]
    pub relationship: Option<i64>,
    #[schema(max_length = 1000)]
    pub interests: Option<String>,
    #[schema(max_length = 50)]
    pub phone: Option<String>,
    /// Must contain an `@` between two parts.
    #[schema(max_length = 200)]
    pub email: Option<String>,
    pub last_contact_on: Option<Date>,
}

fn filter(f: FilterQuery, cursor: Option<String>, limit: Option<i64>) -> Filter {
    Filter { account_id: f.account_id, q: f.q, cursor, limit }
}

async fn list(
    State(s): State<AppState>,
    c: ApiCtx,
    Query(q): Query<FilterQuery>,
    Query(p): Query<PageQuery>,
) -> ApiResult {
    let f = filter(q, p.cursor, p.limit);
    Ok(Json(contacts::list(&s.app.db, &c.ctx.caller, &f).await?).into_response())
}

async fn count(State(s): State<AppState>, c: ApiCtx, Query(q): Query<FilterQuery>) -> ApiResult {
    let count = contacts::count(&s.app.db, &c.ctx.caller, &filter(q, None, None)).await?;
    Ok(Json(Count { count }).into_response())
}

async fn export_csv(
    State(s): State<AppState>,
    c: ApiCtx,
    Query(q): Query<FilterQuery>,
    Query(f): Query<FormatQuery>,
) -> ApiResult {
    let rows = contacts::export(&s.app.db, &c.ctx.caller, &filter(q, None, None)).await?;
    Ok(export_response(&export::contacts_table(&rows), f.code(), "contacts")?)
}

async fn get(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    Ok(Json(contacts::get(&s.app.db, &c.ctx.caller, id).await?).into_response())
}

async fn update(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>, b: Body<ContactUpdate>) -> ApiResult {
    Ok(Json(contacts::update(&s.app.db, &c.ctx, id, &b.input).await?).into_response())
}

async fn delete(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(Id(id)): Params<Id>,
    Query(q): Query<VersionQuery>,
) -> ApiResult {
    contacts::delete(&s.app.db, &c.ctx, id, q.version).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn personal_data(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    let data = privacy::export(&s.app.db, &c.ctx, id).await?;
    let disposition = format!("attachment; filename=\"contact-{id}-personal-data.json\"");
    Ok(([(axum::http::header::CONTENT_DISPOSITION, disposition)], Json(data)).into_response())
}

async fn erase(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>, b: Typed<EraseIn>) -> ApiResult {
    Ok(Json(privacy::erase(&s.app.db, &c.ctx, id, b.typed.version).await?).into_response())
}
