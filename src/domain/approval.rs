//! The approval engine's rules (docs/DOMAIN.md#6-approvals): a flow is data — ordered steps, each naming the
//! deciding role, where that role is resolved against the subject, and a deadline in days —
//! plus, for some flows, one extension a named role may grant. This module validates flow
//! definitions, gives the built-in ones, and scores the key-account risk analysis form.
use serde::{Deserialize, Serialize};

use super::role::{string_enum, Role};

string_enum!(Flow {
    KaScreening = "ka_screening",
    BidException = "bid_exception",
    DiscountException = "discount_exception",
    CreditChange = "credit_change",
    ServiceRequest = "service_request",
    Suggestion = "suggestion",
    AnnualPlan = "annual_plan",
    BudgetException = "budget_exception",
    AccountPlan = "account_plan",
    NegotiationEscalation = "negotiation_escalation",
    OrderSignoff = "order_signoff",
    BadDebtWriteoff = "bad_debt_writeoff",
    KaDowngrade = "ka_downgrade",
    ServiceEvaluation = "service_evaluation",
    BudgetPlan = "budget_plan",
    ExecResource = "exec_resource",
});

impl Flow {
    /// Whether a conditional step's threshold (`above`) is an amount in fen (an order's total)
    /// rather than a percentage in basis points (a quote's discount).
    pub fn threshold_is_amount(self) -> bool {
        self == Flow::OrderSignoff
    }

    /// The classes a step of this flow may be kept to (`StepSpec::tiers`): a service request's
    /// `standard` or `special_terms` (special payment terms asked), else an account's tiers.
    pub fn classes(self) -> &'static [&'static str] {
        match self {
            Flow::ServiceRequest => &["standard", "special_terms"],
            _ => &super::classify::TIERS,
        }
    }
}

string_enum!(State {
    Pending = "pending",
    Approved = "approved",
    Rejected = "rejected",
    Returned = "returned",
    Cancelled = "cancelled",
});

string_enum!(Decision { Approve = "approve", Reject = "reject", Return = "return" });

// Where a step's role is resolved: anyone holding it (hq), its holders in the subject's region
// or above (region), the manager of the subject's owner (owner_manager), or its holders placed
// on the subject's branch — on its region when it has no branch (branch), or its holders placed
// on the subject's region unit itself, the head of the region (its branch manager) when the
// only such holder is the requester (region_ka: the region's KA department).
string_enum!(Scope {
    Hq = "hq",
    Region = "region",
    OwnerManager = "owner_manager",
    Branch = "branch",
    RegionKa = "region_ka",
});

/// One step of a flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StepSpec {
    /// The deciding role.
    #[schema(value_type = Role)]
    pub role: String,
    /// Where the role is resolved: anyone holding it (hq), its holders in the subject's region
    /// or above (region), or the manager of the subject's owner (owner_manager).
    #[schema(value_type = Scope)]
    pub scope: String,
    /// The step's deadline in days.
    #[schema(minimum = 1, maximum = 90)]
    pub days: i64,
    /// A conditional step: it applies only when the subject's decisive figure (a quote's
    /// discount in basis points, 0–10000; an order's total in fen) is above this threshold
    /// and the threshold is not below the requester's own authority. Absent: the step always
    /// applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(required = false, minimum = 0)]
    pub above: Option<i64>,
    /// This step's one extension, by a named role, to at most `max_days` (credit changes:
    /// HQ's step only). Absent: the step allows none (unless the flow's own, older
    /// `extension` applies to every step).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub extension: Option<Extension>,
    /// A step for some subjects only: it applies when the subject's class (an account plan's
    /// tier: `strategic`, `A`, `B`, `C`) is one of these. Empty: every subject.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(required = false, max_items = 4)]
    pub tiers: Vec<String>,
    /// Decided alongside the step before it: a run of parallel steps opens together, each with
    /// its own deciders and deadline (and escalates on its own), and the request moves on once
    /// every one of them is approved; any one rejecting or returning closes the request.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    #[schema(required = false)]
    pub parallel: bool,
    /// A step each request picks or leaves out: it applies only when the request names its
    /// role among those asked (a suggestion's departments concerned), with the deadline given
    /// for it there.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    #[schema(required = false)]
    pub pick: bool,
}

