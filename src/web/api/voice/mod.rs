//! Satisfaction surveys and the open-points list (issue 24 items 5 and 6).
pub mod opl;
pub mod surveys;

use super::Api;

pub fn routes(api: Api) -> Api {
    let api = opl::routes(api);
    surveys::routes(api)
}
