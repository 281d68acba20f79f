//! Pages whose data fails to load: a secondary section (the account's documents or history, a
//! count in the navigation) says it could not be loaded while the rest of the page stays; a
//! failure of the page's own data is the error page, never the page with an empty table.
//! The failures are real: the table behind the part is dropped or renamed under the app.
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;

use crate::common::{seed, Auth, TestApp, World, PASSWORD};

/// What the app logs while the guard lives (on this test's thread, where its requests run).
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    fn capture(&self) -> tracing::subscriber::DefaultGuard {
        let sub = tracing_subscriber::fmt().with_writer(self.clone()).with_ansi(false).finish();
        tracing::subscriber::set_default(sub)
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("logs")).into_owned()
    }
}

impl std::io::Write for Logs {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("logs").extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
    type Writer = Logs;
    fn make_writer(&'a self) -> Logs {
        self.clone()
    }
}

const NOTICE_ZH: &str = "此部分加载失败，请刷新重试";
const NOTICE_EN: &str = "This section could not be loaded; reload to try again";

fn session(sid: &str) -> Auth {
    Auth::Session { cookie: sid.to_string(), csrf: String::new() }
}

/// The HTML of the element that opens with `start`, up to its `end` tag.
fn chunk<'a>(page: &'a str, start: &str, end: &str) -> &'a str {
    let i = page.find(start).unwrap_or_else(|| panic!("{start} not in page:\n{page}"));
    let rest = &page[i..];
    &rest[..rest.find(end).map(|j| j + end.len()).unwrap_or(rest.len())]
}

async fn exec(t: &TestApp, sql: &str) {
    sqlx::query(sql).execute(&t.db().pool).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// A document on the account, uploaded by its owner.
async fn upload(t: &TestApp, w: &World, account: i64, title: &str) {
    let caller = kam::app::people::auth::token_caller(&t.app, &w.tokens["repA"]).await.expect("caller").expect("known");
    let ctx = kam::app::Ctx { caller, request_id: "test".into() };
    let u = kam::app::customers::documents::Upload {
        title: Some(title),
        doc_type: None,
        file_name: "plan.txt",
        bytes: b"the account plan",
    };
    kam::app::customers::documents::upload(t.db(), &ctx, &t.app.settings.files(), account, &u).await.expect("upload");
}

#[tokio::test]
async fn a_section_that_fails_to_load_says_so_and_the_rest_of_the_account_page_stays() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let x = w.account_x;
    upload(&t, &w, x, "年度合作方案").await;
    let (sid, csrf) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");
    let path = format!("/accounts/{x}");

    // Before: the documents are listed, and nothing says a part failed.
    let page = t.get(&path, &session(&sid)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(chunk(&page.body, "<section id=\"documents\"", "</section>").contains("年度合作方案"));
    assert!(!page.body.contains(NOTICE_ZH), "no notice while everything loads");

    // The documents cannot be read any more.
    exec(&t, "DROP TABLE documents").await;
    let logs = Logs::default();
    let guard = logs.capture();
    let page = t.get(&path, &session(&sid)).await;
    drop(guard);
    // The log names the page and the section, with the database's error.
    let logged = logs.text();
    assert!(
        logged.contains("ERROR") && logged.contains("page account: section documents could not be loaded"),
        "{logged}"
    );
    assert!(logged.contains("documents"), "{logged}");
    assert_eq!(page.status, StatusCode::OK, "the page itself still loads: {}", page.body);
    let docs = chunk(&page.body, "<section id=\"documents\"", "</section>");
    assert!(docs.contains(NOTICE_ZH), "the documents section says it failed: {docs}");
    assert!(!docs.contains("暂无文档"), "not read as 'no documents': {docs}");
    assert!(!docs.contains("document-list"), "no (empty) table: {docs}");
    // The rest of the page is all there, and only the failed part carries the notice.
    assert_eq!(page.body.matches(NOTICE_ZH).count(), 1, "one notice, in the documents section");
    assert!(page.body.contains("北京星河精密制造有限公司"), "the account");
    assert!(chunk(&page.body, "<section id=\"contacts\"", "</section>").contains("王志远"), "its contacts");
    assert!(chunk(&page.body, "<section id=\"history\"", "</section>").contains("<table class=\"history\">"));
    assert!(page.body.contains("id=\"team-h\""), "the team section");

    // In the user's language.
    let r = t.ui_post("/profile/language", &sid, &[("_csrf", &csrf), ("locale", "en")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = t.get(&path, &session(&sid)).await;
    assert!(chunk(&page.body, "<section id=\"documents\"", "</section>").contains(NOTICE_EN), "{}", page.body);

    // The history too: its section says so instead of "nothing recorded yet".
    exec(&t, "ALTER TABLE audit_log RENAME TO audit_log_gone").await;
    let page = t.get(&path, &session(&sid)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let history = chunk(&page.body, "<section id=\"history\"", "</section>");
    assert!(history.contains(NOTICE_EN), "the history section says it failed: {history}");
    assert!(!history.contains("Nothing recorded yet"), "{history}");
    assert_eq!(page.body.matches(NOTICE_EN).count(), 2, "documents and history");
    assert!(chunk(&page.body, "<section id=\"contacts\"", "</section>").contains("王志远"));
}

#[tokio::test]
async fn a_count_in_the_navigation_that_fails_to_load_says_so() {
    let t = TestApp::new().await;
    seed(&t).await;
    let (sid, _) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");
    let page = t.get("/approvals", &session(&sid)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(chunk(&page.body, "<span id=\"nav-unread\"", "</span>"), "<span id=\"nav-unread\"></span>");

    exec(&t, "ALTER TABLE notifications RENAME TO notifications_gone").await;
    let page = t.get("/approvals", &session(&sid)).await;
    assert_eq!(page.status, StatusCode::OK, "the inbox still loads: {}", page.body);
    let badge = chunk(&page.body, "<span id=\"nav-unread\"", "</span>");
    assert!(badge.contains("加载失败") && badge.contains(NOTICE_ZH), "not a silent zero: {badge}");
    assert!(page.body.contains("id=\"nav-waiting\""), "the rest of the navigation");
}

#[tokio::test]
async fn a_page_whose_own_data_fails_to_load_is_the_error_page_not_an_empty_one() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (sid, _) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");
    let path = format!("/accounts/{}", w.account_x);

    // The contacts are the account page's own data.
    exec(&t, "ALTER TABLE contacts RENAME TO contacts_gone").await;
    let logs = Logs::default();
    let guard = logs.capture();
    let page = t.get(&path, &session(&sid)).await;
    drop(guard);
    assert_eq!(page.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", page.body);
    let logged = logs.text();
    assert!(logged.contains("page account: contacts could not be loaded"), "the log names page and part: {logged}");
    assert!(page.body.contains("服务器内部错误"), "the error page says what happened: {}", page.body);
    assert!(!page.body.contains("id=\"contacts\""), "no contacts section at all");
    assert!(!page.body.contains("暂无联系人"), "not read as 'no contacts'");
    // The frame stays: the user can go on from the navigation.
    assert!(page.body.contains("id=\"nav-approvals\""));
}
