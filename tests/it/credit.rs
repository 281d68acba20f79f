//! Credit (seed 003 §三; issue 22 items 1, 2, 6): the credit rules as a setting whose bands and
//! limit table must cover every amount and score; the evaluation's score of a form, kept with its
//! day and evaluator and set on the account (never the grade or the limit); the required
//! documents; the grade and limit the figures give; the credit lists; and credit kept from
//! everyone below supervisor level — a planted sentinel never reaches a rep or a KA manager in
//! any page, answer, export, history or notification.
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::{json, Value};
use sqlx::Row;

use super::common::{download, fields, seed, xlsx_rows, Auth, Resp, TestApp, World, PASSWORD};

fn bearer(w: &World, user: &str) -> Auth {
    Auth::Bearer(w.tokens[user].clone())
}

const ITEMS: &[&str] = &[
    "history",
    "owner",
    "business_policy",
    "internal_management",
    "bank_info",
    "management_ability",
    "facilities",
    "staff",
    "production_capacity",
    "sales_capacity",
    "capital_structure",
    "capital_relations",
    "capital_raising",
    "solvency",
    "collateral",
    "policy_factors",
    "economic_factors",
    "industry_factors",
];

/// A filled form: every item `mark`, with `over` set apart.
fn form(mark: i64, over: &[(&str, i64)]) -> Value {
    let mut items = serde_json::Map::new();
    for i in ITEMS {
        let m = over.iter().find(|(k, _)| k == i).map(|(_, m)| *m).unwrap_or(mark);
        items.insert(i.to_string(), json!(m));
    }
    json!({
        "items": items,
        "info": {"legal_representative": "王志远", "registered_capital": "50000000", "founded_on": "2006-04-18",
            "employees": 860, "bank_name": "中国工商银行北京海淀支行", "revenue_last_year": "320000000.00"},
        "notes": "近三年营收稳定增长"
    })
}

async fn evaluate(t: &TestApp, w: &World, who: &str, account: i64, body: Value) -> Resp {
    t.call(Method::POST, &format!("/api/v1/accounts/{account}/credit-evaluations"), &bearer(w, who), Some(body)).await
}

async fn stored(t: &TestApp, account: i64) -> (Option<String>, Option<i64>, Option<i64>) {
    let r = sqlx::query("SELECT credit_grade, credit_limit, credit_score FROM accounts WHERE id = $1")
        .bind(account)
        .fetch_one(&t.db().pool)
        .await
        .expect("account");
    (r.try_get("credit_grade").unwrap(), r.try_get("credit_limit").unwrap(), r.try_get("credit_score").unwrap())
}

async fn evaluations(t: &TestApp) -> i64 {
    sqlx::query("SELECT COUNT(*) AS n FROM credit_evaluations")
        .fetch_one(&t.db().pool)
        .await
        .unwrap()
        .try_get("n")
        .unwrap()
}

/// The start of a PDF.
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n";

