//! End-to-end test in a real browser: headless Chromium driven through chromedriver with
//! fantoccini, against the real router serving the demo company from a fresh SQLite file.
//!
//! Ignored in the normal suite; run it explicitly:
//! `cargo nextest run --test browser --run-ignored all`
//! (needs /usr/bin/chromium and /usr/bin/chromedriver).
use std::future::{Future, IntoFuture};
use std::net::{SocketAddr, TcpListener as StdTcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use sqlx::Row;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
const PASSWORD: &str = "kam-demo";
const SPECIAL: &str = "北京华信精密制造有限公司";
const TIMEOUT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(100);

/// Kills the chromedriver we started (and the browser it started, which shares its process
/// group) when dropped, whether the test passed or panicked.
struct ChromeDriver {
    child: Child,
    port: u16,
}

impl ChromeDriver {
    fn start() -> ChromeDriver {
        for bin in [CHROMEDRIVER, CHROMIUM] {
            assert!(Path::new(bin).exists(), "{bin} is missing: this test needs chromium and chromedriver installed");
        }
        let port = free_port();
        let mut cmd = Command::new(CHROMEDRIVER);
        cmd.arg(format!("--port={port}")).stdin(std::process::Stdio::null());
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            cmd.process_group(0);
        }
        let child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {CHROMEDRIVER}: {e}"));
        let mut driver = ChromeDriver { child, port };
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Ok(Some(status)) = driver.child.try_wait() {
                panic!("{CHROMEDRIVER} exited before accepting connections: {status}");
            }
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return driver;
            }
            assert!(
                Instant::now() < deadline,
                "{CHROMEDRIVER} did not accept connections on port {port} within {TIMEOUT:?}"
            );
            std::thread::sleep(POLL);
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        // The whole process group: chromedriver and any browser it left behind.
        #[cfg(unix)]
        {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", self.child.id())])
                .stderr(std::process::Stdio::null())
                .status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    StdTcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("find a free port").port()
}

/// Polls `f` until it yields `Some`, failing the test after `TIMEOUT`.
async fn eventually<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out after {TIMEOUT:?} waiting for {what}");
        tokio::time::sleep(POLL).await;
    }
}

async fn wait_css(c: &Client, css: &str) -> fantoccini::elements::Element {
    c.wait().at_most(TIMEOUT).for_element(Locator::Css(css)).await.unwrap_or_else(|e| {
        panic!("element {css} did not appear: {e}");
    })
}

async fn exists(c: &Client, css: &str) -> bool {
    !c.find_all(Locator::Css(css)).await.unwrap_or_else(|e| panic!("find_all {css}: {e}")).is_empty()
}

async fn text_of(c: &Client, css: &str) -> String {
    wait_css(c, css).await.text().await.unwrap_or_else(|e| panic!("text of {css}: {e}")).trim().to_string()
}

async fn click(c: &Client, css: &str) {
    wait_css(c, css).await.click().await.unwrap_or_else(|e| panic!("click {css}: {e}"));
}

async fn type_into(c: &Client, css: &str, value: &str) {
    let el = wait_css(c, css).await;
    el.clear().await.unwrap_or_else(|e| panic!("clear {css}: {e}"));
    el.send_keys(value).await.unwrap_or_else(|e| panic!("type into {css}: {e}"));
}

/// The browser's current URL as text (the `url` crate is not ours to name).
async fn current_url(c: &Client) -> String {
    c.current_url().await.expect("current url").to_string()
}

async fn current_path(c: &Client) -> String {
    c.current_url().await.expect("current url").path().to_string()
}

/// Waits until the browser is on `path` and the page shows `css`.
async fn wait_page(c: &Client, path: &str, css: &str) {
    eventually(
        &format!("the browser to reach {path}"),
        || async move { (current_path(c).await == path).then_some(()) },
    )
    .await;
    wait_css(c, css).await;
}

/// The N in "共 N 个客户".
async fn count_shown(c: &Client) -> usize {
    let t = text_of(c, "#count").await;
    let n = t
        .strip_prefix("共 ")
        .and_then(|r| r.strip_suffix(" 个客户"))
        .unwrap_or_else(|| panic!("#count should read 共 N 个客户, reads {t:?}"));
    n.parse().unwrap_or_else(|_| panic!("#count number is not a number: {t:?}"))
}

