//! `/api/v1/approvals` (the inbox, a request, decisions), flow definitions, delegations,
//! key-account screenings, notifications and the caller's channels, and the administrator's
//! view of deliveries.
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};

use crate::app::approvals::{ApprovalView, DelegationView, FlowView, InboxItem};
use crate::app::classification::screenings::ScreeningView;
use crate::app::records::notify::{ChannelsView, Delivery, NotificationView};
use crate::app::{approvals, classification::screenings, records::notify};
use crate::domain::approval::{Decision, Extension, RiskWeight, StepSpec};
use crate::domain::DomainError;
use crate::web::api::contract::{Date, Id};
use crate::web::api::{Api, ApiResult, Op, Params, Query, Typed};
use crate::web::auth::ApiCtx;
use crate::web::AppState;

pub fn routes(api: Api) -> Api {
    api.add(
        Op::get("/api/v1/approvals", "The caller's inbox: waiting for my decision (default) or started by me", "approvals")
            .query::<InboxQuery>()
            .ok::<InboxList>(200),
        inbox,
    )
    .add(
        Op::get("/api/v1/approvals/counts", "How many wait for me, and how many of mine are pending", "approvals")
            .ok::<ApprovalCounts>(200),
        counts,
    )
    .add(
        Op::get(
            "/api/v1/approvals/{id}",
            "One request with every step: who decided, when, the comment; the open step's deadline",
            "approvals",
        )
        .ok_example::<ApprovalView>(200, approval_example("pending")),
        get,
    )
    .add(
        Op::get(
            "/api/v1/approvals/{id}/screening",
            "The screening a key-account request asks about, whole: criteria, analyses, the risk table, \
             what changed since the previous version, and the account's key facts (404 for other flows)",
            "approvals",
        )
        .ok::<screenings::ScreeningReview>(200),
        screening_review,
    )
    .add(
        Op::post("/api/v1/approvals/{id}/decision", "Decide the open step: approve, reject or return", "approvals")
            .describe(
                "`step` is the position the caller was shown: when another decision moved the request on meanwhile \
                 the answer is 409 `step_decided`; a closed request is 409 `approval_closed`. A comment is required \
                 unless approving.",
            )
            .body_example::<DecisionBody>(json!({"decision": "approve", "comment": "年采购额与行业地位符合大客户标准，同意。", "step": 0}))
            .ok_example::<ApprovalView>(200, approval_example("decided"))
            .errors(&[409]),
        decide,
    )
    .add(
        Op::post("/api/v1/approvals/{id}/withdraw", "The requester withdraws a pending request", "approvals")
            .ok::<ApprovalView>(200)
            .errors(&[409]),
        withdraw,
    )
    .add(
        Op::post(
            "/api/v1/approvals/{id}/extension",
            "Extend the open step's deadline once, by the flow's named role",
            "approvals",
        )
        .body_example::<ExtensionBody>(json!({"days": 7}))
        .ok::<ApprovalView>(200)
        .errors(&[409]),
        extend,
    )
    .add(Op::get("/api/v1/flows", "Every flow's current definition and version", "approvals").ok::<FlowList>(200), flows)
    .add(
        Op::put("/api/v1/flows/{flow}", "Save a new version of a flow (administrator)", "approvals")
            .describe("Running requests keep the version they started under. `flow` is a flow code (`ka_screening`, …).")
            .body_example::<FlowBody>(json!({
                "steps": [{"role": "ka_director", "scope": "hq", "days": 3}, {"role": "sales_dept_manager", "scope": "hq", "days": 3}],
                "risk_weights": [["competitive_advantage", 30], ["customer_need", 30], ["competitor_strength", 20], ["payment_ability", 10], ["relationship", 10]]
            }))
            .ok::<FlowView>(200),
        set_flow,
    )
    .add(
        Op::get("/api/v1/delegations", "My delegations that have not ended", "approvals").ok::<DelegationList>(200),
        delegations,
    )
    .add(
        Op::post("/api/v1/delegations", "Let someone decide for me while I am away", "approvals")
            .body_example::<DelegationBody>(json!({"delegate": "wang.fang", "starts_on": "2026-12-20", "ends_on": "2026-12-31"}))
            .ok::<Delegated>(201),
        delegate,
    )
    .add(
        Op::post(
            "/api/v1/accounts/{id}/screenings",
            "Submit a key-account screening with its risk analysis form; answers with approval_id",
            "approvals",
        )
        .describe(
            "Every text answer and every indicator of the risk analysis form is required; all missing or refused \
             fields are reported at once (`risk.<indicator>` for a score). The indicators are those of the \
             `ka_screening` flow's current definition (`risk_weights`); the built-in ones are listed here. The \
             account becomes a `candidate` and the KA director, then the sales department manager, are asked.",
        )
        .body_example::<ScreeningForm>(json!({
            "sales_amount": "年采购额约 3000 万元，近三年复合增长 15%",
            "market_influence": "华东地区轨道交通装备行业前三，示范效应强",
            "loyalty": "合作五年，年度框架协议连续续签",
            "strategic_region": "长三角重点区域，辐射苏浙皖",
            "needs_analysis": "新建产线需要整体自动化方案及三年运维服务",
            "resource_assessment": "可投入两名售前工程师和一名驻场技术支持",
            "fit": "产品线与其产线改造需求完全匹配",
            "competitor_analysis": "主要竞争对手为 A 公司，报价低约 5%，但交付周期长",
            "risk": {"competitive_advantage": 4, "customer_need": 5, "competitor_strength": 3, "payment_ability": 4, "relationship": 3}
        }))
        .ok_example::<ScreeningView>(201, json!({
            "id": 7, "account_id": 42, "version": 1,
            "form": {"sales_amount": "年采购额约 3000 万元，近三年复合增长 15%", "risk": {"competitive_advantage": 4, "customer_need": 5, "competitor_strength": 3, "payment_ability": 4, "relationship": 3},
                     "risk_weights": [["competitive_advantage", 25], ["customer_need", 25], ["competitor_strength", 20], ["payment_ability", 15], ["relationship", 15]]},
            "risk_score": 79, "approval_id": 118, "submitted_by": "li.ming", "submitted_at": "2026-12-02T08:30:00.000000Z"
        })),
        screen,
    )
    .add(
        Op::get("/api/v1/accounts/{id}/screenings", "Every submitted version of the account's screening", "approvals")
            .ok::<ScreeningList>(200),
        screenings_of,
    )
    .add(
        Op::get("/api/v1/notifications", "My notifications, newest first", "me")
            .query::<NotificationQuery>()
            .ok::<NotificationList>(200),
        notifications,
    )
    .add(
        Op::post("/api/v1/notifications/read", "Mark my notifications read: one (`id`) or all", "me")
            .body::<MarkReadBody>()
            .no_content(),
        mark_read,
    )
    .add(Op::get("/api/v1/me/channels", "My notification channels", "me").ok::<ChannelsView>(200), channels)
    .add(
        Op::put("/api/v1/me/channels", "Set my notification channels", "me")
            .body_example::<ChannelsBody>(json!({"email": "li.ming@example.com.cn", "notify_email": true, "webhook_url": null, "notify_webhook": false}))
            .ok::<ChannelsView>(200),
        set_channels,
    )
    .add(
        Op::get("/api/v1/admin/deliveries", "Email and webhook deliveries (administrator)", "admin")
            .query::<DeliveryQuery>()
            .ok::<DeliveryList>(200),
        deliveries,
    )
    .add(
        Op::post("/api/v1/admin/deliveries/{id}/retry", "Send a failed delivery again (administrator)", "admin").no_content(),
        retry,
    )
}

