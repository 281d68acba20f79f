//! Classifying key accounts (docs/DOMAIN.md#7-classification): the RAD class (001) from share of wallet and buying
//! power, the tier (002) from five dimensions each banded 1–5 and weighted, and the service
//! standards each tier is owed. The thresholds, bands, weights and intervals are settings an
//! administrator edits; the wire form (what the API shows and takes, and what is stored) has
//! money and percentages as decimal strings, and is checked here into the working form.
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::error::{DomainError, Errors};
use super::money::{format_bp, format_fen, parse_bp, parse_fen};

pub const RAD_CLASSES: [&str; 9] = ["R1", "R2", "R3", "D1", "D2", "D3", "A1", "A2", "A3"];
pub const TIERS: [&str; 4] = ["strategic", "A", "B", "C"];

// ---------------------------------------------------------------- RAD

/// RAD thresholds (001): R when SOW is above `sow_r_above`, D from `sow_d_from` up to and
/// including it, A below; column 1 when BP is above `bp_1_above`, 2 from `bp_2_from` up to and
/// including it, 3 below. SOW in basis points, BP in fen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rad {
    pub sow_r_above: i64,
    pub sow_d_from: i64,
    pub bp_1_above: i64,
    pub bp_2_from: i64,
}

impl Default for Rad {
    fn default() -> Self {
        Rad { sow_r_above: 5_000, sow_d_from: 1_000, bp_1_above: 100_000_000, bp_2_from: 50_000_000 }
    }
}

/// The RAD thresholds: share of wallet (SOW) in percent, buying power in yuan.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RadWire {
    /// Percent, e.g. "50.00": R above it.
    #[schema(pattern = r"^[0-9]{1,15}(\.[0-9]{1,2})?$", examples("50.00"))]
    pub sow_r_above: String,
    /// Percent: D from it (up to R), A below.
    #[schema(pattern = r"^[0-9]{1,15}(\.[0-9]{1,2})?$", examples("10.00"))]
    pub sow_d_from: String,
    /// Yuan, e.g. "1000000.00": buying power class 1 above it.
    #[schema(value_type = crate::web::api::contract::Money)]
    pub bp_1_above: String,
    /// Yuan: class 2 from it (up to class 1), 3 below.
    #[schema(value_type = crate::web::api::contract::Money)]
    pub bp_2_from: String,
}

impl Rad {
    pub fn wire(&self) -> RadWire {
        RadWire {
            sow_r_above: format_bp(self.sow_r_above),
            sow_d_from: format_bp(self.sow_d_from),
            bp_1_above: format_fen(self.bp_1_above),
            bp_2_from: format_fen(self.bp_2_from),
        }
    }

    /// Checks thresholds: none negative, and the lower bound of each axis not above the upper
    /// (they would overlap).
    pub fn parse(w: &RadWire) -> Result<Rad, DomainError> {
        let mut e = Errors::default();
        let pct = |e: &mut Errors, k: &str, v: &str| {
            let v = e.take(k, parse_bp(v))?;
            if v < 0 {
                e.add(k, "negative");
                None
            } else {
                Some(v)
            }
        };
        let r = pct(&mut e, "sow_r_above", &w.sow_r_above);
        let d = pct(&mut e, "sow_d_from", &w.sow_d_from);
        let b1 = e.take("bp_1_above", parse_fen(&w.bp_1_above));
        let b2 = e.take("bp_2_from", parse_fen(&w.bp_2_from));
        if let (Some(r), Some(d)) = (r, d) {
            if d > r {
                e.add("sow_d_from", "thresholds_overlap");
            }
        }
        if let (Some(b1), Some(b2)) = (b1, b2) {
            if b2 > b1 {
                e.add("bp_2_from", "thresholds_overlap");
            }
        }
        e.finish()?;
        Ok(Rad {
            sow_r_above: r.unwrap_or_default(),
            sow_d_from: d.unwrap_or_default(),
            bp_1_above: b1.unwrap_or_default(),
            bp_2_from: b2.unwrap_or_default(),
        })
    }

