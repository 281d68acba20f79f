//! `kam doctor` (issue 26 item 7): checks an installation's configuration as `kam serve` reads
//! it and says, for each setting, that it is fine or what is wrong and how to fix it — the
//! database (reachable, its migrations applied, none newer than this binary), the data
//! directory (a directory this user can write), the listen address, the base URL, the mail
//! sender, SMTP (the server answers) and the webhooks users set (their hosts answer). It never
//! changes anything: the SQLite file is opened only if it exists, no migration is run, the
//! probe file in the data directory is removed at once.
use std::path::Path;
use std::time::Duration;

use crate::cli::ServerConfig;
use crate::db::{redact, Db};

/// How long a network check waits.
const WAIT: Duration = Duration::from_secs(5);

/// One setting's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Ok(String),
    /// Works, but worth knowing (nothing to fix now).
    Note(String),
    /// Broken: what is wrong, then what to do.
    Broken {
        wrong: String,
        fix: String,
    },
}

/// A checked setting: its name as the environment variable, and the verdict.
#[derive(Debug, Clone)]
pub struct Check {
    pub setting: &'static str,
    pub verdict: Verdict,
}

/// Every check, in order.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub checks: Vec<Check>,
}

impl Report {
    fn add(&mut self, setting: &'static str, verdict: Verdict) {
        self.checks.push(Check { setting, verdict });
    }
    /// How many settings are broken.
    pub fn broken(&self) -> usize {
        self.checks.iter().filter(|c| matches!(c.verdict, Verdict::Broken { .. })).count()
    }
    /// The settings that are broken.
    pub fn broken_settings(&self) -> Vec<&'static str> {
        self.checks.iter().filter(|c| matches!(c.verdict, Verdict::Broken { .. })).map(|c| c.setting).collect()
    }
    /// A line per check: `ok`, `note` or `FAIL`, the setting, what was found (and the fix).
    pub fn text(&self) -> String {
        let mut out = String::new();
        for c in &self.checks {
            match &c.verdict {
                Verdict::Ok(m) => out.push_str(&format!("ok    {}: {m}\n", c.setting)),
                Verdict::Note(m) => out.push_str(&format!("note  {}: {m}\n", c.setting)),
                Verdict::Broken { wrong, fix } => {
                    out.push_str(&format!("FAIL  {}: {wrong}\n      fix: {fix}\n", c.setting))
                }
            }
        }
        let n = self.broken();
        out.push_str(&if n == 0 {
            "All settings checked are fine.\n".to_string()
        } else {
            format!("{n} setting(s) to fix.\n")
        });
        out
    }
}

fn broken(wrong: impl Into<String>, fix: impl Into<String>) -> Verdict {
    Verdict::Broken { wrong: wrong.into(), fix: fix.into() }
}

/// Checks everything `kam serve` would read: `url` (KAM_DATABASE_URL) and `cfg`.
pub async fn check(url: &str, cfg: &ServerConfig) -> Report {
    let mut r = Report::default();
    let db = database(url, &mut r).await;
    data_dir(&cfg.data_dir, &mut r);
    listen(&cfg.listen, &mut r).await;
    base_url(cfg.base_url.as_deref(), &mut r);
    mail(cfg, &mut r).await;
    storage(url, cfg, db.as_ref(), &mut r).await;
    directory(cfg, &mut r).await;
    read_replica(url, cfg, &mut r).await;
    if let Some(db) = db {
        webhooks(&db, &mut r).await;
    }
    r
}

/// The read replica: PostgreSQL, reachable, in recovery (a standby), and how far behind.
async fn read_replica(url: &str, cfg: &ServerConfig, r: &mut Report) {
    const S: &str = "KAM_DATABASE_READ_URL";
    let Some(read) = cfg.database_read_url.as_deref().map(str::trim).filter(|u| !u.is_empty()) else { return };
    if !url.starts_with("postgres") {
        r.add(
            S,
            broken("a read replica needs PostgreSQL, and KAM_DATABASE_URL is SQLite", "remove KAM_DATABASE_READ_URL"),
        );
        return;
    }
    let check = async {
        let db = Db::connect(read).await?;
        let row = sqlx::query(
            "SELECT CASE WHEN pg_is_in_recovery() THEN 1 ELSE 0 END AS standby, \
             COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0)::bigint AS behind",
        )
        .fetch_one(&db.pool)
        .await?;
        let standby: i64 = sqlx::Row::try_get(&row, "standby")?;
        let behind: i64 = sqlx::Row::try_get(&row, "behind")?;
        db.pool.close().await;
        Ok::<_, anyhow::Error>((standby == 1, behind))
    };
    match tokio::time::timeout(std::time::Duration::from_secs(8), check).await {
        Ok(Ok((true, behind))) => r.add(
            S,
            Verdict::Ok(format!(
                "{} answers as a standby (last replayed transaction {behind} s ago; bound {} s)",
                crate::db::redact(read),
                cfg.read_max_lag_secs
            )),
        ),
        Ok(Ok((false, _))) => r.add(
            S,
            Verdict::Note(format!("{} is not a standby: reads will go to a second primary", crate::db::redact(read))),
        ),
        Ok(Err(e)) => r.add(
            S,
            broken(format!("{}: {e:#}", crate::db::redact(read)), "check the replica's address and that it runs"),
        ),
        Err(_) => r.add(
            S,
            broken(
                format!("{}: no answer within 8 s", crate::db::redact(read)),
                "check the replica's address and that it runs",
            ),
        ),
    }
}

