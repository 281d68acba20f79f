//! Account classifications: status, level, industry, tier, RAD class, credit grade.
use super::role::string_enum;

string_enum!(Industry {
    Government = "government",
    Military = "military",
    Enterprise = "enterprise",
    Education = "education",
    Finance = "finance",
    Power = "power",
    Telecom = "telecom",
    Other = "other",
});

string_enum!(Level { L1 = "L1", L2 = "L2", L3 = "L3" });

string_enum!(Status {
    Prospect = "prospect",
    Candidate = "candidate",
    KeyAccount = "key_account",
    Downgraded = "downgraded",
});

string_enum!(Tier { Strategic = "strategic", A = "A", B = "B", C = "C" });

string_enum!(CreditGrade { Green = "green", Yellow = "yellow", Red = "red", Black = "black" });

string_enum!(DecisionRole {
    DecisionMaker = "decision_maker",
    PolicyMaker = "policy_maker",
    Influencer = "influencer",
    EndUser = "end_user",
    Gatekeeper = "gatekeeper",
});

string_enum!(Attitude { Supporter = "supporter", Neutral = "neutral", Opponent = "opponent" });

string_enum!(Gender { Male = "male", Female = "female" });

/// A coverage gap in the buying committee: someone who decides or sets policy, with whom we
/// have no working relationship (none recorded, or strength 1 of 5).
pub fn coverage_gap(decision_role: Option<&str>, relationship: Option<i64>) -> bool {
    matches!(decision_role, Some("decision_maker" | "policy_maker")) && relationship.unwrap_or(0) <= 1
}

pub use super::classify::{sow_bp, RAD_CLASSES};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_decision_maker_without_relationship_is_a_gap() {
        assert!(coverage_gap(Some("decision_maker"), None));
        assert!(coverage_gap(Some("policy_maker"), Some(1)));
        assert!(!coverage_gap(Some("decision_maker"), Some(3)));
        assert!(!coverage_gap(Some("end_user"), None));
    }
}
