//! The company's credit rules (seed 003 §三; issue 22): the scoring form's scale and weights,
//! the grade bands by transaction amount, the fulfilment standard, the limit table and each
//! grade's management measures. The seed leaves every figure blank (××××万), so the shipped
//! defaults (`domain::credit::Rules::default`) are the company's choice and labelled so: one
//! setting, `credit`, versioned and audited like the others. Those who see credit read it; the
//! administrator, the KA director and the finance manager save it.
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::app::records::audit;
use crate::app::{Caller, Ctx, Error, Result};
use crate::db::Db;
use crate::domain::account::CreditGrade;
use crate::domain::credit::{self as cr, Band, LimitRow, Measures, Rules, Worsening};
use crate::domain::error::Errors;
use crate::domain::money::{format_bp, format_fen, parse_bp, parse_fen};
use crate::domain::quote::InstallmentKind;
use crate::domain::role::Role;

const KEY: &str = "credit";

/// A form item as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ItemOut {
    /// The item's code (`history`, `owner`, … `industry_factors`).
    pub item: String,
    /// `basic`, `ability`, `capital` or `environment`.
    pub category: String,
    /// Its weight (0–100).
    pub weight: i64,
}

/// A form item's weight as given.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemIn {
    #[schema(max_length = 40)]
    pub item: String,
    pub weight: i64,
}

/// A grade band: transaction amounts (trailing 12 months, yuan) from `from` up to `to`
/// (exclusive; null: no upper bound).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BandIo {
    pub grade: CreditGrade,
    #[schema(value_type = crate::web::api::contract::Money)]
    pub from: String,
    #[schema(value_type = Option<crate::web::api::contract::Money>)]
    pub to: Option<String>,
}

/// The fulfilment standard: a rate below `below` (%) makes the amount's grade `down` steps worse.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorseningIo {
    #[schema(pattern = r"^[0-9]+(\.[0-9]{1,2})?$")]
    pub below: String,
    pub down: i64,
}

/// A row of the limit table: scores `from`–`to` (inclusive) give `limit` (yuan).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitIo {
    pub from: i64,
    pub to: i64,
    #[schema(value_type = crate::web::api::contract::Money)]
    pub limit: String,
}

/// A grade's management measures.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeasuresIo {
    pub grade: CreditGrade,
    /// The longest credit an installment may be given, days after its event (0: none).
    pub max_credit_days: i64,
    /// The installment kinds allowed.
    pub installments: Vec<InstallmentKind>,
    /// The largest discount (%) on the usual authority.
    #[schema(pattern = r"^[0-9]+(\.[0-9]{1,2})?$")]
    pub max_discount: String,
    /// Whether orders need prepayment (款到发货).
    pub prepayment: bool,
}

/// The credit rules in force.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreditSettings {
    /// Each item is scored from 0 to this.
    pub scale_max: i64,
    pub items: Vec<ItemOut>,
    pub bands: Vec<BandIo>,
    pub fulfilment: Vec<WorseningIo>,
    pub limits: Vec<LimitIo>,
    pub measures: Vec<MeasuresIo>,
    /// Whether these are the shipped defaults — the company's choice (公司自定): the seed leaves
    /// the figures blank.
    pub is_default: bool,
    /// The setting's version (0: never saved); give it back to save.
    pub version: i64,
    /// The rules as the domain reads them.
    #[serde(skip)]
    pub rules: Rules,
}

/// The credit rules as given (all of them).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditSettingsIn {
    pub scale_max: i64,
    pub items: Vec<ItemIn>,
    pub bands: Vec<BandIo>,
    pub fulfilment: Vec<WorseningIo>,
    pub limits: Vec<LimitIo>,
    pub measures: Vec<MeasuresIo>,
    /// The version read.
    pub version: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Stored {
    scale_max: i64,
    items: Vec<ItemIn>,
    bands: Vec<BandIo>,
    fulfilment: Vec<WorseningIo>,
    limits: Vec<LimitIo>,
    measures: Vec<MeasuresIo>,
}

fn stored_of(r: &Rules) -> Stored {
    Stored {
        scale_max: r.scale_max,
        items: r.weights.iter().map(|(i, w)| ItemIn { item: i.clone(), weight: *w }).collect(),
        bands: r
            .bands
            .iter()
            .map(|b| BandIo { grade: b.grade, from: format_fen(b.from), to: b.to.map(format_fen) })
            .collect(),
        fulfilment: r.fulfilment.iter().map(|w| WorseningIo { below: format_bp(w.below_bp), down: w.down }).collect(),
        limits: r.limits.iter().map(|l| LimitIo { from: l.from, to: l.to, limit: format_fen(l.limit) }).collect(),
        measures: r
            .measures
            .iter()
            .map(|m| MeasuresIo {
                grade: m.grade,
                max_credit_days: m.max_credit_days,
                installments: m.installments.clone(),
                max_discount: format_bp(m.max_discount_bp),
                prepayment: m.prepayment,
            })
            .collect(),
    }
}

fn view(rules: Rules, is_default: bool, version: i64) -> CreditSettings {
    let s = stored_of(&rules);
    CreditSettings {
        scale_max: s.scale_max,
        items: s
            .items
            .into_iter()
            .map(|i| ItemOut {
                category: cr::category_of(&i.item).unwrap_or("basic").to_string(),
                item: i.item,
                weight: i.weight,
            })
            .collect(),
        bands: s.bands,
        fulfilment: s.fulfilment,
        limits: s.limits,
        measures: s.measures,
        is_default,
        version,
        rules,
    }
}

