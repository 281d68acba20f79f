//! Scheduled backups (`kam serve --backup-dir`; issue 26 item 8): the backup itself is
//! `db::backup`'s; this keeps the schedule, the claim that makes several servers take one per
//! period, and the retention.
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::db::backup::files_dir;
use crate::db::{Backend, Db};

/// Scheduled backups: every `every` a backup into `dir` named by its time (UTC), the newest
/// `keep` kept. Several servers on one database take one per period between them (a claim in
/// `settings`, as the daily jobs).
pub struct Schedule {
    pub dir: PathBuf,
    pub every: std::time::Duration,
    pub keep: usize,
}

impl Schedule {
    /// Takes the backup of the current period unless another server did; answers the file.
    pub async fn run_once(
        &self,
        db: &Db,
        url: &str,
        data_dir: &Path,
        now: chrono::DateTime<chrono::Utc>,
    ) -> anyhow::Result<Option<PathBuf>> {
        let period = now.timestamp() / self.every.as_secs().max(60) as i64;
        let mut tx = db.begin().await?;
        let claimed = super::settings::claim_day(&mut tx, "backup_period", &period.to_string())
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        tx.commit().await?;
        if claimed.is_none() {
            return Ok(None);
        }
        std::fs::create_dir_all(&self.dir).with_context(|| format!("creating {}", self.dir.display()))?;
        let ext = if db.backend == Backend::Postgres { "dump" } else { "db" };
        let file = self.dir.join(format!("kam-{}.{ext}", now.format("%Y%m%dT%H%M%SZ")));
        db.backup_with_files(url, &file, Some(data_dir)).await?;
        self.prune()?;
        Ok(Some(file))
    }

    /// Removes all but the newest `keep` backups (and their files' folders).
    pub fn prune(&self) -> anyhow::Result<Vec<PathBuf>> {
        let mut found: Vec<PathBuf> = std::fs::read_dir(&self.dir)?
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| {
                let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                n.starts_with("kam-") && (n.ends_with(".db") || n.ends_with(".dump"))
            })
            .collect();
        found.sort();
        let cut = found.len().saturating_sub(self.keep.max(1));
        let old: Vec<PathBuf> = found.into_iter().take(cut).collect();
        for p in &old {
            std::fs::remove_file(p)?;
            let _ = std::fs::remove_dir_all(files_dir(p));
        }
        Ok(old)
    }

    /// Runs [`Schedule::run_once`] every minute until `stop` (a period is claimed once).
    pub fn spawn(
        self,
        db: Db,
        url: String,
        data_dir: PathBuf,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut t = tokio::time::interval(std::time::Duration::from_secs(60));
            t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = t.tick() => {}
                    _ = stop.wait_for(|s| *s) => break,
                }
                match self.run_once(&db, &url, &data_dir, chrono::Utc::now()).await {
                    Ok(Some(f)) => tracing::info!(file = %f.display(), "backup written"),
                    Ok(None) => {}
                    Err(e) => tracing::error!(error = %format!("{e:#}"), "scheduled backup failed"),
                }
            }
        })
    }
}
