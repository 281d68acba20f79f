//! Attachments of records other than accounts: a quote's enclosures (商务报价 附件), a tender's
//! documents (标书). The subject's own module decides who may see, add and remove them (its
//! scope and its states) and calls these functions inside its transaction; this module keeps
//! the rows, the bytes (stored by hash under the data directory, shared with account
//! documents) and the audit rows, written under the subject's kind and id so they show in the
//! subject's history.
//!
//! Removing an attachment marks it removed (who, when); the row and the bytes stay.
use std::future::Future;

use serde::Serialize;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::app::records::audit;
use crate::app::records::files::{self, Storage};
use crate::app::{Caller, Ctx, Error, Result};
use crate::db::{now, Db, WriteTx};
use crate::domain::error::Errors;

/// The largest attachment accepted (as for account documents).
pub const MAX_BYTES: usize = crate::app::customers::documents::MAX_BYTES;

/// The most files one record carries.
pub const MAX_PER_SUBJECT: i64 = 50;

/// A kind of record that holds files (a quote, a tender, an order, an outbound): the one face
/// the presenters' list, upload, download and remove handlers call, whatever the record. Each
/// implementation sends each call to the record's own module, which keeps its rules.
pub trait FileHolder: Copy + Send + Sync + 'static {
    /// The subject kind of its rows and audit (`quote`, `order`, …).
    fn kind(self) -> &'static str;
    /// Whether the caller sees the record: `NotFound` when not.
    fn seen(self, conn: &mut sqlx::AnyConnection, caller: &Caller, id: i64) -> impl Future<Output = Result<()>> + Send;
    /// The record's files, oldest first, each saying whether it may still be removed (the
    /// record in the caller's scope).
    fn list(self, db: &Db, caller: &Caller, id: i64) -> impl Future<Output = Result<Vec<Attachment>>> + Send;
    /// Adds a file, by the record's rules.
    fn attach(
        self,
        db: &Db,
        ctx: &Ctx,
        store: &Storage,
        id: i64,
        f: &FileIn<'_>,
    ) -> impl Future<Output = Result<Attachment>> + Send;
    /// Removes a file, by the record's rules.
    fn detach(self, db: &Db, ctx: &Ctx, id: i64, file_id: i64) -> impl Future<Output = Result<()>> + Send;

    /// A file of the record and its bytes (the record in the caller's scope).
    fn file(
        self,
        db: &Db,
        caller: &Caller,
        store: &Storage,
        id: i64,
        file_id: i64,
    ) -> impl Future<Output = Result<(Attachment, Vec<u8>)>> + Send {
        async move {
            let mut conn = db.pool.acquire().await?;
            self.seen(&mut conn, caller, id).await?;
            file(&mut conn, store, self.kind(), id, file_id).await
        }
    }
}

/// An attached file.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Attachment {
    pub id: i64,
    /// The record's version the file was added under (a quote's version number).
    pub version_no: Option<i64>,
    pub file_name: String,
    /// The type sniffed from the bytes (never the client's claim).
    pub content_type: String,
    /// Bytes.
    pub size: i64,
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub sha256: String,
    /// What the file is (「技术规格书」, 「招标文件」…).
    pub note: Option<String>,
    /// Username of the uploader, and their name.
    pub uploaded_by: String,
    pub uploaded_by_name: String,
    #[schema(format = DateTime)]
    pub uploaded_at: String,
    /// Whether the caller may remove it now (the record's rules: a quote's file until its
    /// version is approved, a tender's until the result is recorded).
    pub removable: bool,
}

/// A file as uploaded.
pub struct FileIn<'a> {
    pub file_name: &'a str,
    pub note: Option<&'a str>,
    pub bytes: &'a [u8],
}

const SELECT: &str = "SELECT t.*, COALESCE(u.display_name, t.uploaded_by) AS uploader_name FROM attachments t \
     LEFT JOIN users u ON u.username = t.uploaded_by";

fn view(r: &AnyRow) -> Result<Attachment> {
    Ok(Attachment {
        id: r.try_get("id")?,
        version_no: r.try_get("version_no")?,
        file_name: r.try_get("file_name")?,
        content_type: r.try_get("content_type")?,
        size: r.try_get("size")?,
        sha256: r.try_get("sha256")?,
        note: r.try_get("note")?,
        uploaded_by: r.try_get("uploaded_by")?,
        uploaded_by_name: r.try_get("uploader_name")?,
        uploaded_at: r.try_get("uploaded_at")?,
        removable: false,
    })
}

