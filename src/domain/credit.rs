//! Credit (seed 003 §三 大客户信用管理方案): the credit scoring form (信用等级评分表) and its score,
//! the grade bands by transaction amount (绿/黄/红/黑名单) worsened by the fulfilment record, the
//! limit table (score → credit limit) and each grade's management measures. Pure rules; the
//! company's setting (`app::credit::settings`) supplies the numbers, whose defaults are the
//! company's choice (the seed leaves the amounts blank).
//!
//! Arithmetic is integer throughout: amounts in fen, percentages in basis points, the score
//! rounded half up.
use super::account::CreditGrade;
use super::quote::InstallmentKind;

/// The categories of the scoring form, in the seed's order (信用评估类别).
pub const CATEGORIES: &[&str] = &["basic", "ability", "capital", "environment"];

/// The items of the scoring form with their category, in the seed's order (003 §三.3 大客户信用
/// 评估内容表): basic situation (history, owner, business policy, internal management, bank
/// information), comprehensive ability (management, facilities and equipment, staff, production
/// and sales capacity), capital (structure, relations, ability to raise capital, financial state
/// and solvency, collateral), business environment (policy, economy, industry).
pub const ITEMS: &[(&str, &str)] = &[
    ("history", "basic"),
    ("owner", "basic"),
    ("business_policy", "basic"),
    ("internal_management", "basic"),
    ("bank_info", "basic"),
    ("management_ability", "ability"),
    ("facilities", "ability"),
    ("staff", "ability"),
    ("production_capacity", "ability"),
    ("sales_capacity", "ability"),
    ("capital_structure", "capital"),
    ("capital_relations", "capital"),
    ("capital_raising", "capital"),
    ("solvency", "capital"),
    ("collateral", "capital"),
    ("policy_factors", "environment"),
    ("economic_factors", "environment"),
    ("industry_factors", "environment"),
];

/// The documents an evaluation requires (评估步骤 ①): the business licence, the legal
/// representative's ID, the financial statements of the last year-end and the last quarter-end.
pub const REQUIRED_DOCUMENTS: &[&str] =
    &["business_licence", "legal_rep_id", "statements_year_end", "statements_quarter_end"];

/// Any other supporting document.
pub const OTHER_DOCUMENT: &str = "other";

/// The category of a form item, or `None` when the form has no such item.
pub fn category_of(item: &str) -> Option<&'static str> {
    ITEMS.iter().find(|(i, _)| *i == item).map(|(_, c)| *c)
}

/// How far a grade stands from the best (green 0 … black 3).
pub fn rank(g: CreditGrade) -> usize {
    CreditGrade::ALL.iter().position(|x| *x == g).unwrap_or(CreditGrade::ALL.len() - 1)
}

/// The grade `steps` worse than `g`, black at worst.
pub fn worse(g: CreditGrade, steps: i64) -> CreditGrade {
    let i = (rank(g) as i64 + steps.max(0)).min(CreditGrade::ALL.len() as i64 - 1);
    CreditGrade::ALL[i as usize]
}

/// A grade band: transaction amounts (trailing 12 months, fen) from `from` (inclusive) up to
/// `to` (exclusive; `None`: no upper bound).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Band {
    pub grade: CreditGrade,
    pub from: i64,
    pub to: Option<i64>,
}

/// The fulfilment standard: a fulfilment rate below `below_bp` (basis points of a percent)
/// worsens the amount's grade by `down` steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Worsening {
    pub below_bp: i64,
    pub down: i64,
}

/// A row of the limit table: scores `from..=to` give the credit limit `limit` (fen).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitRow {
    pub from: i64,
    pub to: i64,
    pub limit: i64,
}

/// A grade's management measures (管理措施).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measures {
    pub grade: CreditGrade,
    /// The longest credit an installment may be given, in days after its event (0: none).
    pub max_credit_days: i64,
    /// The installment kinds a quote or order of such an account may carry.
    pub installments: Vec<InstallmentKind>,
    /// The largest discount (basis points) granted on the usual authority.
    pub max_discount_bp: i64,
    /// Whether the account's orders need prepayment (款到发货).
    pub prepayment: bool,
}

impl Measures {
    /// Whether these measures restrict the terms a salesperson may offer (prepayment, or not
    /// every installment kind): below supervisor level they show as "these terms need approval".
    pub fn restricts(&self) -> bool {
        self.prepayment || self.installments.len() < InstallmentKind::ALL.len()
    }
}

