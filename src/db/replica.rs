//! Read replicas (PostgreSQL; issue 26 item 4). With `KAM_DATABASE_READ_URL` set, report and
//! list reads ([`Db::reads`]) go to a streaming replica; every write, and every read inside a
//! write, stays on the primary (they use [`Db::begin`] or the primary pool).
//!
//! Three rules keep what a user sees right:
//! - **Their own writes**: a request that changes something marks its user (`users.wrote_at`,
//!   on the primary, before the answer leaves); for [`own_writes_window`] after that, every
//!   read of theirs goes to the primary, so they see their change at once. The mark is in the
//!   database, so it holds across several `kam serve` processes.
//! - **Lag**: a monitor compares the primary's WAL position with what the replica has replayed
//!   four times a second; the replica's lag is how long ago the primary first held WAL the
//!   replica has not replayed yet. Beyond the bound (`KAM_READ_MAX_LAG_SECS`), reads go to the
//!   primary until it catches up.
//! - **Down**: a replica that does not answer the monitor is left out the same way.
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Row};

/// How often the monitor asks both servers.
const TICK: Duration = Duration::from_millis(250);

pub struct Replica {
    pub(super) pool: AnyPool,
    max_lag: Duration,
    usable: AtomicBool,
    /// The last measured lag (ms); -1 when the replica did not answer.
    lag_ms: AtomicI64,
    /// Reads served by the replica and by the primary ([`Db::reads`]), for `/metrics`.
    pub(super) served_replica: AtomicU64,
    pub(super) served_primary: AtomicU64,
}

impl Replica {
    pub(super) async fn connect(url: &str, max_lag: Duration, pool_size: u32) -> anyhow::Result<Replica> {
        let opts = <AnyConnectOptions as std::str::FromStr>::from_str(url).context("KAM_DATABASE_READ_URL")?;
        let pool = AnyPoolOptions::new()
            .max_connections(pool_size)
            // A replica that stops answering is left out by the monitor; a read waiting for it
            // meanwhile gives up sooner than one on the primary.
            .acquire_timeout(Duration::from_secs(1))
            .test_before_acquire(false)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    use sqlx::Executor;
                    conn.execute("SET plan_cache_mode = force_generic_plan").await?;
                    conn.execute("SET random_page_cost = 1.1").await?;
                    Ok(())
                })
            })
            .connect_lazy_with(opts);
        Ok(Replica {
            pool,
            max_lag,
            usable: AtomicBool::new(false),
            lag_ms: AtomicI64::new(-1),
            served_replica: AtomicU64::new(0),
            served_primary: AtomicU64::new(0),
        })
    }

    pub fn usable(&self) -> bool {
        self.usable.load(Relaxed)
    }

    /// The last measured lag; `None` when the replica did not answer.
    pub fn lag(&self) -> Option<Duration> {
        let ms = self.lag_ms.load(Relaxed);
        (ms >= 0).then(|| Duration::from_millis(ms as u64))
    }

    pub fn max_lag(&self) -> Duration {
        self.max_lag
    }

    /// Reads served by (the replica, the primary) since the start.
    pub fn served(&self) -> (u64, u64) {
        (self.served_replica.load(Relaxed), self.served_primary.load(Relaxed))
    }

    /// Watches the replica until `alive` is gone (the last handle on the database dropped).
    pub(super) fn spawn_monitor(self: &Arc<Self>, primary: AnyPool, alive: std::sync::Weak<tokio::sync::Mutex<()>>) {
        let me = Arc::downgrade(self);
        tokio::spawn(async move {
            let samples: Mutex<VecDeque<(Instant, i64)>> = Mutex::new(VecDeque::new());
            let mut tick = tokio::time::interval(TICK);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut was_usable = None;
            loop {
                tick.tick().await;
                let Some(r) = me.upgrade() else { break };
                if alive.upgrade().is_none() || primary.is_closed() {
                    break;
                }
                let lag = measure(&primary, &r.pool, &samples, r.max_lag).await;
                let ok = matches!(lag, Ok(l) if l <= r.max_lag);
                r.lag_ms.store(lag.as_ref().map(|l| l.as_millis() as i64).unwrap_or(-1), Relaxed);
                r.usable.store(ok, Relaxed);
                if was_usable != Some(ok) {
                    match &lag {
                        Ok(l) if ok => tracing::info!(lag_ms = l.as_millis() as u64, "read replica in use"),
                        Ok(l) => tracing::warn!(
                            lag_ms = l.as_millis() as u64,
                            bound_ms = r.max_lag.as_millis() as u64,
                            "read replica behind its bound: reads go to the primary"
                        ),
                        Err(e) => tracing::warn!(error = %e, "read replica unreachable: reads go to the primary"),
                    }
                    was_usable = Some(ok);
                }
            }
        });
    }
}