/// Directory sign-in: the settings hang together, the service account binds and the base DN
/// answers.
async fn directory(cfg: &ServerConfig, r: &mut Report) {
    match cfg.directory.config() {
        Ok(None) => r.add("KAM_LDAP_URL", Verdict::Note("not set: users sign in with KAM's own passwords".into())),
        Err(e) => r.add(
            "KAM_LDAP_URL",
            broken(e.to_string(), "set the directory's settings as `kam config example` describes them"),
        ),
        Ok(Some(c)) => {
            let p = crate::app::people::ldap::probe(&c).await;
            if p.reachable {
                r.add("KAM_LDAP_URL", Verdict::Ok(format!("{} answers; the service account binds", c.url)));
            } else {
                r.add(
                    "KAM_LDAP_URL",
                    broken(
                        format!("{}: {}", c.url, p.error.unwrap_or_default()),
                        "check the address, KAM_LDAP_BIND_DN, KAM_LDAP_BIND_PASSWORD and KAM_LDAP_BASE_DN",
                    ),
                );
            }
        }
    }
}

/// Where uploaded files are kept: in the database, its table reachable; in the directory, a
/// note when the database is PostgreSQL (other servers on it would not see this one's files).
async fn storage(url: &str, cfg: &ServerConfig, db: Option<&Db>, r: &mut Report) {
    const S: &str = "KAM_STORAGE";
    use crate::app::records::files::Backing;
    let pg = url.starts_with("postgres");
    match cfg.backing() {
        Backing::Directory if pg => r.add(
            S,
            Verdict::Note(
                "directory: several servers on this PostgreSQL database would not see each other's uploads \
                 (set KAM_STORAGE=database and run `kam storage move --to database`)"
                    .into(),
            ),
        ),
        Backing::Directory => r.add(S, Verdict::Ok("directory: uploads under KAM_DATA_DIR".into())),
        Backing::Database => {
            let Some(db) = db else { return };
            r.add(
                S,
                match sqlx::query("SELECT COUNT(*) AS n FROM stored_files").fetch_one(&db.pool).await {
                    Ok(row) => Verdict::Ok(format!(
                        "database: {} file(s) kept in the database",
                        sqlx::Row::try_get::<i64, _>(&row, "n").unwrap_or(0)
                    )),
                    Err(e) => broken(format!("database: cannot read stored_files ({e})"), "run `kam migrate`"),
                },
            );
        }
    }
}

