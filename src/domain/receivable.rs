//! Receivables and their collection (应收帐款, 帐龄, 冲销票据, 催款; DOMAIN.md M7, issue 21):
//! how old an unpaid amount is, which bucket of the aging report it falls in, how a payment is
//! spread over what the customer owes, how far the dunning has climbed, whether an installment
//! was paid in full on time (the fulfilment record the credit rules read), and the DSO.
//!
//! Amounts are fen; days are whole calendar days; dates are the company's days (`NaiveDate`).
use chrono::NaiveDate;

use crate::domain::quote::Refusal;
use crate::domain::role::string_enum;

// Where a receivable stands: planned until its installment's event happens, then open with a
// due date, paid in full, or written off.
string_enum!(ReceivableState {
    Scheduled = "scheduled",
    Open = "open",
    Paid = "paid",
    WrittenOff = "written_off",
});

// Why orders are held (冻结, §12.5): one order by hand, all of an account's orders by the
// dunning level that holds, or one order by the credit check (信用冻结, issue 22).
string_enum!(HoldKind { General = "general", Dunning = "dunning", Credit = "credit" });

// How the customer was reached about what it owes (催款记录).
string_enum!(Channel { Phone = "phone", Visit = "visit", Letter = "letter", Email = "email", Message = "message" });

// How a payment came: a bank transfer, an acceptance bill (承兑汇票), a cheque, cash, other.
string_enum!(PaymentMethod {
    Transfer = "transfer",
    Acceptance = "acceptance",
    Cheque = "cheque",
    Cash = "cash",
    Other = "other",
});

/// The aging report's bounds in days past due: 0–30, 31–60, 61–90 and over 90 (seed 000's
/// 帐龄; DOMAIN.md M7). Configurable; these are the defaults.
pub const DEFAULT_BUCKETS: [i64; 3] = [30, 60, 90];

/// Days past the due date on `today`: 0 on the due date, negative before it.
pub fn days_overdue(due_on: NaiveDate, today: NaiveDate) -> i64 {
    (today - due_on).num_days()
}

/// The aging column of an amount `days` past due under `bounds` (ascending): 0 is "not yet
/// due" (due today or later), 1 the first bucket (1 to bounds[0] days, shown as "0–30"), …,
/// `bounds.len() + 1` the last ("over 90").
pub fn bucket_of(days: i64, bounds: &[i64]) -> usize {
    if days <= 0 {
        return 0;
    }
    bounds.iter().position(|b| days <= *b).map(|i| i + 1).unwrap_or(bounds.len() + 1)
}

/// The buckets' labels, from the bounds: `["0–30", "31–60", "61–90", ">90"]`.
pub fn bucket_labels(bounds: &[i64]) -> Vec<String> {
    let mut out = vec![];
    let mut from = 0;
    for b in bounds {
        out.push(format!("{from}–{b}"));
        from = b + 1;
    }
    out.push(format!(">{}", bounds.last().copied().unwrap_or(0)));
    out
}

/// Checks the aging bounds a company sets: at least one, each above 0, strictly ascending, at
/// most 3650 days.
pub fn check_buckets(bounds: &[i64]) -> Result<(), &'static str> {
    if bounds.is_empty() || bounds.len() > 8 {
        return Err("buckets_count");
    }
    if bounds.iter().any(|b| !(1..=3650).contains(b)) || bounds.windows(2).any(|w| w[0] >= w[1]) {
        return Err("buckets_ascending");
    }
    Ok(())
}

/// A receivable with something left to pay, as a payment's allocation sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Open {
    pub id: i64,
    pub due_on: NaiveDate,
    /// What is still owed (fen, above 0).
    pub outstanding: i64,
}

