use crate::web::api::Api;

pub fn routes(api: Api) -> Api {
    api
}
