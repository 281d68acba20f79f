//! The funnel report read from the totals kept per account and region: after every kind of
//! change (establishing, editing an amount, moving on, winning, losing, reopening, an account
//! moved to another region, deleted or merged) and under concurrent changes, everyone's funnel
//! shows what their opportunities add up to; and the board's columns count the whole stage.
use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use kam::domain::money::parse_fen;
use serde_json::{json, Value};
use sqlx::Row;
use tower::ServiceExt;

use crate::common::{fields, seed, Auth, TestApp, World, PASSWORD};

/// The stages in the report's order, with their probabilities.
const STAGES: [(&str, i64); 7] = [
    ("identified", 10),
    ("contacted", 25),
    ("qualified", 50),
    ("developed", 75),
    ("committed", 90),
    ("won", 100),
    ("lost", 0),
];

fn is_open(stage: &str) -> bool {
    !matches!(stage, "won" | "lost")
}

fn bearer(w: &World, user: &str) -> Auth {
    Auth::Bearer(w.tokens[user].clone())
}

fn today() -> String {
    chrono::Utc::now().date_naive().format("%Y-%m-%d").to_string()
}

fn fen(s: &str) -> i64 {
    parse_fen(s).unwrap_or_else(|e| panic!("money {s:?}: {e}"))
}

/// A complete establishing form (立项 with the evaluation's four required answers).
fn form(account: i64, name: &str, amount: &str) -> Value {
    json!({
        "account_id": account,
        "name": name,
        "amount": amount,
        "expected_close": "2031-06-30",
        "eval_need": "产线扩能，需要高精度测量设备",
        "eval_budget": "年度预算已批",
        "eval_timeline": "三季度下单",
        "eval_decision_makers": "总经理王志远、采购部",
    })
}

fn id_of(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_else(|| panic!("id in {v}"))
}

fn version_of(v: &Value) -> i64 {
    v["version"].as_i64().unwrap_or_else(|| panic!("version in {v}"))
}

