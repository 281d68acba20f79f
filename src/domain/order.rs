//! Orders (订货单, DOMAIN.md M7; issue 21): an order's states, its payment terms as
//! installments with due rules ("30 days after invoice"), who signs it off, each line's margin,
//! and the customer's invoicing details. Lines are priced by the quote's rules
//! ([`super::quote::price_line`]): tax-inclusive prices in fen, each line rounded on its own.
use serde::{Deserialize, Serialize};

use super::approval::{Definition, StepSpec};
use super::quote::{InstallmentKind, Refusal, FULL_BP};
use super::role::{string_enum, Role};

/// Orders above this total (fen) also need the KA director's sign-off: 500,000.00 元. The
/// company's choice (the seed gives no figure); the administrator changes it in the flow.
pub const DEFAULT_SIGNOFF_THRESHOLD: i64 = 50_000_000;
/// At most this many installments.
pub const MAX_INSTALLMENTS: usize = 10;
/// The longest due rule: a little under two years.
pub const MAX_DUE_DAYS: i64 = 720;

string_enum!(OrderState { Draft = "draft", Pending = "pending", Signed = "signed", Cancelled = "cancelled" });

impl OrderState {
    /// The order's story has ended: no edit, no sign-off.
    pub fn is_final(self) -> bool {
        self == OrderState::Cancelled
    }
}

// A version's state: an order's states, and `superseded` for a version a later one replaced.
string_enum!(OrderVersionState {
    Draft = "draft",
    Pending = "pending",
    Signed = "signed",
    Cancelled = "cancelled",
    Superseded = "superseded",
});

// What an installment's due date counts from.
string_enum!(DueEvent { Invoice = "invoice", Delivery = "delivery", Acceptance = "acceptance", Order = "order" });

impl DueEvent {
    /// The event an installment of this kind counts from when nothing says otherwise (an
    /// accepted quote's terms give days only).
    pub fn default_for(kind: InstallmentKind) -> DueEvent {
        match kind {
            InstallmentKind::Advance => DueEvent::Order,
            InstallmentKind::OnDelivery => DueEvent::Delivery,
            InstallmentKind::AfterAcceptance | InstallmentKind::Retention => DueEvent::Acceptance,
        }
    }
}

/// One installment of an order's payment terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderInstallment {
    pub kind: InstallmentKind,
    /// Share of the total in basis points (3000 = 30 %).
    pub percent_bp: i64,
    /// Due this many days after `event`.
    pub days: i64,
    pub event: DueEvent,
}

/// A due rule in its one written form: `30 days after invoice` (`1 day after order`).
pub fn format_due(days: i64, event: DueEvent) -> String {
    format!("{days} {} after {}", if days == 1 { "day" } else { "days" }, event.code())
}

/// Reads a due rule: `N days after invoice|delivery|acceptance|order` (`day` or `days`, any
/// case and spacing), `on EVENT` (0 days), or the Chinese forms `开票后30天`, `发货后`/`交货后`,
/// `验收后`, `下单后`/`签约后` (天 or 日; no number: on the event).
pub fn parse_due(s: &str) -> Result<(i64, DueEvent), &'static str> {
    let t = s.trim();
    if t.is_empty() {
        return Err("required");
    }
    let lower = t.to_ascii_lowercase();
    let words: Vec<&str> = lower.split_whitespace().collect();
    let event = |w: &str| DueEvent::parse(w).map_err(|_| "due_rule_format");
    let days = |w: &str| -> Result<i64, &'static str> {
        if w.is_empty() || w.len() > 4 || !w.bytes().all(|b| b.is_ascii_digit()) {
            return Err("due_rule_format");
        }
        let n: i64 = w.parse().map_err(|_| "due_rule_format")?;
        if n > MAX_DUE_DAYS {
            return Err("days_range");
        }
        Ok(n)
    };
    match words.as_slice() {
        [n, unit, "after", ev] if matches!(*unit, "day" | "days") => return Ok((days(n)?, event(ev)?)),
        ["on", ev] => return Ok((0, event(ev)?)),
        _ => {}
    }
    // 开票后30天, 验收后 90 日, 下单后
    let compact: String = t.chars().filter(|c| !c.is_whitespace()).collect();
    let zh = [
        ("开票后", DueEvent::Invoice),
        ("开具发票后", DueEvent::Invoice),
        ("发货后", DueEvent::Delivery),
        ("交货后", DueEvent::Delivery),
        ("到货后", DueEvent::Delivery),
        ("验收后", DueEvent::Acceptance),
        ("下单后", DueEvent::Order),
        ("签约后", DueEvent::Order),
        ("合同签订后", DueEvent::Order),
    ];
    for (prefix, ev) in zh {
        if let Some(rest) = compact.strip_prefix(prefix) {
            let rest = rest.trim_end_matches(['天', '日']);
            return if rest.is_empty() { Ok((0, ev)) } else { Ok((days(rest)?, ev)) };
        }
    }
    Err("due_rule_format")
}

