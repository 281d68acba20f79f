//! The role templates of the performance contract (业绩合同) and the score cap: one company
//! setting (`kpi_templates`), the built-in three samples of seed 000 while it was never saved.
//!
//! The samples map onto KAM's roles by the company's titles: 大客户销售主管 → `ka_director`
//! (issued by the 销售部经理), 大客户销售经理 → `ka_manager`, 大客户销售代表 → `ka_rep` (both
//! issued by their manager). Their indicators are kept in the three categories (财务类 /
//! 经营类 / 管理类) and adapted to what KAM measures; the rest (market share, the ledger's
//! agreement with the books, the team's inner satisfaction) are entered by the manager.
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

use super::parse_dec;
use crate::app::records::{audit, settings};
use crate::app::{Caller, Ctx, Error, Result};
use crate::db::Db;
use crate::domain::error::Errors;
use crate::domain::role::Role;
use crate::domain::text;

/// The settings key.
pub const KEY: &str = "kpi_templates";
/// The indicators' categories.
pub const CATEGORIES: &[&str] = &["financial", "operating", "management"];
/// What an indicator's actual is: a figure KAM computes, or `manual` (entered by the manager).
pub const MEASURES: &[&str] = &[
    "revenue",
    "revenue_attainment",
    "revenue_growth",
    "profit",
    "profit_growth",
    "receivables_outstanding",
    "receivables_over90",
    "order_count_growth",
    "satisfaction",
    "effective_visits",
    "plan_milestones",
    "manual",
];
/// The kinds of figure: money (yuan), percent, count.
pub const KINDS: &[&str] = &["money", "percent", "count"];
/// What the veto item (否定项) is: a bad debt written off in the period (computed), or only
/// what the manager records.
pub const VETO_MEASURES: &[&str] = &["writeoff", "manual"];

/// A computed measure's kind and whether lower is better (`None` for `manual`).
pub fn measure_kind(m: &str) -> Option<(&'static str, bool)> {
    Some(match m {
        "revenue" | "profit" => ("money", false),
        "receivables_outstanding" => ("money", true),
        "receivables_over90" => ("percent", true),
        "effective_visits" => ("count", false),
        "revenue_attainment" | "revenue_growth" | "profit_growth" | "order_count_growth" | "satisfaction"
        | "plan_milestones" => ("percent", false),
        _ => return None,
    })
}

/// An indicator (关键业绩指标) of a template or a contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = KpiIndicator)]
pub struct Indicator {
    /// Lowercase letters, digits and `_`, 1–30 characters; unique in its template. Empty (or
    /// absent) for a new indicator: it gets the first free `custom_N`.
    #[serde(default)]
    #[schema(pattern = "^([a-z][a-z0-9_]{0,29})?$")]
    pub key: String,
    /// `financial` (财务类), `operating` (经营类) or `management` (管理类).
    pub category: String,
    /// 1–60 characters.
    pub name: String,
    /// What the actual is (one of the computed measures, or `manual`).
    pub measure: String,
    /// `money`, `percent` or `count` (a computed measure's own kind).
    pub kind: String,
    /// The unit as printed (元, %, 次 …), at most 10 characters.
    #[serde(default)]
    pub unit: String,
    /// Whole percent, 0–100; the indicators' weights sum to 100.
    #[schema(minimum = 0, maximum = 100)]
    pub weight: i64,
    /// The year's target, a decimal with at most two places (yuan, percent or a count).
    #[schema(pattern = r"^-?\d{1,15}(\.\d{1,2})?$")]
    pub target: String,
    /// Lower is better (receivables, aging): scored target ÷ actual.
    #[serde(default)]
    pub lower_is_better: bool,
}

/// The veto item (否定项): when it is hit the whole score is zero.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = KpiVeto)]
pub struct Veto {
    /// 1–60 characters.
    pub name: String,
    /// `writeoff` (a bad debt of the person's written off in the period hits it) or `manual`
    /// (only the manager records it, with a reason).
    pub measure: String,
}

/// A role's template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = KpiRoleTemplate)]
pub struct RoleTemplate {
    /// The role it is for (one template per role).
    #[schema(value_type = String)]
    pub role: String,
    /// The contract's title (大客户销售代表业绩合同), 1–60 characters.
    pub title: String,
    /// 1–40 indicators.
    pub indicators: Vec<Indicator>,
    pub veto: Veto,
}