/// A role a request asks among its `pick` steps, with that step's deadline in days (the
/// step's own when absent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Pick {
    #[schema(value_type = crate::domain::role::Role)]
    pub role: String,
    #[serde(default)]
    #[schema(minimum = 1, maximum = 90)]
    pub days: Option<i64>,
}

/// The figure a request of a conditional flow turns on: the subject's value (a quote's
/// discount in basis points) and the requester's own authority on the same scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figure {
    pub value: i64,
    pub floor: i64,
}

impl StepSpec {
    /// Whether the step applies to a request with this figure (see [`StepSpec::above`]):
    /// the figure passes the threshold, and the requester's own authority does not already
    /// cover the level the step stands for.
    pub fn applies(&self, figure: Option<Figure>) -> bool {
        match (self.above, figure) {
            (None, _) | (Some(_), None) => true,
            (Some(t), Some(f)) => f.value > t && t >= f.floor,
        }
    }

    /// Whether the step applies to a request with this figure and this subject class (see
    /// [`StepSpec::tiers`]; a subject without a class meets only steps for every subject).
    pub fn applies_to(&self, figure: Option<Figure>, class: Option<&str>) -> bool {
        self.applies(figure) && (self.tiers.is_empty() || class.is_some_and(|c| self.tiers.iter().any(|t| t == c)))
    }

    /// [`StepSpec::applies_to`] for a request that picks some steps: a `pick` step applies
    /// only when its role is picked.
    pub fn applies_picked(&self, figure: Option<Figure>, class: Option<&str>, picks: &[Pick]) -> bool {
        self.applies_to(figure, class) && (!self.pick || picks.iter().any(|p| p.role == self.role))
    }
}

/// The run of parallel steps each step belongs to, as the position of the run's first step:
/// a step marked `parallel` joins the run of the step before it.
pub fn groups(steps: &[StepSpec]) -> Vec<i64> {
    let mut out: Vec<i64> = Vec::with_capacity(steps.len());
    for (i, s) in steps.iter().enumerate() {
        let g = match out.last() {
            Some(prev) if s.parallel => *prev,
            _ => i as i64,
        };
        out.push(g);
    }
    out
}

impl Definition {
    /// The extension step `position` allows: its own, else the flow's (definitions saved
    /// before steps carried their own extension gave one for every step); none when neither.
    pub fn extension_of(&self, position: usize) -> Option<&Extension> {
        self.steps.get(position).and_then(|s| s.extension.as_ref()).or(self.extension.as_ref())
    }
}

/// One extension of an open step's deadline, by a named role, up to `max_days` in all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Extension {
    /// The role that may extend an open step once.
    #[schema(value_type = Role)]
    pub role: String,
    /// The step's deadline may be extended to at most this many days.
    #[schema(minimum = 1, maximum = 90)]
    pub max_days: i64,
}

/// A flow definition as the administrator edits it (JSON).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Definition {
    /// The steps in order, 1 to 10.
    #[schema(min_items = 1, max_items = 10)]
    pub steps: Vec<StepSpec>,
    /// One extension of any open step's deadline, by a named role (older definitions; a step's
    /// own `extension` takes its place).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub extension: Option<Extension>,
    /// At most this many days over all steps (credit changes: 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(required = false, minimum = 1)]
    pub max_total_days: Option<i64>,
    /// The risk analysis form's indicators and their weights (key-account screening), as
    /// `[indicator, weight]` pairs: the indicator in lowercase letters and `_`, the weight 1–100.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(required = false, value_type = Vec<RiskWeight>)]
    pub risk_weights: Vec<(String, i64)>,
    /// The discount authority (discount exceptions), as `[role, limit]` pairs: the discount in
    /// basis points a role may give without approval (500 = 5 %). A role not named has none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(required = false, value_type = Vec<RoleLimit>)]
    pub limits: Vec<(String, i64)>,
    /// Bid exceptions: a bid bond above this amount (decimal yuan) is beyond a salesperson's
    /// authority. The company's choice (the seed gives no figure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(required = false, pattern = r"^\d{1,15}(\.\d{1,2})?$")]
    pub bond_limit: Option<String>,
}

/// One role's discount limit: `["ka_rep", 500]` (schema only).
pub struct RoleLimit;

