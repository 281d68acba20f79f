//! The `kam` command line: one binary for serving, migrations, demo data and administration.
use std::future::IntoFuture;
use std::io::Read;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};

use crate::app::{people::auth, people::users, App, Ctx, Settings};
use crate::db::{Db, DEFAULT_URL};
use crate::domain::role::{Role, SalesType};

#[derive(Parser, Debug)]
#[command(name = "kam", version, about = "KAM — key-account management (大客户管理系统)")]
pub struct Cli {
    /// Database: sqlite://PATH (default) or postgres://…
    #[arg(long, env = "KAM_DATABASE_URL", default_value = DEFAULT_URL, global = true)]
    pub database_url: String,
    /// SQLite durability: `full` (default) syncs every commit, so an acknowledged write
    /// survives a power loss; `normal` is faster and may lose the last commits on a power loss
    /// (never on a crash of KAM itself). See RELIABILITY.md.
    #[arg(long, env = "KAM_SQLITE_SYNCHRONOUS", default_value = "full", value_parser = ["full", "normal"], global = true)]
    pub sqlite_synchronous: String,
    /// PostgreSQL: account and contact imports and `kam dataset` send their rows by COPY on a
    /// connection of their own (`on`, the default) or as multi-row INSERTs (`off`). See
    /// BENCHMARKS.md.
    #[arg(long, env = "KAM_BULK_COPY", default_value = "on", value_parser = ["on", "off"], global = true)]
    pub bulk_copy: String,
    /// The configuration file (TOML; `kam config example` prints one with every setting). A
    /// setting there is used when neither a flag nor the environment gives it.
    #[arg(long, env = "KAM_CONFIG", global = true)]
    pub config: Option<std::path::PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the web UI and the API.
    Serve {
        #[command(flatten)]
        server: ServerConfig,
        /// Load the demo company first when the database is empty.
        #[arg(long)]
        demo: bool,
        /// Mark the session cookie Secure (when KAM is served over HTTPS).
        #[arg(long, env = "KAM_SECURE_COOKIES")]
        secure_cookies: bool,
        /// Seconds a shutdown (SIGTERM, Ctrl-C) waits for requests in flight and the scheduler's
        /// pass under way before the process stops anyway.
        #[arg(long, env = "KAM_SHUTDOWN_SECS", default_value_t = 30)]
        shutdown_secs: u64,
        /// Take a backup into this directory every --backup-hours (none without it).
        #[arg(long, env = "KAM_BACKUP_DIR")]
        backup_dir: Option<std::path::PathBuf>,
        /// Hours between scheduled backups.
        #[arg(long, env = "KAM_BACKUP_HOURS", default_value_t = 24)]
        backup_hours: u64,
        /// Scheduled backups kept (the oldest are removed).
        #[arg(long, env = "KAM_BACKUP_KEEP", default_value_t = 7)]
        backup_keep: usize,
        /// Seconds between passes of the scheduler (deadlines, escalations, deliveries); 0: off.
        #[arg(long, env = "KAM_SCHEDULER_SECS", default_value_t = 30)]
        scheduler_secs: u64,
        /// Refused rows an import lists before it stops (the rest of the file is not checked).
        #[arg(long, env = "KAM_IMPORT_MAX_ERRORS", default_value_t = crate::app::spreadsheets::bounds::MAX_ERRORS,
              value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
        import_max_errors: usize,
    },
    /// Check this installation's configuration as `kam serve` would read it — the database and
    /// its migrations, the data directory, the listen address, the base URL, SMTP and the
    /// users' webhooks — and say what to fix; exits non-zero when something is broken.
    Doctor {
        #[command(flatten)]
        server: ServerConfig,
    },
    /// Run database migrations.
    Migrate,
    /// Load the demo company into an empty database.
    Demo {
        #[arg(long, default_value = "kam-demo")]
        password: String,
    },
    /// Manage users.
    #[command(subcommand)]
    User(UserCmd),
    /// Manage org units (HQ → regions → branches).
    #[command(subcommand)]
    Org(OrgCmd),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCmd),
    /// Import accounts or contacts from FILE (CSV in UTF-8 or GBK, or XLSX; Chinese or English
    /// headers). All rows or none; prints a per-row report; exits non-zero when rows were
    /// rejected.
    Import {
        /// accounts or contacts
        what: String,
        file: String,
        #[arg(long)]
        dry_run: bool,
        /// Update the existing account a row matches (same credit code or name) instead of
        /// reporting the row.
        #[arg(long)]
        update_existing: bool,
        /// Import as this user (their scope and defaults); default: an HQ user who sees all.
        #[arg(long = "as")]
        as_user: Option<String>,
        /// HEADER:FIELD for a column header KAM does not know (HEADER: ignores the column);
        /// repeatable.
        #[arg(long = "map")]
        map: Vec<String>,
        /// Refused rows listed before the import stops (the rest of the file is not checked).
        #[arg(long, env = "KAM_IMPORT_MAX_ERRORS", default_value_t = crate::app::spreadsheets::bounds::MAX_ERRORS,
              value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
        max_errors: usize,
    },
    /// Export accounts or contacts to FILE (.xlsx or .csv by its extension).
    Export {
        /// accounts or contacts
        what: String,
        file: String,
        /// Export what this user may see (default: everything, credit included).
        #[arg(long = "as")]
        as_user: Option<String>,
    },
    /// Generate a benchmark dataset in an empty database (profile l3-60k).
    Dataset {
        profile: String,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Password of every generated user.
        #[arg(long, default_value = "kam-demo")]
        password: String,
    },
    /// Write a consistent copy of the database while the server runs (SQLite: the file;
    /// PostgreSQL: a pg_dump archive), with the uploaded files of the data directory beside it
    /// (FILE.files/).
    Backup {
        file: String,
        /// The data directory whose uploaded files go beside the backup.
        #[arg(long, env = "KAM_DATA_DIR", default_value = "kam-data")]
        data_dir: std::path::PathBuf,
    },
    /// Restore a backup into the database (stop `kam serve` first): the file is checked, put in
    /// place in one step, brought to this version's migrations, and what it holds is printed.
    Restore {
        file: std::path::PathBuf,
        /// Replace a database that holds data.
        #[arg(long)]
        force: bool,
        /// Where the uploaded files kept beside the backup go back to.
        #[arg(long, env = "KAM_DATA_DIR", default_value = "kam-data")]
        data_dir: std::path::PathBuf,
    },
    /// The configuration file.
    #[command(subcommand)]
    Config(ConfigCmd),
    /// Uploaded files: move them between the data directory and the database.
    #[command(subcommand)]
    Storage(StorageCmd),
    /// Directory sign-in (LDAP / Active Directory).
    #[command(subcommand)]
    Directory(DirectoryCmd),
}

