//! `/api/v1/accounts/{id}/invoicing`: the customer's invoicing details (开票信息).
use axum::extract::State;
use axum::Json;
use serde_json::json;

use crate::app::orders::invoicing::{self, InvoicingIn, InvoicingView};
use crate::web::api::contract::Id;
use crate::web::api::{Api, ApiResult, Op, Params, Typed};
use crate::web::auth::ApiCtx;
use crate::web::AppState;
use axum::response::IntoResponse;

pub fn routes(api: Api) -> Api {
    api.add(
        Op::get(
            "/api/v1/accounts/{id}/invoicing",
            "The account's invoicing details (开票信息; version 0 and empty fields when none are recorded)",
            "orders",
        )
        .ok::<InvoicingView>(200),
        get,
    )
    .add(
        Op::put(
            "/api/v1/accounts/{id}/invoicing",
            "Record the account's invoicing details over the version read",
            "orders",
        )
        .describe(
            "The whole record: the invoice title and the tax number are required. A tax number of 18 characters \
                 must be a valid unified social credit code (its check character verified), otherwise 15–20 letters \
                 and digits; a bank account 8–34 letters and digits (spaces and dashes dropped) and needs the bank. \
                 A stale version: 409; bad input: 422 naming the field.",
        )
        .body_example::<InvoicingIn>(json!({
            "version": 0, "title": "天成信息技术股份有限公司", "tax_number": "91350100M000100Y43",
            "address": "北京市海淀区中关村大街 1 号 010-62345678", "phone": "010-62345678",
            "bank": "中国工商银行北京中关村支行", "bank_account": "0200 0045 0920 1234 567"
        }))
        .ok::<InvoicingView>(200)
        .errors(&[409]),
        put,
    )
}

async fn get(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    Ok(Json(invoicing::get(&s.app.db, &c.ctx.caller, id).await?).into_response())
}

async fn put(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>, b: Typed<InvoicingIn>) -> ApiResult {
    Ok(Json(invoicing::put(&s.app.db, &c.ctx, id, &b.typed).await?).into_response())
}
