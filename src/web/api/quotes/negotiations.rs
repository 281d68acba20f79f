//! An opportunity's negotiation rounds (商务谈判), with the escalation a round may ask for.
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::app::quotes::negotiations::{self, RoundIn, RoundView};
use crate::web::api::contract::Id;
use crate::web::api::{Api, ApiResult, Op, Params, Typed};
use crate::web::auth::ApiCtx;
use crate::web::AppState;

pub fn routes(api: Api) -> Api {
    api.add(
        Op::get("/api/v1/opportunities/{id}/negotiations", "An opportunity's negotiation rounds, latest first", "bids")
            .ok::<RoundList>(200),
        of_opportunity,
    )
    .add(
        Op::post(
            "/api/v1/opportunities/{id}/negotiations",
            "Record a negotiation round (商务谈判); with asked_discount and escalation_reason it asks for authority \
             beyond the author's own (negotiation_escalation: their manager, then the KA director)",
            "bids",
        )
        .describe(
            "The asked discount must lie above the author's own limit (the discount_exception table) and at most \
             100 %; the round's outcome follows the request. Bad input: 422 naming the field, nothing saved.",
        )
        .body_example::<RoundIn>(json!({
            "held_on": "2027-02-20",
            "participants": "客户采购部刘经理、技术部王工；我方林涛、售前张工",
            "our_position": "总价 96 万，含三年维保",
            "their_position": "要求降至 88 万",
            "concessions": "我方同意延长维保至五年",
            "next_step": "下周报新价格",
            "asked_discount": "12",
            "escalation_reason": "竞品报价 88 万，需 12% 折扣保住项目"
        }))
        .ok::<RoundView>(201)
        .errors(&[404, 409]),
        create,
    )
    .add(Op::get("/api/v1/negotiations/{id}", "A negotiation round", "bids").ok::<RoundView>(200), get)
    .add(
        Op::patch(
            "/api/v1/negotiations/{id}",
            "Revise a negotiation round (needs its version): the record corrected in place; a changed ask withdraws a \
             pending escalation and asks again, no ask withdraws it",
            "bids",
        )
        .body_example::<RoundIn>(json!({
            "version": 2,
            "held_on": "2027-02-20",
            "participants": "客户采购部刘经理、技术部王工；我方林涛、售前张工",
            "their_position": "要求降至 86 万",
            "asked_discount": "13",
            "escalation_reason": "竞品再降价，需 13% 折扣"
        }))
        .ok::<RoundView>(200)
        .errors(&[404, 409]),
        update,
    )
}

async fn get(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    Ok(Json(negotiations::get(&s.app.db, &c.ctx.caller, id).await?).into_response())
}

async fn update(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>, b: Typed<RoundIn>) -> ApiResult {
    Ok(Json(negotiations::update(&s.app.db, &c.ctx, id, &b.typed).await?).into_response())
}

/// `{"items": […]}`.
#[derive(Serialize, ToSchema)]
pub struct RoundList {
    pub items: Vec<RoundView>,
}

async fn of_opportunity(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    crate::app::funnel::opportunities::get(&s.app.db, &c.ctx.caller, id).await?;
    let items = negotiations::of_opportunity(&s.app.db, &c.ctx.caller, id).await?;
    Ok(Json(RoundList { items }).into_response())
}

async fn create(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>, b: Typed<RoundIn>) -> ApiResult {
    let v = negotiations::create(&s.app.db, &c.ctx, id, &b.typed).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}