    /// The class of an account; None (unclassified) without buying power — never guessed.
    pub fn class(&self, sales_12m_fen: Option<i64>, buying_power_fen: Option<i64>) -> Option<&'static str> {
        let bp = buying_power_fen.filter(|&b| b > 0)?;
        let sow = sow_bp_exact(sales_12m_fen.unwrap_or(0), bp);
        // Compared as fractions, without rounding: sales/bp > t/10000 ⇔ 10000·sales > t·bp.
        let row = if sow.gt(self.sow_r_above) {
            0
        } else if sow.ge(self.sow_d_from) {
            1
        } else {
            2
        };
        let col = if bp > self.bp_1_above {
            0
        } else if bp >= self.bp_2_from {
            1
        } else {
            2
        };
        Some(RAD_CLASSES[row * 3 + col])
    }
}

/// A share of wallet as the exact fraction sales ÷ bp.
struct Share {
    sales: i128,
    bp: i128,
}

fn sow_bp_exact(sales: i64, bp: i64) -> Share {
    Share { sales: sales.max(0) as i128, bp: bp as i128 }
}

impl Share {
    fn gt(&self, bp_threshold: i64) -> bool {
        self.sales * 10_000 > bp_threshold as i128 * self.bp
    }
    fn ge(&self, bp_threshold: i64) -> bool {
        self.sales * 10_000 >= bp_threshold as i128 * self.bp
    }
}

/// Share of wallet in basis points (rounded down): trailing-12-month sales ÷ buying power.
/// None without buying power.
pub fn sow_bp(sales_12m_fen: Option<i64>, buying_power_fen: Option<i64>) -> Option<i64> {
    let bp = buying_power_fen.filter(|&b| b > 0)?;
    let sales = sales_12m_fen.unwrap_or(0).max(0) as i128;
    Some((sales * 10_000 / bp as i128).min(i64::MAX as i128) as i64)
}

// ---------------------------------------------------------------- tiers

/// The five dimensions of 002, in their order, with the unit their bands are in.
pub const DIMENSIONS: [(&str, Unit); 5] = [
    ("sales_amount", Unit::Money),
    ("supply_share", Unit::Percent),
    ("profit_margin", Unit::Percent),
    ("payment_terms", Unit::Days),
    ("sales_expense_ratio", Unit::Percent),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Money,
    Percent,
    Days,
}

impl Unit {
    fn parse(self, v: &str) -> Result<i64, &'static str> {
        match self {
            Unit::Money => parse_fen(v),
            Unit::Percent => parse_bp(v),
            Unit::Days => v.trim().parse::<i64>().map_err(|_| "expected_integer"),
        }
    }
    pub fn format(self, v: i64) -> String {
        match self {
            Unit::Money => format_fen(v),
            Unit::Percent => format_bp(v),
            Unit::Days => v.to_string(),
        }
    }
}

/// A band: values from `from` (inclusive; open below when None) to `to` (exclusive; open above
/// when None) score `score`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Band {
    pub score: i64,
    pub from: Option<i64>,
    pub to: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dimension {
    pub key: &'static str,
    pub unit: Unit,
    /// Percent of the score, the five adding up to 100.
    pub weight: i64,
    /// Ordered by value, contiguous, covering every value.
    pub bands: Vec<Band>,
}

impl Dimension {
    pub fn score(&self, v: i64) -> i64 {
        self.bands
            .iter()
            .find(|b| b.from.is_none_or(|f| v >= f) && b.to.is_none_or(|t| v < t))
            .map(|b| b.score)
            .unwrap_or(1)
    }
}

/// Tier thresholds on the score in hundredths (100–500): strategic from `strategic`, A from
/// `a`, B from `b`, C below.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tiers {
    pub dimensions: Vec<Dimension>,
    pub strategic: i64,
    pub a: i64,
    pub b: i64,
}

fn bands(unit: Unit, cuts: [i64; 4], ascending: bool) -> Vec<Band> {
    let mut out = vec![];
    for i in 0..5 {
        let from = if i == 0 { None } else { Some(cuts[i - 1]) };
        let to = if i == 4 { None } else { Some(cuts[i]) };
        let score = if ascending { i as i64 + 1 } else { 5 - i as i64 };
        out.push(Band { score, from, to });
    }
    let _ = unit;
    out
}

