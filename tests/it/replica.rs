//! Read replicas (issue 26 item 4) with a real streaming replica: the test makes a PostgreSQL
//! primary of its own (`initdb`) and a standby of it (`pg_basebackup -R`), both run as the
//! `postgres` user on free ports and removed afterwards. Reports and lists read from the
//! replica; a user sees their own write at once; a replica behind its bound or stopped is left
//! out and reads go to the primary.
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use kam::app::Settings;
use kam::db::Db;
use serde_json::json;

use crate::common::*;

struct Clusters {
    bin: PathBuf,
    dir: tempfile::TempDir,
    primary: u16,
    replica: u16,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port()
}

/// A PostgreSQL tool run as `postgres` (the servers refuse to run as root).
fn pg(bin: &Path, tool: &str, args: &[&str]) {
    let exe = bin.join(tool);
    let is_root =
        std::fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0).unwrap_or(false);
    let out = if is_root {
        Command::new("runuser").arg("-u").arg("postgres").arg("--").arg(&exe).args(args).output()
    } else {
        Command::new(&exe).args(args).output()
    }
    .unwrap_or_else(|e| panic!("{tool}: {e}"));
    assert!(
        out.status.success(),
        "{tool} {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Clusters {
    fn start() -> Clusters {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL's server tools under /usr/lib/postgresql")
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|b| b.join("pg_basebackup").exists())
            .max()
            .expect("initdb and pg_basebackup");
        let dir = tempfile::Builder::new().prefix("kam-replica-").tempdir_in("/tmp").expect("tempdir");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).expect("chmod");
        let (primary, replica) = (free_port(), free_port());
        let d = dir.path().display().to_string();
        let pdir = format!("{d}/primary");
        let rdir = format!("{d}/replica");
        pg(&bin, "initdb", &["-D", &pdir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C"]);
        let conf = format!(
            "\nport = {primary}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{d}'\nfsync = off\n\
             wal_level = replica\nmax_wal_senders = 4\nhot_standby = on\nmax_connections = 60\n"
        );
        append(&format!("{pdir}/postgresql.conf"), &conf);
        pg(&bin, "pg_ctl", &["-D", &pdir, "-l", &format!("{d}/primary.log"), "-w", "start"]);
        let c = Clusters { bin, dir, primary, replica };
        pg(
            &c.bin,
            "pg_basebackup",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &primary.to_string(),
                "-U",
                "postgres",
                "-D",
                &rdir,
                "-R",
                "-X",
                "stream",
                "-c",
                "fast",
            ],
        );
        append(&format!("{rdir}/postgresql.conf"), &format!("\nport = {replica}\n"));
        pg(&c.bin, "pg_ctl", &["-D", &rdir, "-l", &format!("{d}/replica.log"), "-w", "start"]);
        c
    }

    fn url(&self, port: u16, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{port}/{db}")
    }

    fn stop_replica(&self) {
        let rdir = format!("{}/replica", self.dir.path().display());
        pg(&self.bin, "pg_ctl", &["-D", &rdir, "-m", "fast", "-w", "stop"]);
    }
}

impl Drop for Clusters {
    fn drop(&mut self) {
        for which in ["replica", "primary"] {
            let d = format!("{}/{which}", self.dir.path().display());
            if Path::new(&format!("{d}/postmaster.pid")).exists() {
                let _ =
                    std::panic::catch_unwind(|| pg(&self.bin, "pg_ctl", &["-D", &d, "-m", "immediate", "-w", "stop"]));
            }
        }
    }
}

fn append(file: &str, text: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open(file).expect("postgresql.conf");
    f.write_all(text.as_bytes()).expect("write conf");
}

async fn wait_for(what: &str, bound: Duration, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < bound, "{what}: not within {bound:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn names(t: &TestApp, who: &Auth) -> Vec<String> {
    let r = t.get("/api/v1/accounts?limit=100", who).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()["items"].as_array().expect("items").iter().map(|a| a["name"].as_str().unwrap_or("").to_string()).collect()
}

async fn sql(url: &str, statement: &str) {
    let db = Db::connect(url).await.expect("connect");
    sqlx::query(statement).execute(&db.pool).await.unwrap_or_else(|e| panic!("{statement}: {e}"));
    db.pool.close().await;
}

