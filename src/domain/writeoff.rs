//! Bad-debt write-offs (坏账核销) and returns (退货) — what they take off a receivable
//! (DOMAIN.md §12.3, issue 21). Amounts are fen; quantities thousandths of a unit.
use super::money::div_round;
use super::role::{string_enum, Role};

// Where a write-off stands: its request running, then its outcome.
string_enum!(WriteoffState {
    Pending = "pending",
    Approved = "approved",
    Rejected = "rejected",
    Returned = "returned",
    Cancelled = "cancelled",
});

/// Who may propose a write-off: finance, and the sales managers above the owner (the KA
/// manager and up). Salespeople may not.
pub fn may_propose(role: Role) -> bool {
    use Role::*;
    matches!(role, FinanceManager | KaManager | KaDirector | BranchManager | SalesDeptManager | MarketingDirector | Gm)
}

/// Checks a write-off's amount against what the receivable still owes (`outstanding`) less
/// what pending write-offs already reserve: above 0 and not beyond it.
pub fn check_amount(amount: i64, outstanding: i64, reserved: i64) -> Result<(), &'static str> {
    if amount <= 0 {
        return Err("amount_not_positive");
    }
    if amount > outstanding - reserved {
        return Err("beyond_outstanding");
    }
    Ok(())
}

/// The value of `qty` of an order line of `line_qty` for `line_amount`: its share, half up.
pub fn return_value(line_amount: i64, line_qty: i64, qty: i64) -> i64 {
    if line_qty <= 0 {
        return 0;
    }
    div_round(line_amount * qty, line_qty)
}

/// How a return's `value` splits: the part not yet invoiced (`uninvoiced`: what is left to
/// invoice of the order, net of earlier returns) comes off the receivables at once; the rest
/// was invoiced and waits for a red-letter invoice. Returns (reduced now, to credit).
pub fn split_return(value: i64, uninvoiced: i64) -> (i64, i64) {
    let now = value.min(uninvoiced.max(0)).max(0);
    (now, value - now)
}

/// Spreads a reduction over receivables given in the order they give way — (id, what each
/// still owes) — each at most what it owes. Returns (receivable, fen) and what no receivable
/// could take.
pub fn spread(amount: i64, rows: &[(i64, i64)]) -> (Vec<(i64, i64)>, i64) {
    let mut left = amount.max(0);
    let mut out = vec![];
    for (id, owes) in rows {
        if left == 0 {
            break;
        }
        let take = left.min((*owes).max(0));
        if take > 0 {
            out.push((*id, take));
            left -= take;
        }
    }
    (out, left)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_writeoff_takes_at_most_what_is_owed_and_not_reserved() {
        assert_eq!(check_amount(500, 1000, 0), Ok(()));
        assert_eq!(check_amount(1000, 1000, 0), Ok(()));
        assert_eq!(check_amount(1001, 1000, 0), Err("beyond_outstanding"));
        assert_eq!(check_amount(600, 1000, 500), Err("beyond_outstanding"));
        assert_eq!(check_amount(0, 1000, 0), Err("amount_not_positive"));
        assert!(!may_propose(Role::KaRep) && may_propose(Role::FinanceManager) && may_propose(Role::KaManager));
    }

    #[test]
    fn a_return_comes_off_what_is_not_invoiced_first_and_the_rest_waits_for_a_red_letter_invoice() {
        // 2 of 3 units of a 1,000.00 line: 666.67.
        assert_eq!(return_value(100_000, 3_000, 2_000), 66_667);
        assert_eq!(split_return(30_000, 50_000), (30_000, 0));
        assert_eq!(split_return(30_000, 10_000), (10_000, 20_000));
        assert_eq!(split_return(30_000, 0), (0, 30_000));
        assert_eq!(spread(500, &[(3, 200), (2, 0), (1, 1000)]), (vec![(3, 200), (1, 300)], 0));
        assert_eq!(spread(500, &[(3, 200)]), (vec![(3, 200)], 300));
    }
}
