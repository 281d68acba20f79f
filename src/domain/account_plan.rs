//! Account plans (客户规划, seed 004; 重点客户销售计划模板, seed 000; docs/DOMAIN.md §14): the
//! eight parts of a key account's yearly plan, the four phases of the planning year, the review
//! cadence by tier, the review checklist, and the comparison of two saved versions. No I/O.
//!
//! A plan for year `Y` looks five years ahead: its forecast covers `Y ..= Y + 4` and nothing in
//! it may fall due after 31 December of `Y + 4` (the plan's horizon).
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::Errors;
use super::money;
use super::role::string_enum;
use super::text;

/// Text limits, in characters.
pub const TEXT_MAX: usize = 4000;
pub const LINE_MAX: usize = 200;
pub const ROWS_MAX: usize = 100;
/// The plan's horizon in years (the year itself and four more).
pub const HORIZON_YEARS: i32 = 5;

string_enum!(
    /// The four phases of the planning year (seed 004).
    Phase {
        Preparation = "preparation",
        Drafting = "drafting",
        Review = "review",
        Execution = "execution",
    }
);

string_enum!(
    /// How often an account's plan is reviewed.
    Cadence {
        Quarterly = "quarterly",
        Yearly = "yearly",
        Collective = "collective",
    }
);

string_enum!(
    /// The progress of an objective or action.
    ItemStatus {
        Open = "open",
        OnTrack = "on_track",
        AtRisk = "at_risk",
        Done = "done",
        Missed = "missed",
    }
);

string_enum!(
    /// What measures an objective: a figure KAM keeps (the share of wallet in basis points, the
    /// revenue booked in the plan year in fen, an opportunity won) or one entered by hand.
    Measure {
        Share = "share",
        Revenue = "revenue",
        OpportunityWon = "opportunity_won",
        Manual = "manual",
    }
);

string_enum!(
    /// What kind of action: a project, one team member's, another function's.
    ActionKind {
        Project = "project",
        Member = "member",
        Function = "function",
    }
);

string_enum!(
    /// A whitespace cell: sold, in the pipeline, held by a competitor, not addressed.
    Whitespace {
        Sold = "sold",
        Pipeline = "pipeline",
        Competitor = "competitor",
        Open = "open",
    }
);

string_enum!(
    /// A checklist answer.
    Answer {
        Yes = "yes",
        Partly = "partly",
        No = "no",
    }
);

/// The review checklist of seed 004 phase 3, in order.
pub const CHECKLIST: [&str; 7] =
    ["realistic", "linked", "return", "product_mix", "competition", "new_initiatives", "profit_risk"];

/// The review cadence by tier (the company's choice; the defaults are issue 23's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanSettings {
    /// How often a strategic account's plan is reviewed (default: every quarter).
    pub strategic: Cadence,
    /// An A account's (default: yearly).
    pub a: Cadence,
    /// A B account's (default: the yearly collective review).
    pub b: Cadence,
    /// A C account's (default: the yearly collective review).
    pub c: Cadence,
    /// How many days before a review falls due its request is opened (0–60; default 14).
    #[schema(minimum = 0, maximum = 60)]
    pub lead_days: i64,
    /// Which tiers the six-monthly progress report covers (default: strategic and A).
    pub report_tiers: Vec<String>,
}

impl Default for PlanSettings {
    fn default() -> Self {
        PlanSettings {
            strategic: Cadence::Quarterly,
            a: Cadence::Yearly,
            b: Cadence::Collective,
            c: Cadence::Collective,
            lead_days: 14,
            report_tiers: vec!["strategic".into(), "A".into()],
        }
    }
}

impl PlanSettings {
    pub fn cadence(&self, tier: &str) -> Cadence {
        match tier {
            "strategic" => self.strategic,
            "A" => self.a,
            "B" => self.b,
            _ => self.c,
        }
    }

    pub fn validate(&self) -> Result<(), super::DomainError> {
        let mut e = Errors::default();
        if !(0..=60).contains(&self.lead_days) {
            e.add("lead_days", "out_of_range");
        }
        if self.report_tiers.is_empty() {
            e.add("report_tiers", "required");
        }
        if self.report_tiers.iter().any(|t| !super::classify::TIERS.contains(&t.as_str())) {
            e.add("report_tiers", "invalid_choice");
        }
        e.finish()
    }
}

/// The planning year's calendar (phase 1): when each phase starts and ends, as dates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Calendar {
    /// Phase 1, planning and preparation, starts.
    #[schema(format = Date)]
    pub prepare_from: String,
    /// Phase 2, drafting (the eight steps, 8–12 weeks), starts.
    #[schema(format = Date)]
    pub draft_from: String,
    /// Drafts are due for review.
    #[schema(format = Date)]
    pub draft_due: String,
    /// Phase 3, review and adjustment, ends: the first review of every plan is due.
    #[schema(format = Date)]
    pub review_due: String,
    /// Phase 4, execution and monitoring, starts.
    #[schema(format = Date)]
    pub execute_from: String,
}

