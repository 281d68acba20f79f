//! Delivery (出库单, 发货, 到货, 验收; DOMAIN.md §12.2, issue 21): an outbound's states and the
//! rule that an outbound never sends more of an order line than is left of it.
use super::role::string_enum;

string_enum!(OutboundState {
    Prepared = "prepared",
    Shipped = "shipped",
    Delivered = "delivered",
    Accepted = "accepted",
    Cancelled = "cancelled",
});

impl OutboundState {
    /// The state a step moves from, and the step's name (`ship`: prepared → shipped).
    pub fn next(self) -> Option<OutboundState> {
        match self {
            OutboundState::Prepared => Some(OutboundState::Shipped),
            OutboundState::Shipped => Some(OutboundState::Delivered),
            OutboundState::Delivered => Some(OutboundState::Accepted),
            OutboundState::Accepted | OutboundState::Cancelled => None,
        }
    }
    /// The goods reached the customer (delivered, or delivered and accepted).
    pub fn arrived(self) -> bool {
        matches!(self, OutboundState::Delivered | OutboundState::Accepted)
    }
}

/// One order line as an outbound sees it: its position, what was ordered and what is already
/// on an outbound that is not cancelled (thousandths of a unit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineLeft {
    pub position: i64,
    pub ordered: i64,
    pub outbound: i64,
}

impl LineLeft {
    /// What may still go out (never below zero: a later version may order less).
    pub fn left(&self) -> i64 {
        (self.ordered - self.outbound).max(0)
    }
}

/// A refused field: (field, code).
pub type Refusal = (String, &'static str);

/// Checks an outbound's lines, given as (position, quantity in thousandths) in the order they
/// were given, against the order's lines: each names a line of the order once, none sends
/// more than is left of it, and at least one sends something (lines of 0 are left out).
/// Refusals name the row: `lines[1].quantity`.
pub fn check_lines(given: &[(i64, i64)], order: &[LineLeft]) -> Vec<Refusal> {
    let mut out = vec![];
    let mut seen = vec![];
    for (i, (pos, qty)) in given.iter().enumerate() {
        let Some(line) = order.iter().find(|l| l.position == *pos) else {
            out.push((format!("lines[{i}].position"), "unknown_order_line"));
            continue;
        };
        if seen.contains(pos) {
            out.push((format!("lines[{i}].position"), "duplicate_order_line"));
            continue;
        }
        seen.push(*pos);
        if *qty > line.left() {
            out.push((format!("lines[{i}].quantity"), "beyond_left_to_deliver"));
        }
    }
    if out.is_empty() && !given.iter().any(|(_, q)| *q > 0) {
        out.push(("lines".into(), "nothing_to_deliver"));
    }
    out
}

/// How far an order's lines have come: per line, what was ordered and what has gone out,
/// arrived and been accepted (each counted at most up to what was ordered).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    pub lines: i64,
    /// Lines not yet wholly on outbounds.
    pub unplanned: i64,
    /// Lines not yet wholly delivered.
    pub undelivered: i64,
    /// Lines not yet wholly accepted.
    pub unaccepted: i64,
}

/// Counts the lines: (ordered, on outbounds, delivered, accepted) per line.
pub fn progress(lines: &[(i64, i64, i64, i64)]) -> Progress {
    let mut p = Progress { lines: lines.len() as i64, ..Progress::default() };
    for (ordered, out, delivered, accepted) in lines {
        p.unplanned += i64::from(out < ordered);
        p.undelivered += i64::from(delivered < ordered);
        p.unaccepted += i64::from(accepted < ordered);
    }
    p
}

/// Days a delivery is late on `today`: past the requested day and not wholly delivered.
pub fn days_late(requested: Option<chrono::NaiveDate>, today: chrono::NaiveDate, open: bool) -> Option<i64> {
    let r = requested?;
    (open && today > r).then(|| (today - r).num_days())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(position: i64, ordered: i64, outbound: i64) -> LineLeft {
        LineLeft { position, ordered, outbound }
    }

    #[test]
    fn an_outbound_sends_at_most_what_is_left_of_each_line() {
        let order = [l(0, 10_000, 4_000), l(1, 2_000, 0)];
        assert!(check_lines(&[(0, 6_000), (1, 1_000)], &order).is_empty());
        assert_eq!(
            check_lines(&[(1, 1_000), (0, 6_001)], &order),
            vec![("lines[1].quantity".to_string(), "beyond_left_to_deliver")]
        );
        assert_eq!(check_lines(&[(0, 0)], &order), vec![("lines".to_string(), "nothing_to_deliver")]);
        assert_eq!(check_lines(&[], &order), vec![("lines".to_string(), "nothing_to_deliver")]);
        assert_eq!(
            check_lines(&[(7, 1_000), (0, 1_000), (0, 1_000)], &order),
            vec![
                ("lines[0].position".to_string(), "unknown_order_line"),
                ("lines[2].position".to_string(), "duplicate_order_line")
            ]
        );
        // A later version ordering less than went out leaves nothing, never less.
        assert_eq!(l(0, 1_000, 3_000).left(), 0);
    }

    #[test]
    fn progress_counts_lines_not_quantities() {
        let p = progress(&[(10, 10, 10, 4), (5, 5, 0, 0), (3, 0, 0, 0)]);
        assert_eq!(p, Progress { lines: 3, unplanned: 1, undelivered: 2, unaccepted: 3 });
    }

    #[test]
    fn late_is_past_the_requested_day_and_not_wholly_delivered() {
        let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        let today = d("2027-03-10").unwrap_or_default();
        assert_eq!(days_late(d("2027-03-01"), today, true), Some(9));
        assert_eq!(days_late(d("2027-03-10"), today, true), None);
        assert_eq!(days_late(d("2027-03-01"), today, false), None);
        assert_eq!(days_late(None, today, true), None);
    }
}
