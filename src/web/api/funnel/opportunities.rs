//! `/api/v1/opportunities` and the funnel report; quotas, forecasts, the 1×1 review and the
//! sales reports built on them.
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use crate::app::funnel::forecasts::{Adjustment, PersonForecast, Submission};
use crate::app::funnel::opportunities::{self as opps, Filter, FunnelQuery, HistoryRow, OpportunityView, StageMove};
use crate::app::funnel::quotas::{Daily, QuotaView, VReport};
use crate::app::funnel::reports::{self, Monthly, RegionsReport};
use crate::app::funnel::reviews::OneOnOne;
use crate::domain::opportunity::Stage;
use crate::domain::DomainError;
use crate::web::api::contract::{report, Count, Date, Id, Money, PageQuery, ReportFormatQuery, XLSX};
use crate::web::api::{Api, ApiResult, Body, Op, Params, Query, Typed};
use crate::web::auth::ApiCtx;
use crate::web::AppState;

pub fn routes(api: Api) -> Api {
    api.add(
        Op::get("/api/v1/opportunities", "List opportunities in scope", "opportunities")
            .query::<FilterQuery>()
            .query::<SortQuery>()
            .query::<PageQuery>()
            .page::<OpportunityView>(),
        list,
    )
    .add(
        Op::post(
            "/api/v1/opportunities",
            "Establish an opportunity (立项) with its evaluation form; it enters the funnel at identified",
            "opportunities",
        )
        .body_example::<OpportunityCreate>(json!({
            "account_id": 42,
            "name": "三坐标测量机扩产项目",
            "amount": "1200000.00",
            "expected_close": "2027-06-30",
            "products": "高精度三坐标测量机 ×2",
            "competitors": "海克斯康、蔡司",
            "source": "客户来电",
            "next_step": "安排技术交流",
            "next_step_due": "2027-01-15",
            "eval_need": "产线扩能，需要高精度测量设备",
            "eval_budget": "年度预算已批，约 120 万元",
            "eval_timeline": "二季度下单，三季度交付",
            "eval_decision_makers": "总经理王志远、采购部李敏"
        }))
        .ok_example::<OpportunityView>(201, opportunity_example(false))
        .errors(&[404]),
        create,
    )
    .add(
        Op::get("/api/v1/opportunities/count", "Count opportunities in scope", "opportunities")
            .query::<FilterQuery>()
            .ok::<Count>(200),
        count,
    )
    .add(
        Op::get("/api/v1/opportunities/{id}", "Get one opportunity with its exit-criteria checklist", "opportunities")
            .ok_example::<OpportunityView>(200, opportunity_example(true)),
        get,
    )
    .add(
        Op::patch("/api/v1/opportunities/{id}", "Update an opportunity (needs its version)", "opportunities")
            .body_example::<OpportunityUpdate>(json!({"version": 3, "amount": "1350000.00", "expected_close": "2027-07-31", "next_step": "提交正式报价"}))
            .ok::<OpportunityView>(200),
        update,
    )
    .add(
        Op::post("/api/v1/opportunities/{id}/stage", "Move to another stage by the funnel's rules", "opportunities")
            .describe(
                "Forward only past the met exit criteria of every stage left (or, by a manager of the owner, with \
                 `override_reason`); back or out of won/lost with `reason`; to won with `booked_amount` and \
                 `booked_on`; to lost with `lost_reason` and `lost_to`.",
            )
            .body_example::<StageMoveBody>(json!({"stage": "won", "version": 7, "booked_amount": "1180000.00", "booked_on": "2027-06-18"}))
            .ok_example::<OpportunityView>(200, won_example())
            .errors(&[409]),
        stage,
    )
    .add(
        Op::post(
            "/api/v1/opportunities/{id}/checklist",
            "Check or uncheck an exit criterion: {item, checked, version}",
            "opportunities",
        )
        .body::<CheckBody>()
        .ok::<OpportunityView>(200)
        .errors(&[409]),
        check,
    )
    .add(
        Op::get(
            "/api/v1/opportunities/{id}/history",
            "Every change of stage, amount and expected date",
            "opportunities",
        )
        .ok::<HistoryList>(200),
        history,
    )
    .add(
        Op::get(
            "/api/v1/reports/funnel",
            "The funnel by stage in scope, now or as it stood on a date, with the conversion between stages and the age of each stage",
            "reports",
        )
            .query::<FunnelParams>()
            .query::<ReportFormatQuery>()
            .report::<opps::Funnel>(),
        funnel,
    )
    .add(
        Op::put("/api/v1/quotas", "Set one month's quota: {month: YYYY-MM, owner|org, amount}", "quotas")
            .body_example::<QuotaBody>(json!({"month": "2027-01", "owner": "zhangwei", "amount": "1500000.00"}))
            .ok::<QuotaView>(200),
        set_quota,
    )
    .add(
        Op::post(
            "/api/v1/quotas/import",
            "Set quotas from a CSV or XLSX file (columns 月份/month, 用户名/owner or 组织/org, 指标/amount); all rows or none",
            "quotas",
        )
        .describe(
            "200 with the report when every row was taken. When a row is refused nothing is written and the \
             answer is 422: the `error` object (code `invalid_input`) beside the same report fields, whose \
             `errors` list each refused cell by row and column.",
        )
        .file_body(&["text/csv", XLSX])
        .ok::<crate::app::spreadsheets::import::Report>(200),
        import_quotas,
    )
    .add(
        Op::get(
            "/api/v1/reports/v-value",
            "Quota, booked, remaining, pipeline and V value per person, team and region (?period=YYYY-MM|YYYY-Qn|YYYY)",
            "reports",
        )
        .query::<PeriodQuery>()
        .query::<OwnerQuery>()
        .query::<ReportFormatQuery>()
        .report::<VReport>()
        .errors(&[404]),
        v_value,
    )
    .add(
        Op::get(
            "/api/v1/reports/regions",
            "Sales progress and pipeline by region (各大区销售进度与商机分析): quota, booked, remaining, V value, funnel by stage (?period=)",
            "reports",
        )
        .query::<PeriodQuery>()
        .query::<ReportFormatQuery>()
        .report::<RegionsReport>(),
        regions,
    )
    .add(
        Op::get(
            "/api/v1/reports/monthly",
            "Monthly order forecast (每月订单预测): booked, open pipeline, weighted, commit and best case per month",
            "reports",
        )
        .query::<OwnerQuery>()
        .query::<ReportFormatQuery>()
        .report::<Monthly>(),
        monthly,
    )
    .add(
        Op::post(
            "/api/v1/forecasts",
            "Submit the caller's 4-week forecast: {lines: [{week (Monday), commit, best_case}]} for this week and the three after",
            "forecast",
        )
        .body_example::<ForecastBody>(json!({"lines": [
            {"week": "2027-01-04", "commit": "300000.00", "best_case": "450000.00"},
            {"week": "2027-01-11", "commit": "0", "best_case": "200000.00"},
            {"week": "2027-01-18", "commit": "150000.00", "best_case": "150000.00"},
            {"week": "2027-01-25", "commit": "0", "best_case": "0"}
        ]}))
        .ok::<Submission>(201),
        submit_forecast,
    )
    .add(
        Op::post(
            "/api/v1/forecasts/adjustments",
            "A manager's adjustment of one week: {owner, week, commit, best_case, reason}",
            "forecast",
        )
        .body_example::<AdjustmentBody>(json!({"owner": "zhangwei", "week": "2027-01-04", "commit": "200000.00", "best_case": "300000.00", "reason": "客户付款节奏推迟"}))
        .ok::<Adjustment>(201)
        .errors(&[404]),
        adjust_forecast,
    )
    .add(
        Op::get(
            "/api/v1/reports/forecast",
            "Per person: the prefill from opportunities, this and last week's submissions, adjustments, accuracy over eight weeks",
            "reports",
        )
        .query::<OwnerQuery>()
        .query::<ReportFormatQuery>()
        .report::<ForecastReport>()
        .errors(&[404]),
        forecast_report,
    )
    .add(
        Op::get("/api/v1/reports/one-on-one", "The manager's weekly 1×1 review of one salesperson (?owner=USERNAME)", "reports")
            .query::<OneOnOneQuery>()
            .ok::<OneOnOne>(200)
            .errors(&[404]),
        one_on_one,
    )
    .add(
        Op::get(
            "/api/v1/me/today",
            "The caller's day: this month's figures, next steps due, deals past their date",
            "me",
        )
        .ok::<Daily>(200),
        today,
    )
}

