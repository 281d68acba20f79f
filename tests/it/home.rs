//! The home per role (工作台): the rep's figures, agenda, to-dos and 记录拜访; the manager's team
//! exceptions, each linking to its case; the director's regions; the administrator's users. The
//! grouped navigation shows each role only what it may open.
use crate::common::{Auth, TestApp};
use axum::http::{header, Method, StatusCode};
use chrono::{Duration, TimeZone, Utc};
use serde_json::{json, Value};

const PASSWORD: &str = "kam-demo";

async fn session(t: &TestApp, user: &str) -> Auth {
    let (sid, csrf) = t.ui_login(user, PASSWORD, None).await.expect("sign in");
    Auth::Session { cookie: sid, csrf }
}

/// The part of `html` from `start` to the next `end`.
fn chunk<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let from = html.find(start).unwrap_or_else(|| panic!("{start} in the page: {html}"));
    let rest = &html[from..];
    &rest[..rest.find(end).unwrap_or(rest.len())]
}

fn fen(v: &Value) -> f64 {
    v.as_str().and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0)
}

/// Tomorrow 10:00 in Shanghai (the demo users' zone), as RFC 3339 UTC, and that day.
fn tomorrow_morning() -> (String, String) {
    let tz = chrono_tz::Asia::Shanghai;
    let day = Utc::now().with_timezone(&tz).date_naive() + Duration::days(1);
    let at = tz.from_local_datetime(&day.and_hms_opt(10, 0, 0).expect("time")).single().expect("local time");
    (at.with_timezone(&Utc).to_rfc3339_opts(chrono::SecondsFormat::Secs, true), day.format("%Y-%m-%d").to_string())
}

async fn first_account(t: &TestApp, who: &Auth) -> (i64, String) {
    let r = t.get("/api/v1/accounts?limit=1", who).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let a = &r.json()["items"][0];
    (a["id"].as_i64().expect("account id"), a["name"].as_str().expect("name").to_string())
}

