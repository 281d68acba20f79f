//! Use cases. Each public function is one command: it opens one transaction, checks the
//! caller's right to act, changes the data, writes its audit rows, and commits. The web UI,
//! the JSON API and the CLI all call these functions and nothing below them.

pub mod approvals;
pub mod attainment;
pub mod budgets;
pub mod classification;
pub mod clock;
pub mod credit;
pub mod customers;
pub mod funnel;
pub mod home;
pub mod kpi;
pub mod orders;
pub mod people;
pub mod plans;
pub mod quotes;
pub mod records;
pub mod salesplan;
pub mod service;
pub mod spreadsheets;
pub mod suggestions;
pub mod visits;
pub mod voice;

use crate::db::Db;
use crate::domain::role::{Reach, Role};
pub use crate::domain::DomainError as Error;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Numbers an administrator can change; these are the shipped defaults.
#[derive(Debug, Clone)]
pub struct Settings {
    pub session_idle_secs: i64,
    pub session_absolute_secs: i64,
    pub max_failed_logins_per_hour: i64,
    /// Mark cookies `Secure` (serve behind HTTPS).
    pub secure_cookies: bool,
    /// How many accounts one salesperson may hold claimed from the regional pool.
    pub pool_claim_limit: i64,
    /// Refused rows an import lists before it stops (`KAM_IMPORT_MAX_ERRORS`).
    pub import_max_errors: usize,
    /// The data directory (uploaded files when `storage` is the directory).
    pub data_dir: std::path::PathBuf,
    /// Where uploaded files are kept: the data directory or the database (`KAM_STORAGE`).
    pub storage: records::files::Backing,
    /// How email and webhook notifications leave this server.
    pub channels: records::notify::Channels,
    /// The company's directory (LDAP / Active Directory), when users sign in with it.
    pub directory: Option<std::sync::Arc<people::ldap::Config>>,
}

impl Settings {
    /// Where this server keeps uploaded files.
    pub fn files(&self) -> records::files::Storage {
        records::files::Storage::new(self.data_dir.clone(), self.storage)
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            session_idle_secs: 30 * 60,
            session_absolute_secs: 12 * 3600,
            max_failed_logins_per_hour: 100,
            secure_cookies: false,
            pool_claim_limit: 50,
            import_max_errors: spreadsheets::bounds::MAX_ERRORS,
            data_dir: std::path::PathBuf::from("kam-data"),
            storage: records::files::Backing::Directory,
            channels: records::notify::Channels {
                smtp_url: None,
                mail_from: "KAM <kam@localhost>".into(),
                base_url: "http://127.0.0.1:8080".into(),
            },
            directory: None,
        }
    }
}

#[derive(Clone)]
pub struct App {
    pub db: Db,
    pub settings: Settings,
}

