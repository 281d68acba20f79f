//! Satisfaction surveys and the open-points list: pages (issue 24 items 5 and 6).
pub mod opl;
pub mod public;
pub mod survey_forms;
pub mod surveys;

use axum::Router;

use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().merge(public::routes()).merge(opl::routes()).merge(surveys::routes()).merge(survey_forms::routes())
}