#[derive(Subcommand, Debug)]
pub enum DirectoryCmd {
    /// Look every directory user up now (as the scheduled sync does): the disabled and removed
    /// are deactivated, the others brought up to date; prints what changed.
    Sync {
        #[command(flatten)]
        directory: DirectoryArgs,
    },
}

/// The settings `kam serve` reads and `kam doctor` checks (one name each, as a flag and as an
/// environment variable).
#[derive(clap::Args, Debug, Clone)]
pub struct ServerConfig {
    /// The address and port to listen on.
    #[arg(long, env = "KAM_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// The data directory: uploaded files (with KAM_STORAGE=directory), and the files backups
    /// copy beside them.
    #[arg(long, env = "KAM_DATA_DIR", default_value = "kam-data")]
    pub data_dir: std::path::PathBuf,
    /// The SMTP server for email notifications: smtp://host:port (plain), smtps://host or
    /// smtp://user:pass@host:587?tls=required. Without it email notifications wait.
    #[arg(long, env = "KAM_SMTP_URL")]
    pub smtp_url: Option<String>,
    /// The sender of email notifications.
    #[arg(long, env = "KAM_MAIL_FROM", default_value = "KAM <kam@localhost>")]
    pub mail_from: String,
    /// This KAM's address as users reach it, for links in notifications.
    #[arg(long, env = "KAM_BASE_URL")]
    pub base_url: Option<String>,
    /// Where uploaded files (documents, attachments, visit photos, uploads waiting for their
    /// import) are kept: `directory` (the data directory; one server) or `database` (every
    /// server on the database sees them). `kam storage move` moves what is kept already.
    #[arg(long, env = "KAM_STORAGE", default_value = "directory", value_parser = ["directory", "database"])]
    pub storage: String,
    /// A PostgreSQL streaming replica for report and list reads (postgres://…). Writes, reads
    /// inside writes, and a user's reads right after their own write stay on the primary; a
    /// replica that lags beyond KAM_READ_MAX_LAG_SECS or does not answer is left out until it
    /// catches up.
    #[arg(long, env = "KAM_DATABASE_READ_URL")]
    pub database_read_url: Option<String>,
    /// How far (seconds) the replica may lag behind the primary and still serve reads.
    #[arg(long, env = "KAM_READ_MAX_LAG_SECS", default_value_t = 5)]
    pub read_max_lag_secs: u64,
    #[command(flatten)]
    pub directory: DirectoryArgs,
}

