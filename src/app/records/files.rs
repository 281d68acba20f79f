//! Files under the data directory (documents, visit photos, uploads waiting for their import),
//! written whole or not at all.
use std::io::Write;
use std::path::Path;

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
