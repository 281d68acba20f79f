//! `/api/v1/activities`, visit plans, the week calendar, visit statistics, follow-ups, the
//! development record and the activity targets.
use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
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
use crate::web::api::{Api, ApiResult, Body, Op, Params, Query};
use crate::web::auth::{ApiCtx, JsonBody};
use crate::web::error::ApiError;
use crate::web::AppState;

pub fn routes(api: Api) -> Api {
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
            "contacts": [{"contact_id": 2048, "attitude": "supporter"}, {"contact_id": 2049, "attitude": "neutral"}]
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
}

/// A body with a `contacts` list beside the record's scalar fields: the list is taken out
/// (codes `expected_contact_list`, …, as before), the rest read as [`Body`].
struct ActivityBody {
    body: Body<ActivityInput>,
    contacts: Option<acts::MetInput>,
}

impl FromRequest<AppState> for ActivityBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, s: &AppState) -> Result<Self, Self::Rejection> {
        let JsonBody(mut v) = JsonBody::from_request(req, s).await?;
        if !v.is_object() {
            return Err(DomainError::invalid("body", "expected_object").into());
        }
        let contacts = take_contacts(&mut v)?;
        let bytes = serde_json::to_vec(&v).map_err(|_| DomainError::invalid("body", "invalid_json"))?;
        let body = Body::<ActivityInput>::from_request(Request::new(axum::body::Body::from(bytes)), s).await?;
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
    let effective = match q.effective.as_deref() {
        None => None,
        Some("1" | "true") => Some(true),
        Some("0" | "false") => Some(false),
        Some(_) => return Err(DomainError::invalid("effective", "invalid_choice").into()),
    };
    let f = acts::Filter {
        owner: q.owner,
        account_id: q.account_id,
        opportunity_id: q.opportunity_id,
        kind: q.kind.map(|k| k.code().to_string()),
        status: q.status.map(|s| s.code().to_string()),
        effective,
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

async fn submit_plan(State(s): State<AppState>, c: ApiCtx, b: Body<PlanSubmit>) -> ApiResult {
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