async fn establish(t: &TestApp, who: &Auth, body: Value) -> i64 {
    let r = t.call(Method::POST, "/api/v1/opportunities", who, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    id_of(&r.json())
}

/// The record as the director (who sees everything) reads it.
async fn record(t: &TestApp, w: &World, id: i64) -> Value {
    let r = t.get(&format!("/api/v1/opportunities/{id}"), &bearer(w, "director")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()
}

/// Edits an opportunity at its current version.
async fn edit(t: &TestApp, w: &World, who: &Auth, id: i64, mut body: Value) -> Value {
    body["version"] = json!(version_of(&record(t, w, id).await));
    let r = t.call(Method::PATCH, &format!("/api/v1/opportunities/{id}"), who, Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()
}

/// Moves an opportunity at its current version.
async fn move_to(t: &TestApp, w: &World, who: &Auth, id: i64, mut body: Value) -> Value {
    body["version"] = json!(version_of(&record(t, w, id).await));
    let r = t.call(Method::POST, &format!("/api/v1/opportunities/{id}/stage"), who, Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()
}

/// Ticks every exit criterion of `stage`, one by one as a user would; returns the record.
async fn check_stage(t: &TestApp, who: &Auth, rec: Value, stage: &str) -> Value {
    let id = id_of(&rec);
    let items: Vec<String> = rec["checklist"]
        .as_array()
        .expect("checklist")
        .iter()
        .filter(|c| c["stage"] == stage)
        .map(|c| c["item"].as_str().expect("item").to_string())
        .collect();
    assert!(!items.is_empty(), "{stage} has exit criteria");
    let mut rec = rec;
    for item in items {
        let r = t
            .call(
                Method::POST,
                &format!("/api/v1/opportunities/{id}/checklist"),
                who,
                Some(json!({"item": item, "checked": true, "version": version_of(&rec)})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{item}: {}", r.body);
        rec = r.json();
    }
    rec
}

async fn create_account(t: &TestApp, w: &World, mut body: Value) -> i64 {
    body["allow_duplicate_name"] = json!(true);
    let r = t.call(Method::POST, "/api/v1/accounts", &bearer(w, "director"), Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    id_of(&r.json())
}

async fn account_version(t: &TestApp, w: &World, id: i64) -> i64 {
    let r = t.get(&format!("/api/v1/accounts/{id}"), &bearer(w, "director")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    version_of(&r.json())
}

async fn id_by(t: &TestApp, sql: &str, key: &str) -> i64 {
    sqlx::query(sql).bind(key).fetch_one(&t.db().pool).await.expect("lookup").try_get("id").expect("id")
}

/// (count, amount in fen) per stage, every stage present.
type Figures = BTreeMap<String, (i64, i64)>;

fn zeros() -> Figures {
    STAGES.iter().map(|(s, _)| (s.to_string(), (0, 0))).collect()
}

/// What the opportunities add up to, straight from the records: live opportunities of live
/// accounts matching `scope` (SQL over `o` and `a`), a won one at its booked amount.
async fn expected(t: &TestApp, scope: &str) -> Figures {
    let sql = format!(
        "SELECT o.stage AS stage, COUNT(*) AS n, CAST(COALESCE(SUM(CASE WHEN o.stage = 'won' \
         AND o.booked_amount IS NOT NULL THEN o.booked_amount ELSE o.amount END), 0) AS BIGINT) AS amount \
         FROM opportunities o JOIN accounts a ON a.id = o.account_id \
         WHERE o.deleted_at IS NULL AND a.deleted_at IS NULL AND ({scope}) GROUP BY o.stage"
    );
    let mut out = zeros();
    for r in sqlx::query(&sql).fetch_all(&t.db().pool).await.unwrap_or_else(|e| panic!("{sql}: {e}")) {
        let stage: String = r.try_get("stage").expect("stage");
        out.insert(stage, (r.try_get("n").expect("n"), r.try_get("amount").expect("amount")));
    }
    out
}

/// The report's figures; also checks that its weighted column and pipeline follow from them.
fn figures(f: &Value, what: &str) -> Figures {
    let mut out = Figures::new();
    let stages = f["stages"].as_array().unwrap_or_else(|| panic!("{what}: stages in {f}"));
    assert_eq!(
        stages.iter().map(|s| s["stage"].as_str().unwrap_or("")).collect::<Vec<_>>(),
        STAGES.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        "{what}: every stage, in order"
    );
    let mut pipeline = 0;
    for (s, (name, p)) in stages.iter().zip(STAGES) {
        assert_eq!(s["probability"], p, "{what}: {name}");
        let amount = fen(s["amount"].as_str().expect("amount"));
        let weighted = amount * p / 100;
        assert_eq!(fen(s["weighted"].as_str().expect("weighted")), weighted, "{what}: weighted {name}: {f}");
        if is_open(name) {
            pipeline += weighted;
        }
        out.insert(name.to_string(), (s["count"].as_i64().expect("count"), amount));
    }
    assert_eq!(fen(f["weighted_pipeline"].as_str().expect("pipeline")), pipeline, "{what}: pipeline: {f}");
    out
}

/// One caller's funnel with one query string, and the SQL condition of what they should see.
struct View {
    who: &'static str,
    query: String,
    scope: String,
}

/// Everyone whose funnel is compared, with what each of them should see.
async fn views(t: &TestApp) -> Vec<View> {
    let org = |code: &'static str| async move { id_by(t, "SELECT id FROM org_units WHERE code = $1", code).await };
    let user = |name: &'static str| async move { id_by(t, "SELECT id FROM users WHERE username = $1", name).await };
    let (n, e, bj, tj) = (org("N").await, org("E").await, org("BJ").await, org("TJ").await);
    // Accounts the user or one of their reports holds (owner, inside owner, KA manager, team).
    let held = |u: i64| {
        format!(
            "a.id IN (SELECT account_id FROM account_access WHERE user_id IN \
             (SELECT id FROM users WHERE id = {u} OR manager_id = {u}))"
        )
    };
    let own = |u: i64| {
        format!("o.owner_id = {u} OR o.id IN (SELECT opportunity_id FROM opportunity_team WHERE user_id = {u})")
    };
    let region = user("region").await;
    let in_n = format!("a.region_id IN ({n}, {bj}, {tj}) OR a.branch_id IN ({n}, {bj}, {tj}) OR {}", own(region));
    let manager = user("manager").await;
    let of_manager = format!("{} OR {}", held(manager), own(manager));
    let (rep_a, rep_b, rep_c) = (user("repA").await, user("repB").await, user("repC").await);
    let of_a = format!("{} OR {}", held(rep_a), own(rep_a));
    let v = |who: &'static str, query: &str, scope: String| View { who, query: query.to_string(), scope };
    let and = |a: &str, b: String| format!("({a}) AND {b}");
    vec![
        v("director", "", "1 = 1".into()),
        v("director", "org=HQ", "1 = 1".into()),
        v("director", "org=N", format!("a.region_id = {n}")),
        v("director", "org=E", format!("a.region_id = {e}")),
        v("director", "org=BJ", format!("a.branch_id = {bj}")),
        v("director", "owner=repA", format!("o.owner_id = {rep_a}")),
        v("director", &format!("as_of={}", today()), "1 = 1".into()),
        v("finance", "", "1 = 1".into()),
        v("region", "", in_n.clone()),
        v("region", "org=N", and(&in_n, format!("a.region_id = {n}"))),
        v("region", "org=E", and(&in_n, format!("a.region_id = {e}"))),
        v("region", "org=BJ", and(&in_n, format!("a.branch_id = {bj}"))),
        v("manager", "", of_manager.clone()),
        v("manager", "org=N", and(&of_manager, format!("a.region_id = {n}"))),
        v("manager", "org=E", and(&of_manager, format!("a.region_id = {e}"))),
        v("manager", "org=BJ", and(&of_manager, format!("a.branch_id = {bj}"))),
        v("repA", "", of_a.clone()),
        v("repA", "org=N", and(&of_a, format!("a.region_id = {n}"))),
        v("repA", "org=E", and(&of_a, format!("a.region_id = {e}"))),
        v("repB", "", format!("{} OR {}", held(rep_b), own(rep_b))),
        v("repC", "", format!("{} OR {}", held(rep_c), own(rep_c))),
        v("repC", "org=E", format!("({} OR {}) AND a.region_id = {e}", held(rep_c), own(rep_c))),
    ]
}

async fn funnel(t: &TestApp, who: &Auth, query: &str) -> Value {
    let r = t.get(&format!("/api/v1/reports/funnel?{query}"), who).await;
    assert_eq!(r.status, StatusCode::OK, "?{query}: {}", r.body);
    r.json()
}

/// Every view's funnel against the records; all differences are collected before failing.
async fn check_all(t: &TestApp, w: &World, views: &[View], step: &str) {
    let mut wrong = vec![];
    for v in views {
        let f = funnel(t, &bearer(w, v.who), &v.query).await;
        let what = format!("{step}: {} ?{}", v.who, v.query);
        let got = figures(&f, &what);
        let want = expected(t, &v.scope).await;
        if got != want {
            let diff: Vec<String> = STAGES
                .iter()
                .map(|(s, _)| *s)
                .filter(|s| got[*s] != want[*s])
                .map(|s| format!("{s}: report {:?}, records {:?}", got[s], want[s]))
                .collect();
            wrong.push(format!("{what}: {}", diff.join("; ")));
        }
    }
    assert!(wrong.is_empty(), "the funnel differs from the opportunities:\n{}", wrong.join("\n"));
    crate::common::assert_months_kept(t.db(), step).await;
}

/// One stage of a funnel: (count, amount, weighted) as the report writes them.
fn stage_row(f: &Value, stage: &str) -> (i64, String, String) {
    let s = f["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .find(|s| s["stage"] == stage)
        .unwrap_or_else(|| panic!("{stage} in {f}"));
    (
        s["count"].as_i64().expect("count"),
        s["amount"].as_str().expect("amount").to_string(),
        s["weighted"].as_str().expect("weighted").to_string(),
    )
}

fn row(n: i64, amount: &str, weighted: &str) -> (i64, String, String) {
    (n, amount.to_string(), weighted.to_string())
}

#[tokio::test]
async fn the_funnel_matches_the_opportunities_through_every_kind_of_change() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let views = views(&t).await;
    let (x, c) = (w.account_x, w.account_c);
    let (rep_a, rep_b, rep_c) = (bearer(&w, "repA"), bearer(&w, "repB"), bearer(&w, "repC"));
    let (manager, director) = (bearer(&w, "manager"), bearer(&w, "director"));
    check_all(&t, &w, &views, "before anything").await;

    // D: an account without a region (region 0 in the totals), held by repB.
    let d = create_account(&t, &w, json!({"name": "无区域精工集团", "industry": "enterprise", "owner": "repB"})).await;

    // Established: five by repA on X (region N, branch BJ), one by the manager for repB with
    // repC on its team; two by repC on C (region E); one by the director on C for repA, with
    // repB on its team (neither sees C); two on D.
    let a1 = establish(&t, &rep_a, form(x, "整线改造", "1200000.00")).await;
    let a2 = establish(&t, &rep_a, form(x, "备件年框", "300000.00")).await;
    let a3 = establish(&t, &rep_a, form(x, "新厂区测量室", "50000.01")).await;
    let a4 = establish(&t, &rep_a, form(x, "二号车间", "200000.00")).await;
    let a5 = establish(&t, &rep_a, form(x, "实验室升级", "88888.88")).await;
    let mut body = form(x, "检测中心二期", "400000.00");
    body["owner"] = json!("repB");
    body["team"] = json!("repC");
    let a6 = establish(&t, &manager, body).await;
    let c1 = establish(&t, &rep_c, form(c, "东方仪器产线", "500000.00")).await;
    let c2 = establish(&t, &rep_c, form(c, "计量室改造", "75000.50")).await;
    let mut body = form(c, "华东联合项目", "260000.00");
    body["owner"] = json!("repA");
    body["team"] = json!("repB");
    let c3 = establish(&t, &director, body).await;
    let mut body = form(d, "精工一期", "150000.00");
    body["owner"] = json!("repB");
    let _d1 = establish(&t, &director, body).await;
    let d2 = establish(&t, &rep_b, form(d, "精工二期", "33333.33")).await;
    check_all(&t, &w, &views, "established").await;
    // 11 identified: 3 257 222.72 × 10 % = 325 722.272 → 325 722.27.
    let f = funnel(&t, &director, "").await;
    assert_eq!(stage_row(&f, "identified"), row(11, "3257222.72", "325722.27"), "{f}");
    assert_eq!(f["weighted_pipeline"], "325722.27", "{f}");

    // Amounts edited: by repA on X, and by repA as the owner of C3 on an account they do not
    // see; an edit that leaves the amount alone changes nothing.
    edit(&t, &w, &rep_a, a2, json!({"amount": "350000.00"})).await;
    edit(&t, &w, &rep_a, c3, json!({"amount": "262500.00"})).await;
    edit(&t, &w, &rep_a, a5, json!({"name": "实验室升级（一期）", "next_step": "技术交流"})).await;
    check_all(&t, &w, &views, "amounts edited").await;

    // Forward: A1 with its criteria ticked; A4, A6 by the manager's override; C1 by the
    // director's.
    let rec = check_stage(&t, &rep_a, record(&t, &w, a1).await, "identified").await;
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/opportunities/{a1}/stage"),
            &rep_a,
            Some(json!({"stage": "contacted", "version": version_of(&rec)})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    move_to(&t, &w, &manager, a4, json!({"stage": "qualified", "override_reason": "客户高层已确认需求"})).await;
    move_to(&t, &w, &manager, a6, json!({"stage": "committed", "override_reason": "合同条款已谈妥"})).await;
    move_to(&t, &w, &director, c1, json!({"stage": "developed", "override_reason": "方案已通过评审"})).await;
    check_all(&t, &w, &views, "moved forward").await;
    // By hand. identified: A2 350 000 + A3 50 000.01 + A5 88 888.88 + C2 75 000.50
    // + C3 262 500 + D1 150 000 + D2 33 333.33 = 1 009 722.72 → 100 972.27; contacted
    // 1 200 000 → 300 000; qualified 200 000 → 100 000; developed 500 000 → 375 000;
    // committed 400 000 → 360 000.
    let f = funnel(&t, &director, "").await;
    assert_eq!(stage_row(&f, "identified"), row(7, "1009722.72", "100972.27"), "{f}");
    assert_eq!(stage_row(&f, "contacted"), row(1, "1200000.00", "300000.00"), "{f}");
    assert_eq!(stage_row(&f, "qualified"), row(1, "200000.00", "100000.00"), "{f}");
    assert_eq!(stage_row(&f, "developed"), row(1, "500000.00", "375000.00"), "{f}");
    assert_eq!(stage_row(&f, "committed"), row(1, "400000.00", "360000.00"), "{f}");
    assert_eq!(f["weighted_pipeline"], "1235972.27", "{f}");
    // repA: X's six and C3. identified A2 + A3 + A5 + C3 = 751 388.89 → 75 138.88.
    let f = funnel(&t, &rep_a, "").await;
    assert_eq!(stage_row(&f, "identified"), row(4, "751388.89", "75138.88"), "{f}");
    assert_eq!(f["weighted_pipeline"], "835138.88", "{f}");
    // Region E: C2 + C3 = 337 500.50 → 33 750.05; C1 developed → 375 000.
    let f = funnel(&t, &director, "org=E").await;
    assert_eq!(stage_row(&f, "identified"), row(2, "337500.50", "33750.05"), "{f}");
    assert_eq!(f["weighted_pipeline"], "408750.05", "{f}");

    // Won, at booked amounts other than the amounts: A1 for less, C2 for more.
    let won = |booked: &str, why: &str| json!({"stage": "won", "override_reason": why, "booked_amount": booked, "booked_on": today()});
    move_to(&t, &w, &director, a1, won("1150000.00", "合同已签，补录")).await;
    move_to(&t, &w, &director, c2, won("80000.00", "合同已签，含备件")).await;
    check_all(&t, &w, &views, "won").await;
    let f = funnel(&t, &director, "").await;
    assert_eq!(stage_row(&f, "won"), row(2, "1230000.00", "1230000.00"), "won counts at the booked amounts: {f}");

    // Lost.
    let lost = json!({"stage": "lost", "lost_reason": "价格高出 15%", "lost_to": "海克斯康"});
    move_to(&t, &w, &rep_a, a3, lost.clone()).await;
    move_to(&t, &w, &rep_b, d2, lost).await;
    check_all(&t, &w, &views, "lost").await;

    // Reopened: A3 from lost, A1 from won (back at its amount); A1 then won again.
    move_to(&t, &w, &rep_a, a3, json!({"stage": "contacted", "reason": "客户重启项目"})).await;
    move_to(&t, &w, &rep_a, a1, json!({"stage": "committed", "reason": "合同撤回重签"})).await;
    check_all(&t, &w, &views, "reopened").await;
    move_to(&t, &w, &director, a1, won("1190000.00", "重签完成")).await;
    check_all(&t, &w, &views, "won again").await;

    // Who sees what changes: repA joins C1's team, repC joins X's account team, and repC's
    // accounts and open opportunities are handed over to repB.
    edit(&t, &w, &director, c1, json!({"team": "repA"})).await;
    let r =
        t.call(Method::POST, &format!("/api/v1/accounts/{x}/team"), &manager, Some(json!({"username": "repC"}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    check_all(&t, &w, &views, "teams changed").await;
    let r =
        t.call(Method::POST, "/api/v1/users/repC/handover", &bearer(&w, "admin"), Some(json!({"to": "repB"}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    check_all(&t, &w, &views, "repC handed over to repB").await;

    // X moves to region E (branch SH): the region's manager no longer sees it.
    let v = account_version(&t, &w, x).await;
    let r = t
        .call(
            Method::PATCH,
            &format!("/api/v1/accounts/{x}"),
            &director,
            Some(json!({"region": "E", "branch": "SH", "version": v})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    check_all(&t, &w, &views, "X moved to region E").await;

    // C is deleted: its opportunities leave every funnel, C3 (repA's) too.
    let v = account_version(&t, &w, c).await;
    let r = t.call(Method::DELETE, &format!("/api/v1/accounts/{c}?version={v}"), &director, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    check_all(&t, &w, &views, "C deleted").await;
    let f = funnel(&t, &rep_a, "org=E").await;
    assert_eq!(stage_row(&f, "identified").0, 2, "only A2 and A5 of X are left identified in E: {f}");

    // D (no region) is merged into X (region E): its opportunities move with it.
    let (vx, vd) = (account_version(&t, &w, x).await, account_version(&t, &w, d).await);
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/accounts/{x}/merge"),
            &director,
            Some(json!({"duplicate_id": d, "version": vx, "duplicate_version": vd})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    check_all(&t, &w, &views, "D merged into X").await;

    // X without a region (region 0 in the totals), then back in N by its branch alone.
    for (change, step) in [
        (json!({"region": null, "branch": null}), "X without a region"),
        (json!({"branch": "BJ"}), "X back in region N by its branch"),
    ] {
        let mut body = change;
        body["version"] = json!(account_version(&t, &w, x).await);
        let r = t.call(Method::PATCH, &format!("/api/v1/accounts/{x}"), &director, Some(body)).await;
        assert_eq!(r.status, StatusCode::OK, "{step}: {}", r.body);
        check_all(&t, &w, &views, step).await;
    }
    // Everything left is on X: A1 won at 1 190 000, A2, A5, D1 identified, A3 contacted,
    // A4 qualified, A6 committed, D2 lost.
    let f = funnel(&t, &director, "org=N").await;
    assert_eq!(stage_row(&f, "identified"), row(3, "588888.88", "58888.88"), "{f}");
    assert_eq!(stage_row(&f, "contacted"), row(1, "50000.01", "12500.00"), "{f}");
    assert_eq!(stage_row(&f, "won"), row(1, "1190000.00", "1190000.00"), "{f}");
    assert_eq!(stage_row(&f, "lost"), row(1, "33333.33", "0.00"), "{f}");
    assert_eq!(f["weighted_pipeline"], "531388.88", "{f}");
    assert_eq!(funnel(&t, &director, "").await["stages"], f["stages"], "nothing is left outside N");
}

#[tokio::test]
async fn an_unknown_org_is_a_clear_error_that_names_the_field() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    establish(&t, &bearer(&w, "repA"), form(w.account_x, "整线改造", "1200000.00")).await;
    for who in ["director", "repA", "region", "manager"] {
        let past = format!("org=NOPE&as_of={}", today());
        for query in ["org=NOPE", "org=NOPE&owner=repA", past.as_str()] {
            let r = t.get(&format!("/api/v1/reports/funnel?{query}"), &bearer(&w, who)).await;
            let f = fields(&r);
            assert_eq!(f.keys().collect::<Vec<_>>(), vec!["org"], "{who} ?{query}: {}", r.body);
            assert_eq!(f["org"], "unknown_org_unit", "{who} ?{query}");
        }
    }
    // Spaces around a code are ignored: " N " is N.
    let r = t.get("/api/v1/reports/funnel?org=%20N%20", &bearer(&w, "director")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(stage_row(&r.json(), "identified").0, 1);
}

/// A request sent on its own task (the router is cloned in; nothing is shared but the data).
async fn send_on(
    router: Router,
    method: Method,
    path: String,
    auth: Auth,
    body: Option<Value>,
) -> (StatusCode, String) {
    let mut b = Request::builder().method(method).uri(path);
    if let Auth::Bearer(t) = &auth {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let req = match body {
        Some(v) => b.header(header::CONTENT_TYPE, "application/json").body(Body::from(v.to_string())),
        None => b.body(Body::empty()),
    }
    .expect("request");
    let res = router.oneshot(req).await.expect("router answers");
    let status = res.status();
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

type Call = (Method, String, Auth, Option<Value>);

/// Sends all the calls at once, each on its own task; the answers in the calls' order.
async fn all_at_once(t: &TestApp, calls: Vec<Call>) -> Vec<(StatusCode, String)> {
    let tasks: Vec<_> = calls
        .into_iter()
        .map(|(m, path, auth, body)| tokio::spawn(send_on(t.router.clone(), m, path, auth, body)))
        .collect();
    let mut out = vec![];
    for task in tasks {
        out.push(task.await.expect("task"));
    }
    out
}

fn ok_json(r: &(StatusCode, String), want: StatusCode) -> Value {
    assert_eq!(r.0, want, "{}", r.1);
    serde_json::from_str(&r.1).expect("json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_moves_on_one_account_keep_the_totals_right() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let views = views(&t).await;
    let x = w.account_x;
    let (rep_a, manager, director) = (bearer(&w, "repA"), bearer(&w, "manager"), bearer(&w, "director"));
    // Y: a second account of region N (branch TJ), held by repA: its region rows are X's.
    let y = create_account(
        &t,
        &w,
        json!({"name": "天津精密测控", "industry": "enterprise", "region": "N", "branch": "TJ", "owner": "repA"}),
    )
    .await;
    let post = |who: &Auth, body: Value| (Method::POST, "/api/v1/opportunities".to_string(), who.clone(), Some(body));
    // Each token used once first, so that the subject here is the totals alone (a token's first
    // use in a minute is a write of its own: see
    // `a_write_under_way_is_not_failed_by_a_token_first_used_meanwhile`).
    for who in ["repA", "repC", "manager", "director"] {
        let r = t.get("/api/v1/opportunities/count", &bearer(&w, who)).await;
        assert_eq!(r.status, StatusCode::OK, "{who}: {}", r.body);
    }

    // Established all at once: eight on X, four on Y, two on C.
    let mut calls = vec![];
    for i in 0..8 {
        calls.push(post(&rep_a, form(x, &format!("X项目{i}"), &format!("{}.{:02}", 100_000 + i * 12_345, i * 7))));
    }
    for i in 0..4 {
        calls.push(post(&rep_a, form(y, &format!("Y项目{i}"), &format!("{}.50", 40_000 + i * 1_111))));
    }
    for i in 0..2 {
        calls.push(post(&bearer(&w, "repC"), form(w.account_c, &format!("C项目{i}"), "66666.66")));
    }
    let made: Vec<Value> = all_at_once(&t, calls).await.iter().map(|r| ok_json(r, StatusCode::CREATED)).collect();
    let (on_x, rest) = made.split_at(8);
    let (on_y, on_c) = rest.split_at(4);
    check_all(&t, &w, &views, "established at once").await;
    let f = funnel(&t, &director, "").await;
    assert_eq!(stage_row(&f, "identified").0, 14, "{f}");

    // Moved all at once: X's to every kind of stage (overrides, wins at booked amounts,
    // losses), Y's forward, C's amounts edited; and four more established on X meanwhile.
    let targets = ["contacted", "qualified", "developed", "committed", "won", "won", "lost", "qualified"];
    let mut calls = vec![];
    for (i, (o, to)) in on_x.iter().zip(targets).enumerate() {
        let mut body = json!({"stage": to, "version": version_of(o), "override_reason": "经理批准，并发推进"});
        if to == "won" {
            body["booked_amount"] = json!(format!("{}.00", 90_000 + i * 1_000));
            body["booked_on"] = json!(today());
        }
        if to == "lost" {
            body["lost_reason"] = json!("预算取消");
            body["lost_to"] = json!("竞争对手甲");
        }
        calls.push((Method::POST, format!("/api/v1/opportunities/{}/stage", id_of(o)), manager.clone(), Some(body)));
    }
    for (o, to) in on_y.iter().zip(["contacted", "developed", "committed", "contacted"]) {
        let body = json!({"stage": to, "version": version_of(o), "override_reason": "经理批准"});
        calls.push((Method::POST, format!("/api/v1/opportunities/{}/stage", id_of(o)), manager.clone(), Some(body)));
    }
    for (i, o) in on_c.iter().enumerate() {
        let body = json!({"amount": format!("{}.00", 70_000 + i * 5_000), "version": version_of(o)});
        calls.push((Method::PATCH, format!("/api/v1/opportunities/{}", id_of(o)), director.clone(), Some(body)));
    }
    for i in 0..4 {
        calls.push(post(&rep_a, form(x, &format!("X追加{i}"), "12345.67")));
    }
    let answers = all_at_once(&t, calls).await;
    for (i, r) in answers.iter().enumerate() {
        let want = if i >= 14 { StatusCode::CREATED } else { StatusCode::OK };
        ok_json(r, want);
    }
    check_all(&t, &w, &views, "moved at once").await;
    let f = funnel(&t, &director, "org=N").await;
    assert_eq!(stage_row(&f, "identified").0, 4, "the four established during the moves: {f}");
    assert_eq!(stage_row(&f, "won").0, 2, "{f}");

    // Two users move each of X's open ones at the same version at once: one of each pair
    // goes through, the other is told the record changed, and the totals follow the winner.
    let open: Vec<Value> = {
        let r = t.get(&format!("/api/v1/opportunities?account_id={x}&open=true&limit=100"), &director).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.json()["items"].as_array().expect("items").clone()
    };
    assert_eq!(open.len(), 9, "the five moved ones still open and the four new");
    let mut calls = vec![];
    for o in &open {
        let path = format!("/api/v1/opportunities/{}/stage", id_of(o));
        let v = version_of(o);
        let lose = json!({"stage": "lost", "version": v, "lost_reason": "需求取消", "lost_to": "无"});
        let win = json!({
            "stage": "won", "version": v, "override_reason": "总监批准", "booked_amount": "54321.09", "booked_on": today(),
        });
        calls.push((Method::POST, path.clone(), manager.clone(), Some(lose)));
        calls.push((Method::POST, path, director.clone(), Some(win)));
    }
    let answers = all_at_once(&t, calls).await;
    for (o, pair) in open.iter().zip(answers.chunks(2)) {
        let mut got = [pair[0].0, pair[1].0];
        got.sort();
        assert_eq!(got, [StatusCode::OK, StatusCode::CONFLICT], "opportunity {}: {pair:?}", id_of(o));
    }
    check_all(&t, &w, &views, "raced at the same version").await;
    let f = funnel(&t, &director, "org=N").await;
    let closed = stage_row(&f, "won").0 + stage_row(&f, "lost").0;
    assert_eq!(closed, 12, "every one on X closed, Y's four still open: {f}");
}

/// A write under way (an account moved to another region, which moves the funnel's totals)
/// while another request comes in with a token it has not used for a minute: that request
/// records the token's use, and the write still goes through.
#[tokio::test]
async fn a_write_under_way_is_not_failed_by_a_token_first_used_meanwhile() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let views = views(&t).await;
    establish(&t, &bearer(&w, "repA"), form(w.account_x, "整线改造", "1200000.00")).await;
    let caller =
        kam::app::people::auth::token_caller(&t.app, &w.tokens["director"]).await.expect("caller").expect("known");
    let ctx = kam::app::Ctx { caller, request_id: "test".into() };
    let version = account_version(&t, &w, w.account_x).await;

    // The write begins as every write does, by reading what it changes …
    let mut tx = t.db().begin().await.expect("tx");
    let input = kam::app::records::input::Input::from_pairs(&[("region", Some("E")), ("branch", Some("SH"))]);
    sqlx::query("SELECT version FROM accounts WHERE id = $1")
        .bind(w.account_x)
        .fetch_one(tx.conn())
        .await
        .expect("read in the transaction");
    // … meanwhile repB's client makes its first call of the minute, and the write goes on: the
    // call's own small write waits for the transaction instead of failing it.
    let rep_b = bearer(&w, "repB");
    let (r, moved) = tokio::join!(t.get("/api/v1/opportunities/count", &rep_b), async {
        let moved = kam::app::customers::accounts::update_in(&mut tx, &ctx, w.account_x, &input, Some(version)).await;
        tx.commit().await.expect("commit");
        moved
    });
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(moved.is_ok(), "the region change fails because another request recorded its token's use: {moved:?}");
    check_all(&t, &w, &views, "X moved to region E").await;
}

fn session(sid: &str) -> Auth {
    Auth::Session { cookie: sid.to_string(), csrf: String::new() }
}

/// A column of the board page: (count, total in fen, the cards' ids in order).
type Column = (i64, i64, Vec<i64>);

fn columns(page: &str) -> BTreeMap<String, Column> {
    let mut out = BTreeMap::new();
    for part in page.split("<section class=\"column\"").skip(1) {
        let part = part.split("</section>").next().expect("section");
        let stage = part.split("data-stage=\"").nth(1).and_then(|s| s.split('"').next()).expect("data-stage");
        let head = part.split("<span class=\"muted\">(").nth(1).and_then(|s| s.split(')').next()).expect("count");
        let (n, total) = head.split_once(" · ¥").unwrap_or_else(|| panic!("count · total in {head}"));
        let cards: Vec<i64> =
            part.split("data-id=\"").skip(1).map(|s| s.split('"').next().expect("id").parse().expect("id")).collect();
        out.insert(stage.to_string(), (n.parse().expect("count"), fen(&total.replace(',', "")), cards));
    }
    out
}

#[tokio::test]
async fn the_board_counts_the_whole_stage_and_shows_the_first_fifty_cards() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (x, c) = (w.account_x, w.account_c);
    let (rep_a, manager, director) = (bearer(&w, "repA"), bearer(&w, "manager"), bearer(&w, "director"));
    // 50 by repA on X, with expected dates that repeat (the order then goes by id).
    for i in 0..50 {
        let mut body = form(x, &format!("测量项目{i:02}"), &format!("{}.{:02}", 10_000 + i * 97, i));
        body["expected_close"] = json!(format!("2030-{:02}-{:02}", 1 + (i * 7) % 12, 1 + (i * 13) % 5));
        establish(&t, &rep_a, body).await;
    }
    // Seen by repA too: repB's on X, and repA's own on C (which repA does not see).
    let mut body = form(x, "检测中心二期", "400000.00");
    body["owner"] = json!("repB");
    establish(&t, &manager, body).await;
    let mut body = form(c, "华东联合项目", "260000.00");
    body["owner"] = json!("repA");
    body["expected_close"] = json!("2029-12-31");
    establish(&t, &director, body).await;
    // Not seen by repA: repC's on C.
    establish(&t, &bearer(&w, "repC"), form(c, "东方仪器产线", "500000.00")).await;
    // Four more on X, moved on: two contacted, one won at a booked amount, one lost.
    let mut more = vec![];
    for i in 0..4 {
        more.push(establish(&t, &rep_a, form(x, &format!("推进项目{i}"), "100000.00")).await);
    }
    for id in &more[..2] {
        move_to(&t, &w, &manager, *id, json!({"stage": "contacted", "override_reason": "已拜访"})).await;
    }
    move_to(
        &t,
        &w,
        &director,
        more[2],
        json!({"stage": "won", "override_reason": "合同已签", "booked_amount": "95000.00", "booked_on": today()}),
    )
    .await;
    move_to(&t, &w, &rep_a, more[3], json!({"stage": "lost", "lost_reason": "预算取消", "lost_to": "竞争对手甲"}))
        .await;

    // What repA should see, straight from the records, in the board's order.
    let rep_id = id_by(&t, "SELECT id FROM users WHERE username = $1", "repA").await;
    let scope = format!(
        "(a.id IN (SELECT account_id FROM account_access WHERE user_id = {rep_id}) OR o.owner_id = {rep_id} \
         OR o.id IN (SELECT opportunity_id FROM opportunity_team WHERE user_id = {rep_id}))"
    );
    let sql = format!(
        "SELECT o.id AS id, o.stage AS stage FROM opportunities o JOIN accounts a ON a.id = o.account_id \
         WHERE o.deleted_at IS NULL AND a.deleted_at IS NULL AND {scope} ORDER BY o.expected_close, o.id"
    );
    let mut ids: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for r in sqlx::query(&sql).fetch_all(&t.db().pool).await.expect("ids") {
        ids.entry(r.try_get("stage").expect("stage")).or_default().push(r.try_get("id").expect("id"));
    }
    let sums = expected(&t, &scope).await;
    assert_eq!(sums["identified"].0, 52, "the setup: 52 identified in repA's sight");

    let (sid, _) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");
    let page = t.get("/opportunities?view=board", &session(&sid)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let board = columns(&page.body);
    assert_eq!(
        board.keys().cloned().collect::<Vec<_>>(),
        {
            let mut all: Vec<String> = STAGES.iter().map(|(s, _)| s.to_string()).collect();
            all.sort();
            all
        },
        "a column per stage"
    );
    for (stage, _) in STAGES {
        let (n, total, cards) = &board[stage];
        let want_ids: Vec<i64> = ids.get(stage).cloned().unwrap_or_default().into_iter().take(50).collect();
        assert_eq!((*n, *total), sums[stage], "{stage}: the heading counts and sums the whole stage");
        assert_eq!(cards, &want_ids, "{stage}: the first cards of the stage, in order");
    }
    let (n, _, cards) = &board["identified"];
    assert_eq!((*n, cards.len()), (52, 50), "52 counted, 50 shown");
    assert_eq!(board["won"].1, fen("95000.00"), "won counts at the booked amount");

    // The board and the funnel report tell the same story.
    let f = funnel(&t, &rep_a, "").await;
    let fig = figures(&f, "repA's funnel");
    for (stage, _) in STAGES {
        assert_eq!(fig[stage], (board[stage].0, board[stage].1), "{stage}: board and funnel");
    }

    // One stage only: one column, the same heading.
    let page = t.get("/opportunities?view=board&stage=identified", &session(&sid)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let one = columns(&page.body);
    assert_eq!(one.keys().collect::<Vec<_>>(), vec!["identified"]);
    assert_eq!(one["identified"], board["identified"]);
    // Open only: the five open stages.
    let page = t.get("/opportunities?view=board&open=1", &session(&sid)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(columns(&page.body).len(), 5);

    // An unknown stage is the user's mistake, shown as such, not a server failure.
    for stage in ["bogus", "WON", "won%27%20OR%201%3D1"] {
        let page = t.get(&format!("/opportunities?view=board&stage={stage}"), &session(&sid)).await;
        assert!(page.status.is_client_error(), "{stage}: {} {}", page.status, page.body);
        assert!(page.body.contains("<html") || page.body.contains("<!DOCTYPE"), "{stage}: an error page");
        assert!(columns(&page.body).is_empty(), "{stage}: no board");
    }
}

/// Visits recorded at once on one account all succeed (on PostgreSQL each locks the account
/// before it adds its activity and keeps the account's latest activity; taking a share lock
/// first and updating after deadlocked two of them), and coverage counts the account touched.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn visits_recorded_at_once_on_one_account_all_succeed() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let who = Auth::Bearer(w.tokens["director"].clone());
    let calls: Vec<Call> = (0..8)
        .map(|i| {
            let at = (chrono::Utc::now() - chrono::Duration::minutes(10 + i)).to_rfc3339();
            let body = serde_json::json!({
                "account_id": w.account_x, "kind": "visit", "status": "done", "occurred_at": at,
                "summary": format!("同时记录的拜访 {i}"), "outcome": "none",
            });
            (Method::POST, "/api/v1/activities".to_string(), who.clone(), Some(body))
        })
        .collect();
    for r in all_at_once(&t, calls).await {
        ok_json(&r, StatusCode::CREATED);
    }
    let cov = t.get("/api/v1/reports/coverage", &who).await.json();
    let x = cov["untouched"].as_array().expect("untouched").iter().any(|b| b["id"].as_i64() == Some(w.account_x));
    assert!(!x, "the visited account is not listed as untouched: {cov}");
    assert!(cov["total"]["covered"].as_i64().unwrap_or(0) >= 1, "{cov}");
}
