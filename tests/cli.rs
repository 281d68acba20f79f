//! The `kam` binary as an administrator uses it (SQLite; the same code runs on PostgreSQL).
use std::process::{Command, Stdio};

fn kam(db: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_kam")).args(args).env("KAM_DATABASE_URL", db).output().expect("run kam")
}

fn ok(o: &std::process::Output) -> String {
    assert!(o.status.success(), "kam failed: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn users_tokens_demo_and_backup() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}/kam.db", dir.path().display());
    ok(&kam(&db, &["migrate"]));
    ok(&kam(&db, &["org", "add", "HQ", "--name", "总部", "--kind", "hq"]));
    ok(&kam(&db, &["user", "add", "root", "--role", "admin", "--org", "HQ", "--password", "long-enough-1"]));
    // Password from standard input.
    let mut child = Command::new(env!("CARGO_BIN_EXE_kam"))
        .args(["user", "add", "lin", "--role", "ka_rep", "--org", "HQ", "--manager", "root", "--sales-type", "ae"])
        .env("KAM_DATABASE_URL", &db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    use std::io::Write;
    child.stdin.take().expect("stdin").write_all(b"from-stdin-pw\n").expect("write");
    ok(&child.wait_with_output().expect("wait"));
    assert_eq!(ok(&kam(&db, &["user", "list"])), "lin\tka_rep\tHQ\ttrue\nroot\tadmin\tHQ\ttrue\n");

    // Bad input: one line on stderr, non-zero exit, nothing written.
    let bad = kam(&db, &["user", "add", "x y", "--role", "ka_rep", "--org", "HQ", "--password", "long-enough-1"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("username"));
    let bad = kam(&db, &["user", "add", "zed", "--role", "wizard", "--org", "HQ", "--password", "long-enough-1"]);
    assert!(!bad.status.success());
    assert_eq!(ok(&kam(&db, &["user", "list"])).lines().count(), 2);

    let tok = ok(&kam(&db, &["token", "create", "lin"]));
    let line = tok.trim_end();
    assert!(line.starts_with("kam_") && !line.contains('\n') && line.len() > 40, "{tok:?}");
    assert!(!kam(&db, &["token", "create", "nobody"]).status.success());

    // Exports: every account by default, or what one user may see; formulas neutralised.
    let out = dir.path().join("contacts.xlsx");
    ok(&kam(&db, &["export", "contacts", out.to_str().expect("path")]));
    assert_eq!(&std::fs::read(&out).expect("xlsx")[..2], b"PK");
    assert!(!kam(&db, &["export", "accounts", "accounts.txt"]).status.success());

    // The demo refuses a database that holds data.
    assert!(!kam(&db, &["demo"]).status.success());

    let copy = dir.path().join("copy.db");
    ok(&kam(&db, &["backup", copy.to_str().expect("path")]));
    let copy_url = format!("sqlite://{}", copy.display());
    assert_eq!(ok(&kam(&copy_url, &["user", "list"])).lines().count(), 2, "the copy holds the users");
    assert!(!kam(&db, &["backup", copy.to_str().expect("path")]).status.success(), "never overwrites");
}

#[test]
fn demo_loads_an_empty_database() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}/kam.db", dir.path().display());
    let out = ok(&kam(&db, &["demo", "--password", "demo-pass-1"]));
    for u in ["admin", "director", "rep", "manager", "finance", "north.manager"] {
        assert!(out.lines().any(|l| l.trim_start().starts_with(&format!("{u} "))), "{u} listed: {out}");
    }
    let users = ok(&kam(&db, &["user", "list"]));
    assert!(users.lines().count() >= 13);
    let all = dir.path().join("all.csv");
    ok(&kam(&db, &["export", "accounts", all.to_str().expect("path")]));
    let all = std::fs::read_to_string(&all).expect("csv");
    assert!(all.contains("credit_grade") && all.lines().count() > 200, "everything, credit included");
    let mine = dir.path().join("rep.csv");
    ok(&kam(&db, &["export", "accounts", mine.to_str().expect("path"), "--as", "rep"]));
    let mine = std::fs::read_to_string(&mine).expect("csv");
    assert!(!mine.contains("credit_grade"), "a rep's export has no credit");
    assert!(mine.contains("北京华信精密制造有限公司") && mine.lines().count() < 60);

    // Import: a bad row is reported by row and column, the exit code says so, nothing is written.
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "名称,行业,统一社会信用代码\n新客户一有限公司,企业,\n新客户二有限公司,航运,123\n")
        .expect("write");
    let out = kam(&db, &["import", "accounts", bad.to_str().expect("path")]);
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("row 3\tindustry\t航运") && text.contains("row 3\tcredit_code\t123"), "{text}");
    let good = dir.path().join("good.csv");
    std::fs::write(&good, "名称,行业\n新客户一有限公司,企业\n").expect("write");
    assert!(
        ok(&kam(&db, &["import", "accounts", good.to_str().expect("path"), "--dry-run"])).contains("would be created")
    );
    assert!(ok(&kam(&db, &["import", "accounts", good.to_str().expect("path")])).contains("1 created"));

    // Contacts, with a column KAM does not know mapped on the command line; the reason of a
    // refused row is printed in the language of KAM_LANG.
    let people = dir.path().join("people.csv");
    std::fs::write(
        &people,
        "客户名称,姓名,职务,直接上级,态度,微信号\n新客户一有限公司,周处长,处长,,支持,zhou\n\
         新客户一有限公司,吴科长,科长,周处长,中立,wu\n新客户一有限公司,郑工,工程师,钱主任,,zheng\n",
    )
    .expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_kam"))
        .args(["import", "contacts", people.to_str().expect("path"), "--map", "微信号:"])
        .env("KAM_DATABASE_URL", &db)
        .env("KAM_LANG", "zh-CN")
        .output()
        .expect("run kam");
    assert!(!out.status.success(), "a manager nobody listed is a refused row");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("row 4\treports_to\t钱主任\tunknown_contact\t应为同一客户的联系人"), "{text}");
    assert!(!text.contains("微信号"), "the mapped column is not reported: {text}");
    std::fs::write(
        &people,
        "客户名称,姓名,职务,直接上级,态度,微信号\n新客户一有限公司,周处长,处长,,支持,zhou\n\
         新客户一有限公司,吴科长,科长,周处长,中立,wu\n",
    )
    .expect("write");
    let out = ok(&kam(&db, &["import", "contacts", people.to_str().expect("path"), "--map", "微信号:"]));
    assert!(out.contains("2 created"), "{out}");
    let refused = kam(&db, &["import", "contacts", people.to_str().expect("path"), "--map", "微信号:nonsense"]);
    assert!(!refused.status.success() && String::from_utf8_lossy(&refused.stderr).contains("not a field"));

    // A leaving rep: deactivation waits for a successor; the hand-over moves the book.
    let refused = kam(&db, &["user", "deactivate", "rep"]);
    assert!(!refused.status.success() && String::from_utf8_lossy(&refused.stderr).contains("successor"));
    let moved = ok(&kam(&db, &["user", "handover", "rep", "rep2"]));
    assert!(moved.contains("rep → rep2") && moved.contains("open work:"), "{moved}");
    ok(&kam(&db, &["user", "deactivate", "rep"]));
    let theirs = dir.path().join("rep2.csv");
    ok(&kam(&db, &["export", "accounts", theirs.to_str().expect("path"), "--as", "rep2"]));
    assert!(std::fs::read_to_string(&theirs).expect("csv").contains("北京华信精密制造有限公司"));
}