/// Reachable, migrations applied and none unknown; answers the database for the later checks.
async fn database(url: &str, r: &mut Report) -> Option<Db> {
    const S: &str = "KAM_DATABASE_URL";
    let shown = redact(url);
    if let Some(rest) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
        let path = rest.split('?').next().unwrap_or(rest);
        if path != ":memory:" && !Path::new(path).exists() {
            r.add(
                S,
                broken(
                    format!("{shown}: the file {path} does not exist"),
                    "correct the path, or create the database with `kam migrate` (or `kam serve --demo`)",
                ),
            );
            return None;
        }
    }
    let db = match tokio::time::timeout(WAIT * 2, Db::connect(url)).await {
        Ok(Ok(db)) => db,
        Ok(Err(e)) => {
            r.add(
                S,
                broken(
                    format!("{shown}: cannot connect ({e:#})"),
                    "use sqlite://PATH or postgres://USER@HOST:PORT/DB, and check that the server runs and the user may log in",
                ),
            );
            return None;
        }
        Err(_) => {
            r.add(
                S,
                broken(
                    format!("{shown}: no answer within {} s", (WAIT * 2).as_secs()),
                    "check the host, the port and the firewall",
                ),
            );
            return None;
        }
    };
    let sql = "SELECT CAST(version AS BIGINT) AS version, CAST(success AS INTEGER) AS ok FROM _sqlx_migrations";
    let applied: Vec<(i64, bool)> = match sqlx::query(sql).fetch_all(&db.pool).await {
        Ok(rows) => rows
            .iter()
            .map(|x| {
                let v: i64 = sqlx::Row::try_get(x, "version")?;
                let ok: i64 =
                    sqlx::Row::try_get::<i32, _>(x, "ok").map(i64::from).or_else(|_| sqlx::Row::try_get(x, "ok"))?;
                Ok((v, ok != 0))
            })
            .collect::<Result<_, sqlx::Error>>()
            .unwrap_or_else(|e| {
                tracing::warn!("reading the applied migrations: {e}");
                vec![]
            }),
        // No table of migrations: none applied (a database KAM never migrated).
        Err(_) => vec![],
    };
    let known = db.known_migrations();
    let pending: Vec<i64> = known.iter().map(|k| k.0).filter(|v| !applied.iter().any(|a| a.0 == *v)).collect();
    let unknown: Vec<i64> = applied.iter().map(|a| a.0).filter(|v| !known.iter().any(|k| k.0 == *v)).collect();
    let failed: Vec<i64> = applied.iter().filter(|a| !a.1).map(|a| a.0).collect();
    let list = |v: &[i64]| v.iter().map(|x| format!("{x:04}")).collect::<Vec<_>>().join(", ");
    r.add(
        S,
        if !failed.is_empty() {
            broken(
                format!("{shown}: migration {} failed half-way", list(&failed)),
                "restore the backup taken before the upgrade, then run `kam migrate` again",
            )
        } else if !unknown.is_empty() {
            broken(
                format!("{shown}: the database has migrations this binary does not know ({})", list(&unknown)),
                "run the KAM version that wrote them (this binary is older than the database)",
            )
        } else if !pending.is_empty() {
            broken(
                format!("{shown}: {} migration(s) not yet applied ({})", pending.len(), list(&pending)),
                "take a backup (`kam backup FILE`), then run `kam migrate` (or start `kam serve`, which migrates)",
            )
        } else {
            Verdict::Ok(format!("{shown}: reachable, all {} migrations applied", known.len()))
        },
    );
    Some(db)
}

/// A directory this user can write (or, absent, one it can create).
fn data_dir(dir: &Path, r: &mut Report) {
    const S: &str = "KAM_DATA_DIR";
    let shown = dir.display();
    if !dir.exists() {
        let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let writable = parent.is_dir() && probe(parent).is_ok();
        r.add(
            S,
            if writable {
                Verdict::Note(format!("{shown} does not exist yet; `kam serve` creates it"))
            } else {
                broken(
                    format!("{shown} does not exist and {} is not a directory this user can write", parent.display()),
                    format!("create {shown} and give this service's user write access to it"),
                )
            },
        );
        return;
    }
    if !dir.is_dir() {
        r.add(S, broken(format!("{shown} is not a directory"), "point KAM_DATA_DIR at a directory"));
        return;
    }
    r.add(
        S,
        match probe(dir) {
            Ok(()) => Verdict::Ok(format!("{shown}: a directory this user can write")),
            Err(e) => broken(
                format!("{shown}: cannot write a file in it ({e})"),
                format!("give this service's user write access (e.g. `chown -R kam: {shown}`)"),
            ),
        },
    );
}

/// Writes and removes a probe file in `dir`.
fn probe(dir: &Path) -> std::io::Result<()> {
    let p = dir.join(format!(".kam-doctor-{}", std::process::id()));
    std::fs::write(&p, b"kam doctor")?;
    std::fs::remove_file(&p)
}

/// An address to listen on; in use is a note (the server may be running).
async fn listen(addr: &str, r: &mut Report) {
    const S: &str = "KAM_LISTEN";
    let parsed: Result<std::net::SocketAddr, _> = addr.parse();
    let Ok(sock) = parsed else {
        r.add(S, broken(format!("{addr:?} is not an address and port"), "write it as 127.0.0.1:8080 or 0.0.0.0:8080"));
        return;
    };
    r.add(
        S,
        match tokio::net::TcpListener::bind(sock).await {
            Ok(_) => Verdict::Ok(format!("{addr}: free to listen on")),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
                Verdict::Note(format!("{addr} is in use (is `kam serve` already running?)"))
            }
            Err(e) => broken(
                format!("{addr}: cannot listen ({e})"),
                "use an address of this machine and a port this user may open (above 1023 unless allowed)",
            ),
        },
    );
}