/// An approval request as an example answer.
fn approval_example(stage: &str) -> Value {
    let first = if stage == "decided" {
        json!({"position": 0, "role": "ka_director", "scope": "hq", "days": 3, "state": "approved",
               "opened_at": "2026-12-02T08:30:00.000000Z", "due_at": "2026-12-05T08:30:00.000000Z", "overdue": false,
               "decided_by": "zhao.lei", "decided_as": "self", "decided_at": "2026-12-03T02:10:00.000000Z", "decision": "approve",
               "comment": "年采购额与行业地位符合大客户标准，同意。", "escalated_at": null, "escalated_to": null, "extended_days": null})
    } else {
        json!({"position": 0, "role": "ka_director", "scope": "hq", "days": 3, "state": "open",
               "opened_at": "2026-12-02T08:30:00.000000Z", "due_at": "2026-12-05T08:30:00.000000Z", "overdue": false,
               "decided_by": null, "decided_as": null, "decided_at": null, "decision": null,
               "comment": null, "escalated_at": null, "escalated_to": null, "extended_days": null})
    };
    let second_state = if stage == "decided" { "open" } else { "waiting" };
    let second = json!({"position": 1, "role": "sales_dept_manager", "scope": "hq", "days": 3, "state": second_state,
        "opened_at": if stage == "decided" { json!("2026-12-03T02:10:00.000000Z") } else { Value::Null },
        "due_at": if stage == "decided" { json!("2026-12-06T02:10:00.000000Z") } else { Value::Null },
        "overdue": false, "decided_by": null, "decided_as": null, "decided_at": null, "decision": null,
        "comment": null, "escalated_at": null, "escalated_to": null, "extended_days": null});
    json!({
        "id": 118, "flow": "ka_screening", "flow_version": 1,
        "subject": {"type": "account", "id": 42, "label": "江苏恒通轨道装备股份有限公司"},
        "requested_by": "li.ming", "state": "pending",
        "current_step": if stage == "decided" { 1 } else { 0 },
        "steps": [first, second],
        "decisive": {"risk_score": 79, "form_version": 1},
        "payload": {"screening_version": 1, "risk_score": 79},
        "created_at": "2026-12-02T08:30:00.000000Z", "closed_at": null,
        "can_decide": if stage == "decided" { Value::Null } else { json!("self") },
        "can_extend": false
    })
}

