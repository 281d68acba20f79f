//! A few Prometheus counters, rendered in the text exposition format.
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::AppState;

#[derive(Default)]
pub struct Metrics {
    by_class: [AtomicU64; 6],
    micros_total: AtomicU64,
}

impl Metrics {
    pub fn observe(&self, status: u16, took: Duration) {
        let class = (status / 100).min(5) as usize;
        self.by_class[class].fetch_add(1, Ordering::Relaxed);
        self.micros_total.fetch_add(took.as_micros() as u64, Ordering::Relaxed);
    }
}

pub async fn render(State(s): State<AppState>) -> Response {
    let m = &s.metrics;
    let mut out = String::from("# HELP kam_http_requests_total HTTP requests served, by status class.\n# TYPE kam_http_requests_total counter\n");
    let mut total = 0;
    for (i, c) in m.by_class.iter().enumerate().skip(1) {
        let n = c.load(Ordering::Relaxed);
        total += n;
        out.push_str(&format!("kam_http_requests_total{{class=\"{i}xx\"}} {n}\n"));
    }
    let secs = m.micros_total.load(Ordering::Relaxed) as f64 / 1e6;
    out.push_str("# HELP kam_http_request_duration_seconds_sum Time spent serving requests.\n# TYPE kam_http_request_duration_seconds_sum counter\n");
    out.push_str(&format!("kam_http_request_duration_seconds_sum {secs}\n"));
    out.push_str(&format!("kam_http_request_duration_seconds_count {total}\n"));
    let up = if s.app.db.ping().await { 1 } else { 0 };
    out.push_str(&format!(
        "# HELP kam_database_up Whether the database answers.\n# TYPE kam_database_up gauge\nkam_database_up {up}\n"
    ));
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}