/// `kam doctor` through the binary: exit 0 on a sound installation, exit 1 naming the broken
/// setting with its fix; and `KAM_LOG_FORMAT=json` makes the server's logs one JSON object a line.
#[test]
fn doctor_names_what_to_fix_and_the_logs_can_be_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}/kam.db", dir.path().display());
    ok(&kam(&db, &["migrate"]));
    let data = dir.path().join("data");
    let run = |smtp: Option<&str>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_kam"));
        c.args(["doctor", "--listen", "127.0.0.1:0", "--data-dir", data.to_str().expect("path")])
            .env("KAM_DATABASE_URL", &db)
            .env_remove("KAM_SMTP_URL")
            .env_remove("KAM_BASE_URL");
        if let Some(s) = smtp {
            c.env("KAM_SMTP_URL", s);
        }
        c.output().expect("run kam doctor")
    };
    let good = run(None);
    let text = ok(&good);
    assert!(text.contains("ok    KAM_DATABASE_URL") && text.contains("All settings checked are fine."), "{text}");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let bad = run(Some(&format!("smtp://127.0.0.1:{closed}")));
    assert_eq!(bad.status.code(), Some(1));
    let text = String::from_utf8_lossy(&bad.stdout);
    assert!(text.contains("FAIL  KAM_SMTP_URL") && text.contains("fix: "), "{text}");
    assert!(String::from_utf8_lossy(&bad.stderr).contains("1 setting(s) to fix"));

    // The server's start-up, logged as JSON.
    let mut child = Command::new(env!("CARGO_BIN_EXE_kam"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir", data.to_str().expect("path"), "--scheduler-secs", "0"])
        .env("KAM_DATABASE_URL", &db)
        .env("KAM_LOG_FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn kam serve");
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(child.stderr.take().expect("stderr")));
    // Every line is a JSON object; the start-up's is among the first.
    let mut found = None;
    for line in lines.by_ref().take(20) {
        let line = line.expect("a log line");
        let v: serde_json::Value = serde_json::from_str(line.trim()).unwrap_or_else(|e| panic!("{e}: {line:?}"));
        if v["fields"]["message"] == "serving" {
            found = Some(v);
            break;
        }
    }
    child.kill().ok();
    child.wait().ok();
    let v = found.expect("the start-up logged");
    assert_eq!(v["level"], "INFO", "{v}");
    assert_eq!(v["fields"]["message"], "serving", "{v}");
    assert!(v["fields"]["addr"].as_str().is_some_and(|a| a.starts_with("127.0.0.1:")), "{v}");
}