/// Spreads a payment over the open receivables, the oldest due first (then the lowest id): each
/// takes what it still owes until the payment runs out. Returns the allocations `(receivable,
/// fen)` and what is left over — the customer's credit balance (an over-payment).
pub fn allocate_oldest_first(amount: i64, open: &[Open]) -> (Vec<(i64, i64)>, i64) {
    let mut order: Vec<&Open> = open.iter().filter(|o| o.outstanding > 0).collect();
    order.sort_by_key(|o| (o.due_on, o.id));
    let mut left = amount.max(0);
    let mut out = vec![];
    for o in order {
        if left == 0 {
            break;
        }
        let take = left.min(o.outstanding);
        out.push((o.id, take));
        left -= take;
    }
    (out, left)
}

/// Checks allocations given by hand (`allocations[i].receivable_id`, `allocations[i].amount`):
/// each to a receivable that is open, above 0 and not beyond what it still owes, each
/// receivable once, and together not beyond the payment's `amount`. The refusals name the
/// field and the row.
pub fn check_allocations(amount: i64, given: &[(i64, i64)], open: &[Open]) -> Vec<Refusal> {
    let mut why: Vec<Refusal> = vec![];
    let mut seen = std::collections::HashSet::new();
    let mut sum: i64 = 0;
    for (i, (id, fen)) in given.iter().enumerate() {
        let f = |name: &str| format!("allocations[{i}].{name}");
        if !seen.insert(*id) {
            why.push((f("receivable_id"), "duplicate_receivable"));
            continue;
        }
        match open.iter().find(|o| o.id == *id) {
            None => why.push((f("receivable_id"), "receivable_not_open")),
            Some(_) if *fen <= 0 => why.push((f("amount"), "amount_not_positive")),
            Some(o) if *fen > o.outstanding => why.push((f("amount"), "beyond_outstanding")),
            Some(_) => {}
        }
        sum = sum.saturating_add((*fen).max(0));
    }
    if why.is_empty() && sum > amount {
        why.push(("amount".into(), "allocations_beyond_payment"));
    }
    why
}

/// What a dunning level asks (催款): the defaults of issue 21, each the company's to change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DunAction {
    /// A reminder to the owner.
    Remind,
    /// The owner calls the customer.
    OwnerCalls,
    /// The KA manager calls.
    ManagerCalls,
    /// Finance sends its formal letter.
    FinanceLetter,
    /// New orders are held.
    Hold,
}

impl DunAction {
    pub fn code(self) -> &'static str {
        match self {
            DunAction::Remind => "remind",
            DunAction::OwnerCalls => "owner_calls",
            DunAction::ManagerCalls => "manager_calls",
            DunAction::FinanceLetter => "finance_letter",
            DunAction::Hold => "hold",
        }
    }

    pub fn parse(s: &str) -> Result<DunAction, &'static str> {
        Ok(match s {
            "remind" => DunAction::Remind,
            "owner_calls" => DunAction::OwnerCalls,
            "manager_calls" => DunAction::ManagerCalls,
            "finance_letter" => DunAction::FinanceLetter,
            "hold" => DunAction::Hold,
            _ => return Err("invalid_choice"),
        })
    }
}

/// A dunning level: from this many days past due, this action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DunLevel {
    pub days: i64,
    pub action: DunAction,
}

/// Issue 21's levels: 1 day a reminder to the owner, 15 the owner calls, 30 the KA manager
/// calls, 60 finance's formal letter, 90 new orders held.
pub fn default_levels() -> Vec<DunLevel> {
    vec![
        DunLevel { days: 1, action: DunAction::Remind },
        DunLevel { days: 15, action: DunAction::OwnerCalls },
        DunLevel { days: 30, action: DunAction::ManagerCalls },
        DunLevel { days: 60, action: DunAction::FinanceLetter },
        DunLevel { days: 90, action: DunAction::Hold },
    ]
}

/// Checks a company's levels: at least one, days ascending from at least 1.
pub fn check_levels(levels: &[DunLevel]) -> Result<(), &'static str> {
    if levels.is_empty() {
        return Err("levels_count");
    }
    if levels.first().is_some_and(|l| l.days < 1) || levels.windows(2).any(|w| w[0].days >= w[1].days) {
        return Err("levels_ascending");
    }
    Ok(())
}

