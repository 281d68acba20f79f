//! Charts that open their lists (issue 18, item 8): the funnel's conversion between stages and
//! the age of each stage, exact for a known small funnel; and every figure on the funnel,
//! regions, RAD and coverage pages a link to the list it counts, whose count equals the figure.
use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{seed, Auth, TestApp, World, PASSWORD};

fn session(sid: &str) -> Auth {
    Auth::Session { cookie: sid.to_string(), csrf: String::new() }
}

/// The links in `page` from the element with `id` to the next `end`, whose text ends with a
/// whole number: (address, number).
fn figure_links(page: &str, id: &str, end: &str) -> Vec<(String, i64)> {
    let at = page.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("#{id} in page"));
    let part = &page[at..at + page[at..].find(end).unwrap_or(page.len() - at)];
    let mut out = vec![];
    for chunk in part.split("<a href=\"").skip(1) {
        let href = chunk.split('"').next().unwrap_or("").replace("&amp;", "&").replace("&#38;", "&");
        let inner = chunk.split_once('>').map(|(_, r)| r).unwrap_or("");
        let inner = &inner[..inner.find("</a>").unwrap_or(inner.len())];
        // Text without tags.
        let mut text = String::new();
        let mut in_tag = false;
        for c in inner.chars() {
            match c {
                '<' => in_tag = true,
                '>' => in_tag = false,
                c if !in_tag => text.push(c),
                _ => {}
            }
        }
        if let Some(n) = text.split_whitespace().last().and_then(|t| t.parse::<i64>().ok()) {
            out.push((href, n));
        }
    }
    out
}

/// The count a list page shows (`共 N 个…`).
fn list_count(page: &str) -> i64 {
    let at = page.find("id=\"list-count\"").or_else(|| page.find("id=\"count\"")).expect("a count on the list");
    let p = &page[at..at + page[at..].find("</p>").expect("count end")];
    let digits: String = p.split('>').nth(1).unwrap_or("").chars().filter(char::is_ascii_digit).collect();
    digits.parse().unwrap_or_else(|_| panic!("a number in {p}"))
}

/// Follows every figure link of `page` inside each (id, end) part; each list must count the
/// figure. Returns how many links were followed.
async fn follow(t: &TestApp, sid: &str, what: &str, page: &str, parts: &[(&str, &str)]) -> usize {
    let mut n = 0;
    for (id, end) in parts {
        let links = figure_links(page, id, end);
        assert!(!links.is_empty(), "{what}: figures of #{id} are links");
        for (href, figure) in links {
            let list = t.get(&href, &session(sid)).await;
            assert_eq!(list.status, StatusCode::OK, "{what} #{id}: {href}");
            assert_eq!(list_count(&list.body), figure, "{what} #{id}: {href} lists as many as the figure says");
            n += 1;
        }
    }
    n
}

fn stamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

