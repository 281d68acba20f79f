//! Prometheus metrics (`GET /metrics`), recorded with the `metrics` crate and rendered by
//! `metrics-exporter-prometheus`. Each router keeps its own recorder (tests build many in one
//! process). Names (also in README):
//! - `kam_http_requests_total{route, method, status}` — requests served, by route template
//!   (`/api/v1/accounts/{id}`; `unmatched` for no route), method and status class (`2xx`);
//! - `kam_http_request_duration_seconds{route, method, status}` — latency histogram;
//! - `kam_db_connections{state="in_use"|"idle"}` — the database pool;
//! - `kam_outbox_deliveries{state="pending"|"failed"}` — notification deliveries waiting or
//!   given up on;
//! - `kam_scheduler_last_run_timestamp_seconds`, `kam_scheduler_last_run_duration_seconds` —
//!   the background pass of this process (0 before its first run);
//! - `kam_database_up` — whether the database answers;
//! - `kam_bulk_rows_copied_total` — rows this process's imports and loads committed through
//!   PostgreSQL's `COPY` (`db/copy.rs`; PostgreSQL only).
use std::time::Duration;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusRecorder};

use super::AppState;

/// Latency buckets in seconds: 1 ms to 10 s.
const BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

pub struct Metrics {
    recorder: PrometheusRecorder,
}

impl Default for Metrics {
    fn default() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full("kam_http_request_duration_seconds".into()), BUCKETS)
            .expect("buckets")
            .build_recorder();
        Metrics { recorder }
    }
}

impl Metrics {
    pub fn observe(&self, route: &str, method: &str, status: u16, took: Duration) {
        let class = format!("{}xx", (status / 100).clamp(1, 5));
        let labels = [("route", route.to_string()), ("method", method.to_string()), ("status", class)];
        metrics::with_local_recorder(&self.recorder, || {
            metrics::counter!("kam_http_requests_total", &labels).increment(1);
            metrics::histogram!("kam_http_request_duration_seconds", &labels).record(took.as_secs_f64());
        });
    }
}

pub async fn render(State(s): State<AppState>) -> Response {
    let db = &s.app.db;
    let up = db.ping().await;
    let size = db.pool.size() as f64;
    let idle = db.pool.num_idle() as f64;
    // A failed count is logged; the gauges keep their last known value (never a false zero).
    let outbox = match crate::app::records::notify::outbox_counts(db).await {
        Ok(c) => Some(c),
        Err(e) => {
            tracing::warn!(error = %e, "metrics: counting the outbox failed");
            None
        }
    };
    let (last_at, last_secs) = crate::app::scheduler_last_run();
    let m = &s.metrics;
    metrics::with_local_recorder(&m.recorder, || {
        metrics::gauge!("kam_database_up").set(if up { 1.0 } else { 0.0 });
        metrics::gauge!("kam_db_connections", "state" => "in_use").set(size - idle);
        metrics::gauge!("kam_db_connections", "state" => "idle").set(idle);
        if let Some((pending, failed)) = outbox {
            metrics::gauge!("kam_outbox_deliveries", "state" => "pending").set(pending as f64);
            metrics::gauge!("kam_outbox_deliveries", "state" => "failed").set(failed as f64);
        }
        metrics::gauge!("kam_scheduler_last_run_timestamp_seconds").set(last_at);
        metrics::gauge!("kam_scheduler_last_run_duration_seconds").set(last_secs);
        if db.backend == crate::db::Backend::Postgres {
            metrics::counter!("kam_bulk_rows_copied_total").absolute(db.rows_copied());
        }
        if let Some(r) = db.replica() {
            let (replica, primary) = r.served();
            metrics::gauge!("kam_read_replica_in_use").set(if r.usable() { 1.0 } else { 0.0 });
            metrics::gauge!("kam_read_replica_lag_seconds").set(r.lag().map_or(-1.0, |l| l.as_secs_f64()));
            metrics::gauge!("kam_db_reads", "served_by" => "replica").set(replica as f64);
            metrics::gauge!("kam_db_reads", "served_by" => "primary").set(primary as f64);
        }
    });
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], m.recorder.handle().render()).into_response()
}
