//! The demo company shows figures on the pages a rep and a manager start from; role titles are
//! the company's; one term each in the texts.
use crate::common::{Auth, TestApp};
use axum::http::StatusCode;
use sqlx::Row;

fn fen(v: &serde_json::Value) -> f64 {
    v.as_str().and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0)
}

#[tokio::test]
async fn demo_rep_and_manager_show_quota_v_value_and_forecast_accuracy() {
    let t = TestApp::new().await;
    t.demo().await;
    crate::common::assert_months_kept(t.db(), "the demo loaded").await;
    let rep = Auth::Bearer(t.token("rep").await);
    let manager = Auth::Bearer(t.token("manager").await);

    // The V-value report: the rep's quota, booked and V value this month are figures.
    let v = t.get("/api/v1/reports/v-value?owner=rep", &rep).await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.body);
    let me = &v.json()["people"][0];
    assert!(fen(&me["quota"]) > 0.0, "{me}");
    assert!(fen(&me["booked"]) > 0.0, "{me}");
    assert!(fen(&me["pipeline"]) > 0.0, "{me}");
    let vv = me["v_value"].as_str().unwrap_or("");
    assert!(vv.parse::<f64>().is_ok_and(|x| x > 0.0), "V value {vv}");
    // The whole year has quotas, for the region too.
    let year = t.get(&format!("/api/v1/reports/v-value?period={}", chrono::Utc::now().format("%Y")), &manager).await;
    let y = year.json();
    assert!(fen(&y["total"]["quota"]) > 12.0 * 1_000_000.0, "{}", y["total"]);
    let team = y["teams"].as_array().unwrap().iter().find(|t| t["key"] == "manager").expect("manager's team");
    assert!(fen(&team["quota"]) > 0.0 && fen(&team["booked"]) > 0.0, "{team}");
    let north = y["regions"].as_array().unwrap().iter().find(|r| r["key"] == "NORTH").expect("NORTH");
    assert!(fen(&north["quota"]) > 0.0, "{north}");

    // Today: the rep's own figures; the manager's are the team's.
    let today = t.get("/api/v1/me/today", &rep).await.json();
    assert!(fen(&today["figures"]["quota"]) > 0.0, "{}", today["figures"]);
    let today = t.get("/api/v1/me/today", &manager).await.json();
    assert_eq!(today["figures"]["kind"], "team");
    assert!(fen(&today["figures"]["quota"]) > 0.0 && fen(&today["figures"]["booked"]) > 0.0, "{}", today["figures"]);

    // The 1×1 of the rep, as the manager sees it.
    let review = t.get("/api/v1/reports/one-on-one?owner=rep", &manager).await;
    assert_eq!(review.status, StatusCode::OK, "{}", review.body);
    assert!(fen(&review.json()["figures"]["quota"]) > 0.0, "{}", review.body);

    // Forecasts: eight weeks submitted, accuracy shown for each.
    let f = t.get("/api/v1/reports/forecast?owner=rep", &manager).await.json();
    let f = &f["items"];
    let acc = f[0]["accuracy"].as_array().expect("accuracy");
    assert_eq!(acc.len(), 8);
    assert!(acc.iter().all(|a| a["accuracy_pct"].is_i64() && fen(&a["booked"]) > 0.0), "{acc:?}");
    assert!(f[0]["previous"].is_object(), "last week's forecast: {}", f[0]);

    // The pages show them: the rep's forecast page has the accuracy in percent, their today a
    // V value; the manager's today the team's figures, the 1×1 the rep's.
    let (sid, _) = t.ui_login("rep", "kam-demo", None).await.expect("sign-in");
    let session = Auth::Session { cookie: sid, csrf: String::new() };
    let page = t.get("/forecast", &session).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.matches("%</td>").count() >= 8, "accuracy percentages on /forecast");
    let page = t.get("/today", &session).await;
    assert!(page.body.contains(&format!("<dd id=\"my-v\">{vv}</dd>")), "V value on /today");
    let (sid, _) = t.ui_login("manager", "kam-demo", None).await.expect("sign-in");
    let session = Auth::Session { cookie: sid, csrf: String::new() };
    let page = t.get("/today", &session).await;
    assert!(page.body.contains("id=\"team-figures\""), "the manager's today shows the team's figures");
    let page = t.get("/one-on-one/rep", &session).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(vv), "the 1×1 shows the rep's V value");
}

