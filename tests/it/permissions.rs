//! The permission matrix: who may get, list, search, count, update, delete and export the
//! accounts and contacts of one rep, compared with the policy table in the code.
use axum::http::{Method, StatusCode};
use kam::domain::policy::{decide, Decision, Op};
use kam::domain::role::Role;
use serde_json::json;

use crate::common::{seed, Auth, TestApp};

/// What a caller gets for rep A's account X (and its contact):
/// (caller, role, sees X, update allowed, delete allowed). `None` role = not signed in / inactive.
const MATRIX: &[(&str, Option<Role>, bool, Expect, Expect)] = &[
    ("repA", Some(Role::KaRep), true, Expect::Allow, Expect::Forbid),
    ("repB", Some(Role::KaRep), false, Expect::Hidden, Expect::Hidden),
    ("repC", Some(Role::KaRep), false, Expect::Hidden, Expect::Hidden),
    ("manager", Some(Role::KaManager), true, Expect::Allow, Expect::Forbid),
    ("region", Some(Role::BranchManager), true, Expect::Allow, Expect::Forbid),
    ("finance", Some(Role::FinanceManager), true, Expect::Forbid, Expect::Forbid),
    ("admin", Some(Role::Admin), false, Expect::Hidden, Expect::Hidden),
    ("gone", None, false, Expect::Unauth, Expect::Unauth),
    ("anonymous", None, false, Expect::Unauth, Expect::Unauth),
    // Last: the director's delete succeeds and removes X.
    ("director", Some(Role::KaDirector), true, Expect::Allow, Expect::Allow),
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    Allow,
    Forbid,
    Hidden,
    Unauth,
}

impl Expect {
    fn status(self, ok: StatusCode) -> StatusCode {
        match self {
            Expect::Allow => ok,
            Expect::Forbid => StatusCode::FORBIDDEN,
            Expect::Hidden => StatusCode::NOT_FOUND,
            Expect::Unauth => StatusCode::UNAUTHORIZED,
        }
    }
}

fn as_decision(e: Expect) -> Option<Decision> {
    match e {
        Expect::Allow => Some(Decision::Allow),
        Expect::Forbid => Some(Decision::Forbid),
        Expect::Hidden => Some(Decision::Hidden),
        Expect::Unauth => None,
    }
}

#[test]
fn matrix_agrees_with_the_policy_table() {
    for (who, role, sees, upd, del) in MATRIX {
        if let Some(role) = role {
            assert_eq!(Some(decide(*role, *sees, Op::Update)), as_decision(*upd), "{who} update");
            assert_eq!(Some(decide(*role, *sees, Op::Delete)), as_decision(*del), "{who} delete");
            for op in [Op::Get, Op::List, Op::Search, Op::Count, Op::Export] {
                let want = if *sees { Decision::Allow } else { Decision::Hidden };
                assert_eq!(decide(*role, *sees, op), want, "{who} {op:?}");
            }
        }
    }
}

async fn version_of(t: &TestApp, table: &str, id: i64) -> i64 {
    let r = sqlx::query(&format!("SELECT version FROM {table} WHERE id = $1"))
        .bind(id)
        .fetch_one(&t.db().pool)
        .await
        .expect("row");
    sqlx::Row::try_get(&r, "version").expect("version")
}

