//! The planning year (issue 23 item 3): the year's calendar, an account's priorities and
//! reviewer, the plan settings, and the planning calendar of every key account of a year.
use axum::extract::State;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

use crate::app::plans::calendar::{
    self, PlanCalendarFilter, PlanCalendarIn, PlanCalendarRow, PlanCalendarView, PlanPrioritiesIn, PlanPrioritiesView,
    PlanSettingsIn, PlanSettingsView,
};
use crate::app::Error;
use crate::web::api::contract::{FormatQuery, Id, PageQuery};
use crate::web::api::{export_response, Api, ApiResult, Op, Params, Query, Typed};
use crate::web::auth::ApiCtx;
use crate::web::AppState;

pub fn routes(api: Api) -> Api {
    api.add(
        Op::get("/api/v1/plans/calendar/{year}", "A plan year's calendar (the default one until it is set)", "plans")
            .describe(
                "When preparation, drafting, review and execution begin, with senior management's priorities and the \
                 guidelines; `is_default` while the KA director has not set the year.",
            )
            .ok::<PlanCalendarView>(200),
        get_calendar,
    )
    .add(
        Op::put(
            "/api/v1/plans/calendar/{year}",
            "Set a plan year's calendar (the KA director, the general manager, the marketing director, the sales department manager)",
            "plans",
        )
        .describe(
            "The dates in order (`prepare_from` ≤ `draft_from` ≤ `draft_due` ≤ `review_due` ≤ `execute_from`, else 422 \
             `date_order` on the later one); drafting lasts 8 to 12 weeks (else 422 `draft_due` `drafting_weeks`). \
             `version` 0 for a year not set yet; a stale version is 409. Anyone else: 403.",
        )
        .body_example::<PlanCalendarIn>(json!({"prepare_from": "2026-09-01", "draft_from": "2026-10-01",
            "draft_due": "2026-12-10", "review_due": "2026-12-20", "execute_from": "2027-01-01",
            "priorities": "战略客户份额提升 5 个百分点", "guidelines": "每个目标须有度量和负责人", "version": 0}))
        .ok::<PlanCalendarView>(200)
        .errors(&[409]),
        put_calendar,
    )
    .add(
        Op::get(
            "/api/v1/plans/calendar",
            "The planning calendar: every key account of a year in scope with its plan's phase, owner, tier, dates, next review and reviewer; late plans marked",
            "plans",
        )
        .query::<YearQuery>()
        .query::<CalendarQuery>()
        .query::<PageQuery>()
        .page::<PlanCalendarRow>(),
        list,
    )
    .add(
        Op::get("/api/v1/plans/calendar/export", "Export the planning calendar as CSV or XLSX (?format=xlsx)", "plans")
            .query::<YearQuery>()
            .query::<CalendarQuery>()
            .query::<FormatQuery>()
            .download()
            .with_format_schema(),
        export,
    )
    .add(
        Op::put(
            "/api/v1/plans/{id}/priorities",
            "Set management's priorities and expectations for an account's plan and who reviews it (phase 1)",
            "plans",
        )
        .describe(
            "The KA director and those above, on plans of accounts they see (others 403; a plan out of scope 404). \
             `reviewer`: a username (unknown: 422); empty clears. `version`: the plan's version read (stale: 409).",
        )
        .body_example::<PlanPrioritiesIn>(json!({"priorities": "保持份额，拓展新平台", "reviewer": "gm", "version": 1}))
        .ok::<PlanPrioritiesView>(200)
        .errors(&[409]),
        put_priorities,
    )
    .add(
        Op::get(
            "/api/v1/settings/plans",
            "The plan settings: the review cadence by tier, the lead days, the tiers of the six-monthly report",
            "plans",
        )
        .ok::<PlanSettingsView>(200),
        get_settings,
    )
    .add(
        Op::put(
            "/api/v1/settings/plans",
            "Replace the plan settings (the administrator, the KA director and those above)",
            "plans",
        )
        .describe(
            "Cadences `quarterly`, `yearly`, `collective`; `lead_days` 0–60 (else 422); `report_tiers` among \
             `strategic`, `A`, `B`, `C`, at least one. `version` as read (0: never saved); stale: 409.",
        )
        .body_example::<PlanSettingsIn>(json!({"strategic": "quarterly", "a": "yearly", "b": "collective",
            "c": "collective", "lead_days": 14, "report_tiers": ["strategic", "A"], "version": 0}))
        .ok::<PlanSettingsView>(200)
        .errors(&[409]),
        put_settings,
    )
}