/// The templates and the score cap, over their version (0: the built-in ones, never saved).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = KpiTemplates)]
pub struct TemplatesView {
    /// The highest share of its weight an indicator earns, in whole percent (100–200; 120 by
    /// default): a target beaten by half scores 120 %, not 150 %.
    pub cap_pct: i64,
    pub templates: Vec<RoleTemplate>,
    pub version: i64,
    /// The company saved them; false while they are the built-in samples.
    pub saved: bool,
}

/// New templates and cap, over the version read.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = KpiTemplatesIn)]
pub struct TemplatesIn {
    #[schema(minimum = 100, maximum = 200)]
    pub cap_pct: i64,
    #[schema(max_items = 13)]
    pub templates: Vec<RoleTemplate>,
    pub version: i64,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    cap_pct: i64,
    templates: Vec<RoleTemplate>,
}

#[allow(clippy::too_many_arguments)]
fn ind(
    key: &str,
    category: &str,
    name: &str,
    measure: &str,
    kind: &str,
    unit: &str,
    weight: i64,
    target: &str,
) -> Indicator {
    Indicator {
        key: key.into(),
        category: category.into(),
        name: name.into(),
        measure: measure.into(),
        kind: kind.into(),
        unit: unit.into(),
        weight,
        target: target.into(),
        lower_is_better: measure_kind(measure).is_some_and(|k| k.1),
    }
}

/// The three samples of seed 000, adapted to what KAM measures.
pub fn builtin() -> Vec<RoleTemplate> {
    let veto = Veto { name: "坏账核销（否定项）".into(), measure: "writeoff".into() };
    vec![
        RoleTemplate {
            role: "ka_director".into(),
            title: "大客户销售主管业绩合同".into(),
            indicators: vec![
                ind(
                    "sales_attainment",
                    "financial",
                    "大客户销售量目标完成率",
                    "revenue_attainment",
                    "percent",
                    "%",
                    20,
                    "100.00",
                ),
                ind("profit_growth", "financial", "利润同比提升", "profit_growth", "percent", "%", 10, "20.00"),
                ind(
                    "aging",
                    "financial",
                    "应收账款账龄（超90天占比）",
                    "receivables_over90",
                    "percent",
                    "%",
                    10,
                    "10.00",
                ),
                ind("sales_growth", "financial", "销售额同比增长率", "revenue_growth", "percent", "%", 10, "10.00"),
                ind("order_growth", "operating", "客户成单数增长率", "order_count_growth", "percent", "%", 10, "10.00"),
                ind("market_share", "operating", "主要产品的市场份额", "manual", "percent", "%", 10, "18.00"),
                ind("satisfaction", "operating", "客户满意度", "satisfaction", "percent", "%", 10, "95.00"),
                ind("ledger", "management", "物资台账与财务账目吻合度", "manual", "percent", "%", 5, "100.00"),
                ind("milestones", "management", "客户计划里程碑完成率", "plan_milestones", "percent", "%", 10, "90.00"),
                ind("team_satisfaction", "management", "销售团队内部满意度", "manual", "percent", "%", 5, "90.00"),
            ],
            veto: veto.clone(),
        },
        RoleTemplate {
            role: "ka_manager".into(),
            title: "大客户销售经理业绩合同".into(),
            indicators: vec![
                ind(
                    "sales_attainment",
                    "financial",
                    "主要业绩指标实现率",
                    "revenue_attainment",
                    "percent",
                    "%",
                    20,
                    "100.00",
                ),
                ind("profit", "financial", "销售利润", "profit", "money", "元", 15, "2000000.00"),
                ind("profit_growth", "financial", "销售利润增长率", "profit_growth", "percent", "%", 5, "10.00"),
                ind(
                    "receivables",
                    "financial",
                    "应收账款余额",
                    "receivables_outstanding",
                    "money",
                    "元",
                    5,
                    "1000000.00",
                ),
                ind("sales", "operating", "销售额", "revenue", "money", "元", 20, "10000000.00"),
                ind("order_growth", "operating", "客户成单数增长率", "order_count_growth", "percent", "%", 5, "10.00"),
                ind("visits", "operating", "有效拜访次数", "effective_visits", "count", "次", 10, "120.00"),
                ind("satisfaction", "management", "大客户总体满意度", "satisfaction", "percent", "%", 10, "90.00"),
                ind("milestones", "management", "客户计划里程碑完成率", "plan_milestones", "percent", "%", 5, "90.00"),
                ind("team_satisfaction", "management", "销售团队内部满意度", "manual", "percent", "%", 5, "90.00"),
            ],
            veto: veto.clone(),
        },
        RoleTemplate {
            role: "ka_rep".into(),
            title: "大客户销售代表业绩合同".into(),
            indicators: vec![
                ind("sales", "financial", "个人销售额", "revenue", "money", "元", 15, "3000000.00"),
                ind("sales_growth", "financial", "个人销售额增长率", "revenue_growth", "percent", "%", 15, "10.00"),
                ind("profit", "financial", "个人销售利润", "profit", "money", "元", 15, "600000.00"),
                ind("profit_growth", "financial", "个人销售利润增长率", "profit_growth", "percent", "%", 10, "10.00"),
                ind(
                    "sales_attainment",
                    "financial",
                    "销售指标完成率",
                    "revenue_attainment",
                    "percent",
                    "%",
                    15,
                    "100.00",
                ),
                ind("aging", "operating", "应收账款超90天占比", "receivables_over90", "percent", "%", 5, "10.00"),
                ind("order_growth", "operating", "客户成单数增长率", "order_count_growth", "percent", "%", 5, "10.00"),
                ind("visits", "operating", "有效拜访次数", "effective_visits", "count", "次", 10, "96.00"),
                ind("satisfaction", "management", "大客户总体满意度", "satisfaction", "percent", "%", 5, "90.00"),
                ind("team_satisfaction", "management", "销售团队内部满意度", "manual", "percent", "%", 5, "90.00"),
            ],
            veto,
        },
    ]
}