fn date(s: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
}

impl Calendar {
    /// The default calendar of plan year `year`: preparation from 1 September of the year
    /// before, drafting from 1 October for 10 weeks (8–12), review by 15 December, execution
    /// from 1 January.
    pub fn default_for(year: i32) -> Calendar {
        let d = |y: i32, m: u32, day: u32| chrono::NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default();
        let draft_from = d(year - 1, 10, 1);
        Calendar {
            prepare_from: d(year - 1, 9, 1).to_string(),
            draft_from: draft_from.to_string(),
            draft_due: (draft_from + chrono::Duration::weeks(10)).to_string(),
            review_due: d(year - 1, 12, 15).to_string(),
            execute_from: d(year, 1, 1).to_string(),
        }
    }

    /// The dates in order, each a date; drafting lasts 8 to 12 weeks.
    pub fn validate(&self) -> Result<(), super::DomainError> {
        let mut e = Errors::default();
        let fields = [
            ("prepare_from", &self.prepare_from),
            ("draft_from", &self.draft_from),
            ("draft_due", &self.draft_due),
            ("review_due", &self.review_due),
            ("execute_from", &self.execute_from),
        ];
        let mut prev: Option<chrono::NaiveDate> = None;
        let mut parsed = vec![];
        for (f, v) in fields {
            match date(v) {
                None => e.add(f, "invalid_date"),
                Some(d) => {
                    if prev.is_some_and(|p| d < p) {
                        e.add(f, "date_order");
                    }
                    prev = Some(d);
                    parsed.push(d);
                }
            }
        }
        if let (Some(from), Some(due)) = (date(&self.draft_from), date(&self.draft_due)) {
            let weeks = (due - from).num_days();
            if !(56..=84).contains(&weeks) {
                e.add("draft_due", "drafting_weeks");
            }
        }
        e.finish()
    }

    /// The phase of the year on `today`.
    pub fn phase_on(&self, today: chrono::NaiveDate) -> Phase {
        let after = |s: &str| date(s).is_some_and(|d| today >= d);
        if after(&self.execute_from) {
            Phase::Execution
        } else if date(&self.draft_due).is_some_and(|d| today > d) {
            Phase::Review
        } else if after(&self.draft_from) {
            Phase::Drafting
        } else {
            Phase::Preparation
        }
    }
}

/// When the reviews of a plan of `year` with this cadence fall due, given the year's first
/// review date: quarterly — the first review, then the ends of the plan year's four quarters
/// (31 March, 30 June, 30 September, 31 December); yearly and collective — the first review
/// only. Each comes with its period's label (`2027`, `2027-Q1` …).
pub fn review_dates(year: i32, cadence: Cadence, first_review: chrono::NaiveDate) -> Vec<(String, chrono::NaiveDate)> {
    let mut out = vec![(year.to_string(), first_review)];
    if cadence == Cadence::Quarterly {
        for (q, (m, d)) in [(3, 31), (6, 30), (9, 30), (12, 31)].into_iter().enumerate() {
            if let Some(due) = chrono::NaiveDate::from_ymd_opt(year, m, d) {
                out.push((format!("{year}-Q{}", q + 1), due));
            }
        }
    }
    out
}

/// The half-year `2027-H1` / `2027-H2` as its first and last day.
pub fn half_year(s: &str) -> Result<(i32, chrono::NaiveDate, chrono::NaiveDate), &'static str> {
    let (y, h) = s.trim().split_once("-H").ok_or("half_year_format")?;
    let y: i32 = y.parse().map_err(|_| "half_year_format")?;
    if !(2000..=2100).contains(&y) {
        return Err("half_year_format");
    }
    let d = |m: u32, day: u32| chrono::NaiveDate::from_ymd_opt(y, m, day).ok_or("half_year_format");
    match h {
        "1" => Ok((y, d(1, 1)?, d(6, 30)?)),
        "2" => Ok((y, d(7, 1)?, d(12, 31)?)),
        _ => Err("half_year_format"),
    }
}

/// Part 1, customer information (客户信息).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct CustomerInfo {
    /// The customer's overall strategy (at most 4000 characters, as every text of the plan).
    pub strategy: Option<String>,
    /// Financial and market performance.
    pub financial_market: Option<String>,
    pub product_strategy: Option<String>,
    pub production: Option<String>,
    pub purchasing_strategy: Option<String>,
    pub supplier_management: Option<String>,
    /// The purchasing decision process.
    pub decision_process: Option<String>,
    /// The organisation and its key decision makers.
    pub organisation: Option<String>,
    /// The relationship plan.
    pub relationship_plan: Option<String>,
}