impl Default for Tiers {
    fn default() -> Self {
        let y = |v: i64| v * 100;
        Tiers {
            dimensions: vec![
                Dimension {
                    key: "sales_amount",
                    unit: Unit::Money,
                    weight: 30,
                    bands: bands(Unit::Money, [y(500_000), y(2_000_000), y(5_000_000), y(20_000_000)], true),
                },
                Dimension {
                    key: "supply_share",
                    unit: Unit::Percent,
                    weight: 25,
                    bands: bands(Unit::Percent, [1_000, 2_500, 4_000, 6_000], true),
                },
                Dimension {
                    key: "profit_margin",
                    unit: Unit::Percent,
                    weight: 20,
                    bands: bands(Unit::Percent, [500, 1_000, 1_500, 2_500], true),
                },
                Dimension {
                    key: "payment_terms",
                    unit: Unit::Days,
                    weight: 15,
                    bands: bands(Unit::Days, [30, 60, 90, 180], false),
                },
                Dimension {
                    key: "sales_expense_ratio",
                    unit: Unit::Percent,
                    weight: 10,
                    bands: bands(Unit::Percent, [200, 400, 600, 1_000], false),
                },
            ],
            strategic: 420,
            a: 340,
            b: 260,
        }
    }
}

/// One band of a dimension: values from `from` (inclusive) to `to` (exclusive) score `score`;
/// the lowest band has no `from`, the highest no `to`. Values in the dimension's unit (yuan,
/// percent, days) as decimal strings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BandWire {
    #[schema(minimum = 1, maximum = 5)]
    pub score: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

/// One dimension of the tier score, its weight and its five bands.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DimensionWire {
    /// `sales_amount`, `supply_share`, `profit_margin`, `payment_terms`, `sales_expense_ratio`.
    pub key: String,
    /// Percent of the score; the five add up to 100.
    #[schema(minimum = 0, maximum = 100)]
    pub weight: i64,
    pub bands: Vec<BandWire>,
}

/// The tier bands, weights and score thresholds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TiersWire {
    pub dimensions: Vec<DimensionWire>,
    /// Scores 1.00–5.00 as decimal strings.
    pub strategic: String,
    #[serde(rename = "A")]
    pub a: String,
    #[serde(rename = "B")]
    pub b: String,
}

impl Tiers {
    pub fn wire(&self) -> TiersWire {
        TiersWire {
            dimensions: self
                .dimensions
                .iter()
                .map(|d| DimensionWire {
                    key: d.key.to_string(),
                    weight: d.weight,
                    bands: d
                        .bands
                        .iter()
                        .map(|b| BandWire {
                            score: b.score,
                            from: b.from.map(|v| d.unit.format(v)),
                            to: b.to.map(|v| d.unit.format(v)),
                        })
                        .collect(),
                })
                .collect(),
            strategic: format_fen(self.strategic),
            a: format_fen(self.a),
            b: format_fen(self.b),
        }
    }