#[test]
fn a_configuration_file_gives_what_the_environment_does_not_and_doctor_names_five_broken_settings() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}/kam.db", dir.path().display());
    ok(&kam(&db, &["migrate"]));
    let afile = dir.path().join("afile");
    std::fs::write(&afile, b"not a directory").expect("write");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let config = dir.path().join("kam.toml");
    std::fs::write(
        &config,
        format!(
            "# five settings, each broken\ndatabase_url = \"{db}\"\nlisten = \"not-an-address\"\n\
             data_dir = \"{}\"\nbase_url = \"ftp://kam.example.com\"\nmail_from = \"nobody\"\n\
             smtp_url = \"smtp://127.0.0.1:{closed}\"\nstorage = \"database\"\n",
            afile.join("data").display()
        ),
    )
    .expect("write the file");
    let doctor = |extra_env: &[(&str, &str)]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_kam"));
        c.args(["--config", config.to_str().expect("path"), "doctor"]);
        for v in [
            "KAM_DATABASE_URL",
            "KAM_LISTEN",
            "KAM_DATA_DIR",
            "KAM_BASE_URL",
            "KAM_MAIL_FROM",
            "KAM_SMTP_URL",
            "KAM_STORAGE",
        ] {
            c.env_remove(v);
        }
        for (k, v) in extra_env {
            c.env(k, v);
        }
        c.output().expect("run kam doctor")
    };
    let out = doctor(&[]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{text}");
    for s in ["KAM_LISTEN", "KAM_DATA_DIR", "KAM_BASE_URL", "KAM_MAIL_FROM", "KAM_SMTP_URL"] {
        assert!(text.contains(&format!("FAIL  {s}")), "{s} named broken:\n{text}");
    }
    assert!(text.contains("ok    KAM_DATABASE_URL"), "the file's database is used: {text}");
    assert!(text.contains("KAM_STORAGE: database"), "the file's storage is used: {text}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("5 setting(s) to fix"));
    // The environment wins over the file.
    let out = doctor(&[("KAM_LISTEN", "127.0.0.1:0"), ("KAM_MAIL_FROM", "KAM <kam@example.com>")]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(!text.contains("FAIL  KAM_LISTEN") && !text.contains("FAIL  KAM_MAIL_FROM"), "{text}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("3 setting(s) to fix"));

    // A misspelt setting stops every command and is named, with the known ones.
    std::fs::write(&config, "lisen = \"127.0.0.1:8080\"\n").expect("write");
    let out = doctor(&[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("lisen") && err.contains("listen"), "{err}");
    // The example file has every setting; `config check` reads a good file.
    let example = ok(&kam(&db, &["config", "example"]));
    assert!(example.contains("# database_url = ") && example.contains("# storage = \"directory\""), "{example}");
    std::fs::write(&config, "listen = \"127.0.0.1:9000\"\nscheduler_secs = 5\n").expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_kam"))
        .args(["config", "check"])
        .env("KAM_CONFIG", &config)
        .output()
        .expect("run kam config check");
    assert!(ok(&out).contains("valid"));
}

/// The shipped systemd unit passes `systemd-analyze verify` (its binary pointed at this build).
/// Where systemd-analyze is missing the test says so and passes, unless
/// KAM_REQUIRE_DEPLOY_TOOLS is set (CI sets it).
#[test]
fn the_systemd_unit_passes_systemd_analyze_verify_and_is_sandboxed() {
    let unit = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/kam.service")).expect("the unit");
    for line in [
        "User=kam",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/kam",
        "StateDirectory=kam",
        "KillSignal=SIGTERM",
        "CapabilityBoundingSet=",
    ] {
        assert!(unit.lines().any(|l| l.trim() == line), "the unit has {line}");
    }
    let Ok(which) = Command::new("systemd-analyze").arg("--version").output() else {
        assert!(std::env::var_os("KAM_REQUIRE_DEPLOY_TOOLS").is_none(), "systemd-analyze is required here");
        eprintln!("systemd-analyze is not installed: the unit was not verified");
        return;
    };
    assert!(which.status.success());
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("kam.service");
    std::fs::write(&path, unit.replace("/usr/local/bin/kam", env!("CARGO_BIN_EXE_kam"))).expect("write");
    let out = Command::new("systemd-analyze").args(["verify", "--man=no"]).arg(&path).output().expect("verify");
    let err = String::from_utf8_lossy(&out.stderr);
    let about_unit: Vec<&str> = err.lines().filter(|l| l.contains("kam.service")).collect();
    assert!(out.status.success() && about_unit.is_empty(), "systemd-analyze verify: {err}");
}

/// The shipped configuration file is the example the binary prints: every setting, documented.
#[test]
fn the_shipped_configuration_file_lists_every_setting() {
    let shipped = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/kam.toml")).expect("file");
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}/kam.db", dir.path().display());
    assert_eq!(shipped, ok(&kam(&db, &["config", "example"])), "deploy/kam.toml is `kam config example`");
    let recipe = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/Containerfile")).expect("recipe");
    assert_eq!(recipe.lines().filter(|l| l.starts_with("FROM ")).count(), 2, "a multi-stage build");
    assert!(recipe.lines().any(|l| l.starts_with("USER ") && !l.contains("root")), "runs unprivileged");
    assert!(recipe.contains("HEALTHCHECK") && recipe.contains("/healthz"));
}

/// SIGTERM: the server stops accepting, finishes and exits 0, saying so in its log.
#[test]
fn the_server_stops_gracefully_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}/kam.db", dir.path().display());
    ok(&kam(&db, &["migrate"]));
    let mut child = Command::new(env!("CARGO_BIN_EXE_kam"))
        .args(["serve", "--listen", "127.0.0.1:0", "--scheduler-secs", "1"])
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .env("KAM_DATABASE_URL", &db)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn kam serve");
    let mut out = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    while !line.contains("serving on") {
        line.clear();
        assert!(std::io::BufRead::read_line(&mut out, &mut line).expect("read") > 0, "the server started");
    }
    let addr = line.trim().rsplit("http://").next().expect("address").to_string();
    // A request answered while running.
    let mut s = std::net::TcpStream::connect(&addr).expect("connect");
    std::io::Write::write_all(&mut s, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").expect("send");
    let mut answer = String::new();
    std::io::Read::read_to_string(&mut s, &mut answer).expect("answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(killed.success());
    let status = child.wait().expect("wait");
    let mut log = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut log).expect("log");
    assert!(status.success(), "exit 0 after SIGTERM: {status:?}\n{log}");
    assert!(log.contains("shutting down") && log.contains("SIGTERM") && log.contains("stopped"), "{log}");
    assert!(std::net::TcpStream::connect(&addr).is_err(), "no longer listening");
}

/// `kam restore`: a backup (with the uploaded files kept beside it) comes back into a new
/// database and says what it holds; a database with data is replaced only with --force; a file
/// that is not a KAM backup changes nothing.
#[test]
fn restore_checks_the_file_puts_it_back_and_says_what_it_holds() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}/kam.db", dir.path().display());
    ok(&kam(&db, &["migrate"]));
    ok(&kam(&db, &["org", "add", "HQ", "--name", "总部", "--kind", "hq"]));
    ok(&kam(&db, &["user", "add", "root", "--role", "admin", "--org", "HQ", "--password", "long-enough-1"]));
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("documents")).expect("dir");
    std::fs::write(data.join("documents").join("abc"), b"a document").expect("file");
    let backup = dir.path().join("b.db");
    let said = ok(&kam(&db, &["backup", backup.to_str().expect("path"), "--data-dir", data.to_str().expect("path")]));
    assert!(said.contains("1 uploaded file(s)"), "{said}");

    let target = format!("sqlite://{}/restored/kam.db", dir.path().display());
    let data2 = dir.path().join("data2");
    let said =
        ok(&kam(&target, &["restore", backup.to_str().expect("path"), "--data-dir", data2.to_str().expect("path")]));
    assert!(said.contains("users 1") && said.contains("org_units 1") && said.contains("1 uploaded file(s)"), "{said}");
    assert_eq!(std::fs::read(data2.join("documents").join("abc")).expect("restored file"), b"a document");
    assert_eq!(ok(&kam(&target, &["user", "list"])), "root\tadmin\tHQ\ttrue\n");

    // Over a database holding data: only with --force.
    ok(&kam(&db, &["user", "add", "later", "--role", "admin", "--org", "HQ", "--password", "long-enough-1"]));
    let refused = kam(&db, &["restore", backup.to_str().expect("path")]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--force"));
    assert_eq!(ok(&kam(&db, &["user", "list"])).lines().count(), 2, "nothing changed");
    ok(&kam(&db, &["restore", backup.to_str().expect("path"), "--force"]));
    assert_eq!(ok(&kam(&db, &["user", "list"])).lines().count(), 1, "back to the backup's users");

    // Not a backup: refused, nothing changed.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"not a database at all").expect("junk");
    let refused = kam(&db, &["restore", junk.to_str().expect("path"), "--force"]);
    assert!(!refused.status.success());
    assert_eq!(ok(&kam(&db, &["user", "list"])).lines().count(), 1);
}
