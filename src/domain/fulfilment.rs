//! The fulfilment rate (履约率) and the automatic downgrade line (issue 22; seed 003 §三;
//! DOMAIN.md M7): of the installments (receivables) due in the trailing 12 months, how many were
//! paid in full on time.
//!
//! - The window: due dates in (today − 12 months, today], the company's days (Asia/Shanghai).
//! - Fulfilled: paid in full by allocations (`paid ≥ amount`, a written-off part does not count
//!   as paid) on or before the due date + the grace (a company setting, 0 days by default).
//! - Counted as due: an installment in the window that is fulfilled, or whose grace ended
//!   before today (one still inside its grace, unpaid, is not yet kept or broken — as
//!   `receivable::kept` has it). A partly paid installment is due and not fulfilled; a
//!   written-off one likewise; one whose whole amount went back by a return (amount 0) or that
//!   was re-planned away (deleted) is not due at all.
//! - None due: no rate, and no downgrade for it. Below 75 % is compared exactly in whole
//!   numbers: `fulfilled × 100 < 75 × due` (74.99 % is below, 75.00 % is not).
use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

/// The downgrade line in percent: below it a key account is downgraded.
pub const LINE_PERCENT: i64 = 75;

/// The grace after a due date by default: none (the seed gives no figure; the company's
/// choice).
pub const DEFAULT_GRACE_DAYS: i64 = 0;

/// The longest grace a company may set.
pub const MAX_GRACE_DAYS: i64 = 90;

/// An account's fulfilment record over the window: installments due, and of them fulfilled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Fulfilment {
    /// Installments due in the trailing 12 months (see the module's rules).
    pub due: i64,
    /// Of them, paid in full on time (within the grace).
    pub fulfilled: i64,
}

impl Fulfilment {
    /// Whether the record falls below the line: `fulfilled × 100 < 75 × due`, exactly; never
    /// with none due.
    pub fn below_line(self) -> bool {
        self.due > 0 && i128::from(self.fulfilled) * 100 < i128::from(LINE_PERCENT) * i128::from(self.due)
    }

    /// The rate in basis points, rounded half up; None with none due.
    pub fn rate_bp(self) -> Option<i64> {
        if self.due <= 0 {
            return None;
        }
        let (f, d) = (i128::from(self.fulfilled.max(0)), i128::from(self.due));
        Some(((f * 10_000 * 2 + d) / (d * 2)) as i64)
    }

    /// The rate as a percent with two decimals ("66.67"); None with none due.
    pub fn rate_text(self) -> Option<String> {
        self.rate_bp().map(|bp| format!("{}.{:02}", bp / 100, bp % 100))
    }
}

/// The window's bounds as days: (the day before its first day, its last day) — due dates
/// `d` with `from < d ≤ today`.
pub fn window(today: NaiveDate) -> (NaiveDate, NaiveDate) {
    let from = today.checked_sub_months(Months::new(12)).unwrap_or(NaiveDate::MIN);
    (from, today)
}

/// The last due date whose grace has ended before `today`: an unpaid installment due on or
/// before it is broken.
pub fn broken_by(today: NaiveDate, grace_days: i64) -> NaiveDate {
    today - chrono::Duration::days(grace_days.max(0) + 1)
}

/// How one installment counts: `(due, fulfilled)`, each 0 or 1, by the module's rules.
pub fn counts(
    due_on: NaiveDate,
    amount: i64,
    paid: i64,
    paid_in_full_on: Option<NaiveDate>,
    today: NaiveDate,
    grace_days: i64,
) -> (i64, i64) {
    let (from, to) = window(today);
    if amount <= 0 || due_on <= from || due_on > to {
        return (0, 0);
    }
    let deadline = due_on + chrono::Duration::days(grace_days.max(0));
    let fulfilled = paid >= amount && paid_in_full_on.is_some_and(|p| p <= deadline);
    if fulfilled {
        (1, 1)
    } else if due_on <= broken_by(today, grace_days) {
        (1, 0)
    } else {
        (0, 0)
    }
}