/// The rules of a stored or given setting, every problem named (`bands[1].from`, `bands`, …).
fn parse(
    scale_max: i64,
    items: &[ItemIn],
    bands: &[BandIo],
    fulfilment: &[WorseningIo],
    limits: &[LimitIo],
    measures: &[MeasuresIo],
) -> Result<Rules> {
    let mut e = Errors::default();
    let mut weights: Vec<(String, i64)> = items.iter().map(|i| (i.item.trim().to_string(), i.weight)).collect();
    // The form's order, whatever order they came in.
    weights.sort_by_key(|(i, _)| cr::ITEMS.iter().position(|(x, _)| x == i).unwrap_or(usize::MAX));
    let mut bs = vec![];
    for (i, b) in bands.iter().enumerate() {
        let from = e.take(&format!("bands[{i}].from"), parse_fen(&b.from));
        let to = match &b.to {
            Some(t) if !t.trim().is_empty() => e.take(&format!("bands[{i}].to"), parse_fen(t)).map(Some),
            _ => Some(None),
        };
        if let (Some(from), Some(to)) = (from, to) {
            bs.push(Band { grade: b.grade, from, to });
        }
    }
    let mut ws = vec![];
    for (i, w) in fulfilment.iter().enumerate() {
        if let Some(below_bp) = e.take(&format!("fulfilment[{i}].below"), parse_bp(&w.below)) {
            ws.push(Worsening { below_bp, down: w.down });
        }
    }
    let mut ls = vec![];
    for (i, l) in limits.iter().enumerate() {
        if let Some(limit) = e.take(&format!("limits[{i}].limit"), parse_fen(&l.limit)) {
            ls.push(LimitRow { from: l.from, to: l.to, limit });
        }
    }
    let mut ms = vec![];
    for m in measures {
        if let Some(max_discount_bp) = e.take(&format!("measures.{}.max_discount", m.grade), parse_bp(&m.max_discount))
        {
            let mut kinds = vec![];
            for k in InstallmentKind::ALL {
                if m.installments.contains(k) {
                    kinds.push(*k);
                }
            }
            ms.push(Measures {
                grade: m.grade,
                max_credit_days: m.max_credit_days,
                installments: kinds,
                max_discount_bp,
                prepayment: m.prepayment,
            });
        }
    }
    let typed_ok = e.0.is_empty();
    let rules = Rules { scale_max, weights, bands: bs, fulfilment: ws, limits: ls, measures: ms };
    for (f, c) in cr::check(&rules) {
        // A band or limit whose own figure is bad is named already; the whole list would only repeat it.
        if typed_ok || !(f == "bands" || f == "limits" || f == "measures") {
            e.add(&f, c);
        }
    }
    e.finish()?;
    Ok(rules)
}

/// The rules in force (the defaults until the company saves its own).
pub async fn load_in(conn: &mut sqlx::AnyConnection) -> Result<CreditSettings> {
    let r = sqlx::query("SELECT value, version FROM settings WHERE key = $1").bind(KEY).fetch_optional(conn).await?;
    Ok(match r {
        None => view(Rules::default(), true, 0),
        Some(r) => {
            let v: String = r.try_get("value")?;
            let version: i64 = r.try_get("version")?;
            let rules = serde_json::from_str::<Stored>(&v)
                .ok()
                .and_then(|s| parse(s.scale_max, &s.items, &s.bands, &s.fulfilment, &s.limits, &s.measures).ok());
            match rules {
                Some(rules) => view(rules, false, version),
                None => view(Rules::default(), true, version),
            }
        }
    })
}

/// The rules as the domain reads them.
pub async fn rules_in(conn: &mut sqlx::AnyConnection) -> Result<Rules> {
    Ok(load_in(conn).await?.rules)
}

/// Who reads the rules: those who see credit, and the administrator (who keeps settings);
/// anyone else is told there is nothing here.
pub fn may_read(c: &Caller) -> bool {
    c.sees_credit() || c.role.is_admin()
}

/// Who changes the rules: the administrator, the KA director and the finance manager.
pub fn may_edit(role: Role) -> bool {
    role.is_admin() || matches!(role, Role::KaDirector | Role::FinanceManager)
}

pub async fn load(db: &Db, caller: &Caller) -> Result<CreditSettings> {
    if !may_read(caller) {
        return Err(Error::NotFound);
    }
    let mut conn = db.pool.acquire().await?;
    load_in(&mut conn).await
}

/// Saves the rules over the version read; every problem is named and nothing is saved.
pub async fn save(db: &Db, ctx: &Ctx, inp: &CreditSettingsIn) -> Result<CreditSettings> {
    if !may_read(&ctx.caller) {
        return Err(Error::NotFound);
    }
    if !may_edit(ctx.caller.role) {
        return Err(Error::Forbidden);
    }
    let rules = parse(inp.scale_max, &inp.items, &inp.bands, &inp.fulfilment, &inp.limits, &inp.measures)?;
    let stored = stored_of(&rules);
    let value = serde_json::to_string(&stored).map_err(anyhow::Error::from)?;
    let mut tx = db.begin().await?;
    let before = load_in(tx.conn()).await?;
    if crate::app::records::settings::write(&mut tx, KEY, &value, inp.version, &ctx.caller.username).await? {
        let b = stored_of(&before.rules);
        audit::record(
            &mut tx,
            ctx,
            "settings",
            KEY,
            "update",
            Some(&serde_json::to_value(&b).map_err(anyhow::Error::from)?),
            Some(&serde_json::to_value(&stored).map_err(anyhow::Error::from)?),
        )
        .await?;
    }
    let after = load_in(tx.conn()).await?;
    tx.commit().await?;
    Ok(after)
}