    /// Checks the bands (five per dimension, scores 1–5 once each, ordered by value, each
    /// ending where the next begins: no gap, no overlap, open at both ends), the weights (whole
    /// percents adding up to 100) and the tier thresholds (strategic above A above B, within
    /// 1.00–5.00). Every problem is named by its field.
    pub fn parse(w: &TiersWire) -> Result<Tiers, DomainError> {
        let mut e = Errors::default();
        let mut dims = vec![];
        for (key, unit) in DIMENSIONS {
            let found: Vec<&DimensionWire> = w.dimensions.iter().filter(|d| d.key == key).collect();
            let f = format!("dimensions.{key}");
            let Some(d) = found.first() else {
                e.add(&f, "required");
                continue;
            };
            if found.len() > 1 {
                e.add(&f, "duplicate_dimension");
                continue;
            }
            if !(0..=100).contains(&d.weight) {
                e.add(&format!("{f}.weight"), "weight_percent_range");
            }
            let fb = format!("{f}.bands");
            let mut bands = vec![];
            let mut ok = true;
            for (i, b) in d.bands.iter().enumerate() {
                let from = match &b.from {
                    None => None,
                    Some(v) => match unit.parse(v) {
                        Ok(v) => Some(v),
                        Err(c) => {
                            e.add(&format!("{fb}.{i}.from"), c);
                            ok = false;
                            None
                        }
                    },
                };
                let to = match &b.to {
                    None => None,
                    Some(v) => match unit.parse(v) {
                        Ok(v) => Some(v),
                        Err(c) => {
                            e.add(&format!("{fb}.{i}.to"), c);
                            ok = false;
                            None
                        }
                    },
                };
                bands.push(Band { score: b.score, from, to });
            }
            if !ok {
                continue;
            }
            if let Err(code) = check_bands(&mut bands) {
                e.add(&fb, code);
                continue;
            }
            dims.push(Dimension { key, unit, weight: d.weight, bands });
        }
        for d in &w.dimensions {
            if !DIMENSIONS.iter().any(|(k, _)| *k == d.key) {
                e.add(&format!("dimensions.{}", d.key), "unknown_dimension");
            }
        }
        if dims.len() == DIMENSIONS.len() && dims.iter().map(|d| d.weight).sum::<i64>() != 100 {
            e.add("weights", "weights_sum");
        }
        let score = |e: &mut Errors, k: &str, v: &str| -> Option<i64> {
            let v = e.take(k, parse_fen(v))?;
            if !(100..=500).contains(&v) {
                e.add(k, "tier_score_range");
                return None;
            }
            Some(v)
        };
        let s = score(&mut e, "strategic", &w.strategic);
        let a = score(&mut e, "A", &w.a);
        let b = score(&mut e, "B", &w.b);
        if let (Some(s), Some(a), Some(b)) = (s, a, b) {
            if !(s > a && a > b) {
                e.add("tiers", "tier_thresholds_order");
            }
        }
        e.finish()?;
        Ok(Tiers { dimensions: dims, strategic: s.unwrap_or(420), a: a.unwrap_or(340), b: b.unwrap_or(260) })
    }

    fn tier_of(&self, score: i64) -> &'static str {
        if score >= self.strategic {
            "strategic"
        } else if score >= self.a {
            "A"
        } else if score >= self.b {
            "B"
        } else {
            "C"
        }
    }
}

/// Orders bands by value and checks they cover every value exactly once.
fn check_bands(bands: &mut [Band]) -> Result<(), &'static str> {
    if bands.len() != 5 {
        return Err("bands_count");
    }
    let mut scores: Vec<i64> = bands.iter().map(|b| b.score).collect();
    scores.sort();
    if scores != [1, 2, 3, 4, 5] {
        return Err("bands_scores");
    }
    bands.sort_by_key(|b| b.from.map_or(i128::MIN, |v| v as i128));
    if bands[0].from.is_some() || bands[4].to.is_some() {
        return Err("bands_open_ends");
    }
    for b in bands.iter() {
        if let (Some(f), Some(t)) = (b.from, b.to) {
            if f >= t {
                return Err("bands_empty");
            }
        }
    }
    for w in bands.windows(2) {
        match (w[0].to, w[1].from) {
            (Some(t), Some(f)) if t < f => return Err("bands_gap"),
            (Some(t), Some(f)) if t > f => return Err("bands_overlap"),
            (Some(_), Some(_)) => {}
            _ => return Err("bands_overlap"),
        }
    }
    Ok(())
}

/// What the tier is computed from. Sales and share come from the RAD inputs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TierInputs {
    pub sales_12m: Option<i64>,
    pub sow_bp: Option<i64>,
    pub profit_margin_bp: Option<i64>,
    pub payment_terms_days: Option<i64>,
    pub expense_ratio_bp: Option<i64>,
}