/// Which inbox.
#[derive(Deserialize, ToSchema, Clone, Copy, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum InboxBox {
    /// Waiting for my decision.
    #[default]
    Waiting,
    /// Started by me.
    Mine,
}

/// `?box=waiting|mine`.
#[derive(Deserialize, IntoParams)]
pub struct InboxQuery {
    /// `waiting` (waiting for my decision, the default) or `mine` (started by me).
    #[serde(rename = "box")]
    #[param(rename = "box", inline)]
    pub inbox: Option<InboxBox>,
}

/// `{"items": […]}`: an inbox (at most 1000 waiting for me, 500 of mine).
#[derive(Serialize, ToSchema)]
pub struct InboxList {
    pub items: Vec<InboxItem>,
}

/// The navigation's counts.
#[derive(Serialize, ToSchema)]
pub struct ApprovalCounts {
    /// Requests waiting for my decision.
    pub waiting: i64,
    /// My requests still pending.
    pub mine_pending: i64,
    /// My unread notifications.
    pub unread_notifications: i64,
}

/// A decision on a request's open step.
#[derive(Deserialize, ToSchema)]
pub struct DecisionBody {
    #[schema(required = true, nullable = false)]
    pub decision: Option<Decision>,
    /// Required to reject or return.
    #[schema(max_length = 2000)]
    pub comment: Option<String>,
    /// The position of the step the caller was shown (0 for the first); 409 `step_decided` when
    /// the request has moved on.
    #[schema(minimum = 0)]
    pub step: Option<i64>,
}

/// An extension of the open step's deadline.
#[derive(Deserialize, ToSchema)]
pub struct ExtensionBody {
    /// The step's new deadline in days from when it opened: more than its days, at most the
    /// flow's `extension.max_days`.
    #[schema(required = true, nullable = false, minimum = 1, maximum = 90)]
    pub days: Option<i64>,
}

/// `{"items": […]}`: every flow.
#[derive(Serialize, ToSchema)]
pub struct FlowList {
    pub items: Vec<FlowView>,
}

