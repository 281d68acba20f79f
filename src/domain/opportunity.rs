//! The funnel (seed 001; docs/DOMAIN.md#3-the-funnel): fixed stages with fixed probabilities, and the exit criteria
//! each stage must meet before an opportunity moves past it.
use super::role::string_enum;

string_enum!(Stage {
    Identified = "identified",
    Contacted = "contacted",
    Qualified = "qualified",
    Developed = "developed",
    Committed = "committed",
    Won = "won",
    Lost = "lost",
});

/// The open stages, in funnel order.
pub const OPEN: [Stage; 5] =
    [Stage::Identified, Stage::Contacted, Stage::Qualified, Stage::Developed, Stage::Committed];

/// Exit criteria per open stage (001, 漏斗级别 1–5); the codes are the checklist items.
pub const CRITERIA: [(Stage, &[&str]); 5] = [
    (Stage::Identified, &["key_people_identified", "org_structure_confirmed", "need_determined", "first_visit_booked"]),
    (
        Stage::Contacted,
        &["committee_identified", "critical_need_confirmed", "solutions_confirmed", "meetings_recorded"],
    ),
    (
        Stage::Qualified,
        &["need_agreed", "benefits_agreed", "solution_agreed", "financial_ability_confirmed", "delivery_plan_agreed"],
    ),
    (Stage::Developed, &["proposal_reviewed", "quote_approved"]),
    (Stage::Committed, &["chose_us", "terms_agreed", "contract_signed"]),
];

impl Stage {
    /// Win probability in percent.
    pub fn probability(self) -> i64 {
        match self {
            Stage::Identified => 10,
            Stage::Contacted => 25,
            Stage::Qualified => 50,
            Stage::Developed => 75,
            Stage::Committed => 90,
            Stage::Won => 100,
            Stage::Lost => 0,
        }
    }

    /// Position in the funnel: open stages 0–4, won 5; lost has none.
    pub fn rank(self) -> Option<usize> {
        match self {
            Stage::Won => Some(5),
            Stage::Lost => None,
            s => OPEN.iter().position(|o| *o == s),
        }
    }

    pub fn is_open(self) -> bool {
        !matches!(self, Stage::Won | Stage::Lost)
    }

    /// This stage's exit criteria (none for won and lost).
    pub fn criteria(self) -> &'static [&'static str] {
        CRITERIA.iter().find(|(s, _)| *s == self).map(|(_, c)| *c).unwrap_or(&[])
    }
}

/// Whether `item` is a checklist item of some stage.
pub fn is_criterion(item: &str) -> bool {
    CRITERIA.iter().any(|(_, c)| c.contains(&item))
}

/// What kind of move `from → to` is, which decides what it asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    /// Further down the funnel (to a later open stage): the exit criteria of every stage left.
    Forward,
    /// Won: the criteria of every stage left, and the booked amount and date.
    Win,
    /// Back up the funnel: a reason.
    Back,
    /// Lost: a reason and the competitor who won.
    Lose,
    /// Out of won or lost again: a reason.
    Reopen,
}

pub fn classify(from: Stage, to: Stage) -> Result<Move, &'static str> {
    if from == to {
        return Err("same_stage");
    }
    Ok(match (from.is_open(), to) {
        (false, _) => Move::Reopen,
        (true, Stage::Won) => Move::Win,
        (true, Stage::Lost) => Move::Lose,
        (true, _) if to.rank() > from.rank() => Move::Forward,
        (true, _) => Move::Back,
    })
}

/// The criteria a forward move or a win must have met: those of `from` and of every open stage
/// between it and `to`.
pub fn required(from: Stage, to: Stage) -> Vec<&'static str> {
    let (Some(a), Some(b)) = (from.rank(), to.rank()) else { return vec![] };
    OPEN.iter()
        .filter(|s| s.rank().is_some_and(|r| r >= a && r < b))
        .flat_map(|s| s.criteria().iter().copied())
        .collect()
}

/// Of the criteria a move needs, those not checked.
pub fn unmet(from: Stage, to: Stage, checked: &[String]) -> Vec<&'static str> {
    required(from, to).into_iter().filter(|c| !checked.iter().any(|d| d == c)).collect()
}

/// Weighted amount in fen: amount × probability, rounded down to the fen.
pub fn weighted(amount_fen: i64, stage: Stage) -> i64 {
    (amount_fen as i128 * stage.probability() as i128 / 100) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probabilities_are_the_funnels() {
        let p: Vec<i64> = Stage::ALL.iter().map(|s| s.probability()).collect();
        assert_eq!(p, vec![10, 25, 50, 75, 90, 100, 0]);
    }

    #[test]
    fn moves_are_classified() {
        use Stage::*;
        assert_eq!(classify(Identified, Qualified), Ok(Move::Forward));
        assert_eq!(classify(Qualified, Contacted), Ok(Move::Back));
        assert_eq!(classify(Committed, Won), Ok(Move::Win));
        assert_eq!(classify(Identified, Lost), Ok(Move::Lose));
        assert_eq!(classify(Won, Committed), Ok(Move::Reopen));
        assert_eq!(classify(Lost, Identified), Ok(Move::Reopen));
        assert_eq!(classify(Contacted, Contacted), Err("same_stage"));
    }

    #[test]
    fn a_jump_needs_the_criteria_of_every_stage_it_leaves() {
        use Stage::*;
        assert_eq!(required(Identified, Contacted), Identified.criteria().to_vec());
        let jump = required(Identified, Qualified);
        assert_eq!(jump.len(), Identified.criteria().len() + Contacted.criteria().len());
        assert_eq!(required(Committed, Won), Committed.criteria().to_vec());
        assert_eq!(required(Identified, Won).len(), 4 + 4 + 5 + 2 + 3);
        assert!(required(Qualified, Contacted).is_empty());
        let checked: Vec<String> = Identified.criteria().iter().map(|s| s.to_string()).collect();
        assert!(unmet(Identified, Contacted, &checked).is_empty());
        assert_eq!(unmet(Identified, Qualified, &checked), Contacted.criteria().to_vec());
    }

    #[test]
    fn weighted_amounts_round_down_to_the_fen() {
        assert_eq!(weighted(100_000, Stage::Contacted), 25_000);
        assert_eq!(weighted(333, Stage::Identified), 33);
        assert_eq!(weighted(i64::MAX, Stage::Won), i64::MAX);
        assert_eq!(weighted(5_000, Stage::Lost), 0);
    }
}