/// Which opportunities (list and count).
#[derive(Deserialize, IntoParams)]
pub struct FilterQuery {
    /// Only this stage.
    pub stage: Option<Stage>,
    /// Only this owner's (username).
    pub owner: Option<String>,
    /// Only this account's.
    pub account_id: Option<i64>,
    /// `true` or `1`: only open stages (identified … committed); any other value: all.
    pub open: Option<String>,
    /// Matches the opportunity's or its account's name.
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// Only the accounts of this org unit (its code: a region or a branch; HQ: all), as the
    /// funnel's `org`.
    pub org: Option<String>,
    /// Only those that ever reached this stage or a later one (the funnel's conversion).
    pub reached: Option<Stage>,
    /// Only those in their current stage for more than this many days (the funnel's stage age).
    #[param(minimum = 0)]
    pub stage_days_over: Option<i64>,
}

/// The list's order.
#[derive(Deserialize, IntoParams)]
pub struct SortQuery {
    /// `expected_close` (default, ascending), `amount` (descending), `name`, `updated` (latest first).
    #[param(inline)]
    pub sort: Option<Sort>,
}

/// A list order of opportunities.
#[derive(Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    ExpectedClose,
    Amount,
    Name,
    Updated,
}

impl Sort {
    fn code(self) -> &'static str {
        match self {
            Sort::ExpectedClose => "expected_close",
            Sort::Amount => "amount",
            Sort::Name => "name",
            Sort::Updated => "updated",
        }
    }
}