#[tokio::test]
async fn rep_home_shows_figures_agenda_todos_and_the_record_visit_button() {
    let t = TestApp::new().await;
    t.demo().await;
    let rep = Auth::Bearer(t.token("rep").await);
    // A visit planned for tomorrow morning is on the agenda.
    let (account_id, account_name) = first_account(&t, &rep).await;
    let (at, tomorrow) = tomorrow_morning();
    let r = t
        .call(
            Method::POST,
            "/api/v1/activities",
            &rep,
            Some(json!({"account_id": account_id, "kind": "visit", "status": "planned", "planned_at": at, "objective": "首页日程测试"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let visit_id = r.json()["id"].as_i64().expect("id");

    let home = t.get("/api/v1/home", &rep).await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.body);
    let h = home.json();
    assert_eq!(h["view"], "rep");
    assert_eq!(h["tomorrow"], tomorrow.as_str());
    assert!(fen(&h["figures"]["quota"]) > 0.0 && fen(&h["figures"]["booked"]) > 0.0, "{}", h["figures"]);
    let vv = h["figures"]["v_value"].as_str().expect("a V value").to_string();
    assert!(h["completion"].as_str().is_some(), "completion with a quota: {h}");
    assert!(h["exceptions"].is_null() && h["regions"].as_array().is_some_and(|r| r.is_empty()), "a rep's home: {h}");
    assert!(
        h["agenda"].as_array().expect("agenda").iter().any(|a| a["id"] == visit_id && a["day"] == tomorrow.as_str()),
        "tomorrow's visit on the agenda: {}",
        h["agenda"]
    );

    let s = session(&t, "rep").await;
    let page = t.get("/", &s).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let b = &page.body;
    assert!(b.contains("id=\"record-visit\" href=\"/activities/new\">记录拜访</a>"), "the big button");
    assert!(b.contains(&format!("<dd id=\"my-v\">{vv}</dd>")), "the V value card");
    let quota = chunk(b, "id=\"my-quota\">", "</dd>");
    assert!(quota.contains('¥') && !quota.contains("未设指标"), "the quota card: {quota}");
    assert!(chunk(b, "id=\"card-completion\"", "</dl>").contains("<progress"), "completion with a bar");
    assert!(chunk(b, "id=\"card-week\"", "</dl>").contains("<progress"), "visits this week against the target");
    let tomorrow_panel = chunk(b, &format!("data-day=\"{tomorrow}\""), "</div>");
    assert!(tomorrow_panel.contains(&format!("href=\"/activities/{visit_id}\"")), "{tomorrow_panel}");
    assert!(tomorrow_panel.contains(&account_name) && tomorrow_panel.contains("10:00"), "{tomorrow_panel}");
    for part in ["todo-next-steps", "follow-ups", "todo-approvals", "todo-service", "todo-slipped"] {
        let p = chunk(b, &format!("id=\"{part}\""), "</div>");
        assert!(p.contains("<li") || p.contains("class=\"empty\""), "{part}: a list or its empty state: {p}");
    }
    assert!(!b.contains("id=\"exceptions\""), "no team exceptions for a rep");
    // /today is the same page.
    let today = t.get("/today", &s).await;
    assert!(today.body.contains("id=\"record-visit\""));
}

#[tokio::test]
async fn home_api_is_scoped_a_rep_never_sees_another_reps_items() {
    let t = TestApp::new().await;
    t.demo().await;
    let rep = Auth::Bearer(t.token("rep").await);
    let rep2 = Auth::Bearer(t.token("rep2").await);
    let (account_id, _) = first_account(&t, &rep2).await;
    let (at, _) = tomorrow_morning();
    let r = t
        .call(
            Method::POST,
            "/api/v1/activities",
            &rep2,
            Some(json!({"account_id": account_id, "kind": "visit", "status": "planned", "planned_at": at})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let other = r.json()["id"].clone();
    let h = t.get("/api/v1/home", &rep).await.json();
    assert!(h["agenda"].as_array().expect("agenda").iter().all(|a| a["id"] != other), "{}", h["agenda"]);
    for list in ["next_steps", "slipped_deals"] {
        for o in h["todos"][list].as_array().expect("list") {
            assert_eq!(o["owner"], "rep", "{list}: {o}");
        }
    }
    for f in h["todos"]["follow_ups"].as_array().expect("follow-ups") {
        assert_eq!(f["owner"], "rep", "{f}");
    }
    for o in h["todos"]["service"].as_array().expect("service") {
        assert_eq!(o["owner"], "rep", "{o}");
    }
    let h2 = t.get("/api/v1/home", &rep2).await.json();
    assert!(h2["agenda"].as_array().expect("agenda").iter().any(|a| a["id"] == other), "rep2's own visit");
}

#[tokio::test]
async fn manager_home_lists_team_exceptions_with_links_to_each_case() {
    let t = TestApp::new().await;
    t.demo().await;
    let rep = Auth::Bearer(t.token("rep").await);
    // One of the rep's open deals slipped: its expected date passed.
    let r = t.get("/api/v1/opportunities?owner=rep&limit=50", &rep).await;
    let opp = r.json()["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|o| !matches!(o["stage"].as_str(), Some("won" | "lost")))
        .cloned()
        .expect("an open deal of the rep");
    let id = opp["id"].as_i64().expect("id");
    sqlx::query("UPDATE opportunities SET expected_close = '2000-01-03' WHERE id = $1")
        .bind(id)
        .execute(&t.db().pool)
        .await
        .expect("slip the deal");

    let manager = Auth::Bearer(t.token("manager").await);
    let h = t.get("/api/v1/home", &manager).await;
    assert_eq!(h.status, StatusCode::OK, "{}", h.body);
    let h = h.json();
    assert_eq!(h["view"], "manager");
    assert_eq!(h["figures"]["kind"], "team");
    let x = &h["exceptions"];
    let slipped = x["slipped_deals"].as_array().expect("slipped deals");
    assert_eq!(slipped[0]["id"], id, "the oldest slip first: {x}");
    assert_eq!(slipped[0]["owner_name"], "林涛");
    for p in x["below_target"].as_array().expect("below target") {
        assert_ne!(p["username"], "manager", "the manager is not their own exception");
    }

    let s = session(&t, "manager").await;
    let page = t.get("/", &s).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let ex = chunk(&page.body, "id=\"exceptions\"", "</section>");
    let slipped = chunk(ex, "id=\"ex-slipped\"", "</div>");
    assert!(slipped.contains(&format!("href=\"/opportunities/{id}\"")) && slipped.contains("林涛"), "{slipped}");
    for part in ["ex-plans", "ex-follow-ups", "ex-below"] {
        let p = chunk(ex, &format!("id=\"{part}\""), "</div>");
        assert!(p.contains("<li") || p.contains("class=\"empty\""), "{part}: a list or its empty state: {p}");
    }
    // Whoever is listed below the target links to their 1×1, by name.
    if let Some(p) = x["below_target"].as_array().and_then(|a| a.first()) {
        let below = chunk(ex, "id=\"ex-below\"", "</div>");
        let link =
            format!("href=\"/one-on-one/{}\">{}</a>", p["username"].as_str().unwrap(), p["name"].as_str().unwrap());
        assert!(below.contains(&link), "{below}");
    }
    assert!(page.body.contains("id=\"team-figures\""), "the team's figures");
}

#[tokio::test]
async fn director_home_has_one_card_per_region_and_admin_lands_on_users() {
    let t = TestApp::new().await;
    t.demo().await;
    let director = Auth::Bearer(t.token("director").await);
    let h = t.get("/api/v1/home", &director).await.json();
    assert_eq!(h["view"], "director");
    let regions = h["regions"].as_array().expect("regions");
    assert!(regions.len() >= 2, "{h}");
    let v = t.get("/api/v1/reports/v-value", &director).await.json();
    assert_eq!(regions.len(), v["regions"].as_array().expect("report regions").len(), "one card per region");
    let north = regions.iter().find(|r| r["code"] == "NORTH").expect("NORTH");
    assert!(fen(&north["quota"]) > 0.0, "{north}");

    let s = session(&t, "director").await;
    let page = t.get("/", &s).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let cards = chunk(&page.body, "id=\"regions\"", "</section>");
    assert_eq!(cards.matches("<article class=\"card region\"").count(), regions.len(), "{cards}");
    let card = chunk(cards, "data-region=\"NORTH\"", "</article>");
    assert!(card.contains("href=\"/reports/funnel?org=NORTH\"") && card.contains(north["name"].as_str().unwrap()));
    assert!(card.contains("<progress"), "completion as a bar: {card}");

    // The administrator has no business data: `/` is the users' page; the API says so.
    let admin = session(&t, "admin").await;
    let r = t.get("/", &admin).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()), Some("/admin/users"));
    let h = t.get("/api/v1/home", &Auth::Bearer(t.token("admin").await)).await;
    assert_eq!(h.status, StatusCode::OK, "{}", h.body);
    assert_eq!(h.json()["view"], "admin");
}

#[tokio::test]
async fn navigation_is_grouped_per_role() {
    let t = TestApp::new().await;
    t.demo().await;
    let nav = |body: &str| chunk(body, "<header class=\"top\">", "</header>").to_string();

    let rep = session(&t, "rep").await;
    let page = t.get("/accounts", &rep).await;
    let n = nav(&page.body);
    for g in ["customers", "sales", "visits", "reports"] {
        assert!(n.contains(&format!("data-group=\"{g}\"")), "{g} group: {n}");
    }
    assert!(
        chunk(&n, "data-group=\"customers\"", "</details>").contains("<summary aria-current=\"true\">"),
        "the current page's group is marked: {n}"
    );
    assert!(n.contains("id=\"nav-approvals\"") && n.contains("id=\"nav-waiting\"") && n.contains("id=\"nav-unread\""));
    assert!(!n.contains("/admin/") && !n.contains("/settings/classification"), "no admin links for a rep: {n}");
    assert!(!n.contains("id=\"nav-team\""), "a rep has no team");
    assert!(n.contains("href=\"/pool\""), "a rep has the pool");
    assert!(page.body.contains("<nav class=\"tabbar\""), "the phone's tab bar");

    let admin = session(&t, "admin").await;
    let page = t.get("/admin/users", &admin).await;
    let n = nav(&page.body);
    assert!(
        !n.contains("data-group=\"customers\"") && !n.contains("href=\"/accounts\""),
        "no customers for the admin: {n}"
    );
    for href in [
        "/admin/users",
        "/admin/org",
        "/admin/role-titles",
        "/admin/flows",
        "/admin/deliveries",
        "/settings/classification",
        "/audit",
    ] {
        assert!(n.contains(&format!("href=\"{href}\"")), "{href}: {n}");
    }

    let manager = session(&t, "manager").await;
    let page = t.get("/accounts", &manager).await;
    let team = chunk(&page.body, "id=\"nav-team\"", "</details>");
    assert!(team.contains("我的团队"), "{team}");
    for (u, name) in [("rep", "林涛"), ("rep2", "何雪")] {
        assert!(team.contains(&format!("<a href=\"/one-on-one/{u}\">{name}</a>")), "{u}: {team}");
    }
    assert!(!nav(&page.body).contains("href=\"/pool\""), "the pool is the reps'");
}