/// The company's credit rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    /// Each item is scored 0..=`scale_max`.
    pub scale_max: i64,
    /// Each item of [`ITEMS`] with its weight, in that order.
    pub weights: Vec<(String, i64)>,
    pub bands: Vec<Band>,
    pub fulfilment: Vec<Worsening>,
    pub limits: Vec<LimitRow>,
    pub measures: Vec<Measures>,
}

/// One 万元 in fen.
pub const WAN: i64 = 1_000_000;

impl Default for Rules {
    /// The shipped defaults — the company's choice (the seed gives no figures): each item scored
    /// 0–5; weights basic 5, ability 5, capital 7, environment 5 per item (100 in all); black
    /// below 100万, red 100万–500万, yellow 500万–2000万, green from 2000万; a fulfilment rate
    /// below 90 % one grade worse, below 80 % two; limits 0–59 none, 60–69 20万, 70–79 50万,
    /// 80–89 100万, 90–100 200万.
    fn default() -> Self {
        use CreditGrade::*;
        use InstallmentKind::*;
        let weight = |c: &str| if c == "capital" { 7 } else { 5 };
        Rules {
            scale_max: 5,
            weights: ITEMS.iter().map(|(i, c)| (i.to_string(), weight(c))).collect(),
            bands: vec![
                Band { grade: Black, from: 0, to: Some(100 * WAN) },
                Band { grade: Red, from: 100 * WAN, to: Some(500 * WAN) },
                Band { grade: Yellow, from: 500 * WAN, to: Some(2000 * WAN) },
                Band { grade: Green, from: 2000 * WAN, to: None },
            ],
            fulfilment: vec![Worsening { below_bp: 9000, down: 1 }, Worsening { below_bp: 8000, down: 2 }],
            limits: vec![
                LimitRow { from: 0, to: 59, limit: 0 },
                LimitRow { from: 60, to: 69, limit: 20 * WAN },
                LimitRow { from: 70, to: 79, limit: 50 * WAN },
                LimitRow { from: 80, to: 89, limit: 100 * WAN },
                LimitRow { from: 90, to: 100, limit: 200 * WAN },
            ],
            measures: vec![
                Measures {
                    grade: Green,
                    max_credit_days: 90,
                    installments: vec![Advance, OnDelivery, AfterAcceptance, Retention],
                    max_discount_bp: 1500,
                    prepayment: false,
                },
                Measures {
                    grade: Yellow,
                    max_credit_days: 60,
                    installments: vec![Advance, OnDelivery, AfterAcceptance],
                    max_discount_bp: 1000,
                    prepayment: false,
                },
                Measures {
                    grade: Red,
                    max_credit_days: 30,
                    installments: vec![Advance, OnDelivery],
                    max_discount_bp: 500,
                    prepayment: true,
                },
                Measures {
                    grade: Black,
                    max_credit_days: 0,
                    installments: vec![Advance],
                    max_discount_bp: 0,
                    prepayment: true,
                },
            ],
        }
    }
}

/// A field error: (field, code).
pub type FieldIssue = (String, &'static str);

/// `a / b` rounded half up (a ≥ 0, b > 0).
fn div_half_up(a: i64, b: i64) -> i64 {
    (2 * a + b) / (2 * b)
}

/// The score (0–100) of a filled form: Σ weight × mark ÷ (scale × Σ weight) × 100, rounded half
/// up. Every item of the form must be marked once, within 0..=scale; an item the form does not
/// have, a repeated one or a mark outside the scale is named `items.<item>`.
pub fn score(marks: &[(String, i64)], rules: &Rules) -> Result<i64, Vec<FieldIssue>> {
    let mut issues = vec![];
    let mut num = 0i64;
    for (i, (item, mark)) in marks.iter().enumerate() {
        let field = format!("items.{item}");
        if category_of(item).is_none() {
            issues.push((field, "unknown_item"));
        } else if marks[..i].iter().any(|(x, _)| x == item) {
            issues.push((field, "repeated"));
        } else if *mark < 0 || *mark > rules.scale_max {
            issues.push((field, "out_of_scale"));
        } else {
            let w = rules.weights.iter().find(|(x, _)| x == item).map(|(_, w)| *w).unwrap_or(0);
            num += w * mark;
        }
    }
    for (item, _) in ITEMS {
        if !marks.iter().any(|(x, _)| x == item) {
            issues.push((format!("items.{item}"), "required"));
        }
    }
    if !issues.is_empty() {
        return Err(issues);
    }
    let total: i64 = rules.weights.iter().map(|(_, w)| *w).sum();
    let den = rules.scale_max * total;
    Ok(if den <= 0 { 0 } else { div_half_up(100 * num, den) })
}

/// How the figures give a grade: the amount's band, and the steps the fulfilment record
/// worsens it by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graded {
    pub grade: CreditGrade,
    /// The grade the amount alone gives.
    pub by_amount: CreditGrade,
    /// The steps the fulfilment record took off (0 with no installment due).
    pub down: i64,
}

