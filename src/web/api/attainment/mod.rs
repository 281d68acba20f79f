//! The sales-credit split and attainment (issue 25 item 7): the split setting, attainment by
//! org unit (KA teams and branches) and month with the regions' and headquarters' totals
//! counting each order once, and the KA department's virtual profit centre.
use axum::extract::State;
use axum::response::IntoResponse;
use axum::Json;
use chrono::Datelike;
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

use crate::app::attainment::credits::{self, Attainment, ProfitCentre};
use crate::app::attainment::split::{self, CreditSplitIn, CreditSplitView};
use crate::domain::DomainError;
use crate::web::api::contract::{ReportFormat, ReportFormatQuery};
use crate::web::api::{person_download, Api, ApiResult, Op, Query, Typed};
use crate::web::auth::ApiCtx;
use crate::web::AppState;

pub fn routes(api: Api) -> Api {
    api.add(
        Op::get("/api/v1/attainment/split", "The sales-credit split in force and the ones before it", "attainment")
            .describe(
                "Each signed order credits the KA team (the org unit of the account's KA manager) and the branch where \
                 the deal happened (the account's branch) by these shares — by default 100 % each. For those who read \
                 attainment and the administrator; anyone else 403.",
            )
            .ok::<CreditSplitView>(200),
        get_split,
    )
    .add(
        Op::put("/api/v1/attainment/split", "Set the sales-credit split (the KA director or the administrator)", "attainment")
            .describe(
                "Each share in percent, 0–100 (`team_share`, `branch_share`; outside: 422 percent_range, not a number: \
                 percent_format; nothing saved), with the `version` shown (stale: 409). In force for orders signed from \
                 now; orders signed before keep the split they were signed under.",
            )
            .body_example::<CreditSplitIn>(json!({"team_share": "60", "branch_share": "40", "note": "2027 年起按 60/40 计入", "version": 0}))
            .ok::<CreditSplitView>(200)
            .errors(&[409]),
        put_split,
    )
    .add(
        Op::get("/api/v1/attainment", "Attainment by org unit (KA teams and branches) and month: credited revenue and profit against quota", "attainment")
            .describe(
                "Signed orders not cancelled, by their signing month; each side credited its share of the order's signed \
                 total and of its margin. `regions` and `hq` count each order once, whole. The KA director, the sales \
                 department manager, the general manager and the finance manager see every unit; branch and KA managers \
                 the units of their part of the org tree (`unit` outside it or unknown: 404); anyone else 403. \
                 `format=csv|xlsx` downloads it.",
            )
            .query::<AttainmentQuery>()
            .query::<ReportFormatQuery>()
            .report::<Attainment>()
            .errors(&[404]),
        get_attainment,
    )
    .add(
        Op::get("/api/v1/attainment/profit-centre", "The KA department's virtual profit centre by month", "attainment")
            .describe(
                "The KA teams' credited revenue and profit minus the spending signed or approved on the KA department's \
                 cost centres (headquarters and the KA teams' units). Those who see every unit; anyone else 403. \
                 `format=csv|xlsx` downloads it.",
            )
            .query::<YearQuery>()
            .query::<ReportFormatQuery>()
            .report::<ProfitCentre>(),
        get_profit_centre,
    )
}

#[derive(Deserialize, IntoParams, Default)]
pub struct YearQuery {
    /// The year (this year when absent).
    #[param(minimum = 2000, maximum = 2100)]
    pub year: Option<i64>,
}

#[derive(Deserialize, IntoParams, Default)]
pub struct AttainmentQuery {
    /// The year (this year when absent).
    #[param(minimum = 2000, maximum = 2100)]
    pub year: Option<i64>,
    /// One org unit only (its code).
    #[param(max_length = 32)]
    pub unit: Option<String>,
}

/// The year asked for, this year when absent (out of 2000–2100: 422 `year`).
pub fn year_in(y: Option<i64>, c: &crate::app::Caller) -> Result<i32, DomainError> {
    match y {
        None => Ok(c.day().year()),
        Some(y) if (2000..=2100).contains(&y) => Ok(y as i32),
        Some(_) => Err(DomainError::invalid("year", "year_range")),
    }
}

async fn get_split(State(s): State<AppState>, c: ApiCtx) -> ApiResult {
    Ok(Json(split::get(&s.app.db, &c.ctx.caller).await?).into_response())
}

async fn put_split(State(s): State<AppState>, c: ApiCtx, b: Typed<CreditSplitIn>) -> ApiResult {
    Ok(Json(split::set(&s.app.db, &c.ctx, &b.typed).await?).into_response())
}

async fn get_attainment(
    State(s): State<AppState>,
    c: ApiCtx,
    Query(q): Query<AttainmentQuery>,
    Query(f): Query<ReportFormatQuery>,
) -> ApiResult {
    let year = year_in(q.year, &c.ctx.caller)?;
    let a = credits::attainment(&s.app.db, &c.ctx.caller, year, q.unit.as_deref()).await?;
    match f.format {
        None | Some(ReportFormat::Json) => Ok(Json(a).into_response()),
        Some(ReportFormat::Csv) => {
            Ok(person_download(&credits::attainment_table(&a), &c.ctx.caller, c.lang, "csv", "attainment")?)
        }
        Some(ReportFormat::Xlsx) => {
            Ok(person_download(&credits::attainment_table(&a), &c.ctx.caller, c.lang, "xlsx", "attainment")?)
        }
    }
}

async fn get_profit_centre(
    State(s): State<AppState>,
    c: ApiCtx,
    Query(q): Query<YearQuery>,
    Query(f): Query<ReportFormatQuery>,
) -> ApiResult {
    let year = year_in(q.year, &c.ctx.caller)?;
    let p = credits::profit_centre(&s.app.db, &c.ctx.caller, year).await?;
    let t = credits::profit_centre_table(&p);
    match f.format {
        None | Some(ReportFormat::Json) => Ok(Json(p).into_response()),
        Some(ReportFormat::Csv) => Ok(person_download(&t, &c.ctx.caller, c.lang, "csv", "profit_centre")?),
        Some(ReportFormat::Xlsx) => Ok(person_download(&t, &c.ctx.caller, c.lang, "xlsx", "profit_centre")?),
    }
}