/// A flow definition (see `Definition`): the steps in order, and for some flows one extension,
/// a limit on the days of all steps, and the risk analysis form's weights. Every reason it is
/// refused is named by field (`steps[0].role`, …); a body of the wrong shape is
/// `definition: flow_malformed`.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct FlowBody {
    /// 1 to 10 steps.
    #[schema(required = true, nullable = false, value_type = Vec<StepSpec>, min_items = 1, max_items = 10)]
    pub steps: Option<Value>,
    #[schema(value_type = Option<Extension>)]
    pub extension: Option<Value>,
    /// At most this many days over all steps.
    #[schema(value_type = Option<i64>, minimum = 1)]
    pub max_total_days: Option<Value>,
    /// Key-account screening: the risk analysis form's indicators and weights.
    #[schema(value_type = Option<Vec<RiskWeight>>)]
    pub risk_weights: Option<Value>,
}

/// `{"items": […]}`: my delegations that have not ended.
#[derive(Serialize, ToSchema)]
pub struct DelegationList {
    pub items: Vec<DelegationView>,
}

/// A delegation: `delegate` decides for me from `starts_on` to `ends_on` (at most 180 days).
#[derive(Deserialize, ToSchema)]
pub struct DelegationBody {
    /// An active user's username, not mine.
    #[schema(required = true, nullable = false)]
    pub delegate: Option<String>,
    #[schema(required = true, nullable = false)]
    pub starts_on: Option<Date>,
    /// Not before `starts_on`.
    #[schema(required = true, nullable = false)]
    pub ends_on: Option<Date>,
}

/// The delegation made.
#[derive(Serialize, ToSchema)]
pub struct Delegated {
    pub delegate: String,
    #[schema(format = Date)]
    pub starts_on: String,
    #[schema(format = Date)]
    pub ends_on: String,
}

/// The risk analysis form (客户风险分析表): each indicator scored 1 (high risk) to 5 (low
/// risk), weighted by the flow's `risk_weights`.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct RiskScores {
    /// 竞争优势.
    #[schema(required = true, nullable = false, value_type = i64, minimum = 1, maximum = 5)]
    pub competitive_advantage: Option<Value>,
    /// 客户需求.
    #[schema(required = true, nullable = false, value_type = i64, minimum = 1, maximum = 5)]
    pub customer_need: Option<Value>,
    /// 竞争对手实力.
    #[schema(required = true, nullable = false, value_type = i64, minimum = 1, maximum = 5)]
    pub competitor_strength: Option<Value>,
    /// 付款能力.
    #[schema(required = true, nullable = false, value_type = i64, minimum = 1, maximum = 5)]
    pub payment_ability: Option<Value>,
    /// 客户关系.
    #[schema(required = true, nullable = false, value_type = i64, minimum = 1, maximum = 5)]
    pub relationship: Option<Value>,
}

/// The key-account screening form (大客户筛选): the criteria, the analyses and the risk
/// analysis form. Every field is required.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct ScreeningForm {
    /// 销售额: the account's purchases, ours and in all.
    #[schema(required = true, nullable = false, min_length = 1, max_length = 1000)]
    pub sales_amount: Option<String>,
    /// 市场影响力.
    #[schema(required = true, nullable = false, min_length = 1, max_length = 1000)]
    pub market_influence: Option<String>,
    /// 忠诚度.
    #[schema(required = true, nullable = false, min_length = 1, max_length = 1000)]
    pub loyalty: Option<String>,
    /// 战略区域.
    #[schema(required = true, nullable = false, min_length = 1, max_length = 1000)]
    pub strategic_region: Option<String>,
    /// 需求分析.
    #[schema(required = true, nullable = false, min_length = 1, max_length = 4000)]
    pub needs_analysis: Option<String>,
    /// 资源评估: what we can put in.
    #[schema(required = true, nullable = false, min_length = 1, max_length = 4000)]
    pub resource_assessment: Option<String>,
    /// 匹配度: how our offer fits the needs.
    #[schema(required = true, nullable = false, min_length = 1, max_length = 4000)]
    pub fit: Option<String>,
    /// 竞争对手分析.
    #[schema(required = true, nullable = false, min_length = 1, max_length = 4000)]
    pub competitor_analysis: Option<String>,
    /// 客户风险分析表: a score for every indicator.
    #[schema(required = true, nullable = false)]
    pub risk: Option<RiskScores>,
}

