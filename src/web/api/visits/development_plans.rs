//! The development plan of a target account (大客户开发方案, issue 22 item 9;
//! `app::visits::development_plans`).
use axum::extract::State;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;

use crate::app::visits::development_plans::{self as plans, DevPlanIn, DevPlanView};
use crate::web::api::contract::Id;
use crate::web::api::{Api, ApiResult, Op, Params, Typed};
use crate::web::auth::ApiCtx;
use crate::web::AppState;

pub fn routes(api: Api) -> Api {
    api.add(
        Op::get(
            "/api/v1/accounts/{id}/development-plan",
            "The account's development plan (大客户开发方案) and every saved version of it",
            "activities",
        )
        .ok::<DevPlanView>(200),
        get,
    )
    .add(
        Op::put(
            "/api/v1/accounts/{id}/development-plan",
            "Save the development plan of a prospect, candidate or downgraded account over the version read",
            "activities",
        )
        .describe(
            "Development value, our competitive advantages, the development method (each at most 4000 \
             characters), the competitors and their positions, the planned steps (step, owner's username, due \
             day, done) and the account's market influence and loyalty (1–5). Too long: 422 naming the field, \
             never cut. A key account: 422 `status`. The version read (0 for the first); one saved since: 409.",
        )
        .body_example::<DevPlanIn>(json!({
            "dev_value": "华北电网年度采购量约 8000 万元，进入其供应商名录可带动区域内地市公司",
            "advantages": "本地化服务团队，48 小时到场；在线检测系统已在两家省公司运行",
            "method": "邀请参加 3 月产品推广会，随后由大区经理上门拜访设备部",
            "competitors": [{"name": "华测仪器", "position": "现有供应商，份额约 60%，服务响应慢"}],
            "steps": [{"step": "产品推广会邀请函", "owner": "repA", "due_on": "2027-03-01", "done": false}],
            "market_influence": 5, "loyalty": 3, "version": 0
        }))
        .ok::<DevPlanView>(200)
        .errors(&[409]),
        put,
    )
}

async fn get(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    Ok(Json(plans::get(&s.app.db, &c.ctx.caller, id).await?).into_response())
}

async fn put(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>, b: Typed<DevPlanIn>) -> ApiResult {
    Ok(Json(plans::save(&s.app.db, &c.ctx, id, &b.typed).await?).into_response())
}
