//! Account plans (issue 23): the plan and its versions, the planning calendar, the reviews, the
//! six-monthly report and the whitespace grid.
pub mod calendar;
#[allow(clippy::module_inception)]
pub mod plans;
pub mod report;
pub mod reviews;
pub mod whitespace;

use super::Api;

pub fn routes(api: Api) -> Api {
    let api = plans::routes(api);
    let api = calendar::routes(api);
    let api = reviews::routes(api);
    let api = report::routes(api);
    whitespace::routes(api)
}