impl TierInputs {
    fn value(&self, key: &str) -> Option<i64> {
        match key {
            // No sales recorded is a known zero; share needs buying power.
            "sales_amount" => Some(self.sales_12m.unwrap_or(0)),
            "supply_share" => self.sow_bp,
            "profit_margin" => self.profit_margin_bp,
            "payment_terms" => self.payment_terms_days,
            "sales_expense_ratio" => self.expense_ratio_bp,
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct DimensionScore {
    #[schema(value_type = String)]
    pub dimension: &'static str,
    /// The input in its unit (yuan, percent, days).
    pub value: Option<String>,
    /// 1–5; absent when the input is missing.
    pub band: Option<i64>,
    pub weight: i64,
    /// weight × band, in hundredths of the score.
    pub points: Option<i64>,
}

/// The tier and how it was reached. Without every input there is no tier, and `missing`
/// names what is lacking.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TierResult {
    pub tier: Option<&'static str>,
    /// Hundredths: 100–500.
    pub score: Option<i64>,
    pub breakdown: Vec<DimensionScore>,
    pub missing: Vec<&'static str>,
}

pub fn tier(inp: &TierInputs, t: &Tiers) -> TierResult {
    let mut total = 0;
    let mut missing = vec![];
    let breakdown = t
        .dimensions
        .iter()
        .map(|d| match inp.value(d.key) {
            Some(v) => {
                let band = d.score(v);
                total += band * d.weight;
                DimensionScore {
                    dimension: d.key,
                    value: Some(d.unit.format(v)),
                    band: Some(band),
                    weight: d.weight,
                    points: Some(band * d.weight),
                }
            }
            None => {
                missing.push(d.key);
                DimensionScore { dimension: d.key, value: None, band: None, weight: d.weight, points: None }
            }
        })
        .collect();
    if missing.is_empty() {
        TierResult { tier: Some(t.tier_of(total)), score: Some(total), breakdown, missing }
    } else {
        TierResult { tier: None, score: None, breakdown, missing }
    }
}

// ---------------------------------------------------------------- service standards

/// The three standards of 002: an executive visit, a working contact and a technical
/// exchange, each every N days (None: no such standard for the tier).
pub const STANDARDS: [&str; 3] = ["executive_visit", "working_contact", "technical_exchange"];

/// The longest interval, in days (1–3650), allowed between two contacts of each standard;
/// null: no such standard for the tier.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Intervals {
    pub executive_visit_days: Option<i64>,
    pub working_contact_days: Option<i64>,
    pub technical_exchange_days: Option<i64>,
}

impl Intervals {
    pub fn of(&self, standard: &str) -> Option<i64> {
        match standard {
            "executive_visit" => self.executive_visit_days,
            "working_contact" => self.working_contact_days,
            "technical_exchange" => self.technical_exchange_days,
            _ => None,
        }
    }
}

/// The service standards per tier.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceStandards {
    pub strategic: Intervals,
    #[serde(rename = "A")]
    pub a: Intervals,
    #[serde(rename = "B")]
    pub b: Intervals,
    #[serde(rename = "C")]
    pub c: Intervals,
}

impl Default for ServiceStandards {
    fn default() -> Self {
        let i = |e, w, t| Intervals { executive_visit_days: e, working_contact_days: w, technical_exchange_days: t };
        ServiceStandards {
            strategic: i(Some(90), Some(7), Some(60)),
            a: i(Some(180), Some(14), Some(90)),
            b: i(Some(365), Some(30), Some(180)),
            c: i(None, Some(60), None),
        }
    }
}

impl ServiceStandards {
    pub fn for_tier(&self, tier: &str) -> Option<&Intervals> {
        match tier {
            "strategic" => Some(&self.strategic),
            "A" => Some(&self.a),
            "B" => Some(&self.b),
            "C" => Some(&self.c),
            _ => None,
        }
    }

    /// Every interval 1–3650 days or none.
    pub fn check(&self) -> Result<(), DomainError> {
        let mut e = Errors::default();
        for (t, i) in [("strategic", &self.strategic), ("A", &self.a), ("B", &self.b), ("C", &self.c)] {
            for s in STANDARDS {
                if let Some(d) = i.of(s) {
                    if !(1..=3650).contains(&d) {
                        e.add(&format!("{t}.{s}_days"), "interval_range");
                    }
                }
            }
        }
        e.finish()
    }
}