/// Directory sign-in (LDAP / Active Directory): without KAM_LDAP_URL users sign in with KAM's
/// own passwords only.
#[derive(clap::Args, Debug, Clone)]
pub struct DirectoryArgs {
    /// The directory: ldap://host:389 or ldaps://host:636. Set, users KAM does not keep a
    /// password for sign in with their directory account; local accounts (the administrator's)
    /// keep their KAM password.
    #[arg(long, env = "KAM_LDAP_URL")]
    pub ldap_url: Option<String>,
    /// Upgrade an ldap:// connection with StartTLS.
    #[arg(long, env = "KAM_LDAP_STARTTLS", default_value_t = false)]
    pub ldap_starttls: bool,
    /// The service account KAM searches the directory with (its DN).
    #[arg(long, env = "KAM_LDAP_BIND_DN", default_value = "")]
    pub ldap_bind_dn: String,
    /// The service account's password.
    #[arg(long, env = "KAM_LDAP_BIND_PASSWORD", default_value = "", hide_default_value = true)]
    pub ldap_bind_password: String,
    /// Where users are searched (the whole subtree), e.g. dc=example,dc=com.
    #[arg(long, env = "KAM_LDAP_BASE_DN", default_value = "")]
    pub ldap_base_dn: String,
    /// The filter finding one user; {username} is what they type. Active Directory:
    /// (&(objectClass=user)(sAMAccountName={username})).
    #[arg(long, env = "KAM_LDAP_USER_FILTER", default_value = "(&(objectClass=inetOrgPerson)(uid={username}))")]
    pub ldap_user_filter: String,
    /// Where groups are searched (the base DN when empty).
    #[arg(long, env = "KAM_LDAP_GROUP_BASE", default_value = "")]
    pub ldap_group_base: String,
    /// The filter finding a user's groups; {dn} is the user's entry, {username} their name.
    /// Empty: only the user's memberOf attribute (Active Directory) is read.
    #[arg(
        long,
        env = "KAM_LDAP_GROUP_FILTER",
        default_value = "(|(member={dn})(uniqueMember={dn})(memberUid={username}))"
    )]
    pub ldap_group_filter: String,
    /// Groups to KAM roles, in order of precedence: group=role separated by commas; a group is
    /// its cn or its whole DN, e.g. kam-managers=ka_manager,kam-reps=ka_rep. A user in none of
    /// them cannot sign in.
    #[arg(long, env = "KAM_LDAP_ROLE_GROUPS", default_value = "")]
    pub ldap_role_groups: String,
    /// The user attribute holding the code of their KAM org unit.
    #[arg(long, env = "KAM_LDAP_UNIT_ATTRIBUTE", default_value = "departmentNumber")]
    pub ldap_unit_attribute: String,
    /// The org unit (its code) of users whose attribute names no KAM unit; without it they
    /// cannot sign in.
    #[arg(long, env = "KAM_LDAP_DEFAULT_UNIT")]
    pub ldap_default_unit: Option<String>,
    /// The user attribute holding the name KAM shows (cn when missing).
    #[arg(long, env = "KAM_LDAP_NAME_ATTRIBUTE", default_value = "displayName")]
    pub ldap_name_attribute: String,
    /// The user attribute holding the email address.
    #[arg(long, env = "KAM_LDAP_MAIL_ATTRIBUTE", default_value = "mail")]
    pub ldap_mail_attribute: String,
    /// A user matching this filter is disabled (deactivated in KAM). The default is Active
    /// Directory's ACCOUNTDISABLE bit; OpenLDAP with ppolicy: (pwdAccountLockedTime=*).
    #[arg(long, env = "KAM_LDAP_DISABLED_FILTER", default_value = crate::app::people::ldap::AD_DISABLED_FILTER)]
    pub ldap_disabled_filter: String,
    /// How often (minutes) directory users are looked up and the disabled deactivated.
    #[arg(long, env = "KAM_LDAP_SYNC_MINUTES", default_value_t = 60)]
    pub ldap_sync_minutes: u64,
    /// Seconds each directory operation may take.
    #[arg(long, env = "KAM_LDAP_TIMEOUT_SECS", default_value_t = 5)]
    pub ldap_timeout_secs: u64,
}

impl Default for DirectoryArgs {
    /// Every directory setting at its default (directory sign-in off unless KAM_LDAP_URL is set
    /// in the environment).
    fn default() -> Self {
        #[derive(clap::Parser)]
        struct Only {
            #[command(flatten)]
            d: DirectoryArgs,
        }
        <Only as clap::Parser>::parse_from(["kam"]).d
    }
}

