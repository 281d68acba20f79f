//! Quotes (商务报价, seed 000 S-5 and its 商务报价模板; docs/DOMAIN.md M6): how a line is priced,
//! how the totals and the discounts are reckoned, and what a discount needs. Prices are
//! tax-inclusive (含税) in fen; quantities in thousandths of a unit. Every line is rounded to the
//! fen half up on its own, and a total is the sum of its lines (the quote says so).
use super::role::{string_enum, Role};

/// 13 % VAT, the default tax rate of a product and of a free-text line.
pub const DEFAULT_TAX_BP: i64 = 1300;
/// 100 % in basis points.
pub const FULL_BP: i64 = 10_000;
/// The largest quantity a line takes (in units).
pub const MAX_QUANTITY: i64 = 1_000_000_000;
/// At most this many lines in one quote.
pub const MAX_LINES: usize = 500;

string_enum!(QuoteState {
    Draft = "draft",
    Pending = "pending",
    Approved = "approved",
    Sent = "sent",
    Accepted = "accepted",
    Lost = "lost",
    Expired = "expired",
    Superseded = "superseded",
});

impl QuoteState {
    /// A version in this state is edited in place (a draft); any other open state is revised
    /// as version n + 1 (an approved or sent version never changes).
    pub fn edits_in_place(self) -> bool {
        self == QuoteState::Draft
    }

    /// The quote's story has ended: no edit, no send.
    pub fn is_final(self) -> bool {
        matches!(self, QuoteState::Accepted | QuoteState::Lost | QuoteState::Expired | QuoteState::Superseded)
    }
}

string_enum!(InstallmentKind {
    Advance = "advance",
    OnDelivery = "on_delivery",
    AfterAcceptance = "after_acceptance",
    Retention = "retention",
});

/// Parses a quantity as typed: `2`, `1.5`, `0.125`, `1,200` (at most three decimals) into
/// thousandths of a unit; it must be above zero.
pub fn parse_quantity(s: &str) -> Result<i64, &'static str> {
    let t: String = s.trim().chars().filter(|c| *c != ',' && *c != '，').collect();
    if t.starts_with('-') {
        return Err("quantity_positive");
    }
    let (int, frac) = t.split_once('.').unwrap_or((&t, ""));
    if int.is_empty() || !int.bytes().all(|c| c.is_ascii_digit()) || !frac.bytes().all(|c| c.is_ascii_digit()) {
        return Err("quantity_format");
    }
    if frac.len() > 3 {
        return Err("quantity_format");
    }
    if int.len() > 10 {
        return Err("quantity_range");
    }
    let whole: i64 = int.parse().map_err(|_| "quantity_format")?;
    let mut f: i64 = if frac.is_empty() { 0 } else { frac.parse().map_err(|_| "quantity_format")? };
    for _ in frac.len()..3 {
        f *= 10;
    }
    let milli = whole * 1000 + f;
    if milli <= 0 {
        return Err("quantity_positive");
    }
    if milli > MAX_QUANTITY * 1000 {
        return Err("quantity_range");
    }
    Ok(milli)
}

/// A quantity in thousandths as people write it: 2000 → "2", 1500 → "1.5".
pub fn format_quantity(milli: i64) -> String {
    let (w, f) = (milli / 1000, milli % 1000);
    if f == 0 {
        return w.to_string();
    }
    let s = format!("{w}.{f:03}");
    s.trim_end_matches('0').to_string()
}

/// `a × b ÷ c` rounded half up, in 128 bits (no overflow for any amount we take).
fn mul_div_round(a: i64, b: i64, c: i64) -> i64 {
    let (a, b, c) = (a as i128, b as i128, c as i128);
    let p = a * b;
    let (q, r) = (p / c, p % c);
    (if r * 2 >= c { q + 1 } else { q }) as i64
}

/// `a × b ÷ c` rounded up (a discount is never understated: 5.001 % is beyond 5 %).
fn mul_div_ceil(a: i64, b: i64, c: i64) -> i64 {
    let (a, b, c) = (a as i128, b as i128, c as i128);
    let p = a * b;
    ((p + c - 1) / c) as i64
}

/// What the catalogue says of a line's product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductFacts {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub unit: String,
    pub list_price: i64,
    pub floor_price: Option<i64>,
    pub tax_rate_bp: i64,
    pub standard_cost: Option<i64>,
    pub active: bool,
}

