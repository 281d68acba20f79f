//! Directory sign-in (issue 26 item 1) against a real OpenLDAP: the test starts `slapd` (Debian's)
//! on a free port with a directory of its own, loaded with `slapadd`, and removes it afterwards.
//! A directory user signs in and gets the mapped role and org unit; a disabled one cannot and is
//! deactivated; the sync deactivates a user removed from the directory; local accounts keep
//! KAM's password; a wrong or empty password is refused.
use std::collections::HashSet;

use axum::http::{Method, StatusCode};
use kam::app::Settings;

use crate::common::*;

#[path = "../shared/slapd.rs"]
mod slapd;
use slapd::*;

/// Changes the directory as its administrator would (the root DN).
async fn modify(port: u16, dn: &str, mods: Vec<ldap3::Mod<String>>) {
    let (conn, mut ldap) = ldap3::LdapConnAsync::new(&format!("ldap://127.0.0.1:{port}")).await.expect("connect");
    ldap3::drive!(conn);
    ldap.simple_bind(ROOT_DN, ROOT_PW).await.expect("bind").success().expect("root bind");
    ldap.modify(dn, mods).await.expect("modify").success().expect("modified");
    let _ = ldap.unbind().await;
}

async fn delete(port: u16, dn: &str) {
    let (conn, mut ldap) = ldap3::LdapConnAsync::new(&format!("ldap://127.0.0.1:{port}")).await.expect("connect");
    ldap3::drive!(conn);
    ldap.simple_bind(ROOT_DN, ROOT_PW).await.expect("bind").success().expect("root bind");
    ldap.delete(dn).await.expect("delete").success().expect("deleted");
    let _ = ldap.unbind().await;
}

fn user<'a>(users: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    users["items"].as_array().expect("users").iter().find(|u| u["username"] == name).unwrap_or(&serde_json::Value::Null)
}