async fn upload(t: &TestApp, who: &Auth, path: &str, note: &str) -> Resp {
    let b = "----kamcreditboundary";
    let mut body = Vec::new();
    body.extend(format!("--{b}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\n{note}\r\n").as_bytes());
    body.extend(
        format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"licence.pdf\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend(PDF);
    body.extend(format!("\r\n--{b}--\r\n").as_bytes());
    let mut r = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={b}"));
    if let Auth::Bearer(tok) = who {
        r = r.header(header::AUTHORIZATION, format!("Bearer {tok}"));
    }
    t.send(r.body(Body::from(body)).expect("request")).await
}

#[tokio::test]
async fn an_evaluation_scores_its_form_and_sets_the_score_only() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let x = w.account_x;
    // Every item 4 of 5: 80. One capital item (weight 7 of 100) at 2: (400 - 14) / 500 = 77.2 → 77.
    let r = evaluate(&t, &w, "director", x, form(4, &[])).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let v = r.json();
    assert_eq!(v["score"], 80);
    assert_eq!(v["scale_max"], 5);
    assert_eq!(v["evaluated_by"], "director");
    assert_eq!(v["items"].as_array().unwrap().len(), 18);
    assert_eq!(v["info"]["registered_capital"], "50000000.00");
    // The default limit table: 80–89 → 100万.
    assert_eq!(v["limit_for_score"], "1000000.00");
    assert_eq!(v["missing_documents"].as_array().unwrap().len(), 4);
    let r = evaluate(&t, &w, "finance", x, form(4, &[("solvency", 2)])).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let second = r.json();
    assert_eq!(second["score"], 77);
    // The score is the account's; the grade and the limit stay as they were (only a credit
    // change sets them).
    assert_eq!(stored(&t, x).await, (Some("yellow".into()), Some(7_654_321_099), Some(77)));
    let a = t.get(&format!("/api/v1/accounts/{x}"), &bearer(&w, "director")).await.json();
    assert_eq!((a["credit_score"].clone(), a["credit_grade"].clone()), (json!(77), json!("yellow")));
    // History: newest first, each with its day and evaluator.
    let list = t.get(&format!("/api/v1/accounts/{x}/credit-evaluations"), &bearer(&w, "director")).await.json();
    let scores: Vec<i64> = list["items"].as_array().unwrap().iter().map(|e| e["score"].as_i64().unwrap()).collect();
    assert_eq!(scores, vec![77, 80]);
    assert_eq!(list["items"][0]["evaluated_by_name"], "finance");
    assert_eq!(list["items"][0]["evaluated_on"].as_str().unwrap().len(), 10);
    // The account's history says the score changed, for those who see credit.
    let h = t.get(&format!("/api/v1/audit?entity=account&id={x}"), &bearer(&w, "director")).await.json();
    assert!(h["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["what"] == "credit_evaluation" && e["after"]["credit_score"] == 77));

    // The required documents: a business licence attached, three still missing; a kind the
    // evaluation does not know is refused.
    let id = second["id"].as_i64().unwrap();
    let path = format!("/api/v1/credit-evaluations/{id}/attachments");
    let r = upload(&t, &bearer(&w, "director"), &path, "business_licence").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(fields(&upload(&t, &bearer(&w, "director"), &path, "photo").await)["note"], "invalid_choice");
    let e = t.get(&format!("/api/v1/credit-evaluations/{id}"), &bearer(&w, "director")).await.json();
    assert_eq!(e["documents"].as_array().unwrap().len(), 1);
    assert_eq!(e["missing_documents"], json!(["legal_rep_id", "statements_year_end", "statements_quarter_end"]));
    // A rep may not attach, nor see the files.
    assert_eq!(upload(&t, &bearer(&w, "repA"), &path, "legal_rep_id").await.status, StatusCode::NOT_FOUND);
    assert_eq!(t.get(&path, &bearer(&w, "repA")).await.status, StatusCode::NOT_FOUND);

    // The page shows the history and what is missing.
    let (sid, _) = t.ui_login("director", PASSWORD, None).await.expect("sign in");
    let ui = Auth::Session { cookie: sid, csrf: String::new() };
    let page = t.get(&format!("/accounts/{x}/credit"), &ui).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains(&format!("id=\"evaluation-{id}\"")) && page.body.contains("法定代表人身份证"),
        "{}",
        page.body
    );
    assert!(page.body.contains("licence.pdf"));
}

#[tokio::test]
async fn bad_marks_bands_and_limit_tables_are_named_and_change_nothing() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let x = w.account_x;
    // A mark outside the scale, a negative one, a missing item, an unknown one.
    let mut body = form(3, &[("bank_info", 6), ("history", -1)]);
    body["items"].as_object_mut().unwrap().remove("collateral");
    body["items"]["luck"] = json!(3);
    let f = fields(&evaluate(&t, &w, "director", x, body).await);
    assert_eq!(f["items.bank_info"], "out_of_scale");
    assert_eq!(f["items.history"], "out_of_scale");
    assert_eq!(f["items.collateral"], "required");
    assert_eq!(f["items.luck"], "unknown_item");
    assert_eq!(evaluations(&t).await, 0);
    assert_eq!(stored(&t, x).await.2, Some(987_654));

    let director = bearer(&w, "director");
    let s = t.get("/api/v1/settings/credit", &director).await.json();
    assert_eq!(s["is_default"], true);
    assert_eq!(s["items"].as_array().unwrap().len(), 18);
    let put = |body: Value| {
        let t = &t;
        let d = director.clone();
        async move { t.call(Method::PUT, "/api/v1/settings/credit", &d, Some(body)).await }
    };
    let input = |s: &Value| {
        let mut b = s.clone();
        let o = b.as_object_mut().unwrap();
        o.remove("is_default");
        o.insert(
            "items".into(),
            Value::Array(
                s["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| json!({"item": i["item"], "weight": i["weight"]}))
                    .collect(),
            ),
        );
        b
    };
    // Bands with a gap (nothing from 100万 to 120万) and with an overlap.
    let mut gap = input(&s);
    gap["bands"][1]["from"] = json!("1200000.00");
    assert_eq!(fields(&put(gap).await)["bands"], "bands_gap");
    let mut overlap = input(&s);
    overlap["bands"][2]["from"] = json!("4000000.00");
    assert_eq!(fields(&put(overlap).await)["bands"], "bands_overlap");
    // No upper band: amounts above the last are unassigned.
    let mut open = input(&s);
    open["bands"][3]["to"] = json!("90000000.00");
    assert_eq!(fields(&put(open).await)["bands"], "bands_gap");
    // A limit table with an overlap and one with a gap.
    let mut lo = input(&s);
    lo["limits"][1]["from"] = json!(55);
    assert_eq!(fields(&put(lo).await)["limits"], "limits_overlap");
    let mut lg = input(&s);
    lg["limits"][4]["to"] = json!(99);
    assert_eq!(fields(&put(lg).await)["limits"], "limits_gap");
    // A weight and a scale out of range.
    let mut sc = input(&s);
    sc["scale_max"] = json!(0);
    sc["items"][4]["weight"] = json!(101);
    let f = fields(&put(sc).await);
    assert_eq!((f["scale_max"].as_str(), f["items.bank_info"].as_str()), ("scale_range", "weight_range"));
    // Nothing was saved.
    let again = t.get("/api/v1/settings/credit", &director).await.json();
    assert_eq!((again["is_default"].clone(), again["version"].clone()), (json!(true), json!(0)));

    // A good table saves, over its version; the score then reads the new scale.
    let mut good = input(&s);
    good["scale_max"] = json!(10);
    good["limits"] = json!([{"from": 0, "to": 69, "limit": "0"}, {"from": 70, "to": 100, "limit": "300000"}]);
    let r = put(good.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!((r.json()["is_default"].clone(), r.json()["version"].clone()), (json!(false), json!(1)));
    assert_eq!(put(good).await.status, StatusCode::CONFLICT);
    let v = evaluate(&t, &w, "director", x, form(7, &[])).await.json();
    assert_eq!((v["score"].clone(), v["limit_for_score"].clone()), (json!(70), json!("300000.00")));
    assert_eq!(fields(&evaluate(&t, &w, "director", x, form(11, &[])).await)["items.staff"], "out_of_scale");
    // The settings are not a rep's to read or change, nor a KA manager's.
    for who in ["repA", "manager"] {
        assert_eq!(t.get("/api/v1/settings/credit", &bearer(&w, who)).await.status, StatusCode::NOT_FOUND);
        let r = t.call(Method::PUT, "/api/v1/settings/credit", &bearer(&w, who), Some(input(&s))).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }
    // The region's head reads them but does not change them.
    let r = t.call(Method::PUT, "/api/v1/settings/credit", &bearer(&w, "region"), Some(input(&s))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_figures_give_a_grade_and_the_score_a_limit() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    use kam::app::credit::grades::{computed_grade, limit_for_score};
    use kam::domain::account::CreditGrade;
    let mut conn = t.db().pool.acquire().await.expect("conn");
    // Account X sells 150万 a year: the default bands make it red; a fulfilment of 7 in 10
    // (below 80 %) two grades worse: black; 9 in 10 is not below 90 %: no effect; none due no effect.
    let (g, reason) = computed_grade(&mut conn, w.account_x, None).await.unwrap().expect("graded");
    assert_eq!(g, CreditGrade::Red);
    assert!(reason.contains("1500000.00") && reason.contains("红名单"), "{reason}");
    assert_eq!(computed_grade(&mut conn, w.account_x, Some((10, 7))).await.unwrap().unwrap().0, CreditGrade::Black);
    assert_eq!(computed_grade(&mut conn, w.account_x, Some((10, 9))).await.unwrap().unwrap().0, CreditGrade::Red);
    assert_eq!(computed_grade(&mut conn, w.account_x, Some((0, 0))).await.unwrap().unwrap().0, CreditGrade::Red);
    // Account C has no transaction amount: nothing to grade.
    assert!(computed_grade(&mut conn, w.account_c, None).await.unwrap().is_none());
    assert_eq!(limit_for_score(&mut conn, 85).await.unwrap(), 100_000_000);
    assert_eq!(limit_for_score(&mut conn, 59).await.unwrap(), 0);
    // The account page shows a credit role what the figures give.
    let (sid, _) = t.ui_login("director", PASSWORD, None).await.expect("sign in");
    let page = t.get(&format!("/accounts/{}", w.account_x), &Auth::Session { cookie: sid, csrf: String::new() }).await;
    assert!(page.body.contains("id=\"credit-computed\""), "{}", page.body);
    // Computed red beside the current yellow.
    assert!(page.body.contains("红名单") && page.body.contains("黄名单"));
}

#[tokio::test]
async fn the_director_sees_the_red_list_and_exports_it() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    sqlx::query("UPDATE accounts SET credit_grade = 'red', credit_limit = 30000000, credit_score = 66 WHERE id = $1")
        .bind(w.account_c)
        .execute(&t.db().pool)
        .await
        .unwrap();
    let director = bearer(&w, "director");
    let names = |v: &Value| -> Vec<String> {
        v["items"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap().to_string()).collect()
    };
    let red = t.get("/api/v1/credit/accounts?grade=red", &director).await;
    assert_eq!(red.status, StatusCode::OK, "{}", red.body);
    let red = red.json();
    assert_eq!(names(&red), vec!["上海东方仪器有限公司"]);
    assert_eq!(red["items"][0]["credit_limit"], "300000.00");
    assert_eq!(red["items"][0]["owner"], "repC");
    assert_eq!(
        names(&t.get("/api/v1/credit/accounts?grade=yellow", &director).await.json()),
        vec!["北京星河精密制造有限公司"]
    );
    assert!(names(&t.get("/api/v1/credit/accounts?grade=none", &director).await.json()).is_empty());
    // Filters, sort and paging.
    assert!(names(&t.get("/api/v1/credit/accounts?grade=red&region=N", &director).await.json()).is_empty());
    assert_eq!(names(&t.get("/api/v1/credit/accounts?region=E", &director).await.json()).len(), 1);
    let page = t.get("/api/v1/credit/accounts?sort=-limit&limit=1", &director).await.json();
    assert_eq!(names(&page), vec!["北京星河精密制造有限公司"]);
    let cursor = page["next_cursor"].as_str().expect("a next page").to_string();
    let next = t.get(&format!("/api/v1/credit/accounts?sort=-limit&limit=1&cursor={cursor}"), &director).await.json();
    assert_eq!(names(&next), vec!["上海东方仪器有限公司"]);
    // Bad input: a list that is not one, a search too long, an unknown sort.
    assert_eq!(fields(&t.get("/api/v1/credit/accounts?grade=purple", &director).await)["grade"], "invalid_choice");
    let long = "长".repeat(201);
    assert_eq!(fields(&t.get(&format!("/api/v1/credit/accounts?q={long}"), &director).await)["q"], "too_long");
    let long_region = "N".repeat(101);
    assert_eq!(
        fields(&t.get(&format!("/api/v1/credit/accounts?region={long_region}"), &director).await)["region"],
        "too_long"
    );
    // The region's head sees the lists of their region only.
    let region = t.get("/api/v1/credit/accounts", &bearer(&w, "region")).await.json();
    assert_eq!(names(&region), vec!["北京星河精密制造有限公司"]);
    // Nobody below supervisor level: no list at all.
    for who in ["repA", "repC", "manager"] {
        assert_eq!(t.get("/api/v1/credit/accounts?grade=red", &bearer(&w, who)).await.status, StatusCode::NOT_FOUND);
        assert_eq!(t.get("/api/v1/credit/accounts/export", &bearer(&w, who)).await.status, StatusCode::NOT_FOUND);
    }

    // The page: the red tab shows the account; the export carries labels and numbers.
    let (sid, _) = t.ui_login("director", PASSWORD, None).await.expect("sign in");
    let ui = Auth::Session { cookie: sid, csrf: String::new() };
    let page = t.get("/credit/lists?grade=red", &ui).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("上海东方仪器有限公司") && !page.body.contains("北京星河精密制造有限公司"),
        "{}",
        page.body
    );
    assert!(page.body.contains("红名单 (1)") && page.body.contains("id=\"nav-credit\""));
    let (status, _, bytes) = download(&t, "/credit/lists/export?grade=red", &ui).await;
    assert_eq!(status, StatusCode::OK);
    let rows = xlsx_rows(bytes, "credit_accounts");
    assert_eq!(rows.len(), 2, "{rows:?}");
    let row: Vec<String> = rows[1].iter().map(|c| c.to_string()).collect();
    assert!(row.contains(&"红名单".to_string()) && row.contains(&"repC".to_string()), "{row:?}");
    assert!(rows[1].iter().any(|c| matches!(c, calamine::Data::Float(v) if *v == 300000.0)), "{row:?}");
    // A rep's pages have no credit list.
    let (sid, _) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");
    let rep = Auth::Session { cookie: sid, csrf: String::new() };
    assert_eq!(t.get("/credit/lists?grade=red", &rep).await.status, StatusCode::NOT_FOUND);
    assert!(!t.get("/", &rep).await.body.contains("nav-credit"));
}

#[tokio::test]
async fn the_evaluation_page_saves_and_names_a_bad_mark() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let x = w.account_x;
    let (sid, csrf) = t.ui_login("director", PASSWORD, None).await.expect("sign in");
    let ui = Auth::Session { cookie: sid.clone(), csrf: String::new() };
    // The form is given a one-time token first.
    let first = t.get(&format!("/accounts/{x}/credit/evaluate"), &ui).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    let page = t.get(&format!("/accounts/{x}/credit/evaluate?_once=eval-once-1"), &ui).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("name=\"items.bank_info\"") && page.body.contains("银行基本信息"));
    assert!(page.body.contains("name=\"_once\" value=\"eval-once-1\""), "{}", page.body);
    let path = format!("/accounts/{x}/credit/evaluate");
    let mut fs: Vec<(String, String)> = ITEMS.iter().map(|i| (format!("items.{i}"), "5".to_string())).collect();
    fs.push(("_csrf".into(), csrf.clone()));
    fs.push(("_once".into(), "eval-once-1".into()));
    fs.push(("info.legal_representative".into(), "王志远".into()));
    fs.push(("info.registered_capital".into(), "5000万".into()));
    let bad: Vec<(String, String)> =
        fs.iter().map(|(k, v)| (k.clone(), if k == "items.bank_info" { "9".into() } else { v.clone() })).collect();
    let pairs = |v: &[(String, String)]| v.iter().map(|(a, b)| (a.clone(), b.clone())).collect::<Vec<_>>();
    let post = |v: Vec<(String, String)>, sid: String| {
        let t = &t;
        let path = path.clone();
        async move {
            let refs: Vec<(&str, &str)> = v.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
            t.ui_post(&path, &sid, &refs).await
        }
    };
    let r = post(pairs(&bad), sid.clone()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("超出评分标准范围") && r.body.contains("王志远"), "{}", r.body);
    assert_eq!(evaluations(&t).await, 0);
    let r = post(pairs(&fs), sid.clone()).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(stored(&t, x).await.2, Some(100));
    // Back and submit again: the same form saves once and leads to the evaluation saved.
    let again = post(pairs(&fs), sid.clone()).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);
    assert_eq!(evaluations(&t).await, 1);
    let list = t.get(&format!("/api/v1/accounts/{x}/credit-evaluations"), &bearer(&w, "director")).await.json();
    assert_eq!(list["items"][0]["info"]["registered_capital"], "50000000.00");
    // The printed form (A4): the marks, the score, the basic information and what is missing.
    let eid = list["items"][0]["id"].as_i64().unwrap();
    let credit_page = t.get(&format!("/accounts/{x}/credit"), &ui).await;
    assert!(credit_page.body.contains(&format!("href=\"/credit-evaluations/{eid}/print\"")), "{}", credit_page.body);
    let print = t.get(&format!("/credit-evaluations/{eid}/print"), &ui).await;
    assert_eq!(print.status, StatusCode::OK, "{}", print.body);
    assert!(print.body.contains("/static/print.css") && print.body.contains("信用等级评分表"), "{}", print.body);
    assert!(print.body.contains("<td id=\"print-score\">100</td>") && print.body.contains("王志远"), "{}", print.body);
    assert!(print.body.contains("银行基本信息") && print.body.contains("营业执照"), "{}", print.body);
    // A rep's attempt: nothing there.
    let (sid, csrf) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");
    let mut fs = fs.clone();
    fs.retain(|(k, _)| k != "_csrf");
    fs.push(("_csrf".into(), csrf));
    let rep = Auth::Session { cookie: sid.clone(), csrf: String::new() };
    assert_eq!(t.get(&format!("/credit-evaluations/{eid}/print"), &rep).await.status, StatusCode::NOT_FOUND);
    let r = post(fs, sid).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(evaluations(&t).await, 1);
}