/// Our share with the customer on one platform in one region (part 2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareRow {
    /// The platform (product platform or business unit; at most 200 characters).
    pub platform: String,
    #[serde(default)]
    pub region: Option<String>,
    /// The share in percent with up to two decimals ("35.5").
    #[schema(pattern = r"^\d{1,3}(\.\d{1,2})?$")]
    pub share: String,
    /// Its trend: up, flat or down (free text, at most 200 characters).
    #[serde(default)]
    pub trend: Option<String>,
}

/// Part 2, customer performance (客户绩效).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
#[schema(as = PlanPerformance)]
pub struct Performance {
    /// Our share by platform and region.
    pub shares: Vec<ShareRow>,
    /// The customer's financial and operating performance.
    pub customer_results: Option<String>,
    /// How last year's plan was carried out.
    pub last_plan: Option<String>,
    /// Points of attention in the relationship.
    pub attention: Option<String>,
}

/// A competitor's score on one buying factor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompetitorScore {
    pub competitor: String,
    #[schema(minimum = 1, maximum = 5)]
    pub score: i64,
}

/// One key buying factor, weighted, with our standing and each competitor's (1–5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BuyingFactor {
    pub factor: String,
    /// Its weight, 1–100 (the weights need not add up to 100).
    #[schema(minimum = 1, maximum = 100)]
    pub weight: i64,
    /// Our standing, 1–5.
    #[schema(minimum = 1, maximum = 5)]
    pub ours: i64,
    #[serde(default)]
    pub competitors: Vec<CompetitorScore>,
}

/// A competitor's position and strategy with the customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompetitorPosition {
    pub name: String,
    #[serde(default)]
    pub position: Option<String>,
    #[serde(default)]
    pub strategy: Option<String>,
}

/// Part 3, competitive assessment (竞争评估).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
#[schema(as = PlanCompetition)]
pub struct Competition {
    /// The customer's needs.
    pub needs: Option<String>,
    /// The key buying factors, weighted.
    pub factors: Vec<BuyingFactor>,
    pub competitors: Vec<CompetitorPosition>,
}

/// Part 4, one objective: specific and measurable, with an owner, a target, a due date and the
/// figure that measures it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PlanObjective)]
pub struct Objective {
    /// A key that stays with the objective across versions (letters, digits, `-`; given by the
    /// first save when empty).
    #[serde(default)]
    pub key: String,
    pub title: String,
    /// Username of who owns it.
    pub owner: Option<String>,
    /// What measures it.
    pub measure: Option<Measure>,
    /// The target: percent for `share` ("40"), yuan for `revenue` ("5000000.00"), nothing for
    /// `opportunity_won`, free text for `manual`.
    #[serde(default)]
    pub target: Option<String>,
    /// The opportunity to win (`opportunity_won`).
    #[serde(default)]
    pub opportunity_id: Option<i64>,
    #[schema(format = Date)]
    pub due_on: Option<String>,
    #[serde(default)]
    pub status: Option<ItemStatus>,
    /// Progress in percent (0–100); figures KAM keeps are measured on read.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 100)]
    pub percent: Option<i64>,
    /// The figure reached, entered by hand (`manual`).
    #[serde(default)]
    pub actual: Option<String>,
}

/// Part 5, one action of the team's plan; a milestone when marked so.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PlanAction)]
pub struct Action {
    #[serde(default)]
    pub key: String,
    pub title: String,
    pub kind: ActionKind,
    /// The project it belongs to (kind `project`), or the function that acts (kind `function`).
    #[serde(default)]
    pub project: Option<String>,
    /// Username of who acts.
    #[serde(default)]
    pub owner: Option<String>,
    #[schema(format = Date)]
    pub due_on: Option<String>,
    /// A key milestone.
    #[serde(default)]
    pub milestone: bool,
    /// Its budget in yuan ("20000.00").
    #[serde(default)]
    pub budget: Option<String>,
    #[serde(default)]
    pub status: Option<ItemStatus>,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 100)]
    pub percent: Option<i64>,
}

/// One year of the 5-year outline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutlineYear {
    pub year: i32,
    pub outline: String,
}

/// Part 5, the team's action plan (团队行动计划).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ActionPlan {
    /// The 5-year outline, a year each.
    pub outline: Vec<OutlineYear>,
    /// The 1-year detailed plan: actions by project, by team member, by other functions.
    pub actions: Vec<Action>,
    /// The budget (text; the actions carry their amounts).
    pub budget: Option<String>,
    pub resources: Option<String>,
}

/// Part 6, a team member and their needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PlanMember)]
pub struct Member {
    /// Username of a user, or empty for someone outside KAM (then `name`).
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    /// Role, function and responsibilities.
    pub role: String,
    #[serde(default)]
    pub responsibilities: Option<String>,
    #[serde(default)]
    pub resources: Option<String>,
    /// Input needed from other functions.
    #[serde(default)]
    pub function_input: Option<String>,
    /// Personal development.
    #[serde(default)]
    pub development: Option<String>,
}

