//! Uploaded files kept in the database (`KAM_STORAGE=database`): every server on the database
//! sees them, whatever its own data directory holds; `kam storage move` moves them between the
//! directory and the database, verified by SHA-256 (issue 26 item 3).
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use kam::app::records::files::{move_files, Backing};
use kam::app::{App, Settings};
use kam::db::Db;
use tower::ServiceExt;

use crate::common::*;

/// Another server on the same database, with a data directory of its own.
async fn other_server(t: &TestApp, dir: &std::path::Path, storage: Backing) -> Router {
    let db = Db::connect(&t.url).await.expect("second connection");
    let settings = Settings { data_dir: dir.to_path_buf(), storage, ..t.app.settings.clone() };
    kam::web::router(App { db, settings })
}

async fn upload(router: &Router, tok: &str, account: i64, name: &str, bytes: &[u8]) -> serde_json::Value {
    let (ct, body) = multipart(&[("title", name)], name, bytes);
    let req = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/accounts/{account}/documents"))
        .header(header::AUTHORIZATION, format!("Bearer {tok}"))
        .header(header::CONTENT_TYPE, ct)
        .body(Body::from(body))
        .expect("request");
    let res = router.clone().oneshot(req).await.expect("answer");
    let status = res.status();
    let body = res.into_body().collect().await.expect("body").to_bytes();
    assert_eq!(status, StatusCode::CREATED, "{}", String::from_utf8_lossy(&body));
    serde_json::from_slice(&body).expect("json")
}

async fn download(router: &Router, tok: &str, id: i64) -> (StatusCode, Vec<u8>) {
    let req = Request::builder()
        .uri(format!("/api/v1/documents/{id}/download"))
        .header(header::AUTHORIZATION, format!("Bearer {tok}"))
        .body(Body::empty())
        .expect("request");
    let res = router.clone().oneshot(req).await.expect("answer");
    let status = res.status();
    (status, res.into_body().collect().await.expect("body").to_bytes().to_vec())
}

fn files_under(dir: &std::path::Path) -> usize {
    ["documents", "photos", "imports"]
        .iter()
        .filter_map(|a| std::fs::read_dir(dir.join(a)).ok())
        .map(|rd| rd.filter_map(|e| e.ok()).filter(|e| !e.file_name().to_string_lossy().starts_with('.')).count())
        .sum()
}

#[tokio::test]
async fn a_document_uploaded_through_one_server_downloads_through_another() {
    let t = TestApp::with_settings(Settings { storage: Backing::Database, ..Settings::default() }).await;
    let w = seed(&t).await;
    let (dir_a, dir_b) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let a = other_server(&t, dir_a.path(), Backing::Database).await;
    let b = other_server(&t, dir_b.path(), Backing::Database).await;
    let bytes: &[u8] = "合同草稿 v1 — 保密\n".as_bytes();
    let d = upload(&a, &w.tokens["repA"], w.account_x, "合同草稿.txt", bytes).await;
    let id = d["id"].as_i64().expect("id");
    let (status, got) = download(&b, &w.tokens["manager"], id).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got, bytes, "the other server serves the same bytes");
    assert_eq!(files_under(dir_a.path()) + files_under(dir_b.path()), 0, "nothing in either data directory");
    // Scope holds on the other server as on the first.
    assert_eq!(download(&b, &w.tokens["repB"], id).await.0, StatusCode::NOT_FOUND);
    // A server still on the directory finds it too (the read looks in the database as well).
    let c_dir = tempfile::tempdir().expect("dir");
    let c = other_server(&t, c_dir.path(), Backing::Directory).await;
    assert_eq!(download(&c, &w.tokens["manager"], id).await.1, bytes);
}

#[tokio::test]
async fn storage_move_copies_verifies_and_only_then_removes() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let dir = t.app.settings.data_dir.clone();
    let docs: Vec<(i64, Vec<u8>)> = {
        let mut v = Vec::new();
        for (i, text) in ["第一份", "第二份", "第三份"].iter().enumerate() {
            let bytes = format!("{text} {i}").into_bytes();
            let d = upload(&t.router, &w.tokens["repA"], w.account_x, &format!("d{i}.txt"), &bytes).await;
            v.push((d["id"].as_i64().expect("id"), bytes));
        }
        v
    };
    assert_eq!(files_under(&dir), 3, "kept in the directory");
    // A file whose bytes do not match the hash it is named by is not moved, and is named.
    std::fs::write(dir.join("documents").join("0".repeat(64)), b"tampered").expect("write");

    let m = move_files(t.db(), &dir, Backing::Database, false).await.expect("move");
    assert_eq!((m.moved, m.present), (3, 0));
    assert_eq!(m.failed.len(), 1, "{:?}", m.failed);
    assert!(m.failed[0].contains(&"0".repeat(64)));
    assert_eq!(files_under(&dir), 1, "the moved files left the directory; the bad one stayed");
    let elsewhere = tempfile::tempdir().expect("dir");
    let b = other_server(&t, elsewhere.path(), Backing::Database).await;
    for (id, bytes) in &docs {
        assert_eq!(&download(&b, &w.tokens["manager"], *id).await.1, bytes, "document {id} from the database");
    }
    // Again: nothing left to move.
    let again = move_files(t.db(), &dir, Backing::Database, false).await.expect("move again");
    assert_eq!(again.moved, 0);

    // And back to the directory, kept in both with --keep.
    std::fs::remove_file(dir.join("documents").join("0".repeat(64))).expect("remove the bad one");
    let back = move_files(t.db(), &dir, Backing::Directory, true).await.expect("move back");
    assert_eq!((back.moved, back.failed.len()), (3, 0));
    assert_eq!(files_under(&dir), 3);
    let n: i64 = sqlx::Row::try_get(
        &sqlx::query("SELECT COUNT(*) AS n FROM stored_files").fetch_one(&t.db().pool).await.expect("count"),
        "n",
    )
    .expect("n");
    assert_eq!(n, 3, "--keep leaves them in the database too");
    for (id, bytes) in &docs {
        assert_eq!(&download(&t.router, &w.tokens["manager"], *id).await.1, bytes);
    }
}
