//! The receivables reports' API (issue 21 item 6): the receivables list an aging figure opens
//! (and its export), the DSO, the collection forecast, an account's statement (对账单).
use axum::extract::State;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::app::orders::receivable_reports::{self as rr, CollectionForecast, DsoReport, Filter, Statement};
use crate::app::orders::receivables::ReceivableView;
use crate::domain::receivable::ReceivableState;
use crate::domain::DomainError;
use crate::web::api::contract::{FormatQuery, Id, PageQuery};
use crate::web::api::{person_download, Api, ApiResult, Op, Params, Query};
use crate::web::auth::ApiCtx;
use crate::web::AppState;

pub fn routes(api: Api) -> Api {
    api.add(
        Op::get("/api/v1/receivables", "List receivables in scope: what an aging figure sums, by account, owner, org unit, bucket, state, due dates", "receivables")
            .describe(
                "An aging cell's list: `bucket` (0 not yet due, 1 the first bucket 0–30, … the last over 90) with \
                 the row's key as `account_id`, `owner`, `team` (the manager's username), `org` (a branch's or \
                 region's code) or `outside` (team|branch|region: the row with the empty key) gives exactly the open \
                 receivables the cell sums. Paged with `next_cursor`.",
            )
            .query::<ReceivableFilterQuery>()
            .query::<ReceivableSortQuery>()
            .query::<PageQuery>()
            .page::<ReceivableView>(),
        list,
    )
    .add(
        Op::get("/api/v1/receivables/export", "Export the receivables the filters find as CSV or XLSX (?format=xlsx)", "receivables")
            .describe("Every receivable the filters find (at most 50,000), in the list's order; XLSX amounts are number cells in yuan.")
            .query::<ReceivableFilterQuery>()
            .query::<ReceivableSortQuery>()
            .query::<FormatQuery>()
            .download()
            .with_format_schema(),
        export,
    )
    .add(
        Op::get("/api/v1/reports/dso", "Days sales outstanding (DSO) in scope over a period", "receivables")
            .describe(
                "Open receivables' outstanding today ÷ invoiced (red-letter invoices subtracted) in the `days` days \
                 ending today × `days`, rounded to the day; null without sales in the period.",
            )
            .query::<DsoQuery>()
            .ok::<DsoReport>(200),
        dso,
    )
    .add(
        Op::get("/api/v1/reports/collection-forecast", "Collection forecast (回款预测) in scope by owner over the next 8 weeks", "receivables")
            .describe(
                "Open receivables by the week they fall due (the first week starts today), those past due in \
                 `overdue`; a receivable whose latest promise to pay is for today or later counts the promised \
                 amount on the promised week instead.",
            )
            .ok::<CollectionForecast>(200),
        forecast,
    )
    .add(
        Op::get("/api/v1/accounts/{id}/statement", "An account's statement (对账单) for a period, as JSON or XLSX", "receivables")
            .describe(
                "The balance (invoiced less paid) at `from` (default 1 January), each invoice (debit) and payment \
                 (credit) up to `to` (default today) with the running balance, the closing balance, and the open \
                 receivables today. `format=xlsx` (or csv) downloads it; amounts as number cells.",
            )
            .query::<StatementQuery>()
            .report::<Statement>(),
        statement,
    )
}

/// Which receivables.
#[derive(Deserialize, IntoParams)]
pub struct ReceivableFilterQuery {
    /// Only this account's.
    pub account_id: Option<i64>,
    /// Only this owner's (username).
    #[param(max_length = 100)]
    pub owner: Option<String>,
    /// Only the owners reporting directly to this manager (username).
    #[param(max_length = 100)]
    pub team: Option<String>,
    /// Only owners in this org unit or below (its code).
    #[param(max_length = 100)]
    pub org: Option<String>,
    /// Only owners outside any `team`, `branch` or `region`.
    #[param(max_length = 20)]
    pub outside: Option<String>,
    /// An aging column: 0 not yet due, 1 the first bucket, …; implies open.
    #[param(minimum = 0, maximum = 9)]
    pub bucket: Option<i64>,
    /// Only in this state.
    pub state: Option<ReceivableState>,
    /// Due on or after.
    #[param(format = Date)]
    pub due_from: Option<String>,
    /// Due on or before.
    #[param(format = Date)]
    pub due_to: Option<String>,
}

/// The list's order.
#[derive(Deserialize, IntoParams)]
pub struct ReceivableSortQuery {
    /// `due` (default, the earliest due first), `-due`, `-outstanding` (the largest first), `outstanding`.
    #[param(inline)]
    pub sort: Option<ReceivableSort>,
}

