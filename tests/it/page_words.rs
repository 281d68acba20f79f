//! Every page a demo user can reach speaks to a person: signed in as each demo role, follow the
//! links of every page (one URL per route pattern), and fail on an ISO timestamp
//! (`2026-12-02T19:23:51Z`), a `UTC` time, or an untranslated text key (`action.status`) in
//! what the page shows (issue 18, item 3).
use std::collections::{BTreeMap, BTreeSet, VecDeque};

use axum::http::StatusCode;

use crate::common::{Auth, TestApp};

const DEMO_PASSWORD: &str = "page-words";

/// The text a reader sees: tags, scripts and styles removed.
fn visible(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        out.push_str(&rest[..i]);
        out.push(' ');
        rest = &rest[i..];
        let skip_to = if rest.starts_with("<script") {
            "</script>"
        } else if rest.starts_with("<style") {
            "</style>"
        } else {
            ">"
        };
        match rest.find(skip_to) {
            Some(j) => rest = &rest[j + skip_to.len()..],
            None => rest = "",
        }
    }
    out.push_str(rest);
    out
}

/// An ISO 8601 instant as written in the database: `dddd-dd-ddTdd:dd`.
fn iso_instant(text: &str) -> Option<&str> {
    let b = text.as_bytes();
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    (0..b.len().saturating_sub(16)).find_map(|i| {
        let shape = (0..4).all(|k| digit(i + k))
            && b[i + 4] == b'-'
            && digit(i + 5)
            && digit(i + 6)
            && b[i + 7] == b'-'
            && digit(i + 8)
            && digit(i + 9)
            && b[i + 10] == b'T'
            && digit(i + 11)
            && digit(i + 12)
            && b[i + 13] == b':';
        shape.then(|| text.get(i..i + 16).unwrap_or(""))
    })
}

/// A text key the page forgot to translate: `prefix.word` for the prefixes of locales/app.yml.
fn untranslated(text: &str) -> Option<String> {
    const PREFIXES: &[&str] =
        &["action.", "field.", "entity.", "status.", "stage.", "role.", "act.", "cls.", "screening.", "approval."];
    for p in PREFIXES {
        let mut from = 0;
        while let Some(i) = text[from..].find(p) {
            let at = from + i;
            let before_ok = at == 0
                || !matches!(text.as_bytes()[at - 1], b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'_' | b'@');
            let word: String =
                text[at + p.len()..].chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect();
            if before_ok && !word.is_empty() {
                return Some(format!("{p}{word}"));
            }
            from = at + p.len();
        }
    }
    None
}

/// `/accounts/12?tab=x` → `/accounts/N`: one URL per route pattern.
fn pattern(path: &str) -> String {
    path.split('?')
        .next()
        .unwrap_or("")
        .split('/')
        .map(|s| if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) { "N" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

fn links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(|h| h.replace("&amp;", "&"))
        .filter(|h| h.starts_with('/') && !h.starts_with("//"))
        .filter(|h| {
            !["/static", "/api", "/logout", "/metrics"].iter().any(|p| h.starts_with(p))
                && !h.contains("export")
                && !h.contains("download")
                && !h.contains("format=")
        })
        .map(|h| h.split('#').next().unwrap_or("").to_string())
        .collect()
}

#[tokio::test]
async fn no_page_shows_an_iso_time_a_utc_time_or_a_text_key() {
    let t = TestApp::new().await;
    kam::generate::demo::load(t.db(), DEMO_PASSWORD).await.expect("demo company");
    let mut problems: BTreeMap<String, String> = BTreeMap::new();
    let mut reached = BTreeMap::new();
    for user in ["rep", "manager", "director", "admin"] {
        let (sid, _) = t.ui_login(user, DEMO_PASSWORD, None).await.unwrap_or_else(|r| panic!("{user}: {}", r.body));
        let auth = Auth::Session { cookie: sid, csrf: String::new() };
        let mut seen_patterns = BTreeSet::new();
        let mut queue: VecDeque<String> = ["/", "/accounts", "/audit"].iter().map(|s| s.to_string()).collect();
        while let Some(path) = queue.pop_front() {
            if seen_patterns.len() >= 200 || !seen_patterns.insert(pattern(&path)) {
                continue;
            }
            let r = t.get(&path, &auth).await;
            let html = r.headers.get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|c| c.contains("html"));
            if !html || !(r.status == StatusCode::OK || r.status.is_client_error()) {
                if r.status.is_server_error() {
                    problems.insert(format!("{user} {path}"), format!("answered {}", r.status));
                }
                continue;
            }
            let text = visible(&r.body);
            if let Some(iso) = iso_instant(&text) {
                problems.insert(format!("{user} {path}"), format!("ISO time {iso}"));
            }
            if text.contains(" UTC") {
                problems.insert(format!("{user} {path} (UTC)"), "a UTC time".into());
            }
            if let Some(k) = untranslated(&text) {
                problems.insert(format!("{user} {path} (key)"), format!("untranslated {k}"));
            }
            queue.extend(links(&r.body));
        }
        reached.insert(user, seen_patterns.len());
    }
    for (user, n) in &reached {
        assert!(*n >= 20, "{user} reached only {n} kinds of page: {reached:?}");
    }
    assert!(problems.is_empty(), "pages that do not speak to a person:\n{problems:#?}");
}

#[test]
fn the_checks_see_what_they_look_for() {
    assert_eq!(iso_instant("于 2026-12-02T19:23:51.141145Z 创建"), Some("2026-12-02T19:23"));
    assert_eq!(iso_instant("于 2026-12-03 09:25 创建"), None);
    assert_eq!(untranslated("操作 action.status 完成").as_deref(), Some("action.status"));
    assert_eq!(untranslated("mail to kam.action.x@example.com"), None);
    assert_eq!(visible("<p>a<script>var x='action.y'</script>b</p>").trim(), "a b");
    assert_eq!(pattern("/accounts/12/contacts?x=1"), "/accounts/N/contacts");
}