#[tokio::test]
async fn demo_has_no_share_of_wallet_above_100_percent() {
    let t = TestApp::new().await;
    t.demo().await;
    let r = sqlx::query(
        "SELECT COUNT(*) AS n FROM accounts WHERE deleted_at IS NULL AND (sow_bp > 10000 OR sales_12m > buying_power)",
    )
    .fetch_one(&t.db().pool)
    .await
    .unwrap();
    assert_eq!(r.try_get::<i64, _>("n").unwrap(), 0);
    // Deals won this month, and opportunities named in full.
    let month = chrono::Utc::now().format("%Y-%m-01").to_string();
    let won = sqlx::query("SELECT COUNT(*) AS n FROM opportunities WHERE stage = 'won' AND booked_on >= $1")
        .bind(month)
        .fetch_one(&t.db().pool)
        .await
        .unwrap();
    assert!(won.try_get::<i64, _>("n").unwrap() >= 10);
    let short = sqlx::query("SELECT COUNT(*) AS n FROM opportunities WHERE name NOT LIKE '% 年%'")
        .fetch_one(&t.db().pool)
        .await
        .unwrap();
    assert_eq!(short.try_get::<i64, _>("n").unwrap(), 0);
}

#[tokio::test]
async fn role_titles_are_the_companys_and_a_region_manager_is_shown_as_such() {
    let t = TestApp::new().await;
    t.demo().await;
    let profile = |user: &'static str| {
        let t = &t;
        async move {
            let (sid, _) = t.ui_login(user, "kam-demo", None).await.expect("sign-in");
            t.get("/profile", &Auth::Session { cookie: sid, csrf: String::new() }).await.body
        }
    };
    // Defaults: the manual's titles; a branch manager on a region is the region's manager.
    assert!(profile("north.manager").await.contains("销售大区经理"));
    let bj = profile("bj.manager").await;
    assert!(bj.contains("分公司经理") && !bj.contains("销售大区经理"));
    assert!(profile("director").await.contains("大客户销售主管"));
    assert!(profile("rep").await.contains("大客户销售代表"));

    // The administrator renames the rep's role and the region manager's.
    let (sid, csrf) = t.ui_login("admin", "kam-demo", None).await.expect("admin");
    let page = t.get("/admin/role-titles", &Auth::Session { cookie: sid.clone(), csrf: csrf.clone() }).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("name=\"zh.ka_rep\"") && page.body.contains("name=\"en.branch_manager_region\""));
    let r = t
        .ui_post(
            "/admin/role-titles",
            &sid,
            &[
                ("_csrf", &csrf),
                ("version", "0"),
                ("zh.ka_rep", "客户经理"),
                ("en.ka_rep", "Account manager"),
                ("zh.branch_manager_region", "大区总经理"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(profile("rep").await.contains("客户经理"));
    assert!(profile("north.manager").await.contains("大区总经理"));
    assert!(profile("bj.manager").await.contains("分公司经理"));
    let users = t.get("/admin/users", &Auth::Session { cookie: sid.clone(), csrf: csrf.clone() }).await.body;
    assert!(users.contains("客户经理") && users.contains("大区总经理"));
    // A stale version is refused; only the administrator may save.
    let stale = t.ui_post("/admin/role-titles", &sid, &[("_csrf", &csrf), ("version", "0")]).await;
    assert_eq!(stale.status, StatusCode::UNPROCESSABLE_ENTITY);
    let (rsid, rcsrf) = t.ui_login("director", "kam-demo", None).await.expect("director");
    let denied = t.ui_post("/admin/role-titles", &rsid, &[("_csrf", &rcsrf), ("version", "1")]).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    // Restore defaults.
    let r = t.ui_post("/admin/role-titles/reset", &sid, &[("_csrf", &csrf), ("version", "1")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(profile("rep").await.contains("大客户销售代表"));
    assert!(profile("north.manager").await.contains("销售大区经理"));
}

#[test]
fn texts_use_one_term_each() {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut files = vec![format!("{root}/locales/app.yml")];
    for e in std::fs::read_dir(format!("{root}/templates")).unwrap() {
        files.push(e.unwrap().path().display().to_string());
    }
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for bad in ["定单", "最好", "本周合计"] {
            assert!(!text.contains(bad), "{f} says {bad}");
        }
    }
}

/// The role titles and the amount unit through the API: read by anyone, titles set by the
/// administrator over their version; the unit is the caller's and pages follow it.
#[tokio::test]
async fn role_titles_and_the_amount_unit_through_the_api() {
    let t = TestApp::new().await;
    t.demo().await;
    let rep = Auth::Bearer(t.token("rep").await);
    let admin = Auth::Bearer(t.token("admin").await);
    let r = t.get("/api/v1/role-titles", &rep).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v = r.json();
    let row = |v: &serde_json::Value, slot: &str| {
        v["items"].as_array().unwrap().iter().find(|x| x["slot"] == slot).cloned().expect(slot)
    };
    assert_eq!(row(&v, "branch_manager_region")["zh"], "销售大区经理");
    assert_eq!(row(&v, "ka_rep")["custom"], false);
    let version = v["version"].as_i64().unwrap();

    let body = serde_json::json!({"version": version, "titles": [{"slot": "ka_rep", "zh": "客户经理", "en": "Account manager"}]});
    let r = t.call(axum::http::Method::PUT, "/api/v1/role-titles", &rep, Some(body.clone())).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "only the administrator: {}", r.body);
    let r = t.call(axum::http::Method::PUT, "/api/v1/role-titles", &admin, Some(body.clone())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let saved = r.json();
    assert_eq!(row(&saved, "ka_rep")["zh"], "客户经理");
    assert_eq!(row(&saved, "ka_rep")["default_zh"], "大客户销售代表");
    assert_eq!(saved["version"], version + 1);
    // The same body again is over an old version: refused, nothing changes.
    let r = t.call(axum::http::Method::PUT, "/api/v1/role-titles", &admin, Some(body)).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let too_long = serde_json::json!({"version": version + 1, "titles": [{"slot": "ka_rep", "zh": "长".repeat(41)}]});
    let r = t.call(axum::http::Method::PUT, "/api/v1/role-titles", &admin, Some(too_long)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let (sid, _) = t.ui_login("rep", "kam-demo", None).await.expect("rep");
    let profile = t.get("/profile", &Auth::Session { cookie: sid.clone(), csrf: String::new() }).await;
    assert!(profile.body.contains("客户经理"), "the page shows the new title");

    // The amount unit: the profile says it; 万元 on pages, the API keeps yuan.
    let me = t.get("/api/v1/me", &rep).await.json();
    assert_eq!(me["money_unit"], "yuan");
    let r = t
        .call(axum::http::Method::PUT, "/api/v1/me/money-unit", &rep, Some(serde_json::json!({"money_unit": "wan"})))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(t.get("/api/v1/me", &rep).await.json()["money_unit"], "wan");
    let r = t
        .call(axum::http::Method::PUT, "/api/v1/me/money-unit", &rep, Some(serde_json::json!({"money_unit": "亿"})))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("money_unit"), "{}", r.body);
    let opps = t.get("/api/v1/opportunities?owner=rep&limit=1", &rep).await.json();
    let amount = opps["items"][0]["amount"].as_str().unwrap().to_string();
    assert!(amount.contains('.') && amount.parse::<f64>().unwrap() >= 10_000.0, "the API answers in yuan: {amount}");
}

#[tokio::test]
async fn the_demos_files_are_on_a_sent_quote_a_draft_and_a_tender() {
    let t = TestApp::new().await;
    t.demo().await;
    kam::generate::demo::load_files(t.db(), &t.app.settings.files()).await.expect("demo files");
    let rep = Auth::Bearer(t.token("rep").await);
    let quotes = t.get("/api/v1/quotes?owner=rep&limit=200", &rep).await.json();
    let mut with_files = vec![];
    for q in quotes["items"].as_array().expect("items") {
        let files = t.get(&format!("/api/v1/quotes/{}/attachments", q["id"]), &rep).await.json();
        if let Some(f) = files["items"].as_array().and_then(|a| a.first()) {
            with_files.push((q["state"].as_str().unwrap_or("").to_string(), f["removable"].as_bool()));
            let d = t.get(&format!("/api/v1/quotes/{}/attachments/{}", q["id"], f["id"]), &rep).await;
            assert_eq!(d.status, StatusCode::OK);
        }
    }
    with_files.sort();
    assert_eq!(with_files, vec![("draft".to_string(), Some(true)), ("sent".to_string(), Some(false))]);
    let bid = t.get("/api/v1/bids?owner=rep&sort=submission_due", &rep).await.json();
    let mut found = 0;
    for b in bid["items"].as_array().expect("items") {
        let files = t.get(&format!("/api/v1/bids/{}/attachments", b["id"]), &rep).await.json();
        found += files["items"].as_array().map(Vec::len).unwrap_or(0);
    }
    assert_eq!(found, 1, "the tender's documents");
}
