//! Attachments of quotes and bids (issue 20): a file enclosed with a quote goes with the
//! version it was added under — removable while that version is a draft or waits, kept once it
//! is approved, listed on the printed quote; a tender's documents are kept once its result is
//! recorded; an empty file names the field and stores nothing; the files are scoped as their
//! quote or bid (another team's rep gets 404); the pages upload with the CSRF token and show a
//! refusal on the record's page.
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::{json, Value};

use crate::common::{multipart, opportunity, seed, Auth, Resp, TestApp, World, PASSWORD};

fn bearer(w: &World, user: &str) -> Auth {
    Auth::Bearer(w.tokens[user].clone())
}

/// The start of a PDF: sniffed as application/pdf, which a download hands out as plain bytes.
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n";

async fn upload(t: &TestApp, who: &Auth, path: &str, name: &str, bytes: &[u8], note: &str) -> Resp {
    let (ct, body) = multipart(&[("note", note)], name, bytes);
    let mut b = Request::builder().method(Method::POST).uri(path).header(header::CONTENT_TYPE, ct);
    if let Auth::Bearer(tok) = who {
        b = b.header(header::AUTHORIZATION, format!("Bearer {tok}"));
    }
    t.send(b.body(Body::from(body)).expect("request")).await
}

/// Posts a page's upload form (multipart, the CSRF token among the fields).
async fn ui_upload(t: &TestApp, sid: &str, path: &str, fields: &[(&str, &str)], name: &str, bytes: &[u8]) -> Resp {
    let (ct, body) = multipart(fields, name, bytes);
    let req = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::COOKIE, format!("kam_session={sid}"))
        .header(header::CONTENT_TYPE, ct)
        .body(Body::from(body))
        .expect("request");
    t.send(req).await
}