impl App {
    /// One pass of the background work: reminders and escalations of approval steps, reminders
    /// of follow-ups that fell due (counted with the reminders), then the notifications due for
    /// email and webhook. `worker` names this server in delivery claims.
    pub async fn scheduler_pass(
        &self,
        worker: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(usize, usize, usize)> {
        let (reminded, escalated) = approvals::tick(&self.db, now).await?;
        // Credit triggers left unfiled past their 2 days: to the KA director.
        let unfiled = credit::triggers::escalate_unfiled(&self.db, now).await?;
        let follow_ups = visits::activities::remind_follow_ups(&self.db, now).await?;
        // Once a day: won opportunities that left the trailing twelve months.
        classification::classify::refresh_window(&self.db, now).await?;
        // Quotes whose validity ended.
        quotes::quotes::expire_due(&self.db, &now.date_naive().format("%Y-%m-%d").to_string()).await?;
        // Receivables that climbed a dunning level: their people told, holds placed.
        orders::holds::dun_pass(&self.db, now).await?;
        // Once a day: key accounts whose fulfilment fell below 75 % are downgraded.
        classification::downgrade::daily(&self.db, now).await?;
        // The aging summary as of the new day, before anyone asks for the report.
        orders::aging_summary::daily(&self.db, now).await?;
        // Once a day: account plans' reviews falling due opened, slipping milestones flagged.
        plans::reviews::daily(&self.db, now).await?;
        // Once a day: suggestions whose promised reply date passed, flagged to the KA director.
        suggestions::suggestions::daily(&self.db, now).await?;
        // Once a day: check-in locations and photos past the company's retention period deleted.
        visits::retention::daily(&self.db, &self.settings.files(), now).await?;
        // Return visits of service events that fell due unanswered: the owner reminded once.
        let return_visits = service::events::remind_return_visits(&self.db, now).await?;
        let sent = records::notify::deliver(&self.db, &self.settings.channels, worker, now).await?;
        // Once per sync period: directory users the directory disabled or removed deactivated.
        // An unreachable directory changes nothing and does not hold up the rest of the pass.
        if let Some(cfg) = &self.settings.directory {
            match people::ldap::scheduled(&self.db, cfg, now).await {
                Ok(Some(r)) if r.updated + r.deactivated > 0 => {
                    tracing::info!(updated = r.updated, deactivated = r.deactivated, "directory sync")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "directory sync failed; the next scheduler pass tries again"),
            }
        }
        Ok((reminded + follow_ups + return_visits, escalated + unfiled, sent))
    }

    /// Runs [`App::scheduler_pass`] every `every` until `stop` turns true (a pass under way
    /// finishes first: the task ends between passes); a failed pass is logged and the next one
    /// tries again.
    pub fn spawn_scheduler(
        &self,
        every: std::time::Duration,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        let app = self.clone();
        let worker = format!("{}-{}", std::process::id(), hex::encode(rand::random::<[u8; 4]>()));
        tokio::spawn(async move {
            let mut t = tokio::time::interval(every);
            t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            // Failed passes in a row: while the database is unreachable or the disk full, the
            // scheduler waits longer between tries (2, 4, 8 … s, at most 5 min on top of its
            // interval) and says so once; the first pass that works says it resumed.
            let mut failures: u32 = 0;
            loop {
                tokio::select! {
                    _ = t.tick() => {}
                    _ = stop.wait_for(|s| *s) => break,
                }
                let started = std::time::Instant::now();
                let pass = app.scheduler_pass(&worker, clock::now()).await;
                record_scheduler_run(started.elapsed());
                match pass {
                    Ok((r, e, s)) => {
                        if failures > 0 {
                            tracing::info!(after_failures = failures, "scheduler resumed");
                            failures = 0;
                        }
                        if r + e + s > 0 {
                            tracing::info!(reminded = r, escalated = e, sent = s, "scheduler")
                        }
                    }
                    Err(err) => {
                        failures = failures.saturating_add(1);
                        let wait = std::time::Duration::from_secs((1u64 << failures.min(9)).min(300));
                        if failures == 1 || err.fault().is_none() {
                            tracing::warn!(error = %err, retry_in_secs = wait.as_secs(), "scheduler pass failed; backing off");
                        }
                        tokio::select! {
                            _ = tokio::time::sleep(wait) => {}
                            _ = stop.wait_for(|s| *s) => break,
                        }
                        t.reset();
                    }
                }
            }
        })
    }
}

/// When this process's scheduler last finished a pass (Unix ms) and how long it took (µs).
static SCHEDULER_LAST_AT_MS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
static SCHEDULER_LAST_MICROS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn record_scheduler_run(took: std::time::Duration) {
    use std::sync::atomic::Ordering::Relaxed;
    SCHEDULER_LAST_AT_MS.store(chrono::Utc::now().timestamp_millis().max(0) as u64, Relaxed);
    SCHEDULER_LAST_MICROS.store(took.as_micros() as u64, Relaxed);
}

/// (Unix time in seconds, duration in seconds) of this process's last scheduler pass; zeros
/// before the first.
pub fn scheduler_last_run() -> (f64, f64) {
    use std::sync::atomic::Ordering::Relaxed;
    (SCHEDULER_LAST_AT_MS.load(Relaxed) as f64 / 1e3, SCHEDULER_LAST_MICROS.load(Relaxed) as f64 / 1e6)
}

/// Who is acting. Built by authentication (session or token) or by the CLI.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub org_unit_id: i64,
    pub org_path: String,
    pub locale: String,
    /// IANA name; the pages show every instant in it (Asia/Shanghai by default).
    pub time_zone: String,
    /// How amounts are shown on the user's pages (元 or 万元).
    pub money_unit: crate::domain::money::MoneyUnit,
    /// The kind of their org unit (`None` for the command line's caller): with the role, it
    /// decides the title they are shown with (`domain::role::title_slot`).
    pub org_kind: Option<crate::domain::role::OrgKind>,
    /// The role titles the company set (read with the caller, so every page can show them).
    pub role_titles: crate::domain::role::RoleTitles,
}

