//! The approved plan's decomposition: each region's targets split among its teams (the branch
//! org units under it), each team's among its salespeople (the active users of the branch who
//! work accounts), month by month, for revenue and profit. Every level must add up to the one
//! above it: a region's teams to the plan's region-month targets
//! (`regions.<region>.months.<YYYY-MM>.<revenue|profit>` `sum_mismatch`), a team's people to the
//! team's (`regions.<region>.teams.<team>.months.<YYYY-MM>.<…>`); a split that does not add up
//! saves nothing. Saved, it replaces the year's quotas: one row per region, team and person and
//! month, revenue in `amount` and the profit target beside it — the quotas the funnel, the V
//! value and the forecasts read.
use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

use super::plan::{self, may_draft, months, Body, KIND};
use crate::app::records::audit;
use crate::app::{Caller, Ctx, Error, Result};
use crate::db::{ts, Db};
use crate::domain::error::Errors;
use crate::domain::money::{format_fen, parse_fen};

/// A person's months as sent.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonSplitIn {
    /// The salesperson's username.
    pub user: String,
    #[schema(min_items = 12, max_items = 12, value_type = Vec<String>)]
    pub revenue: Vec<String>,
    #[schema(min_items = 12, max_items = 12, value_type = Vec<String>)]
    pub profit: Vec<String>,
}

/// A team's months and its people's as sent.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamSplitIn {
    /// The branch's org unit code.
    pub team: String,
    #[schema(min_items = 12, max_items = 12, value_type = Vec<String>)]
    pub revenue: Vec<String>,
    #[schema(min_items = 12, max_items = 12, value_type = Vec<String>)]
    pub profit: Vec<String>,
    #[serde(default)]
    pub people: Vec<PersonSplitIn>,
}

/// A region's teams as sent.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegionSplitIn {
    pub region: String,
    #[serde(default)]
    pub teams: Vec<TeamSplitIn>,
}

/// The decomposition as sent.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SplitIn {
    #[serde(default)]
    pub regions: Vec<RegionSplitIn>,
    /// The plan's version shown (a change meanwhile is 409).
    pub version: i64,
}

/// A person's share.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PersonSplit {
    pub user: String,
    pub name: String,
    pub revenue: Vec<String>,
    pub profit: Vec<String>,
}

/// A team's share and its people's.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TeamSplit {
    pub team: String,
    pub name: String,
    pub revenue: Vec<String>,
    pub profit: Vec<String>,
    pub people: Vec<PersonSplit>,
}

/// A region's plan targets and its teams.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RegionSplit {
    pub region: String,
    pub name: String,
    /// The plan's targets for the region, January to December.
    pub revenue: Vec<String>,
    pub profit: Vec<String>,
    pub teams: Vec<TeamSplit>,
}

/// The decomposition of a year's plan: saved, or (before it is) a proposal spreading each
/// region evenly over its teams and each team over its people, to adjust.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SplitView {
    pub year: i32,
    pub months: Vec<String>,
    /// Saved (the year's quotas come from it) or only proposed.
    pub saved: bool,
    #[schema(format = DateTime)]
    pub saved_at: Option<String>,
    pub regions: Vec<RegionSplit>,
    /// The plan's version (to send back).
    pub version: i64,
    pub may_edit: bool,
}

impl SplitView {
    /// The decomposition shown, as it would be sent back unchanged (to save the proposal as is).
    pub fn as_input(&self) -> SplitIn {
        SplitIn {
            regions: self
                .regions
                .iter()
                .map(|r| RegionSplitIn {
                    region: r.region.clone(),
                    teams: r
                        .teams
                        .iter()
                        .map(|t| TeamSplitIn {
                            team: t.team.clone(),
                            revenue: t.revenue.clone(),
                            profit: t.profit.clone(),
                            people: t
                                .people
                                .iter()
                                .map(|p| PersonSplitIn {
                                    user: p.user.clone(),
                                    revenue: p.revenue.clone(),
                                    profit: p.profit.clone(),
                                })
                                .collect(),
                        })
                        .collect(),
                })
                .collect(),
            version: self.version,
        }
    }
}

/// A level that does not add up: the field, the plan's (or team's) figure, the sum below it
/// and the difference (sum − target), decimal yuan.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SplitGap {
    pub field: String,
    pub target: String,
    pub sum: String,
    pub difference: String,
}

struct Team {
    id: i64,
    code: String,
    name: String,
    people: Vec<(i64, String, String)>,
}