/// Checks the grace a company sets: 0 to 90 days.
pub fn check_grace(days: i64) -> Result<(), &'static str> {
    if (0..=MAX_GRACE_DAYS).contains(&days) {
        Ok(())
    } else {
        Err("grace_range")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn seventy_five_percent_keeps_the_account_and_anything_below_does_not() {
        let f = |fulfilled, due| Fulfilment { due, fulfilled };
        assert!(!f(75, 100).below_line(), "75.00 % is not below");
        assert!(!f(3, 4).below_line(), "3 of 4 is 75.00 %");
        assert!(f(7_499, 10_000).below_line(), "74.99 % is below");
        assert!(f(2, 3).below_line(), "66.67 %");
        assert!(f(0, 1).below_line());
        assert!(!f(0, 0).below_line(), "none due: no rate, never downgraded for it");
        assert!(!f(7_500, 10_000).below_line());
        // 74.999… % still rounds to 75.00 % when shown, but is below the line.
        assert!(f(29_999, 40_000).below_line());
        assert_eq!(f(29_999, 40_000).rate_text().as_deref(), Some("75.00"));
        assert_eq!(f(7_499, 10_000).rate_text().as_deref(), Some("74.99"));
        assert_eq!(f(2, 3).rate_text().as_deref(), Some("66.67"));
        assert_eq!(f(2, 4).rate_text().as_deref(), Some("50.00"));
        assert_eq!(f(4, 4).rate_text().as_deref(), Some("100.00"));
        assert_eq!(f(0, 0).rate_text(), None);
    }

    #[test]
    fn the_window_is_the_trailing_twelve_months_and_the_grace_moves_the_deadline() {
        let today = day("2027-03-31");
        assert_eq!(window(today), (day("2026-03-31"), today));
        assert_eq!(window(day("2028-02-29")).0, day("2027-02-28"));
        // Paid on the due date: fulfilled; a day late: not, unless within the grace.
        let due = day("2027-03-01");
        assert_eq!(counts(due, 100, 100, Some(due), today, 0), (1, 1));
        assert_eq!(counts(due, 100, 100, Some(day("2027-03-02")), today, 0), (1, 0));
        assert_eq!(counts(due, 100, 100, Some(day("2027-03-02")), today, 1), (1, 1));
        // Partly paid, or written off for the rest: due and not fulfilled.
        assert_eq!(counts(due, 100, 99, None, today, 0), (1, 0));
        assert_eq!(counts(due, 100, 60, Some(day("2027-03-01")), today, 0), (1, 0));
        // Gone back by a return: not due.
        assert_eq!(counts(due, 0, 0, None, today, 0), (0, 0));
        // Due today, unpaid: not yet broken; paid: fulfilled.
        assert_eq!(counts(today, 100, 0, None, today, 0), (0, 0));
        assert_eq!(counts(today, 100, 100, Some(today), today, 0), (1, 1));
        assert_eq!(counts(day("2027-03-30"), 100, 0, None, today, 0), (1, 0));
        // Inside its grace, unpaid: not yet broken.
        assert_eq!(counts(day("2027-03-30"), 100, 0, None, today, 1), (0, 0));
        assert_eq!(counts(day("2027-03-29"), 100, 0, None, today, 1), (1, 0));
        // Outside the window on either side.
        assert_eq!(counts(day("2026-03-31"), 100, 0, None, today, 0), (0, 0));
        assert_eq!(counts(day("2026-04-01"), 100, 0, None, today, 0), (1, 0));
        assert_eq!(counts(day("2027-04-01"), 100, 100, Some(day("2027-03-01")), today, 0), (0, 0));
        assert_eq!(check_grace(0), Ok(()));
        assert_eq!(check_grace(90), Ok(()));
        assert_eq!(check_grace(91), Err("grace_range"));
        assert_eq!(check_grace(-1), Err("grace_range"));
    }
}