pub const DEFAULT_CAP_PCT: i64 = 120;

pub async fn templates_of(conn: &mut sqlx::AnyConnection) -> Result<TemplatesView> {
    let r =
        sqlx::query("SELECT value, version FROM settings WHERE key = $1").bind(KEY).fetch_optional(&mut *conn).await?;
    match r {
        None => Ok(TemplatesView { cap_pct: DEFAULT_CAP_PCT, templates: builtin(), version: 0, saved: false }),
        Some(r) => {
            let v: String = r.try_get("value")?;
            let s: Stored = serde_json::from_str(&v).map_err(|e| anyhow::anyhow!("stored kpi templates: {e}"))?;
            Ok(TemplatesView {
                cap_pct: s.cap_pct,
                templates: s.templates,
                version: r.try_get("version")?,
                saved: true,
            })
        }
    }
}

/// Who reads the templates: whoever sees the KPI part, and the administrator.
pub fn may_read(caller: &Caller) -> bool {
    super::may_see(caller) || caller.role == Role::Admin
}

/// Who keeps them: the KA director and the administrator.
pub fn may_edit(caller: &Caller) -> bool {
    matches!(caller.role, Role::KaDirector | Role::Admin)
}

pub async fn get(db: &Db, caller: &Caller) -> Result<TemplatesView> {
    if !may_read(caller) {
        return Err(Error::Forbidden);
    }
    let mut conn = db.pool.acquire().await?;
    templates_of(&mut conn).await
}