/// The planted values: a limit of 987654.32 元, a score of 97531 and the red grade.
const SENTINELS: &[&str] =
    &["987654.32", "987,654.32", "98.77", "97531", "credit_grade", "credit_limit", "credit_score"];
const GRADE_WORDS: &[&str] = &["红名单", "黄名单", "绿名单", "黑名单", "Red list", "信用评估", "信用名单"];

fn assert_clean(body: &str, what: &str) {
    for s in SENTINELS.iter().chain(GRADE_WORDS) {
        assert!(!body.contains(s), "{what} shows {s}");
    }
}

#[tokio::test]
async fn a_planted_credit_sentinel_never_reaches_a_rep_or_a_ka_manager() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let x = w.account_x;
    // Credit in the history too: an evaluation, its document, and the planted values.
    let r = evaluate(&t, &w, "director", x, form(4, &[])).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let eid = r.json()["id"].as_i64().unwrap();
    upload(&t, &bearer(&w, "director"), &format!("/api/v1/credit-evaluations/{eid}/attachments"), "business_licence")
        .await;
    sqlx::query(
        "UPDATE accounts SET credit_grade = 'red', credit_limit = 98765432, credit_score = 97531 WHERE id = $1",
    )
    .bind(x)
    .execute(&t.db().pool)
    .await
    .unwrap();
    // A rep edits X, so its history has rows the rep may read.
    let v = t.get(&format!("/api/v1/accounts/{x}"), &bearer(&w, "repA")).await.json()["version"].clone();
    let r = t
        .call(
            Method::PATCH,
            &format!("/api/v1/accounts/{x}"),
            &bearer(&w, "repA"),
            Some(json!({"version": v, "tags": "重点"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    for who in ["repA", "manager"] {
        let api = bearer(&w, who);
        for path in [
            format!("/api/v1/accounts/{x}"),
            "/api/v1/accounts".to_string(),
            "/api/v1/accounts/export".to_string(),
            format!("/api/v1/audit?entity=account&id={x}"),
            "/api/v1/audit".to_string(),
            "/api/v1/notifications".to_string(),
        ] {
            let r = t.get(&path, &api).await;
            assert_eq!(r.status, StatusCode::OK, "{who} {path}: {}", r.body);
            assert_clean(&r.body, &format!("{who} {path}"));
        }
        let h = t.get(&format!("/api/v1/audit?entity=account&id={x}"), &api).await.json();
        assert!(!h["items"].as_array().unwrap().is_empty(), "{who} reads X's history");
        for path in [
            format!("/api/v1/accounts/{x}/credit-evaluations"),
            format!("/api/v1/credit-evaluations/{eid}"),
            format!("/api/v1/audit?entity=credit_evaluation&id={eid}"),
        ] {
            let r = t.get(&path, &api).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{who} {path}: {}", r.body);
        }
        let (status, _, bytes) = download(&t, "/api/v1/accounts/export?format=xlsx", &api).await;
        assert_eq!(status, StatusCode::OK);
        let cells: Vec<String> = xlsx_rows(bytes, "accounts").iter().flatten().map(|c| c.to_string()).collect();
        assert!(cells.iter().any(|c| c.contains("星河")), "{who} exports X");
        assert_clean(&cells.join("|"), &format!("{who} XLSX"));

        let (sid, _) = t.ui_login(who, PASSWORD, None).await.expect("sign in");
        let ui = Auth::Session { cookie: sid, csrf: String::new() };
        for path in [
            format!("/accounts/{x}"),
            "/accounts".to_string(),
            "/accounts/export.csv".to_string(),
            format!("/audit?entity=account&id={x}"),
            "/audit".to_string(),
            "/notifications".to_string(),
        ] {
            let r = t.get(&path, &ui).await;
            assert_eq!(r.status, StatusCode::OK, "{who} page {path}");
            assert_clean(&r.body, &format!("{who} page {path}"));
        }
        // The account page says only that its terms need approval (red carries measures).
        assert!(t.get(&format!("/accounts/{x}"), &ui).await.body.contains("付款条件需审批"));
        let (status, _, bytes) = download(&t, "/accounts/export.xlsx", &ui).await;
        assert_eq!(status, StatusCode::OK);
        let cells: Vec<String> = xlsx_rows(bytes, "accounts").iter().flatten().map(|c| c.to_string()).collect();
        assert_clean(&cells.join("|"), &format!("{who} page XLSX"));
        for path in
            [format!("/accounts/{x}/credit"), format!("/accounts/{x}/credit/evaluate"), "/settings/credit".into()]
        {
            assert_eq!(t.get(&path, &ui).await.status, StatusCode::NOT_FOUND, "{who} {path}");
        }
    }

    // The director sees it all.
    let d = bearer(&w, "director");
    let a = t.get(&format!("/api/v1/accounts/{x}"), &d).await.json();
    assert_eq!((a["credit_limit"].clone(), a["credit_score"].clone()), (json!("987654.32"), json!(97531)));
    let h = t.get(&format!("/api/v1/audit?entity=account&id={x}"), &d).await;
    assert!(h.body.contains("credit_evaluation"));
    let (sid, _) = t.ui_login("director", PASSWORD, None).await.expect("sign in");
    let ui = Auth::Session { cookie: sid, csrf: String::new() };
    let page = t.get(&format!("/accounts/{x}"), &ui).await;
    assert!(page.body.contains("987,654.32") && page.body.contains("红名单") && page.body.contains("97531"));
    assert!(!page.body.contains("付款条件需审批"));
    let (_, _, bytes) = download(&t, "/accounts/export.xlsx", &ui).await;
    let cells: Vec<String> = xlsx_rows(bytes, "accounts").iter().flatten().map(|c| c.to_string()).collect();
    assert!(cells.iter().any(|c| c == "红名单"), "{cells:?}");
}
