//! The home per role (工作台) as JSON: the same content as the page `/`.
use axum::extract::State;
use axum::response::IntoResponse;
use axum::Json;

use super::{Api, ApiResult, Op};
use crate::app::home::Home;
use crate::web::auth::ApiCtx;
use crate::web::AppState;

pub fn routes(api: Api) -> Api {
    api.add(
        Op::get(
            "/api/v1/home",
            "The caller's home: this month's figures, visits against targets, today's and tomorrow's agenda, to-dos; a manager's team exceptions, a director's regions",
            "me",
        )
        .ok::<Home>(200),
        home,
    )
}

async fn home(State(s): State<AppState>, c: ApiCtx) -> ApiResult {
    Ok(Json(crate::app::home::home(&s.app.db, &c.ctx.caller).await?).into_response())
}