/// Checks a list of indicators (`{prefix}indicators[i].field`): keys unique and well formed,
/// categories, measures and kinds known, weights 0–100 summing to 100 (else `{prefix}indicators`
/// weights_not_100), targets decimals. Returns them trimmed.
pub fn check_indicators(prefix: &str, list: &[Indicator], e: &mut Errors) -> Vec<Indicator> {
    let mut out = vec![];
    if list.is_empty() || list.len() > 40 {
        e.add(&format!("{prefix}indicators"), "indicators_count");
    }
    // A new indicator without a key gets the first `custom_N` no other indicator holds.
    let mut keys: Vec<String> = list.iter().map(|x| x.key.trim().to_string()).collect();
    for i in 0..keys.len() {
        if keys[i].is_empty() {
            keys[i] = (1..).map(|n| format!("custom_{n}")).find(|k| !keys.contains(k)).unwrap_or_default();
        }
    }
    let mut sum = 0i64;
    for (i, x) in list.iter().enumerate() {
        let f = |n: &str| format!("{prefix}indicators[{i}].{n}");
        let key = &keys[i];
        let ok_key = !key.is_empty()
            && key.len() <= 30
            && key.starts_with(|c: char| c.is_ascii_lowercase())
            && key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !ok_key {
            e.add(&f("key"), "code_format");
        } else if keys[..i].contains(key) {
            e.add(&f("key"), "duplicate");
        }
        if !CATEGORIES.contains(&x.category.as_str()) {
            e.add(&f("category"), "invalid_choice");
        }
        let name = e.take(&f("name"), text::required(Some(&x.name), 60));
        let unit = e.take(&f("unit"), text::optional(Some(&x.unit), 10));
        let mut kind = x.kind.clone();
        let mut lower = x.lower_is_better;
        if !MEASURES.contains(&x.measure.as_str()) {
            e.add(&f("measure"), "invalid_choice");
        } else if let Some((k, l)) = measure_kind(&x.measure) {
            kind = k.to_string();
            lower = l;
        } else if !KINDS.contains(&x.kind.as_str()) {
            e.add(&f("kind"), "invalid_choice");
        }
        if !(0..=100).contains(&x.weight) {
            e.add(&f("weight"), "weight_range");
        } else {
            sum += x.weight;
        }
        let target = e.take(&f("target"), parse_dec(&x.target));
        if let (Some(name), Some(unit), Some(t)) = (name, unit, target) {
            out.push(Indicator {
                key: key.clone(),
                category: x.category.clone(),
                name,
                measure: x.measure.clone(),
                kind,
                unit: unit.unwrap_or_default(),
                weight: x.weight,
                target: super::format_dec(t),
                lower_is_better: lower,
            });
        }
    }
    if !list.is_empty() && list.iter().all(|x| (0..=100).contains(&x.weight)) && sum != 100 {
        e.add(&format!("{prefix}indicators"), "weights_not_100");
    }
    out
}

/// Saves the templates and the cap (the KA director or the administrator): one template per
/// role, each 1–40 indicators whose weights sum to 100 (else 422 naming
/// `templates[i].indicators` weights_not_100), a veto item; the cap 100–200 %.
pub async fn set(db: &Db, ctx: &Ctx, inp: &TemplatesIn) -> Result<TemplatesView> {
    if !may_edit(&ctx.caller) {
        return Err(Error::Forbidden);
    }
    let mut e = Errors::default();
    if !(100..=200).contains(&inp.cap_pct) {
        e.add("cap_pct", "cap_range");
    }
    if inp.templates.len() > Role::ALL.len() {
        e.add("templates", "too_many");
    }
    let mut list = vec![];
    for (i, t) in inp.templates.iter().enumerate() {
        let p = format!("templates[{i}].");
        if Role::parse(&t.role).is_err() {
            e.add(&format!("{p}role"), "invalid_choice");
        } else if inp.templates[..i].iter().any(|u| u.role == t.role) {
            e.add(&format!("{p}role"), "duplicate");
        }
        let title = e.take(&format!("{p}title"), text::required(Some(&t.title), 60));
        let indicators = check_indicators(&p, &t.indicators, &mut e);
        let vname = e.take(&format!("{p}veto.name"), text::required(Some(&t.veto.name), 60));
        if !VETO_MEASURES.contains(&t.veto.measure.as_str()) {
            e.add(&format!("{p}veto.measure"), "invalid_choice");
        }
        if let (Some(title), Some(vname)) = (title, vname) {
            list.push(RoleTemplate {
                role: t.role.clone(),
                title,
                indicators,
                veto: Veto { name: vname, measure: t.veto.measure.clone() },
            });
        }
    }
    e.finish()?;
    let mut tx = db.begin().await?;
    let before = templates_of(tx.conn()).await?;
    let value =
        serde_json::to_string(&Stored { cap_pct: inp.cap_pct, templates: list }).map_err(|e| anyhow::anyhow!("{e}"))?;
    if settings::write(&mut tx, KEY, &value, inp.version, &ctx.caller.username).await? {
        audit::record(
            &mut tx,
            ctx,
            "settings",
            KEY,
            "update",
            Some(&json!({"cap_pct": before.cap_pct, "templates": before.templates})),
            Some(&serde_json::from_str::<serde_json::Value>(&value).map_err(|e| anyhow::anyhow!("{e}"))?),
        )
        .await?;
    }
    let out = templates_of(tx.conn()).await?;
    tx.commit().await?;
    Ok(out)
}
