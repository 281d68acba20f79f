//! The six-monthly progress report on the most important accounts (issue 23 item 6), as JSON or
//! as a CSV/XLSX download.
use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::app::plans::report::{self, Filter, Report};
use crate::web::api::contract::{report as answer, ReportFormatQuery};
use crate::web::api::{Api, ApiResult, Op, Query};
use crate::web::auth::ApiCtx;
use crate::web::AppState;

pub fn routes(api: Api) -> Api {
    api.add(
        Op::get(
            "/api/v1/plans/report",
            "The six-monthly progress report (?half=YYYY-H1|YYYY-H2): the plans of the year of the accounts in scope whose tier the report covers",
            "plans",
        )
        .describe(
            "One item per plan of the half's year of an account the caller sees whose tier is among the settings' \
             `report_tiers` (default strategic and A), ordered by tier then account name: the objectives measured as \
             of the half's end (or today when earlier) with their counts by status, the milestones hit (done, due in \
             the half) and missed (not done, due by the half's end), the revenue booked in the half and the year so \
             far against the year's forecast and its half (half the year's figure), the gap (booked in the half − \
             the forecast's half), and the issues: what is slipping, the plan's points of attention, the latest \
             review's comment. With totals. A malformed `half` is 422 naming it. `?format=csv|xlsx` downloads it, a \
             row per plan and the totals, amounts and counts as numbers.",
        )
        .query::<ReportQuery>()
        .query::<ReportFormatQuery>()
        .report::<Report>(),
        get_report,
    )
}

/// `?half=&region=&tier=&owner=`.
#[derive(Deserialize, IntoParams)]
pub struct ReportQuery {
    /// The half-year, `2027-H1` or `2027-H2`; the current one when absent.
    #[param(pattern = r"^[0-9]{4}-H[12]$", example = "2027-H1")]
    pub half: Option<String>,
    /// A region's org unit code.
    pub region: Option<String>,
    /// One of the report's tiers.
    pub tier: Option<String>,
    /// The account owner's username.
    pub owner: Option<String>,
}

async fn get_report(
    State(s): State<AppState>,
    c: ApiCtx,
    Query(q): Query<ReportQuery>,
    Query(f): Query<ReportFormatQuery>,
) -> ApiResult {
    let caller = &c.ctx.caller;
    let half = q.half.clone().unwrap_or_else(|| report::current_half(caller));
    let filter = Filter { region: q.region, tier: q.tier, owner: q.owner };
    let r = report::report(&s.app.db, caller, &half, &filter).await?;
    answer(r, f, |r| report::table(r, "total"), "plan_report")
}
