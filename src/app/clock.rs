//! The time the rules read: the system clock, which a test may move forward (the dunning levels
//! of issue 21 climb over months; a browser test walks them in seconds). Moving it is a test
//! facility only: no setting, command or endpoint reaches [`shift_for_tests`], and a server
//! started by `kam serve` always reads the system clock unchanged.
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, Utc};

/// Seconds added to the system clock (0 outside tests).
static SHIFT_SECS: AtomicI64 = AtomicI64::new(0);

/// Now, as the rules see it.
pub fn now() -> DateTime<Utc> {
    Utc::now() + Duration::seconds(SHIFT_SECS.load(Ordering::Relaxed))
}

/// Moves this process's clock `by` further (tests only: each test runs in its own process
/// under cargo-nextest, so a move never reaches another test).
#[doc(hidden)]
pub fn shift_for_tests(by: Duration) {
    SHIFT_SECS.fetch_add(by.num_seconds(), Ordering::Relaxed);
}