/// What an activity counts as for the standards: every done contact is a working contact; an
/// executive visit is a done face-to-face one (visit or meeting) marked as such; a technical
/// exchange is a done one marked as such.
pub fn counts_as(standard: &str, kind: &str, purpose: Option<&str>) -> bool {
    match standard {
        "working_contact" => true,
        "executive_visit" => matches!(kind, "visit" | "meeting") && purpose == Some("executive_visit"),
        "technical_exchange" => purpose == Some("technical_exchange"),
        _ => false,
    }
}

/// The purposes an activity may be marked with.
pub const PURPOSES: [&str; 2] = ["executive_visit", "technical_exchange"];

/// One standard on one account: when it was last met, when it is next due, and whether that
/// day has passed. Never met: due `every` days after the account took its tier.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct StandardStatus {
    /// `executive_visit`, `working_contact` or `technical_exchange`.
    #[schema(value_type = String)]
    pub standard: &'static str,
    pub every_days: i64,
    /// The last day it was met; null: never.
    #[schema(value_type = Option<String>, format = Date)]
    pub last: Option<NaiveDate>,
    #[schema(value_type = String, format = Date)]
    pub due: NaiveDate,
    pub overdue: bool,
    /// Days past due (0 when not overdue).
    pub days_overdue: i64,
}

pub fn standard_status(
    standard: &'static str,
    every_days: i64,
    last: Option<NaiveDate>,
    tier_since: NaiveDate,
    today: NaiveDate,
) -> StandardStatus {
    let base = last.unwrap_or(tier_since);
    let due = base + chrono::Duration::days(every_days);
    let days_overdue = (today - due).num_days().max(0);
    StandardStatus { standard, every_days, last, due, overdue: today > due, days_overdue }
}

/// The outside salesperson's focus (001): 10–15 R and 10–15 D accounts.
pub const FOCUS_MIN: i64 = 10;
pub const FOCUS_MAX: i64 = 15;

pub fn focus(n: i64) -> &'static str {
    if n < FOCUS_MIN {
        "below"
    } else if n > FOCUS_MAX {
        "above"
    } else {
        "within"
    }
}

