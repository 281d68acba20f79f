//! The company's receivables policy (DOMAIN.md §12.5; issue 21): the aging report's buckets
//! (0–30, 31–60, 61–90, over 90 days by default) and the dunning levels (1 day a reminder to the
//! owner, 15 the owner calls, 30 the KA manager calls, 60 finance's formal letter, 90 the
//! account's orders held). The seed gives no numbers, so these are issue 21's defaults and the
//! company's to change: one setting, `receivables`, versioned like the others; the administrator
//! or the finance manager saves it.
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

use crate::app::records::audit;
use crate::app::{Ctx, Error, Result};
use crate::db::Db;
use crate::domain::error::Errors;
use crate::domain::receivable::{self as rc, DunAction, DunLevel};
use crate::domain::role::Role;

const KEY: &str = "receivables";

/// One dunning level as the API shows and takes it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LevelIo {
    /// From this many days past due (the first at least 1; strictly ascending).
    pub days: i64,
    /// `remind` (a reminder to the owner), `owner_calls`, `manager_calls`, `finance_letter`,
    /// `hold` (the account's orders held).
    pub action: String,
}

/// The policy in force.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReceivablesPolicy {
    /// The aging buckets' upper bounds in days past due, ascending (`[30, 60, 90]`: 0–30,
    /// 31–60, 61–90, over 90).
    pub buckets: Vec<i64>,
    pub levels: Vec<LevelIo>,
    /// Whether these are the shipped defaults (the company never saved its own).
    pub is_default: bool,
    /// The setting's version (0: never saved); give it back to save.
    pub version: i64,
}

/// The policy as given.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceivablesPolicyIn {
    pub buckets: Vec<i64>,
    pub levels: Vec<LevelIo>,
    /// The version read.
    pub version: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Stored {
    buckets: Vec<i64>,
    levels: Vec<LevelIo>,
}

impl ReceivablesPolicy {
    fn defaults() -> Self {
        ReceivablesPolicy {
            buckets: rc::DEFAULT_BUCKETS.to_vec(),
            levels: rc::default_levels()
                .iter()
                .map(|l| LevelIo { days: l.days, action: l.action.code().into() })
                .collect(),
            is_default: true,
            version: 0,
        }
    }

    /// The dunning levels as the rules read them.
    pub fn dun_levels(&self) -> Vec<DunLevel> {
        let levels: Vec<DunLevel> = self
            .levels
            .iter()
            .filter_map(|l| DunAction::parse(&l.action).ok().map(|action| DunLevel { days: l.days, action }))
            .collect();
        if levels.is_empty() || rc::check_levels(&levels).is_err() {
            rc::default_levels()
        } else {
            levels
        }
    }

    /// The bucket bounds as the rules read them.
    pub fn bounds(&self) -> Vec<i64> {
        if rc::check_buckets(&self.buckets).is_ok() {
            self.buckets.clone()
        } else {
            rc::DEFAULT_BUCKETS.to_vec()
        }
    }

    /// The first level whose action holds the account's orders, if any.
    pub fn hold_level(&self) -> Option<usize> {
        self.dun_levels().iter().position(|l| l.action == DunAction::Hold)
    }
}

/// The policy in force (the defaults until the company saves its own).
pub async fn load_in(conn: &mut sqlx::AnyConnection) -> Result<ReceivablesPolicy> {
    let r = sqlx::query("SELECT value, version FROM settings WHERE key = $1").bind(KEY).fetch_optional(conn).await?;
    Ok(match r {
        None => ReceivablesPolicy::defaults(),
        Some(r) => {
            let v: String = r.try_get("value")?;
            match serde_json::from_str::<Stored>(&v) {
                Ok(s) => ReceivablesPolicy {
                    buckets: s.buckets,
                    levels: s.levels,
                    is_default: false,
                    version: r.try_get("version")?,
                },
                Err(_) => ReceivablesPolicy { version: r.try_get("version")?, ..ReceivablesPolicy::defaults() },
            }
        }
    })
}

pub async fn load(db: &Db) -> Result<ReceivablesPolicy> {
    let mut conn = db.pool.acquire().await?;
    load_in(&mut conn).await
}

/// Who may change the policy: the administrator and the finance manager.
pub fn may_edit(role: Role) -> bool {
    role.is_admin() || role == Role::FinanceManager
}

/// Saves the policy over the version read; an empty body of levels and buckets is refused.
pub async fn save(db: &Db, ctx: &Ctx, inp: &ReceivablesPolicyIn) -> Result<ReceivablesPolicy> {
    if !may_edit(ctx.caller.role) {
        return Err(Error::Forbidden);
    }
    let mut e = Errors::default();
    if let Err(c) = rc::check_buckets(&inp.buckets) {
        e.add("buckets", c);
    }
    let mut levels = vec![];
    for (i, l) in inp.levels.iter().enumerate() {
        match DunAction::parse(l.action.trim()) {
            Ok(action) => levels.push(DunLevel { days: l.days, action }),
            Err(c) => e.add(&format!("levels[{i}].action"), c),
        }
    }
    if levels.len() == inp.levels.len() {
        if let Err(c) = rc::check_levels(&levels) {
            e.add("levels", c);
        } else if levels.iter().any(|l| l.days > 3650) {
            e.add("levels", "levels_ascending");
        } else if levels.iter().filter(|l| l.action == DunAction::Hold).count() > 1 {
            e.add("levels", "levels_one_hold");
        }
    }
    e.finish()?;
    let stored = Stored {
        buckets: inp.buckets.clone(),
        levels: levels.iter().map(|l| LevelIo { days: l.days, action: l.action.code().into() }).collect(),
    };
    let value = serde_json::to_string(&stored).map_err(anyhow::Error::from)?;
    let mut tx = db.begin().await?;
    let before = load_in(tx.conn()).await?;
    if crate::app::records::settings::write(&mut tx, KEY, &value, inp.version, &ctx.caller.username).await? {
        audit::record(
            &mut tx,
            ctx,
            "settings",
            KEY,
            "update",
            Some(&json!({"buckets": before.buckets, "levels": before.levels})),
            Some(&json!({"buckets": stored.buckets, "levels": stored.levels})),
        )
        .await?;
    }
    let after = load_in(tx.conn()).await?;
    tx.commit().await?;
    Ok(after)
}