/// How far behind the primary the replica is: the time since the primary first held WAL the
/// replica has not replayed (zero when it has replayed everything the primary has written).
async fn measure(
    primary: &AnyPool,
    replica: &AnyPool,
    samples: &Mutex<VecDeque<(Instant, i64)>>,
    max_lag: Duration,
) -> anyhow::Result<Duration> {
    let probe = async {
        let p: i64 = sqlx::query("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint AS lsn")
            .fetch_one(primary)
            .await
            .context("the primary's WAL position")?
            .try_get("lsn")?;
        let r: Option<i64> = sqlx::query(
            "SELECT CASE WHEN pg_is_in_recovery() THEN pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::bigint \
             ELSE pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint END AS lsn",
        )
        .fetch_one(replica)
        .await
        .context("the replica's replayed position")?
        .try_get("lsn")?;
        Ok::<_, anyhow::Error>((p, r.unwrap_or(0)))
    };
    let (p, r) = tokio::time::timeout(Duration::from_secs(2), probe).await.context("no answer within 2 s")??;
    let now = Instant::now();
    let keep = (max_lag * 2).max(Duration::from_secs(10));
    let mut s = samples.lock().unwrap_or_else(|e| e.into_inner());
    s.push_back((now, p));
    while s.front().is_some_and(|(t, _)| now.duration_since(*t) > keep) {
        s.pop_front();
    }
    if r >= p {
        return Ok(Duration::ZERO);
    }
    // The oldest sample already ahead of the replica: the replica lacks WAL the primary held
    // then. All samples ahead: at least as old as the oldest kept.
    let since = s.iter().find(|(_, lsn)| *lsn > r).map(|(t, _)| *t).unwrap_or(now);
    Ok(now.duration_since(since).max(TICK))
}

/// How long after a user's write their reads stay on the primary: the lag bound and a margin,
/// so a replica within its bound has their change by then.
pub fn own_writes_window(max_lag: Duration) -> Duration {
    max_lag + Duration::from_secs(2)
}

/// Where this request's reads may go.
#[derive(Debug, Default)]
pub struct ReadRoute {
    /// The primary only: a write request, or a user within their own-writes window.
    primary: AtomicBool,
    /// The signed-in user, once authentication knows them.
    user_id: AtomicI64,
}

tokio::task_local! {
    static ROUTE: Arc<ReadRoute>;
}

impl ReadRoute {
    /// Runs `f` (one request) with its routing: a write request reads from the primary.
    pub async fn scope<F: std::future::Future>(write: bool, f: F) -> (F::Output, Arc<ReadRoute>) {
        let route = Arc::new(ReadRoute { primary: AtomicBool::new(write), user_id: AtomicI64::new(0) });
        let out = ROUTE.scope(route.clone(), f).await;
        (out, route)
    }

    pub fn user_id(&self) -> Option<i64> {
        let id = self.user_id.load(Relaxed);
        (id > 0).then_some(id)
    }
}

/// Authentication found the request's user, who last wrote at `wrote_at` (stored time): within
/// the window, this request reads from the primary.
pub fn saw_user(user_id: i64, wrote_at: Option<&str>, window: Duration) {
    let _ = ROUTE.try_with(|r| {
        r.user_id.store(user_id, Relaxed);
        let recent = wrote_at.and_then(super::parse_ts).is_some_and(|t| {
            let age = chrono::Utc::now() - t;
            age < chrono::Duration::from_std(window).unwrap_or(chrono::Duration::seconds(10))
        });
        if recent {
            r.primary.store(true, Relaxed);
        }
    });
}

/// Whether this task's reads must stay on the primary (outside a request: no).
pub(super) fn primary_required() -> bool {
    ROUTE.try_with(|r| r.primary.load(Relaxed)).unwrap_or(false)
}
