//! `/api/v1/activities`, visit plans, the week calendar, visit statistics, follow-ups, the
//! development record and the activity targets.
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::handler::Handler;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};

use crate::app::visits::activities::{
    self as acts, ActivityView, Calendar, Development, FollowUp, Progress, VisitPlan, VisitStats,
};
use crate::domain::account::Attitude;
use crate::domain::activity::{CustomerAttitude, Kind, Outcome, Status, Targets};
use crate::domain::DomainError;
use crate::web::api::contract::{report, Date, Id, PageQuery, ReportFormatQuery, VersionQuery};
use crate::web::api::{Api, ApiResult, Body, Op, Params, Query, Typed};
use crate::web::auth::{ApiCtx, JsonBody};
use crate::web::error::ApiError;
use crate::web::AppState;

pub fn routes(api: Api) -> Api {
    let mut photo_op = Op::get(
        "/api/v1/activities/{id}/photo",
        "The photo taken at a visit (to whoever sees the visit; 404 when none)",
        "activities",
    );
    photo_op.ok.push((
        200,
        json!({"description": "The image's bytes, typed as sniffed (image/jpeg, image/png, image/webp or image/heif)",
            "content": {"image/*": {"schema": {"type": "string", "format": "binary"}}}}),
    ));
    api.add(
        Op::get("/api/v1/activities", "List activities in scope, newest first", "activities")
            .query::<ListQuery>()
            .query::<PageQuery>()
            .page::<ActivityView>(),
        list,
    )
    .add(
        Op::post(
            "/api/v1/activities",
            "Record (status done) or plan (status planned) an activity; contacts: [{contact_id, attitude}]",
            "activities",
        )
        .describe(
            "An activity is recorded for the caller. A done visit is effective when it found or advanced an \
             opportunity (`opportunity_id` of the same account) or solved a problem the record names (`problems`). \
             An account or opportunity the caller does not see is 404.",
        )
        .body_example::<ActivityInput>(json!({
            "account_id": 1024, "opportunity_id": 311, "kind": "visit", "status": "done",
            "occurred_at": "2026-11-20T14:30:00+08:00", "ends_at": "2026-11-20T16:00:00+08:00",
            "place": "北京中科测控有限公司 三楼会议室", "participants": "王志远（设备部部长）、李娜（采购经理）",
            "objective": "确认二期产线扩能的检测设备需求", "talking_points": "演示新款在线检测系统，讨论交付周期",
            "customer_views": "认可方案，关注售后响应时间", "next_steps": "12月5日前提交正式报价",
            "summary": "客户确认二期需求，预算已列入明年一季度", "outcome": "opportunity_advanced",
            "customer_attitude": "warm", "purpose": "technical_exchange",
            "contacts": [{"contact_id": 2048, "attitude": "supporter"}, {"contact_id": 2049, "attitude": "neutral"}],
            "check_in": {"latitude": 39.983124, "longitude": 116.307921, "accuracy_m": 18, "at": "2026-11-20T14:28:41+08:00"}
        }))
        .ok_example::<ActivityView>(201, activity_example())
        .errors(&[404]),
        create,
    )
    .add(
        Op::get(
            "/api/v1/activities/calendar",
            "The week calendar of a person or (team=1) of everyone the caller follows",
            "activities",
        )
        .query::<CalendarQuery>()
        .ok::<Calendar>(200)
        .errors(&[404]),
        calendar,
    )
    .add(
        Op::get("/api/v1/activities/{id}", "Get one activity with the contacts met", "activities").ok::<ActivityView>(200),
        get,
    )
    .add(
        Op::patch(
            "/api/v1/activities/{id}",
            "Change an activity (needs its version); contacts replace the list when given",
            "activities",
        )
        .body_example::<ActivityInput>(json!({
            "version": 1, "status": "done", "occurred_at": "2026-11-27T10:00:00+08:00",
            "summary": "样机演示完成，客户同意进入商务谈判", "outcome": "opportunity_advanced", "opportunity_id": 311
        }))
        .ok::<ActivityView>(200),
        update,
    )
    .add(
        Op::delete("/api/v1/activities/{id}", "Delete an activity", "activities").query::<VersionQuery>().no_content(),
        delete,
    )
    .add(
        photo_body(Op::post(
            "/api/v1/activities/{id}/photo",
            "Attach the photo taken at a visit (multipart/form-data: photo); once, by the visit's owner, to a done visit or meeting",
            "activities",
        ))
        .ok::<ActivityView>(200),
        upload_photo.layer(DefaultBodyLimit::max(acts::PHOTO_MAX_BYTES + 64 * 1024)),
    )
    .add(photo_op, photo)
    .add(
        Op::get(
            "/api/v1/reports/visits",
            "Effective visits and calls per person, team and region, by day, against targets (?week=Monday)",
            "reports",
        )
        .query::<WeekQuery>()
        .query::<ReportFormatQuery>()
        .report::<VisitStats>(),
        stats,
    )
    .add(
        Op::get("/api/v1/visit-plans", "One person's weekly visit plan", "activities")
            .query::<PlanQuery>()
            .ok_example::<VisitPlan>(200, plan_example())
            .errors(&[404]),
        plan,
    )
    .add(
        Op::get("/api/v1/visit-plans/team", "The plans of everyone the caller follows, side by side", "activities")
            .query::<WeekQuery>()
            .ok::<PlanList>(200),
        team_plans,
    )
    .add(
        Op::post("/api/v1/visit-plans/submit", "Submit the caller's plan for a week: {week, note}", "activities")
            .body_example::<PlanSubmit>(json!({"week": "2026-11-30", "note": "重点推进北京中科测控二期扩能项目，周三拜访设备部"}))
            .ok_example::<VisitPlan>(200, plan_example()),
        submit_plan,
    )
    .add(
        Op::get("/api/v1/follow-ups", "Visits waiting for their follow-up contact (due and overdue)", "activities")
            .query::<OwnerQuery>()
            .ok::<FollowUpList>(200)
            .errors(&[404]),
        follow_ups,
    )
    .add(
        Op::get("/api/v1/me/visits", "The caller's visit progress today and this week against targets", "me")
            .ok::<VisitProgress>(200),
        progress,
    )
    .add(
        Op::get(
            "/api/v1/accounts/{id}/development",
            "The account's development record, from its activities",
            "activities",
        )
        .ok::<Development>(200),
        development,
    )
    .add(
        Op::get("/api/v1/activity-targets", "Visit and call targets per sales type", "activities").ok::<TargetsList>(200),
        targets,
    )
    .add(
        Op::put(
            "/api/v1/activity-targets/{sales_type}",
            "Set the targets of a sales type (ae / sr): {weekly_effective, daily_effective, daily_calls, follow_up_days}",
            "activities",
        )
        .body_example::<TargetsUpdate>(json!({"weekly_effective": 12, "daily_effective": 3}))
        .ok::<Targets>(200),
        set_targets,
    )
}