async fn establish(t: &TestApp, w: &World, name: &str) -> (i64, i64) {
    let body = json!({
        "account_id": w.account_x, "name": name, "amount": "100000.00", "expected_close": "2031-06-30",
        "eval_need": "扩产", "eval_budget": "已批", "eval_timeline": "三季度", "eval_decision_makers": "总经理",
    });
    let r = t.call(Method::POST, "/api/v1/opportunities", &Auth::Bearer(w.tokens["repA"].clone()), Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let o = r.json();
    (o["id"].as_i64().expect("id"), o["version"].as_i64().expect("version"))
}

/// The manager moves it on past the criteria (an override with a reason); returns the version.
async fn move_to(t: &TestApp, w: &World, id: i64, version: i64, stage: &str) -> i64 {
    let mut body = json!({"stage": stage, "version": version, "override_reason": "经理确认"});
    if stage == "won" {
        body["booked_amount"] = json!("90000.00");
        body["booked_on"] = json!(chrono::Utc::now().date_naive().to_string());
    }
    if stage == "lost" {
        body = json!({"stage": "lost", "version": version, "lost_reason": "价格", "lost_to": "友商"});
    }
    let path = format!("/api/v1/opportunities/{id}/stage");
    let r = t.call(Method::POST, &path, &Auth::Bearer(w.tokens["manager"].clone()), Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()["version"].as_i64().expect("version")
}

#[tokio::test]
async fn the_funnel_shows_conversion_and_stage_age_of_a_known_funnel_and_each_figure_opens_its_list() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    // O1 → contacted → qualified; O2 → contacted → lost; O3 → won; O4 and O5 stay identified.
    let (o1, v) = establish(&t, &w, "一号").await;
    let v = move_to(&t, &w, o1, v, "contacted").await;
    move_to(&t, &w, o1, v, "qualified").await;
    let (o2, v) = establish(&t, &w, "二号").await;
    let v = move_to(&t, &w, o2, v, "contacted").await;
    move_to(&t, &w, o2, v, "lost").await;
    let (o3, v) = establish(&t, &w, "三号").await;
    move_to(&t, &w, o3, v, "won").await;
    let (o4, _) = establish(&t, &w, "四号").await;
    establish(&t, &w, "五号").await;
    // O4 entered identified 40 days ago, O1 qualified 10 days ago.
    let now = chrono::Utc::now();
    sqlx::query("UPDATE opportunity_history SET at = $1 WHERE opportunity_id = $2")
        .bind(stamp(now - chrono::Duration::days(40)))
        .bind(o4)
        .execute(&t.db().pool)
        .await
        .expect("age O4");
    sqlx::query("UPDATE opportunity_history SET at = $1 WHERE opportunity_id = $2 AND stage = 'qualified'")
        .bind(stamp(now - chrono::Duration::days(10)))
        .bind(o1)
        .execute(&t.db().pool)
        .await
        .expect("age O1");

    let director = Auth::Bearer(w.tokens["director"].clone());
    let f: Value = t.get("/api/v1/reports/funnel", &director).await.json();
    let conv: Vec<(String, String, i64, i64, Value)> = f["conversion"]
        .as_array()
        .expect("conversion")
        .iter()
        .map(|c| {
            (
                c["from"].as_str().unwrap_or("").into(),
                c["to"].as_str().unwrap_or("").into(),
                c["reached"].as_i64().unwrap_or(-1),
                c["advanced"].as_i64().unwrap_or(-1),
                c["rate"].clone(),
            )
        })
        .collect();
    let row = |a: &str, b: &str, n, m, r: &str| (a.to_string(), b.to_string(), n, m, json!(r));
    assert_eq!(
        conv,
        vec![
            row("identified", "contacted", 5, 3, "60.0"),
            row("contacted", "qualified", 3, 2, "66.7"),
            row("qualified", "developed", 2, 1, "50.0"),
            row("developed", "committed", 1, 1, "100.0"),
            row("committed", "won", 1, 1, "100.0"),
        ]
    );
    let age = &f["stage_age"];
    assert_eq!(
        age[0],
        json!({"stage": "identified", "count": 2, "average_days": "20.0", "median_days": "20.0", "older": 1, "older_than_days": 30})
    );
    assert_eq!(
        age[1],
        json!({"stage": "contacted", "count": 0, "average_days": null, "median_days": null, "older": 0, "older_than_days": 30})
    );
    assert_eq!(
        age[2],
        json!({"stage": "qualified", "count": 1, "average_days": "10.0", "median_days": "10.0", "older": 0, "older_than_days": 30})
    );
    // The API's list takes the same filters: reached, stage age, org.
    let n = |q: &'static str| {
        let (t, director) = (&t, &director);
        async move { t.get(&format!("/api/v1/opportunities/count?{q}"), director).await.json()["count"].clone() }
    };
    assert_eq!(n("reached=contacted").await, json!(3));
    assert_eq!(n("reached=qualified").await, json!(2));
    assert_eq!(n("stage=identified&stage_days_over=30").await, json!(1));
    assert_eq!(n("org=N").await, n("").await);

    // The page shows them; every figure opens the list it counts.
    let (sid, _) = t.ui_login("director", PASSWORD, None).await.expect("sign in");
    let page = t.get("/reports/funnel", &session(&sid)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("66.7%"), "the conversion rate is shown");
    let followed = follow(
        &t,
        &sid,
        "funnel",
        &page.body,
        &[("funnel-table-cap", "</table>"), ("conversion", "</table>"), ("stage-age", "</table>")],
    )
    .await;
    assert_eq!(followed, 7 + 5 * 2 + 5 * 2, "every count is a link");
    // The stage-age link of identified opens exactly O4.
    let list = t.get("/opportunities?stage=identified&open=1&stage_days_over=30", &session(&sid)).await;
    assert!(list.body.contains("四号") && !list.body.contains("五号"), "{}", list.body);
}

#[tokio::test]
async fn every_figure_on_the_chart_pages_opens_a_list_that_counts_the_same_in_the_demo() {
    let t = TestApp::new().await;
    t.demo().await;
    for user in ["director", "manager"] {
        let (sid, _) = t.ui_login(user, "kam-demo", None).await.expect("sign in");
        let get = |path: &'static str| {
            let (t, sid) = (&t, sid.clone());
            async move {
                let p = t.get(path, &session(&sid)).await;
                assert_eq!(p.status, StatusCode::OK, "{path}");
                p.body
            }
        };
        let funnel = get("/reports/funnel").await;
        follow(&t, &sid, "funnel", &funnel, &[("funnel-table-cap", "</table>"), ("conversion", "</table>")]).await;
        let regions = get("/reports/regions").await;
        follow(&t, &sid, "regions", &regions, &[("regions", "</table>")]).await;
        let rad = get("/reports/rad").await;
        follow(&t, &sid, "rad", &rad, &[("rad-grid", "</table>")]).await;
        let cov = get("/reports/coverage").await;
        follow(
            &t,
            &sid,
            "coverage",
            &cov,
            &[("cov-total", "</p>"), ("cov-regions", "</table>"), ("cov-people", "</table>")],
        )
        .await;
        // A V-value row's pipeline opens that person's open opportunities.
        let v = get("/reports/v-value").await;
        let at = v.find("<td class=\"num pipeline\"><a href=\"").expect("a person's pipeline is a link");
        let href =
            v[at..].split("href=\"").nth(1).and_then(|s| s.split('"').next()).expect("href").replace("&amp;", "&");
        assert!(href.starts_with("/opportunities?owner=") && href.ends_with("&open=1"), "{href}");
        let owner = href.trim_start_matches("/opportunities?owner=").trim_end_matches("&open=1").to_string();
        let list = t.get(&href, &session(&sid)).await;
        assert_eq!(list.status, StatusCode::OK);
        let api = t.get(&format!("/api/v1/opportunities/count?owner={owner}&open=1"), &session(&sid)).await;
        if api.status == StatusCode::OK {
            assert_eq!(json!(list_count(&list.body)), api.json()["count"], "the same list as the API's");
        }
        // A region's funnel: its stage counts open that region's opportunities.
        if let Some((href, _)) = figure_links(&regions, "regions", "</table>").first() {
            let org = href.split("org=").nth(1).and_then(|s| s.split('&').next()).expect("org in link").to_string();
            let p = t.get(&format!("/reports/funnel?org={org}"), &session(&sid)).await;
            follow(&t, &sid, "region funnel", &p.body, &[("funnel-table-cap", "</table>")]).await;
        }
    }
}
