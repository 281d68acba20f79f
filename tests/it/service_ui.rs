//! The service pages' forms, driven as a user does (issue 24 items 1–3): a rep writes a service
//! request with special payment terms from the account's page — a refusal names the field and
//! keeps what was typed, a stale version is refused with the conflict message and the text
//! kept, submitting starts the approval; an event is planned with the account's contacts
//! invited, changed, recorded as held, its evaluation saved as a draft and submitted for
//! review; cancelling an event needs its confirm page.
use axum::http::{header, Method, StatusCode};
use chrono::{Duration, Utc};
use serde_json::{json, Value};

use crate::common::{seed, Auth, Resp, TestApp, World, PASSWORD};

/// A signed-in browser: the session and the CSRF token its pages carry.
struct Browser<'a> {
    t: &'a TestApp,
    sid: String,
    csrf: String,
}

impl Browser<'_> {
    async fn sign_in<'a>(t: &'a TestApp, user: &str) -> Browser<'a> {
        let (sid, csrf) = t.ui_login(user, PASSWORD, None).await.unwrap_or_else(|r| panic!("{}", r.body));
        Browser { t, sid, csrf }
    }
    async fn page(&self, path: &str) -> Resp {
        self.t.get_form(path, &Auth::Session { cookie: self.sid.clone(), csrf: String::new() }).await
    }
    /// A page that must open (200): its HTML.
    async fn open(&self, path: &str) -> String {
        let r = self.page(path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
        r.body
    }
    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let mut all = vec![("_csrf", self.csrf.as_str())];
        all.extend_from_slice(fields);
        self.t.ui_post(path, &self.sid, &all).await
    }
}

/// Where a saved form went (a 303 to the record with "saved").
fn saved_to(r: &Resp) -> String {
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let to = r.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).expect("location").to_string();
    assert!(to.contains("flash=saved"), "{to}");
    to
}

/// The record's id in `/things/{id}?flash=saved`.
fn id_in(to: &str) -> i64 {
    to.split('?').next().and_then(|p| p.rsplit('/').next()).and_then(|i| i.parse().ok()).expect("an id")
}

fn bearer(w: &World, user: &str) -> Auth {
    Auth::Bearer(w.tokens[user].clone())
}