/// The photo upload as the operation's body.
fn photo_body(mut op: Op) -> Op {
    op.body = Some(json!({"required": true, "content": {"multipart/form-data": {"schema": {
        "type": "object",
        "required": ["photo"],
        "properties": {
            "photo": {"type": "string", "format": "binary", "description": format!(
                "A JPEG, PNG, WebP or HEIC image (by its bytes), at most {} bytes", acts::PHOTO_MAX_BYTES)}
        }
    }}}}));
    op
}

/// A visit form or photo upload sent as multipart/form-data: its text fields, and the bytes
/// of the `photo` part (None when no file was chosen).
pub struct PhotoParts {
    pub fields: Vec<(String, String)>,
    pub photo: Option<Vec<u8>>,
}

pub async fn read_photo_multipart(mut m: Multipart) -> Result<PhotoParts, DomainError> {
    let mut p = PhotoParts { fields: vec![], photo: None };
    let too_large = |e: &axum::extract::multipart::MultipartError| e.status() == StatusCode::PAYLOAD_TOO_LARGE;
    loop {
        let field = match m.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if too_large(&e) => return Err(DomainError::PayloadTooLarge),
            Err(_) => return Err(DomainError::invalid("photo", "invalid_form")),
        };
        let name = field.name().unwrap_or("").to_string();
        if name == "photo" {
            let chosen = field.file_name().is_some_and(|n| !n.is_empty());
            let bytes = match field.bytes().await {
                Ok(b) => b.to_vec(),
                Err(e) if too_large(&e) => return Err(DomainError::PayloadTooLarge),
                Err(_) => return Err(DomainError::invalid("photo", "invalid_form")),
            };
            // A form without a file chosen still sends the part, empty and unnamed.
            if chosen || !bytes.is_empty() {
                p.photo = Some(bytes);
            }
        } else {
            let v = field.text().await.map_err(|_| DomainError::invalid(&name, "invalid_form"))?;
            p.fields.push((name, v));
        }
    }
    Ok(p)
}