/// SOA in basis points, rounded: covered ÷ in scope (None when nothing is in scope).
pub fn ratio_bp(part: i64, whole: i64) -> Option<i64> {
    if whole <= 0 {
        None
    } else {
        Some(super::quota::round_div(part as i128 * 10_000, whole as i128) as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn y(v: i64) -> i64 {
        v * 100
    }

    #[test]
    fn rad_at_every_boundary_of_the_domain() {
        let r = Rad::default();
        // BP columns: > 1,000,000 → 1; 500,000 ≤ BP ≤ 1,000,000 → 2; < 500,000 → 3.
        assert_eq!(r.class(Some(0), Some(y(1_000_001))), Some("A1"));
        assert_eq!(r.class(Some(0), Some(y(1_000_000))), Some("A2"));
        assert_eq!(r.class(Some(0), Some(y(500_000))), Some("A2"));
        assert_eq!(r.class(Some(0), Some(y(499_999))), Some("A3"));
        assert_eq!(r.class(Some(0), Some(100_000_001)), Some("A1"));
        assert_eq!(r.class(Some(0), Some(49_999_999)), Some("A3"));
        // SOW rows: > 50% R; 10% ≤ SOW ≤ 50% D; < 10% A — exactly, without rounding.
        assert_eq!(r.class(Some(y(500_000)), Some(y(1_000_000))), Some("D2"));
        assert_eq!(r.class(Some(y(500_000) + 1), Some(y(1_000_000))), Some("R2"));
        assert_eq!(r.class(Some(y(100_000)), Some(y(1_000_000))), Some("D2"));
        assert_eq!(r.class(Some(y(100_000) - 1), Some(y(1_000_000))), Some("A2"));
        assert_eq!(r.class(Some(y(50_000)), Some(y(500_000))), Some("D2"));
        assert_eq!(r.class(Some(y(600_000)), Some(y(1_000_001))), Some("R1"));
        assert_eq!(r.class(Some(y(49_999)), Some(y(499_999))), Some("A3"));
        assert_eq!(r.class(Some(y(2)), Some(y(3))), Some("R3"));
        // 1/3 of 0.03 yuan: 33.33…% is D, not rounded anywhere.
        assert_eq!(r.class(Some(1), Some(3)), Some("D3"));
        assert_eq!(r.class(None, Some(y(2_000_000))), Some("A1"));
        // No buying power: unclassified, never guessed.
        assert_eq!(r.class(Some(y(1)), None), None);
        assert_eq!(r.class(Some(y(1)), Some(0)), None);
        assert_eq!(sow_bp(Some(y(1)), Some(y(8))), Some(1250));
        assert_eq!(sow_bp(Some(y(1)), None), None);
    }

    #[test]
    fn rad_thresholds_are_settings_and_overlaps_are_refused() {
        let w = RadWire {
            sow_r_above: "60".into(),
            sow_d_from: "20".into(),
            bp_1_above: "2000000".into(),
            bp_2_from: "800000".into(),
        };
        let r = Rad::parse(&w).unwrap();
        assert_eq!(r.class(Some(y(600_000)), Some(y(1_000_000))), Some("D2"));
        assert_eq!(r.class(Some(y(150_000)), Some(y(1_000_000))), Some("A2"));
        assert_eq!(r.class(Some(y(700_000)), Some(y(700_000))), Some("R3"));
        assert_eq!(Rad::parse(&r.wire()).unwrap(), r);
        let bad = RadWire { sow_d_from: "70".into(), bp_2_from: "-1".into(), ..w };
        let DomainError::Invalid(f) = Rad::parse(&bad).unwrap_err() else { panic!() };
        let got: Vec<(&str, &str)> = f.iter().map(|f| (f.field.as_str(), f.code)).collect();
        assert!(got.contains(&("sow_d_from", "thresholds_overlap")), "{got:?}");
        assert!(got.iter().any(|g| g.0 == "bp_2_from"), "{got:?}");
    }

    #[test]
    fn tier_scores_match_hand_computed_cases() {
        let t = Tiers::default();
        // Sales 6,000,000 → band 4 (5M–20M) × 30 = 120; share 45% → 4 × 25 = 100;
        // margin 12% → 3 × 20 = 60; terms 45 days → 4 × 15 = 60; expense 3% → 4 × 10 = 40.
        // Total 380 → A (≥ 3.40, < 4.20).
        let inp = TierInputs {
            sales_12m: Some(y(6_000_000)),
            sow_bp: Some(4_500),
            profit_margin_bp: Some(1_200),
            payment_terms_days: Some(45),
            expense_ratio_bp: Some(300),
        };
        let r = tier(&inp, &t);
        assert_eq!(r.score, Some(380));
        assert_eq!(r.tier, Some("A"));
        let pts: Vec<Option<i64>> = r.breakdown.iter().map(|d| d.points).collect();
        assert_eq!(pts, vec![Some(120), Some(100), Some(60), Some(60), Some(40)]);
        // Everything at the top: 5 × 100 = 500 → strategic. Band edges are inclusive below.
        let top = TierInputs {
            sales_12m: Some(y(20_000_000)),
            sow_bp: Some(6_000),
            profit_margin_bp: Some(2_500),
            payment_terms_days: Some(29),
            expense_ratio_bp: Some(199),
        };
        assert_eq!(tier(&top, &t).score, Some(500));
        assert_eq!(tier(&top, &t).tier, Some("strategic"));
        // Everything at the bottom: 100 → C; terms of exactly 180 days score 1.
        let low = TierInputs {
            sales_12m: None,
            sow_bp: Some(999),
            profit_margin_bp: Some(-500),
            payment_terms_days: Some(180),
            expense_ratio_bp: Some(1_000),
        };
        assert_eq!(tier(&low, &t).score, Some(100));
        assert_eq!(tier(&low, &t).tier, Some("C"));
        // 2.60 exactly is B; just under is C.
        let b = TierInputs {
            sales_12m: Some(y(2_000_000)), // 3 × 30 = 90
            sow_bp: Some(2_500),           // 3 × 25 = 75
            profit_margin_bp: Some(500),   // 2 × 20 = 40
            payment_terms_days: Some(90),  // 2 × 15 = 30
            expense_ratio_bp: Some(600),   // 2 × 10 = 20 → 255
        };
        assert_eq!(tier(&b, &t).score, Some(255));
        assert_eq!(tier(&b, &t).tier, Some("C"));
        let b2 = TierInputs { expense_ratio_bp: Some(599), ..b }; // 3 × 10 = 30 → 265
        assert_eq!(tier(&b2, &t).tier, Some("B"));
        // A missing input: no tier, and the page can say which.
        let miss = TierInputs { sow_bp: None, payment_terms_days: None, ..inp };
        let r = tier(&miss, &t);
        assert_eq!(r.tier, None);
        assert_eq!(r.missing, vec!["supply_share", "payment_terms"]);
    }

    #[test]
    fn bands_with_gaps_or_overlaps_and_weights_off_100_are_refused() {
        let good = Tiers::default().wire();
        assert_eq!(Tiers::parse(&good).unwrap(), Tiers::default());
        let mut gap = good.clone();
        gap.dimensions[0].bands[1].to = Some("1900000.00".into());
        let mut overlap = good.clone();
        overlap.dimensions[2].bands[3].from = Some("14.00".into());
        let mut weights = good.clone();
        weights.dimensions[4].weight = 15;
        let mut order = good.clone();
        order.a = "4.50".into();
        let mut scores = good.clone();
        scores.dimensions[3].bands[0].score = 4;
        let codes = |w: &TiersWire| -> Vec<(String, &'static str)> {
            match Tiers::parse(w) {
                Err(DomainError::Invalid(f)) => f.into_iter().map(|f| (f.field, f.code)).collect(),
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(codes(&gap), vec![("dimensions.sales_amount.bands".to_string(), "bands_gap")]);
        assert_eq!(codes(&overlap), vec![("dimensions.profit_margin.bands".to_string(), "bands_overlap")]);
        assert_eq!(codes(&weights), vec![("weights".to_string(), "weights_sum")]);
        assert_eq!(codes(&order), vec![("tiers".to_string(), "tier_thresholds_order")]);
        assert_eq!(codes(&scores), vec![("dimensions.payment_terms.bands".to_string(), "bands_scores")]);
    }

    #[test]
    fn a_standard_is_due_every_n_days_from_the_last_time_or_from_the_tier() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let s = standard_status("executive_visit", 90, Some(d("2026-09-01")), d("2026-01-01"), d("2026-11-30"));
        assert_eq!(s.due, d("2026-11-30"));
        assert!(!s.overdue);
        let s = standard_status("executive_visit", 90, Some(d("2026-09-01")), d("2026-01-01"), d("2026-12-03"));
        assert!(s.overdue);
        assert_eq!(s.days_overdue, 3);
        let s = standard_status("working_contact", 7, None, d("2026-11-20"), d("2026-11-28"));
        assert_eq!(s.due, d("2026-11-27"));
        assert_eq!(s.days_overdue, 1);
        assert!(counts_as("executive_visit", "visit", Some("executive_visit")));
        assert!(!counts_as("executive_visit", "phone", Some("executive_visit")));
        assert!(counts_as("working_contact", "phone", None));
        assert!(counts_as("technical_exchange", "meeting", Some("technical_exchange")));
        assert!(!counts_as("technical_exchange", "meeting", None));
    }

    #[test]
    fn focus_and_ratios() {
        assert_eq!(focus(9), "below");
        assert_eq!(focus(10), "within");
        assert_eq!(focus(15), "within");
        assert_eq!(focus(16), "above");
        assert_eq!(ratio_bp(1, 3), Some(3333));
        assert_eq!(ratio_bp(0, 0), None);
    }
}