async fn api(t: &TestApp, w: &World, path: &str) -> Value {
    let r = t.get(path, &bearer(w, "repA")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()
}

async fn count(t: &TestApp, sql: &str) -> i64 {
    sqlx::Row::try_get(&sqlx::query(sql).fetch_one(&t.db().pool).await.expect("row"), 0).expect("count")
}

/// A local date-time as a `datetime-local` field takes it, `days` from now at 14:00.
fn local_at(days: i64) -> String {
    (Utc::now() + Duration::days(days)).with_timezone(&chrono_tz::Asia::Shanghai).format("%Y-%m-%dT14:00").to_string()
}

#[tokio::test]
async fn a_rep_writes_a_service_request_with_special_terms_keeps_it_on_refusal_and_submits_it() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    // Special payment terms need the marketing director too: there is one.
    let body = json!({"username": "md", "role": "marketing_director", "org_unit": "HQ", "password": "svc-pass-123",
        "display_name": "市场总监"});
    let r = t.call(Method::POST, "/api/v1/users", &bearer(&w, "admin"), Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let b = Browser::sign_in(&t, "repA").await;
    let account = b.open(&format!("/accounts/{}", w.account_x)).await;
    let new = format!("/accounts/{}/service-requests/new", w.account_x);
    assert!(account.contains(&format!("href=\"{new}\"")), "the account's service section offers a new request");

    let form = b.open(&new).await;
    assert!(form.contains("id=\"service-request-form\""), "{form}");
    for label in ["特殊付款条件", "加急供货", "客户深层需求", "需求变化", "组织与人员"] {
        assert!(form.contains(label), "the form shows {label}");
    }

    // No content: the form again, the field named, what was typed and ticked kept, nothing saved.
    let r = b
        .post(
            &new,
            &[
                ("content", "  "),
                ("deeper_needs", "缩短换型时间"),
                ("organisation", "客户财务部李经理牵头"),
                ("service_special_payment_terms", "1"),
                ("service_expedited_supply", "1"),
                ("intent", "save"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("role=\"alert\"") && r.body.contains("支持内容: 必填"), "the summary names the field");
    assert!(r.body.contains("id=\"e-content\""), "the message beside the field");
    assert!(r.body.contains("aria-invalid=\"true\" aria-describedby=\"e-content\""), "the field is marked");
    assert!(r.body.contains("缩短换型时间") && r.body.contains("客户财务部李经理牵头"), "what was typed is kept");
    assert!(r.body.contains("id=\"service-special_payment_terms\" checked"), "the ticked service stays ticked");
    assert_eq!(count(&t, "SELECT COUNT(*) FROM service_requests").await, 0, "nothing saved");

    // Saved as a draft.
    let content = "账期由 60 天延长至 90 天，并加急供应二季度订单";
    let to = saved_to(
        &b.post(
            &new,
            &[
                ("content", content),
                ("deeper_needs", "缩短换型时间"),
                ("organisation", "客户财务部李经理牵头"),
                ("service_special_payment_terms", "1"),
                ("service_expedited_supply", "1"),
                ("intent", "save"),
            ],
        )
        .await,
    );
    let id = id_in(&to);
    let page = b.open(&to).await;
    assert!(page.contains("草稿") && page.contains(content) && page.contains("特殊付款条件"), "the draft: {page}");
    assert!(page.contains(&format!("/service-requests/{id}/edit")), "a draft offers 编辑");
    assert!(page.contains(&format!("action=\"/service-requests/{id}/submit\"")), "and 提交审批");
    let v = api(&t, &w, &format!("/api/v1/service-requests/{id}")).await;
    assert_eq!((v["state"].as_str(), v["special_terms"].as_bool()), (Some("draft"), Some(true)), "{v}");
    assert_eq!(v["applicant"], "repA");

    // Edited over its version.
    let edit = format!("/service-requests/{id}/edit");
    let form = b.open(&edit).await;
    assert!(form.contains(content) && form.contains("name=\"version\" value=\"1\""), "the draft in its form");
    let fields = |content: &'static str, version: &'static str| {
        vec![
            ("content", content),
            ("needs_changes", "二季度需求增至 3 万件"),
            ("service_special_payment_terms", "1"),
            ("service_expedited_supply", "1"),
            ("version", version),
            ("intent", "save"),
        ]
    };
    saved_to(&b.post(&edit, &fields("账期延长至 90 天；二季度订单加急", "1")).await);
    // The same version again (another tab): 409, the conflict said, the text kept, the current
    // version in the form so saving again is deliberate.
    let r = b.post(&edit, &fields("这段文字不能丢", "1")).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("该记录已被他人修改"), "the conflict message: {}", r.body);
    assert!(r.body.contains("这段文字不能丢") && r.body.contains("二季度需求增至 3 万件"), "what was typed is kept");
    assert!(r.body.contains("name=\"version\" value=\"2\""), "the current version");
    let v = api(&t, &w, &format!("/api/v1/service-requests/{id}")).await;
    assert_eq!(v["content"], "账期延长至 90 天；二季度订单加急", "the stale save changed nothing");

    // Submitted from its page: the approval starts, with the marketing director's step.
    saved_to(&b.post(&format!("/service-requests/{id}/submit"), &[]).await);
    let v = api(&t, &w, &format!("/api/v1/service-requests/{id}")).await;
    assert_eq!(v["state"], "submitted", "{v}");
    let aid = v["approval_id"].as_i64().expect("an approval");
    let a = t.get(&format!("/api/v1/approvals/{aid}"), &bearer(&w, "director")).await.json();
    assert_eq!(a["flow"], "service_request", "{a}");
    let roles: Vec<&str> = a["steps"].as_array().expect("steps").iter().filter_map(|s| s["role"].as_str()).collect();
    assert!(roles.contains(&"marketing_director"), "special terms: the marketing director decides too: {a}");
    let page = b.open(&format!("/service-requests/{id}")).await;
    assert!(page.contains("审批中") && page.contains(&format!("/approvals/{aid}")), "the page shows the approval");
    assert!(!page.contains(&format!("/service-requests/{id}/edit")), "no 编辑 once submitted");
    // Its form is closed now; a save posted anyway is refused on the request's page.
    assert_eq!(b.page(&edit).await.status, StatusCode::CONFLICT);
    let r = b.post(&edit, &fields("提交后再改", "3")).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("该申请已提交，不能再修改"), "{}", r.body);

    // Another branch's rep does not see the account: no form.
    let c = Browser::sign_in(&t, "repC").await;
    assert_eq!(c.page(&new).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_event_is_planned_with_invited_contacts_held_and_its_evaluation_submitted() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/accounts/{}/contacts", w.account_x),
            &bearer(&w, "repA"),
            Some(json!({"name": "李娟", "title": "采购经理"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let li = r.json()["id"].as_i64().expect("id");
    let b = Browser::sign_in(&t, "repA").await;
    let new = format!("/accounts/{}/service-events/new", w.account_x);
    assert!(b.open(&format!("/accounts/{}", w.account_x)).await.contains(&format!("href=\"{new}\"")));

    // The contact picker: the account's contacts by name and title.
    let form = b.open(&new).await;
    assert!(form.contains("王志远 · 总经理") && form.contains("李娟 · 采购经理"), "{form}");
    assert!(form.contains("type=\"datetime-local\"") && form.contains("产品技术交流会"), "{form}");

    let wang = format!("invited_{}", w.contact_x);
    let li_box = format!("invited_{li}");
    let starts = local_at(-1);
    // No title: refused by field, the rest kept.
    let r = b
        .post(
            &new,
            &[
                ("kind", "technical_seminar"),
                ("title", ""),
                ("starts_at", &starts),
                ("place", "客户二楼会议室"),
                (&wang, "1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("活动名称: 必填") && r.body.contains("id=\"e-title\""), "{}", r.body);
    assert!(r.body.contains("客户二楼会议室"), "the place typed is kept");
    assert!(r.body.contains(&format!("id=\"invited-{}\" checked", w.contact_x)), "the invited stay ticked");
    assert_eq!(count(&t, "SELECT COUNT(*) FROM service_events").await, 0);

    let to = saved_to(
        &b.post(
            &new,
            &[
                ("kind", "technical_seminar"),
                ("title", "新品技术交流会"),
                ("starts_at", &starts),
                ("place", "客户二楼会议室"),
                (&wang, "1"),
                (&li_box, "1"),
            ],
        )
        .await,
    );
    let id = id_in(&to);
    let v = api(&t, &w, &format!("/api/v1/service-events/{id}")).await;
    assert_eq!(v["state"], "planned");
    let invited: Vec<&str> =
        v["invited"].as_array().expect("invited").iter().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(invited, ["王志远", "李娟"], "{v}");
    let page = b.open(&to).await;
    assert!(page.contains("王志远") && page.contains("计划中") && page.contains("id=\"held-form\""), "{page}");
    assert!(
        page.contains(&format!("/service-events/{id}/cancel")) && page.contains(&format!("/service-events/{id}/edit"))
    );

    // Changed over its version: 李娟 is not invited after all; the time as typed comes back.
    let edit = format!("/service-events/{id}/edit");
    let form = b.open(&edit).await;
    assert!(form.contains(&format!("value=\"{starts}\"")), "the start in the zone it was typed in: {form}");
    assert!(form.contains(&format!("id=\"invited-{li}\" checked")), "{form}");
    saved_to(
        &b.post(
            &edit,
            &[
                ("kind", "technical_seminar"),
                ("title", "新品技术交流会"),
                ("starts_at", &starts),
                ("place", "客户三楼报告厅"),
                (&wang, "1"),
                ("version", "1"),
            ],
        )
        .await,
    );
    let v = api(&t, &w, &format!("/api/v1/service-events/{id}")).await;
    assert_eq!((v["place"].as_str(), v["invited"].as_array().map(Vec::len)), (Some("客户三楼报告厅"), Some(1)));

    // Recorded as held from its page: who attended, notes.
    let version = v["version"].to_string();
    let attended = format!("attended_{}", w.contact_x);
    saved_to(
        &b.post(
            &format!("/service-events/{id}/held"),
            &[("version", &version), (&attended, "1"), ("notes", "客户技术部五人参加")],
        )
        .await,
    );
    let v = api(&t, &w, &format!("/api/v1/service-events/{id}")).await;
    assert_eq!((v["state"].as_str(), v["return_state"].as_str()), (Some("held"), Some("due")), "{v}");
    assert_eq!(v["attended"][0]["name"], "王志远");
    let page = b.open(&format!("/service-events/{id}")).await;
    assert!(page.contains("已举办") && page.contains("客户技术部五人参加"), "{page}");
    assert!(!page.contains("id=\"held-form\""), "held once");
    let write = format!("/service-events/{id}/evaluation");
    assert!(page.contains(&format!("href=\"{write}\"")), "a held event offers 填写评估");

    // The evaluation: what was done and the score are required; the problems typed are kept.
    let form = b.open(&write).await;
    assert!(form.contains("id=\"evaluation-form\"") && form.contains("<option value=\"5\""), "{form}");
    let r = b
        .post(
            &write,
            &[
                ("done", ""),
                ("problems", "希望缩短交期\n需要英文资料"),
                ("score", ""),
                ("version", "0"),
                ("intent", "save"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("服务内容: 必填") && r.body.contains("评分: 必填"), "{}", r.body);
    assert!(r.body.contains("希望缩短交期\n需要英文资料"), "the problems kept, one per line");
    assert_eq!(count(&t, "SELECT COUNT(*) FROM service_evaluations").await, 0);

    // Saved as a draft.
    let eval = |version: &'static str, intent: &'static str| {
        vec![
            ("done", "介绍新品并现场演示"),
            ("reaction", "兴趣浓厚"),
            ("problems", "希望缩短交期\n\n需要英文资料\n"),
            ("score", "4"),
            ("suggestions", "两周内送样"),
            ("version", version),
            ("intent", intent),
        ]
    };
    let to = saved_to(&b.post(&write, &eval("0", "save")).await);
    assert!(to.contains("#evaluation-h"), "{to}");
    let v = api(&t, &w, &format!("/api/v1/service-events/{id}")).await;
    assert_eq!(v["evaluation"]["state"], "draft", "{v}");
    assert_eq!(v["evaluation"]["problems"], json!(["希望缩短交期", "需要英文资料"]), "one problem a line");
    let page = b.open(&format!("/service-events/{id}")).await;
    assert!(page.contains("<li>需要英文资料</li>") && page.contains("4/5"), "{page}");
    // Written again and submitted for review.
    let form = b.open(&write).await;
    assert!(
        form.contains("介绍新品并现场演示") && form.contains("<option value=\"4\" selected>"),
        "the draft in its form"
    );
    let r = b.post(&write, &eval("0", "submit")).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "the draft's version is 1: {}", r.body);
    assert!(r.body.contains("该记录已被他人修改") && r.body.contains("两周内送样"), "{}", r.body);
    saved_to(&b.post(&write, &eval("1", "submit")).await);
    let v = api(&t, &w, &format!("/api/v1/service-events/{id}")).await;
    assert_eq!(v["evaluation"]["state"], "submitted", "{v}");
    let aid = v["evaluation"]["approval_id"].as_i64().expect("an approval");
    let a = t.get(&format!("/api/v1/approvals/{aid}"), &bearer(&w, "director")).await.json();
    assert_eq!(a["flow"], "service_evaluation", "{a}");
    let page = b.open(&format!("/service-events/{id}")).await;
    assert!(page.contains("审批中") && !page.contains(&format!("href=\"{write}\"")), "no 填写评估 once submitted");
    assert_eq!(b.page(&write).await.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn cancelling_an_event_needs_its_confirm_page_and_a_future_event_is_not_held() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let b = Browser::sign_in(&t, "repA").await;
    let starts = local_at(10);
    let to = saved_to(
        &b.post(
            &format!("/accounts/{}/service-events/new", w.account_x),
            &[("kind", "appreciation_event"), ("title", "年度客户答谢会"), ("starts_at", &starts)],
        )
        .await,
    );
    let id = id_in(&to);
    let page = b.open(&to).await;
    let cancel = format!("/service-events/{id}/cancel");
    assert!(page.contains(&format!("href=\"{cancel}\"")), "取消活动 is a link to its confirm page");
    assert!(!page.contains(&format!("action=\"{cancel}\"")), "no cancelling from the event's page itself");

    // Not begun: recording it as held is refused on its page, naming the start.
    let attended = format!("attended_{}", w.contact_x);
    let r = b
        .post(&format!("/service-events/{id}/held"), &[("version", "1"), (&attended, "1"), ("notes", "提前记录")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("活动尚未开始，不能记录为已举办") && r.body.contains("提前记录"), "{}", r.body);

    let confirm = b.open(&cancel).await;
    assert!(confirm.contains("确定取消这个服务活动吗") && confirm.contains("年度客户答谢会"), "{confirm}");
    assert!(confirm.contains("name=\"confirm\" value=\"yes\""), "{confirm}");
    // A post that did not come through the confirm: the confirm page again, nothing changed.
    let r = b.post(&cancel, &[("version", "1")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("请在本页确认后再取消活动"), "{}", r.body);
    assert_eq!(api(&t, &w, &format!("/api/v1/service-events/{id}")).await["state"], "planned");

    saved_to(&b.post(&cancel, &[("version", "1"), ("confirm", "yes")]).await);
    assert_eq!(api(&t, &w, &format!("/api/v1/service-events/{id}")).await["state"], "cancelled");
    let page = b.open(&format!("/service-events/{id}")).await;
    assert!(page.contains("已取消") && !page.contains(&format!("/service-events/{id}/edit")), "{page}");
    assert_eq!(b.page(&cancel).await.status, StatusCode::CONFLICT, "a cancelled event has no confirm page");
}