impl utoipa::PartialSchema for RoleLimit {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ArrayBuilder, ArrayItems, ObjectBuilder, Type};
        ArrayBuilder::new()
            .description(Some("`[role, limit]`: a role's code and its discount limit in basis points (0–10000)"))
            .prefix_items([
                ObjectBuilder::new().schema_type(Type::String).pattern(Some("^[a-z_]+$")).build(),
                ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(0)).maximum(Some(10000)).build(),
            ])
            .items(ArrayItems::False)
            .min_items(Some(2))
            .max_items(Some(2))
            .examples([serde_json::json!(["ka_rep", 500])])
            .into()
    }
}

impl utoipa::ToSchema for RoleLimit {
    fn name() -> std::borrow::Cow<'static, str> {
        "RoleLimit".into()
    }
}

/// The default bond limit of bid exceptions: 500,000.00 元 (the company's choice).
pub const DEFAULT_BOND_LIMIT: &str = "500000.00";

/// One indicator of the risk analysis form and its weight: `["customer_need", 25]` (schema only).
pub struct RiskWeight;

impl utoipa::PartialSchema for RiskWeight {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ArrayBuilder, ArrayItems, ObjectBuilder, Type};
        ArrayBuilder::new()
            .description(Some("`[indicator, weight]`: the indicator in lowercase letters and `_`, the weight 1–100"))
            .prefix_items([
                ObjectBuilder::new().schema_type(Type::String).pattern(Some("^[a-z_]+$")).build(),
                ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1)).maximum(Some(100)).build(),
            ])
            .items(ArrayItems::False)
            .min_items(Some(2))
            .max_items(Some(2))
            .examples([serde_json::json!(["customer_need", 25])])
            .into()
    }
}

impl utoipa::ToSchema for RiskWeight {
    fn name() -> std::borrow::Cow<'static, str> {
        "RiskWeight".into()
    }
}

pub const MAX_STEPS: usize = 10;
pub const MAX_DAYS: i64 = 90;

/// The reasons a definition of `flow` is refused, as (field, code) pairs; empty when it is
/// sound.
pub fn validate(flow: Flow, d: &Definition) -> Vec<(String, &'static str)> {
    let most = if flow.threshold_is_amount() { super::quote::MAX_LINE_AMOUNT } else { 10_000 };
    let mut out = vec![];
    if d.steps.is_empty() {
        out.push(("steps".to_string(), "flow_no_steps"));
    }
    if d.steps.len() > MAX_STEPS {
        out.push(("steps".to_string(), "flow_too_many_steps"));
    }
    for (i, s) in d.steps.iter().enumerate() {
        if Role::parse(&s.role).is_err() {
            out.push((format!("steps[{i}].role"), "unknown_role"));
        }
        if Scope::parse(&s.scope).is_err() {
            out.push((format!("steps[{i}].scope"), "invalid_choice"));
        }
        if s.days < 1 || s.days > MAX_DAYS {
            out.push((format!("steps[{i}].days"), "step_days_range"));
        }
        if s.above.is_some_and(|a| !(0..=most).contains(&a)) {
            out.push((format!("steps[{i}].above"), "threshold_range"));
        }
        if s.parallel && i == 0 {
            out.push((format!("steps[{i}].parallel"), "parallel_first"));
        }
        if s.tiers.iter().any(|t| !flow.classes().contains(&t.as_str())) {
            out.push((format!("steps[{i}].tiers"), "invalid_choice"));
        }
        if let Some(e) = &s.extension {
            if Role::parse(&e.role).is_err() {
                out.push((format!("steps[{i}].extension.role"), "unknown_role"));
            }
            if e.max_days <= s.days || e.max_days > MAX_DAYS {
                out.push((format!("steps[{i}].extension.max_days"), "extension_range"));
            }
        }
    }
    for (r, bp) in &d.limits {
        if Role::parse(r).is_err() {
            out.push(("limits".to_string(), "unknown_role"));
        }
        if !(0..=10_000).contains(bp) {
            out.push((format!("limits.{r}"), "limit_range"));
        }
    }
    if let Some(b) = &d.bond_limit {
        if super::money::parse_fen(b).is_err() {
            out.push(("bond_limit".to_string(), "money_format"));
        }
    }
    if let Some(e) = &d.extension {
        if Role::parse(&e.role).is_err() {
            out.push(("extension.role".to_string(), "unknown_role"));
        }
        if e.max_days < 1 || e.max_days > MAX_DAYS {
            out.push(("extension.max_days".to_string(), "step_days_range"));
        }
    }
    if let Some(m) = d.max_total_days {
        let sum: i64 = d.steps.iter().map(|s| s.days).sum();
        if m < 1 || sum > m {
            out.push(("max_total_days".to_string(), "steps_exceed_total"));
        }
    }
    for (k, w) in &d.risk_weights {
        if k.trim().is_empty() || !k.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
            out.push(("risk_weights".to_string(), "invalid_indicator"));
        }
        if *w < 1 || *w > 100 {
            out.push((format!("risk_weights.{k}"), "weight_range"));
        }
    }
    out
}