/// The grade the figures give: the band of the transaction amount (trailing 12 months, fen;
/// below 0 counts as 0), worsened by the fulfilment standard when installments fell due
/// (`fulfilment`: (due, fulfilled)); none due has no effect. Rates are compared exactly:
/// fulfilled × 10000 < threshold (bp) × due.
pub fn graded(amount_fen: i64, fulfilment: Option<(i64, i64)>, rules: &Rules) -> Graded {
    let amount = amount_fen.max(0);
    let by_amount = rules
        .bands
        .iter()
        .find(|b| b.from <= amount && b.to.is_none_or(|t| amount < t))
        .map(|b| b.grade)
        .unwrap_or(CreditGrade::Black);
    let down = match fulfilment {
        Some((due, fulfilled)) if due > 0 => rules
            .fulfilment
            .iter()
            .filter(|w| i128::from(fulfilled) * 10_000 < i128::from(w.below_bp) * i128::from(due))
            .map(|w| w.down)
            .max()
            .unwrap_or(0),
        _ => 0,
    };
    Graded { grade: worse(by_amount, down), by_amount, down }
}

/// The grade the figures give (see [`graded`]).
pub fn grade_for(amount_fen: i64, fulfilment: Option<(i64, i64)>, rules: &Rules) -> CreditGrade {
    graded(amount_fen, fulfilment, rules).grade
}

/// The credit limit (fen) the limit table gives a score; 0 when no row holds it.
pub fn limit_for(score: i64, rules: &Rules) -> i64 {
    rules.limits.iter().find(|r| r.from <= score && score <= r.to).map(|r| r.limit).unwrap_or(0)
}

/// A grade's measures (the defaults' when the rules lack them).
pub fn measures_of(grade: CreditGrade, rules: &Rules) -> Measures {
    rules
        .measures
        .iter()
        .find(|m| m.grade == grade)
        .cloned()
        .or_else(|| Rules::default().measures.into_iter().find(|m| m.grade == grade))
        .unwrap_or(Measures {
            grade,
            max_credit_days: 0,
            installments: vec![InstallmentKind::Advance],
            max_discount_bp: 0,
            prepayment: true,
        })
}

/// The largest score.
pub const MAX_SCORE: i64 = 100;

/// Checks the rules; every problem is named: `scale_max`, `items.<item>` / `items` (weights),
/// `bands` (a gap, an overlap, a repeated grade), `fulfilment`, `limits` (a gap or an overlap
/// over 0–100), `measures` / `measures.<grade>.<field>`.
pub fn check(r: &Rules) -> Vec<FieldIssue> {
    let mut out: Vec<FieldIssue> = vec![];
    if !(1..=100).contains(&r.scale_max) {
        out.push(("scale_max".into(), "scale_range"));
    }
    for (item, w) in &r.weights {
        if category_of(item).is_none() {
            out.push((format!("items.{item}"), "unknown_item"));
        } else if !(0..=100).contains(w) {
            out.push((format!("items.{item}"), "weight_range"));
        }
    }
    for (item, _) in ITEMS {
        match r.weights.iter().filter(|(x, _)| x == item).count() {
            0 => out.push((format!("items.{item}"), "required")),
            1 => {}
            _ => out.push((format!("items.{item}"), "repeated")),
        }
    }
    if r.weights.iter().map(|(_, w)| (*w).max(0)).sum::<i64>() == 0 {
        out.push(("items".into(), "weights_zero"));
    }
    if let Some(c) = check_bands(&r.bands) {
        out.push(("bands".into(), c));
    }
    let mut seen = vec![];
    for w in &r.fulfilment {
        if !(1..=10_000).contains(&w.below_bp) || !(1..=3).contains(&w.down) {
            out.push(("fulfilment".into(), "fulfilment_range"));
            break;
        }
        if seen.contains(&w.below_bp) {
            out.push(("fulfilment".into(), "fulfilment_repeated"));
            break;
        }
        seen.push(w.below_bp);
    }
    if r.fulfilment.len() > 10 {
        out.push(("fulfilment".into(), "fulfilment_range"));
    }
    if let Some(c) = check_limits(&r.limits) {
        out.push(("limits".into(), c));
    }
    for g in CreditGrade::ALL {
        match r.measures.iter().filter(|m| m.grade == *g).count() {
            0 => out.push(("measures".into(), "measures_grade_missing")),
            1 => {}
            _ => out.push(("measures".into(), "measures_grade_repeated")),
        }
    }
    for m in &r.measures {
        if !(0..=3650).contains(&m.max_credit_days) {
            out.push((format!("measures.{}.max_credit_days", m.grade), "days_range"));
        }
        if !(0..=10_000).contains(&m.max_discount_bp) {
            out.push((format!("measures.{}.max_discount", m.grade), "percent_range"));
        }
        if m.installments.is_empty() {
            out.push((format!("measures.{}.installments", m.grade), "required"));
        }
    }
    out.dedup();
    out
}