/// The installments must each be above 0 and at most 100 %, and add up to exactly 100 % (none
/// at all is allowed: terms agreed in words only).
pub fn check_installments(items: &[OrderInstallment]) -> Vec<Refusal> {
    let mut why = vec![];
    if items.len() > MAX_INSTALLMENTS {
        why.push(("payment_terms".to_string(), "too_many"));
    }
    for (i, it) in items.iter().enumerate() {
        if it.percent_bp <= 0 || it.percent_bp > FULL_BP {
            why.push((format!("payment_terms[{i}].percent"), "percent_range"));
        }
        if !(0..=MAX_DUE_DAYS).contains(&it.days) {
            why.push((format!("payment_terms[{i}].due"), "days_range"));
        }
    }
    if why.is_empty() && !items.is_empty() && items.iter().map(|i| i.percent_bp).sum::<i64>() != FULL_BP {
        why.push(("payment_terms".to_string(), "installments_sum"));
    }
    why
}

/// The order total a requester signs off on their own (fen): a role that decides a step of the
/// `order_signoff` flow covers every order up to the next step's threshold (the last step's
/// role covers every order); anyone else none. Steps at or below it are skipped, as the
/// discount authority skips the levels of a quote's author.
pub fn own_authority(role: Role, d: &Definition) -> i64 {
    let Some(pos) = d.steps.iter().rposition(|s| s.role == role.code()) else { return 0 };
    match d.steps.get(pos + 1) {
        None => i64::MAX,
        Some(next) => next.above.unwrap_or(i64::MAX),
    }
}

/// The steps of the built-in `order_signoff`: the KA manager (the owner's manager) signs off
/// every order; above [`DEFAULT_SIGNOFF_THRESHOLD`] the KA director too.
pub fn builtin_steps(manager: StepSpec, director: StepSpec) -> Vec<StepSpec> {
    vec![StepSpec { above: Some(0), ..manager }, StepSpec { above: Some(DEFAULT_SIGNOFF_THRESHOLD), ..director }]
}

/// A line's margin against its product's standard cost: the tax-exclusive amount less the cost
/// (None without a cost).
pub fn margin(amount_excl: i64, cost: Option<i64>) -> Option<i64> {
    cost.map(|c| amount_excl - c)
}

/// The margin as a share of the tax-exclusive amount, in basis points (None without a cost or
/// an amount).
pub fn margin_bp(amount_excl: i64, cost: Option<i64>) -> Option<i64> {
    let m = margin(amount_excl, cost)?;
    if amount_excl <= 0 {
        return None;
    }
    Some(super::money::div_round(m * FULL_BP, amount_excl))
}

/// A tax number (纳税人识别号): an 18-character unified social credit code (GB 32100, its
/// check character verified), or an older number of 15 to 20 letters and digits. Upper-cased.
pub fn parse_tax_number(s: &str) -> Result<String, &'static str> {
    let t = s.trim().to_ascii_uppercase();
    if t.is_empty() {
        return Err("required");
    }
    if t.len() == 18 {
        return super::credit_code::CreditCode::parse(&t).map(|c| c.as_str().to_string());
    }
    if !t.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err("tax_number_format");
    }
    if !(15..=20).contains(&t.len()) {
        return Err("tax_number_length");
    }
    Ok(t)
}