fn step(role: Role, scope: Scope, days: i64) -> StepSpec {
    StepSpec {
        role: role.code().to_string(),
        scope: scope.code().to_string(),
        days,
        above: None,
        extension: None,
        tiers: vec![],
        parallel: false,
        pick: false,
    }
}

fn step_for(role: Role, scope: Scope, days: i64, tiers: &[&str]) -> StepSpec {
    StepSpec { tiers: tiers.iter().map(|t| t.to_string()).collect(), ..step(role, scope, days) }
}

fn step_above(role: Role, scope: Scope, days: i64, above: i64) -> StepSpec {
    StepSpec { above: Some(above), ..step(role, scope, days) }
}

/// The built-in definition of each flow (version 1 until the administrator changes it).
pub fn builtin(flow: Flow) -> Definition {
    use Role::*;
    let plain = |steps: Vec<StepSpec>| Definition { steps, ..Definition::default() };
    match flow {
        // 003 §一.1: confirmed by the KA director, then the sales department manager.
        Flow::KaScreening => Definition {
            steps: vec![step(KaDirector, Scope::Hq, 3), step(SalesDeptManager, Scope::Hq, 3)],
            risk_weights: vec![
                ("competitive_advantage".into(), 25),
                ("customer_need".into(), 25),
                ("competitor_strength".into(), 20),
                ("payment_ability".into(), 15),
                ("relationship".into(), 15),
            ],
            ..Definition::default()
        },
        // 003 §三.五: the account's KA manager files within 2 days of the trigger (the request
        // itself); the region's KA department verifies within 3 days; HQ's KA centre approves
        // within 3, which the marketing director may extend once to at most 7; the whole change
        // within 10 days of the trigger (each request's deadlines are capped there).
        Flow::CreditChange => Definition {
            steps: vec![
                step(KaManager, Scope::RegionKa, 3),
                StepSpec {
                    extension: Some(Extension { role: MarketingDirector.code().into(), max_days: 7 }),
                    ..step(KaDirector, Scope::Hq, 3)
                },
            ],
            max_total_days: Some(10),
            ..Definition::default()
        },
        // 000 S-4: a bid beyond authority goes to the commercial manager and the branch manager
        // (the region's head when the account has no branch).
        Flow::BidException => Definition {
            steps: vec![step(CommercialManager, Scope::Hq, 2), step(BranchManager, Scope::Branch, 2)],
            bond_limit: Some(DEFAULT_BOND_LIMIT.to_string()),
            ..Definition::default()
        },
        // 000 S-5: a discount beyond the author's authority climbs from the owner's manager to
        // the first level whose limit covers it; a price below a floor price reaches the
        // commercial manager.
        Flow::DiscountException => Definition {
            steps: vec![
                step_above(KaManager, Scope::OwnerManager, 1, 500),
                step_above(KaDirector, Scope::Hq, 2, 1000),
                step_above(CommercialManager, Scope::Hq, 2, 1500),
            ],
            limits: super::quote::default_limits(),
            ..Definition::default()
        },
        // 000 商务谈判: authority beyond one's own is asked of the manager, then the KA director.
        Flow::NegotiationEscalation => {
            plain(vec![step(KaManager, Scope::OwnerManager, 1), step(KaDirector, Scope::Hq, 2)])
        }
        // Issue 21: the KA manager signs an order off; above 500,000 元 (the company's choice)
        // the KA director too.
        Flow::OrderSignoff => {
            plain(super::order::builtin_steps(step(KaManager, Scope::OwnerManager, 2), step(KaDirector, Scope::Hq, 2)))
        }
        // Issue 21: a bad-debt write-off (坏账核销) needs the finance manager's approval — a
        // finance manager other than the proposer (nobody decides their own request).
        Flow::BadDebtWriteoff => plain(vec![step(FinanceManager, Scope::Hq, 3)]),
        // Issue 24 (003 §二.2): the KA supervisor (the owner's KA manager) reviews, the KA
        // department manager (the KA director) approves; special payment terms also need the
        // marketing director (the seed's marketing vice-president).
        Flow::ServiceRequest => plain(vec![
            step(KaManager, Scope::OwnerManager, 2),
            step(KaDirector, Scope::Hq, 3),
            step_for(MarketingDirector, Scope::Hq, 3, &["special_terms"]),
        ]),
        // Issue 24 (003 §二.2): the service evaluation form is reviewed by the KA supervisor and
        // approved by the KA department manager.
        Flow::ServiceEvaluation => plain(vec![step(KaManager, Scope::OwnerManager, 2), step(KaDirector, Scope::Hq, 2)]),
        // Issue 22: a key account downgraded by hand (人工降级) is decided by the KA director.
        Flow::KaDowngrade => plain(vec![step(KaDirector, Scope::Hq, 3)]),
        // Issue 24 (003 大客户建议处理流程): the KA department manager reviews the suggestion
        // report; the departments concerned — those the suggestion picks — each give their
        // opinion in parallel by their own deadline; the marketing director reviews; the
        // general manager approves.
        Flow::Suggestion => {
            let dept = |role: Role, parallel: bool| StepSpec { pick: true, parallel, ..step(role, Scope::Hq, 5) };
            plain(vec![
                step(KaDirector, Scope::Hq, 3),
                dept(Marketing, false),
                dept(LogisticsManager, true),
                dept(FinanceManager, true),
                dept(CommercialManager, true),
                step(MarketingDirector, Scope::Hq, 3),
                step(Gm, Scope::Hq, 5),
            ])
        }
        // The KA director drafts the plan: the sales department manager alone decides it.
        Flow::AnnualPlan => plain(vec![step(SalesDeptManager, Scope::Hq, 5)]),
        // Issue 23 (seed 004 phase 3): an account plan's review, by the level its tier asks —
        // a strategic account by the president (gm) and operating committee, an A account by
        // the marketing and sales head, B and C accounts in the collective review of the
        // account's region or branch head. The company may change each step.
        Flow::AccountPlan => plain(vec![
            step_for(Gm, Scope::Hq, 7, &["strategic"]),
            step_for(MarketingDirector, Scope::Hq, 7, &["A"]),
            step_for(BranchManager, Scope::Branch, 7, &["B", "C"]),
        ]),
        // Issue 25 (000 F-): spending outside the budget, or beyond its line, needs the finance
        // manager and then the sales department manager.
        Flow::BudgetException => plain(vec![step(FinanceManager, Scope::Hq, 3), step(SalesDeptManager, Scope::Hq, 3)]),
        // Issue 25 (000 F-): a cost centre's yearly budget, after its 质询 round, is approved by
        // the sales department manager.
        Flow::BudgetPlan => plain(vec![step(SalesDeptManager, Scope::Hq, 5)]),
        // Issue 25 (000 高层资源支持申请表): an executive's support of an account is approved by
        // the KA director.
        Flow::ExecResource => plain(vec![step(KaDirector, Scope::Hq, 3)]),
    }
}