/// The plan year.
#[derive(Deserialize, IntoParams)]
pub struct YearQuery {
    /// The plan year (2000–2100); next year when absent.
    #[param(minimum = 2000, maximum = 2100)]
    pub year: Option<i32>,
}

/// The planning calendar's filter and order.
#[derive(Deserialize, IntoParams, Default)]
pub struct CalendarQuery {
    /// A phase (`preparation`, `drafting`, `review`, `execution`) or `not_started`.
    #[param(max_length = 20, pattern = "^(preparation|drafting|review|execution|not_started)$")]
    pub phase: Option<String>,
    /// `strategic`, `A`, `B` or `C`.
    #[param(max_length = 20)]
    pub tier: Option<String>,
    /// A region's org unit code.
    #[param(max_length = 100)]
    pub region: Option<String>,
    /// Only the late plans.
    pub late: Option<bool>,
    /// Matches the account's name.
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// `name` (default), `next_review`, `phase`, `tier`, `owner`; `-` before for descending.
    #[param(max_length = 20, pattern = "^-?(name|next_review|phase|tier|owner)$")]
    pub sort: Option<String>,
}

impl CalendarQuery {
    pub fn filter(self, p: Option<PageQuery>) -> PlanCalendarFilter {
        let (cursor, limit) = p.map(|p| (p.cursor, p.limit)).unwrap_or((None, None));
        let some = |s: Option<String>| s.map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        PlanCalendarFilter {
            phase: some(self.phase),
            tier: some(self.tier),
            region: some(self.region),
            late: self.late.unwrap_or(false),
            q: some(self.q),
            sort: some(self.sort),
            cursor,
            limit,
        }
    }
}

/// The plan year a page or list shows when none is given: next year from September on, this
/// year before.
pub fn default_year(today: chrono::NaiveDate) -> i32 {
    use chrono::Datelike;
    if today.month() >= 9 {
        today.year() + 1
    } else {
        today.year()
    }
}

fn year_of(s: &str) -> Result<i32, Error> {
    s.trim().parse::<i32>().ok().filter(|y| (2000..=2100).contains(y)).ok_or(Error::NotFound)
}

async fn get_calendar(State(s): State<AppState>, c: ApiCtx, Params(year): Params<String>) -> ApiResult {
    Ok(Json(calendar::calendar(&s.app.db, &c.ctx.caller, year_of(&year)?).await?).into_response())
}

async fn put_calendar(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(year): Params<String>,
    b: Typed<PlanCalendarIn>,
) -> ApiResult {
    Ok(Json(calendar::set_calendar(&s.app.db, &c.ctx, year_of(&year)?, &b.typed).await?).into_response())
}

async fn list(
    State(s): State<AppState>,
    c: ApiCtx,
    Query(y): Query<YearQuery>,
    Query(f): Query<CalendarQuery>,
    Query(p): Query<PageQuery>,
) -> ApiResult {
    let year = y.year.unwrap_or_else(|| default_year(c.ctx.caller.day()));
    Ok(Json(calendar::rows(&s.app.db, &c.ctx.caller, year, &f.filter(Some(p))).await?).into_response())
}

async fn export(
    State(s): State<AppState>,
    c: ApiCtx,
    Query(y): Query<YearQuery>,
    Query(f): Query<CalendarQuery>,
    Query(fmt): Query<FormatQuery>,
) -> ApiResult {
    let year = y.year.unwrap_or_else(|| default_year(c.ctx.caller.day()));
    let rows = calendar::export(&s.app.db, &c.ctx.caller, year, &f.filter(None)).await?;
    Ok(export_response(&calendar::table(&rows), fmt.code(), &format!("plan_calendar_{year}"))?)
}

async fn put_priorities(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(Id(id)): Params<Id>,
    b: Typed<PlanPrioritiesIn>,
) -> ApiResult {
    Ok(Json(calendar::set_priorities(&s.app.db, &c.ctx, id, &b.typed).await?).into_response())
}

async fn get_settings(State(s): State<AppState>, _c: ApiCtx) -> ApiResult {
    Ok(Json(calendar::load_settings(&s.app.db).await?).into_response())
}

async fn put_settings(State(s): State<AppState>, c: ApiCtx, b: Typed<PlanSettingsIn>) -> ApiResult {
    Ok(Json(calendar::save_settings(&s.app.db, &c.ctx, &b.typed).await?).into_response())
}