/// Part 7, one row of the 5-year financial forecast (yuan as decimal strings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PlanForecastRow)]
pub struct ForecastRow {
    /// One of the plan's five years.
    pub year: i32,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub platform: Option<String>,
    #[schema(pattern = r"^-?\d{1,15}(\.\d{1,2})?$")]
    pub revenue: String,
    #[schema(pattern = r"^-?\d{1,15}(\.\d{1,2})?$")]
    pub contribution: String,
    /// The account management cost.
    #[schema(pattern = r"^-?\d{1,15}(\.\d{1,2})?$")]
    pub cost: String,
}

/// The plan's eight parts as the owner writes them (part 8, the appendix, is its attachments
/// plus this note).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct PlanBody {
    pub customer: CustomerInfo,
    pub performance: Performance,
    pub competition: Competition,
    pub objectives: Vec<Objective>,
    pub actions: ActionPlan,
    pub team: Vec<Member>,
    pub forecast: Vec<ForecastRow>,
    /// Part 8: the appendix's note (its documents are the plan's attachments).
    pub appendix: Option<String>,
}

fn opt(e: &mut Errors, field: &str, v: &mut Option<String>, max: usize) {
    match text::optional(v.as_deref(), max) {
        Ok(t) => *v = t,
        Err(c) => e.add(field, c),
    }
}

fn req(e: &mut Errors, field: &str, v: &mut String, max: usize) {
    match text::required(Some(v.as_str()), max) {
        Ok(t) => *v = t,
        Err(c) => e.add(field, c),
    }
}

fn rows<T>(e: &mut Errors, field: &str, v: &[T]) {
    if v.len() > ROWS_MAX {
        e.add(field, "too_many_rows");
    }
}

fn amount(e: &mut Errors, field: &str, v: &mut String) {
    match money::parse_fen(v) {
        Ok(f) => *v = money::format_fen(f),
        Err(c) => e.add(field, c),
    }
}

/// The end of the plan's horizon: 31 December of its fifth year.
pub fn horizon(year: i32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(year + HORIZON_YEARS - 1, 12, 31).unwrap_or_default()
}

fn due(e: &mut Errors, field: &str, v: &mut Option<String>, year: i32) {
    let Some(s) = v.as_deref().map(str::trim).filter(|s| !s.is_empty()) else {
        *v = None;
        return;
    };
    match date(s) {
        None => e.add(field, "invalid_date"),
        Some(d) if d > horizon(year) => e.add(field, "after_horizon"),
        Some(d) => *v = Some(d.to_string()),
    }
}

fn percent(e: &mut Errors, field: &str, v: Option<i64>) {
    if v.is_some_and(|p| !(0..=100).contains(&p)) {
        e.add(field, "out_of_range");
    }
}

/// Gives an item without a key the next free one (`o1`, `o2` … / `a1` …).
fn keys<T>(items: &mut [T], prefix: &str, key: fn(&mut T) -> &mut String, e: &mut Errors, field: &str) {
    let mut used: Vec<String> = vec![];
    for (i, it) in items.iter_mut().enumerate() {
        let k = key(it);
        *k = k.trim().to_string();
        if k.is_empty() {
            continue;
        }
        if k.len() > 40 || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            e.add(&format!("{field}[{i}].key"), "key_format");
        } else if used.contains(k) {
            e.add(&format!("{field}[{i}].key"), "duplicate");
        }
        used.push(k.clone());
    }
    let mut n = 1;
    for it in items.iter_mut() {
        let k = key(it);
        if k.is_empty() {
            while used.contains(&format!("{prefix}{n}")) {
                n += 1;
            }
            *k = format!("{prefix}{n}");
            used.push(k.clone());
        }
    }
}

