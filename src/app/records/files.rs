//! Files under the data directory (documents, visit photos, uploads waiting for their import),
//! written whole or not at all.
use std::io::Write;
use std::path::{Path, PathBuf};

/// A stored file's address: `documents/<sha256>` under the data directory. Account documents
/// and attachments share it, so the same bytes are kept once.
pub fn blob_path(data_dir: &Path, sha: &str) -> PathBuf {
    data_dir.join("documents").join(sha)
}

/// What storing an uploaded file's bytes found: their hash and their type as sniffed from the
/// bytes (never the name or the client's claim).
pub struct Stored {
    pub sha256: String,
    pub content_type: String,
}

/// Stores uploaded bytes by their hash (once: the same bytes are not written again), whole or
/// not at all; a failure (a full disk) keeps its `io::Error` as the error's source.
pub fn store_blob(data_dir: &Path, bytes: &[u8]) -> anyhow::Result<Stored> {
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(bytes))
    };
    let content_type = infer::get(bytes).map(|t| t.mime_type()).unwrap_or("application/octet-stream").to_string();
    let path = blob_path(data_dir, &sha);
    if !path.exists() {
        store(&path, bytes).map_err(|e| anyhow::Error::new(e).context(format!("storing {}", path.display())))?;
    }
    Ok(Stored { sha256: sha, content_type })
}

/// The bytes stored under a hash.
pub fn read_blob(data_dir: &Path, sha: &str) -> anyhow::Result<Vec<u8>> {
    let path = blob_path(data_dir, sha);
    std::fs::read(&path).map_err(|e| anyhow::Error::new(e).context(format!("reading {}", path.display())))
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