impl Caller {
    /// Today in the caller's time zone (`YYYY-MM-DD`).
    pub fn today(&self) -> String {
        self.day().format("%Y-%m-%d").to_string()
    }

    /// Today in the caller's time zone, as a day.
    pub fn day(&self) -> chrono::NaiveDate {
        let tz = crate::domain::activity::parse_tz(&self.time_zone).unwrap_or(chrono_tz::Asia::Shanghai);
        crate::domain::activity::local_day(clock::now(), tz)
    }

    pub fn sees_credit(&self) -> bool {
        self.role.sees_credit()
    }
    pub fn reach(&self) -> Reach {
        self.role.reach()
    }
}

/// The context of one command: the caller and the request it belongs to (for the audit row).
#[derive(Debug, Clone)]
pub struct Ctx {
    pub caller: Caller,
    pub request_id: String,
}

impl Ctx {
    /// The administrator acting from the command line.
    pub fn system() -> Ctx {
        Ctx {
            caller: Caller {
                user_id: 0,
                username: "system".into(),
                display_name: "system".into(),
                role: Role::Admin,
                org_unit_id: 0,
                org_path: "/".into(),
                locale: "zh-CN".into(),
                time_zone: crate::domain::activity::DEFAULT_TZ.into(),
                money_unit: Default::default(),
                org_kind: None,
                role_titles: Default::default(),
            },
            request_id: "cli".into(),
        }
    }
    pub fn require_admin(&self) -> Result<()> {
        if self.caller.role.is_admin() {
            Ok(())
        } else {
            Err(Error::Forbidden)
        }
    }
}

/// Paging as the API shows it: a page of items and the cursor of the next page.
#[derive(Debug, serde::Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 500;

/// A list's cursor: the last row's sort key and id, opaque to the client (accounts, products).
pub(crate) fn encode_cursor(v: serde_json::Value, id: i64) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::json!([v, id]).to_string())
}

/// Reads an [`encode_cursor`] back; anything else is 422 `invalid_cursor`.
pub(crate) fn decode_cursor(c: &str) -> Result<(serde_json::Value, i64)> {
    use base64::Engine;
    let bad = || Error::invalid("cursor", "invalid_cursor");
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(c).map_err(|_| bad())?;
    let v: serde_json::Value = serde_json::from_slice(&raw).map_err(|_| bad())?;
    let id = v.get(1).and_then(serde_json::Value::as_i64).ok_or_else(bad)?;
    Ok((v.get(0).cloned().unwrap_or(serde_json::Value::Null), id))
}

/// ` AND (col > key OR (col = key AND id_col > id))` (`<` when descending): the rows after an
/// [`encode_cursor`] cursor, the key read as text or as a whole number as the column holds.
pub(crate) fn push_after(
    s: &mut crate::db::sql::Sql,
    cursor: &str,
    col: &str,
    id_col: &str,
    is_text: bool,
    desc: bool,
) -> Result<()> {
    use crate::db::sql::Val;
    let (v, id) = decode_cursor(cursor)?;
    let bad = || Error::invalid("cursor", "invalid_cursor");
    let key = if is_text {
        Val::Text(Some(v.as_str().ok_or_else(bad)?.to_string()))
    } else {
        Val::Int(Some(v.as_i64().ok_or_else(bad)?))
    };
    let op = if desc { "<" } else { ">" };
    s.push(&format!(" AND ({col} {op} ")).bind(key.clone());
    s.push(&format!(" OR ({col} = ")).bind(key).push(&format!(" AND {id_col} {op} ")).bind(id).push("))");
    Ok(())
}

pub fn clamp_limit(limit: Option<i64>) -> Result<i64> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(l) if (1..=MAX_LIMIT).contains(&l) => Ok(l),
        Some(_) => Err(Error::invalid("limit", "limit_range")),
    }
}
