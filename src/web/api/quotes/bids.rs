//! `/api/v1/bids` and an opportunity's bids: the tender's facts, the bid/no-bid decision with
//! bid exceptions beyond authority, the result. Negotiation rounds are registered beside them.
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use crate::app::quotes::bids::{self, BidIn, BidView, DecideIn, Filter, ResultIn};
use crate::domain::bid::{BidDecision, BidResult};
use crate::web::api::contract::{FormatQuery, Id, PageQuery};
use crate::web::api::{Api, ApiResult, Op, Params, Query, Typed};
use crate::web::auth::ApiCtx;
use crate::web::AppState;

pub fn routes(api: Api) -> Api {
    let api = api
        .add(
            Op::get("/api/v1/bids", "List bids in scope (scoped as their opportunity)", "bids")
                .query::<FilterQuery>()
                .query::<SortQuery>()
                .query::<PageQuery>()
                .page::<BidView>(),
            list,
        )
        .add(
            Op::get("/api/v1/bids/export", "Export the bids the filters find as CSV or XLSX (?format=xlsx)", "bids")
                .describe(
                    "Every bid in scope the filters find (at most 100,000), in the list's order; headers and the \
                     file name in the caller's language (投标_2026-12-03.xlsx); XLSX amounts are number cells in \
                     yuan and codes their labels, CSV keeps decimal strings and codes.",
                )
                .query::<FilterQuery>()
                .query::<SortQuery>()
                .query::<FormatQuery>()
                .download()
                .with_format_schema(),
            export,
        )
        .add(
            Op::get("/api/v1/opportunities/{id}/bids", "An opportunity's bids, newest first", "bids")
                .ok::<BidList>(200),
            of_opportunity,
        )
        .add(
            Op::post(
                "/api/v1/opportunities/{id}/bids",
                "Record a tender (投标) on an opportunity: its facts; the decision follows",
                "bids",
            )
            .describe(
                "The submission deadline may not be before the deadline for questions, nor the bond's return \
                 before the submission; amounts are decimal yuan and not negative: 422 naming the field, nothing \
                 saved. A closed opportunity (won or lost): 409.",
            )
            .body_example::<BidIn>(json!({
                "issuer": "北京星河精密制造有限公司",
                "tender_no": "XH-2027-018",
                "questions_due": "2027-03-05",
                "submission_due": "2027-03-15",
                "bond_amount": "80000.00",
                "bond_return_on": "2027-04-15",
                "documents": "营业执照副本、ISO9001 证书、技术方案、报价文件"
            }))
            .ok::<BidView>(201)
            .errors(&[404, 409]),
            create,
        )
        .add(Op::get("/api/v1/bids/{id}", "A bid, whole", "bids").ok::<BidView>(200), get)
        .add(
            Op::patch(
                "/api/v1/bids/{id}",
                "Edit a bid's tender facts (needs its version); a decided bid whose bond changes is judged again",
                "bids",
            )
            .body_example::<BidIn>(json!({"version": 2, "bond_amount": "120000.00"}))
            .ok::<BidView>(200)
            .errors(&[409]),
            update,
        )
        .add(
            Op::post(
                "/api/v1/bids/{id}/decide",
                "Decide bid or no bid: a bid beyond authority (below a floor price, terms outside policy, a bond above \
                 the flow's bond_limit) starts a bid_exception request and waits for it",
                "bids",
            )
            .body_example::<DecideIn>(json!({
                "version": 1, "decision": "bid", "reasons": "客户关系稳固，技术指标匹配",
                "bid_price": "960000.00", "below_floor": false, "terms_outside_policy": true,
                "exception_note": "客户要求验收后付款 90%"
            }))
            .ok::<BidView>(200)
            .errors(&[409]),
            decide,
        )
        .add(
            Op::post(
                "/api/v1/bids/{id}/result",
                "Record how the tender ended: won, lost (naming the winner) or abandoned",
                "bids",
            )
            .body_example::<ResultIn>(json!({
                "version": 3, "result": "lost", "winner": "海克斯康", "winning_price": "910000.00",
                "note": "价格差距约 5%"
            }))
            .ok::<BidView>(200)
            .errors(&[409]),
            result,
        );
    super::negotiations::routes(api)
}

