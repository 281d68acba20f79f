//! Builders for test data, written through the use cases as a named user would (so each
//! record passes the same rules and audit as in production): org units, users, accounts,
//! contacts, opportunities and activities. Each has sensible defaults; set only what a test
//! is about.
use kam::app::records::input::Input;
use kam::app::{people::auth, Ctx};
use serde_json::Value;
use sqlx::Row;

use super::common::{TestApp, PASSWORD};

/// The context of `username` (the system when "system").
pub async fn ctx(t: &TestApp, username: &str) -> Ctx {
    if username == "system" {
        return Ctx::system();
    }
    let id: i64 = sqlx::query("SELECT id FROM users WHERE username = $1")
        .bind(username)
        .fetch_one(&t.db().pool)
        .await
        .unwrap_or_else(|e| panic!("user {username}: {e}"))
        .try_get("id")
        .expect("id");
    let caller = auth::load_caller(t.db(), id).await.expect("caller").expect("active user");
    Ctx { caller, request_id: "test".into() }
}

fn input(pairs: &[(&str, String)]) -> Input {
    let p: Vec<(&str, Option<&str>)> = pairs.iter().map(|(k, v)| (*k, Some(v.as_str()))).collect();
    Input::from_pairs(&p)
}

fn admin() -> Ctx {
    let ctx = Ctx::system();
    Ctx { caller: kam::app::Caller { role: kam::domain::role::Role::Admin, ..ctx.caller.clone() }, ..ctx }
}