#[tokio::test]
async fn account_and_contact_matrix() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let x_name = "北京星河精密制造有限公司";
    for (who, _, sees, upd, del) in MATRIX {
        let auth = match w.tokens.get(who) {
            Some(tok) => Auth::Bearer(tok.clone()),
            None => Auth::None,
        };
        let read = if *who == "gone" || *who == "anonymous" {
            Expect::Unauth
        } else if *sees {
            Expect::Allow
        } else {
            Expect::Hidden
        };
        let ctx = format!("caller {who}");

        // Accounts: get
        let r = t.get(&format!("/api/v1/accounts/{}", w.account_x), &auth).await;
        assert_eq!(r.status, read.status(StatusCode::OK), "{ctx} get account: {}", r.body);
        // list, search, count, export
        for (path, what) in [
            ("/api/v1/accounts?limit=500".to_string(), "list"),
            (format!("/api/v1/accounts?q={}", urlenc(x_name)), "search"),
            ("/api/v1/accounts/export".to_string(), "export"),
        ] {
            let r = t.get(&path, &auth).await;
            if read == Expect::Unauth {
                assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{ctx} {what}");
                continue;
            }
            assert_eq!(r.status, StatusCode::OK, "{ctx} {what}: {}", r.body);
            assert_eq!(r.body.contains(x_name), *sees, "{ctx} {what} shows X: {}", r.body);
        }
        let r = t.get(&format!("/api/v1/accounts/count?q={}", urlenc(x_name)), &auth).await;
        if read == Expect::Unauth {
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{ctx} count");
        } else {
            assert_eq!(r.json()["count"], json!(if *sees { 1 } else { 0 }), "{ctx} count");
        }

        // Contacts: get, list, search, count, export
        let r = t.get(&format!("/api/v1/contacts/{}", w.contact_x), &auth).await;
        assert_eq!(r.status, read.status(StatusCode::OK), "{ctx} get contact");
        let r = t.get(&format!("/api/v1/accounts/{}/contacts", w.account_x), &auth).await;
        assert_eq!(r.status, read.status(StatusCode::OK), "{ctx} account contacts");
        for (path, what) in [
            ("/api/v1/contacts?limit=500".to_string(), "contact list"),
            (format!("/api/v1/contacts?q={}", urlenc("王志远")), "contact search"),
            ("/api/v1/contacts/export".to_string(), "contact export"),
        ] {
            let r = t.get(&path, &auth).await;
            if read == Expect::Unauth {
                assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{ctx} {what}");
                continue;
            }
            assert_eq!(r.body.contains("王志远"), *sees, "{ctx} {what}");
        }
        let r = t.get(&format!("/api/v1/contacts/count?q={}", urlenc("王志远")), &auth).await;
        if read != Expect::Unauth {
            assert_eq!(r.json()["count"], json!(if *sees { 1 } else { 0 }), "{ctx} contact count");
        }

        // Updates carry the current version, so only the permission decides.
        let v = version_of(&t, "accounts", w.account_x).await;
        let r = t
            .call(
                Method::PATCH,
                &format!("/api/v1/accounts/{}", w.account_x),
                &auth,
                Some(json!({"version": v, "notes": format!("edited by {who}")})),
            )
            .await;
        assert_eq!(r.status, upd.status(StatusCode::OK), "{ctx} update account: {}", r.body);
        let v = version_of(&t, "contacts", w.contact_x).await;
        let r = t
            .call(
                Method::PATCH,
                &format!("/api/v1/contacts/{}", w.contact_x),
                &auth,
                Some(json!({"version": v, "title": "总经理"})),
            )
            .await;
        assert_eq!(r.status, upd.status(StatusCode::OK), "{ctx} update contact: {}", r.body);

        // Deletes: the contact first (the account's delete would hide it).
        let r = t.call(Method::DELETE, &format!("/api/v1/contacts/{}", w.contact_x), &auth, None).await;
        assert_eq!(r.status, del.status(StatusCode::NO_CONTENT), "{ctx} delete contact: {}", r.body);
        let r = t.call(Method::DELETE, &format!("/api/v1/accounts/{}", w.account_x), &auth, None).await;
        assert_eq!(r.status, del.status(StatusCode::NO_CONTENT), "{ctx} delete account: {}", r.body);
    }
    // After the director's delete, X is gone for everyone, the other account stays.
    let dir = Auth::Bearer(w.tokens["director"].clone());
    assert_eq!(t.get(&format!("/api/v1/accounts/{}", w.account_x), &dir).await.status, StatusCode::NOT_FOUND);
    assert_eq!(t.get(&format!("/api/v1/accounts/{}", w.account_c), &dir).await.status, StatusCode::OK);
}