#[tokio::test]
async fn a_directory_user_signs_in_with_the_mapped_role_and_unit_and_a_disabled_one_cannot() {
    let Some(slapd) = start_slapd() else { return };
    let settings = Settings { directory: Some(std::sync::Arc::new(config(slapd.port))), ..Settings::default() };
    let t = TestApp::with_settings(settings).await;
    let w = seed(&t).await;
    let admin = Auth::Bearer(w.tokens["admin"].clone());

    // 王芳 is not a KAM user yet: her directory password signs her in, and KAM creates her with
    // the role of her first mapped group and the org unit her department attribute names.
    assert!(user(&t.get("/api/v1/users", &admin).await.json(), "wang.fang").is_null());
    let (sid, _) = t.ui_login("wang.fang", "directory-pass-1", None).await.expect("directory sign-in");
    let me = t.get("/profile", &Auth::Session { cookie: sid.clone(), csrf: String::new() }).await;
    assert_eq!(me.status, StatusCode::OK);
    assert!(me.body.contains("王芳"), "her directory name is shown");
    let users = t.get("/api/v1/users", &admin).await.json();
    let wf = user(&users, "wang.fang");
    assert_eq!(
        (wf["role"].as_str(), wf["org_unit"].as_str(), wf["display_name"].as_str(), wf["source"].as_str()),
        (Some("ka_manager"), Some("BJ"), Some("王芳"), Some("directory"))
    );
    // Her session reaches what a KA manager of 北京 reaches.
    let accounts = t.get("/api/v1/accounts", &Auth::Session { cookie: sid.clone(), csrf: String::new() }).await;
    assert_eq!(accounts.status, StatusCode::OK);
    // The users page says how she signs in and offers no KAM password reset for her.
    let (asid, _) = t.ui_login("admin", PASSWORD, None).await.expect("local admin");
    let admin_pages = Auth::Session { cookie: asid, csrf: String::new() };
    let page = t.get("/admin/users", &admin_pages).await;
    assert!(page.body.contains("/admin/users/admin/password"));
    assert!(!page.body.contains("/admin/users/wang.fang/password"));

    // A wrong password, and an empty one (LDAP would take it as an anonymous bind), are refused.
    for pw in ["wrong-pass", ""] {
        let r = t.ui_login("wang.fang", pw, None).await.expect_err("refused");
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "password {pw:?}");
    }
    // A disabled directory user cannot sign in, and no KAM user is made for them.
    let r = t.ui_login("zhao.min", "directory-pass-3", None).await.expect_err("disabled");
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(user(&t.get("/api/v1/users", &admin).await.json(), "zhao.min").is_null());
    // In no mapped group, or in a unit KAM does not know: told why, in their language.
    let r = t.ui_login("chen.jie", "directory-pass-4", None).await.expect_err("no role");
    assert!(r.body.contains("不在任何对应 KAM 角色的组中"), "{}", r.body);
    let r = t.ui_login("li.lei", "directory-pass-2", None).await.expect_err("no unit");
    assert!(r.body.contains("组织单元在 KAM 中不存在"), "{}", r.body);
    // The local administrator keeps KAM's password, though the directory has an `admin` too.
    t.ui_login("admin", PASSWORD, None).await.expect("local admin");
    let r = t.ui_login("admin", "directory-pass-5", None).await.expect_err("the directory's admin");
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // A directory user has no KAM password to change.
    let r = t
        .call(
            Method::POST,
            "/api/v1/users/wang.fang/password",
            &admin,
            Some(serde_json::json!({"password": "another-pass-9"})),
        )
        .await;
    assert_eq!((r.status, r.json()["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("password_in_directory")));

    // The directory moves her to the reps' group only: her next sign-in makes her a rep.
    modify(
        slapd.port,
        &format!("cn=kam-managers,ou=groups,{SUFFIX}"),
        vec![ldap3::Mod::Delete("member".into(), HashSet::from([format!("uid=wang.fang,ou=people,{SUFFIX}")]))],
    )
    .await;
    t.ui_login("wang.fang", "directory-pass-1", None).await.expect("signs in again");
    let users = t.get("/api/v1/users", &admin).await.json();
    assert_eq!(user(&users, "wang.fang")["role"], "ka_rep");

    // The directory disables her: her open session ends at the next sync, and she cannot sign in.
    let (sid, _) = t.ui_login("wang.fang", "directory-pass-1", None).await.expect("signed in");
    modify(
        slapd.port,
        &format!("uid=wang.fang,ou=people,{SUFFIX}"),
        vec![ldap3::Mod::Add("employeeType".into(), HashSet::from(["disabled".into()]))],
    )
    .await;
    let st = t.get("/api/v1/directory", &admin).await.json();
    assert_eq!((st["configured"].as_bool(), st["reachable"].as_bool()), (Some(true), Some(true)));
    assert_eq!(st["users_active"], 1);
    let r = t.call(Method::POST, "/api/v1/directory/sync", &admin, None).await.json();
    assert_eq!((r["checked"].as_u64(), r["deactivated"].as_u64()), (Some(1), Some(1)), "{r}");
    let gone = t.get("/profile", &Auth::Session { cookie: sid, csrf: String::new() }).await;
    assert_ne!(gone.status, StatusCode::OK, "her session ended");
    let r = t.ui_login("wang.fang", "directory-pass-1", None).await.expect_err("disabled now");
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let users = t.get("/api/v1/users", &admin).await.json();
    assert_eq!(user(&users, "wang.fang")["active"], false);
    // The audit says the directory did it, and why.
    let audit = t.get("/api/v1/audit?entity=user&id=wang.fang", &admin).await;
    assert!(audit.body.contains("directory_deactivate") && audit.body.contains("disabled"), "{}", audit.body);

    // Enabled again in the directory: she signs in, and KAM brings her back (the directory had
    // deactivated her, not an administrator).
    modify(
        slapd.port,
        &format!("uid=wang.fang,ou=people,{SUFFIX}"),
        vec![ldap3::Mod::Delete("employeeType".into(), HashSet::from(["disabled".into()]))],
    )
    .await;
    t.ui_login("wang.fang", "directory-pass-1", None).await.expect("enabled again");
    // Removed from the directory: the sync deactivates her.
    delete(slapd.port, &format!("uid=wang.fang,ou=people,{SUFFIX}")).await;
    let r = t.call(Method::POST, "/api/v1/directory/sync", &admin, None).await.json();
    assert_eq!(r["deactivated"], 1, "{r}");
    // The settings page shows the directory, the mapping and the last sync; a rep may not see it.
    let page = t.get("/settings/directory", &admin_pages).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("id=\"directory-reachable\"") && page.body.contains("kam-managers"));
    assert!(page.body.contains("id=\"directory-last-sync\""));
    assert!(!page.body.contains(SERVICE_PW), "the service account's password is never shown");
    let rep = Auth::Bearer(w.tokens["repA"].clone());
    assert_eq!(t.get("/api/v1/directory", &rep).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_unreachable_directory_is_said_and_changes_nothing() {
    // Nothing listens on this port.
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    let settings = Settings { directory: Some(std::sync::Arc::new(config(port))), ..Settings::default() };
    let t = TestApp::with_settings(settings).await;
    let w = seed(&t).await;
    let admin = Auth::Bearer(w.tokens["admin"].clone());
    let r = t.ui_login("wang.fang", "directory-pass-1", None).await.expect_err("no directory");
    assert!(r.body.contains("无法连接公司目录"), "{}", r.body);
    // Local accounts still sign in.
    t.ui_login("manager", PASSWORD, None).await.expect("local account");
    let st = t.get("/api/v1/directory", &admin).await.json();
    assert_eq!(st["reachable"], false);
    let r = t.call(Method::POST, "/api/v1/directory/sync", &admin, None).await;
    assert_eq!((r.status, r.json()["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("directory_unavailable")));
    // Without the setting, the page says how to turn it on.
    let off = TestApp::new().await;
    let w = seed(&off).await;
    let _ = w;
    let (asid, _) = off.ui_login("admin", PASSWORD, None).await.expect("admin");
    let page = off.get("/settings/directory", &Auth::Session { cookie: asid, csrf: String::new() }).await;
    assert!(page.body.contains("id=\"directory-off\""));
}
