//! Uploaded files (documents and attachments, visit photos, uploads waiting for their import),
//! written whole or not at all, kept in one of two places ([`Backing`]): the data directory (one
//! server) or the database (`stored_files`, several servers on one PostgreSQL). A read looks in
//! the other place too when the file is not where the setting says, so a server switched to the
//! database before `kam storage move` ran still finds what the directory holds.
use std::io::Write;
use std::path::{Path, PathBuf};

use sqlx::Row;

use sqlx::AnyConnection;

use crate::db::Db;

/// Where uploaded files are kept (`KAM_STORAGE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backing {
    /// Under the data directory: `documents/`, `photos/`, `imports/` (one server).
    #[default]
    Directory,
    /// In the database's `stored_files` table: every server on the database sees them.
    Database,
}

impl Backing {
    pub fn parse(s: &str) -> Option<Backing> {
        match s.trim() {
            "directory" | "dir" => Some(Backing::Directory),
            "database" | "db" => Some(Backing::Database),
            _ => None,
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            Backing::Directory => "directory",
            Backing::Database => "database",
        }
    }
}

/// The kinds of stored file, each a folder of the data directory and an `area` of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// Account documents and attachments, by the SHA-256 of their bytes (kept once).
    Documents,
    /// Visit photos, by the SHA-256 of their bytes.
    Photos,
    /// Uploads waiting for their import, by a random name; removed when done or a day old.
    Imports,
}

impl Area {
    pub const ALL: [Area; 3] = [Area::Documents, Area::Photos, Area::Imports];
    pub fn code(self) -> &'static str {
        match self {
            Area::Documents => "documents",
            Area::Photos => "photos",
            Area::Imports => "imports",
        }
    }
    /// Named by their bytes' hash: the same key always holds the same bytes.
    fn by_hash(self) -> bool {
        self != Area::Imports
    }
}

/// Where this server keeps uploaded files: the data directory and the setting.
#[derive(Debug, Clone)]
pub struct Storage {
    pub dir: PathBuf,
    pub backing: Backing,
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

impl Storage {
    pub fn new(dir: impl Into<PathBuf>, backing: Backing) -> Storage {
        Storage { dir: dir.into(), backing }
    }

    /// A file's path under the data directory.
    pub fn path(&self, area: Area, key: &str) -> PathBuf {
        self.dir.join(area.code()).join(key)
    }

    /// Keeps `bytes` under `key`, whole or not at all; a file named by its hash that is there
    /// already is not written again. A failure (a full disk) keeps its `io::Error` as the
    /// error's source.
    pub async fn put(&self, conn: &mut AnyConnection, area: Area, key: &str, bytes: &[u8]) -> anyhow::Result<()> {
        match self.backing {
            Backing::Directory => put_dir(&self.path(area, key), area, bytes),
            Backing::Database => put_db(conn, area, key, bytes).await,
        }
    }

    /// The bytes under `key`: from where the setting says, else from the other place.
    pub async fn get(&self, conn: &mut AnyConnection, area: Area, key: &str) -> anyhow::Result<Vec<u8>> {
        let path = self.path(area, key);
        match self.backing {
            Backing::Directory => match std::fs::read(&path) {
                Ok(b) => Ok(b),
                Err(e) => match get_db(conn, area, key).await {
                    Ok(Some(b)) => Ok(b),
                    _ => Err(anyhow::Error::new(e).context(format!("reading {}", path.display()))),
                },
            },
            Backing::Database => match get_db(conn, area, key).await? {
                Some(b) => Ok(b),
                None => std::fs::read(&path).map_err(|e| {
                    anyhow::Error::new(e).context(format!("reading {area:?} {key} (not in the database)"))
                }),
            },
        }
    }

    /// Removes the file under `key` from both places (an import's upload once done or swept, a
    /// visit photo past its retention period): the table too whatever the setting, since a read
    /// falls back to the other place.
    pub async fn remove(&self, conn: &mut AnyConnection, area: Area, key: &str) -> anyhow::Result<()> {
        match std::fs::remove_file(self.path(area, key)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(anyhow::Error::new(e).context(format!("removing {area:?} {key}"))),
        }
        sqlx::query("DELETE FROM stored_files WHERE area = $1 AND key = $2")
            .bind(area.code())
            .bind(key)
            .execute(conn)
            .await?;
        Ok(())
    }