/// A list order of receivables.
#[derive(Deserialize, ToSchema, Clone, Copy)]
pub enum ReceivableSort {
    #[serde(rename = "due")]
    Due,
    #[serde(rename = "-due")]
    DueDesc,
    #[serde(rename = "-outstanding")]
    OutstandingDesc,
    #[serde(rename = "outstanding")]
    Outstanding,
}

impl ReceivableSort {
    fn code(self) -> &'static str {
        match self {
            ReceivableSort::Due => "due",
            ReceivableSort::DueDesc => "-due",
            ReceivableSort::OutstandingDesc => "-outstanding",
            ReceivableSort::Outstanding => "outstanding",
        }
    }
}

/// The DSO's period.
#[derive(Deserialize, IntoParams)]
pub struct DsoQuery {
    /// Days ending today (default 90).
    #[param(minimum = 1, maximum = 3660)]
    pub days: Option<i64>,
}

/// The statement's period and form.
#[derive(Deserialize, IntoParams)]
pub struct StatementQuery {
    /// First day (default: 1 January of this year).
    #[param(format = Date)]
    pub from: Option<String>,
    /// Last day (default: today).
    #[param(format = Date)]
    pub to: Option<String>,
    /// `json` (default), `xlsx` or `csv`.
    #[param(max_length = 10)]
    pub format: Option<String>,
}

fn today(c: &ApiCtx) -> chrono::NaiveDate {
    chrono::NaiveDate::parse_from_str(&c.ctx.caller.today(), "%Y-%m-%d").unwrap_or_default()
}

fn filter_of(f: ReceivableFilterQuery, o: ReceivableSortQuery, p: Option<PageQuery>) -> Filter {
    Filter {
        account_id: f.account_id,
        owner: f.owner,
        team: f.team,
        org: f.org,
        outside: f.outside,
        bucket: f.bucket,
        state: f.state.map(|s| s.code().to_string()),
        due_from: f.due_from,
        due_to: f.due_to,
        sort: o.sort.map(|s| s.code().to_string()),
        cursor: p.as_ref().and_then(|p| p.cursor.clone()),
        limit: p.and_then(|p| p.limit),
    }
}

async fn list(
    State(s): State<AppState>,
    c: ApiCtx,
    Query(f): Query<ReceivableFilterQuery>,
    Query(o): Query<ReceivableSortQuery>,
    Query(p): Query<PageQuery>,
) -> ApiResult {
    let f = filter_of(f, o, Some(p));
    Ok(Json(
        rr::list(&s.app.db, &c.ctx.caller, &f, today(&c), &crate::app::orders::policy::load(&s.app.db).await?.bounds())
            .await?,
    )
    .into_response())
}

async fn export(
    State(s): State<AppState>,
    c: ApiCtx,
    Query(f): Query<ReceivableFilterQuery>,
    Query(o): Query<ReceivableSortQuery>,
    Query(fmt): Query<FormatQuery>,
) -> ApiResult {
    let rows = rr::export_rows(
        &s.app.db,
        &c.ctx.caller,
        &filter_of(f, o, None),
        today(&c),
        &crate::app::orders::policy::load(&s.app.db).await?.bounds(),
    )
    .await?;
    Ok(person_download(&rr::table(&rows), &c.ctx.caller, c.lang, fmt.code().unwrap_or("csv"), "receivables")?)
}

async fn dso(State(s): State<AppState>, c: ApiCtx, Query(q): Query<DsoQuery>) -> ApiResult {
    let days = q.days.unwrap_or(rr::DSO_DAYS);
    Ok(Json(rr::dso(&s.app.db, &c.ctx.caller, today(&c), days).await?).into_response())
}

async fn forecast(State(s): State<AppState>, c: ApiCtx) -> ApiResult {
    Ok(Json(rr::forecast(&s.app.db, &c.ctx.caller, today(&c)).await?).into_response())
}

async fn statement(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(Id(id)): Params<Id>,
    Query(q): Query<StatementQuery>,
) -> ApiResult {
    let format = match q.format.as_deref().map(str::trim).unwrap_or("json") {
        "" | "json" => None,
        f @ ("xlsx" | "csv") => Some(f),
        _ => return Err(DomainError::invalid("format", "invalid_choice").into()),
    };
    let t = today(&c);
    let (from, to) = rr::statement_period(q.from.as_deref(), q.to.as_deref(), t)?;
    let st = rr::statement(&s.app.db, &c.ctx.caller, id, from, to, t).await?;
    match format {
        None => Ok(Json(st).into_response()),
        Some(f) => Ok(person_download(&rr::statement_table(&st), &c.ctx.caller, c.lang, f, "statement")?),
    }
}