/// Which bids.
#[derive(Deserialize, IntoParams)]
pub struct FilterQuery {
    /// Only this opportunity's.
    pub opportunity_id: Option<i64>,
    /// Only this account's.
    pub account_id: Option<i64>,
    /// Only this owner's (username).
    pub owner: Option<String>,
    pub decision: Option<BidDecision>,
    pub result: Option<BidResult>,
    /// `true`: open bids (no result yet); `false`: ended ones.
    #[param(pattern = "^(true|false|1|0)$")]
    pub open: Option<String>,
    /// Open bids (not declined) whose submission deadline is within this many days (today included).
    #[param(minimum = 0, maximum = 3650)]
    pub due_within: Option<i64>,
    /// Matches the issuer, the tender number, the account's or the opportunity's name.
    #[param(max_length = 200)]
    pub q: Option<String>,
}

/// The list's order.
#[derive(Deserialize, IntoParams)]
pub struct SortQuery {
    /// `-updated` (default, latest first), `submission_due`, `-submission_due`.
    #[param(inline)]
    pub sort: Option<Sort>,
}

/// A list order of bids.
#[derive(Deserialize, ToSchema, Clone, Copy)]
pub enum Sort {
    #[serde(rename = "-updated")]
    UpdatedDesc,
    #[serde(rename = "submission_due")]
    SubmissionDue,
    #[serde(rename = "-submission_due")]
    SubmissionDueDesc,
}

impl Sort {
    fn code(self) -> &'static str {
        match self {
            Sort::UpdatedDesc => "-updated",
            Sort::SubmissionDue => "submission_due",
            Sort::SubmissionDueDesc => "-submission_due",
        }
    }
}

/// `{"items": […]}`.
#[derive(Serialize, ToSchema)]
pub struct BidList {
    pub items: Vec<BidView>,
}

fn filter_of(f: FilterQuery, o: SortQuery, p: Option<PageQuery>) -> Result<Filter, crate::domain::DomainError> {
    Ok(Filter {
        opportunity_id: f.opportunity_id,
        account_id: f.account_id,
        owner: f.owner,
        decision: f.decision.map(|d| d.code().to_string()),
        result: f.result.map(|r| r.code().to_string()),
        open: match f.open.as_deref() {
            Some("true" | "1") => Some(true),
            Some("false" | "0") => Some(false),
            None => None,
            Some(_) => return Err(crate::domain::DomainError::invalid("open", "invalid_choice")),
        },
        due_within: f.due_within,
        q: f.q,
        sort: o.sort.map(|s| s.code().to_string()),
        cursor: p.as_ref().and_then(|p| p.cursor.clone()),
        limit: p.and_then(|p| p.limit),
    })
}

async fn export(
    State(s): State<AppState>,
    c: ApiCtx,
    Query(f): Query<FilterQuery>,
    Query(o): Query<SortQuery>,
    Query(fmt): Query<FormatQuery>,
) -> ApiResult {
    let rows = bids::export(&s.app.db, &c.ctx.caller, &filter_of(f, o, None)?, &c.ctx.caller.today()).await?;
    let t = bids::table(&rows);
    Ok(crate::web::api::person_download(&t, &c.ctx.caller, c.lang, fmt.code().unwrap_or("csv"), "bids")?)
}

async fn list(
    State(s): State<AppState>,
    c: ApiCtx,
    Query(f): Query<FilterQuery>,
    Query(o): Query<SortQuery>,
    Query(p): Query<PageQuery>,
) -> ApiResult {
    let f = filter_of(f, o, Some(p))?;
    Ok(Json(bids::list(&s.app.db, &c.ctx.caller, &f, &c.ctx.caller.today()).await?).into_response())
}

async fn of_opportunity(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    // An opportunity out of scope is not found, not an empty list.
    crate::app::funnel::opportunities::get(&s.app.db, &c.ctx.caller, id).await?;
    let items = bids::of_opportunity(&s.app.db, &c.ctx.caller, id).await?;
    Ok(Json(BidList { items }).into_response())
}

async fn create(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>, b: Typed<BidIn>) -> ApiResult {
    let v = bids::create(&s.app.db, &c.ctx, id, &b.typed).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

async fn get(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    Ok(Json(bids::get(&s.app.db, &c.ctx.caller, id).await?).into_response())
}

async fn update(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>, b: Typed<BidIn>) -> ApiResult {
    Ok(Json(bids::update(&s.app.db, &c.ctx, id, &b.typed).await?).into_response())
}

async fn decide(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>, b: Typed<DecideIn>) -> ApiResult {
    Ok(Json(bids::decide(&s.app.db, &c.ctx, id, &b.typed).await?).into_response())
}

async fn result(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>, b: Typed<ResultIn>) -> ApiResult {
    Ok(Json(bids::record_result(&s.app.db, &c.ctx, id, &b.typed).await?).into_response())
}