#[tokio::test]
async fn ui_pages_are_scoped_too() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (sid_b, _) = t.ui_login("repB", crate::common::PASSWORD, None).await.expect("repB signs in");
    let b = Auth::Session { cookie: sid_b, csrf: String::new() };
    let r = t.get(&format!("/accounts/{}", w.account_x), &b).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = t.get("/accounts", &b).await;
    assert!(!r.body.contains("北京星河"), "repB's list must not show X");
    let r = t.get("/accounts/export.csv", &b).await;
    assert!(!r.body.contains("北京星河"));
    let (sid_a, _) = t.ui_login("repA", crate::common::PASSWORD, None).await.expect("repA signs in");
    let a = Auth::Session { cookie: sid_a, csrf: String::new() };
    let r = t.get(&format!("/accounts/{}", w.account_x), &a).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("北京星河精密制造有限公司"));
    assert!(!t.get("/accounts", &a).await.body.contains("上海东方仪器"), "repA does not see repC's account");
}

pub fn urlenc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[tokio::test]
async fn scope_follows_reassignment_and_the_manager_chain() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let tok = |u: &str| Auth::Bearer(w.tokens[u].clone());
    let x = format!("/api/v1/accounts/{}", w.account_x);
    // The manager hands X from repA to repB.
    let r = t.call(Method::PATCH, &x, &tok("manager"), Some(json!({"version": 1, "owner": "repB"}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(t.get(&x, &tok("repA")).await.status, StatusCode::NOT_FOUND, "the old owner loses it");
    assert_eq!(t.get(&x, &tok("repB")).await.status, StatusCode::OK, "the new owner sees it");
    assert_eq!(t.get(&x, &tok("manager")).await.status, StatusCode::OK);
    // A rep may not reassign.
    let r = t.call(Method::PATCH, &x, &tok("repB"), Some(json!({"version": 2, "owner": "repA"}))).await;
    assert_eq!(r.json()["error"]["details"]["fields"]["owner"]["code"], "forbidden_field");
    // repB moves to another manager: the old manager no longer sees repB's accounts.
    let v = t.get("/api/v1/users/repB", &tok("admin")).await.json()["version"].clone();
    let r = t
        .call(Method::PATCH, "/api/v1/users/repB", &tok("admin"), Some(json!({"version": v, "manager": "director"})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(t.get(&x, &tok("manager")).await.status, StatusCode::NOT_FOUND);
    let list = t.get("/api/v1/accounts", &tok("manager")).await.body;
    assert!(!list.contains("北京星河"), "nor in the list");
    // A new branch manager of the East region sees East's account, not X.
    let r = t
        .call(
            Method::POST,
            "/api/v1/users",
            &tok("admin"),
            Some(json!({"username": "east", "role": "branch_manager", "org_unit": "E", "password": "east-boss-1"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let east = Auth::Bearer(t.token("east").await);
    assert_eq!(t.get(&format!("/api/v1/accounts/{}", w.account_c), &east).await.status, StatusCode::OK);
    assert_eq!(t.get(&x, &east).await.status, StatusCode::NOT_FOUND);
    // Renaming keeps the name-ordered list right.
    let r = t.call(Method::PATCH, &x, &tok("repB"), Some(json!({"version": 2, "name": "阿尔法科技有限公司"}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let first = t.get("/api/v1/accounts?limit=1", &tok("repB")).await.json();
    assert_eq!(first["items"][0]["name"], "阿尔法科技有限公司");
}

#[tokio::test]
async fn the_account_team_sees_the_account() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let tok = |u: &str| Auth::Bearer(w.tokens[u].clone());
    let x = format!("/api/v1/accounts/{}", w.account_x);
    assert_eq!(t.get(&x, &tok("repC")).await.status, StatusCode::NOT_FOUND);
    let r = t.call(Method::POST, &format!("{x}/team"), &tok("repA"), Some(json!({"username": "repC"}))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "a rep does not build the team");
    let r = t.call(Method::POST, &format!("{x}/team"), &tok("manager"), Some(json!({"username": "repC"}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.json()["items"][0]["username"], "repC");
    assert_eq!(t.get(&x, &tok("repC")).await.status, StatusCode::OK, "a team member sees it");
    assert!(t.get("/api/v1/contacts", &tok("repC")).await.body.contains("王志远"), "and its contacts");
    let h = t.get(&format!("/api/v1/audit?entity=account&id={}", w.account_x), &tok("manager")).await.json();
    assert_eq!(h["items"][0]["what"], "team_add");
    let r = t.call(Method::POST, &format!("{x}/team"), &tok("manager"), Some(json!({"username": "repC"}))).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = t.call(Method::DELETE, &format!("{x}/team/repC"), &tok("manager"), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(t.get(&x, &tok("repC")).await.status, StatusCode::NOT_FOUND, "and loses it when removed");
}

#[tokio::test]
async fn the_regional_pool_lets_one_rep_claim_and_release() {
    let t = TestApp::with_settings(kam::app::Settings { pool_claim_limit: 2, ..Default::default() }).await;
    let w = seed(&t).await;
    let tok = |u: &str| Auth::Bearer(w.tokens[u].clone());
    let mut ids = vec![];
    for (name, region) in [("资源库甲公司", "N"), ("资源库乙公司", "N"), ("资源库丙公司", "N"), ("华东资源库公司", "E")]
    {
        let r = t
            .call(
                Method::POST,
                "/api/v1/accounts",
                &tok("director"),
                Some(json!({"name": name, "industry": "enterprise", "region": region})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.json()["owner"], json!(null));
        ids.push(r.json()["id"].as_i64().expect("id"));
    }
    // Reps of region N see N's pool, not E's; others have no pool.
    let pool = t.get("/api/v1/pool", &tok("repA")).await.body;
    assert!(pool.contains("资源库甲公司") && !pool.contains("华东资源库公司") && !pool.contains("北京星河"), "{pool}");
    assert!(t.get("/api/v1/pool", &tok("repC")).await.body.contains("华东资源库公司"));
    assert_eq!(t.get("/api/v1/pool", &tok("director")).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        t.get(&format!("/api/v1/accounts/{}", ids[0]), &tok("repA")).await.status,
        StatusCode::NOT_FOUND,
        "not theirs yet"
    );
    // Two reps claim the same account at once: exactly one wins.
    let claim0 = format!("/api/v1/accounts/{}/claim", ids[0]);
    let (ta, tb) = (tok("repA"), tok("repB"));
    let (a, b) = tokio::join!(t.call(Method::POST, &claim0, &ta, None), t.call(Method::POST, &claim0, &tb, None));
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT], "{} / {}", a.body, b.body);
    let (winner, loser) = if a.status == StatusCode::OK { ("repA", "repB") } else { ("repB", "repA") };
    assert_eq!(t.get(&format!("/api/v1/accounts/{}", ids[0]), &tok(winner)).await.json()["owner"], winner);
    assert_eq!(t.get(&format!("/api/v1/accounts/{}", ids[0]), &tok(loser)).await.status, StatusCode::NOT_FOUND);
    assert!(!t.get("/api/v1/pool", &tok(loser)).await.body.contains("资源库甲公司"), "gone from the pool");
    // Another region's pool is out of reach; the limit holds.
    let r = t.call(Method::POST, &format!("/api/v1/accounts/{}/claim", ids[3]), &tok(winner), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = t.call(Method::POST, &format!("/api/v1/accounts/{}/claim", ids[1]), &tok(winner), None).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = t.call(Method::POST, &format!("/api/v1/accounts/{}/claim", ids[2]), &tok(winner), None).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.json()["error"]["code"], "claim_limit");
    // Releasing gives it back; an owned (not claimed) account cannot be released.
    let r = t.call(Method::POST, &format!("/api/v1/accounts/{}/release", ids[0]), &tok(winner), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(t.get("/api/v1/pool", &tok(loser)).await.body.contains("资源库甲公司"));
    let r = t.call(Method::POST, &format!("/api/v1/accounts/{}/release", w.account_x), &tok("repA"), None).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let h = t.get(&format!("/api/v1/audit?entity=account&id={}", ids[0]), &tok("director")).await.json();
    let whats: Vec<&str> = h["items"].as_array().expect("items").iter().filter_map(|e| e["what"].as_str()).collect();
    assert_eq!(whats[..2], ["release", "claim"]);
}