/// Checks and normalises the plan of `year` (texts trimmed, amounts and dates in their one
/// form, keys given); every fault is named by its field, and a fault saves nothing.
pub fn validate(year: i32, b: &mut PlanBody) -> Result<(), super::DomainError> {
    let mut e = Errors::default();
    let c = &mut b.customer;
    for (f, v) in [
        ("customer.strategy", &mut c.strategy),
        ("customer.financial_market", &mut c.financial_market),
        ("customer.product_strategy", &mut c.product_strategy),
        ("customer.production", &mut c.production),
        ("customer.purchasing_strategy", &mut c.purchasing_strategy),
        ("customer.supplier_management", &mut c.supplier_management),
        ("customer.decision_process", &mut c.decision_process),
        ("customer.organisation", &mut c.organisation),
        ("customer.relationship_plan", &mut c.relationship_plan),
    ] {
        opt(&mut e, f, v, TEXT_MAX);
    }
    let p = &mut b.performance;
    rows(&mut e, "performance.shares", &p.shares);
    for (i, s) in p.shares.iter_mut().enumerate() {
        req(&mut e, &format!("performance.shares[{i}].platform"), &mut s.platform, LINE_MAX);
        opt(&mut e, &format!("performance.shares[{i}].region"), &mut s.region, LINE_MAX);
        opt(&mut e, &format!("performance.shares[{i}].trend"), &mut s.trend, LINE_MAX);
        match money::parse_bp(&s.share) {
            Ok(bp) if (0..=10_000).contains(&bp) => s.share = money::format_bp(bp),
            Ok(_) => e.add(&format!("performance.shares[{i}].share"), "out_of_range"),
            Err(c) => e.add(&format!("performance.shares[{i}].share"), c),
        }
    }
    opt(&mut e, "performance.customer_results", &mut p.customer_results, TEXT_MAX);
    opt(&mut e, "performance.last_plan", &mut p.last_plan, TEXT_MAX);
    opt(&mut e, "performance.attention", &mut p.attention, TEXT_MAX);
    let k = &mut b.competition;
    opt(&mut e, "competition.needs", &mut k.needs, TEXT_MAX);
    rows(&mut e, "competition.factors", &k.factors);
    for (i, f) in k.factors.iter_mut().enumerate() {
        req(&mut e, &format!("competition.factors[{i}].factor"), &mut f.factor, LINE_MAX);
        if !(1..=100).contains(&f.weight) {
            e.add(&format!("competition.factors[{i}].weight"), "out_of_range");
        }
        if !(1..=5).contains(&f.ours) {
            e.add(&format!("competition.factors[{i}].ours"), "score_range");
        }
        for (j, s) in f.competitors.iter_mut().enumerate() {
            req(&mut e, &format!("competition.factors[{i}].competitors[{j}].competitor"), &mut s.competitor, LINE_MAX);
            if !(1..=5).contains(&s.score) {
                e.add(&format!("competition.factors[{i}].competitors[{j}].score"), "score_range");
            }
        }
    }
    rows(&mut e, "competition.competitors", &k.competitors);
    for (i, c) in k.competitors.iter_mut().enumerate() {
        req(&mut e, &format!("competition.competitors[{i}].name"), &mut c.name, LINE_MAX);
        opt(&mut e, &format!("competition.competitors[{i}].position"), &mut c.position, TEXT_MAX);
        opt(&mut e, &format!("competition.competitors[{i}].strategy"), &mut c.strategy, TEXT_MAX);
    }
    rows(&mut e, "objectives", &b.objectives);
    keys(&mut b.objectives, "o", |o| &mut o.key, &mut e, "objectives");
    for (i, o) in b.objectives.iter_mut().enumerate() {
        let f = |n: &str| format!("objectives[{i}].{n}");
        req(&mut e, &f("title"), &mut o.title, LINE_MAX);
        opt(&mut e, &f("owner"), &mut o.owner, 64);
        if o.owner.is_none() {
            e.add(&f("owner"), "required");
        }
        opt(&mut e, &f("target"), &mut o.target, LINE_MAX);
        opt(&mut e, &f("actual"), &mut o.actual, LINE_MAX);
        match o.measure {
            None => e.add(&f("measure"), "required"),
            Some(Measure::Share) => match o.target.as_deref().map(money::parse_bp) {
                None => e.add(&f("target"), "required"),
                Some(Ok(bp)) if (0..=10_000).contains(&bp) => o.target = Some(money::format_bp(bp)),
                Some(Ok(_)) => e.add(&f("target"), "out_of_range"),
                Some(Err(c)) => e.add(&f("target"), c),
            },
            Some(Measure::Revenue) => match o.target.as_deref().map(money::parse_fen) {
                None => e.add(&f("target"), "required"),
                Some(Ok(fen)) if fen > 0 => o.target = Some(money::format_fen(fen)),
                Some(Ok(_)) => e.add(&f("target"), "out_of_range"),
                Some(Err(c)) => e.add(&f("target"), c),
            },
            Some(Measure::OpportunityWon) => {
                if o.opportunity_id.is_none() {
                    e.add(&f("opportunity_id"), "required");
                }
            }
            Some(Measure::Manual) => {
                if o.target.is_none() {
                    e.add(&f("target"), "required");
                }
            }
        }
        due(&mut e, &f("due_on"), &mut o.due_on, year);
        if o.due_on.is_none() && !e.0.iter().any(|x| x.field == f("due_on")) {
            e.add(&f("due_on"), "required");
        }
        percent(&mut e, &f("percent"), o.percent);
    }
    let a = &mut b.actions;
    rows(&mut e, "actions.outline", &a.outline);
    for (i, o) in a.outline.iter_mut().enumerate() {
        if !(year..year + HORIZON_YEARS).contains(&o.year) {
            e.add(&format!("actions.outline[{i}].year"), "year_outside_plan");
        }
        req(&mut e, &format!("actions.outline[{i}].outline"), &mut o.outline, TEXT_MAX);
    }
    rows(&mut e, "actions.actions", &a.actions);
    keys(&mut a.actions, "a", |a| &mut a.key, &mut e, "actions.actions");
    for (i, x) in a.actions.iter_mut().enumerate() {
        let f = |n: &str| format!("actions.actions[{i}].{n}");
        req(&mut e, &f("title"), &mut x.title, LINE_MAX);
        opt(&mut e, &f("project"), &mut x.project, LINE_MAX);
        opt(&mut e, &f("owner"), &mut x.owner, 64);
        due(&mut e, &f("due_on"), &mut x.due_on, year);
        if x.milestone && x.due_on.is_none() && !e.0.iter().any(|y| y.field == f("due_on")) {
            e.add(&f("due_on"), "required");
        }
        if let Some(bud) = x.budget.as_mut() {
            if bud.trim().is_empty() {
                x.budget = None;
            } else {
                amount(&mut e, &f("budget"), bud);
            }
        }
        percent(&mut e, &f("percent"), x.percent);
    }
    opt(&mut e, "actions.budget", &mut a.budget, TEXT_MAX);
    opt(&mut e, "actions.resources", &mut a.resources, TEXT_MAX);
    rows(&mut e, "team", &b.team);
    for (i, m) in b.team.iter_mut().enumerate() {
        let f = |n: &str| format!("team[{i}].{n}");
        opt(&mut e, &f("user"), &mut m.user, 64);
        opt(&mut e, &f("name"), &mut m.name, LINE_MAX);
        if m.user.is_none() && m.name.is_none() {
            e.add(&f("name"), "required");
        }
        req(&mut e, &f("role"), &mut m.role, LINE_MAX);
        opt(&mut e, &f("responsibilities"), &mut m.responsibilities, TEXT_MAX);
        opt(&mut e, &f("resources"), &mut m.resources, TEXT_MAX);
        opt(&mut e, &f("function_input"), &mut m.function_input, TEXT_MAX);
        opt(&mut e, &f("development"), &mut m.development, TEXT_MAX);
    }
    if b.forecast.len() > 500 {
        e.add("forecast", "too_many_rows");
    }
    for (i, r) in b.forecast.iter_mut().enumerate() {
        let f = |n: &str| format!("forecast[{i}].{n}");
        if !(year..year + HORIZON_YEARS).contains(&r.year) {
            e.add(&f("year"), "year_outside_plan");
        }
        opt(&mut e, &f("region"), &mut r.region, LINE_MAX);
        opt(&mut e, &f("platform"), &mut r.platform, LINE_MAX);
        amount(&mut e, &f("revenue"), &mut r.revenue);
        amount(&mut e, &f("contribution"), &mut r.contribution);
        amount(&mut e, &f("cost"), &mut r.cost);
    }
    opt(&mut e, "appendix", &mut b.appendix, TEXT_MAX);
    e.finish()
}