/// The bands must assign every amount from 0 up to exactly one grade: ascending from 0, each
/// ending where the next begins, the last without an end, no grade twice.
pub fn check_bands(bands: &[Band]) -> Option<&'static str> {
    if bands.is_empty() {
        return Some("bands_gap");
    }
    let mut b = bands.to_vec();
    b.sort_by_key(|x| x.from);
    for (i, x) in b.iter().enumerate() {
        if b[..i].iter().any(|y| y.grade == x.grade) {
            return Some("bands_grade_repeated");
        }
        if x.to.is_some_and(|t| t <= x.from) {
            return Some("bands_overlap");
        }
    }
    if b[0].from > 0 {
        return Some("bands_gap");
    }
    if b[0].from < 0 {
        return Some("bands_overlap");
    }
    for w in b.windows(2) {
        match w[0].to {
            None => return Some("bands_overlap"),
            Some(t) if t > w[1].from => return Some("bands_overlap"),
            Some(t) if t < w[1].from => return Some("bands_gap"),
            _ => {}
        }
    }
    if b.last().is_some_and(|x| x.to.is_some()) {
        return Some("bands_gap");
    }
    None
}

/// The limit table must give every score 0–100 exactly one row.
pub fn check_limits(rows: &[LimitRow]) -> Option<&'static str> {
    if rows.is_empty() {
        return Some("limits_gap");
    }
    if rows.iter().any(|r| r.from < 0 || r.to > MAX_SCORE || r.from > r.to || r.limit < 0) {
        return Some("limits_range");
    }
    let mut v = rows.to_vec();
    v.sort_by_key(|r| (r.from, r.to));
    if v[0].from > 0 {
        return Some("limits_gap");
    }
    for w in v.windows(2) {
        if w[0].to >= w[1].from {
            return Some("limits_overlap");
        }
        if w[0].to + 1 < w[1].from {
            return Some("limits_gap");
        }
    }
    if v.last().is_some_and(|r| r.to < MAX_SCORE) {
        return Some("limits_gap");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use CreditGrade::*;

    fn all(mark: i64) -> Vec<(String, i64)> {
        ITEMS.iter().map(|(i, _)| (i.to_string(), mark)).collect()
    }

    #[test]
    fn the_defaults_are_valid_and_weigh_100() {
        let r = Rules::default();
        assert_eq!(check(&r), vec![]);
        assert_eq!(r.weights.iter().map(|(_, w)| w).sum::<i64>(), 100);
        assert_eq!(ITEMS.len(), 18);
        assert!(ITEMS.iter().all(|(_, c)| CATEGORIES.contains(c)));
    }

    #[test]
    fn a_form_scores_on_100_rounded_half_up() {
        let r = Rules::default();
        assert_eq!(score(&all(5), &r), Ok(100));
        assert_eq!(score(&all(0), &r), Ok(0));
        assert_eq!(score(&all(3), &r), Ok(60));
        // One capital item (weight 7) at 4 instead of 5: (500 - 7) / 500 = 98.6 % → 99.
        let mut m = all(5);
        m[13].1 = 4;
        assert_eq!(score(&m, &r), Ok(99));
        // Exactly half way rounds up: one item of weight 1 (the others 0) marked 1 of 8 is
        // 12.5 → 13.
        let mut r2 = r.clone();
        r2.weights = ITEMS.iter().map(|(i, _)| (i.to_string(), 0)).collect();
        r2.weights[0].1 = 1;
        r2.scale_max = 8;
        let mut m = all(0);
        m[0].1 = 1;
        assert_eq!(score(&m, &r2), Ok(13));
    }

    #[test]
    fn a_mark_outside_the_scale_or_a_missing_item_is_named() {
        let r = Rules::default();
        let mut m = all(3);
        m[4].1 = 6;
        m[0].1 = -1;
        m.pop();
        m.push(("luck".into(), 2));
        let e = score(&m, &r).unwrap_err();
        assert!(e.contains(&("items.bank_info".into(), "out_of_scale")), "{e:?}");
        assert!(e.contains(&("items.history".into(), "out_of_scale")), "{e:?}");
        assert!(e.contains(&("items.luck".into(), "unknown_item")), "{e:?}");
        assert!(e.contains(&("items.industry_factors".into(), "required")), "{e:?}");
    }

    #[test]
    fn the_amount_gives_the_band_and_fulfilment_worsens_it() {
        let r = Rules::default();
        assert_eq!(grade_for(0, None, &r), Black);
        assert_eq!(grade_for(100 * WAN - 1, None, &r), Black);
        assert_eq!(grade_for(100 * WAN, None, &r), Red);
        assert_eq!(grade_for(2000 * WAN, None, &r), Green);
        assert_eq!(grade_for(-5, None, &r), Black);
        // None due: no effect.
        assert_eq!(grade_for(3000 * WAN, Some((0, 0)), &r), Green);
        // 9 of 10 is 90 %: not below 90 %.
        assert_eq!(grade_for(3000 * WAN, Some((10, 9)), &r), Green);
        // 8999/10000 is below 90 %, not below 80 %: one worse.
        assert_eq!(grade_for(3000 * WAN, Some((10_000, 8_999)), &r), Yellow);
        assert_eq!(grade_for(3000 * WAN, Some((10, 7)), &r), Red);
        // Never worse than black.
        assert_eq!(grade_for(100 * WAN, Some((10, 0)), &r), Black);
        let g = graded(600 * WAN, Some((4, 3)), &r);
        assert_eq!((g.by_amount, g.down, g.grade), (Yellow, 2, Black));
    }

    #[test]
    fn the_limit_table_gives_the_limit() {
        let r = Rules::default();
        assert_eq!(limit_for(0, &r), 0);
        assert_eq!(limit_for(59, &r), 0);
        assert_eq!(limit_for(60, &r), 20 * WAN);
        assert_eq!(limit_for(100, &r), 200 * WAN);
        assert_eq!(limit_for(101, &r), 0);
    }

    #[test]
    fn bands_with_a_gap_or_an_overlap_are_refused() {
        let b = |grade, from, to| Band { grade, from, to };
        assert_eq!(check_bands(&Rules::default().bands), None);
        assert_eq!(check_bands(&[b(Black, 0, Some(10)), b(Green, 11, None)]), Some("bands_gap"));
        assert_eq!(check_bands(&[b(Black, 0, Some(10)), b(Green, 9, None)]), Some("bands_overlap"));
        assert_eq!(check_bands(&[b(Black, 5, Some(10)), b(Green, 10, None)]), Some("bands_gap"));
        assert_eq!(check_bands(&[b(Black, 0, Some(10)), b(Green, 10, Some(20))]), Some("bands_gap"));
        assert_eq!(check_bands(&[b(Black, 0, None), b(Green, 10, None)]), Some("bands_overlap"));
        assert_eq!(check_bands(&[b(Black, 0, Some(10)), b(Black, 10, None)]), Some("bands_grade_repeated"));
        assert_eq!(check_bands(&[]), Some("bands_gap"));
        // In any order.
        assert_eq!(check_bands(&[b(Green, 10, None), b(Red, 0, Some(10))]), None);
    }

    #[test]
    fn limit_tables_with_a_gap_or_an_overlap_are_refused() {
        let l = |from, to| LimitRow { from, to, limit: 0 };
        assert_eq!(check_limits(&[l(0, 100)]), None);
        assert_eq!(check_limits(&[l(0, 50), l(52, 100)]), Some("limits_gap"));
        assert_eq!(check_limits(&[l(0, 50), l(50, 100)]), Some("limits_overlap"));
        assert_eq!(check_limits(&[l(1, 100)]), Some("limits_gap"));
        assert_eq!(check_limits(&[l(0, 99)]), Some("limits_gap"));
        assert_eq!(check_limits(&[l(0, 101)]), Some("limits_range"));
        assert_eq!(check_limits(&[l(60, 100), l(0, 59)]), None);
    }

    #[test]
    fn measures_name_what_is_wrong() {
        let mut r = Rules::default();
        r.measures.pop();
        r.measures[0].max_credit_days = 4000;
        let e = check(&r);
        assert!(e.contains(&("measures".into(), "measures_grade_missing")), "{e:?}");
        assert!(e.contains(&("measures.green.max_credit_days".into(), "days_range")), "{e:?}");
        assert!(Rules::default().measures.iter().filter(|m| m.restricts()).count() == 3);
    }
}
