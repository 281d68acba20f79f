//! An account's whitespace grid (issue 23 item 8): the customer's business units × our product
//! lines, a cell set by hand, and what stands behind a cell.
use axum::extract::State;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use crate::app::plans::whitespace::{self, CellDetail, Grid};
use crate::web::api::contract::{Id, Typed};
use crate::web::api::{Api, ApiResult, Op, Params, Query};
use crate::web::auth::ApiCtx;
use crate::web::AppState;

pub fn routes(api: Api) -> Api {
    api.add(
        Op::get(
            "/api/v1/accounts/{id}/whitespace",
            "The account's whitespace grid: its business units × our product lines, each cell sold, pipeline, competitor or open",
            "plans",
        )
        .describe(
            "Rows are the account's business units (its `business_units` split on new lines, commas, 、 and \
             semicolons; one row `整体`, the whole account, when it names none); columns the categories of active \
             products. A cell is `sold` when a signed order of the account has a product of the line, `pipeline` \
             when an open opportunity's quote has one, else `open`; orders and quotes name no business unit, so \
             this holds for every row. A cell set by hand (`by_hand`, with who and when) overrides the data; \
             `competitor` is only set by hand.",
        )
        .ok::<Grid>(200),
        get_grid,
    )
    .add(
        Op::put(
            "/api/v1/accounts/{id}/whitespace/cells",
            "Set a whitespace cell by hand ({business_unit, product_line, state, note}); state null clears it back to the data's",
            "plans",
        )
        .describe(
            "Who edits accounts and sees this one (others 403). 422 naming `state` (not sold, pipeline, competitor \
             or open), `business_unit` (not one of the account's), `product_line` (not one of ours) or `note` (over \
             1000 characters); nothing is saved. Answers the grid.",
        )
        .body_example::<CellBody>(json!({"business_unit": "乘用车事业部", "product_line": "测量设备", "state": "competitor", "note": "海克斯康已中标"}))
        .ok::<Grid>(200),
        put_cell,
    )
    .add(
        Op::get(
            "/api/v1/accounts/{id}/whitespace/cell",
            "One cell with its opportunities (quotes with lines of the product line) and orders (with lines of it) (?bu=&line=)",
            "plans",
        )
        .query::<CellQuery>()
        .ok::<CellDetail>(200),
        get_cell,
    )
}

/// A cell set by hand.
#[derive(Deserialize, ToSchema)]
#[schema(as = WhitespaceCellBody)]
pub struct CellBody {
    /// One of the account's business units (`整体` when it names none).
    pub business_unit: String,
    /// One of our product lines.
    pub product_line: String,
    /// `sold`, `pipeline`, `competitor` or `open`; null clears the cell.
    pub state: Option<String>,
    /// At most 1000 characters.
    #[serde(default)]
    pub note: Option<String>,
}

/// `?bu=&line=`.
#[derive(Deserialize, IntoParams)]
pub struct CellQuery {
    /// The business unit.
    pub bu: Option<String>,
    /// The product line.
    pub line: Option<String>,
}

async fn get_grid(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    Ok(Json(whitespace::grid(&s.app.db, &c.ctx.caller, id).await?).into_response())
}

async fn put_cell(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>, b: Typed<CellBody>) -> ApiResult {
    let b = b.typed;
    let g = whitespace::set_cell(
        &s.app.db,
        &c.ctx,
        id,
        &b.business_unit,
        &b.product_line,
        b.state.as_deref(),
        b.note.as_deref(),
    )
    .await?;
    Ok(Json(g).into_response())
}

async fn get_cell(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(Id(id)): Params<Id>,
    Query(q): Query<CellQuery>,
) -> ApiResult {
    let d =
        whitespace::cell(&s.app.db, &c.ctx.caller, id, q.bu.as_deref().unwrap_or(""), q.line.as_deref().unwrap_or(""))
            .await?;
    Ok(Json(d).into_response())
}
