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

pub const RAD_CLASSES: [&str; 9] = ["R1", "R2", "R3", "D1", "D2", "D3", "A1", "A2", "A3"];

/// Share of wallet in basis points: trailing-12-month sales ÷ buying power. None without BP.
pub fn sow_bp(sales_12m_fen: Option<i64>, buying_power_fen: Option<i64>) -> Option<i64> {
    let bp = buying_power_fen.filter(|&b| b > 0)?;
    let sales = sales_12m_fen.unwrap_or(0) as i128;
    Some((sales * 10_000 / bp as i128) as i64)
}

/// RAD class (001): rows by SOW (> 50% R, 10–50% D, < 10% A), columns by BP in yuan
/// (> 1,000,000 → 1, 500,000–1,000,000 → 2, < 500,000 → 3). Unclassified without BP.
pub fn rad_class(sales_12m_fen: Option<i64>, buying_power_fen: Option<i64>) -> Option<&'static str> {
    let bp = buying_power_fen.filter(|&b| b > 0)?;
    let sales = sales_12m_fen.unwrap_or(0) as i128;
    let bp128 = bp as i128;
    // Compare exactly, without rounding: sales/bp > 1/2  ⇔  2·sales > bp.
    let row = if 2 * sales > bp128 {
        0
    } else if 10 * sales >= bp128 {
        1
    } else {
        2
    };
    let col = if bp > 100_000_000 {
        0
    } else if bp >= 50_000_000 {
        1
    } else {
        2
    };
    Some(RAD_CLASSES[row * 3 + col])
}

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

    #[test]
    fn rad_boundaries() {
        let y = |v: i64| v * 100;
        assert_eq!(rad_class(Some(y(600_000)), Some(y(1_000_001))), Some("R1"));
        assert_eq!(rad_class(Some(y(500_000)), Some(y(1_000_000))), Some("D2"));
        assert_eq!(rad_class(Some(y(50_000)), Some(y(500_000))), Some("D2"));
        assert_eq!(rad_class(Some(y(49_999)), Some(y(499_999))), Some("A3"));
        assert_eq!(rad_class(Some(y(100_000)), Some(y(400_000))), Some("D3"));
        assert_eq!(rad_class(None, Some(y(2_000_000))), Some("A1"));
        assert_eq!(rad_class(Some(y(1)), None), None);
        assert_eq!(sow_bp(Some(y(1)), Some(y(8))), Some(1250));
    }
}