/// The funnel's scope and date.
#[derive(Deserialize, IntoParams)]
pub struct FunnelParams {
    /// The funnel as it stood at the end of this day (UTC); now when absent.
    pub as_of: Option<Date>,
    /// Only this owner's opportunities (username).
    pub owner: Option<String>,
    /// Only the accounts of this org unit (its code: a region or a branch; HQ: all).
    pub org: Option<String>,
}

/// `?period=`.
#[derive(Deserialize, IntoParams)]
pub struct PeriodQuery {
    /// `YYYY-MM`, `YYYY-Qn` or `YYYY`; this month when absent.
    #[param(pattern = r"^[0-9]{4}(-[0-9]{2}|-Q[1-4])?$")]
    pub period: Option<String>,
}

/// `?owner=`: one person in the caller's scope.
#[derive(Deserialize, IntoParams)]
pub struct OwnerQuery {
    /// A username; only that person's figures (404 when not in the caller's scope).
    pub owner: Option<String>,
}

/// `?owner=`: the salesperson reviewed.
#[derive(Deserialize, IntoParams)]
pub struct OneOnOneQuery {
    /// The salesperson's username (404 when not in the caller's scope).
    #[param(required = true, nullable = false)]
    pub owner: Option<String>,
}

/// Declares an opportunity body: its own fields, then the fields create and update share.
macro_rules! opportunity_body {
    ($(#[$m:meta])* $name:ident { $($own:tt)* }) => {
        $(#[$m])*
        #[derive(Deserialize, ToSchema)]
        #[allow(dead_code)]
        pub struct $name {
            $($own)*
            /// Usernames of the team, separated by commas or spaces (empty: no team).
            pub team: Option<String>,
            #[schema(max_length = 500)]
            pub products: Option<String>,
            #[schema(max_length = 100)]
            pub business_unit: Option<String>,
            #[schema(max_length = 500)]
            pub competitors: Option<String>,
            #[schema(max_length = 100)]
            pub source: Option<String>,
            #[schema(max_length = 500)]
            pub next_step: Option<String>,
            pub next_step_due: Option<Date>,
            #[schema(max_length = 2000)]
            pub eval_competition: Option<String>,
            #[schema(max_length = 2000)]
            pub eval_advantages: Option<String>,
            #[schema(max_length = 2000)]
            pub eval_strategy: Option<String>,
        }
    };
}

opportunity_body!(
    /// Establishing an opportunity (立项): the account, the amount and expected order date, and
    /// the evaluation form, whose first four questions must be answered.
    OpportunityCreate {
        /// The account it is established on (one the caller sees).
        #[schema(required = true, nullable = false)]
        pub account_id: Option<i64>,
        #[schema(required = true, nullable = false, min_length = 1, max_length = 200)]
        pub name: Option<String>,
        /// The expected order amount.
        #[schema(required = true, nullable = false)]
        pub amount: Option<Money>,
        /// The expected order date.
        #[schema(required = true, nullable = false)]
        pub expected_close: Option<Date>,
        /// The owner's username: the caller when absent; only a manager names someone else.
        pub owner: Option<String>,
        /// The customer's need (需求).
        #[schema(required = true, nullable = false, min_length = 1, max_length = 2000)]
        pub eval_need: Option<String>,
        /// The budget (预算).
        #[schema(required = true, nullable = false, min_length = 1, max_length = 2000)]
        pub eval_budget: Option<String>,
        /// The timeline (时间表).
        #[schema(required = true, nullable = false, min_length = 1, max_length = 2000)]
        pub eval_timeline: Option<String>,
        /// Who decides (决策人).
        #[schema(required = true, nullable = false, min_length = 1, max_length = 2000)]
        pub eval_decision_makers: Option<String>,
    }
);

opportunity_body!(
    /// An opportunity's fields to change: send `version` and only the fields to change (null
    /// clears an optional one). The stage moves only by `POST …/stage`.
    OpportunityUpdate {
        /// The version read.
        #[schema(required = true, nullable = false)]
        pub version: Option<i64>,
        #[schema(min_length = 1, max_length = 200)]
        pub name: Option<String>,
        pub amount: Option<Money>,
        pub expected_close: Option<Date>,
        /// The owner's username; only a manager gives it to someone else.
        pub owner: Option<String>,
        /// The customer's need (需求).
        #[schema(max_length = 2000)]
        pub eval_need: Option<String>,
        /// The budget (预算).
        #[schema(max_length = 2000)]
        pub eval_budget: Option<String>,
        /// The timeline (时间表).
        #[schema(max_length = 2000)]
        pub eval_timeline: Option<String>,
        /// Who decides (决策人).
        #[schema(max_length = 2000)]
        pub eval_decision_makers: Option<String>,
    }
);

/// A move to another stage.
#[derive(Deserialize, ToSchema)]
pub struct StageMoveBody {
    /// The stage to move to.
    #[schema(required = true, nullable = false)]
    pub stage: Option<Stage>,
    /// The version read.
    #[schema(required = true, nullable = false)]
    pub version: Option<i64>,
    /// Why: required for a move back or out of won/lost.
    #[schema(max_length = 1000)]
    pub reason: Option<String>,
    /// A manager's reason for moving forward past unmet exit criteria.
    #[schema(max_length = 1000)]
    pub override_reason: Option<String>,
    /// To won: the amount booked.
    pub booked_amount: Option<Money>,
    /// To won: the booking date (not in the future, not before it was established).
    pub booked_on: Option<Date>,
    /// To lost: why.
    #[schema(max_length = 1000)]
    pub lost_reason: Option<String>,
    /// To lost: the competitor who won it.
    #[schema(max_length = 200)]
    pub lost_to: Option<String>,
}

/// Checking or unchecking one exit criterion.
#[derive(Deserialize, ToSchema)]
pub struct CheckBody {
    /// A criterion's code, as the record's `checklist` lists them (e.g. `key_people_identified`).
    #[schema(required = true, nullable = false)]
    pub item: Option<String>,
    /// `true` (default) to check it, `false` to uncheck it.
    pub checked: Option<bool>,
    /// The version read.
    #[schema(required = true, nullable = false)]
    pub version: Option<i64>,
}

/// One month's quota of a person (`owner`) or an org unit (`org`, HQ roles only).
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct QuotaBody {
    /// `YYYY-MM`.
    #[schema(required = true, nullable = false, pattern = r"^[0-9]{4}-[0-9]{2}$")]
    pub month: Option<String>,
    /// A person's username (or `org`, not both).
    pub owner: Option<String>,
    /// An org unit's code (or `owner`, not both).
    pub org: Option<String>,
    /// The quota; 0 keeps a quota of 0.
    #[schema(required = true, nullable = false)]
    pub amount: Option<Money>,
}

/// The caller's forecast for this week and the three after.
#[derive(Deserialize, ToSchema)]
pub struct ForecastBody {
    /// One line per week, all four weeks.
    #[schema(required = true, nullable = false)]
    pub lines: Option<Vec<ForecastLine>>,
}

/// One week of a forecast.
#[derive(Deserialize, ToSchema)]
pub struct ForecastLine {
    /// The Monday of the week.
    #[schema(required = true, nullable = false)]
    pub week: Option<Date>,
    /// Orders expected in the week.
    #[schema(required = true, nullable = false)]
    pub commit: Option<Money>,
    /// Orders that could come in the week (≥ commit).
    #[schema(required = true, nullable = false)]
    pub best_case: Option<Money>,
}

/// A manager's adjustment of one week of someone's forecast.
#[derive(Deserialize, ToSchema)]
pub struct AdjustmentBody {
    /// The salesperson's username.
    #[schema(required = true, nullable = false)]
    pub owner: Option<String>,
    /// The Monday of one of the four forecast weeks.
    #[schema(required = true, nullable = false)]
    pub week: Option<Date>,
    #[schema(required = true, nullable = false)]
    pub commit: Option<Money>,
    #[schema(required = true, nullable = false)]
    pub best_case: Option<Money>,
    #[schema(max_length = 1000)]
    pub reason: Option<String>,
}

/// An opportunity's history, oldest first.
#[derive(Serialize, ToSchema)]
pub struct HistoryList {
    pub items: Vec<HistoryRow>,
}

/// The forecast report: one entry per person in the caller's scope.
#[derive(Serialize, ToSchema)]
pub struct ForecastReport {
    pub items: Vec<PersonForecast>,
}

/// The 422 of a quota import with refused rows: the error, beside the report.
#[derive(Serialize)]
struct ImportRefused {
    error: serde_json::Value,
    #[serde(flatten)]
    report: crate::app::spreadsheets::import::Report,
}

fn opportunity_example(with_checklist: bool) -> serde_json::Value {
    let mut v = json!({
        "id": 1024,
        "account_id": 42,
        "account_name": "北京星河精密制造有限公司",
        "name": "三坐标测量机扩产项目",
        "amount": "1200000.00",
        "currency": "CNY",
        "expected_close": "2027-06-30",
        "stage": "identified",
        "probability": 10,
        "weighted": "120000.00",
        "owner": "zhangwei",
        "owner_name": "张伟",
        "team": ["lina"],
        "products": "高精度三坐标测量机 ×2",
        "business_unit": null,
        "competitors": "海克斯康、蔡司",
        "source": "客户来电",
        "next_step": "安排技术交流",
        "next_step_due": "2027-01-15",
        "eval_need": "产线扩能，需要高精度测量设备",
        "eval_budget": "年度预算已批，约 120 万元",
        "eval_timeline": "二季度下单，三季度交付",
        "eval_decision_makers": "总经理王志远、采购部李敏",
        "eval_competition": null,
        "eval_advantages": null,
        "eval_strategy": null,
        "booked_amount": null,
        "booked_on": null,
        "lost_reason": null,
        "lost_to": null,
        "established_at": "2027-01-05T02:30:00.000000Z",
        "version": 1,
        "created_at": "2027-01-05T02:30:00.000000Z",
        "updated_at": "2027-01-05T02:30:00.000000Z"
    });
    if with_checklist {
        v["checklist"] = json!([
            {"item": "key_people_identified", "stage": "identified", "checked": true, "checked_by": "zhangwei", "checked_at": "2027-01-06T08:00:00.000000Z"},
            {"item": "org_structure_confirmed", "stage": "identified", "checked": false, "checked_by": null, "checked_at": null}
        ]);
    }
    v
}

fn won_example() -> serde_json::Value {
    let mut v = opportunity_example(true);
    v["stage"] = json!("won");
    v["probability"] = json!(100);
    v["weighted"] = json!("1200000.00");
    v["booked_amount"] = json!("1180000.00");
    v["booked_on"] = json!("2027-06-18");
    v["version"] = json!(8);
    v["updated_at"] = json!("2027-06-18T09:12:00.000000Z");
    v
}

fn filter(f: FilterQuery, sort: Option<Sort>, page: PageQuery) -> Filter {
    Filter {
        account_id: f.account_id,
        stage: f.stage.map(|s| s.code().to_string()),
        owner: f.owner,
        open: matches!(f.open.as_deref(), Some("true" | "1")),
        q: f.q,
        org: f.org,
        reached: f.reached.map(|s| s.code().to_string()),
        stage_days_over: f.stage_days_over,
        sort: sort.map(|s| s.code().to_string()),
        cursor: page.cursor,
        limit: page.limit,
    }
}

async fn list(
    State(s): State<AppState>,
    c: ApiCtx,
    Query(f): Query<FilterQuery>,
    Query(o): Query<SortQuery>,
    Query(p): Query<PageQuery>,
) -> ApiResult {
    let f = filter(f, o.sort, p);
    Ok(Json(opps::list(&s.app.db, &c.ctx.caller, &f).await?).into_response())
}

async fn count(State(s): State<AppState>, c: ApiCtx, Query(f): Query<FilterQuery>) -> ApiResult {
    let f = filter(f, None, PageQuery { cursor: None, limit: None });
    let count = opps::count(&s.app.db, &c.ctx.caller, &f).await?;
    Ok(Json(Count { count }).into_response())
}

async fn create(State(s): State<AppState>, c: ApiCtx, b: Body<OpportunityCreate>) -> ApiResult {
    let account_id = b.typed.account_id.ok_or_else(|| DomainError::invalid("account_id", "required"))?;
    let mut inp = b.input;
    inp.remove("account_id");
    let v = opps::establish(&s.app.db, &c.ctx, account_id, &inp).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

async fn get(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    Ok(Json(opps::get(&s.app.db, &c.ctx.caller, id).await?).into_response())
}

async fn update(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(Id(id)): Params<Id>,
    b: Body<OpportunityUpdate>,
) -> ApiResult {
    Ok(Json(opps::update(&s.app.db, &c.ctx, id, &b.input).await?).into_response())
}

async fn stage(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>, b: Typed<StageMoveBody>) -> ApiResult {
    let t = b.typed;
    let m = StageMove {
        stage: t.stage.map(|s| s.code().to_string()).unwrap_or_default(),
        version: t.version,
        reason: t.reason,
        override_reason: t.override_reason,
        booked_amount: t.booked_amount.map(|m| m.0),
        booked_on: t.booked_on.map(|d| d.0),
        lost_reason: t.lost_reason,
        lost_to: t.lost_to,
    };
    Ok(Json(opps::move_stage(&s.app.db, &c.ctx, id, &m).await?).into_response())
}

async fn check(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>, b: Typed<CheckBody>) -> ApiResult {
    let t = b.typed;
    let item = t.item.ok_or_else(|| DomainError::invalid("item", "required"))?;
    let version = t.version.ok_or_else(|| DomainError::invalid("version", "required"))?;
    let checked = t.checked.unwrap_or(true);
    Ok(Json(opps::set_check(&s.app.db, &c.ctx, id, &item, checked, version).await?).into_response())
}

async fn history(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    let items = opps::history(&s.app.db, &c.ctx.caller, id).await?;
    Ok(Json(HistoryList { items }).into_response())
}

async fn funnel(
    State(s): State<AppState>,
    c: ApiCtx,
    Query(q): Query<FunnelParams>,
    Query(f): Query<ReportFormatQuery>,
) -> ApiResult {
    let fq = FunnelQuery { as_of: q.as_of.map(|d| d.0), owner: q.owner, org: q.org };
    let r = reports::funnel_report(&s.app.db, &c.ctx.caller, &fq).await?;
    report(r, f, reports::funnel_table, "funnel")
}

async fn set_quota(State(s): State<AppState>, c: ApiCtx, b: Body<QuotaBody>) -> ApiResult {
    Ok(Json(crate::app::funnel::quotas::set(&s.app.db, &c.ctx, &b.input).await?).into_response())
}

async fn import_quotas(State(s): State<AppState>, c: ApiCtx, body: axum::body::Bytes) -> ApiResult {
    let src = crate::app::spreadsheets::import::Source::bytes(body);
    let r = crate::app::funnel::quotas::import(&s.app.db, &c.ctx, src).await?;
    if r.errors.is_empty() {
        return Ok(Json(r).into_response());
    }
    // Refused rows: an error like any other 422 (so a client handles it as one), with the
    // report's fields beside it.
    let error = json!({"code": "invalid_input", "message": c.lang.msg("err", "invalid_input"), "details": {}});
    Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(ImportRefused { error, report: r })).into_response())
}

async fn v_value(
    State(s): State<AppState>,
    c: ApiCtx,
    Query(p): Query<PeriodQuery>,
    Query(o): Query<OwnerQuery>,
    Query(f): Query<ReportFormatQuery>,
) -> ApiResult {
    let r =
        crate::app::funnel::quotas::v_report(&s.app.db, &c.ctx.caller, p.period.as_deref(), o.owner.as_deref()).await?;
    report(r, f, reports::v_value_table, "v-value")
}

async fn regions(
    State(s): State<AppState>,
    c: ApiCtx,
    Query(p): Query<PeriodQuery>,
    Query(f): Query<ReportFormatQuery>,
) -> ApiResult {
    let r = reports::regions(&s.app.db, &c.ctx.caller, p.period.as_deref()).await?;
    report(r, f, reports::regions_table, "regions")
}

async fn monthly(
    State(s): State<AppState>,
    c: ApiCtx,
    Query(o): Query<OwnerQuery>,
    Query(f): Query<ReportFormatQuery>,
) -> ApiResult {
    let r = reports::monthly(&s.app.db, &c.ctx.caller, o.owner.as_deref()).await?;
    report(r, f, reports::monthly_table, "monthly-forecast")
}

async fn submit_forecast(
    State(s): State<AppState>,
    c: ApiCtx,
    Typed { typed: b, .. }: Typed<ForecastBody>,
) -> ApiResult {
    let lines: Vec<(String, String, String)> = b
        .lines
        .unwrap_or_default()
        .into_iter()
        .map(|l| {
            (
                l.week.map(|d| d.0).unwrap_or_default(),
                l.commit.map(|m| m.0).unwrap_or_default(),
                l.best_case.map(|m| m.0).unwrap_or_default(),
            )
        })
        .collect();
    let r = crate::app::funnel::forecasts::submit(&s.app.db, &c.ctx, &lines).await?;
    Ok((StatusCode::CREATED, Json(r)).into_response())
}

async fn adjust_forecast(State(s): State<AppState>, c: ApiCtx, b: Typed<AdjustmentBody>) -> ApiResult {
    let t = b.typed;
    let r = crate::app::funnel::forecasts::adjust(
        &s.app.db,
        &c.ctx,
        t.owner.as_deref().unwrap_or_default(),
        t.week.as_ref().map(|d| d.0.as_str()).unwrap_or_default(),
        t.commit.as_ref().map(|m| m.0.as_str()).unwrap_or_default(),
        t.best_case.as_ref().map(|m| m.0.as_str()).unwrap_or_default(),
        t.reason.as_deref(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(r)).into_response())
}

async fn forecast_report(
    State(s): State<AppState>,
    c: ApiCtx,
    Query(o): Query<OwnerQuery>,
    Query(f): Query<ReportFormatQuery>,
) -> ApiResult {
    let items = crate::app::funnel::forecasts::report(&s.app.db, &c.ctx.caller, o.owner.as_deref()).await?;
    report(ForecastReport { items }, f, |r| reports::forecast_table(&r.items), "forecast")
}

async fn one_on_one(State(s): State<AppState>, c: ApiCtx, Query(q): Query<OneOnOneQuery>) -> ApiResult {
    let owner = q.owner.ok_or_else(|| DomainError::invalid("owner", "required"))?;
    Ok(Json(crate::app::funnel::reviews::one_on_one(&s.app.db, &c.ctx.caller, &owner).await?).into_response())
}

async fn today(State(s): State<AppState>, c: ApiCtx) -> ApiResult {
    Ok(Json(crate::app::funnel::quotas::daily(&s.app.db, &c.ctx.caller).await?).into_response())
}