/// A bank account number: digits, spaces and dashes as printed, 8 to 34 characters of digits
/// (letters allowed for foreign IBANs). Kept as typed without the spaces.
pub fn parse_bank_account(s: &str) -> Result<String, &'static str> {
    let t: String = s.chars().filter(|c| !c.is_whitespace() && *c != '-').collect::<String>().to_ascii_uppercase();
    if !t.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err("bank_account_format");
    }
    if !(8..=34).contains(&t.len()) {
        return Err("bank_account_length");
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::approval::{builtin, Figure, Flow};

    #[test]
    fn due_rules_are_read_in_english_and_chinese() {
        assert_eq!(parse_due("30 days after invoice"), Ok((30, DueEvent::Invoice)));
        assert_eq!(parse_due(" 1 Day after  Delivery "), Ok((1, DueEvent::Delivery)));
        assert_eq!(parse_due("on acceptance"), Ok((0, DueEvent::Acceptance)));
        assert_eq!(parse_due("开票后30天"), Ok((30, DueEvent::Invoice)));
        assert_eq!(parse_due("验收后 90 日"), Ok((90, DueEvent::Acceptance)));
        assert_eq!(parse_due("下单后"), Ok((0, DueEvent::Order)));
        assert_eq!(parse_due("30 days after lunch"), Err("due_rule_format"));
        assert_eq!(parse_due("thirty days after invoice"), Err("due_rule_format"));
        assert_eq!(parse_due("-3 days after invoice"), Err("due_rule_format"));
        assert_eq!(parse_due("721 days after order"), Err("days_range"));
        assert_eq!(parse_due(""), Err("required"));
        assert_eq!(format_due(30, DueEvent::Invoice), "30 days after invoice");
        assert_eq!(parse_due(&format_due(1, DueEvent::Order)), Ok((1, DueEvent::Order)));
    }

    #[test]
    fn installments_add_up_to_one_hundred_percent() {
        let i =
            |p, days| OrderInstallment { kind: InstallmentKind::Advance, percent_bp: p, days, event: DueEvent::Order };
        assert!(check_installments(&[i(3000, 0), i(7000, 30)]).is_empty());
        assert_eq!(
            check_installments(&[i(3000, 0), i(6000, 30)]),
            vec![("payment_terms".to_string(), "installments_sum")]
        );
        assert_eq!(check_installments(&[i(0, 0), i(10_000, 0)])[0].0, "payment_terms[0].percent");
        assert!(check_installments(&[]).is_empty());
    }

    #[test]
    fn the_manager_signs_off_and_the_director_above_the_threshold() {
        let d = builtin(Flow::OrderSignoff);
        let who = |total: i64, role: Role| -> Vec<String> {
            let f = Figure { value: total, floor: own_authority(role, &d) };
            d.steps.iter().filter(|s| s.applies(Some(f))).map(|s| s.role.clone()).collect()
        };
        assert_eq!(who(50_000_000, Role::KaRep), ["ka_manager"]);
        assert_eq!(who(50_000_001, Role::KaRep), ["ka_manager", "ka_director"]);
        assert_eq!(who(1, Role::KaRep), ["ka_manager"]);
        // A KA manager signs their own orders up to the threshold; above it the director.
        assert!(who(50_000_000, Role::KaManager).is_empty());
        assert_eq!(who(50_000_001, Role::KaManager), ["ka_director"]);
        assert!(who(i64::MAX / 2, Role::KaDirector).is_empty());
    }

    #[test]
    fn tax_numbers_and_margins() {
        assert_eq!(parse_tax_number("91350100m000100y43"), Ok("91350100M000100Y43".to_string()));
        assert_eq!(parse_tax_number("91350100M000100Y44"), Err("credit_code_check"));
        assert_eq!(parse_tax_number("110108123456789"), Ok("110108123456789".to_string()));
        assert_eq!(parse_tax_number("1101081234"), Err("tax_number_length"));
        assert_eq!(parse_tax_number("110108-23456789"), Err("tax_number_format"));
        assert_eq!(margin(1000, Some(600)), Some(400));
        assert_eq!(margin_bp(1000, Some(600)), Some(4000));
        assert_eq!(margin_bp(1000, None), None);
        assert_eq!(parse_bank_account("6222 0200 1234 5678"), Ok("6222020012345678".to_string()));
        assert_eq!(parse_bank_account("123"), Err("bank_account_length"));
    }
}