impl DirectoryArgs {
    /// The directory's settings, checked; none without KAM_LDAP_URL.
    pub fn config(&self) -> anyhow::Result<Option<crate::app::people::ldap::Config>> {
        let Some(url) = self.ldap_url.as_deref().map(str::trim).filter(|u| !u.is_empty()) else { return Ok(None) };
        anyhow::ensure!(
            url.starts_with("ldap://") || url.starts_with("ldaps://"),
            "KAM_LDAP_URL must start with ldap:// or ldaps://, got {url}"
        );
        anyhow::ensure!(!self.ldap_base_dn.trim().is_empty(), "KAM_LDAP_BASE_DN is required with KAM_LDAP_URL");
        anyhow::ensure!(
            self.ldap_user_filter.contains("{username}"),
            "KAM_LDAP_USER_FILTER must contain {{username}}, got {}",
            self.ldap_user_filter
        );
        let role_groups = crate::app::people::ldap::parse_role_groups(&self.ldap_role_groups)
            .map_err(|e| anyhow::anyhow!("KAM_LDAP_ROLE_GROUPS: {e}"))?;
        anyhow::ensure!(!role_groups.is_empty(), "KAM_LDAP_ROLE_GROUPS is required with KAM_LDAP_URL (group=role,…)");
        Ok(Some(crate::app::people::ldap::Config {
            url: url.to_string(),
            starttls: self.ldap_starttls,
            bind_dn: self.ldap_bind_dn.trim().to_string(),
            bind_password: self.ldap_bind_password.clone(),
            base_dn: self.ldap_base_dn.trim().to_string(),
            user_filter: self.ldap_user_filter.trim().to_string(),
            group_base: self.ldap_group_base.trim().to_string(),
            group_filter: self.ldap_group_filter.trim().to_string(),
            role_groups,
            unit_attribute: self.ldap_unit_attribute.trim().to_string(),
            default_unit: self.ldap_default_unit.as_deref().map(str::trim).filter(|u| !u.is_empty()).map(String::from),
            name_attribute: self.ldap_name_attribute.trim().to_string(),
            mail_attribute: self.ldap_mail_attribute.trim().to_string(),
            disabled_filter: self.ldap_disabled_filter.trim().to_string(),
            sync_minutes: self.ldap_sync_minutes.max(1),
            timeout: std::time::Duration::from_secs(self.ldap_timeout_secs.max(1)),
        }))
    }
}

impl ServerConfig {
    pub fn backing(&self) -> crate::app::records::files::Backing {
        crate::app::records::files::Backing::parse(&self.storage).unwrap_or_default()
    }
}

#[derive(Subcommand, Debug)]
pub enum ConfigCmd {
    /// Print a configuration file with every setting, its meaning and its default (commented).
    Example,
    /// Read the configuration file (--config or KAM_CONFIG) and say whether it is valid.
    Check,
}