/// The (href, name) of every account row on the current list page.
async fn rows_on_page(c: &Client) -> Vec<(String, String)> {
    let links = c.find_all(Locator::Css(r#"table#accounts tbody a[href^="/accounts/"]"#)).await.expect("account links");
    let mut out = Vec::with_capacity(links.len());
    for a in links {
        let href = a.attr("href").await.expect("href").unwrap_or_default();
        let name = a.text().await.expect("link text").trim().to_string();
        out.push((href, name));
    }
    out
}

/// Every account row of the list the browser is on, following `#next-page` to the end.
async fn all_rows(c: &Client) -> Vec<(String, String)> {
    let mut rows = vec![];
    let mut pages = 0;
    loop {
        wait_css(c, "#count").await;
        let page = rows_on_page(c).await;
        assert!(page.len() <= 50, "a list page shows at most 50 rows, got {}", page.len());
        pages += 1;
        assert!(pages <= 20, "more list pages than expected");
        rows.extend(page);
        if !exists(c, "a#next-page").await {
            return rows;
        }
        let before = current_url(c).await;
        click(c, "a#next-page").await;
        eventually("the next list page", || {
            let before = before.clone();
            async move {
                let moved = current_url(c).await != before;
                (moved && current_path(c).await == "/accounts").then_some(())
            }
        })
        .await;
    }
}

async fn sign_in(c: &Client, base: &str, user: &str) {
    c.goto(&format!("{base}/login")).await.expect("open the sign-in page");
    type_into(c, "#username", user).await;
    type_into(c, "#password", PASSWORD).await;
    click(c, r#"form[action="/login"] button[type="submit"]"#).await;
    wait_page(c, "/accounts", "#count").await;
    assert!(!exists(c, "#login-error").await, "signing in as {user} showed an error");
}

async fn sign_out(c: &Client) {
    click(c, r#"form[action="/logout"] button[type="submit"]"#).await;
    wait_page(c, "/login", "#username").await;
}

/// Types `q` into the list's search box and submits it; waits for the filtered list.
async fn search(c: &Client, q: &str) {
    type_into(c, r#"form[role="search"] input[name="q"]"#, q).await;
    click(c, r#"form[role="search"] button[type="submit"]"#).await;
    eventually(&format!("the list filtered by {q:?}"), || async move {
        let u = c.current_url().await.expect("current url");
        let on = u.path() == "/accounts" && u.query_pairs().any(|(k, v)| k == "q" && v == q);
        on.then_some(())
    })
    .await;
    wait_css(c, "#count").await;
}

/// Clicks the list link whose text is exactly `name` and waits for its account page.
async fn open_account(c: &Client, name: &str) -> String {
    let xpath =
        format!(r#"//table[@id="accounts"]//a[starts-with(@href, "/accounts/") and normalize-space(.) = "{name}"]"#);
    let link = c
        .wait()
        .at_most(TIMEOUT)
        .for_element(Locator::XPath(&xpath))
        .await
        .unwrap_or_else(|e| panic!("no link to {name} in the list: {e}"));
    let href = link.attr("href").await.expect("href").expect("link has an href");
    link.click().await.expect("click the account link");
    wait_page(c, &href, "h1#account-name").await;
    assert_eq!(text_of(c, "h1#account-name").await, name);
    href
}

async fn field_shown(c: &Client, field: &str) -> String {
    text_of(c, &format!(r#"section#profile dd[data-field="{field}"]"#)).await
}

async fn scenario(c: Client, base: String, other_name: String) {
    let c = &c;

    // 1. A rep sees their own accounts only.
    sign_in(c, &base, "rep").await;
    let n_rep = count_shown(c).await;
    assert!((10..240).contains(&n_rep), "rep should see 10..240 accounts, #count says {n_rep}");
    let rep_rows = all_rows(c).await;
    assert_eq!(rep_rows.len(), n_rep, "rows listed for rep differ from #count");
    let rep_names: Vec<&str> = rep_rows.iter().map(|r| r.1.as_str()).collect();
    assert!(rep_names.contains(&SPECIAL), "rep's list lacks {SPECIAL}: {rep_names:?}");
    assert!(!rep_names.contains(&other_name.as_str()), "rep's list shows {other_name}, an account of rep5");
    c.goto(&format!("{base}/accounts")).await.expect("open list");
    wait_css(c, "#count").await;
    search(c, &other_name).await;
    assert_eq!(text_of(c, "#count").await, "共 0 个客户", "searching for rep5's account {other_name} as rep");
    assert!(rows_on_page(c).await.is_empty(), "searching for rep5's account {other_name} as rep shows rows");

    // 2. The rep edits the address of their account; the page and its history show it.
    c.goto(&format!("{base}/accounts")).await.expect("open list");
    wait_css(c, "#count").await;
    let account_path = open_account(c, SPECIAL).await;
    let old_address = field_shown(c, "address").await;
    let new_address = format!("北京市海淀区测试路88号-{:08x}", rand::random::<u32>());
    click(c, "a#edit-account").await;
    wait_page(c, &format!("{account_path}/edit"), "#f-address").await;
    type_into(c, "#f-address", &new_address).await;
    click(c, r#"form.grid-form button[type="submit"]"#).await;
    wait_page(c, &account_path, "h1#account-name").await;
    assert!(!exists(c, "#form-errors").await, "saving the edit form showed errors");
    assert_eq!(field_shown(c, "address").await, new_address);
    let change = format!(r#"//section[@id="history"]//li[ins[normalize-space(.) = "{new_address}"]]"#);
    let item = c
        .find(Locator::XPath(&change))
        .await
        .unwrap_or_else(|e| panic!("the history lacks <ins>{new_address}</ins>: {e}"));
    assert_eq!(item.find(Locator::Css("b")).await.expect("label").text().await.expect("label text"), "地址");
    assert_eq!(
        item.find(Locator::Css("del")).await.expect("del").text().await.expect("del text").trim(),
        old_address,
        "the history's old value"
    );
    let who = c
        .find(Locator::XPath(&format!(
            r#"//section[@id="history"]//tr[.//ins[normalize-space(.) = "{new_address}"]]/td[2]"#
        )))
        .await
        .expect("history row of the change")
        .text()
        .await
        .expect("who text");
    assert_eq!(who.trim(), "rep", "the history records who changed the address");

    // 3. The rep sees no credit information.
    let source = c.source().await.expect("page source");
    assert!(!source.contains("信用等级"), "rep's account page mentions 信用等级");
    assert!(!exists(c, "#credit").await, "rep's account page has #credit");

    // 4. The director sees every account, and the credit grade.
    sign_out(c).await;
    sign_in(c, &base, "director").await;
    let n_dir = count_shown(c).await;
    assert_eq!(text_of(c, "#count").await, "共 240 个客户");
    assert!(n_dir > n_rep, "director sees {n_dir}, rep {n_rep}");
    assert!(exists(c, "a#next-page").await, "the list has no #next-page link");
    let mut ids: Vec<String> = all_rows(c).await.into_iter().map(|r| r.0).collect();
    let listed = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(listed, 240, "paging through the director's list");
    assert_eq!(ids.len(), 240, "paging repeated some accounts");

    c.goto(&format!("{base}/accounts")).await.expect("open list");
    wait_css(c, "#count").await;
    search(c, "北京华信").await;
    let found = count_shown(c).await;
    assert!(found >= 1, "searching 北京华信 found nothing");
    open_account(c, SPECIAL).await;
    let credit = text_of(c, "#credit").await;
    assert!(credit.contains("黄名单"), "director's #credit lacks 黄名单: {credit:?}");
    assert_eq!(field_shown(c, "address").await, new_address, "the director sees the rep's new address");

    // 5. A screenshot for humans.
    if let Ok(png) = c.screenshot().await {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/browser-account.png");
        let _ = std::fs::write(path, png);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver: cargo nextest run --test browser --run-ignored all"]
async fn rep_and_director_in_a_real_browser() {
    // The server: the demo company in a fresh SQLite file.
    let dir = tempfile::tempdir().expect("tempdir");
    let db = kam::db::Db::connect(&format!("sqlite://{}/kam.db", dir.path().display())).await.expect("open sqlite");
    db.migrate().await.expect("migrate");
    kam::demo::load(&db, PASSWORD).await.expect("load the demo company");

    // An account of another rep that `rep` has no access to (not even through a team).
    let other = sqlx::query(
        "SELECT name FROM accounts WHERE owner_id = (SELECT id FROM users WHERE username = 'rep5') \
         AND deleted_at IS NULL \
         AND id NOT IN (SELECT account_id FROM account_access WHERE user_id = \
                        (SELECT id FROM users WHERE username = 'rep')) \
         ORDER BY id LIMIT 1",
    )
    .fetch_one(&db.pool)
    .await
    .expect("an account of rep5");
    let other_name: String = other.try_get("name").expect("name");
    assert_ne!(other_name, SPECIAL);

    let app = kam::app::App { db, settings: kam::app::Settings::default() };
    let router = kam::web::router(app);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("local addr"));
    tokio::spawn(axum::serve(listener, router).into_future());

    // The browser. Declared before the driver so the profile outlives the browser.
    let profile = tempfile::tempdir().expect("browser profile dir");
    let driver = ChromeDriver::start();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": CHROMIUM,
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--window-size=1280,1600",
                format!("--user-data-dir={}", profile.path().display()),
            ],
        }),
    );
    let client = ClientBuilder::native()
        .capabilities(caps)
        .connect(&driver.url())
        .await
        .unwrap_or_else(|e| panic!("start a Chromium session through {CHROMEDRIVER}: {e}"));

    // Run the scenario in its own task so the session is closed even when it fails.
    let outcome = tokio::spawn(scenario(client.clone(), base, other_name)).await;
    let _ = client.close().await;
    drop(driver);
    drop(profile);
    if let Err(e) = outcome {
        match e.try_into_panic() {
            Ok(p) => std::panic::resume_unwind(p),
            Err(e) => panic!("the browser scenario did not finish: {e}"),
        }
    }
}