/// `{"items": […]}`: every version of an account's screening, newest first.
#[derive(Serialize, ToSchema)]
pub struct ScreeningList {
    pub items: Vec<ScreeningView>,
}

/// `?unread=1`.
#[derive(Deserialize, IntoParams)]
pub struct NotificationQuery {
    /// `1` or `true`: only unread ones (any other value: all).
    pub unread: Option<String>,
}

/// `{"items": […]}`: my notifications.
#[derive(Serialize, ToSchema)]
pub struct NotificationList {
    pub items: Vec<NotificationView>,
}

/// Which notifications to mark read.
#[derive(Deserialize, ToSchema)]
pub struct MarkReadBody {
    /// One notification; all of mine when absent.
    pub id: Option<i64>,
}

/// My notification channels; a channel switched on needs its address.
#[derive(Deserialize, ToSchema)]
pub struct ChannelsBody {
    /// Must contain an `@`, no spaces.
    #[schema(max_length = 200)]
    pub email: Option<String>,
    /// Also send notifications by email (false when absent).
    pub notify_email: Option<bool>,
    /// `http://` or `https://`.
    #[schema(max_length = 500)]
    pub webhook_url: Option<String>,
    /// Also post notifications to the webhook (false when absent).
    pub notify_webhook: Option<bool>,
}

/// A delivery's state.
#[derive(Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    Pending,
    Sent,
    Failed,
}

impl DeliveryState {
    fn code(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Sent => "sent",
            DeliveryState::Failed => "failed",
        }
    }
}

/// `?state=pending|sent|failed`.
#[derive(Deserialize, IntoParams)]
pub struct DeliveryQuery {
    /// Only deliveries in this state (not yet sent and failed ones when absent).
    #[param(inline)]
    pub state: Option<DeliveryState>,
}

/// `{"items": […]}`: deliveries.
#[derive(Serialize, ToSchema)]
pub struct DeliveryList {
    pub items: Vec<Delivery>,
}

async fn inbox(State(s): State<AppState>, c: ApiCtx, Query(q): Query<InboxQuery>) -> ApiResult {
    let now = crate::app::clock::now();
    let items = match q.inbox.unwrap_or_default() {
        InboxBox::Waiting => approvals::waiting_for(&s.app.db, &c.ctx.caller, now).await?,
        InboxBox::Mine => approvals::started_by(&s.app.db, &c.ctx.caller, now).await?,
    };
    Ok(Json(InboxList { items }).into_response())
}

async fn counts(State(s): State<AppState>, c: ApiCtx) -> ApiResult {
    let (waiting, mine_pending) = approvals::counts(&s.app.db, &c.ctx.caller).await?;
    let unread_notifications = notify::unread_count(&s.app.db, &c.ctx.caller).await?;
    Ok(Json(ApprovalCounts { waiting, mine_pending, unread_notifications }).into_response())
}

async fn get(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    Ok(Json(approvals::get(&s.app.db, &c.ctx.caller, id).await?).into_response())
}

async fn screening_review(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    Ok(Json(screenings::for_approval(&s.app.db, &c.ctx.caller, id).await?).into_response())
}

async fn decide(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>, b: Typed<DecisionBody>) -> ApiResult {
    let d = &b.typed;
    let decision = d.decision.map(Decision::code).unwrap_or("");
    let v =
        approvals::decide_step(&s.app.db, &c.ctx, id, d.step, decision, d.comment.as_deref(), crate::app::clock::now())
            .await?;
    Ok(Json(v).into_response())
}

async fn withdraw(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    Ok(Json(approvals::withdraw(&s.app.db, &c.ctx, id, crate::app::clock::now()).await?).into_response())
}