#[tokio::test]
async fn reports_read_from_a_live_replica_and_a_user_sees_their_own_write_at_once() {
    if !std::env::var("KAM_TEST_DATABASE_URL").is_ok_and(|u| u.starts_with("postgres")) {
        eprintln!("read replicas are PostgreSQL's: this test runs in the PostgreSQL suite");
        return;
    }
    let c = Clusters::start();
    sql(&c.url(c.primary, "postgres"), "CREATE DATABASE kam").await;
    let primary_url = c.url(c.primary, "kam");
    let replica_url = c.url(c.replica, "kam");
    let mut db = Db::connect(&primary_url).await.expect("primary");
    db.migrate().await.expect("migrate");
    // A generous bound first: the replica paused below still serves reads.
    db.attach_replica(&replica_url, Duration::from_secs(60)).await.expect("replica");
    let t = TestApp::with_db(db, primary_url.clone(), Settings::default());
    let w = seed(&t).await;
    let director = Auth::Bearer(w.tokens["director"].clone());
    let rep = Auth::Bearer(w.tokens["repA"].clone());
    let replica = || t.app.db.replica().expect("attached");
    wait_for("the replica catches up", Duration::from_secs(20), || replica().lag() == Some(Duration::ZERO)).await;
    let before = names(&t, &director).await;
    assert!(before.len() >= 2, "{before:?}");

    // Replay paused on the replica; a change written straight to the primary (not through KAM,
    // so nobody's own write) is on the primary only.
    sql(&replica_url, "SELECT pg_wal_replay_pause()").await;
    sql(&primary_url, &format!("UPDATE accounts SET name = '直接改名有限公司' WHERE id = {}", w.account_c)).await;
    let served = replica().served().0;
    // The director's list and reports come from the replica: the change is not there yet.
    let seen = names(&t, &director).await;
    assert!(!seen.iter().any(|n| n == "直接改名有限公司"), "read from the replica: {seen:?}");
    assert_eq!(seen, before, "the replica's rows");
    for report in ["/api/v1/reports/funnel", "/api/v1/reports/rad", "/api/v1/reports/coverage", "/api/v1/reports/aging"]
    {
        let r = t.get(report, &director).await;
        assert_eq!(r.status, StatusCode::OK, "{report}: {}", r.body);
    }
    assert!(replica().served().0 > served, "reads were served by the replica");

    // The rep renames their account through KAM: their next read shows it at once (their reads
    // stay on the primary after their own write), though the replica is still paused.
    let a = t.get(&format!("/api/v1/accounts/{}", w.account_x), &rep).await.json();
    let r = t
        .call(
            Method::PATCH,
            &format!("/api/v1/accounts/{}", w.account_x),
            &rep,
            Some(json!({"name": "北京自己改的名字有限公司", "version": a["version"]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let mine = names(&t, &rep).await;
    assert!(mine.iter().any(|n| n == "北京自己改的名字有限公司"), "their own write, at once: {mine:?}");
    // Another server on the same databases knows it too (the mark is in the database).
    let second = {
        let mut db = Db::connect(&primary_url).await.expect("second server");
        db.attach_replica(&replica_url, Duration::from_secs(60)).await.expect("replica");
        TestApp::with_db(db, primary_url.clone(), Settings::default())
    };
    wait_for("the second server's monitor", Duration::from_secs(10), || {
        second.app.db.replica().is_some_and(|r| r.usable())
    })
    .await;
    let mine = names(&second, &rep).await;
    assert!(mine.iter().any(|n| n == "北京自己改的名字有限公司"), "on the second server too: {mine:?}");
    // The director (no write of theirs) still reads the paused replica.
    let seen = names(&t, &director).await;
    assert!(!seen.iter().any(|n| n == "北京自己改的名字有限公司" || n == "直接改名有限公司"), "{seen:?}");

    // A server whose bound is 1 s leaves the paused replica out once it is that far behind:
    // the director's reads go to the primary and show both changes.
    let strict = {
        let mut db = Db::connect(&primary_url).await.expect("strict server");
        db.attach_replica(&replica_url, Duration::from_secs(1)).await.expect("replica");
        TestApp::with_db(db, primary_url.clone(), Settings::default())
    };
    sql(&primary_url, "UPDATE settings SET updated_at = updated_at WHERE key = 'role_titles'").await;
    wait_for("the lag passes the bound", Duration::from_secs(10), || {
        strict.app.db.replica().is_some_and(|r| !r.usable() && r.lag().is_some_and(|l| l > Duration::from_secs(1)))
    })
    .await;
    let seen = names(&strict, &director).await;
    assert!(seen.iter().any(|n| n == "直接改名有限公司"), "fell back to the primary: {seen:?}");
    let metrics = strict.get("/metrics", &Auth::None).await.body;
    assert!(metrics.contains("kam_read_replica_in_use 0"), "{metrics}");

    // Replay resumes: the strict server uses the replica again, which now has both changes.
    sql(&replica_url, "SELECT pg_wal_replay_resume()").await;
    wait_for("the replica is back within its bound", Duration::from_secs(20), || {
        strict.app.db.replica().is_some_and(|r| r.usable())
    })
    .await;
    let served = strict.app.db.replica().expect("replica").served().0;
    let seen = names(&strict, &director).await;
    assert!(seen.iter().any(|n| n == "直接改名有限公司") && seen.iter().any(|n| n == "北京自己改的名字有限公司"));
    assert!(strict.app.db.replica().expect("replica").served().0 > served, "served by the replica again");

    // The replica stops: reads go to the primary and keep answering.
    c.stop_replica();
    wait_for("the stopped replica is left out", Duration::from_secs(10), || !replica().usable()).await;
    let seen = names(&t, &director).await;
    assert!(seen.iter().any(|n| n == "直接改名有限公司"), "{seen:?}");
    for report in ["/api/v1/reports/funnel", "/api/v1/reports/rad"] {
        assert_eq!(t.get(report, &director).await.status, StatusCode::OK, "{report} without the replica");
    }
    // Writes never went to the replica: it is a standby, and they all succeeded above.
}
