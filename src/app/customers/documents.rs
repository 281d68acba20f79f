//! Documents per account: typed, versioned by title, scoped like their account, stored under
//! the data directory by content hash, and only ever handed out as a download.
use crate::app::records::files::Storage;

use serde::Serialize;
use serde_json::json;
use sqlx::Row;

use crate::app::{customers::accounts, records::audit, Caller, Ctx, Error, Result};
use crate::db::{now, Db};
use crate::domain::policy::{decide, Decision, Op};
use crate::domain::role::string_enum;

string_enum!(DocType {
    Contract = "contract",
    Proposal = "proposal",
    Quote = "quote",
    Tender = "tender",
    Minutes = "minutes",
    Other = "other",
});

/// The largest document accepted.
pub const MAX_BYTES: usize = 20 * 1024 * 1024;

/// A stored document (one version of a title) of an account.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct Document {
    pub id: i64,
    pub account_id: i64,
    /// Uploads with the same title are versions of one document.
    pub title: String,
    #[schema(value_type = DocType)]
    pub doc_type: String,
    /// 1 for the first upload of the title, then 2, 3…
    pub version: i64,
    pub file_name: String,
    /// The type sniffed from the bytes (never the client's claim).
    pub content_type: String,
    /// Bytes.
    pub size: i64,
    /// SHA-256 of the bytes, hex.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub sha256: String,
    /// Username of the uploader.
    pub uploaded_by: String,
    #[schema(format = DateTime)]
    pub uploaded_at: String,
}

pub async fn list(db: &Db, caller: &Caller, account: impl Into<accounts::AccountRef>) -> Result<Vec<Document>> {
    let account_id = account.into().check(db, caller).await?;
    Ok(sqlx::query_as("SELECT * FROM documents WHERE account_id = $1 ORDER BY title, version DESC")
        .bind(account_id)
        .fetch_all(&db.pool)
        .await?)
}

pub struct Upload<'a> {
    pub title: Option<&'a str>,
    pub doc_type: Option<&'a str>,
    pub file_name: &'a str,
    pub bytes: &'a [u8],
}

/// Stores a new document, or a new version when the account has one with the same title.
pub async fn upload(db: &Db, ctx: &Ctx, store: &Storage, account_id: i64, u: &Upload<'_>) -> Result<Document> {
    let caller = &ctx.caller;
    accounts::ensure_visible(db, caller, account_id).await?;
    if decide(caller.role, true, Op::Update) != Decision::Allow {
        return Err(Error::Forbidden);
    }
    let mut e = crate::domain::error::Errors::default();
    let file_name = crate::app::records::files::clean_file_name(u.file_name);
    let title =
        e.take("title", crate::domain::text::optional(u.title, 200)).flatten().unwrap_or_else(|| file_name.clone());
    let doc_type = e.take("doc_type", DocType::parse(u.doc_type.unwrap_or("other"))).map(|d| d.code());
    if u.bytes.is_empty() {
        e.add("file", "file_empty");
    }
    if u.bytes.len() > MAX_BYTES {
        e.add("file", "file_too_large");
    }
    e.finish()?;
    let mut tx = db.begin().await?;
    // The bytes in the transaction's own statement when kept in the database; a file written
    // first is harmless if the rest fails (kept once by its hash).
    let stored = store.put_blob(tx.conn(), u.bytes).await?;
    let (sha, content_type) = (stored.sha256, stored.content_type);
    accounts::hold_live(&mut tx, account_id).await?;
    let version: i64 =
        sqlx::query("SELECT COALESCE(MAX(version), 0) + 1 AS v FROM documents WHERE account_id = $1 AND title = $2")
            .bind(account_id)
            .bind(title.clone())
            .fetch_one(tx.conn())
            .await?
            .try_get("v")?;
    let id: i64 = sqlx::query(
        "INSERT INTO documents (account_id, title, doc_type, version, file_name, content_type, size, sha256, uploaded_by, uploaded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(account_id)
    .bind(title.clone())
    .bind(doc_type.unwrap_or("other"))
    .bind(version)
    .bind(file_name.clone())
    .bind(content_type.clone())
    .bind(u.bytes.len() as i64)
    .bind(sha.clone())
    .bind(caller.username.clone())
    .bind(now())
    .fetch_one(tx.conn())
    .await?
    .try_get("id")?;
    let after =
        json!({"document": id, "title": title, "version": version, "file_name": file_name, "size": u.bytes.len()});
    audit::record(&mut tx, ctx, "account", &account_id.to_string(), "document_upload", None, Some(&after)).await?;
    tx.commit().await?;
    get(db, caller, id).await
}

pub async fn get(db: &Db, caller: &Caller, id: i64) -> Result<Document> {
    let d: Document = sqlx::query_as("SELECT * FROM documents WHERE id = $1")
        .bind(id)
        .fetch_optional(&db.pool)
        .await?
        .ok_or(Error::NotFound)?;
    accounts::ensure_visible(db, caller, d.account_id).await?;
    Ok(d)
}

/// The document and its bytes, for a caller who may see its account.
pub async fn download(db: &Db, caller: &Caller, store: &Storage, id: i64) -> Result<(Document, Vec<u8>)> {
    let d = get(db, caller, id).await?;
    let bytes = store.get_blob(&mut *db.pool.acquire().await?, &d.sha256).await?;
    Ok((d, bytes))
}