/// Which activities.
#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    /// The owner's username.
    #[param(max_length = 100)]
    owner: Option<String>,
    account_id: Option<i64>,
    opportunity_id: Option<i64>,
    #[param(inline)]
    kind: Option<Kind>,
    #[param(inline)]
    status: Option<Status>,
    /// `1` or `true`: effective visits only; `0` or `false`: the others.
    #[param(pattern = "^(0|1|true|false)$")]
    effective: Option<String>,
    /// `1` or `true`: checked-in visits only (签到); `0` or `false`: those not checked in.
    #[param(pattern = "^(0|1|true|false)$")]
    checked_in: Option<String>,
    /// From this local day (inclusive), `YYYY-MM-DD`.
    #[param(format = Date)]
    from: Option<String>,
    /// To this local day (inclusive), `YYYY-MM-DD`.
    #[param(format = Date)]
    to: Option<String>,
}

/// `?week=`: any day of the week (its Monday is taken); this week when absent.
#[derive(Deserialize, IntoParams)]
pub struct WeekQuery {
    /// A day of the week, `YYYY-MM-DD`; this week when absent.
    #[param(format = Date)]
    week: Option<String>,
}

/// Whose plan and which week.
#[derive(Deserialize, IntoParams)]
pub struct PlanQuery {
    /// A username among the people the caller follows; the caller when absent.
    #[param(max_length = 100)]
    owner: Option<String>,
    /// A day of the week, `YYYY-MM-DD`; this week when absent.
    #[param(format = Date)]
    week: Option<String>,
}

/// Whose calendar and which week.
#[derive(Deserialize, IntoParams)]
pub struct CalendarQuery {
    /// A username among the people the caller follows; the caller when absent.
    #[param(max_length = 100)]
    owner: Option<String>,
    /// `1` or `true`: everyone the caller follows (then `owner` is ignored).
    team: Option<String>,
    /// A day of the week, `YYYY-MM-DD`; this week when absent.
    #[param(format = Date)]
    week: Option<String>,
}

/// `?owner=`: whose follow-ups.
#[derive(Deserialize, IntoParams)]
pub struct OwnerQuery {
    /// A username among the people the caller follows; the caller when absent.
    #[param(max_length = 100)]
    owner: Option<String>,
}

/// A contact met, and the attitude noted (it becomes the contact's when it differs).
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct MetContact {
    /// A contact of the activity's account.
    contact_id: i64,
    #[schema(value_type = Option<Attitude>)]
    attitude: Option<String>,
}

