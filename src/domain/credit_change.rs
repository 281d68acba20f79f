//! The credit change request's clock (大客户信用等级变更申请表, seed 003 §三.五; issue 22): a
//! trigger is recorded with its date; the account's KA manager files the request within 2 days
//! of it; the whole change ends within 10 days of it (each step's deadline is capped there).
use chrono::{DateTime, Duration, Utc};

use super::role::string_enum;

string_enum!(CreditTriggerKind {
    Downgrade = "downgrade",
    ComputedGrade = "computed_grade",
    Proposal = "proposal",
    Dunning90 = "dunning_90",
});

string_enum!(CreditTriggerState { Open = "open", Filed = "filed", Closed = "closed" });

string_enum!(CreditChangeState {
    Pending = "pending",
    Approved = "approved",
    Rejected = "rejected",
    Returned = "returned",
    Cancelled = "cancelled",
});

/// Days from the trigger within which the request is filed (003 §三.五.1).
pub const FILE_WITHIN_DAYS: i64 = 2;
/// Days from the trigger within which the whole change ends (003 §三.五.5).
pub const WHOLE_WITHIN_DAYS: i64 = 10;

/// When the request must be filed by.
pub fn file_by(triggered_at: DateTime<Utc>) -> DateTime<Utc> {
    triggered_at + Duration::days(FILE_WITHIN_DAYS)
}

/// The request's deadline cap: no step's deadline, extended or not, passes it.
pub fn deadline_cap(triggered_at: DateTime<Utc>) -> DateTime<Utc> {
    triggered_at + Duration::days(WHOLE_WITHIN_DAYS)
}

/// Whether an unfiled trigger is past its filing deadline at `now` (then it escalates).
pub fn filing_overdue(triggered_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now > file_by(triggered_at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_runs_from_the_trigger() {
        let t = DateTime::parse_from_rfc3339("2026-12-01T02:00:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(file_by(t), t + Duration::days(2));
        assert_eq!(deadline_cap(t), t + Duration::days(10));
        assert!(!filing_overdue(t, t + Duration::days(2)));
        assert!(filing_overdue(t, t + Duration::days(2) + Duration::seconds(1)));
        assert_eq!(CreditTriggerKind::parse("dunning_90"), Ok(CreditTriggerKind::Dunning90));
        assert!(CreditTriggerKind::parse("whim").is_err());
    }
}
