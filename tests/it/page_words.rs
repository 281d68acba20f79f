//! Every page a demo user can reach speaks to a person: signed in as each demo role, follow the
//! links of every page (one URL per route pattern), and fail on an ISO timestamp
//! (`2026-12-02T19:23:51Z`), a `UTC` time, an untranslated text key (`action.status`) or a
//! bare username where a person is named (`sales.manager` instead of 张海涛) in what the page
//! shows (issue 18, item 3). Usernames are shown only where they are the thing being edited:
//! the profile and the administrator's user pages.
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

/// A username standing alone in the text (a word of letters, digits, `.` and `_`).
fn bare_username<'a>(text: &str, usernames: &'a BTreeSet<String>) -> Option<&'a str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '_'))
        .map(|w| w.trim_end_matches('.'))
        .find_map(|w| usernames.get(w).map(String::as_str))
}

/// Pages where a username is what is shown or edited (and the role-titles page, whose role
/// codes `admin` and `gm` are also usernames).
fn shows_usernames(path: &str) -> bool {
    path.starts_with("/profile") || path.starts_with("/admin/users") || path.starts_with("/admin/role-titles")
}

/// The page without the values of its form controls: a picker's options may say
/// 「林涛 (rep)」, and a text area holds what is being edited.
fn without_controls(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    loop {
        let next = ["<option", "<textarea"].iter().filter_map(|t| rest.find(t).map(|i| (i, *t))).min();
        let Some((i, tag)) = next else { break };
        out.push_str(&rest[..i]);
        let close = if tag == "<option" { "</option>" } else { "</textarea>" };
        rest = match rest[i..].find(close) {
            Some(j) => &rest[i + j + close.len()..],
            None => "",
        };
    }
    out.push_str(rest);
    out
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
async fn no_page_shows_an_iso_time_a_utc_time_a_text_key_or_a_bare_username() {
    let t = TestApp::new().await;
    kam::generate::demo::load(t.db(), DEMO_PASSWORD).await.expect("demo company");
    let mut problems: BTreeMap<String, String> = BTreeMap::new();
    let mut reached = BTreeMap::new();
    let usernames: BTreeSet<String> = {
        use sqlx::Row;
        let rows = sqlx::query("SELECT username FROM users").fetch_all(&t.db().pool).await.expect("users");
        rows.iter().map(|r| r.get::<String, _>("username")).collect()
    };
    for user in ["rep", "manager", "director", "admin"] {
        let (sid, _) = t.ui_login(user, DEMO_PASSWORD, None).await.unwrap_or_else(|r| panic!("{user}: {}", r.body));
        let auth = Auth::Session { cookie: sid, csrf: String::new() };
        let mut seen_patterns = BTreeSet::new();
        let mut queue: VecDeque<String> = ["/", "/accounts", "/audit"].iter().map(|s| s.to_string()).collect();
        while let Some(path) = queue.pop_front() {
            if seen_patterns.len() >= 200 || !seen_patterns.insert(pattern(&path)) {
                continue;
            }
            let r = t.get_form(&path, &auth).await;
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
            let named = visible(&without_controls(&r.body));
            if let Some(u) = bare_username(&named, &usernames).filter(|_| !shows_usernames(&path)) {
                let text = &named;
                let at = text.find(&format!(" {u}")).or_else(|| text.find(u)).unwrap_or(0);
                let around: String = text[at..].chars().take(60).collect::<String>();
                let around = around.split_whitespace().collect::<Vec<_>>().join(" ");
                problems.insert(format!("{user} {path} (username)"), format!("bare username {u}: «{around}»"));
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
    let users: BTreeSet<String> = ["rep", "sales.manager"].iter().map(|s| s.to_string()).collect();
    assert_eq!(bare_username("负责人: sales.manager。", &users), Some("sales.manager"));
    assert_eq!(bare_username("负责人 (rep)", &users), Some("rep"));
    assert_eq!(bare_username("林涛 reports 张海涛", &users), None);
    let picker = "<select><option value=\"rep\">林涛 (rep)</option></select><textarea>rep</textarea> 负责人";
    assert_eq!(bare_username(&visible(&without_controls(picker)), &users), None);
}