/// The level an unpaid amount has reached (an index into `levels`), or None before the first:
/// by its days past due, raised one level for each promise to pay that was broken (never past
/// the last).
pub fn level_of(days: i64, broken_promises: i64, levels: &[DunLevel]) -> Option<usize> {
    let by_days = levels.iter().rposition(|l| days >= l.days);
    let last = levels.len().checked_sub(1)?;
    match (by_days, broken_promises.max(0) as usize) {
        (None, 0) => None,
        (None, n) => Some((n - 1).min(last)),
        (Some(i), n) => Some((i + n).min(last)),
    }
}

/// Where a collection worklist puts an amount: amount × days past due (larger first).
pub fn collection_weight(outstanding: i64, days: i64) -> i128 {
    i128::from(outstanding.max(0)) * i128::from(days.max(0))
}

/// How an installment was kept (the fulfilment record, 履约记录).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kept {
    /// Not yet due.
    NotDue,
    /// Paid in full by its due date.
    OnTime,
    /// Paid in full this many days after its due date.
    Late(i64),
    /// Due and not paid in full.
    Unpaid,
}

/// How an installment due on `due_on` was kept by `today`, given the day it was paid in full.
pub fn kept(due_on: NaiveDate, paid_in_full_on: Option<NaiveDate>, today: NaiveDate) -> Kept {
    match paid_in_full_on {
        Some(p) if p <= due_on => Kept::OnTime,
        Some(p) => Kept::Late((p - due_on).num_days()),
        None if today <= due_on => Kept::NotDue,
        None => Kept::Unpaid,
    }
}

/// The fulfilment rate in basis points: installments paid in full on time ÷ installments due,
/// by number (DOMAIN.md M7); None when none was due. The caller picks the window (the trailing
/// 12 months).
pub fn fulfilment_rate(record: &[Kept]) -> Option<i64> {
    let due = record.iter().filter(|k| **k != Kept::NotDue).count() as i64;
    if due == 0 {
        return None;
    }
    let on_time = record.iter().filter(|k| **k == Kept::OnTime).count() as i64;
    // Rounded half up to the basis point.
    Some((on_time * 10_000 * 2 + due) / (due * 2))
}

/// Days sales outstanding over a period: receivables ÷ sales × days, rounded to the day; None
/// without sales in the period.
pub fn dso(receivables: i64, sales: i64, days: i64) -> Option<i64> {
    if sales <= 0 || days <= 0 {
        return None;
    }
    let (r, s, d) = (i128::from(receivables.max(0)), i128::from(sales), i128::from(days));
    Some(((r * d * 2 + s) / (s * 2)) as i64)
}

// Where the credit check held an order (issue 22): at its submission for sign-off, at the
// sign-off's approval, or at its delivery (an outbound prepared or shipped).
string_enum!(CreditStage { Submit = "submit", Signoff = "signoff", Delivery = "delivery" });

// Why the credit check held an order: the exposure went above the limit, or the grade is red or
// black. Credit information: shown only to those who may see credit.
string_enum!(CreditCause { OverLimit = "over_limit", Grade = "grade" });

// A credit decision on a held order: release it (the flow goes on) or reject it (the order is
// cancelled).
string_enum!(CreditDecision { Release = "release", Reject = "reject" });

/// The credit check (信用冻结, issue 22): an order of an account graded red or black is held
/// whatever its amount; otherwise, when the account has a limit, the order is held if the
/// exposure with it (`exposure`, fen) is above the limit (equal to it passes). No limit and a
/// green, yellow or no grade: it passes.
pub fn credit_cause(limit: Option<i64>, grade: Option<&str>, exposure: i64) -> Option<CreditCause> {
    if matches!(grade, Some("red" | "black")) {
        return Some(CreditCause::Grade);
    }
    match limit {
        Some(l) if exposure > l => Some(CreditCause::OverLimit),
        _ => None,
    }
}

