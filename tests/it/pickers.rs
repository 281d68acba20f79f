//! Pickers instead of codes, and search by pinyin: accounts found by their names in pinyin
//! (full, initials, any case) however they were written; person fields that take a name or a
//! username; the user search behind the pickers; org units shown by name.
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::{json, Value};

use crate::common::{Auth, TestApp};

const DEMO_PASSWORD: &str = "kam-demo";

fn names(page: &Value) -> Vec<String> {
    page["items"].as_array().expect("items").iter().map(|a| a["name"].as_str().expect("name").to_string()).collect()
}

async fn search(t: &TestApp, auth: &Auth, q: &str) -> Vec<String> {
    let path = format!("/api/v1/accounts?limit=100&q={}", percent(q));
    let r = t.get(&path, auth).await;
    assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
    names(&r.json())
}

fn percent(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn location(r: &crate::common::Resp) -> String {
    r.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

#[tokio::test]
async fn accounts_are_found_by_pinyin_however_they_were_written() {
    let t = TestApp::new().await;
    t.demo().await;
    let director = Auth::Bearer(t.token("director").await);

    // Through the API.
    let r = t
        .call(Method::POST, "/api/v1/accounts", &director, Some(json!({"name": "天成信息", "industry": "enterprise"})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    for q in ["tiancheng", "tcxx", "天成", "TianCheng", "TCXX", "tian cheng"] {
        assert!(search(&t, &director, q).await.contains(&"天成信息".to_string()), "{q} finds 天成信息");
    }
    assert!(!search(&t, &director, "tianchengxy").await.contains(&"天成信息".to_string()));

    // Through the form.
    let (sid, csrf) = t.ui_login("director", DEMO_PASSWORD, None).await.expect("sign in");
    let r = t
        .ui_post("/accounts/new", &sid, &[("_csrf", &csrf), ("name", "翠湖云图科技"), ("industry", "enterprise")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(search(&t, &director, "cuihuyuntu").await.contains(&"翠湖云图科技".to_string()));
    assert!(search(&t, &director, "chyt").await.contains(&"翠湖云图科技".to_string()));
    // The list page finds it too, and says pinyin may be typed.
    let page = t.get("/accounts?q=CuiHu", &Auth::Session { cookie: sid.clone(), csrf: String::new() }).await;
    assert!(page.body.contains("翠湖云图科技"), "the list page finds it");
    assert!(page.body.contains("名称、简称、拼音或信用代码"));

    // Through an import.
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/imports/accounts")
        .header(header::AUTHORIZATION, format!("Bearer {}", t.token("director").await))
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .body(Body::from("客户名称,行业\r\n青山绿水环保有限公司,企业\r\n".as_bytes().to_vec()))
        .expect("request");
    let r = t.send(req).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(search(&t, &director, "qingshanlvshui").await.contains(&"青山绿水环保有限公司".to_string()));
    assert!(search(&t, &director, "qslshb").await.contains(&"青山绿水环保有限公司".to_string()));

    // A rename spells the new name; the old spelling no longer finds it.
    let id = t.get("/api/v1/accounts?q=tcxx", &director).await.json()["items"][0]["id"].as_i64().expect("id");
    let a = t.get(&format!("/api/v1/accounts/{id}"), &director).await.json();
    let r = t
        .call(
            Method::PATCH,
            &format!("/api/v1/accounts/{id}"),
            &director,
            Some(json!({"version": a["version"], "name": "远航信息"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(search(&t, &director, "yhxx").await.contains(&"远航信息".to_string()));
    assert!(!search(&t, &director, "tcxx").await.contains(&"远航信息".to_string()));

    // Rows written before the pinyin columns existed are spelt at start-up.
    sqlx::query("UPDATE accounts SET name_pinyin = NULL, name_initials = NULL").execute(&t.db().pool).await.unwrap();
    assert!(search(&t, &director, "yuanhang").await.is_empty());
    let n = t.db().backfill_pinyin().await.expect("backfill");
    assert!(n > 100, "every account spelt again ({n})");
    assert!(search(&t, &director, "yuanhang").await.contains(&"远航信息".to_string()));
    assert_eq!(t.db().backfill_pinyin().await.expect("again"), 0, "nothing left the second time");
}

#[tokio::test]
async fn a_rep_finds_by_pinyin_only_accounts_in_scope() {
    let t = TestApp::new().await;
    t.demo().await;
    let director = Auth::Bearer(t.token("director").await);
    let r = t
        .call(
            Method::POST,
            "/api/v1/accounts",
            &director,
            Some(json!({"name": "天成信息", "industry": "enterprise", "region": "EAST"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let rep = Auth::Bearer(t.token("rep").await);
    assert!(!search(&t, &rep, "tcxx").await.contains(&"天成信息".to_string()), "out of the rep's scope");
}

/// Every page of a list, following `next_cursor`.
async fn all_pages(t: &TestApp, auth: &Auth, first: &str) -> Vec<String> {
    let mut out = vec![];
    let mut path = first.to_string();
    loop {
        let r = t.get(&path, auth).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
        let page = r.json();
        out.extend(names(&page));
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("{first}&cursor={}", percent(c)),
            None => return out,
        }
    }
}

#[tokio::test]
async fn accounts_are_listed_in_pinyin_order_on_every_page() {
    let t = TestApp::new().await;
    t.demo().await;
    let director = Auth::Bearer(t.token("director").await);
    // In code-point order 中 (U+4E2D) < 安 (U+5B89) < 白 (U+767D); in pinyin 安 an < 白 bai < 中 zhong.
    for (name, owner) in [("中原电力", "rep"), ("安平数据", "rep"), ("白云机场", "rep"), ("Bright科技", "rep")]
    {
        let r = t
            .call(
                Method::POST,
                "/api/v1/accounts",
                &director,
                Some(json!({"name": name, "industry": "enterprise", "region": "EAST", "branch": "SH", "owner": owner})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let rep = Auth::Bearer(t.token("rep").await);
    // The director's list (all accounts) and the rep's (their visibility rows), two rows a page.
    for (who, auth) in [("director", &director), ("rep", &rep)] {
        let listed = all_pages(&t, auth, "/api/v1/accounts?limit=2").await;
        let pos = |n: &str| listed.iter().position(|x| x == n).unwrap_or_else(|| panic!("{who} lists {n}"));
        assert!(pos("安平数据") < pos("白云机场"), "{who}: an before bai: {listed:?}");
        assert!(pos("白云机场") < pos("Bright科技"), "{who}: bai before brightkeji: {listed:?}");
        assert!(pos("Bright科技") < pos("中原电力"), "{who}: brightkeji before zhong: {listed:?}");
        let mut keyed: Vec<(String, String)> =
            listed.iter().map(|n| (kam::domain::pinyin::sort_key(n), n.clone())).collect();
        keyed.sort();
        let expected: Vec<String> = keyed.into_iter().map(|k| k.1).collect();
        assert_eq!(listed, expected, "{who}: every page in pinyin order, nothing twice or missing");
        // Descending is the reverse.
        let mut down = all_pages(&t, auth, "/api/v1/accounts?limit=3&sort=-name").await;
        down.reverse();
        assert_eq!(down, listed, "{who}: -name is the reverse");
    }
    // The page of the list shows them in the same order.
    let (sid, _) = t.ui_login("rep", DEMO_PASSWORD, None).await.expect("sign in");
    let page = t.get("/accounts?limit=200", &Auth::Session { cookie: sid, csrf: String::new() }).await;
    let at = |n: &str| page.body.find(n).unwrap_or_else(|| panic!("the page lists {n}"));
    assert!(at("安平数据") < at("白云机场") && at("白云机场") < at("中原电力"), "the page in pinyin order");
}

#[tokio::test]
async fn person_fields_take_a_name_or_a_username_and_refuse_others_naming_the_field() {
    let t = TestApp::new().await;
    t.demo().await;
    let (sid, csrf) = t.ui_login("director", DEMO_PASSWORD, None).await.expect("sign in");
    let director = Auth::Bearer(t.token("director").await);
    // A display name.
    let r = t
        .ui_post(
            "/accounts/new",
            &sid,
            &[
                ("_csrf", &csrf),
                ("name", "星辰测试一号有限公司"),
                ("industry", "enterprise"),
                ("owner", "林涛"),
                ("inside_owner", "许诺 (sr)"),
                ("ka_manager", "manager"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let to = location(&r);
    let id: i64 = to.trim_start_matches("/accounts/").split(['?', '/']).next().unwrap().parse().expect("id");
    let a = t.get(&format!("/api/v1/accounts/{id}"), &director).await.json();
    assert_eq!(
        (a["owner"].as_str(), a["inside_owner"].as_str(), a["ka_manager"].as_str()),
        (Some("rep"), Some("sr"), Some("manager"))
    );
    // The account page shows them by name, and its edit form shows the picker's label.
    let auth = Auth::Session { cookie: sid.clone(), csrf: String::new() };
    let page = t.get(&format!("/accounts/{id}"), &auth).await;
    assert!(page.body.contains("林涛") && page.body.contains("许诺"), "names on the account page");
    let form = t.get(&format!("/accounts/{id}/edit"), &auth).await;
    assert!(form.body.contains("value=\"林涛 (rep)\""), "the AE as the picker shows it");
    assert!(form.body.contains("data-picker=\"owners\""));

    // An unknown name: the form again, the error beside the AE field, in Chinese.
    let r = t
        .ui_post(
            "/accounts/new",
            &sid,
            &[("_csrf", &csrf), ("name", "星辰测试二号有限公司"), ("industry", "enterprise"), ("owner", "林小涛")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("用户不存在或已停用"), "{}", r.body);
    assert!(r.body.contains("id=\"e-owner\""), "the error is the owner field's");
    assert!(r.body.contains("value=\"林小涛\""), "what was typed stays");

    // Two active users with one name: ambiguous, asked to choose.
    let admin = Auth::Bearer(t.token("admin").await);
    let r = t
        .call(
            Method::POST,
            "/api/v1/users",
            &admin,
            Some(json!({"username": "lin.tao2", "display_name": "林涛", "role": "ka_rep", "org_unit": "SH",
                "sales_type": "ae", "password": "Kam-2026-start"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = t
        .ui_post(
            "/accounts/new",
            &sid,
            &[("_csrf", &csrf), ("name", "星辰测试三号有限公司"), ("industry", "enterprise"), ("owner", "林涛")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("有多位同名用户"), "{}", r.body);
    // The API names the field too.
    let r = t
        .call(
            Method::POST,
            "/api/v1/accounts",
            &director,
            Some(json!({"name": "星辰测试四号有限公司", "industry": "enterprise", "owner": "林涛"})),
        )
        .await;
    assert_eq!(crate::common::fields(&r).get("owner").map(String::as_str), Some("ambiguous_user"));

    // A branch of another region is refused, naming the branch.
    let r = t
        .ui_post(
            "/accounts/new",
            &sid,
            &[
                ("_csrf", &csrf),
                ("name", "星辰测试五号有限公司"),
                ("industry", "enterprise"),
                ("region", "EAST"),
                ("branch", "BJ"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("id=\"e-branch\"") && r.body.contains("分公司不属于所选大区"), "{}", r.body);

    // The account team takes a name too.
    let r = t.ui_post(&format!("/accounts/{id}/team"), &sid, &[("_csrf", &csrf), ("username", "何雪")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let team = t.get(&format!("/api/v1/accounts/{id}/team"), &director).await.json();
    assert!(team.to_string().contains("rep2"), "{team}");
}

#[tokio::test]
async fn the_user_search_offers_active_users_by_pinyin() {
    let t = TestApp::new().await;
    t.demo().await;
    let rep = Auth::Bearer(t.token("rep").await);
    let admin = Auth::Bearer(t.token("admin").await);
    let usernames = |v: &Value| -> Vec<String> {
        v["items"].as_array().expect("items").iter().map(|u| u["username"].as_str().unwrap().to_string()).collect()
    };
    // 胡文涛 (hu) before 林涛 (lin): pinyin order, found by a syllable of their names.
    let r = t.get("/api/v1/users/search?q=tao", &rep).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let found = usernames(&r.json());
    let (hu, lin) = (
        found.iter().position(|u| u == "manager3").expect("胡文涛"),
        found.iter().position(|u| u == "rep").expect("林涛"),
    );
    assert!(hu < lin, "{found:?}");
    assert_eq!(r.json()["items"][lin]["label"], "林涛 (rep)");
    // Initials, Chinese, the username.
    assert!(usernames(&t.get("/api/v1/users/search?q=LT", &rep).await.json()).contains(&"rep".to_string()));
    assert!(usernames(&t.get(&format!("/api/v1/users/search?q={}", percent("林")), &rep).await.json())
        .contains(&"rep".to_string()));
    // Every active user without q, in pinyin order of their names.
    let all = t.get("/api/v1/users/search?limit=100", &rep).await.json();
    let keys: Vec<String> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| kam::domain::pinyin::sort_key(u["display_name"].as_str().unwrap()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    // Owners only: no administrator.
    let owners = usernames(&t.get("/api/v1/users/search?pool=owners&limit=100", &rep).await.json());
    assert!(owners.contains(&"rep".to_string()) && !owners.contains(&"admin".to_string()), "{owners:?}");
    // A deactivated user is not offered.
    let r = t.call(Method::POST, "/api/v1/users/rep2/deactivate", &admin, Some(json!({"successor": "rep"}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = t.get(&format!("/api/v1/users/search?q={}", percent("何雪")), &rep).await;
    assert!(usernames(&r.json()).is_empty(), "{}", r.body);
    // Nor can it be given an account.
    let director = Auth::Bearer(t.token("director").await);
    let r = t
        .call(
            Method::POST,
            "/api/v1/accounts",
            &director,
            Some(json!({"name": "测试", "industry": "enterprise", "owner": "何雪"})),
        )
        .await;
    assert_eq!(crate::common::fields(&r).get("owner").map(String::as_str), Some("unknown_user"));
    // A wrong pool is 422 naming it.
    let r = t.get("/api/v1/users/search?pool=everyone", &rep).await;
    assert_eq!(crate::common::fields(&r).get("pool").map(String::as_str), Some("invalid_choice"));
    // The pages' own search answers the signed-in user the same way.
    let (sid, _) = t.ui_login("rep", DEMO_PASSWORD, None).await.expect("sign in");
    let r = t.get("/pick/users?q=lintao", &Auth::Session { cookie: sid, csrf: String::new() }).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["items"][0]["label"], "林涛 (rep)");
}

#[tokio::test]
async fn org_units_are_chosen_by_name_not_code() {
    let t = TestApp::new().await;
    t.demo().await;
    let (sid, _) = t.ui_login("director", DEMO_PASSWORD, None).await.expect("sign in");
    let auth = Auth::Session { cookie: sid, csrf: String::new() };
    let form = t.get_form("/accounts/new", &auth).await;
    assert_eq!(form.status, StatusCode::OK);
    // Regions by name; branches by name under their region, following the region select.
    assert!(form.body.contains("<option value=\"NORTH\" >华北大区</option>"), "{}", form.body);
    assert!(form.body.contains("data-follows=\"region\""));
    assert!(form.body.contains("<optgroup label=\"华北大区\" data-key=\"NORTH\">"));
    assert!(form.body.contains(">北京分公司</option>"));
    assert!(form.body.contains("<script src=\"/static/picker.js\" defer>"));
    let js = t.get("/static/picker.js", &Auth::None).await;
    assert_eq!(js.status, StatusCode::OK);
    assert!(js.body.contains("/pick/users"));
}

/// The visit form's account picker searches like the accounts list: by pinyin initials among
/// the accounts the caller sees (a manager with no accounts of their own finds their team's).
#[tokio::test]
async fn the_visit_forms_account_picker_finds_by_pinyin() {
    let t = TestApp::new().await;
    t.demo().await;
    let rep = Auth::Bearer(t.token("rep").await);
    let mine = t.get("/api/v1/accounts?owner=rep&limit=5", &rep).await.json();
    let a = &mine["items"][0];
    let (id, name) = (a["id"].as_i64().expect("id"), a["name"].as_str().expect("name").to_string());
    let initials = kam::domain::pinyin::initials(&name);
    for user in ["rep", "manager"] {
        let (cookie, csrf) = t.ui_login(user, "kam-demo", None).await.expect("sign in");
        let page = t.get(&format!("/activities/new?q={initials}"), &Auth::Session { cookie, csrf }).await;
        assert_eq!(page.status, axum::http::StatusCode::OK, "{}", page.body);
        assert!(
            page.body.contains(&format!("<option value=\"{id}\">{name}</option>")),
            "{user} finds {name} by {initials}"
        );
        assert!(page.body.contains(&format!("value=\"{initials}\"")), "the search is kept");
    }
    let (cookie, csrf) = t.ui_login("rep", "kam-demo", None).await.expect("sign in");
    let none = t.get("/activities/new?q=zzzzqqq", &Auth::Session { cookie, csrf }).await;
    assert!(none.body.contains("id=\"pick-none\""), "{}", none.body);
}

/// The weekly plan's add form searches its account picker the same way.
#[tokio::test]
async fn the_weekly_plans_account_picker_finds_by_pinyin() {
    let t = TestApp::new().await;
    t.demo().await;
    let rep = Auth::Bearer(t.token("rep").await);
    let mine = t.get("/api/v1/accounts?owner=rep&limit=5", &rep).await.json();
    let a = &mine["items"][0];
    let (id, name) = (a["id"].as_i64().expect("id"), a["name"].as_str().expect("name").to_string());
    let full = kam::domain::pinyin::full(&name);
    let (cookie, csrf) = t.ui_login("rep", "kam-demo", None).await.expect("sign in");
    let auth = Auth::Session { cookie, csrf };
    let page = t.get_form(&format!("/visit-plan?q={}", &full[..full.len().min(8)]), &auth).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let add = page.body.split("id=\"plan-add-form\"").nth(1).expect("the add form");
    assert!(add.contains(&format!("<option value=\"{id}\" >{name}</option>")), "{name} offered: {add}");
    // Another of the rep's accounts whose pinyin does not hold the search is not offered.
    let key = &full[..full.len().min(8)];
    let other = mine["items"].as_array().expect("items").iter().find(|x| {
        let n = x["name"].as_str().unwrap_or("");
        !kam::domain::pinyin::full(n).contains(key) && !kam::domain::pinyin::initials(n).contains(key)
    });
    if let Some(o) = other {
        assert!(!add.contains(&format!("<option value=\"{}\" ", o["id"])), "{} is not offered", o["name"]);
    }
}