/// An activity's fields. On create `account_id` and `kind` are required (and `planned_at` for
/// a planned one); on update send `version` and only the fields to change (null clears one).
/// Times are RFC 3339, or a local date-time without offset (`2026-11-23T14:30`) read in the
/// owner's time zone.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct ActivityInput {
    /// The version read (update only; refused on create).
    version: Option<i64>,
    /// The account (create only).
    account_id: Option<i64>,
    /// An opportunity of the same account.
    opportunity_id: Option<i64>,
    #[schema(value_type = Option<Kind>)]
    kind: Option<String>,
    /// `done` (the default) or `planned`.
    #[schema(inline, value_type = Option<Status>)]
    status: Option<String>,
    /// Required for a planned activity.
    #[schema(examples("2026-11-27T10:00:00+08:00"))]
    planned_at: Option<String>,
    /// When it happened (done); now when absent. Not in the future.
    #[schema(examples("2026-11-20T14:30:00+08:00"))]
    occurred_at: Option<String>,
    /// After the start, at most 24 hours later.
    ends_at: Option<String>,
    #[schema(max_length = 200)]
    place: Option<String>,
    #[schema(max_length = 500)]
    participants: Option<String>,
    #[schema(max_length = 1000)]
    objective: Option<String>,
    #[schema(max_length = 1000)]
    materials: Option<String>,
    #[schema(max_length = 4000)]
    talking_points: Option<String>,
    #[schema(max_length = 4000)]
    customer_views: Option<String>,
    /// The problem solved (required with outcome `problem_solved`).
    #[schema(max_length = 4000)]
    problems: Option<String>,
    #[schema(max_length = 2000)]
    next_steps: Option<String>,
    #[schema(max_length = 4000)]
    summary: Option<String>,
    /// `opportunity_found` / `opportunity_advanced` need `opportunity_id`.
    #[schema(value_type = Option<Outcome>)]
    outcome: Option<String>,
    #[schema(value_type = Option<CustomerAttitude>)]
    customer_attitude: Option<String>,
    /// What it was for, as the service standards count it; null: a working contact.
    #[schema(pattern = "^(executive_visit|technical_exchange)$")]
    purpose: Option<String>,
    /// The contacts met (replace the list on update; null clears it).
    contacts: Option<Vec<MetContact>>,
    /// Check-in (签到): the location the visitor's device gave. Only on a done visit or meeting,
    /// by its owner, when it is recorded (create) or when a planned one is completed (update
    /// setting status done); never changed afterwards.
    check_in: Option<CheckInInput>,
}

/// A check-in's location, as the browser's Geolocation API gives it.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct CheckInInput {
    /// Degrees north (WGS 84).
    #[schema(minimum = -90, maximum = 90, examples(39.904211))]
    latitude: f64,
    /// Degrees east (WGS 84).
    #[schema(minimum = -180, maximum = 180, examples(116.407395))]
    longitude: f64,
    /// The fix's accuracy in metres.
    #[schema(minimum = 0, examples(25))]
    accuracy_m: Option<f64>,
    /// When the fix was taken (RFC 3339); now when absent. Not in the future.
    #[schema(format = DateTime)]
    at: Option<String>,
}

/// A body with a `contacts` list beside the record's scalar fields: the list is taken out
/// (codes `expected_contact_list`, …, as before), the rest read as [`Body`].
struct ActivityBody {
    body: Body<ActivityInput>,
    contacts: Option<acts::MetInput>,
}

/// The `check_in` object of a body, taken out and flattened into `check_in.*` input fields
/// (the names the use case and the form share).
fn take_check_in(body: &mut Value) -> Result<Vec<(String, Option<String>, bool)>, DomainError> {
    let Some(obj) = body.as_object_mut() else { return Ok(vec![]) };
    let v = match obj.remove("check_in") {
        None | Some(Value::Null) => return Ok(vec![]),
        Some(Value::Object(o)) => o,
        Some(_) => return Err(DomainError::invalid("check_in", "expected_object")),
    };
    let mut e = crate::domain::error::Errors::default();
    let mut out = vec![];
    for (k, x) in v {
        let key = format!("check_in.{k}");
        if !acts::CHECK_IN_FIELDS.contains(&key.as_str()) {
            e.add(&key, "unknown_field");
            continue;
        }
        match (k.as_str(), x) {
            (_, Value::Null) => out.push((key, None, false)),
            ("at", Value::String(t)) => out.push((key, Some(t), false)),
            ("at", _) => e.add(&key, "expected_string"),
            (_, Value::Number(n)) => out.push((key, Some(n.to_string()), true)),
            _ => e.add(&key, "expected_number"),
        }
    }
    e.finish()?;
    Ok(out)
}