/// What the credit check saw when it held an order, in fen (kept on the hold; credit
/// information).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CreditFigures {
    pub cause: CreditCause,
    /// The account's grade then (`green`, `yellow`, `red`, `black`), if it had one.
    pub grade: Option<String>,
    /// The account's credit limit then, if it had one.
    pub limit: Option<i64>,
    /// What the account's other orders still owed (their receivables not yet paid).
    pub others: i64,
    /// What this order adds: the total checked less what was paid or written off on it.
    pub order_amount: i64,
    /// `others + order_amount`: the exposure with the order.
    pub exposure: i64,
}

/// Whether an earlier release of the order still covers a later check of it (at its sign-off or
/// delivery): the decider accepted the exposure they saw, so the check holds the order again only
/// when the exposure is now higher, or the grade turned red or black since.
pub fn release_covers(released_exposure: i64, released_cause: CreditCause, exposure: i64, now: CreditCause) -> bool {
    exposure <= released_exposure && (now == CreditCause::OverLimit || released_cause == CreditCause::Grade)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn aging_buckets_hold_at_their_boundaries() {
        let b = DEFAULT_BUCKETS;
        let cases = [(-3, 0), (0, 0), (1, 1), (30, 1), (31, 2), (60, 2), (61, 3), (90, 3), (91, 4), (4000, 4)];
        for (days, bucket) in cases {
            assert_eq!(bucket_of(days, &b), bucket, "{days} days past due");
        }
        assert_eq!(bucket_labels(&b), vec!["0–30", "31–60", "61–90", ">90"]);
        assert_eq!(days_overdue(day("2027-01-31"), day("2027-03-02")), 30);
        assert_eq!(days_overdue(day("2027-01-31"), day("2027-01-30")), -1);
    }

    #[test]
    fn bucket_bounds_must_ascend() {
        assert_eq!(check_buckets(&[30, 60, 90]), Ok(()));
        assert_eq!(check_buckets(&[]), Err("buckets_count"));
        assert_eq!(check_buckets(&[30, 30]), Err("buckets_ascending"));
        assert_eq!(check_buckets(&[0, 30]), Err("buckets_ascending"));
    }

    #[test]
    fn a_payment_goes_to_the_oldest_first_and_the_rest_is_a_credit_balance() {
        let open = [
            Open { id: 3, due_on: day("2027-03-01"), outstanding: 50_000 },
            Open { id: 1, due_on: day("2027-01-01"), outstanding: 30_000 },
            Open { id: 2, due_on: day("2027-01-01"), outstanding: 20_000 },
        ];
        assert_eq!(allocate_oldest_first(40_000, &open), (vec![(1, 30_000), (2, 10_000)], 0));
        assert_eq!(allocate_oldest_first(120_000, &open), (vec![(1, 30_000), (2, 20_000), (3, 50_000)], 20_000));
        assert_eq!(allocate_oldest_first(0, &open), (vec![], 0));
    }

    #[test]
    fn allocations_by_hand_name_the_row_that_is_wrong() {
        let open = [Open { id: 1, due_on: day("2027-01-01"), outstanding: 30_000 }];
        assert!(check_allocations(30_000, &[(1, 30_000)], &open).is_empty());
        assert_eq!(
            check_allocations(50_000, &[(1, 30_001)], &open),
            vec![("allocations[0].amount".into(), "beyond_outstanding")]
        );
        assert_eq!(
            check_allocations(50_000, &[(9, 1)], &open),
            vec![("allocations[0].receivable_id".into(), "receivable_not_open")]
        );
        assert_eq!(
            check_allocations(50_000, &[(1, 0)], &open),
            vec![("allocations[0].amount".into(), "amount_not_positive")]
        );
        assert_eq!(
            check_allocations(10_000, &[(1, 20_000)], &open),
            vec![("amount".into(), "allocations_beyond_payment")]
        );
        assert_eq!(
            check_allocations(50_000, &[(1, 1), (1, 1)], &open),
            vec![("allocations[1].receivable_id".into(), "duplicate_receivable")]
        );
    }

    #[test]
    fn dunning_climbs_by_days_and_by_broken_promises() {
        let l = default_levels();
        assert_eq!(check_levels(&l), Ok(()));
        assert_eq!(level_of(0, 0, &l), None);
        assert_eq!(level_of(1, 0, &l).map(|i| l[i].action), Some(DunAction::Remind));
        assert_eq!(level_of(14, 0, &l).map(|i| l[i].action), Some(DunAction::Remind));
        assert_eq!(level_of(15, 0, &l).map(|i| l[i].action), Some(DunAction::OwnerCalls));
        assert_eq!(level_of(30, 0, &l).map(|i| l[i].action), Some(DunAction::ManagerCalls));
        assert_eq!(level_of(60, 0, &l).map(|i| l[i].action), Some(DunAction::FinanceLetter));
        assert_eq!(level_of(90, 0, &l).map(|i| l[i].action), Some(DunAction::Hold));
        // A broken promise at 20 days: the KA manager's level, not the owner's.
        assert_eq!(level_of(20, 1, &l).map(|i| l[i].action), Some(DunAction::ManagerCalls));
        assert_eq!(level_of(95, 3, &l).map(|i| l[i].action), Some(DunAction::Hold));
        assert_eq!(level_of(0, 1, &l).map(|i| l[i].action), Some(DunAction::Remind));
        assert_eq!(check_levels(&[DunLevel { days: 0, action: DunAction::Remind }]), Err("levels_ascending"));
    }

    #[test]
    fn the_fulfilment_record_counts_installments_paid_in_full_on_time() {
        let due = day("2027-03-31");
        assert_eq!(kept(due, Some(day("2027-03-31")), day("2027-06-01")), Kept::OnTime);
        assert_eq!(kept(due, Some(day("2027-04-05")), day("2027-06-01")), Kept::Late(5));
        assert_eq!(kept(due, None, day("2027-03-31")), Kept::NotDue);
        assert_eq!(kept(due, None, day("2027-04-01")), Kept::Unpaid);
        assert_eq!(fulfilment_rate(&[Kept::NotDue]), None);
        // 3 on time of 4 due: 75.00 %, exactly the downgrade line.
        let r = [Kept::OnTime, Kept::OnTime, Kept::OnTime, Kept::Late(2), Kept::NotDue];
        assert_eq!(fulfilment_rate(&r), Some(7_500));
        assert_eq!(fulfilment_rate(&[Kept::OnTime, Kept::Unpaid, Kept::Unpaid]), Some(3_333));
    }

    #[test]
    fn dso_is_receivables_over_sales_times_days() {
        assert_eq!(dso(1_000_000, 3_000_000, 90), Some(30));
        assert_eq!(dso(1, 3, 1), Some(0));
        assert_eq!(dso(2, 3, 1), Some(1));
        assert_eq!(dso(1_000_000, 0, 90), None);
        assert_eq!(collection_weight(10_000, 3), 30_000);
        assert_eq!(collection_weight(10_000, -3), 0);
    }

    #[test]
    fn the_credit_check_holds_above_the_limit_and_red_or_black_whatever_the_amount() {
        assert_eq!(credit_cause(None, None, 10_i64.pow(12)), None);
        assert_eq!(credit_cause(None, Some("green"), 1), None);
        assert_eq!(credit_cause(Some(100_000), Some("yellow"), 100_000), None);
        assert_eq!(credit_cause(Some(100_000), None, 100_001), Some(CreditCause::OverLimit));
        assert_eq!(credit_cause(None, Some("red"), 1), Some(CreditCause::Grade));
        assert_eq!(credit_cause(Some(10_i64.pow(12)), Some("black"), 0), Some(CreditCause::Grade));
        // A release covers the exposure it saw, not more, and not a grade that turned red.
        assert!(release_covers(500, CreditCause::OverLimit, 500, CreditCause::OverLimit));
        assert!(!release_covers(500, CreditCause::OverLimit, 501, CreditCause::OverLimit));
        assert!(!release_covers(500, CreditCause::OverLimit, 400, CreditCause::Grade));
        assert!(release_covers(500, CreditCause::Grade, 400, CreditCause::Grade));
    }
}