/// The teams of a region (its branches) and their salespeople.
async fn teams_of(conn: &mut sqlx::AnyConnection, region_id: i64) -> Result<Vec<Team>> {
    let rows =
        sqlx::query("SELECT id, code, name FROM org_units WHERE kind = 'branch' AND parent_id = $1 ORDER BY code")
            .bind(region_id)
            .fetch_all(&mut *conn)
            .await?;
    let mut out = vec![];
    for r in rows {
        let id: i64 = r.try_get("id")?;
        let ps = sqlx::query(
            "SELECT id, username, display_name FROM users WHERE org_unit_id = $1 AND active = 1 \
             AND role IN ('ka_rep', 'inside_sales', 'ka_manager') ORDER BY username",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
        let people = ps
            .iter()
            .map(|p| Ok((p.try_get("id")?, p.try_get("username")?, p.try_get("display_name")?)))
            .collect::<Result<_>>()?;
        out.push(Team { id, code: r.try_get("code")?, name: r.try_get("name")?, people });
    }
    Ok(out)
}

/// `total` spread over `n` parts in whole fen, the remainder on the first ones.
fn spread(total: i64, n: usize) -> Vec<i64> {
    if n == 0 {
        return vec![];
    }
    let base = total.div_euclid(n as i64);
    let rest = total.rem_euclid(n as i64);
    (0..n as i64).map(|i| base + i64::from(i < rest)).collect()
}

fn fmt(v: &[i64]) -> Vec<String> {
    v.iter().copied().map(format_fen).collect()
}

/// The decomposition of `year`'s plan: the saved one, else an even proposal (an approved plan
/// only; else 409).
pub async fn get(db: &Db, caller: &Caller, year: i32) -> Result<SplitView> {
    let mut conn = db.pool.acquire().await?;
    plan::check_read(caller, year)?;
    let r = plan::row_in(&mut conn, year).await?.ok_or(Error::NotFound)?;
    if r.state != "approved" {
        return Err(Error::Conflict("sales_plan_not_approved"));
    }
    let regs = plan::regions(&mut conn).await?;
    let regions: Vec<RegionSplit> = match &r.split {
        Some(s) => serde_json::from_str(s).map_err(|e| anyhow::anyhow!("sales plan split: {e}"))?,
        None => {
            let mut out = vec![];
            for t in &r.body.targets {
                let Some(reg) = regs.iter().find(|x| x.0 == t.region_id) else { continue };
                let teams = teams_of(&mut conn, reg.0).await?;
                // Spread over the teams with salespeople (a team without any gets nothing),
                // over all when none has any.
                let staffed: Vec<usize> = (0..teams.len()).filter(|i| !teams[*i].people.is_empty()).collect();
                let takers: Vec<usize> = if staffed.is_empty() { (0..teams.len()).collect() } else { staffed };
                let by_team = |v: &[i64]| -> Vec<Vec<i64>> {
                    let per: Vec<Vec<i64>> = v.iter().map(|m| spread(*m, takers.len())).collect();
                    (0..teams.len())
                        .map(|i| match takers.iter().position(|t| *t == i) {
                            Some(k) => per.iter().map(|m| m[k]).collect(),
                            None => vec![0; 12],
                        })
                        .collect()
                };
                let (trev, tpro) = (by_team(&t.revenue), by_team(&t.profit));
                let mut ts_ = vec![];
                for (i, team) in teams.iter().enumerate() {
                    let by_person = |v: &[i64]| -> Vec<Vec<i64>> {
                        let per: Vec<Vec<i64>> = v.iter().map(|m| spread(*m, team.people.len())).collect();
                        (0..team.people.len()).map(|j| per.iter().map(|m| m[j]).collect()).collect()
                    };
                    let (prev, ppro) = (by_person(&trev[i]), by_person(&tpro[i]));
                    ts_.push(TeamSplit {
                        team: team.code.clone(),
                        name: team.name.clone(),
                        revenue: fmt(&trev[i]),
                        profit: fmt(&tpro[i]),
                        people: team
                            .people
                            .iter()
                            .enumerate()
                            .map(|(j, p)| PersonSplit {
                                user: p.1.clone(),
                                name: p.2.clone(),
                                revenue: fmt(&prev[j]),
                                profit: fmt(&ppro[j]),
                            })
                            .collect(),
                    });
                }
                out.push(RegionSplit {
                    region: reg.1.clone(),
                    name: reg.2.clone(),
                    revenue: fmt(&t.revenue),
                    profit: fmt(&t.profit),
                    teams: ts_,
                });
            }
            out
        }
    };
    Ok(SplitView {
        year,
        months: months(year),
        saved: r.split.is_some(),
        saved_at: r.split_at,
        regions,
        version: r.version,
        may_edit: may_draft(caller),
    })
}

/// Twelve amounts parsed, each error on its month's field (`<prefix>.months.<m>.<kind>`).
fn amounts(e: &mut Errors, prefix: &str, kind: &str, ms: &[String], v: &[String]) -> Vec<i64> {
    if v.len() != 12 {
        e.add(&format!("{prefix}.{kind}"), "twelve_months");
        return vec![0; 12];
    }
    v.iter()
        .zip(ms)
        .map(|(a, m)| match parse_fen(a.trim()) {
            Ok(x) => x,
            Err(c) => {
                e.add(&format!("{prefix}.months.{m}.{kind}"), c);
                0
            }
        })
        .collect()
}

/// The levels that do not add up, in order: region by region, month by month.
pub fn gaps(body: &Body, region_codes: &HashMap<i64, String>, year: i32, inp: &SplitIn) -> Vec<SplitGap> {
    let ms = months(year);
    let mut out = vec![];
    let parse = |v: &[String]| -> Vec<i64> {
        (0..12).map(|i| v.get(i).and_then(|a| parse_fen(a.trim()).ok()).unwrap_or(0)).collect()
    };
    let mut check = |field: String, target: &[i64], parts: Vec<Vec<i64>>, kind: &str| {
        for (i, m) in ms.iter().enumerate() {
            let s: i64 = parts.iter().map(|p| p[i]).sum();
            let t = target.get(i).copied().unwrap_or(0);
            if s != t {
                out.push(SplitGap {
                    field: format!("{field}.months.{m}.{kind}"),
                    target: format_fen(t),
                    sum: format_fen(s),
                    difference: format_fen(s - t),
                });
            }
        }
    };
    for t in &body.targets {
        let Some(code) = region_codes.get(&t.region_id) else { continue };
        let rin = inp.regions.iter().find(|r| r.region.trim() == code);
        let teams: Vec<&TeamSplitIn> = rin.map(|r| r.teams.iter().collect()).unwrap_or_default();
        let prefix = format!("regions.{code}");
        for kind in ["revenue", "profit"] {
            let target = if kind == "revenue" { &t.revenue } else { &t.profit };
            let parts =
                teams.iter().map(|tm| parse(if kind == "revenue" { &tm.revenue } else { &tm.profit })).collect();
            check(prefix.clone(), target, parts, kind);
        }
        for tm in &teams {
            for kind in ["revenue", "profit"] {
                let target = parse(if kind == "revenue" { &tm.revenue } else { &tm.profit });
                let parts =
                    tm.people.iter().map(|p| parse(if kind == "revenue" { &p.revenue } else { &p.profit })).collect();
                check(format!("{prefix}.teams.{}", tm.team.trim()), &target, parts, kind);
            }
        }
    }
    out
}

/// The gaps of a decomposition refused for not adding up (for the refusal's messages).
pub async fn gaps_of(db: &Db, year: i32, inp: &SplitIn) -> Result<Vec<SplitGap>> {
    let mut conn = db.pool.acquire().await?;
    let r = plan::row_in(&mut conn, year).await?.ok_or(Error::NotFound)?;
    let codes: HashMap<i64, String> = plan::regions(&mut conn).await?.into_iter().map(|(i, c, _)| (i, c)).collect();
    Ok(gaps(&r.body, &codes, year, inp))
}

/// Saves the decomposition of `year`'s approved plan (the KA director) and replaces the
/// year's quotas with it, in one transaction.
pub async fn save(db: &Db, ctx: &Ctx, year: i32, inp: &SplitIn) -> Result<SplitView> {
    let caller = &ctx.caller;
    let mut tx = db.begin().await?;
    let r = plan::lock_in(&mut tx, caller, year, Some(inp.version)).await?;
    if !may_draft(caller) {
        return Err(Error::Forbidden);
    }
    if r.state != "approved" {
        return Err(Error::Conflict("sales_plan_not_approved"));
    }
    let ms = months(year);
    let regs = plan::regions(tx.conn()).await?;
    let mut e = Errors::default();
    let mut out: Vec<RegionSplit> = vec![];
    // (org unit or user, is_user, revenue, profit) for the quotas.
    let mut rows: Vec<(i64, bool, Vec<i64>, Vec<i64>)> = vec![];
    for (i, rin) in inp.regions.iter().enumerate() {
        let code = rin.region.trim();
        let Some(reg) = regs.iter().find(|x| x.1 == code) else {
            e.add(&format!("regions[{i}].region"), "unknown_region");
            continue;
        };
        let Some(t) = r.body.targets.iter().find(|t| t.region_id == reg.0) else {
            e.add(&format!("regions.{code}.region"), "not_in_plan");
            continue;
        };
        if inp.regions[..i].iter().any(|o| o.region.trim() == code) {
            e.add(&format!("regions.{code}.region"), "duplicate");
            continue;
        }
        rows.push((reg.0, false, t.revenue.clone(), t.profit.clone()));
        let teams = teams_of(tx.conn(), reg.0).await?;
        let mut tsplits = vec![];
        for (j, tin) in rin.teams.iter().enumerate() {
            let tcode = tin.team.trim();
            let prefix = format!("regions.{code}.teams.{tcode}");
            let Some(team) = teams.iter().find(|x| x.code == tcode) else {
                e.add(&format!("{prefix}.team"), "not_a_team");
                continue;
            };
            if rin.teams[..j].iter().any(|o| o.team.trim() == tcode) {
                e.add(&format!("{prefix}.team"), "duplicate");
                continue;
            }
            let rev = amounts(&mut e, &prefix, "revenue", &ms, &tin.revenue);
            let pro = amounts(&mut e, &prefix, "profit", &ms, &tin.profit);
            rows.push((team.id, false, rev.clone(), pro.clone()));
            let mut people = vec![];
            for (k, pin) in tin.people.iter().enumerate() {
                let u = pin.user.trim();
                let pp = format!("{prefix}.people.{u}");
                let Some(p) = team.people.iter().find(|p| p.1 == u) else {
                    e.add(&format!("{pp}.user"), "not_in_team");
                    continue;
                };
                if tin.people[..k].iter().any(|o| o.user.trim() == u) {
                    e.add(&format!("{pp}.user"), "duplicate");
                    continue;
                }
                let prev = amounts(&mut e, &pp, "revenue", &ms, &pin.revenue);
                let ppro = amounts(&mut e, &pp, "profit", &ms, &pin.profit);
                rows.push((p.0, true, prev.clone(), ppro.clone()));
                people.push(PersonSplit {
                    user: p.1.clone(),
                    name: p.2.clone(),
                    revenue: fmt(&prev),
                    profit: fmt(&ppro),
                });
            }
            tsplits.push(TeamSplit {
                team: team.code.clone(),
                name: team.name.clone(),
                revenue: fmt(&rev),
                profit: fmt(&pro),
                people,
            });
        }
        out.push(RegionSplit {
            region: reg.1.clone(),
            name: reg.2.clone(),
            revenue: fmt(&t.revenue),
            profit: fmt(&t.profit),
            teams: tsplits,
        });
    }
    let codes: HashMap<i64, String> = regs.iter().map(|(i, c, _)| (*i, c.clone())).collect();
    for g in gaps(&r.body, &codes, year, inp) {
        e.add(&g.field, "sum_mismatch");
    }
    e.finish()?;
    // The year's quotas now come from the plan only.
    let (first, last) = (ms[0].clone(), ms[11].clone());
    let removed = sqlx::query("DELETE FROM quotas WHERE month >= $1 AND month <= $2")
        .bind(first.clone())
        .bind(last.clone())
        .execute(tx.conn())
        .await?
        .rows_affected();
    let at = ts(crate::app::clock::now());
    let mut people = 0;
    for (id, is_user, rev, pro) in &rows {
        let col = if *is_user { "user_id" } else { "org_unit_id" };
        people += usize::from(*is_user);
        for (i, m) in ms.iter().enumerate() {
            sqlx::query(&format!(
                "INSERT INTO quotas (month, {col}, amount, profit, plan_year, version, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, 1, $6, $6)"
            ))
            .bind(m.clone())
            .bind(*id)
            .bind(rev[i])
            .bind(pro[i])
            .bind(i64::from(year))
            .bind(at.clone())
            .execute(tx.conn())
            .await?;
        }
    }
    let split = serde_json::to_string(&out).unwrap_or_else(|_| "[]".into());
    sqlx::query("UPDATE sales_plans SET split = $1, split_at = $2, version = version + 1, updated_by = $3, updated_at = $2 WHERE id = $4")
        .bind(split)
        .bind(at.clone())
        .bind(caller.username.as_str())
        .bind(r.id)
        .execute(tx.conn())
        .await?;
    audit::record(
        &mut tx,
        ctx,
        KIND,
        &year.to_string(),
        "decompose",
        Some(&json!({"quotas_removed": removed})),
        Some(&json!({"regions": out.iter().map(|r| r.region.clone()).collect::<Vec<_>>(), "quota_rows": rows.len() * 12, "people": people})),
    )
    .await?;
    tx.commit().await?;
    get(db, caller, year).await
}