impl FromRequest<AppState> for ActivityBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, s: &AppState) -> Result<Self, Self::Rejection> {
        let JsonBody(mut v) = JsonBody::from_request(req, s).await?;
        if !v.is_object() {
            return Err(DomainError::invalid("body", "expected_object").into());
        }
        let contacts = take_contacts(&mut v)?;
        let check_in = take_check_in(&mut v)?;
        let mut body = Body::<ActivityInput>::from_value(v)?;
        for (k, v, number) in check_in {
            body.input.insert(&k, v, number);
        }
        Ok(ActivityBody { body, contacts })
    }
}

/// The `contacts` array of a body, taken out (the rest are the record's scalar fields):
/// `[{"contact_id": 1, "attitude": "supporter"}, …]`.
fn take_contacts(body: &mut Value) -> Result<Option<acts::MetInput>, DomainError> {
    let Some(obj) = body.as_object_mut() else { return Ok(None) };
    let Some(v) = obj.remove("contacts") else { return Ok(None) };
    let bad = || DomainError::invalid("contacts", "expected_contact_list");
    let arr = match v {
        Value::Null => return Ok(Some(vec![])),
        Value::Array(a) => a,
        _ => return Err(bad()),
    };
    arr.iter()
        .map(|c| {
            let id = c.get("contact_id").and_then(Value::as_i64).ok_or_else(bad)?;
            let att = match c.get("attitude") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(_) => return Err(bad()),
            };
            Ok((id, att))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// `{week, note}`: submit a week's plan.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct PlanSubmit {
    /// A day of the week; this week when absent. The week must hold a planned visit.
    week: Option<Date>,
    #[schema(max_length = 2000)]
    note: Option<String>,
}

/// The targets to change (the others stay).
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct TargetsUpdate {
    /// Effective visits a week (outside sales); not below `daily_effective`.
    #[schema(minimum = 1, maximum = 100)]
    weekly_effective: Option<i64>,
    /// Effective visits a working day.
    #[schema(minimum = 1, maximum = 20)]
    daily_effective: Option<i64>,
    /// Calls a working day (inside sales).
    #[schema(minimum = 1, maximum = 500)]
    daily_calls: Option<i64>,
    /// Days after a visit to a key account by which a follow-up contact is due.
    #[schema(minimum = 1, maximum = 90)]
    follow_up_days: Option<i64>,
}

/// The plans of the people the caller follows.
#[derive(Serialize, ToSchema)]
pub struct PlanList {
    items: Vec<VisitPlan>,
}

/// Open follow-ups, oldest due first (at most 200).
#[derive(Serialize, ToSchema)]
pub struct FollowUpList {
    items: Vec<FollowUp>,
}

/// The caller's progress and open follow-ups.
#[derive(Serialize, ToSchema)]
pub struct VisitProgress {
    progress: Progress,
    follow_ups: Vec<FollowUp>,
}

/// One sales type's targets.
#[derive(Serialize, ToSchema)]
pub struct SalesTypeTargets {
    #[schema(value_type = crate::domain::role::SalesType)]
    sales_type: String,
    targets: Targets,
}

/// The targets of each sales type.
#[derive(Serialize, ToSchema)]
pub struct TargetsList {
    items: Vec<SalesTypeTargets>,
}

fn activity_example() -> Value {
    json!({
        "id": 5120, "account_id": 1024, "account_name": "北京中科测控有限公司", "opportunity_id": 311,
        "opportunity_name": "二期产线扩能检测设备", "owner": "zhangwei", "owner_name": "张伟",
        "kind": "visit", "status": "done", "planned_at": null,
        "occurred_at": "2026-11-20T06:30:00.000000Z", "ends_at": "2026-11-20T08:00:00.000000Z",
        "local_day": "2026-11-20", "week": "2026-11-16",
        "place": "北京中科测控有限公司 三楼会议室", "participants": "王志远（设备部部长）、李娜（采购经理）",
        "objective": "确认二期产线扩能的检测设备需求", "materials": null,
        "talking_points": "演示新款在线检测系统，讨论交付周期", "customer_views": "认可方案，关注售后响应时间",
        "problems": null, "next_steps": "12月5日前提交正式报价", "summary": "客户确认二期需求，预算已列入明年一季度",
        "outcome": "opportunity_advanced", "customer_attitude": "warm", "purpose": "technical_exchange",
        "effective": true, "why_not_effective": [], "follow_up_due": "2026-11-27", "followed_up_by": null,
        "contacts": [
            {"contact_id": 2049, "name": "李娜", "attitude": "neutral"},
            {"contact_id": 2048, "name": "王志远", "attitude": "supporter"}
        ],
        "checked_in": true,
        "check_in": {"latitude": 39.983124, "longitude": 116.307921, "accuracy_m": 18, "at": "2026-11-20T06:28:41.000000Z"},
        "photo": {"content_type": "image/jpeg", "size": 1843302,
            "sha256": "9f2c6d0b6e3a4f1d8c7b5a4e3d2c1b0a9f8e7d6c5b4a39281706f5e4d3c2b1a0", "uploaded_at": "2026-11-20T06:31:02.000000Z"},
        "version": 1, "created_at": "2026-11-20T09:12:45.318000Z", "updated_at": "2026-11-20T09:12:45.318000Z"
    })
}

fn plan_example() -> Value {
    json!({
        "owner": "zhangwei", "name": "张伟", "week": "2026-11-30", "status": "submitted",
        "submitted_at": "2026-11-27T10:05:12.000000Z", "note": "重点推进北京中科测控二期扩能项目，周三拜访设备部",
        "version": 1, "visits": [], "planned": 4, "done": 0, "effective": 0
    })
}

async fn list(
    State(s): State<AppState>,
    c: ApiCtx,
    Query(q): Query<ListQuery>,
    Query(p): Query<PageQuery>,
) -> ApiResult {
    let flag = |k: &str, v: Option<&str>| match v {
        None => Ok(None),
        Some("1" | "true") => Ok(Some(true)),
        Some("0" | "false") => Ok(Some(false)),
        Some(_) => Err(DomainError::invalid(k, "invalid_choice")),
    };
    let effective = flag("effective", q.effective.as_deref())?;
    let checked_in = flag("checked_in", q.checked_in.as_deref())?;
    let f = acts::Filter {
        owner: q.owner,
        account_id: q.account_id,
        opportunity_id: q.opportunity_id,
        kind: q.kind.map(|k| k.code().to_string()),
        status: q.status.map(|s| s.code().to_string()),
        effective,
        checked_in,
        from: q.from,
        to: q.to,
        cursor: p.cursor,
        limit: p.limit,
    };
    Ok(Json(acts::list(&s.app.db, &c.ctx.caller, &f).await?).into_response())
}

async fn create(State(s): State<AppState>, c: ApiCtx, b: ActivityBody) -> ApiResult {
    let v = acts::create(&s.app.db, &c.ctx, &b.body.input, b.contacts.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

async fn get(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    Ok(Json(acts::get(&s.app.db, &c.ctx.caller, id).await?).into_response())
}

async fn update(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>, b: ActivityBody) -> ApiResult {
    Ok(Json(acts::update(&s.app.db, &c.ctx, id, &b.body.input, b.contacts.as_deref()).await?).into_response())
}

async fn delete(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(Id(id)): Params<Id>,
    Query(q): Query<VersionQuery>,
) -> ApiResult {
    acts::delete(&s.app.db, &c.ctx, id, q.version).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn upload_photo(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(Id(id)): Params<Id>,
    m: Result<Multipart, MultipartRejection>,
) -> ApiResult {
    let m = m.map_err(|_| DomainError::invalid("photo", "invalid_form"))?;
    let parts = read_photo_multipart(m).await?;
    let bytes = parts.photo.ok_or_else(|| DomainError::invalid("photo", "required"))?;
    let v = acts::attach_photo(&s.app.db, &c.ctx, &s.app.settings.files(), id, &bytes).await?;
    Ok(Json(v).into_response())
}

/// A visit's photo as an image: its sniffed type, shown inline but sandboxed, never run.
pub fn photo_response(id: i64, p: &acts::Photo, bytes: Vec<u8>) -> Response {
    let ext = p.content_type.rsplit('/').next().unwrap_or("img");
    (
        [
            (header::CONTENT_TYPE, p.content_type.clone()),
            (header::CONTENT_DISPOSITION, format!("inline; filename=\"visit-{id}.{ext}\"")),
            (header::CONTENT_SECURITY_POLICY, "default-src 'none'; sandbox".to_string()),
        ],
        bytes,
    )
        .into_response()
}

async fn photo(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    let (p, bytes) = acts::photo(&s.app.db, &c.ctx.caller, &s.app.settings.files(), id).await?;
    Ok(photo_response(id, &p, bytes))
}

async fn calendar(State(s): State<AppState>, c: ApiCtx, Query(q): Query<CalendarQuery>) -> ApiResult {
    let team = matches!(q.team.as_deref(), Some("1" | "true"));
    let cal = acts::calendar(&s.app.db, &c.ctx.caller, q.owner.as_deref(), team, q.week.as_deref()).await?;
    Ok(Json(cal).into_response())
}

async fn stats(
    State(s): State<AppState>,
    c: ApiCtx,
    Query(q): Query<WeekQuery>,
    Query(f): Query<ReportFormatQuery>,
) -> ApiResult {
    let st = acts::stats(&s.app.db, &c.ctx.caller, q.week.as_deref()).await?;
    report(st, f, acts::stats_table, "visits")
}

async fn plan(State(s): State<AppState>, c: ApiCtx, Query(q): Query<PlanQuery>) -> ApiResult {
    Ok(Json(acts::plan(&s.app.db, &c.ctx.caller, q.owner.as_deref(), q.week.as_deref()).await?).into_response())
}

async fn team_plans(State(s): State<AppState>, c: ApiCtx, Query(q): Query<WeekQuery>) -> ApiResult {
    let items = acts::team_plans(&s.app.db, &c.ctx.caller, q.week.as_deref()).await?;
    Ok(Json(PlanList { items }).into_response())
}

async fn submit_plan(State(s): State<AppState>, c: ApiCtx, b: Typed<PlanSubmit>) -> ApiResult {
    let week = b.typed.week.as_ref().map(|d| d.0.as_str());
    let note = b.typed.note.as_deref();
    Ok(Json(acts::submit_plan(&s.app.db, &c.ctx, week, note).await?).into_response())
}

async fn follow_ups(State(s): State<AppState>, c: ApiCtx, Query(q): Query<OwnerQuery>) -> ApiResult {
    let items = acts::follow_ups(&s.app.db, &c.ctx.caller, q.owner.as_deref()).await?;
    Ok(Json(FollowUpList { items }).into_response())
}

async fn progress(State(s): State<AppState>, c: ApiCtx) -> ApiResult {
    let progress = acts::progress(&s.app.db, &c.ctx.caller).await?;
    let follow_ups = acts::follow_ups(&s.app.db, &c.ctx.caller, None).await?;
    Ok(Json(VisitProgress { progress, follow_ups }).into_response())
}

async fn development(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    Ok(Json(acts::development(&s.app.db, &c.ctx.caller, id).await?).into_response())
}

async fn targets(State(s): State<AppState>, _c: ApiCtx) -> ApiResult {
    let items = acts::targets(&s.app.db)
        .await?
        .into_iter()
        .map(|(sales_type, targets)| SalesTypeTargets { sales_type, targets })
        .collect();
    Ok(Json(TargetsList { items }).into_response())
}

async fn set_targets(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(st): Params<String>,
    b: Body<TargetsUpdate>,
) -> ApiResult {
    Ok(Json(acts::set_targets(&s.app.db, &c.ctx, &st, &b.input).await?).into_response())
}