async fn extend(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(Id(id)): Params<Id>,
    b: Typed<ExtensionBody>,
) -> ApiResult {
    let days = b.typed.days.ok_or_else(|| DomainError::invalid("days", "expected_integer"))?;
    Ok(Json(approvals::extend(&s.app.db, &c.ctx, id, days, crate::app::clock::now()).await?).into_response())
}

async fn flows(State(s): State<AppState>, _c: ApiCtx) -> ApiResult {
    Ok(Json(FlowList { items: approvals::flows(&s.app.db).await? }).into_response())
}

async fn set_flow(State(s): State<AppState>, c: ApiCtx, Params(flow): Params<String>, b: Typed<FlowBody>) -> ApiResult {
    Ok(Json(approvals::set_definition(&s.app.db, &c.ctx, &flow, &b.raw).await?).into_response())
}

async fn delegate(State(s): State<AppState>, c: ApiCtx, b: Typed<DelegationBody>) -> ApiResult {
    let d = &b.typed;
    let delegate = d.delegate.as_deref().unwrap_or("");
    let starts_on = d.starts_on.as_ref().map(|d| d.0.as_str()).unwrap_or("");
    let ends_on = d.ends_on.as_ref().map(|d| d.0.as_str()).unwrap_or("");
    approvals::delegate(&s.app.db, &c.ctx, delegate, starts_on, ends_on).await?;
    let made = Delegated {
        delegate: delegate.trim().to_string(),
        starts_on: starts_on.trim().to_string(),
        ends_on: ends_on.trim().to_string(),
    };
    Ok((StatusCode::CREATED, Json(made)).into_response())
}

async fn screen(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(Id(id)): Params<Id>,
    b: crate::web::api::contract::JsonOf<ScreeningForm>,
) -> ApiResult {
    let v = screenings::submit(&s.app.db, &c.ctx, id, &b.raw).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

async fn screenings_of(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    Ok(Json(ScreeningList { items: screenings::list(&s.app.db, &c.ctx.caller, id).await? }).into_response())
}

async fn notifications(State(s): State<AppState>, c: ApiCtx, Query(q): Query<NotificationQuery>) -> ApiResult {
    let unread = matches!(q.unread.as_deref(), Some("1" | "true"));
    Ok(Json(NotificationList { items: notify::mine(&s.app.db, &c.ctx.caller, unread).await? }).into_response())
}

async fn mark_read(State(s): State<AppState>, c: ApiCtx, b: Typed<MarkReadBody>) -> ApiResult {
    notify::mark_read(&s.app.db, &c.ctx, b.typed.id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn channels(State(s): State<AppState>, c: ApiCtx) -> ApiResult {
    Ok(Json(notify::channels_of(&s.app.db, &c.ctx.caller).await?).into_response())
}

async fn set_channels(State(s): State<AppState>, c: ApiCtx, b: Typed<ChannelsBody>) -> ApiResult {
    let ch = &b.typed;
    notify::set_channels(
        &s.app.db,
        &c.ctx,
        ch.email.as_deref(),
        ch.notify_email.unwrap_or(false),
        ch.webhook_url.as_deref(),
        ch.notify_webhook.unwrap_or(false),
    )
    .await?;
    Ok(Json(notify::channels_of(&s.app.db, &c.ctx.caller).await?).into_response())
}

async fn deliveries(State(s): State<AppState>, c: ApiCtx, Query(q): Query<DeliveryQuery>) -> ApiResult {
    let items = notify::deliveries(&s.app.db, &c.ctx, q.state.map(DeliveryState::code)).await?;
    Ok(Json(DeliveryList { items }).into_response())
}

async fn retry(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    notify::retry(&s.app.db, &c.ctx, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn delegations(State(s): State<AppState>, c: ApiCtx) -> ApiResult {
    let items = approvals::delegations(&s.app.db, &c.ctx.caller, crate::app::clock::now()).await?;
    Ok(Json(DelegationList { items }).into_response())
}
