//! The files of the part's records, one entry point for the presenters: a quote's enclosures
//! and a tender's documents. Each record's own module keeps its rules (who may add or remove a
//! file, and when); the rows and bytes are `records::attachments`'.
use crate::app::records::files::Storage;

use crate::app::quotes::{bids, quotes};
use crate::app::records::attachments::{Attachment, FileHolder, FileIn};
use crate::app::{Caller, Ctx, Result};
use crate::db::Db;

/// Which kind of record holds the files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    Quote,
    Bid,
}

impl Holder {
    /// The records' folder in addresses (`/quotes/7`, `/api/v1/bids/7`).
    pub fn path(self) -> &'static str {
        match self {
            Holder::Quote => "quotes",
            Holder::Bid => "bids",
        }
    }
}

impl FileHolder for Holder {
    fn kind(self) -> &'static str {
        match self {
            Holder::Quote => "quote",
            Holder::Bid => "bid",
        }
    }

    async fn seen(self, conn: &mut sqlx::AnyConnection, caller: &Caller, id: i64) -> Result<()> {
        match self {
            Holder::Quote => quotes::seen(conn, caller, id).await,
            Holder::Bid => bids::seen(conn, caller, id).await,
        }
    }

    async fn list(self, db: &Db, caller: &Caller, id: i64) -> Result<Vec<Attachment>> {
        match self {
            Holder::Quote => Ok(quotes::get(db, caller, id, None).await?.attachments),
            Holder::Bid => bids::files(&mut *db.pool.acquire().await?, caller, id).await,
        }
    }

    async fn attach(self, db: &Db, ctx: &Ctx, store: &Storage, id: i64, f: &FileIn<'_>) -> Result<Attachment> {
        match self {
            Holder::Quote => quotes::attach(db, ctx, store, id, f).await,
            Holder::Bid => bids::attach(db, ctx, store, id, f).await,
        }
    }

    async fn detach(self, db: &Db, ctx: &Ctx, id: i64, file_id: i64) -> Result<()> {
        match self {
            Holder::Quote => quotes::detach(db, ctx, id, file_id).await,
            Holder::Bid => bids::detach(db, ctx, id, file_id).await,
        }
    }
}