    /// Stores uploaded bytes by their hash and sniffs their type from the bytes (never the
    /// name or the client's claim).
    pub async fn put_blob(&self, conn: &mut AnyConnection, bytes: &[u8]) -> anyhow::Result<Stored> {
        let sha = sha256_hex(bytes);
        let content_type = infer::get(bytes).map(|t| t.mime_type()).unwrap_or("application/octet-stream").to_string();
        self.put(conn, Area::Documents, &sha, bytes).await?;
        Ok(Stored { sha256: sha, content_type })
    }

    /// The bytes of a document stored under a hash.
    pub async fn get_blob(&self, conn: &mut AnyConnection, sha: &str) -> anyhow::Result<Vec<u8>> {
        self.get(conn, Area::Documents, sha).await
    }
}

fn put_dir(path: &Path, area: Area, bytes: &[u8]) -> anyhow::Result<()> {
    if area.by_hash() && path.exists() {
        return Ok(());
    }
    store(path, bytes).map_err(|e| anyhow::Error::new(e).context(format!("storing {}", path.display())))
}

async fn put_db(conn: &mut AnyConnection, area: Area, key: &str, bytes: &[u8]) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO stored_files (area, key, sha256, size, bytes, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (area, key) DO NOTHING",
    )
    .bind(area.code())
    .bind(key)
    .bind(sha256_hex(bytes))
    .bind(bytes.len() as i64)
    .bind(bytes.to_vec())
    .bind(crate::db::now())
    .execute(conn)
    .await?;
    Ok(())
}

async fn get_db(conn: &mut AnyConnection, area: Area, key: &str) -> anyhow::Result<Option<Vec<u8>>> {
    let r = sqlx::query("SELECT bytes FROM stored_files WHERE area = $1 AND key = $2")
        .bind(area.code())
        .bind(key)
        .fetch_optional(conn)
        .await?;
    Ok(r.map(|r| r.try_get::<Vec<u8>, _>("bytes")).transpose()?)
}

/// What storing an uploaded file's bytes found: their hash and their type as sniffed from the
/// bytes (never the name or the client's claim).
pub struct Stored {
    pub sha256: String,
    pub content_type: String,
}

/// What `kam storage move` did.
#[derive(Debug, Default, serde::Serialize)]
pub struct Moved {
    /// Files copied and verified (their SHA-256 read back from the destination matched).
    pub moved: usize,
    /// Files the destination held already, with the same hash.
    pub present: usize,
    pub bytes: u64,
    /// Files whose copy did not read back the same (left where they were).
    pub failed: Vec<String>,
}

/// The files the directory holds, as (area, key), leaving half-written `.part` files out.
fn dir_files(dir: &Path) -> anyhow::Result<Vec<(Area, String)>> {
    let mut out = Vec::new();
    for area in Area::ALL {
        let d = dir.join(area.code());
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd {
            let e = e?;
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !e.file_type()?.is_file() {
                continue;
            }
            out.push((area, name));
        }
    }
    out.sort_by(|a, b| (a.0.code(), &a.1).cmp(&(b.0.code(), &b.1)));
    Ok(out)
}

fn area_of(code: &str) -> Option<Area> {
    Area::ALL.into_iter().find(|a| a.code() == code)
}