/// A line as typed (amounts in fen, already parsed; quantity in thousandths).
#[derive(Debug, Clone, Default)]
pub struct LineInput {
    pub product: Option<ProductFacts>,
    /// Free text, or the product's name when empty.
    pub description: Option<String>,
    pub specification: Option<String>,
    pub unit: Option<String>,
    pub quantity: i64,
    /// A free-text line's list price; a product line takes the catalogue's.
    pub list_price: Option<i64>,
    pub unit_price: Option<i64>,
    /// The discount off the list price in basis points (the other way to give the price).
    pub discount_bp: Option<i64>,
    /// The line total, when given: it must equal quantity × unit price.
    pub amount: Option<i64>,
    pub tax_rate_bp: Option<i64>,
}

/// A priced line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub product_id: Option<i64>,
    pub product_code: Option<String>,
    pub description: String,
    pub specification: Option<String>,
    pub unit: String,
    pub quantity: i64,
    pub list_price: Option<i64>,
    pub unit_price: i64,
    /// The discount off the list price, rounded up to the basis point (0 without a list price or
    /// at or above it).
    pub discount_bp: i64,
    /// quantity × unit price, rounded half up to the fen.
    pub amount: i64,
    /// quantity × list price, rounded likewise (None without a list price).
    pub list_amount: Option<i64>,
    pub tax_rate_bp: i64,
    /// The amount without tax: amount ÷ (1 + rate), rounded half up.
    pub amount_excl: i64,
    pub tax: i64,
    pub floor_price: Option<i64>,
    /// The unit price is below the product's floor price.
    pub below_floor: bool,
    /// quantity × standard cost (tax excluded), when the product has one.
    pub cost: Option<i64>,
}

/// A refusal: the field (relative to the line, e.g. `unit_price`) and the reason's code.
pub type Refusal = (String, &'static str);

/// Prices one line; the refusals name fields under `lines[i]`.
pub fn price_line(i: usize, l: &LineInput) -> Result<Line, Vec<Refusal>> {
    let f = |name: &str| format!("lines[{i}].{name}");
    let mut why: Vec<Refusal> = vec![];
    if let Some(p) = &l.product {
        if !p.active {
            why.push((f("product"), "product_inactive"));
        }
    }
    let description = l
        .description
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .or_else(|| l.product.as_ref().map(|p| p.name.clone()));
    let Some(description) = description else {
        why.push((f("description"), "required"));
        return Err(why);
    };
    if description.chars().count() > 500 {
        why.push((f("description"), "too_long"));
    }
    let unit = l
        .unit
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .or_else(|| l.product.as_ref().map(|p| p.unit.clone()))
        .unwrap_or_else(|| "项".to_string());
    if unit.chars().count() > 20 {
        why.push((f("unit"), "too_long"));
    }
    if l.quantity <= 0 {
        why.push((f("quantity"), "quantity_positive"));
    } else if l.quantity > MAX_QUANTITY * 1000 {
        why.push((f("quantity"), "quantity_range"));
    }
    let list_price = match &l.product {
        Some(p) => Some(p.list_price),
        None => l.list_price,
    };
    if list_price.is_some_and(|p| p < 0) {
        why.push((f("list_price"), "price_negative"));
    }
    if l.unit_price.is_some_and(|p| p < 0) {
        why.push((f("unit_price"), "price_negative"));
    }
    if l.discount_bp.is_some_and(|d| !(0..=FULL_BP).contains(&d)) {
        why.push((f("discount"), "discount_range"));
    }
    let tax_rate_bp = l.tax_rate_bp.or(l.product.as_ref().map(|p| p.tax_rate_bp)).unwrap_or(DEFAULT_TAX_BP);
    if !(0..=FULL_BP).contains(&tax_rate_bp) {
        why.push((f("tax_rate"), "tax_rate_range"));
    }
    if !why.is_empty() {
        return Err(why);
    }
    let from_discount = |list: i64, d: i64| mul_div_round(list, FULL_BP - d, FULL_BP);
    let unit_price = match (l.unit_price, l.discount_bp, list_price) {
        (Some(p), Some(d), Some(list)) => {
            // Both given: they must say the same (the discount as typed, to the basis point,
            // or the price the discount gives, to the fen).
            if from_discount(list, d) != p && discount_of(list, p) != d {
                why.push((f("unit_price"), "price_discount_mismatch"));
            }
            p
        }
        (Some(p), _, _) => p,
        (None, Some(d), Some(list)) => from_discount(list, d),
        (None, Some(_), None) => {
            why.push((f("list_price"), "required_for_discount"));
            0
        }
        (None, None, Some(list)) => list,
        (None, None, None) => {
            why.push((f("unit_price"), "required"));
            0
        }
    };
    let amount = mul_div_round(l.quantity, unit_price, 1000);
    if let Some(a) = l.amount {
        if a != amount {
            why.push((f("amount"), "amount_mismatch"));
        }
    }
    if amount >= 1_000_000_000_000_000 {
        why.push((f("amount"), "money_too_large"));
    }
    if !why.is_empty() {
        return Err(why);
    }
    // The discount as typed when the price was given by it (5 % typed is 5 %, whatever the
    // rounding of the price); from the price otherwise, rounded up.
    let discount_bp = match (l.unit_price, l.discount_bp, list_price) {
        (None, Some(d), Some(_)) => d,
        (_, _, Some(list)) => discount_of(list, unit_price),
        _ => 0,
    };
    let amount_excl = mul_div_round(amount, FULL_BP, FULL_BP + tax_rate_bp);
    let floor_price = l.product.as_ref().and_then(|p| p.floor_price);
    Ok(Line {
        product_id: l.product.as_ref().map(|p| p.id),
        product_code: l.product.as_ref().map(|p| p.code.clone()),
        description,
        specification: l.specification.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string),
        unit,
        quantity: l.quantity,
        list_price,
        unit_price,
        discount_bp,
        amount,
        list_amount: list_price.map(|p| mul_div_round(l.quantity, p, 1000)),
        tax_rate_bp,
        amount_excl,
        tax: amount - amount_excl,
        floor_price,
        below_floor: floor_price.is_some_and(|fl| unit_price < fl),
        cost: l.product.as_ref().and_then(|p| p.standard_cost).map(|c| mul_div_round(l.quantity, c, 1000)),
    })
}