#[derive(Subcommand, Debug)]
pub enum StorageCmd {
    /// Move every uploaded file to `database` or to `directory`: each is copied, read back and
    /// compared by SHA-256, and only then removed from where it was (unless --keep). Safe while
    /// servers run (they read from either place); set KAM_STORAGE to the new place afterwards.
    Move {
        /// Where the files go: database or directory.
        #[arg(long, value_parser = ["database", "directory"])]
        to: String,
        /// Copy and verify, but leave the files where they were too.
        #[arg(long)]
        keep: bool,
        /// The data directory (as `kam serve` reads it).
        #[arg(long, env = "KAM_DATA_DIR", default_value = "kam-data")]
        data_dir: std::path::PathBuf,
    },
    /// Delete the visits' check-in locations and photos older than the company's retention
    /// period now (what the daily pass does; `/settings/check-in-retention`).
    Retention {
        /// The data directory (as `kam serve` reads it).
        #[arg(long, env = "KAM_DATA_DIR", default_value = "kam-data")]
        data_dir: std::path::PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum UserCmd {
    /// Add a user; the password comes from --password or standard input.
    Add {
        username: String,
        #[arg(long)]
        role: String,
        #[arg(long)]
        org: String,
        #[arg(long)]
        manager: Option<String>,
        #[arg(long = "sales-type")]
        sales_type: Option<String>,
        #[arg(long = "display-name")]
        display_name: Option<String>,
        #[arg(long)]
        password: Option<String>,
    },
    /// One line per user: username, role, org unit, active.
    List,
    /// Hand everything FROM holds (accounts, team places, direct reports) to TO in one step.
    Handover { from: String, to: String },
    /// Deactivate a user; one who still holds accounts needs --successor.
    Deactivate {
        username: String,
        #[arg(long)]
        successor: Option<String>,
    },
    /// Clear a user's two-factor sign-in (a lost phone and no recovery code left): their
    /// sessions end; they sign in with the password, or set it up again where required.
    ResetTwoFactor { username: String },
}

#[derive(Subcommand, Debug)]
pub enum OrgCmd {
    /// Add an org unit; the first one is the headquarters.
    Add {
        code: String,
        #[arg(long)]
        name: String,
        /// hq, region or branch
        #[arg(long)]
        kind: String,
        #[arg(long)]
        parent: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum TokenCmd {
    /// Print a new API token for the user, once.
    Create {
        username: String,
        #[arg(long, default_value = "cli")]
        name: String,
    },
}

/// Says how many records contradict themselves (`app::records::consistency`), and where the
/// administrator lists them.
async fn report_contradictions(db: &Db) {
    match crate::app::records::consistency::scan(db).await {
        Ok(r) if r.total > 0 => {
            let msg = format!(
                "{} records contradict themselves (e.g. an account's branch in another region); \
                 the administrator lists them at /admin/consistency",
                r.total
            );
            tracing::warn!("{msg}");
            eprintln!("warning: {msg}");
        }
        Ok(_) => {}
        Err(e) => tracing::warn!("looking for contradicting records: {e}"),
    }
}

/// Waits for SIGTERM (systemd, a container runtime) or SIGINT (Ctrl-C); names the one that came.
async fn shutdown_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = tokio::signal::ctrl_c() => "SIGINT",
            },
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                "SIGINT"
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "SIGINT"
    }
}

async fn open(url: &str) -> anyhow::Result<Db> {
    let db = Db::connect(url).await?;
    db.migrate().await?;
    Ok(db)
}

fn describe(e: crate::domain::DomainError) -> anyhow::Error {
    match e {
        crate::domain::DomainError::Invalid(fs) => {
            anyhow::anyhow!(
                "invalid input: {}",
                fs.iter().map(|f| format!("{} ({})", f.field, f.code)).collect::<Vec<_>>().join(", ")
            )
        }
        crate::domain::DomainError::Duplicate { field, .. } => anyhow::anyhow!("{field} exists already"),
        other => anyhow::anyhow!("{other}"),
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let url = cli.database_url.clone();
    crate::db::set_synchronous(if cli.sqlite_synchronous == "normal" {
        crate::db::Synchronous::Normal
    } else {
        crate::db::Synchronous::Full
    });
    crate::db::set_bulk_copy(cli.bulk_copy == "on");
    match cli.command {
        Command::Doctor { server } => {
            let report = crate::doctor::check(&url, &server).await;
            print!("{}", report.text());
            if report.broken() > 0 {
                bail!("{} setting(s) to fix", report.broken());
            }
        }
        Command::Serve {
            server,
            demo,
            secure_cookies,
            shutdown_secs,
            backup_dir,
            backup_hours,
            backup_keep,
            scheduler_secs,
            import_max_errors,
        } => {
            let storage = server.backing();
            let directory = server.directory.config()?.map(std::sync::Arc::new);
            let ServerConfig { listen, data_dir, smtp_url, mail_from, base_url, .. } = server.clone();
            let mut db = open(&url).await?;
            if let Some(read_url) = server.database_read_url.as_deref().filter(|u| !u.trim().is_empty()) {
                db.attach_replica(read_url.trim(), std::time::Duration::from_secs(server.read_max_lag_secs.max(1)))
                    .await?;
            }
            if demo {
                let n: i64 = sqlx::Row::try_get(
                    &sqlx::query("SELECT COUNT(*) AS n FROM users").fetch_one(&db.pool).await?,
                    "n",
                )?;
                if n == 0 {
                    let made = crate::generate::demo::load(&db, "kam-demo").await?;
                    let files = crate::app::records::files::Storage::new(data_dir.clone(), storage);
                    crate::generate::demo::load_files(&db, &files).await?;
                    print_demo(&made, "kam-demo");
                } else {
                    println!("The database holds data already; the demo company is not loaded again.");
                }
            }
            let listener =
                tokio::net::TcpListener::bind(&listen).await.with_context(|| format!("cannot listen on {listen}"))?;
            let addr = listener.local_addr()?;
            let channels = crate::app::records::notify::Channels {
                smtp_url,
                mail_from,
                base_url: base_url.unwrap_or_else(|| format!("http://{addr}")),
            };
            let settings = Settings {
                secure_cookies,
                data_dir,
                storage,
                channels,
                import_max_errors,
                directory,
                ..Settings::default()
            };
            let app = App { db, settings };
            // Graceful shutdown (SIGTERM or Ctrl-C): no new connections; requests in flight and
            // the scheduler's pass under way finish (at most `shutdown_secs`), then the pool
            // closes (SQLite: the WAL checkpointed into the file).
            let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
            let scheduler = (scheduler_secs > 0)
                .then(|| app.spawn_scheduler(std::time::Duration::from_secs(scheduler_secs), stop_rx.clone()));
            let backups = backup_dir.map(|dir| {
                let every = std::time::Duration::from_secs(backup_hours.max(1) * 3600);
                crate::app::records::backups::Schedule { dir, every, keep: backup_keep }.spawn(
                    app.db.clone(),
                    url.clone(),
                    app.settings.data_dir.clone(),
                    stop_rx.clone(),
                )
            });
            // Records that contradict themselves, looked for off the start-up's path.
            let check = app.db.clone();
            tokio::spawn(async move { report_contradictions(&check).await });
            println!("KAM is serving on http://{addr}");
            tracing::info!(%addr, "serving");
            let db = app.db.clone();
            let mut stopping = stop_rx.clone();
            let server = axum::serve(listener, crate::web::router(app))
                .with_graceful_shutdown(async move {
                    let _ = stopping.wait_for(|s| *s).await;
                })
                .into_future();
            tokio::pin!(server);
            tokio::select! {
                r = &mut server => r?,
                signal = shutdown_signal() => {
                    tracing::info!(signal, in_flight_bound_secs = shutdown_secs, "shutting down: finishing requests in flight and the scheduler's pass");
                    let _ = stop_tx.send(true);
                    let bound = std::time::Duration::from_secs(shutdown_secs);
                    let finished = tokio::time::timeout(bound, async {
                        let served = (&mut server).await;
                        if let Some(s) = scheduler {
                            let _ = s.await;
                        }
                        if let Some(b) = backups {
                            let _ = b.await;
                        }
                        served
                    })
                    .await;
                    match finished {
                        Ok(r) => r?,
                        Err(_) => tracing::warn!(bound_secs = shutdown_secs, "requests or the scheduler's pass still running at the bound; stopping anyway"),
                    }
                }
            }
            db.pool.close().await;
            tracing::info!("stopped");
        }
        Command::Migrate => {
            let db = open(&url).await?;
            println!("migrations applied");
            report_contradictions(&db).await;
        }
        Command::Demo { password } => {
            let db = open(&url).await?;
            let made = crate::generate::demo::load(&db, &password).await?;
            print_demo(&made, &password);
        }
        Command::User(UserCmd::Add { username, role, org, manager, sales_type, display_name, password }) => {
            let db = open(&url).await?;
            let role = Role::parse(&role).map_err(|_| anyhow::anyhow!("unknown role {role}"))?;
            let sales_type = match sales_type {
                Some(s) => Some(SalesType::parse(&s).map_err(|_| anyhow::anyhow!("--sales-type must be ae or sr"))?),
                None => None,
            };
            let password = match password {
                Some(p) => p,
                None => {
                    let mut s = String::new();
                    std::io::stdin().read_to_string(&mut s)?;
                    s.lines().next().unwrap_or("").to_string()
                }
            };
            let ctx = Ctx::system();
            let mut tx = db.begin().await?;
            users::insert(
                &mut tx,
                &ctx,
                &users::NewUser {
                    username: &username,
                    display_name: display_name.as_deref().unwrap_or(&username),
                    role,
                    org: &org,
                    manager: manager.as_deref(),
                    sales_type,
                    password: &password,
                },
            )
            .await
            .map_err(describe)?;
            tx.commit().await?;
            println!("added {username}");
        }
        Command::Org(OrgCmd::Add { code, name, kind, parent }) => {
            let db = open(&url).await?;
            let mut pairs =
                vec![("code", Some(code.as_str())), ("name", Some(name.as_str())), ("kind", Some(kind.as_str()))];
            if let Some(p) = parent.as_deref() {
                pairs.push(("parent", Some(p)));
            }
            crate::app::people::org::create(
                &db,
                &Ctx::system(),
                &crate::app::records::input::Input::from_pairs(&pairs),
            )
            .await
            .map_err(describe)?;
            println!("added {code}");
        }
        Command::User(UserCmd::Handover { from, to }) => {
            let db = open(&url).await?;
            let h =
                crate::app::customers::handover::hand_over(&db, &Ctx::system(), &from, &to).await.map_err(describe)?;
            println!(
                "{from} → {to}: {} accounts, {} open opportunities, {} team places, {} direct reports",
                h.accounts, h.opportunities, h.team_places, h.reports
            );
            println!(
                "open work: {} planned activities, {} follow-ups, {} return visits due, {} pending requests, \
                 {} forecasts, {} plan objectives and actions, {} OPL items, {} service-team places",
                h.planned_activities,
                h.follow_ups,
                h.return_visits,
                h.requests,
                h.forecasts,
                h.plan_actions,
                h.opl_items,
                h.service_places
            );
        }
        Command::User(UserCmd::Deactivate { username, successor }) => {
            let db = open(&url).await?;
            users::set_active_with(&db, &Ctx::system(), &username, false, successor.as_deref())
                .await
                .map_err(describe)?;
            println!("deactivated {username}");
        }
        Command::User(UserCmd::ResetTwoFactor { username }) => {
            let db = open(&url).await?;
            crate::app::people::two_factor::reset(&db, &Ctx::system(), &username).await.map_err(describe)?;
            println!("two-factor sign-in cleared for {username}");
        }
        Command::User(UserCmd::List) => {
            let db = open(&url).await?;
            for u in users::list(&db).await.map_err(describe)? {
                println!("{}\t{}\t{}\t{}", u.username, u.role, u.org_unit, u.active);
            }
        }
        Command::Token(TokenCmd::Create { username, name }) => {
            let db = open(&url).await?;
            let (_, token) = auth::create_token(&db, &Ctx::system(), &username, &name).await.map_err(|e| match e {
                crate::domain::DomainError::NotFound => anyhow::anyhow!("no user {username}"),
                e => describe(e),
            })?;
            println!("{token}");
        }
        Command::Import { what, file, dry_run, update_existing, as_user, map, max_errors } => {
            use crate::app::spreadsheets::import::{Kind, OnMatch, Options, Source};
            let kind = Kind::parse(&what).with_context(|| format!("cannot import {what}: accounts or contacts"))?;
            let mapping = crate::app::spreadsheets::import::parse_mapping(kind, map.iter().map(String::as_str))
                .map_err(|_| {
                    let bad = map
                        .iter()
                        .find(|m| crate::app::spreadsheets::import::parse_mapping(kind, [m.as_str()]).is_err());
                    anyhow::anyhow!(
                        "--map {}: not HEADER:FIELD, or not a field of {what} ({})",
                        bad.map(String::as_str).unwrap_or(""),
                        kind.fields().join(", ")
                    )
                })?;
            let db = open(&url).await?;
            let caller = match as_user {
                Some(u) => caller_named(&db, &u).await?,
                None => crate::app::Caller { role: Role::KaDirector, ..Ctx::system().caller },
            };
            let src = Source::file(std::path::Path::new(&file)).with_context(|| format!("reading {file}"))?;
            let ctx = Ctx { caller, request_id: "cli-import".into() };
            let on_match = if update_existing { OnMatch::Update } else { OnMatch::Report };
            let started = std::time::Instant::now();
            let r = crate::app::spreadsheets::import::run(
                &db,
                &ctx,
                kind,
                src,
                &Options { dry_run, on_match, mapping, max_errors },
            )
            .await
            .map_err(describe)?;
            let lang = crate::web::i18n::Lang::from_code(
                &std::env::var("KAM_LANG").or_else(|_| std::env::var("LANG")).unwrap_or_default(),
            );
            for c in &r.unknown_columns {
                println!("unknown column (ignored): {c}");
            }
            for e in &r.errors {
                println!(
                    "row {}\t{}\t{}\t{}\t{}",
                    e.row,
                    e.column,
                    e.value,
                    e.code,
                    crate::web::ui::import_reason(lang, &e.code)
                );
            }
            if r.errors_truncated {
                println!("{}", crate::web::ui::more_errors_text(lang, max_errors));
            }
            println!(
                "{} rows in {:.1} s, {} updated, {} {}{}",
                r.rows,
                started.elapsed().as_secs_f64(),
                r.updated,
                r.created,
                if dry_run { "would be created (dry run)" } else { "created" },
                if !r.refused() {
                    String::new()
                } else {
                    format!(
                        ", {} problems{}: nothing imported",
                        r.errors.len(),
                        if r.errors_truncated { " and more" } else { "" }
                    )
                }
            );
            if r.refused() {
                bail!(
                    "{} rows rejected{}",
                    r.errors.iter().map(|e| e.row).collect::<std::collections::BTreeSet<_>>().len(),
                    if r.errors_truncated { ", and more after them (not checked)" } else { "" }
                );
            }
        }
        Command::Export { what, file, as_user } => {
            let db = open(&url).await?;
            let caller = match as_user {
                Some(u) => {
                    let id: i64 = sqlx::Row::try_get(
                        &sqlx::query("SELECT id FROM users WHERE username = $1")
                            .bind(u.clone())
                            .fetch_optional(&db.pool)
                            .await?
                            .ok_or_else(|| anyhow::anyhow!("no user {u}"))?,
                        "id",
                    )?;
                    auth::load_caller(&db, id)
                        .await
                        .map_err(describe)?
                        .ok_or_else(|| anyhow::anyhow!("{u} is inactive"))?
                }
                // The operator holds the database itself; the export shows all of it.
                None => crate::app::Caller { role: Role::Gm, ..Ctx::system().caller },
            };
            let table = match what.as_str() {
                "accounts" => {
                    let rows = crate::app::customers::accounts::export(&db, &caller, &Default::default())
                        .await
                        .map_err(describe)?;
                    crate::app::spreadsheets::export::accounts_table(&rows, caller.sees_credit())
                }
                "contacts" => {
                    let rows = crate::app::customers::contacts::export(&db, &caller, &Default::default())
                        .await
                        .map_err(describe)?;
                    crate::app::spreadsheets::export::contacts_table(&rows)
                }
                other => bail!("cannot export {other}: choose accounts or contacts"),
            };
            let headers: Vec<String> = table.keys.iter().map(|k| k.to_string()).collect();
            let bytes = if file.to_ascii_lowercase().ends_with(".xlsx") {
                crate::app::spreadsheets::export::xlsx(&table, &headers, &what, None)?
            } else if file.to_ascii_lowercase().ends_with(".csv") {
                crate::app::spreadsheets::export::csv(&table, &headers)?
            } else {
                bail!("{file}: the file name must end in .xlsx or .csv");
            };
            std::fs::write(&file, bytes).with_context(|| format!("writing {file}"))?;
            println!("{} {what} written to {file}", table.rows.len());
        }
        Command::Dataset { profile, seed, password } => {
            let db = open(&url).await?;
            let started = std::time::Instant::now();
            let s = crate::generate::dataset::generate(&db, &profile, seed, &password).await?;
            println!(
                "{profile}: {} org units, {} users, {} accounts, {} contacts, {} opportunities, {} activities, {} quotas in {:.1}s",
                s.org_units,
                s.users,
                s.accounts,
                s.contacts,
                s.opportunities,
                s.activities,
                s.quotas,
                started.elapsed().as_secs_f64()
            );
        }
        Command::Backup { file, data_dir } => {
            let db = Db::connect(&url).await?;
            if std::path::Path::new(&file).exists() {
                bail!("{file} exists already");
            }
            let files = db.backup_with_files(&url, std::path::Path::new(&file), Some(&data_dir)).await?;
            println!("backup written to {file} ({files} uploaded file(s) beside it)");
        }
        Command::Restore { file, force, data_dir } => {
            let r = crate::db::backup::restore(&url, &file, &data_dir, force).await?;
            println!("{}", r.text());
        }
        Command::Config(ConfigCmd::Example) => print!("{}", crate::config::example()),
        Command::Config(ConfigCmd::Check) => match &cli.config {
            // main read it already (a broken file stops every command before it gets here).
            Some(p) => println!("{}: valid", p.display()),
            None => bail!("no configuration file: give --config PATH or set KAM_CONFIG"),
        },
        Command::Storage(StorageCmd::Move { to, keep, data_dir }) => {
            let db = open(&url).await?;
            let to = crate::app::records::files::Backing::parse(&to).unwrap_or_default();
            let m = crate::app::records::files::move_files(&db, &data_dir, to, keep).await?;
            println!(
                "{} file(s) moved to the {} ({} bytes), each verified by SHA-256; {} there already",
                m.moved,
                to.code(),
                m.bytes,
                m.present
            );
            for f in &m.failed {
                println!("NOT moved: {f}");
            }
            if !m.failed.is_empty() {
                bail!("{} file(s) did not verify and stayed where they were", m.failed.len());
            }
        }
        Command::Directory(DirectoryCmd::Sync { directory }) => {
            let Some(cfg) = directory.config()? else { bail!("directory sign-in is not configured: set KAM_LDAP_URL") };
            let db = open(&url).await?;
            let r = crate::app::people::ldap::sync_now(&db, Some(&cfg), &Ctx::system()).await.map_err(describe)?;
            println!(
                "{} directory user(s) checked: {} updated, {} deactivated{}",
                r.checked,
                r.updated,
                r.deactivated,
                if r.skipped.is_empty() {
                    String::new()
                } else {
                    format!("; left (org unit unknown): {}", r.skipped.join(", "))
                }
            );
        }
        Command::Storage(StorageCmd::Retention { data_dir }) => {
            let db = open(&url).await?;
            let store = crate::app::records::files::Storage::new(data_dir, Default::default());
            let p = crate::app::visits::retention::pass(&db, &store, chrono::Utc::now()).await.map_err(describe)?;
            println!(
                "{} check-in location(s) cleared, {} photo(s) taken off, {} file(s) removed",
                p.locations, p.photos, p.files_removed
            );
        }
    }
    Ok(())
}

async fn caller_named(db: &Db, u: &str) -> anyhow::Result<crate::app::Caller> {
    let id: i64 = sqlx::Row::try_get(
        &sqlx::query("SELECT id FROM users WHERE username = $1")
            .bind(u.to_string())
            .fetch_optional(&db.pool)
            .await?
            .ok_or_else(|| anyhow::anyhow!("no user {u}"))?,
        "id",
    )?;
    auth::load_caller(db, id).await.map_err(describe)?.ok_or_else(|| anyhow::anyhow!("{u} is inactive"))
}

fn print_demo(users: &[crate::generate::demo::DemoUser], password: &str) {
    println!("Demo company loaded. Sign in with any of these users, password {password}:");
    for u in users {
        println!("  {:<14} {:<20} {} ({})", u.username, u.role, u.display_name, u.org_unit);
    }
}
