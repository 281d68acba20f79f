//! Records that contradict themselves (`app::records::consistency`), for the administrator and
//! those who see every account.
use axum::extract::State;
use axum::response::IntoResponse;
use axum::Json;

use crate::app::records::consistency::{self, ConsistencyReport};
use crate::web::api::{Api, ApiResult, Op};
use crate::web::auth::ApiCtx;
use crate::web::AppState;

pub fn routes(api: Api) -> Api {
    api.add(
        Op::get("/api/v1/admin/consistency", "Records that contradict themselves (administrator, HQ)", "org")
            .describe(
                "Pairs of dependent fields that disagree in data written before they were validated together: \
                 an account whose branch lies in another region, an activity naming another account's \
                 opportunity. `total` is exact; at most 200 of each kind are listed. Names are null for the \
                 administrator, who sees no business data.",
            )
            .ok::<ConsistencyReport>(200),
        list,
    )
}

async fn list(State(s): State<AppState>, c: ApiCtx) -> ApiResult {
    Ok(Json(consistency::find(&s.app.db, &c.ctx.caller).await?).into_response())
}