/// A quote of one line at `discount` percent off 10,000.00 元.
async fn quote(t: &TestApp, who: &Auth, opp: i64, discount: &str) -> Value {
    let body = json!({"valid_until": "2099-12-31", "lines": [
        {"description": "测量机", "unit": "台", "quantity": "1", "list_price": "10000.00", "discount": discount}
    ]});
    let r = t.call(Method::POST, &format!("/api/v1/opportunities/{opp}/quotes"), who, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.json()
}

/// A tender on the opportunity.
async fn bid(t: &TestApp, who: &Auth, opp: i64) -> Value {
    let body = json!({"issuer": "北京星河精密制造有限公司", "submission_due": "2099-03-15"});
    let r = t.call(Method::POST, &format!("/api/v1/opportunities/{opp}/bids"), who, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.json()
}

async fn count_files(t: &TestApp) -> i64 {
    sqlx::Row::try_get(
        &sqlx::query("SELECT COUNT(*) AS n FROM attachments").fetch_one(&t.db().pool).await.expect("count"),
        "n",
    )
    .expect("n")
}

fn names(list: &Value) -> Vec<String> {
    list["items"].as_array().expect("items").iter().map(|f| f["file_name"].as_str().unwrap_or("").to_string()).collect()
}

#[tokio::test]
async fn a_quotes_files_go_with_their_version_and_are_kept_once_it_is_approved() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = bearer(&w, "repA");
    let opp = opportunity(&t, &rep, w.account_x, "测量中心扩建").await;
    let q = quote(&t, &rep, opp, "5").await;
    let id = q["id"].as_i64().expect("id");
    let base = format!("/api/v1/quotes/{id}/attachments");

    // An empty file: the field is named and nothing is kept.
    let r = upload(&t, &rep, &base, "空.pdf", b"", "").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["error"]["details"]["fields"]["file"]["code"], "file_empty", "{}", r.body);
    assert_eq!(count_files(&t).await, 0, "nothing saved");

    let r = upload(&t, &rep, &base, "技术规格书.pdf", PDF, "技术规格书").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let spec = r.json();
    assert_eq!((spec["version_no"].as_i64(), spec["note"].as_str()), (Some(1), Some("技术规格书")), "{spec}");
    assert_eq!(spec["content_type"], "application/pdf", "typed by its bytes: {spec}");
    assert_eq!(spec["size"].as_i64(), Some(PDF.len() as i64));
    let draft_file = upload(&t, &rep, &base, "草图.png", b"not really an image", "").await.json();

    // The download: the bytes as sent, always as an attachment, a PDF never rendered in the page.
    let d = t.get(&format!("{base}/{}", spec["id"]), &rep).await;
    assert_eq!(d.status, StatusCode::OK);
    assert_eq!(d.body.as_bytes(), PDF);
    let disp = d.headers.get(header::CONTENT_DISPOSITION).and_then(|v| v.to_str().ok()).unwrap_or("");
    assert!(disp.starts_with("attachment;") && disp.contains("filename*=UTF-8''"), "{disp}");
    assert_eq!(d.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()), Some("application/octet-stream"));

    // A draft's file can be removed; the list and the quote no longer show it, the history does.
    let r = t.call(Method::DELETE, &format!("{base}/{}", draft_file["id"]), &rep, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let list = t.get(&base, &rep).await.json();
    assert_eq!(names(&list), vec!["技术规格书.pdf"], "{list}");
    assert_eq!(list["items"][0]["removable"], true, "a draft's file: {list}");
    let r = t.get(&format!("{base}/{}", draft_file["id"]), &rep).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "a removed file is gone from the quote");
    let acts: Vec<String> =
        sqlx::query("SELECT action FROM audit_log WHERE entity = 'quote' AND entity_id = $1 ORDER BY id")
            .bind(id.to_string())
            .fetch_all(&t.db().pool)
            .await
            .expect("audit")
            .iter()
            .map(|r| sqlx::Row::try_get(r, "action").expect("action"))
            .collect();
    assert_eq!(
        acts.iter().filter(|a| a.starts_with("attachment_")).collect::<Vec<_>>(),
        vec!["attachment_add", "attachment_add", "attachment_remove"],
        "each change audited: {acts:?}"
    );

    // Within a rep's 5 %: approved at once. Its file is kept with it.
    let r = t
        .call(Method::POST, &format!("/api/v1/quotes/{id}/submit"), &rep, Some(json!({"version": q["version"]})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let q = r.json();
    assert_eq!(q["state"], "approved", "{q}");
    assert_eq!(q["attachments"][0]["removable"], false, "{q}");
    let r = t.call(Method::DELETE, &format!("{base}/{}", spec["id"]), &rep, None).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(r.json()["error"]["code"], "attachment_fixed");

    // A new version (a price changed) takes new files under v2; v1's stay as they were.
    let body = json!({"version": q["version"], "lines": [
        {"description": "测量机", "unit": "台", "quantity": "1", "list_price": "10000.00", "discount": "4"}
    ]});
    let r = t.call(Method::PATCH, &format!("/api/v1/quotes/{id}"), &rep, Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v2 = upload(&t, &rep, &base, "资质证书.pdf", PDF, "").await.json();
    assert_eq!(v2["version_no"].as_i64(), Some(2), "{v2}");
    let q = t.get(&format!("/api/v1/quotes/{id}"), &rep).await.json();
    assert_eq!((q["current_version"].as_i64(), q["state"].as_str()), (Some(2), Some("approved")), "4 % is within: {q}");
    let files: Vec<(String, bool)> = q["attachments"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| (f["file_name"].as_str().unwrap_or("").to_string(), f["removable"].as_bool().unwrap_or(true)))
        .collect();
    assert_eq!(files, vec![("技术规格书.pdf".to_string(), false), ("资质证书.pdf".to_string(), false)], "{q}");

    // The printed quote lists what goes with the version printed.
    let (sid, _) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");
    let session = Auth::Session { cookie: sid, csrf: String::new() };
    let p1 = t.get(&format!("/quotes/{id}/print?version_no=1"), &session).await;
    assert!(p1.body.contains("技术规格书.pdf") && !p1.body.contains("资质证书.pdf"), "{}", p1.body);
    let p2 = t.get(&format!("/quotes/{id}/print?version_no=2"), &session).await;
    assert!(p2.body.contains("技术规格书.pdf") && p2.body.contains("资质证书.pdf"), "{}", p2.body);
}

#[tokio::test]
async fn files_are_scoped_as_their_quote_or_bid() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = bearer(&w, "repA");
    let other = bearer(&w, "repC");
    let opp = opportunity(&t, &rep, w.account_x, "测量中心扩建").await;
    let q = quote(&t, &rep, opp, "3").await;
    let qbase = format!("/api/v1/quotes/{}/attachments", q["id"]);
    let f = upload(&t, &rep, &qbase, "方案.pdf", PDF, "").await.json();
    let bid = bid(&t, &rep, opp).await;
    let bbase = format!("/api/v1/bids/{}/attachments", bid["id"]);
    let bf = upload(&t, &rep, &bbase, "招标文件.pdf", PDF, "招标文件").await.json();
    for path in [qbase.clone(), format!("{qbase}/{}", f["id"]), bbase.clone(), format!("{bbase}/{}", bf["id"])] {
        let r = t.get(&path, &other).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", r.body);
    }
    let r = upload(&t, &other, &qbase, "x.pdf", PDF, "").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = t.call(Method::DELETE, &format!("{bbase}/{}", bf["id"]), &other, None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    // A file of one quote is not reached through another's address.
    let q2 = quote(&t, &rep, opp, "2").await;
    let r = t.get(&format!("/api/v1/quotes/{}/attachments/{}", q2["id"], f["id"]), &rep).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // The manager in scope sees them.
    let r = t.get(&bbase, &bearer(&w, "manager")).await;
    assert_eq!(names(&r.json()), vec!["招标文件.pdf"]);
    assert_eq!(count_files(&t).await, 2, "the refused upload stored nothing");
}

#[tokio::test]
async fn a_tenders_documents_are_kept_once_its_result_is_recorded() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = bearer(&w, "repA");
    let opp = opportunity(&t, &rep, w.account_x, "测量中心扩建").await;
    let bid = bid(&t, &rep, opp).await;
    let base = format!("/api/v1/bids/{}/attachments", bid["id"]);
    let a = upload(&t, &rep, &base, "招标文件.pdf", PDF, "招标文件").await.json();
    let b = upload(&t, &rep, &base, "澄清.pdf", PDF, "").await.json();
    assert_eq!(a["removable"], true);
    let r = t.call(Method::DELETE, &format!("{base}/{}", b["id"]), &rep, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/bids/{}/result", bid["id"]),
            &rep,
            Some(json!({"version": bid["version"], "result": "abandoned", "note": "客户取消采购"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = t.call(Method::DELETE, &format!("{base}/{}", a["id"]), &rep, None).await;
    assert_eq!((r.status, r.json()["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("attachment_fixed")));
    // A document after the result (the bond's return slip) is still taken.
    let r = upload(&t, &rep, &base, "保证金退还凭证.pdf", PDF, "").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let list = t.get(&base, &rep).await.json();
    assert_eq!(names(&list), vec!["招标文件.pdf", "保证金退还凭证.pdf"]);
    assert!(list["items"].as_array().expect("items").iter().all(|f| f["removable"] == false), "{list}");
}

#[tokio::test]
async fn the_pages_upload_with_the_token_and_show_a_refusal_on_the_record() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = bearer(&w, "repA");
    let opp = opportunity(&t, &rep, w.account_x, "测量中心扩建").await;
    let q = quote(&t, &rep, opp, "3").await;
    let id = q["id"].as_i64().expect("id");
    let (sid, csrf) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");
    let session = Auth::Session { cookie: sid.clone(), csrf: String::new() };
    let page = t.get(&format!("/quotes/{id}"), &session).await;
    assert!(page.body.contains("id=\"attachments-empty\""), "an empty list says so");
    assert!(page.body.contains(&format!("action=\"/quotes/{id}/attachments\"")), "the upload form");

    // Without the form's token: refused, nothing kept.
    let path = format!("/quotes/{id}/attachments");
    let r = ui_upload(&t, &sid, &path, &[("note", "x")], "a.pdf", PDF).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    // An empty file: the quote's page again, the field named.
    let r = ui_upload(&t, &sid, &path, &[("_csrf", &csrf)], "空.pdf", b"").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("id=\"action-errors\"") && r.body.contains("文件为空"), "{}", r.body);
    assert_eq!(count_files(&t).await, 0);

    let r = ui_upload(&t, &sid, &path, &[("_csrf", &csrf), ("note", "技术规格书")], "规格书.pdf", PDF).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let to = r.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    assert!(to.contains("flash=attached") && to.ends_with("#attachments"), "{to}");
    let page = t.get(&to, &session).await;
    assert!(page.body.contains("附件已上传"), "the flash says so");
    assert!(page.body.contains("id=\"attachment-list\"") && page.body.contains("规格书.pdf"), "{}", page.body);
    let fid =
        t.get(&format!("/api/v1/quotes/{id}/attachments"), &rep).await.json()["items"][0]["id"].as_i64().expect("file");
    let dl = t.get(&format!("/quotes/{id}/attachments/{fid}"), &session).await;
    assert_eq!((dl.status, dl.body.as_bytes()), (StatusCode::OK, PDF));
    // The removal is confirmed in the page and posted with the token.
    assert!(page.body.contains(&format!("action=\"/quotes/{id}/attachments/{fid}/remove\"")));
    assert!(page.body.contains("data-confirm=\"移除附件「规格书.pdf」"), "confirmed first");
    let r = t.ui_post(&format!("/quotes/{id}/attachments/{fid}/remove"), &sid, &[("_csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = t.get(&format!("/quotes/{id}"), &session).await;
    assert!(page.body.contains("id=\"attachments-empty\""), "removed");

    // The bid's page takes documents the same way; another team's rep does not see them.
    let bid = bid(&t, &rep, opp).await["id"].as_i64().expect("bid");
    let r = ui_upload(&t, &sid, &format!("/bids/{bid}/attachments"), &[("_csrf", &csrf)], "招标文件.pdf", PDF).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = t.get(&format!("/bids/{bid}"), &session).await;
    assert!(page.body.contains("招标文件.pdf"), "{}", page.body);
    let (other, _) = t.ui_login("repC", PASSWORD, None).await.expect("sign in");
    let r = t.get(&format!("/bids/{bid}"), &Auth::Session { cookie: other, csrf: String::new() }).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

/// A multipart form's text parts are text: the document gives them no JSON type (so a client
/// generating "a number instead of a string" is told nothing false), keeps their limits, and a
/// note that looks like a number is kept as the text sent.
#[tokio::test]
async fn an_upload_forms_text_parts_are_text_whatever_they_look_like() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let doc = t.get("/api/openapi.json", &Auth::None).await.json();
    let mut forms = 0;
    for (path, ops) in doc["paths"].as_object().expect("paths") {
        for (m, op) in ops.as_object().expect("ops") {
            let Some(props) = op.pointer("/requestBody/content/multipart~1form-data/schema/properties") else {
                continue;
            };
            forms += 1;
            for (name, p) in props.as_object().expect("properties") {
                if p["format"] == "binary" {
                    assert_eq!(p["type"], "string", "{m} {path} {name}: a file part");
                } else {
                    assert!(p.get("type").is_none(), "{m} {path} {name}: a text part given a JSON type: {p}");
                }
            }
        }
    }
    assert!(forms >= 5, "the upload forms are in the document ({forms})");
    let note = doc.pointer("/paths/~1api~1v1~1quotes~1{id}~1attachments/post/requestBody/content/multipart~1form-data/schema/properties/note");
    assert_eq!(note.and_then(|n| n["maxLength"].as_i64()), Some(200), "its limit kept: {note:?}");

    let rep = bearer(&w, "repA");
    let opp = opportunity(&t, &rep, w.account_x, "测量中心扩建").await;
    let id = quote(&t, &rep, opp, "5").await["id"].as_i64().expect("id");
    let r = upload(&t, &rep, &format!("/api/v1/quotes/{id}/attachments"), "图纸.pdf", PDF, "-260642914927").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.json()["note"], "-260642914927", "kept as the text sent: {}", r.body);
    let long = "注".repeat(201);
    let r = upload(&t, &rep, &format!("/api/v1/quotes/{id}/attachments"), "图纸.pdf", PDF, &long).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["error"]["details"]["fields"]["note"]["code"], "too_long", "{}", r.body);
}
