//! The files of orders (the signed contract, 签字合同) and outbounds (the acceptance document,
//! 验收单): list, upload (multipart: `file`, `note`), download, remove.
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;

use crate::app::orders::files::Holder;
use crate::app::records::attachments::{Attachment, MAX_BYTES};
use crate::web::api::quotes::attachments::{download, download_op, list, remove, upload, upload_body};
use crate::web::api::{Api, Op};

pub fn routes(api: Api) -> Api {
    let limit = || DefaultBodyLimit::max(MAX_BYTES + 64 * 1024);
    api.add(
        Op::get("/api/v1/orders/{id}/attachments", "An order's files (the signed contract, 签字合同), oldest first", "orders")
            .one_page::<Attachment>(200),
        |s, c, p| list(s, c, p, Holder::Order),
    )
    .add(
        upload_body(Op::post(
            "/api/v1/orders/{id}/attachments",
            "Add a file to an order — the signed contract's scan — under its latest version (the order's writers; not once cancelled)",
            "orders",
        ))
        .ok::<Attachment>(201)
        .errors(&[403, 409, 413]),
        (|s, c, p, m| upload(s, c, p, m, Holder::Order)).layer(limit()),
    )
    .add(download_op("/api/v1/orders/{id}/attachments/{file_id}", "orders"), |s, c, p| download(s, c, p, Holder::Order))
    .add(
        Op::delete("/api/v1/orders/{id}/attachments/{file_id}", "Remove an order's file while the order is not cancelled", "orders")
            .no_content()
            .errors(&[403, 409]),
        |s, c, p| remove(s, c, p, Holder::Order),
    )
    .add(
        Op::get("/api/v1/outbounds/{id}/attachments", "An outbound's files (the acceptance document, 验收单), oldest first", "deliveries")
            .one_page::<Attachment>(200),
        |s, c, p| list(s, c, p, Holder::Outbound),
    )
    .add(
        upload_body(Op::post(
            "/api/v1/outbounds/{id}/attachments",
            "Add a file to an outbound — the customer's signed acceptance document — (logistics or the order's sales roles; not once cancelled)",
            "deliveries",
        ))
        .ok::<Attachment>(201)
        .errors(&[403, 409, 413]),
        (|s, c, p, m| upload(s, c, p, m, Holder::Outbound)).layer(limit()),
    )
    .add(download_op("/api/v1/outbounds/{id}/attachments/{file_id}", "deliveries"), |s, c, p| {
        download(s, c, p, Holder::Outbound)
    })
    .add(
        Op::delete(
            "/api/v1/outbounds/{id}/attachments/{file_id}",
            "Remove an outbound's file until the outbound is accepted",
            "deliveries",
        )
        .no_content()
        .errors(&[403, 409]),
        |s, c, p| remove(s, c, p, Holder::Outbound),
    )
}