/// An org unit: `org("BJ").kind("branch").parent("N")`.
pub struct Org {
    fields: Vec<(&'static str, String)>,
}

pub fn org(code: &str) -> Org {
    Org { fields: vec![("code", code.into()), ("name", format!("{code} 单位")), ("kind", "hq".into())] }
}

impl Org {
    pub fn kind(mut self, k: &str) -> Self {
        self.fields.retain(|(f, _)| *f != "kind");
        self.fields.push(("kind", k.into()));
        self
    }
    pub fn parent(mut self, code: &str) -> Self {
        self.fields.push(("parent", code.into()));
        self
    }
    pub async fn create(self, t: &TestApp) -> i64 {
        kam::app::people::org::create(t.db(), &Ctx::system(), &input(&self.fields)).await.expect("org unit").id
    }
}

/// A user: `user("rep1").role("ka_rep").org("BJ").manager("boss")`; password [`PASSWORD`].
pub struct User {
    fields: Vec<(&'static str, String)>,
}

pub fn user(username: &str) -> User {
    User {
        fields: vec![
            ("username", username.into()),
            ("display_name", username.into()),
            ("role", "ka_rep".into()),
            ("org_unit", "HQ".into()),
            ("password", PASSWORD.into()),
            ("sales_type", "ae".into()),
        ],
    }
}

impl User {
    fn set(mut self, k: &'static str, v: &str) -> Self {
        self.fields.retain(|(f, _)| *f != k);
        self.fields.push((k, v.into()));
        self
    }
    pub fn role(self, r: &str) -> Self {
        let s = self.set("role", r);
        if matches!(r, "ka_rep" | "inside_sales") {
            s
        } else {
            User { fields: s.fields.into_iter().filter(|(f, _)| *f != "sales_type").collect() }
        }
    }
    pub fn org(self, code: &str) -> Self {
        self.set("org_unit", code)
    }
    pub fn manager(self, username: &str) -> Self {
        self.set("manager", username)
    }
    pub fn sales_type(self, st: &str) -> Self {
        self.set("sales_type", st)
    }
    pub async fn create(self, t: &TestApp) -> i64 {
        kam::app::people::users::create(t.db(), &admin(), &input(&self.fields)).await.expect("user").id
    }
}

/// Any record built from fields: an account, a contact, an opportunity or an activity.
pub struct Record {
    fields: Vec<(&'static str, String)>,
}

impl Record {
    /// Sets (or replaces) one field, as the API would receive it.
    pub fn with(mut self, k: &'static str, v: &str) -> Self {
        self.fields.retain(|(f, _)| *f != k);
        self.fields.push((k, v.into()));
        self
    }
}

/// An account: a prospect in `enterprise`, level L1, owned by whoever creates it (a rep).
pub fn account(name: &str) -> Record {
    Record { fields: vec![("name", name.into()), ("industry", "enterprise".into()), ("level", "L1".into())] }
}

/// A contact of an account.
pub fn contact(name: &str) -> Record {
    Record { fields: vec![("name", name.into())] }
}

/// An opportunity with its evaluation filled in, closing on `expected_close`.
pub fn opportunity(name: &str, amount: &str, expected_close: &str) -> Record {
    Record {
        fields: vec![
            ("name", name.into()),
            ("amount", amount.into()),
            ("expected_close", expected_close.into()),
            ("eval_need", "产线升级".into()),
            ("eval_budget", "年度预算已批".into()),
            ("eval_timeline", "本季度".into()),
            ("eval_decision_makers", "总经理".into()),
        ],
    }
}

/// A done phone call on an account at `occurred_at` (RFC 3339).
pub fn activity(account_id: i64, occurred_at: &str) -> Record {
    Record {
        fields: vec![
            ("account_id", account_id.to_string()),
            ("kind", "phone".into()),
            ("status", "done".into()),
            ("occurred_at", occurred_at.into()),
            ("outcome", "none".into()),
        ],
    }
}

impl Record {
    pub async fn account_by(self, t: &TestApp, who: &str) -> Value {
        let v = kam::app::customers::accounts::create(t.db(), &ctx(t, who).await, &input(&self.fields))
            .await
            .expect("account");
        serde_json::to_value(v).expect("json")
    }
    pub async fn contact_by(self, t: &TestApp, who: &str, account_id: i64) -> Value {
        let v = kam::app::customers::contacts::create(t.db(), &ctx(t, who).await, account_id, &input(&self.fields))
            .await
            .expect("contact");
        serde_json::to_value(v).expect("json")
    }
    pub async fn opportunity_by(self, t: &TestApp, who: &str, account_id: i64) -> Value {
        let v =
            kam::app::funnel::opportunities::establish(t.db(), &ctx(t, who).await, account_id, &input(&self.fields))
                .await
                .expect("opportunity");
        serde_json::to_value(v).expect("json")
    }
    pub async fn activity_by(self, t: &TestApp, who: &str) -> Value {
        let v = kam::app::visits::activities::create(t.db(), &ctx(t, who).await, &input(&self.fields), None)
            .await
            .expect("activity");
        serde_json::to_value(v).expect("json")
    }
}

/// The builders make a small sales team whose records each person sees as the scope says.
#[tokio::test]
async fn builders_make_a_team_whose_records_each_person_sees_by_scope() {
    use super::common::Auth;
    let t = TestApp::new().await;
    org("HQ").create(&t).await;
    org("N").kind("region").parent("HQ").create(&t).await;
    org("BJ").kind("branch").parent("N").create(&t).await;
    user("boss").role("ka_manager").org("BJ").create(&t).await;
    user("rep1").org("BJ").manager("boss").create(&t).await;
    user("rep2").org("BJ").manager("boss").sales_type("sr").create(&t).await;
    let a = account("北京华信科技有限公司").account_by(&t, "rep1").await;
    let id = a["id"].as_i64().expect("id");
    assert_eq!(a["owner"], "rep1");
    contact("张伟").with("title", "信息中心主任").contact_by(&t, "rep1", id).await;
    let o = opportunity("机房改造", "1200000", "2027-03-31").opportunity_by(&t, "rep1", id).await;
    assert_eq!(o["amount"], "1200000.00");
    activity(id, "2026-11-20T02:00:00Z").activity_by(&t, "rep1").await;
    let list = |who: &'static str, path: &'static str| {
        let t = &t;
        async move {
            let tok = t.token(who).await;
            t.get(path, &Auth::Bearer(tok)).await.json()["items"].as_array().map(Vec::len).unwrap_or(0)
        }
    };
    assert_eq!(list("rep1", "/api/v1/opportunities").await, 1, "the owner sees the opportunity");
    assert_eq!(list("boss", "/api/v1/opportunities").await, 1, "so does the manager");
    assert_eq!(list("rep2", "/api/v1/opportunities").await, 0, "another rep does not");
    assert_eq!(list("boss", "/api/v1/contacts").await, 1);
    assert_eq!(list("rep2", "/api/v1/contacts").await, 0);
    assert_eq!(list("boss", "/api/v1/activities").await, 1);
}
