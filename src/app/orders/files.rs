//! The files of the part's records, one entry point for the presenters: an order's signed
//! contract (签字合同) and an outbound's acceptance document (验收单). Each record's own module
//! keeps its rules (who may add or remove a file, and when); the rows and bytes are
//! `records::attachments`'.
use std::path::Path;

use crate::app::orders::{deliveries, orders};
use crate::app::records::attachments::{self, Attachment, FileIn};
use crate::app::{Caller, Ctx, Result};
use crate::db::Db;

/// Which kind of record holds the files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    Order,
    Outbound,
}

impl Holder {
    /// The subject kind of its rows and audit (`order`, `outbound`).
    pub fn kind(self) -> &'static str {
        match self {
            Holder::Order => orders::FILES_KIND,
            Holder::Outbound => deliveries::OUTBOUND,
        }
    }

    /// The records' folder in addresses (`/orders/7`, `/api/v1/outbounds/7`).
    pub fn path(self) -> &'static str {
        match self {
            Holder::Order => "orders",
            Holder::Outbound => "outbounds",
        }
    }
}

/// A record's files, oldest first, each saying whether it may still be removed (the record in
/// the caller's scope).
pub async fn list(db: &Db, caller: &Caller, h: Holder, id: i64) -> Result<Vec<Attachment>> {
    match h {
        Holder::Order => orders::files(db, caller, id).await,
        Holder::Outbound => deliveries::files(db, caller, id).await,
    }
}

/// A record's file and its bytes (the record in the caller's scope).
pub async fn file(
    db: &Db,
    caller: &Caller,
    data_dir: &Path,
    h: Holder,
    id: i64,
    file_id: i64,
) -> Result<(Attachment, Vec<u8>)> {
    let mut conn = db.pool.acquire().await?;
    match h {
        Holder::Order => orders::seen(&mut conn, caller, id).await?,
        Holder::Outbound => deliveries::seen(&mut conn, caller, id).await?,
    }
    attachments::file(&mut conn, data_dir, h.kind(), id, file_id).await
}

/// Adds a file to a record, by the record's rules.
pub async fn attach(db: &Db, ctx: &Ctx, data_dir: &Path, h: Holder, id: i64, f: &FileIn<'_>) -> Result<Attachment> {
    match h {
        Holder::Order => orders::attach(db, ctx, data_dir, id, f).await,
        Holder::Outbound => deliveries::attach(db, ctx, data_dir, id, f).await,
    }
}

/// Removes a record's file, by the record's rules.
pub async fn detach(db: &Db, ctx: &Ctx, h: Holder, id: i64, file_id: i64) -> Result<()> {
    match h {
        Holder::Order => orders::detach(db, ctx, id, file_id).await,
        Holder::Outbound => deliveries::detach(db, ctx, id, file_id).await,
    }
}
