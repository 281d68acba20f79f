//! The approval pages as a rep, the KA director, the sales department manager and the
//! administrator use them: the key-account screening form, the inbox with its count in the
//! navigation, deciding on the request's page (and a decision refused or too late), the
//! account becoming a key account, notifications, the profile's channels and delegation, and
//! the administrator's flow definitions and deliveries.
use axum::http::StatusCode;
use chrono::{Duration, Utc};
use kam::app::{Caller, Ctx};

use crate::common::{seed, Auth, Resp, TestApp, PASSWORD};

fn session(sid: &str) -> Auth {
    Auth::Session { cookie: sid.to_string(), csrf: String::new() }
}

fn location(r: &Resp) -> String {
    r.headers.get("location").and_then(|v| v.to_str().ok()).expect("location").to_string()
}

/// The HTML of the element that opens with `start`, up to its `end` tag.
fn chunk<'a>(page: &'a str, start: &str, end: &str) -> &'a str {
    let i = page.find(start).unwrap_or_else(|| panic!("{start} not in page:\n{page}"));
    let rest = &page[i..];
    &rest[..rest.find(end).map(|j| j + end.len()).unwrap_or(rest.len())]
}

/// HTML text as typed: the escapes askama writes undone.
fn unescaped(html: &str) -> String {
    html.replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

async fn count(t: &TestApp, table: &str) -> i64 {
    sqlx::Row::try_get(
        &sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}")).fetch_one(&t.db().pool).await.expect("count"),
        "n",
    )
    .expect("n")
}

/// The seeded company has no sales department manager; the administrator adds one.
async fn add_sales_manager(t: &TestApp) {
    use kam::app::records::input::Input;
    let system = Ctx::system();
    let admin = Ctx { caller: Caller { role: kam::domain::role::Role::Admin, ..system.caller.clone() }, ..system };
    let p = [
        ("username", Some("salesmgr")),
        ("display_name", Some("销售部经理")),
        ("role", Some("sales_dept_manager")),
        ("org_unit", Some("HQ")),
        ("password", Some(PASSWORD)),
    ];
    kam::app::people::users::create(t.db(), &admin, &Input::from_pairs(&p)).await.expect("sales department manager");
}

/// The screening form, filled in; `risk` is the score of every indicator.
fn screening_fields<'a>(csrf: &'a str, risk: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("_csrf", csrf),
        ("sales_amount", "年采购额约 3000 万元"),
        ("market_influence", "华东仪器行业前三"),
        ("loyalty", "合作五年，无流失记录"),
        ("strategic_region", "长三角重点区域"),
        ("needs_analysis", "产线升级，需要高精度测量设备"),
        ("resource_assessment", "上海分公司有两名工程师可支持"),
        ("fit", "产品线完全匹配"),
        ("competitor_analysis", "主要对手为进口品牌，价格高"),
        ("risk.competitive_advantage", risk),
        ("risk.customer_need", risk),
        ("risk.competitor_strength", risk),
        ("risk.payment_ability", risk),
        ("risk.relationship", risk),
    ]
}

