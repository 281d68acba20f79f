//! `kam doctor` (issue 26 item 7): a sound installation passes every check; five broken
//! settings (and the database) are each named with a fix; a migration not applied and a webhook
//! nobody answers are named too; nothing is changed by checking.
use kam::cli::ServerConfig;
use kam::doctor::{check, Verdict};

use crate::common::{seed, TestApp};

fn sound(dir: &std::path::Path) -> ServerConfig {
    ServerConfig {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.join("kam-data"),
        smtp_url: None,
        mail_from: "KAM <kam@example.com>".into(),
        base_url: Some("https://kam.example.com".into()),
        storage: "directory".into(),
        database_read_url: None,
        read_max_lag_secs: 5,
        directory: Default::default(),
    }
}

/// A TCP port on the loopback that nothing listens on.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    drop(l);
    port
}

#[tokio::test]
async fn a_sound_installation_passes_and_each_broken_setting_is_named_with_a_fix() {
    let t = TestApp::new().await;
    seed(&t).await;
    let (db, url) = (t.db(), t.url.clone());
    let tmp = tempfile::tempdir().expect("tempdir");
    let cfg = sound(tmp.path());
    let r = check(&url, &cfg).await;
    assert_eq!(r.broken(), 0, "{}", r.text());
    assert!(r.text().contains("all") && r.text().contains("migrations applied"), "{}", r.text());
    assert!(!cfg.data_dir.exists(), "checking creates nothing");

    // Five settings broken at once, and the database unreachable: each named, each with a fix.
    let file = tmp.path().join("a-file");
    std::fs::write(&file, b"x").expect("file");
    let port = closed_port();
    let bad = ServerConfig {
        listen: "not-an-address".into(),
        data_dir: file,
        smtp_url: Some(format!("smtp://127.0.0.1:{port}")),
        mail_from: "not a mail address".into(),
        base_url: Some("kam.example.com".into()),
        storage: "directory".into(),
        database_read_url: None,
        read_max_lag_secs: 5,
        directory: Default::default(),
    };
    let r = check(&format!("postgres://nobody@127.0.0.1:{port}/kam"), &bad).await;
    assert_eq!(
        r.broken_settings(),
        ["KAM_DATABASE_URL", "KAM_DATA_DIR", "KAM_LISTEN", "KAM_BASE_URL", "KAM_MAIL_FROM", "KAM_SMTP_URL"],
        "{}",
        r.text()
    );
    assert_eq!(r.text().matches("fix: ").count(), 6, "a fix for each: {}", r.text());
    for c in &r.checks {
        if let Verdict::Broken { fix, .. } = &c.verdict {
            assert!(!fix.trim().is_empty(), "{}: a fix", c.setting);
        }
    }

    // A migration not applied, and a user's webhook nobody answers.
    let last = db.known_migrations().last().map(|m| m.0).expect("migrations");
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = $1").bind(last).execute(&db.pool).await.expect("forget");
    sqlx::query("UPDATE users SET webhook_url = $1, notify_webhook = 1 WHERE username = 'repA'")
        .bind(format!("http://127.0.0.1:{port}/hook"))
        .execute(&db.pool)
        .await
        .expect("repA's webhook");
    let r = check(&url, &cfg).await;
    assert_eq!(r.broken_settings(), ["KAM_DATABASE_URL", "webhooks"], "{}", r.text());
    let text = r.text();
    assert!(text.contains(&format!("{last:04}")) && text.contains("kam migrate"), "{text}");
    assert!(text.contains("repA"), "the user named: {text}");
}