/// The discount of `price` off `list`, rounded up to the basis point; 0 at or above the list.
pub fn discount_of(list: i64, price: i64) -> i64 {
    if list <= 0 || price >= list {
        return 0;
    }
    mul_div_ceil(list - price, FULL_BP, list)
}

/// A quote's totals and the figures its approval turns on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    /// Tax-inclusive total (the sum of the lines' amounts).
    pub total: i64,
    pub total_excl: i64,
    pub tax: i64,
    /// Σ quantity × list price over the lines that have a list price.
    pub list_total: i64,
    /// The largest line discount (basis points, rounded up).
    pub max_line_discount_bp: i64,
    /// The whole-quote discount: 1 − Σ price × qty ÷ Σ list × qty over lines with a list price,
    /// rounded half up to the basis point.
    pub quote_discount_bp: i64,
    /// The larger of the two: what the discount authority is checked against.
    pub discount_bp: i64,
    /// Some line is priced below its product's floor price.
    pub below_floor: bool,
    /// Σ standard cost of the lines whose product has one.
    pub cost: i64,
}

pub fn totals(lines: &[Line]) -> Totals {
    let mut t = Totals::default();
    let mut listed_amount = 0;
    for l in lines {
        t.total += l.amount;
        t.total_excl += l.amount_excl;
        t.tax += l.tax;
        if let Some(la) = l.list_amount {
            t.list_total += la;
            listed_amount += l.amount;
        }
        t.max_line_discount_bp = t.max_line_discount_bp.max(l.discount_bp);
        t.below_floor |= l.below_floor;
        t.cost += l.cost.unwrap_or(0);
    }
    // Rounded half up to the basis point: the per-line rounding of prices typed as discounts
    // must not push a quote of 5 % lines past 5 %.
    t.quote_discount_bp = if t.list_total <= 0 || listed_amount >= t.list_total {
        0
    } else {
        mul_div_round(t.list_total - listed_amount, FULL_BP, t.list_total)
    };
    t.discount_bp = t.max_line_discount_bp.max(t.quote_discount_bp);
    t
}

/// One installment of the payment terms: 30 % in advance, 60 % on delivery, 10 % after
/// acceptance…, each due some days after its event.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Installment {
    pub kind: InstallmentKind,
    /// Share of the total in basis points (3000 = 30 %).
    pub percent_bp: i64,
    /// Due this many days after the event (0 = on the event).
    pub days: i64,
}

/// The installments must each be 0–100 % and add up to exactly 100 % (none at all is allowed:
/// terms in words only).
pub fn check_installments(items: &[Installment]) -> Vec<Refusal> {
    let mut why = vec![];
    for (i, it) in items.iter().enumerate() {
        if it.percent_bp <= 0 || it.percent_bp > FULL_BP {
            why.push((format!("payment_terms[{i}].percent"), "percent_range"));
        }
        if !(0..=720).contains(&it.days) {
            why.push((format!("payment_terms[{i}].days"), "days_range"));
        }
    }
    if why.is_empty() && !items.is_empty() && items.iter().map(|i| i.percent_bp).sum::<i64>() != FULL_BP {
        why.push(("payment_terms".to_string(), "installments_sum"));
    }
    why
}