/// Moves every stored file from one place to the other (`to`): each is copied, read back from
/// the destination and compared by SHA-256 (for documents and photos also against the name they
/// are kept under), and only then removed from where it was — unless `keep`. A file that does not
/// verify stays where it was and is listed. Runs while the servers run: a file written meanwhile
/// is found by the read fallback, and a second run moves it.
pub async fn move_files(db: &Db, dir: &Path, to: Backing, keep: bool) -> anyhow::Result<Moved> {
    let mut m = Moved::default();
    let mut c = db.pool.acquire().await?;
    let conn = &mut *c;
    match to {
        Backing::Database => {
            for (area, key) in dir_files(dir)? {
                let path = dir.join(area.code()).join(&key);
                let bytes = std::fs::read(&path)?;
                let sha = sha256_hex(&bytes);
                if area.by_hash() && sha != key {
                    m.failed.push(format!("{}: its bytes' SHA-256 is {sha}", path.display()));
                    continue;
                }
                let had = get_db(conn, area, &key).await?;
                if had.is_some() {
                    m.present += 1;
                } else {
                    put_db(conn, area, &key, &bytes).await?;
                }
                let back = get_db(conn, area, &key).await?.unwrap_or_default();
                if sha256_hex(&back) != sha {
                    m.failed.push(format!("{}/{key}: the database holds other bytes", area.code()));
                    continue;
                }
                if had.is_none() {
                    m.moved += 1;
                    m.bytes += bytes.len() as u64;
                }
                if !keep {
                    std::fs::remove_file(&path)?;
                }
            }
        }
        Backing::Directory => {
            let keys = sqlx::query("SELECT area, key, sha256 FROM stored_files ORDER BY area, key")
                .fetch_all(&mut *conn)
                .await?;
            for r in keys {
                let code: String = r.try_get("area")?;
                let key: String = r.try_get("key")?;
                let recorded: String = r.try_get("sha256")?;
                let Some(area) = area_of(&code) else { continue };
                let bytes = get_db(conn, area, &key).await?.unwrap_or_default();
                let sha = sha256_hex(&bytes);
                if sha != recorded {
                    m.failed.push(format!("{code}/{key}: the database's bytes do not match their SHA-256"));
                    continue;
                }
                let path = dir.join(code.as_str()).join(&key);
                let present = std::fs::read(&path).ok().is_some_and(|b| sha256_hex(&b) == sha);
                if present {
                    m.present += 1;
                } else {
                    store(&path, &bytes)
                        .map_err(|e| anyhow::Error::new(e).context(format!("storing {}", path.display())))?;
                    let back = std::fs::read(&path)?;
                    if sha256_hex(&back) != sha {
                        m.failed.push(format!("{}: read back other bytes", path.display()));
                        continue;
                    }
                    m.moved += 1;
                    m.bytes += bytes.len() as u64;
                }
                if !keep {
                    sqlx::query("DELETE FROM stored_files WHERE area = $1 AND key = $2")
                        .bind(code.as_str())
                        .bind(key.as_str())
                        .execute(&mut *conn)
                        .await?;
                }
            }
        }
    }
    Ok(m)
}

/// A file name as given, without any path, and never empty.
pub fn clean_file_name(s: &str) -> String {
    let base = s.rsplit(['/', '\\']).next().unwrap_or("").trim();
    let base: String = base.chars().filter(|c| !c.is_control() && *c != '"').take(200).collect();
    if base.is_empty() {
        "document".into()
    } else {
        base
    }
}

/// Writes `bytes` to `path`: into a temporary file beside it (a name of its own, ending in
/// `.part`), synced to disk, then renamed over `path`. On any failure — a full disk included —
/// the temporary file is removed and the `io::Error` is returned as it came, so the caller can
/// tell a full disk (`ErrorKind::StorageFull`) from other failures.
pub fn store(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().ok_or_else(|| std::io::Error::other("a file path without a folder"))?;
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{:016x}.part", rand::random::<u64>()));
    let written = (|| {
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leftovers(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .expect("dir")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".part"))
            .collect()
    }

    #[test]
    fn a_stored_file_is_whole_and_leaves_no_part_behind() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("documents").join("abc");
        store(&path, b"hello").expect("stored");
        assert_eq!(std::fs::read(&path).expect("read"), b"hello");
        assert!(leftovers(&dir.path().join("documents")).is_empty());
    }

    #[test]
    fn a_failed_store_removes_its_partial_file_and_returns_the_io_error() {
        let dir = tempfile::tempdir().expect("dir");
        // The target is a folder with something in it: the rename at the end fails, after the
        // bytes were written to the temporary file.
        let path = dir.path().join("taken");
        std::fs::create_dir_all(path.join("inside")).expect("dir");
        let err = store(&path, &vec![7u8; 100_000]).expect_err("cannot replace a folder");
        assert_ne!(err.kind(), std::io::ErrorKind::Other, "the io::Error as the system gave it: {err:?}");
        assert!(leftovers(dir.path()).is_empty(), "left behind: {:?}", leftovers(dir.path()));
    }
}