/// The forecast summed by year over the plan's five years: (year, revenue, contribution, cost)
/// in fen. The rows were validated.
pub fn forecast_by_year(year: i32, rows: &[ForecastRow]) -> Vec<(i32, i64, i64, i64)> {
    (year..year + HORIZON_YEARS)
        .map(|y| {
            let mut t = (y, 0, 0, 0);
            for r in rows.iter().filter(|r| r.year == y) {
                t.1 += money::parse_fen(&r.revenue).unwrap_or(0);
                t.2 += money::parse_fen(&r.contribution).unwrap_or(0);
                t.3 += money::parse_fen(&r.cost).unwrap_or(0);
            }
            t
        })
        .collect()
}

/// One answer of the review checklist.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecklistAnswer {
    /// The question (one of `realistic`, `linked`, `return`, `product_mix`, `competition`,
    /// `new_initiatives`, `profit_risk`).
    pub question: String,
    pub answer: Option<Answer>,
    /// The reviewer's comment (required; at most 2000 characters).
    pub comment: Option<String>,
}

/// Every question answered, each with its comment, in the checklist's order.
pub fn validate_checklist(answers: &mut Vec<ChecklistAnswer>) -> Result<(), super::DomainError> {
    let mut e = Errors::default();
    for a in answers.iter() {
        if !CHECKLIST.contains(&a.question.as_str()) {
            e.add("checklist", "invalid_choice");
        }
    }
    let mut out = vec![];
    for q in CHECKLIST {
        match answers.iter().find(|a| a.question == q) {
            None => e.add(&format!("checklist.{q}"), "required"),
            Some(a) => {
                let mut a = a.clone();
                if a.answer.is_none() {
                    e.add(&format!("checklist.{q}.answer"), "required");
                }
                match text::required(a.comment.as_deref(), 2000) {
                    Ok(c) => a.comment = Some(c),
                    Err(c) => e.add(&format!("checklist.{q}.comment"), c),
                }
                out.push(a);
            }
        }
    }
    e.finish()?;
    *answers = out;
    Ok(())
}