/// The discount authority: each role's limit in basis points (000 S-5: KA rep 5 %, KA manager
/// 10 %, KA director 15 %, beyond that the commercial manager). Kept in the definition of the
/// `discount_exception` flow, so the administrator edits it with the flow's steps.
pub fn default_limits() -> Vec<(String, i64)> {
    use Role::*;
    [
        (KaRep, 500),
        (InsideSales, 500),
        (KaManager, 1000),
        (BranchManager, 1000),
        (KaDirector, 1500),
        (CommercialManager, FULL_BP),
    ]
    .iter()
    .map(|(r, bp)| (r.code().to_string(), *bp))
    .collect()
}

/// A role's limit in the table (0 when the table does not name it).
pub fn limit_of(limits: &[(String, i64)], role: Role) -> i64 {
    limits.iter().find(|(r, _)| r == role.code()).map(|(_, bp)| *bp).unwrap_or(0)
}

/// The figure a quote's approval turns on: its discount, or 100 % when a price is below a
/// floor price (a floor breach is beyond every limit but an unlimited one).
pub fn approval_figure(t: &Totals) -> i64 {
    if t.below_floor {
        FULL_BP
    } else {
        t.discount_bp
    }
}

/// Whether an author with `limit` may send the quote without approval.
pub fn within_authority(t: &Totals, limit: i64) -> bool {
    approval_figure(t) <= limit
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(list: i64, floor: Option<i64>) -> ProductFacts {
        ProductFacts {
            id: 1,
            code: "P1".into(),
            name: "服务器".into(),
            unit: "台".into(),
            list_price: list,
            floor_price: floor,
            tax_rate_bp: DEFAULT_TAX_BP,
            standard_cost: Some(list / 2),
            active: true,
        }
    }

    fn line(list: i64, qty: i64, price: Option<i64>, discount: Option<i64>) -> LineInput {
        LineInput {
            product: Some(product(list, Some(list * 80 / 100))),
            quantity: qty * 1000,
            unit_price: price,
            discount_bp: discount,
            ..Default::default()
        }
    }

    #[test]
    fn a_line_is_priced_by_price_or_by_discount_and_rounded_per_line() {
        // 12 % off 10,000.00 元 is 8,800.00 元; three of them 26,400.00 元.
        let l = price_line(0, &line(1_000_000, 3, None, Some(1200))).unwrap();
        assert_eq!((l.unit_price, l.amount, l.discount_bp), (880_000, 2_640_000, 1200));
        // Tax-exclusive 2,640,000 ÷ 1.13 = 2,336,283.19… → 2,336,283; tax the rest.
        assert_eq!((l.amount_excl, l.tax), (2_336_283, 303_717));
        // The price typed: the discount follows, rounded up (5.001 % is not 5 %).
        let l = price_line(0, &line(1_000_000, 1, Some(949_990), None)).unwrap();
        assert_eq!(l.discount_bp, 501);
        // Both typed and agreeing; both typed and not.
        assert!(price_line(0, &line(1_000_000, 1, Some(880_000), Some(1200))).is_ok());
        let e = price_line(2, &line(1_000_000, 1, Some(900_000), Some(1200))).unwrap_err();
        assert_eq!(e, vec![("lines[2].unit_price".to_string(), "price_discount_mismatch")]);
        // 1.5 units at 33.33 元 = 49.995 → 50.00 元 (half up, per line).
        let l = price_line(
            0,
            &LineInput {
                quantity: 1500,
                unit_price: Some(3333),
                description: Some("安装".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!((l.amount, l.unit.as_str(), l.discount_bp), (5000, "项", 0));
    }

    #[test]
    fn bad_lines_are_refused_by_field() {
        let mut neg = line(1000, 1, Some(-1), None);
        assert_eq!(price_line(0, &neg).unwrap_err(), vec![("lines[0].unit_price".to_string(), "price_negative")]);
        neg.unit_price = None;
        neg.discount_bp = Some(10_001);
        assert_eq!(price_line(0, &neg).unwrap_err(), vec![("lines[0].discount".to_string(), "discount_range")]);
        let mut zero = line(1000, 1, Some(900), None);
        zero.quantity = -1000;
        assert_eq!(price_line(0, &zero).unwrap_err(), vec![("lines[0].quantity".to_string(), "quantity_positive")]);
        let mut wrong = line(1000, 2, Some(900), None);
        wrong.amount = Some(1900);
        assert_eq!(price_line(1, &wrong).unwrap_err(), vec![("lines[1].amount".to_string(), "amount_mismatch")]);
        let mut off = line(1000, 1, Some(900), None);
        off.product.as_mut().unwrap().active = false;
        assert_eq!(price_line(0, &off).unwrap_err(), vec![("lines[0].product".to_string(), "product_inactive")]);
        assert_eq!(
            price_line(0, &LineInput { quantity: 1000, ..Default::default() }).unwrap_err(),
            vec![("lines[0].description".to_string(), "required")]
        );
    }

    #[test]
    fn totals_take_the_larger_of_the_line_and_whole_quote_discounts() {
        // Two lines 12 % off, one at list: the whole quote is 1 − (8,800·2 + 5,000) ÷ 25,000 = 9.6 %.
        let lines: Vec<Line> =
            [line(1_000_000, 1, None, Some(1200)), line(1_000_000, 1, None, Some(1200)), line(500_000, 1, None, None)]
                .iter()
                .enumerate()
                .map(|(i, l)| price_line(i, l).unwrap())
                .collect();
        let t = totals(&lines);
        assert_eq!(
            (t.total, t.list_total, t.quote_discount_bp, t.max_line_discount_bp, t.discount_bp),
            (2_260_000, 2_500_000, 960, 1200, 1200)
        );
        assert_eq!(t.total_excl + t.tax, t.total);
        assert!(!t.below_floor);
        // Below the floor (80 % of list): beyond every limit but the commercial manager's.
        let low = totals(&[price_line(0, &line(1_000_000, 1, Some(790_000), None)).unwrap()]);
        assert!(low.below_floor);
        assert_eq!(approval_figure(&low), FULL_BP);
        let limits = default_limits();
        assert!(!within_authority(&low, limit_of(&limits, Role::KaDirector)));
        assert!(within_authority(&low, limit_of(&limits, Role::CommercialManager)));
    }

    #[test]
    fn a_discount_typed_is_the_discount_whatever_the_rounding_of_its_price() {
        // 5 % off 12,345.67 元 is 11,728.3865 → 11,728.39 元; off 8,000.01 元 is 7,600.0095 → 7,600.01.
        for list in [1_234_567, 800_001, 333_333] {
            let l = price_line(
                0,
                &LineInput { list_price: Some(list), discount_bp: Some(500), ..line(list, 1, None, None) },
            )
            .unwrap();
            assert_eq!(l.discount_bp, 500, "{list}");
            let t = totals(&[l.clone(), l]);
            assert_eq!(t.discount_bp, 500, "{list}: {t:?}");
            assert!(within_authority(&t, 500));
        }
    }

    #[test]
    fn authority_bands_hold_at_their_boundaries() {
        let limits = default_limits();
        let at = |bp: i64| totals(&[price_line(0, &line(1_000_000, 1, None, Some(bp))).unwrap()]);
        assert!(within_authority(&at(500), limit_of(&limits, Role::KaRep)));
        assert!(!within_authority(&at(501), limit_of(&limits, Role::KaRep)));
        assert!(within_authority(&at(1000), limit_of(&limits, Role::KaManager)));
        assert!(!within_authority(&at(1001), limit_of(&limits, Role::KaManager)));
        assert!(within_authority(&at(1500), limit_of(&limits, Role::KaDirector)));
        assert!(!within_authority(&at(1501), limit_of(&limits, Role::KaDirector)));
        assert_eq!(limit_of(&limits, Role::Gm), 0);
    }

    #[test]
    fn quantities_and_installments() {
        assert_eq!(parse_quantity("2"), Ok(2000));
        assert_eq!(parse_quantity("1,200.5"), Ok(1_200_500));
        assert_eq!(parse_quantity("0"), Err("quantity_positive"));
        assert_eq!(parse_quantity("-3"), Err("quantity_positive"));
        assert_eq!(parse_quantity("1.2345"), Err("quantity_format"));
        assert_eq!(format_quantity(1500), "1.5");
        assert_eq!(format_quantity(2000), "2");
        let i = |kind, p, days| Installment { kind, percent_bp: p, days };
        let ok = [
            i(InstallmentKind::Advance, 3000, 0),
            i(InstallmentKind::OnDelivery, 6000, 30),
            i(InstallmentKind::AfterAcceptance, 1000, 30),
        ];
        assert!(check_installments(&ok).is_empty());
        assert_eq!(check_installments(&ok[..2]), vec![("payment_terms".to_string(), "installments_sum")]);
    }
}