/// A record's files, oldest first (the removed ones left out). The caller has read the record
/// in scope.
pub async fn of(conn: &mut sqlx::AnyConnection, kind: &str, subject_id: i64) -> Result<Vec<Attachment>> {
    let rows = sqlx::query(&format!(
        "{SELECT} WHERE t.subject_kind = $1 AND t.subject_id = $2 AND t.removed_at IS NULL ORDER BY t.id"
    ))
    .bind(kind)
    .bind(subject_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(view).collect()
}

/// One of a record's files (not removed), or not found.
pub async fn one(conn: &mut sqlx::AnyConnection, kind: &str, subject_id: i64, id: i64) -> Result<Attachment> {
    let r = sqlx::query(&format!(
        "{SELECT} WHERE t.id = $1 AND t.subject_kind = $2 AND t.subject_id = $3 AND t.removed_at IS NULL"
    ))
    .bind(id)
    .bind(kind)
    .bind(subject_id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(Error::NotFound)?;
    view(&r)
}

/// One of a record's files and its bytes (the caller has read the record in scope).
pub async fn file(
    conn: &mut sqlx::AnyConnection,
    store: &Storage,
    kind: &str,
    subject_id: i64,
    id: i64,
) -> Result<(Attachment, Vec<u8>)> {
    let a = one(conn, kind, subject_id, id).await?;
    let bytes = store.get_blob(conn, &a.sha256).await?;
    Ok((a, bytes))
}

/// Checks an upload: a file that is not empty and not too large, a note of at most 200
/// characters. Nothing is stored when it fails.
fn check(f: &FileIn<'_>) -> Result<(String, Option<String>)> {
    let mut e = Errors::default();
    if f.bytes.is_empty() {
        e.add("file", "file_empty");
    }
    if f.bytes.len() > MAX_BYTES {
        e.add("file", "file_too_large");
    }
    let note = e.take("note", crate::domain::text::optional(f.note, 200)).flatten();
    e.finish()?;
    Ok((files::clean_file_name(f.file_name), note))
}

/// Adds a file to a record (the subject's module has checked scope, rights and state in
/// `tx`); its audit row is the subject's (`attachment_add`).
pub async fn add_in(
    tx: &mut WriteTx,
    ctx: &Ctx,
    store: &Storage,
    kind: &str,
    subject_id: i64,
    version_no: Option<i64>,
    f: &FileIn<'_>,
) -> Result<Attachment> {
    let (file_name, note) = check(f)?;
    let count: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM attachments WHERE subject_kind = $1 AND subject_id = $2 AND removed_at IS NULL",
    )
    .bind(kind)
    .bind(subject_id)
    .fetch_one(tx.conn())
    .await?
    .try_get("n")?;
    if count >= MAX_PER_SUBJECT {
        return Err(Error::invalid("file", "too_many_files"));
    }
    // The bytes first: a row never names a file that is not there (a file without a row is
    // harmless, and the same bytes are not stored twice).
    let stored = store.put_blob(tx.conn(), f.bytes).await?;
    let id: i64 = sqlx::query(
        "INSERT INTO attachments (subject_kind, subject_id, version_no, file_name, content_type, size, sha256, note, \
         uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(kind)
    .bind(subject_id)
    .bind(version_no)
    .bind(file_name.clone())
    .bind(stored.content_type)
    .bind(f.bytes.len() as i64)
    .bind(stored.sha256)
    .bind(note.clone())
    .bind(ctx.caller.username.as_str())
    .bind(now())
    .fetch_one(tx.conn())
    .await?
    .try_get("id")?;
    let after = json!({"attachment": id, "file_name": file_name, "size": f.bytes.len(), "note": note, "version_no": version_no});
    audit::record(tx, ctx, kind, &subject_id.to_string(), "attachment_add", None, Some(&after)).await?;
    one(tx.conn(), kind, subject_id, id).await
}

/// Marks a record's file removed (the subject's module has checked that it may be); its audit
/// row is the subject's (`attachment_remove`).
pub async fn remove_in(tx: &mut WriteTx, ctx: &Ctx, kind: &str, subject_id: i64, id: i64) -> Result<()> {
    let a = one(tx.conn(), kind, subject_id, id).await?;
    let n = sqlx::query(
        "UPDATE attachments SET removed_by = $1, removed_at = $2 WHERE id = $3 AND subject_kind = $4 \
         AND subject_id = $5 AND removed_at IS NULL",
    )
    .bind(ctx.caller.username.as_str())
    .bind(now())
    .bind(id)
    .bind(kind)
    .bind(subject_id)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if n == 0 {
        return Err(Error::NotFound);
    }
    let before = json!({"attachment": id, "file_name": a.file_name, "size": a.size, "note": a.note});
    audit::record(tx, ctx, kind, &subject_id.to_string(), "attachment_remove", Some(&before), None).await?;
    Ok(())
}