#[tokio::test]
async fn a_screening_is_submitted_decided_on_its_pages_and_makes_a_key_account() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    add_sales_manager(&t).await;
    let c = w.account_c;
    let (rep, rep_csrf) = t.ui_login("repC", PASSWORD, None).await.expect("rep signs in");

    // The account page links the screening and has none yet.
    let page = t.get(&format!("/accounts/{c}"), &session(&rep)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&format!("href=\"/accounts/{c}/screening\"")), "the account links its screening");
    assert!(page.body.contains("还没有提交过大客户筛选"));

    // The form: the criteria, the analyses, and the risk analysis form with weights.
    let form = t.get(&format!("/accounts/{c}/screening"), &session(&rep)).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    for text in
        ["筛选标准", "销售额", "市场影响力", "忠诚度", "战略区域", "需求分析", "公司资源评估", "匹配度", "竞争对手分析"]
    {
        assert!(form.body.contains(text), "the form has {text}");
    }
    let risk = chunk(&form.body, "<table class=\"list risk-form\"", "</table>");
    assert!(risk.contains("客户风险分析表") || form.body.contains("客户风险分析表"));
    assert!(risk.contains("type=\"radio\" name=\"risk.competitive_advantage\" value=\"5\""), "scored 1–5: {risk}");
    assert!(risk.contains("<td class=\"num\">25</td>"), "weights shown: {risk}");
    assert!(risk.contains("<td class=\"num\">100</td>"), "the weights' total");

    // Missing answers: 422 in Chinese, what was typed kept, nothing written.
    let r = t
        .ui_post(
            &format!("/accounts/{c}/screening"),
            &rep,
            &[("_csrf", &rep_csrf), ("sales_amount", "年采购额约 3000 万元"), ("risk.customer_need", "4")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("id=\"form-errors\""));
    assert!(r.body.contains("需求分析: 必填"), "a text's error in Chinese: {}", r.body);
    assert!(r.body.contains("我方竞争优势: 必填"), "an unscored indicator's error");
    assert!(r.body.contains("id=\"e-needs_analysis\""), "beside its field");
    assert!(r.body.contains("年采购额约 3000 万元"), "the text typed is kept");
    assert!(r.body.contains("id=\"risk-customer_need-4\" checked"), "the score picked is kept");
    assert_eq!((count(&t, "screenings").await, count(&t, "approvals").await), (0, 0), "nothing written");

    // The rep saves a webhook to a closed port, so the decision's notification fails later.
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    let hook = format!("http://127.0.0.1:{closed_port}/hook");
    let r = t
        .ui_post(
            "/profile/channels",
            &rep,
            &[("_csrf", &rep_csrf), ("email", "not-an-address"), ("notify_email", "1"), ("webhook_url", &hook)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("邮箱格式不正确"), "{}", r.body);
    assert!(r.body.contains("value=\"not-an-address\""), "what was typed is kept");
    let r = t
        .ui_post(
            "/profile/channels",
            &rep,
            &[("_csrf", &rep_csrf), ("email", "rep.c@example.com"), ("webhook_url", &hook), ("notify_webhook", "1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let profile = t.get("/profile", &session(&rep)).await;
    assert!(profile.body.contains("value=\"rep.c@example.com\""), "the email shows");
    assert!(profile.body.contains(&format!("value=\"{hook}\"")), "the webhook shows");
    assert!(profile.body.contains("name=\"notify_webhook\" value=\"1\" checked"), "its switch is on");
    assert!(!profile.body.contains("name=\"notify_email\" value=\"1\" checked"), "email stays off");

    // Submitted in full: the request's page.
    let r = t.ui_post(&format!("/accounts/{c}/screening"), &rep, &screening_fields(&rep_csrf, "4")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let to = location(&r);
    assert!(to.starts_with("/approvals/"), "{to}");
    let id: i64 = to.trim_start_matches("/approvals/").split('?').next().unwrap().parse().expect("approval id");
    let mine = t.get(&to, &session(&rep)).await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.body);
    assert!(mine.body.contains("大客户筛选已提交"), "a word on success");
    assert!(mine.body.contains("大客户确认"), "the flow's name");
    assert!(mine.body.contains(&format!("href=\"/accounts/{c}\"")), "the subject links to the account");
    assert!(mine.body.contains("80 / 100"), "the risk score computed by the app: {}", mine.body);
    assert!(mine.body.contains("data-state=\"pending\""));
    assert!(mine.body.contains("id=\"withdraw-form\""), "the requester may withdraw");
    assert!(mine.body.contains("data-confirm="), "withdrawing asks first");
    assert!(!mine.body.contains("id=\"decision-form\""), "nobody decides their own request");
    let steps = chunk(&mine.body, "<table class=\"list\" id=\"approval-steps\"", "</table>");
    assert!(steps.contains("大客户销售主管") && steps.contains("销售部经理"), "both steps: {steps}");
    // The rep's own tab lists it.
    let tab = t.get("/approvals?box=mine", &session(&rep)).await;
    assert!(tab.body.contains(&format!("href=\"/approvals/{id}\"")), "{}", tab.body);
    assert!(tab.body.contains("我发起的 (1)"));

    // The director's inbox lists it, with the count in the navigation.
    let (dir, dir_csrf) = t.ui_login("director", PASSWORD, None).await.expect("director signs in");
    let inbox = t.get("/approvals", &session(&dir)).await;
    assert_eq!(inbox.status, StatusCode::OK, "{}", inbox.body);
    assert!(inbox.body.contains("<span id=\"nav-waiting\"> (1)</span>"), "the nav count: {}", inbox.body);
    assert!(inbox.body.contains("待我审批 (1)"));
    let row = chunk(&inbox.body, &format!("<tr data-id=\"{id}\""), "</tr>");
    assert!(row.contains("上海东方仪器有限公司") && row.contains("repC"), "{row}");
    // Another page has the slot the navigation script fills.
    let other = t.get("/accounts", &session(&dir)).await;
    assert!(other.body.contains("id=\"nav-waiting\"") && other.body.contains("/static/nav.js"));
    let js = t.get("/static/nav.js", &Auth::None).await;
    assert!(js.body.contains("/api/v1/approvals/counts"));

    // A rejection without a comment comes back with the error beside the comment.
    let page = t.get(&format!("/approvals/{id}"), &session(&dir)).await;
    assert!(page.body.contains("id=\"decision-form\""), "the director may decide");
    assert!(page.body.contains("您可以审批这一步（本人）"));
    let decision = format!("/approvals/{id}/decision");
    let r = t.ui_post(&decision, &dir, &[("_csrf", &dir_csrf), ("decision", "reject"), ("comment", "  ")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("驳回或退回修改时必须填写审批意见"), "{}", r.body);
    assert!(r.body.contains("id=\"e-comment\""), "beside the comment");
    assert!(r.body.contains("data-state=\"pending\""), "still pending");

    // The director approves; the step shows who decided, as whom, and the comment.
    let r = t
        .ui_post(&decision, &dir, &[("_csrf", &dir_csrf), ("decision", "approve"), ("comment", "同意，重点跟进")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = t.get(&location(&r), &session(&dir)).await;
    assert!(page.body.contains("已批准。"), "a word on success");
    let step = chunk(&page.body, "<tr data-step=\"1\"", "</tr>");
    assert!(step.contains("director") && step.contains("本人") && step.contains("同意，重点跟进"), "{step}");
    assert!(!page.body.contains("id=\"decision-form\""), "the director's part is done");
    let inbox = t.get("/approvals", &session(&dir)).await;
    assert!(inbox.body.contains("id=\"approvals-empty\""), "nothing waits for the director now");

    // The sales department manager decides the second step.
    let (mgr, mgr_csrf) = t.ui_login("salesmgr", PASSWORD, None).await.expect("sales manager signs in");
    let inbox = t.get("/approvals", &session(&mgr)).await;
    assert!(inbox.body.contains(&format!("<tr data-id=\"{id}\"")), "{}", inbox.body);
    let r = t.ui_post(&decision, &mgr, &[("_csrf", &mgr_csrf), ("decision", "approve")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = t.get(&format!("/approvals/{id}"), &session(&mgr)).await;
    assert!(page.body.contains("data-state=\"approved\""), "{}", page.body);

    // Too late: the director's second decision meets a closed request — 409, said plainly.
    let r = t.ui_post(&decision, &dir, &[("_csrf", &dir_csrf), ("decision", "approve")]).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("该审批已结束，不能再决定"), "{}", r.body);
    assert!(r.body.contains("当前状态：已批准"), "and what it is now");

    // The account is a key account now; its page lists the screening and its approval.
    let acc = t.get(&format!("/accounts/{c}"), &session(&rep)).await;
    assert!(acc.body.contains("<dd data-field=\"status\">大客户</dd>"), "key account: {}", acc.body);
    let list = chunk(&acc.body, "<table class=\"list\" id=\"screenings\"", "</table>");
    assert!(list.contains("v1") && list.contains("80") && list.contains("repC"), "{list}");
    assert!(list.contains(&format!("href=\"/approvals/{id}\"")) && list.contains("已批准"), "{list}");
    assert!(!acc.body.contains("id=\"screening-link\""), "a key account is not screened again");

    // The rep's notifications tell the outcome; marking all read clears the count.
    let notes = t.get("/notifications", &session(&rep)).await;
    assert_eq!(notes.status, StatusCode::OK);
    assert!(notes.body.contains("审批结果：大客户确认 · 上海东方仪器有限公司"), "{}", notes.body);
    assert!(notes.body.contains("已批准"));
    assert!(notes.body.contains("<span id=\"nav-unread\"> (1)</span>"), "the unread count");
    let r = t.ui_post("/notifications/read", &rep, &[("_csrf", &rep_csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let notes = t.get("/notifications", &session(&rep)).await;
    assert!(notes.body.contains("<span id=\"nav-unread\"></span>"), "all read");
    assert!(!notes.body.contains("id=\"mark-all-read\""));

    // Delegation: refused with reasons, then saved.
    let today = Utc::now().date_naive();
    let (from, to) = (today.to_string(), (today + Duration::days(3)).to_string());
    let r = t
        .ui_post(
            "/profile/delegation",
            &dir,
            &[("_csrf", &dir_csrf), ("delegate", "manager"), ("starts_on", &to), ("ends_on", &from)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("id=\"delegation-errors\""), "{}", r.body);
    assert!(r.body.contains("value=\"manager\""), "what was typed is kept");
    let r = t
        .ui_post(
            "/profile/delegation",
            &dir,
            &[("_csrf", &dir_csrf), ("delegate", "manager"), ("starts_on", &from), ("ends_on", &to)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let profile = t.get(&location(&r), &session(&dir)).await.body;
    assert!(profile.contains("委托已保存"));
    assert!(
        profile.contains("id=\"delegations\"") && profile.contains("data-delegate=\"manager\""),
        "the profile lists it"
    );

    // The failed webhook: the scheduler tries eight times, then the administrator sees it.
    let mut now = Utc::now();
    for _ in 0..8 {
        now += Duration::hours(3);
        t.app.scheduler_pass("w", now).await.expect("scheduler pass");
    }
    let (admin, admin_csrf) = t.ui_login("admin", PASSWORD, None).await.expect("admin signs in");
    let d = t.get("/admin/deliveries?state=failed", &session(&admin)).await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.body);
    let row = chunk(&d.body, "<tr data-id=", "</tr>");
    assert!(row.contains("data-state=\"failed\"") && row.contains(&hook), "{row}");
    assert!(row.contains("<td class=\"num\">8</td>"), "eight attempts: {row}");
    assert!(!row.contains("<td class=\"last-error\">—</td>"), "the last error shows: {row}");
    let did: String = row.trim_start_matches("<tr data-id=\"").split('"').next().unwrap().to_string();
    let r = t.ui_post(&format!("/admin/deliveries/{did}/retry"), &admin, &[("_csrf", &admin_csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let d = t.get("/admin/deliveries?state=pending", &session(&admin)).await;
    assert!(d.body.contains(&format!("<tr data-id=\"{did}\" data-state=\"pending\"")), "back in line");
    // Not for the others.
    assert_eq!(t.get("/admin/deliveries", &session(&rep)).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_administrator_saves_a_flow_version_and_a_malformed_one_is_explained() {
    let t = TestApp::new().await;
    seed(&t).await;
    let (admin, csrf) = t.ui_login("admin", PASSWORD, None).await.expect("admin signs in");
    let page = t.get("/admin/flows", &session(&admin)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let flow = chunk(&page.body, "<section id=\"flow-ka_screening\"", "</section>");
    assert!(flow.contains("大客户确认") && flow.contains("第 1 版"), "{flow}");
    assert!(flow.contains("大客户销售主管") && flow.contains("销售部经理"), "its steps");
    assert!(unescaped(flow).contains("\"risk_weights\""), "the definition as JSON to edit");

    let good = r#"{"steps": [{"role": "ka_director", "scope": "hq", "days": 5}, {"role": "sales_dept_manager", "scope": "hq", "days": 3}],
        "risk_weights": [["competitive_advantage", 30], ["customer_need", 30], ["competitor_strength", 20], ["payment_ability", 10], ["relationship", 10]]}"#;
    let r = t
        .ui_post("/admin/flows/ka_screening", &admin, &[("_csrf", &csrf), ("mode", "json"), ("definition", good)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = t.get(&location(&r), &session(&admin)).await;
    let flow = chunk(&page.body, "<section id=\"flow-ka_screening\"", "</section>");
    assert!(flow.contains("已保存为第 2 版"), "{flow}");
    assert!(flow.contains("<td class=\"num\">5</td>"), "the new deadline: {flow}");

    // Malformed: each reason named; what was typed stays in the box.
    let bad = r#"{"steps": [{"role": "pope", "scope": "hq", "days": 0}]}"#;
    let r = t
        .ui_post("/admin/flows/ka_screening", &admin, &[("_csrf", &csrf), ("mode", "json"), ("definition", bad)])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let flow = chunk(&r.body, "<section id=\"flow-ka_screening\"", "</section>");
    assert!(flow.contains("第 1 步 · 审批角色: 没有这个角色"), "{flow}");
    assert!(flow.contains("第 1 步 · 天数: 天数应在 1 到 90 之间"), "{flow}");
    assert!(unescaped(flow).contains(bad), "the text typed is kept");
    assert!(flow.contains("第 2 版"), "still version 2");
    let r = t
        .ui_post(
            "/admin/flows/ka_screening",
            &admin,
            &[("_csrf", &csrf), ("mode", "json"), ("definition", "{ steps: ")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r =
        t.ui_post("/admin/flows/nonsense", &admin, &[("_csrf", &csrf), ("mode", "json"), ("definition", good)]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "an unknown flow: {}", r.body);

    // The form: one row per step. Remove the second step, add a branch-manager step, give the
    // commercial manager an extension; the version the page showed is the one saved over.
    let form = |v: &'static str, days2: &'static str| {
        vec![
            ("_csrf", csrf.clone()),
            ("mode", "form".to_string()),
            ("version", v.to_string()),
            ("role_0", "ka_director".into()),
            ("scope_0", "hq".into()),
            ("days_0", "4".into()),
            ("role_1", "sales_dept_manager".into()),
            ("scope_1", "hq".into()),
            ("days_1", "3".into()),
            ("remove_1", "1".into()),
            ("role_2", "branch_manager".into()),
            ("scope_2", "region".into()),
            ("days_2", days2.to_string()),
            ("ext_role", "commercial_manager".into()),
            ("ext_days", "7".into()),
            ("max_total_days", "".into()),
            ("risk_key_0", "customer_need".into()),
            ("risk_weight_0", "100".into()),
        ]
    };
    let post = |fields: Vec<(&'static str, String)>| {
        let t = &t;
        let admin = admin.clone();
        async move {
            let f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            t.ui_post("/admin/flows/ka_screening", &admin, &f).await
        }
    };
    // A day count that is not a number is named by its step; what was typed stays.
    let r = post(form("2", "两天")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let flow = chunk(&r.body, "<section id=\"flow-ka_screening\"", "</section>");
    assert!(flow.contains("第 2 步 · 天数: 应为整数"), "{flow}");
    assert!(flow.contains("value=\"两天\""), "typed kept: {flow}");
    // Saved over the page's version (2): version 3, with the steps of the form.
    let r = post(form("2", "2")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = t.get(&location(&r), &session(&admin)).await;
    let flow = chunk(&page.body, "<section id=\"flow-ka_screening\"", "</section>");
    assert!(flow.contains("已保存为第 3 版"), "{flow}");
    let steps = chunk(flow, "<table class=\"list flow-steps\">", "</table>");
    assert!(steps.contains("大客户销售主管") && !steps.contains("销售部经理"), "the removed step is gone: {steps}");
    assert!(steps.contains("<td class=\"num\">4</td>") && steps.contains("<td class=\"num\">2</td>"), "{steps}");
    assert!(flow.contains("可延期一次，最多 7 天"), "the extension: {flow}");
    // Another save from a page showing version 2 would overwrite version 3: refused, kept.
    let r = post(form("2", "5")).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("该记录已被他人修改"), "{}", r.body);
    let api = t.get("/api/v1/flows", &Auth::Bearer(t.token("admin").await)).await.json();
    let ks = api["items"].as_array().expect("flows").iter().find(|f| f["flow"] == "ka_screening").cloned();
    assert_eq!(ks.expect("ka_screening")["version"], 3);

    // The flows page is the administrator's.
    let (rep, _) = t.ui_login("repA", PASSWORD, None).await.expect("rep signs in");
    assert_eq!(t.get("/admin/flows", &session(&rep)).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_requester_withdraws_and_a_late_decision_is_told_the_request_is_closed() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    add_sales_manager(&t).await;
    let c = w.account_c;
    let (rep, rep_csrf) = t.ui_login("repC", PASSWORD, None).await.expect("rep signs in");
    let r = t.ui_post(&format!("/accounts/{c}/screening"), &rep, &screening_fields(&rep_csrf, "3")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let path = location(&r).split('?').next().unwrap().to_string();

    // Only the requester may withdraw; the director opens the page before the rep withdraws.
    let (dir, dir_csrf) = t.ui_login("director", PASSWORD, None).await.expect("director signs in");
    let page = t.get(&path, &session(&dir)).await;
    assert!(!page.body.contains("id=\"withdraw-form\""), "not the director's to withdraw");
    assert_eq!(
        t.ui_post(&format!("{path}/withdraw"), &dir, &[("_csrf", &dir_csrf)]).await.status,
        StatusCode::FORBIDDEN
    );
    let r = t.ui_post(&format!("{path}/withdraw"), &rep, &[("_csrf", &rep_csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = t.get(&location(&r), &session(&rep)).await;
    assert!(page.body.contains("申请已撤回"), "{}", page.body);
    assert!(page.body.contains("data-state=\"cancelled\""));
    assert!(!page.body.contains("id=\"withdraw-form\""), "nothing left to withdraw");

    // The director's decision from the page opened before: 409, the request as it is now.
    let r = t.ui_post(&format!("{path}/decision"), &dir, &[("_csrf", &dir_csrf), ("decision", "approve")]).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("该审批已结束，不能再决定") && r.body.contains("当前状态：已取消"), "{}", r.body);
    assert!(!r.body.contains("id=\"decision-form\""), "no decision offered any more");
    // A withdrawal twice is told the same.
    let r = t.ui_post(&format!("{path}/withdraw"), &rep, &[("_csrf", &rep_csrf)]).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    // The account stays a candidate; its page lists the version with its cancelled request.
    let acc = t.get(&format!("/accounts/{c}"), &session(&rep)).await;
    assert!(acc.body.contains("<dd data-field=\"status\">潜在大客户</dd>"), "{}", acc.body);
    assert!(chunk(&acc.body, "<table class=\"list\" id=\"screenings\"", "</table>").contains("已取消"));
    assert!(acc.body.contains("id=\"screening-link\""), "it may be screened again");
}

/// The approver reads the screening whole on the request page: every criterion and analysis,
/// the risk table (score × weight = points, and the total), the account's key facts (credit
/// only for those who may see it), and what changed since the previous version.
#[tokio::test]
async fn the_request_page_shows_the_screening_whole_and_what_changed() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    add_sales_manager(&t).await;
    let c = w.account_c;
    let (rep, rep_csrf) = t.ui_login("repC", PASSWORD, None).await.expect("rep signs in");
    let r = t.ui_post(&format!("/accounts/{c}/screening"), &rep, &screening_fields(&rep_csrf, "4")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let first = location(&r).split('?').next().unwrap().to_string();

    let (dir, _) = t.ui_login("director", PASSWORD, None).await.expect("director signs in");
    let page = t.get(&first, &session(&dir)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let panel = chunk(&page.body, "<section id=\"subject\"", "</section>");
    assert!(panel.contains("申请内容 · 第 1 版"), "{panel}");
    for (label, text) in [
        ("销售额", "年采购额约 3000 万元"),
        ("市场影响力", "华东仪器行业前三"),
        ("忠诚度", "合作五年，无流失记录"),
        ("战略区域", "长三角重点区域"),
        ("需求分析", "产线升级，需要高精度测量设备"),
        ("公司资源评估", "上海分公司有两名工程师可支持"),
        ("匹配度", "产品线完全匹配"),
        ("竞争对手分析", "主要对手为进口品牌，价格高"),
    ] {
        assert!(panel.contains(label) && panel.contains(text), "the panel shows {label}: {text}");
    }
    let table = chunk(panel, "<table class=\"list\" id=\"subject-table\"", "</table>");
    let rows = table.matches("<tr").count();
    assert_eq!(rows, 1 + 5 + 1, "head, five indicators, total: {table}");
    assert!(table.contains("4 / 5") && table.contains("20.0") && table.contains("16.0") && table.contains("12.0"));
    assert!(table.contains("80 / 100"), "the total: {table}");
    assert!(!panel.contains("已修改"), "nothing to compare with in the first version");
    let facts = chunk(panel, "<dl class=\"fields\" id=\"subject-facts\"", "</dl>");
    assert!(facts.contains("年度采购量"), "buying power among the facts: {facts}");
    assert!(facts.contains("信用等级"), "the KA director sees credit: {facts}");
    // The requester sees the same subject, without credit.
    let mine = t.get(&first, &session(&rep)).await;
    let facts = chunk(&mine.body, "<dl class=\"fields\" id=\"subject-facts\"", "</dl>");
    assert!(!facts.contains("信用等级"), "a rep does not see credit: {facts}");

    // A second version changes one answer and one score: they are marked, nothing else.
    let mut fields = screening_fields(&rep_csrf, "4");
    for f in fields.iter_mut() {
        if f.0 == "loyalty" {
            f.1 = "合作五年，去年有一次投诉";
        }
        if f.0 == "risk.relationship" {
            f.1 = "2";
        }
    }
    let r = t.ui_post(&format!("/accounts/{c}/screening"), &rep, &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let second = location(&r).split('?').next().unwrap().to_string();
    let page = t.get(&second, &session(&dir)).await;
    let panel = chunk(&page.body, "<section id=\"subject\"", "</section>");
    assert!(panel.contains("申请内容 · 第 2 版") && panel.contains("与第 1 版相比"), "{panel}");
    assert!(panel.contains("合作五年，去年有一次投诉"));
    let changed: Vec<&str> = panel.split("class=\"changed\"").skip(1).collect();
    assert_eq!(changed.len(), 2, "the loyalty answer and the relationship score are marked: {panel}");
    assert!(changed[0].contains("忠诚度"), "{}", changed[0]);
    let table = chunk(panel, "<table class=\"list\" id=\"subject-table\"", "</table>");
    assert!(table.contains("2 / 5") && table.contains("6.0") && table.contains("74 / 100"), "{table}");

    // The same through the API (its answer is checked against the OpenAPI schema).
    let id = second.trim_start_matches("/approvals/");
    let v = t.get(&format!("/api/v1/approvals/{id}/screening"), &session(&dir)).await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.body);
    let v = v.json();
    assert_eq!((v["criteria"].as_array().map(Vec::len), v["analyses"].as_array().map(Vec::len)), (Some(4), Some(4)));
    assert_eq!(v["previous_version"], 1);
    assert_eq!(v["screening"]["risk_score"], 74);
    let rel = v["risk"].as_array().unwrap().iter().find(|x| x["indicator"] == "relationship").cloned().unwrap();
    assert_eq!(
        (rel["score"].as_i64(), rel["points"].as_str(), rel["changed"].as_bool()),
        (Some(2), Some("6.0"), Some(true))
    );
    assert!(v["account"].get("credit_grade").is_some(), "the KA director sees credit: {v}");
    let mine = t.get(&format!("/api/v1/approvals/{id}/screening"), &session(&rep)).await.json();
    assert!(mine["account"].get("credit_grade").is_none(), "a rep does not: {mine}");
    // Another user who may not see the request: 404.
    let (other, _) = t.ui_login("repA", PASSWORD, None).await.expect("repA signs in");
    assert_eq!(
        t.get(&format!("/api/v1/approvals/{id}/screening"), &session(&other)).await.status,
        StatusCode::NOT_FOUND
    );
}