/// The risk analysis form's total on 0–100: each indicator scored 1–5, weighted.
/// `scores` must hold every indicator of `weights`.
pub fn risk_total(weights: &[(String, i64)], scores: &[(String, i64)]) -> Result<i64, (String, &'static str)> {
    let mut num = 0i64;
    let mut den = 0i64;
    for (k, w) in weights {
        let s = scores.iter().find(|(x, _)| x == k).map(|(_, s)| *s).ok_or_else(|| (k.clone(), "required"))?;
        if !(1..=5).contains(&s) {
            return Err((k.clone(), "score_range"));
        }
        num += s * w;
        den += w;
    }
    if den == 0 {
        return Ok(0);
    }
    // 5 on every indicator is 100; rounded half up.
    Ok((num * 100 * 2 + den * 5) / (den * 5 * 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_flow_is_sound_and_a_malformed_one_says_why() {
        for f in Flow::ALL {
            assert!(validate(*f, &builtin(*f)).is_empty(), "{f}");
        }
        let bad = Definition {
            steps: vec![StepSpec {
                role: "pope".into(),
                scope: "hq".into(),
                days: -1,
                above: None,
                extension: None,
                tiers: vec![],
                parallel: true,
                pick: false,
            }],
            extension: Some(Extension { role: "ka_director".into(), max_days: 0 }),
            ..Definition::default()
        };
        let why: Vec<String> = validate(Flow::KaScreening, &bad).into_iter().map(|(f, c)| format!("{f}:{c}")).collect();
        assert_eq!(
            why,
            [
                "steps[0].role:unknown_role",
                "steps[0].days:step_days_range",
                "steps[0].parallel:parallel_first",
                "extension.max_days:step_days_range"
            ]
        );
        // Runs of parallel steps: a parallel step joins the run of the step before it.
        let par = |p: bool| StepSpec { parallel: p, ..step(Role::KaDirector, Scope::Hq, 2) };
        assert_eq!(groups(&[par(false), par(false), par(true), par(true), par(false)]), [0, 1, 1, 1, 4]);
        let empty = Definition::default();
        assert_eq!(validate(Flow::KaScreening, &empty), vec![("steps".to_string(), "flow_no_steps")]);
        let mut credit = builtin(Flow::CreditChange);
        credit.steps[0].days = 8;
        assert_eq!(
            validate(Flow::CreditChange, &credit),
            vec![("max_total_days".to_string(), "steps_exceed_total")],
            "8 + 3 > 10"
        );
        // Only HQ's step may be extended, and its extension reaches beyond its own days.
        let credit = builtin(Flow::CreditChange);
        assert_eq!(credit.extension_of(0), None);
        assert_eq!(credit.extension_of(1).map(|e| (e.role.as_str(), e.max_days)), Some(("marketing_director", 7)));
        let mut short = credit.clone();
        short.steps[1].extension.as_mut().expect("hq").max_days = 3;
        assert_eq!(
            validate(Flow::CreditChange, &short),
            vec![("steps[1].extension.max_days".to_string(), "extension_range")]
        );
    }

    #[test]
    fn a_discount_climbs_to_the_first_level_that_covers_it() {
        let d = builtin(Flow::DiscountException);
        let who = |value: i64, floor: i64| -> Vec<&str> {
            d.steps.iter().filter(|s| s.applies(Some(Figure { value, floor }))).map(|s| s.role.as_str()).collect()
        };
        // A rep (5 %): 12 % needs the KA manager and the KA director, not the commercial manager.
        assert_eq!(who(1200, 500), ["ka_manager", "ka_director"]);
        assert_eq!(who(501, 500), ["ka_manager"]);
        assert_eq!(who(1000, 500), ["ka_manager"]);
        assert_eq!(who(1001, 500), ["ka_manager", "ka_director"]);
        assert_eq!(who(1500, 500), ["ka_manager", "ka_director"]);
        assert_eq!(who(1501, 500), ["ka_manager", "ka_director", "commercial_manager"]);
        // A KA manager (10 %) skips the level of their own authority.
        assert_eq!(who(1200, 1000), ["ka_director"]);
        // A price below a floor price counts as 100 %: up to the commercial manager.
        assert_eq!(who(10_000, 1500), ["commercial_manager"]);
        assert!(builtin(Flow::BidException).steps.iter().all(|s| s.applies(Some(Figure { value: 0, floor: 0 }))));
    }

    #[test]
    fn the_risk_total_weighs_each_indicator() {
        let w = builtin(Flow::KaScreening).risk_weights;
        let all = |s: i64| w.iter().map(|(k, _)| (k.clone(), s)).collect::<Vec<_>>();
        assert_eq!(risk_total(&w, &all(5)), Ok(100));
        assert_eq!(risk_total(&w, &all(1)), Ok(20));
        // 25·4 + 25·3 + 20·2 + 15·5 + 15·1 = 305 of 500 → 61.
        let mixed: Vec<(String, i64)> = w.iter().zip([4, 3, 2, 5, 1]).map(|((k, _), s)| (k.clone(), s)).collect();
        assert_eq!(risk_total(&w, &mixed), Ok(61));
        assert_eq!(risk_total(&w, &all(6)).map_err(|e| e.1), Err("score_range"));
        assert_eq!(risk_total(&w, &all(3)[1..]).map_err(|e| e.0), Err("competitive_advantage".to_string()));
    }
}
