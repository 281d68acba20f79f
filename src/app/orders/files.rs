//! The files of the part's records, one entry point for the presenters: an order's signed
//! contract (签字合同) and an outbound's acceptance document (验收单). Each record's own module
//! keeps its rules (who may add or remove a file, and when); the rows and bytes are
//! `records::attachments`'.
use crate::app::records::files::Storage;

use crate::app::orders::{deliveries, orders};
use crate::app::records::attachments::{Attachment, FileHolder, FileIn};
use crate::app::{Caller, Ctx, Result};
use crate::db::Db;

/// Which kind of record holds the files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    Order,
    Outbound,
}

impl Holder {
    /// The records' folder in addresses (`/orders/7`, `/api/v1/outbounds/7`).
    pub fn path(self) -> &'static str {
        match self {
            Holder::Order => "orders",
            Holder::Outbound => "outbounds",
        }
    }
}

impl FileHolder for Holder {
    fn kind(self) -> &'static str {
        match self {
            Holder::Order => orders::FILES_KIND,
            Holder::Outbound => deliveries::OUTBOUND,
        }
    }

    async fn seen(self, conn: &mut sqlx::AnyConnection, caller: &Caller, id: i64) -> Result<()> {
        match self {
            Holder::Order => orders::seen(conn, caller, id).await,
            Holder::Outbound => deliveries::seen(conn, caller, id).await,
        }
    }

    async fn list(self, db: &Db, caller: &Caller, id: i64) -> Result<Vec<Attachment>> {
        match self {
            Holder::Order => orders::files(db, caller, id).await,
            Holder::Outbound => deliveries::files(db, caller, id).await,
        }
    }

    async fn attach(self, db: &Db, ctx: &Ctx, store: &Storage, id: i64, f: &FileIn<'_>) -> Result<Attachment> {
        match self {
            Holder::Order => orders::attach(db, ctx, store, id, f).await,
            Holder::Outbound => deliveries::attach(db, ctx, store, id, f).await,
        }
    }

    async fn detach(self, db: &Db, ctx: &Ctx, id: i64, file_id: i64) -> Result<()> {
        match self {
            Holder::Order => orders::detach(db, ctx, id, file_id).await,
            Holder::Outbound => deliveries::detach(db, ctx, id, file_id).await,
        }
    }
}