/// One difference between two versions of a plan: where (a dotted path such as
/// `objectives[1].target`), what it was and what it became (absent on one side when added or
/// removed).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = PlanChange)]
pub struct Change {
    pub path: String,
    /// The plan's part (`customer`, `objectives` …).
    pub part: String,
    #[schema(value_type = Option<serde_json::Value>)]
    pub before: Option<Value>,
    #[schema(value_type = Option<serde_json::Value>)]
    pub after: Option<Value>,
}

fn flatten(prefix: &str, v: &Value, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                flatten(&p, x, out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                flatten(&format!("{prefix}[{i}]"), x, out);
            }
        }
        Value::Null => {}
        other => out.push((prefix.to_string(), other.clone())),
    }
}

/// What changed from `before` to `after`, field by field, in the order of the plan's parts.
pub fn compare(before: &PlanBody, after: &PlanBody) -> Vec<Change> {
    let (mut a, mut b) = (vec![], vec![]);
    flatten("", &serde_json::to_value(before).unwrap_or(Value::Null), &mut a);
    flatten("", &serde_json::to_value(after).unwrap_or(Value::Null), &mut b);
    let mut out = vec![];
    let part = |p: &str| p.split(['.', '[']).next().unwrap_or("").to_string();
    for (p, v) in &b {
        match a.iter().find(|(q, _)| q == p) {
            Some((_, w)) if w == v => {}
            Some((_, w)) => {
                out.push(Change { path: p.clone(), part: part(p), before: Some(w.clone()), after: Some(v.clone()) })
            }
            None => out.push(Change { path: p.clone(), part: part(p), before: None, after: Some(v.clone()) }),
        }
    }
    for (p, w) in &a {
        if !b.iter().any(|(q, _)| q == p) {
            out.push(Change { path: p.clone(), part: part(p), before: Some(w.clone()), after: None });
        }
    }
    const ORDER: [&str; 8] =
        ["customer", "performance", "competition", "objectives", "actions", "team", "forecast", "appendix"];
    out.sort_by_key(|c| ORDER.iter().position(|p| *p == c.part).unwrap_or(ORDER.len()));
    out
}