/// The address users reach KAM at (for links in notifications).
fn base_url(url: Option<&str>, r: &mut Report) {
    const S: &str = "KAM_BASE_URL";
    let Some(url) = url else {
        r.add(S, Verdict::Note("not set: links in notifications use the listen address".into()));
        return;
    };
    r.add(
        S,
        match reqwest::Url::parse(url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Verdict::Ok(url.to_string()),
            _ => broken(
                format!("{url:?} is not an http(s) address"),
                "write the address users type, e.g. https://kam.example.com",
            ),
        },
    );
}

/// The sender, and the SMTP server when one is set (it must answer).
async fn mail(cfg: &ServerConfig, r: &mut Report) {
    r.add(
        "KAM_MAIL_FROM",
        match cfg.mail_from.parse::<lettre::message::Mailbox>() {
            Ok(_) => Verdict::Ok(cfg.mail_from.clone()),
            Err(e) => {
                broken(format!("{:?} is not a mail address ({e})", cfg.mail_from), "write it as KAM <kam@example.com>")
            }
        },
    );
    const S: &str = "KAM_SMTP_URL";
    let Some(url) = cfg.smtp_url.as_deref() else {
        r.add(S, Verdict::Note("not set: email notifications wait in the outbox".into()));
        return;
    };
    use lettre::{AsyncSmtpTransport, Tokio1Executor};
    let shown = redact(url);
    let t: AsyncSmtpTransport<Tokio1Executor> = match AsyncSmtpTransport::<Tokio1Executor>::from_url(url) {
        Ok(b) => b.timeout(Some(WAIT)).build(),
        Err(e) => {
            r.add(
                S,
                broken(
                    format!("{shown}: not an SMTP address ({e})"),
                    "write it as smtp://host:25, smtps://host or smtp://user:pass@host:587?tls=required",
                ),
            );
            return;
        }
    };
    r.add(
        S,
        match tokio::time::timeout(WAIT * 2, t.test_connection()).await {
            Ok(Ok(true)) => Verdict::Ok(format!("{shown}: the server answers")),
            Ok(Ok(false)) => {
                broken(format!("{shown}: the server did not greet"), "check the host and port of the mail server")
            }
            Ok(Err(e)) => broken(
                format!("{shown}: cannot reach the mail server ({e})"),
                "check the host, the port, TLS and the firewall",
            ),
            Err(_) => broken(
                format!("{shown}: no answer within {} s", (WAIT * 2).as_secs()),
                "check the host, the port and the firewall",
            ),
        },
    );
}

/// Each active user's webhook (those who turned it on): its host answers a TCP connection.
async fn webhooks(db: &Db, r: &mut Report) {
    const S: &str = "webhooks";
    let rows = match sqlx::query(
        "SELECT username, webhook_url FROM users WHERE active = 1 AND notify_webhook = 1 AND webhook_url IS NOT NULL ORDER BY username",
    )
    .fetch_all(&db.pool)
    .await
    {
        Ok(rows) => rows,
        Err(e) => {
            r.add(S, broken(format!("cannot read the users' webhooks ({e})"), "run `kam migrate`"));
            return;
        }
    };
    if rows.is_empty() {
        r.add(S, Verdict::Note("no user posts notifications to a webhook".into()));
        return;
    }
    let mut bad = vec![];
    for row in &rows {
        let user: String = sqlx::Row::try_get(row, "username").unwrap_or_default();
        let url: String = sqlx::Row::try_get(row, "webhook_url").unwrap_or_default();
        let reach = match reqwest::Url::parse(&url) {
            Ok(u) => match (u.host_str(), u.port_or_known_default()) {
                (Some(h), Some(p)) => {
                    match tokio::time::timeout(WAIT, tokio::net::TcpStream::connect((h.to_string(), p))).await {
                        Ok(Ok(_)) => Ok(()),
                        Ok(Err(e)) => Err(e.to_string()),
                        Err(_) => Err(format!("no answer within {} s", WAIT.as_secs())),
                    }
                }
                _ => Err("no host".into()),
            },
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = reach {
            bad.push(format!("{user} → {url} ({e})"));
        }
    }
    r.add(
        S,
        if bad.is_empty() {
            Verdict::Ok(format!("{} webhook(s) answer", rows.len()))
        } else {
            broken(
                format!("{} of {} webhook(s) cannot be reached: {}", bad.len(), rows.len(), bad.join("; ")),
                "ask those users to correct their webhook on their profile page, or open the firewall to those hosts",
            )
        },
    );
}
