//! Identifying key accounts (识别大客户, seed 002 §一): the criteria that propose candidates, and
//! which of them an account meets. The seed names the criteria (buying power, the 20/80 core of
//! sales, industry, strategic region, market influence, loyalty) but no thresholds: those are
//! the company's choice, with the defaults below.
use serde::{Deserialize, Serialize};

use super::account::Industry;
use super::error::Errors;

/// The criteria's codes, in the order the list shows them.
pub const CODES: &[&str] = &["buying_power", "sales_12m", "industry", "region", "market_influence", "loyalty"];

/// The identification criteria. A criterion left empty (`None`, an empty list) is not used;
/// an account is proposed when it meets at least `required` of those used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Criteria {
    /// Annual buying power (年度采购量) at least this many fen.
    pub min_buying_power: Option<i64>,
    /// Trailing-12-month sales with us at least this many fen (the 20/80 core).
    pub min_sales_12m: Option<i64>,
    /// Industries of interest (codes of [`Industry`]).
    pub industries: Vec<String>,
    /// Strategic regions: org unit codes; an account in one of them (its region or branch) meets it.
    pub regions: Vec<String>,
    /// Market influence (assessed 1–5 on the development plan) at least this.
    pub min_market_influence: Option<i64>,
    /// Loyalty (assessed 1–5 on the development plan) at least this.
    pub min_loyalty: Option<i64>,
    /// How many of the criteria used must be met (1 to their number).
    pub required: i64,
}

impl Default for Criteria {
    /// The company's choice until it saves its own: 500万元 of annual buying power, 100万元 of
    /// trailing sales, market influence and loyalty at least 4 of 5; two of these four met.
    /// No industry or region is chosen (the company names its own).
    fn default() -> Self {
        Criteria {
            min_buying_power: Some(5_000_000 * 100),
            min_sales_12m: Some(1_000_000 * 100),
            industries: vec![],
            regions: vec![],
            min_market_influence: Some(4),
            min_loyalty: Some(4),
            required: 2,
        }
    }
}

/// What the criteria read of an account.
#[derive(Debug, Clone, Default)]
pub struct Facts<'a> {
    pub buying_power: Option<i64>,
    pub sales_12m: Option<i64>,
    pub industry: &'a str,
    /// The account's region or branch is one of the strategic regions.
    pub in_region: bool,
    pub market_influence: Option<i64>,
    pub loyalty: Option<i64>,
}

impl Criteria {
    /// The codes of the criteria in use.
    pub fn used(&self) -> Vec<&'static str> {
        let on = [
            self.min_buying_power.is_some(),
            self.min_sales_12m.is_some(),
            !self.industries.is_empty(),
            !self.regions.is_empty(),
            self.min_market_influence.is_some(),
            self.min_loyalty.is_some(),
        ];
        CODES.iter().zip(on).filter(|(_, on)| *on).map(|(c, _)| *c).collect()
    }

    /// The criteria the account meets, in [`CODES`] order.
    pub fn met(&self, f: &Facts) -> Vec<&'static str> {
        let at_least = |v: Option<i64>, min: Option<i64>| matches!((v, min), (Some(v), Some(m)) if v >= m);
        let hits = [
            at_least(f.buying_power, self.min_buying_power),
            at_least(f.sales_12m, self.min_sales_12m),
            self.industries.iter().any(|i| i == f.industry),
            !self.regions.is_empty() && f.in_region,
            at_least(f.market_influence, self.min_market_influence),
            at_least(f.loyalty, self.min_loyalty),
        ];
        CODES.iter().zip(hits).filter(|(_, hit)| *hit).map(|(c, _)| *c).collect()
    }

    /// Whether the account is proposed: at least `required` criteria met.
    pub fn proposes(&self, f: &Facts) -> bool {
        self.met(f).len() as i64 >= self.required
    }

    /// Checks the criteria (the org units' existence is the caller's to check); the fields
    /// named as the API names them.
    pub fn check(&self, e: &mut Errors) {
        for (field, v) in [("min_buying_power", self.min_buying_power), ("min_sales_12m", self.min_sales_12m)] {
            if v.is_some_and(|v| v < 0) {
                e.add(field, "negative");
            }
        }
        for (field, v) in [("min_market_influence", self.min_market_influence), ("min_loyalty", self.min_loyalty)] {
            if v.is_some_and(|v| !(1..=5).contains(&v)) {
                e.add(field, "score_range");
            }
        }
        for (i, code) in self.industries.iter().enumerate() {
            if Industry::parse(code).is_err() {
                e.add(&format!("industries[{i}]"), "invalid_choice");
            } else if self.industries[..i].contains(code) {
                e.add(&format!("industries[{i}]"), "duplicate_choice");
            }
        }
        for (i, code) in self.regions.iter().enumerate() {
            if self.regions[..i].contains(code) {
                e.add(&format!("regions[{i}]"), "duplicate_choice");
            }
        }
        if self.industries.len() > 20 {
            e.add("industries", "too_many");
        }
        if self.regions.len() > 50 {
            e.add("regions", "too_many");
        }
        let used = self.used().len() as i64;
        if used == 0 {
            e.add("required", "criteria_none");
        } else if !(1..=used).contains(&self.required) {
            e.add("required", "criteria_required_range");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_propose_an_account_meeting_two_of_four() {
        let c = Criteria::default();
        assert_eq!(c.used(), ["buying_power", "sales_12m", "market_influence", "loyalty"]);
        let big = Facts { buying_power: Some(5_000_000 * 100), loyalty: Some(4), ..Facts::default() };
        assert_eq!(c.met(&big), ["buying_power", "loyalty"]);
        assert!(c.proposes(&big));
        let small = Facts { buying_power: Some(5_000_000 * 100 - 1), loyalty: Some(4), ..Facts::default() };
        assert_eq!(c.met(&small), ["loyalty"]);
        assert!(!c.proposes(&small));
    }

    #[test]
    fn industry_and_region_count_only_when_chosen() {
        let c = Criteria {
            industries: vec!["power".into()],
            regions: vec!["R1".into()],
            required: 2,
            ..Criteria::default()
        };
        let f = Facts { industry: "power", in_region: true, ..Facts::default() };
        assert_eq!(c.met(&f), ["industry", "region"]);
        let none = Criteria { regions: vec![], ..c };
        assert_eq!(none.met(&f), ["industry"]);
    }

    #[test]
    fn bad_criteria_name_their_fields() {
        let c = Criteria {
            min_buying_power: Some(-1),
            min_sales_12m: None,
            industries: vec!["power".into(), "nope".into(), "power".into()],
            regions: vec![],
            min_market_influence: Some(6),
            min_loyalty: None,
            required: 5,
        };
        let mut e = Errors::default();
        c.check(&mut e);
        let got: Vec<String> = e.0.iter().map(|f| format!("{}:{}", f.field, f.code)).collect();
        assert_eq!(
            got,
            [
                "min_buying_power:negative",
                "min_market_influence:score_range",
                "industries[1]:invalid_choice",
                "industries[2]:duplicate_choice",
                "required:criteria_required_range"
            ]
        );
        let empty = Criteria {
            min_buying_power: None,
            min_sales_12m: None,
            industries: vec![],
            regions: vec![],
            min_market_influence: None,
            min_loyalty: None,
            required: 1,
        };
        let mut e = Errors::default();
        empty.check(&mut e);
        assert_eq!(e.0[0].code, "criteria_none");
    }
}