/// Whether an item due on `due_on` and not done is slipping on `today`: past due, or due within
/// `days` with under `percent` done.
pub fn slipping(due_on: Option<&str>, status: Option<ItemStatus>, pct: Option<i64>, today: chrono::NaiveDate) -> bool {
    if matches!(status, Some(ItemStatus::Done) | Some(ItemStatus::Missed)) {
        return false;
    }
    let Some(d) = due_on.and_then(date) else { return false };
    d < today || (d - today).num_days() <= 7 && pct.unwrap_or(0) < 50
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> chrono::NaiveDate {
        date(s).expect("date")
    }

    #[test]
    fn cadence_gives_a_strategic_plan_five_reviews_and_the_others_one() {
        let q = review_dates(2027, Cadence::Quarterly, d("2026-12-15"));
        assert_eq!(
            q.iter().map(|(p, d)| format!("{p}@{d}")).collect::<Vec<_>>(),
            ["2027@2026-12-15", "2027-Q1@2027-03-31", "2027-Q2@2027-06-30", "2027-Q3@2027-09-30", "2027-Q4@2027-12-31"]
        );
        assert_eq!(review_dates(2027, Cadence::Yearly, d("2026-12-15")).len(), 1);
        assert_eq!(review_dates(2027, Cadence::Collective, d("2026-12-15")).len(), 1);
        let s = PlanSettings::default();
        assert_eq!(s.cadence("strategic"), Cadence::Quarterly);
        assert_eq!(s.cadence("A"), Cadence::Yearly);
        assert_eq!(s.cadence("B"), Cadence::Collective);
        assert_eq!(s.cadence("C"), Cadence::Collective);
    }

    #[test]
    fn the_calendar_keeps_its_order_and_drafting_lasts_8_to_12_weeks() {
        let c = Calendar::default_for(2027);
        assert!(c.validate().is_ok(), "{c:?}");
        assert_eq!(c.phase_on(d("2026-09-15")), Phase::Preparation);
        assert_eq!(c.phase_on(d("2026-10-15")), Phase::Drafting);
        assert_eq!(c.phase_on(d("2026-12-12")), Phase::Review);
        assert_eq!(c.phase_on(d("2027-01-01")), Phase::Execution);
        let short = Calendar { draft_due: "2026-10-20".into(), ..c.clone() };
        let Err(super::super::DomainError::Invalid(f)) = short.validate() else { panic!("accepted") };
        assert!(f.iter().any(|f| f.field == "draft_due" && f.code == "drafting_weeks"), "{f:?}");
        let back = Calendar { review_due: "2026-08-01".into(), ..c };
        let Err(super::super::DomainError::Invalid(f)) = back.validate() else { panic!("accepted") };
        assert!(f.iter().any(|f| f.field == "review_due" && f.code == "date_order"), "{f:?}");
    }

    fn objective(title: &str) -> Objective {
        Objective {
            key: String::new(),
            title: title.into(),
            owner: Some("repA".into()),
            measure: Some(Measure::Share),
            target: Some("40".into()),
            opportunity_id: None,
            due_on: Some("2027-12-31".into()),
            status: None,
            percent: None,
            actual: None,
        }
    }

    #[test]
    fn bad_plans_are_refused_by_field() {
        let mut b = PlanBody {
            objectives: vec![objective("份额"), Objective { owner: None, measure: None, ..objective("无度量") }],
            actions: ActionPlan {
                actions: vec![Action {
                    key: String::new(),
                    title: "里程碑".into(),
                    kind: ActionKind::Project,
                    project: None,
                    owner: None,
                    due_on: Some("2032-01-01".into()),
                    milestone: true,
                    budget: None,
                    status: None,
                    percent: None,
                }],
                ..ActionPlan::default()
            },
            forecast: vec![ForecastRow {
                year: 2032,
                region: None,
                platform: None,
                revenue: "1".into(),
                contribution: "1".into(),
                cost: "1".into(),
            }],
            ..PlanBody::default()
        };
        let Err(super::super::DomainError::Invalid(f)) = validate(2027, &mut b) else { panic!("accepted") };
        let got: Vec<String> = f.iter().map(|f| format!("{}:{}", f.field, f.code)).collect();
        for want in [
            "objectives[1].owner:required",
            "objectives[1].measure:required",
            "actions.actions[0].due_on:after_horizon",
            "forecast[0].year:year_outside_plan",
        ] {
            assert!(got.iter().any(|g| g == want), "{want} in {got:?}");
        }
        assert!(!got.iter().any(|g| g.starts_with("objectives[0]")), "{got:?}");
    }

    #[test]
    fn a_valid_plan_gets_keys_and_its_one_form_of_amounts() {
        let mut b = PlanBody {
            objectives: vec![objective("份额"), Objective { key: "o1".into(), ..objective("收入") }],
            forecast: vec![ForecastRow {
                year: 2031,
                region: Some("华北".into()),
                platform: None,
                revenue: "100".into(),
                contribution: "20.5".into(),
                cost: "3".into(),
            }],
            ..PlanBody::default()
        };
        validate(2027, &mut b).expect("valid");
        assert_eq!(b.objectives[0].key, "o2");
        assert_eq!(b.objectives[1].key, "o1");
        assert_eq!(b.forecast[0].contribution, "20.50");
        let by = forecast_by_year(2027, &b.forecast);
        assert_eq!(by.len(), 5);
        assert_eq!(by[4], (2031, 10_000, 2_050, 300));
    }

    #[test]
    fn the_checklist_must_be_answered_whole() {
        let mut some = vec![ChecklistAnswer {
            question: "realistic".into(),
            answer: Some(Answer::Yes),
            comment: Some("ok".into()),
        }];
        let Err(super::super::DomainError::Invalid(f)) = validate_checklist(&mut some) else { panic!("accepted") };
        assert_eq!(f.len(), 6, "{f:?}");
        let mut all: Vec<ChecklistAnswer> = CHECKLIST
            .iter()
            .rev()
            .map(|q| ChecklistAnswer {
                question: q.to_string(),
                answer: Some(Answer::Partly),
                comment: Some(" c ".into()),
            })
            .collect();
        validate_checklist(&mut all).expect("whole");
        assert_eq!(all[0].question, "realistic");
        assert_eq!(all[0].comment.as_deref(), Some("c"));
    }

    #[test]
    fn compare_names_each_changed_field_in_part_order() {
        let a = PlanBody { objectives: vec![objective("份额")], ..PlanBody::default() };
        let mut b = a.clone();
        b.objectives[0].target = Some("45.00".into());
        b.customer.strategy = Some("扩张".into());
        let c = compare(&a, &b);
        assert_eq!(c.len(), 2, "{c:?}");
        assert_eq!(c[0].path, "customer.strategy");
        assert_eq!(c[1].path, "objectives[0].target");
        assert_eq!(c[1].after, Some(Value::String("45.00".into())));
        assert!(slipping(Some("2027-01-01"), None, None, d("2027-01-02")));
        assert!(!slipping(Some("2027-01-01"), Some(ItemStatus::Done), None, d("2027-01-02")));
        assert!(slipping(Some("2027-01-05"), None, Some(10), d("2027-01-02")));
        assert!(!slipping(Some("2027-03-05"), None, Some(10), d("2027-01-02")));
    }
}
