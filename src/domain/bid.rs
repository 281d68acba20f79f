//! Bids (投标决策) and negotiation rounds (商务谈判), docs/DOMAIN.md M6: the codes and the rules
//! that need no storage — the order of a tender's dates, when a decision to bid is beyond the
//! salesperson's authority, and what a result asks for.
use super::role::string_enum;

// The decision on a tender: not yet taken, bid, or no bid.
string_enum!(BidDecision { Pending = "pending", Bid = "bid", NoBid = "no_bid" });

// Where a decision to bid beyond authority stands: none needed, asked, approved, rejected,
// returned for changes, or cancelled (withdrawn, or its figures changed and it was asked again).
string_enum!(BidExceptionState {
    None = "none",
    Pending = "pending",
    Approved = "approved",
    Rejected = "rejected",
    Returned = "returned",
    Cancelled = "cancelled",
});

// How the tender ended.
string_enum!(BidResult { Won = "won", Lost = "lost", Abandoned = "abandoned" });

impl BidExceptionState {
    /// The decision to bid stands: within authority, or its exception approved.
    pub fn stands(self) -> bool {
        matches!(self, BidExceptionState::None | BidExceptionState::Approved)
    }
}

/// Which exceptions a decision to bid carries (000 S-4: beyond the salesperson's authority).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Exceptions {
    /// The bid price is below a product's floor price (declared by the salesperson).
    pub below_floor: bool,
    /// Payment, delivery or warranty terms outside the company's policy.
    pub terms_outside_policy: bool,
    /// The bid bond is above the `bid_exception` flow's limit.
    pub bond_above_limit: bool,
}

impl Exceptions {
    /// Judged against the flow's bond limit (fen): strictly above it is beyond authority.
    pub fn of(below_floor: bool, terms_outside_policy: bool, bond: Option<i64>, bond_limit: i64) -> Exceptions {
        Exceptions { below_floor, terms_outside_policy, bond_above_limit: bond.is_some_and(|b| b > bond_limit) }
    }

    /// Any of them: the decision to bid needs a `bid_exception` request.
    pub fn any(self) -> bool {
        self.below_floor || self.terms_outside_policy || self.bond_above_limit
    }
}

/// The tender's dates as given (`YYYY-MM-DD`, already parsed): the submission deadline is not
/// before the deadline for questions, and the bond comes back no earlier than the submission.
/// Returns the refused (field, code) pairs.
pub fn check_dates(
    questions_due: Option<&str>,
    submission_due: &str,
    bond_return_on: Option<&str>,
) -> Vec<(&'static str, &'static str)> {
    let mut out = vec![];
    if questions_due.is_some_and(|q| submission_due < q) {
        out.push(("submission_due", "submission_before_questions"));
    }
    if bond_return_on.is_some_and(|r| r < submission_due) {
        out.push(("bond_return_on", "bond_return_before_submission"));
    }
    out
}

/// What a result asks for: lost names the winner; won and lost follow a decision to bid that
/// stands. Returns the refused field and code.
pub fn check_result(result: BidResult, winner: Option<&str>) -> Option<(&'static str, &'static str)> {
    (result == BidResult::Lost && winner.is_none_or(|w| w.trim().is_empty())).then_some(("winner", "required"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bond_above_the_limit_is_an_exception_and_one_at_the_limit_is_not() {
        let limit = 50_000_000;
        assert!(!Exceptions::of(false, false, Some(limit), limit).any());
        assert!(Exceptions::of(false, false, Some(limit + 1), limit).bond_above_limit);
        assert!(!Exceptions::of(false, false, None, limit).any());
        assert!(Exceptions::of(true, false, None, limit).any());
        assert!(Exceptions::of(false, true, Some(1), limit).any());
    }

    #[test]
    fn the_tender_dates_keep_their_order() {
        assert!(check_dates(Some("2027-03-01"), "2027-03-10", Some("2027-04-10")).is_empty());
        assert!(check_dates(Some("2027-03-10"), "2027-03-10", Some("2027-03-10")).is_empty(), "same day allowed");
        assert_eq!(
            check_dates(Some("2027-03-11"), "2027-03-10", None),
            [("submission_due", "submission_before_questions")]
        );
        assert_eq!(
            check_dates(None, "2027-03-10", Some("2027-03-09")),
            [("bond_return_on", "bond_return_before_submission")]
        );
    }

    #[test]
    fn a_lost_tender_names_its_winner() {
        assert_eq!(check_result(BidResult::Lost, None), Some(("winner", "required")));
        assert_eq!(check_result(BidResult::Lost, Some("  ")), Some(("winner", "required")));
        assert_eq!(check_result(BidResult::Lost, Some("海克斯康")), None);
        assert_eq!(check_result(BidResult::Won, None), None);
        assert_eq!(check_result(BidResult::Abandoned, None), None);
    }
}
