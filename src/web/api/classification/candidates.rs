//! Candidates by rule (issue 22 item 7): the identification criteria, the candidate list and its
//! export, and the proposal of a candidate (`app::classification::candidates`).
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use crate::app::classification::candidates::{
    self as cand, CandidateRow, CriteriaIn, CriteriaView, Filter, ProposalView, ProposeIn,
};
use crate::domain::account::Industry;
use crate::web::api::contract::{FormatQuery, Id, PageQuery};
use crate::web::api::{person_download, Api, ApiResult, Op, Params, Query, Typed};
use crate::web::auth::ApiCtx;
use crate::web::AppState;

pub fn routes(api: Api) -> Api {
    api.add(
        Op::get(
            "/api/v1/settings/candidate-criteria",
            "The identification criteria of key accounts (识别大客户) in force, with their version",
            "settings",
        )
        .ok::<CriteriaView>(200),
        get_criteria,
    )
    .add(
        Op::put(
            "/api/v1/settings/candidate-criteria",
            "Replace the identification criteria (administrator, KA director and above)",
            "settings",
        )
        .describe(
            "Annual buying power and trailing sales at least (yuan; empty: not used), industries of interest, \
             strategic regions (org unit codes), market influence and loyalty at least (1–5, assessed on the \
             development plan), and how many of the criteria used an account must meet (1 to their number). \
             The seed leaves the thresholds blank: the defaults are the company's choice. The version read; \
             one saved since: 409.",
        )
        .body_example::<CriteriaIn>(json!({
            "min_buying_power": "5000000.00", "min_sales_12m": "1000000.00", "industries": ["power", "telecom"],
            "regions": [], "min_market_influence": 4, "min_loyalty": 4, "required": 2, "version": 0
        }))
        .ok::<CriteriaView>(200)
        .errors(&[409]),
        put_criteria,
    )
    .add(
        Op::get(
            "/api/v1/candidates",
            "Prospects and downgraded accounts in scope that meet the identification criteria, each with the criteria it meets (KA director and above)",
            "accounts",
        )
        .query::<CandidateQuery>()
        .query::<CandidateSortQuery>()
        .query::<PageQuery>()
        .page::<CandidateRow>(),
        list,
    )
    .add(
        Op::get("/api/v1/candidates/export", "Export the candidate list as CSV or XLSX (?format=xlsx)", "accounts")
            .query::<CandidateQuery>()
            .query::<CandidateSortQuery>()
            .query::<FormatQuery>()
            .download()
            .with_format_schema(),
        export,
    )
    .add(
        Op::post(
            "/api/v1/candidates/{id}/propose",
            "Propose an account of the candidate list (its id): it becomes a candidate and its owner is asked to complete the screening",
            "accounts",
        )
        .describe(
            "The account must be on the list: in scope (else 404), a prospect or downgraded account that meets \
             the criteria (else 422 `status` or `account_id`), with an owner (else 422 `owner`). The owner then \
             submits the screening (`POST /api/v1/accounts/{id}/screenings`), which asks for the decision.",
        )
        .body_example::<ProposeIn>(json!({"note": "年度采购量大，电力行业标杆，建议启动大客户筛选"}))
        .ok::<ProposalView>(201),
        propose,
    )
}

/// Which candidates.
#[derive(Deserialize, IntoParams)]
pub struct CandidateQuery {
    /// Only this industry.
    pub industry: Option<Industry>,
    /// Only accounts whose region or branch is this org unit (its code).
    #[param(max_length = 100)]
    pub org: Option<String>,
    /// `prospect` or `downgraded`.
    #[param(max_length = 20, pattern = "^(prospect|downgraded)$")]
    pub status: Option<String>,
}

/// The list's order.
#[derive(Deserialize, IntoParams)]
pub struct CandidateSortQuery {
    /// `-buying_power` (default, the largest first), `-sales_12m`, `name`.
    #[param(inline)]
    pub sort: Option<CandidateSort>,
}

/// An order of the candidate list.
#[derive(Deserialize, ToSchema, Clone, Copy)]
pub enum CandidateSort {
    #[serde(rename = "-buying_power")]
    BuyingPower,
    #[serde(rename = "-sales_12m")]
    Sales,
    #[serde(rename = "name")]
    Name,
}

impl CandidateSort {
    fn code(self) -> &'static str {
        match self {
            CandidateSort::BuyingPower => "-buying_power",
            CandidateSort::Sales => "-sales_12m",
            CandidateSort::Name => "name",
        }
    }
}

fn filter_of(q: CandidateQuery, o: CandidateSortQuery, p: Option<PageQuery>) -> Filter {
    Filter {
        industry: q.industry.map(|i| i.code().to_string()),
        org: q.org,
        status: q.status,
        sort: o.sort.map(|s| s.code().to_string()),
        cursor: p.as_ref().and_then(|p| p.cursor.clone()),
        limit: p.and_then(|p| p.limit),
    }
}

async fn get_criteria(State(s): State<AppState>, _c: ApiCtx) -> ApiResult {
    Ok(Json(cand::load(&s.app.db).await?).into_response())
}

async fn put_criteria(State(s): State<AppState>, c: ApiCtx, b: Typed<CriteriaIn>) -> ApiResult {
    Ok(Json(cand::save(&s.app.db, &c.ctx, &b.typed).await?).into_response())
}

async fn list(
    State(s): State<AppState>,
    c: ApiCtx,
    Query(q): Query<CandidateQuery>,
    Query(o): Query<CandidateSortQuery>,
    Query(p): Query<PageQuery>,
) -> ApiResult {
    Ok(Json(cand::list(&s.app.db, &c.ctx.caller, &filter_of(q, o, Some(p))).await?).into_response())
}

async fn export(
    State(s): State<AppState>,
    c: ApiCtx,
    Query(q): Query<CandidateQuery>,
    Query(o): Query<CandidateSortQuery>,
    Query(fmt): Query<FormatQuery>,
) -> ApiResult {
    let rows = cand::export_rows(&s.app.db, &c.ctx.caller, &filter_of(q, o, None)).await?;
    Ok(person_download(&cand::table(&rows), &c.ctx.caller, c.lang, fmt.code().unwrap_or("csv"), "candidates")?)
}

async fn propose(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>, b: Typed<ProposeIn>) -> ApiResult {
    let v = cand::propose(&s.app.db, &c.ctx, id, &b.typed).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}
