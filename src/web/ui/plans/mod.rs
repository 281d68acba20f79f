//! Account plans' pages (issue 23): the plan, its editor, versions and printed form; the
//! planning calendar; reviews; the six-monthly report; the whitespace grid.
pub mod calendar;
#[allow(clippy::module_inception)]
pub mod plans;
pub mod report;
pub mod reviews;
pub mod whitespace;

use axum::Router;

use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(plans::routes())
        .merge(calendar::routes())
        .merge(reviews::routes())
        .merge(report::routes())
        .merge(whitespace::routes())
}
