//! Records that contradict themselves (docs/DOMAIN.md, "Consistency"): pairs of fields that
//! depend on each other and that every write path now validates together, found in data
//! written before that (or by hand in the database). `kam migrate` and `kam serve` look for
//! them after migrating and log how many there are; the administrator (and whoever sees every
//! account) lists them on `/admin/consistency` and `GET /api/v1/admin/consistency`.
use serde::Serialize;
use sqlx::Row;

use crate::app::{Caller, Error, Result};
use crate::db::Db;
use crate::domain::role::Reach;

/// At most this many of each kind are listed (the count is exact).
pub const LIST: i64 = 200;

/// One contradiction.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Contradiction {
    /// `account` or `activity`.
    #[schema(pattern = "^(account|activity)$")]
    pub entity: &'static str,
    pub id: i64,
    /// The record's name (an account's, or an activity's account's); null for the administrator,
    /// who sees no business data.
    pub name: Option<String>,
    /// `branch_not_in_region`: the account's branch lies in another region (or it has a branch
    /// and no region); `opportunity_of_other_account`: the activity names an opportunity of
    /// another account.
    #[schema(pattern = "^(branch_not_in_region|opportunity_of_other_account)$")]
    pub problem: &'static str,
    /// What the two fields hold, as text (`region EAST, branch BJ (NORTH)`).
    pub detail: String,
}

/// What was found: the total of each problem and the first [`LIST`] of each.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct ConsistencyReport {
    pub total: i64,
    pub items: Vec<Contradiction>,
}

/// Who may list them: the administrator, and those who see every account.
pub fn may_list(caller: &Caller) -> bool {
    caller.role.is_admin() || caller.reach() == Reach::All
}

pub async fn find(db: &Db, caller: &Caller) -> Result<ConsistencyReport> {
    if !may_list(caller) {
        return Err(Error::Forbidden);
    }
    let names = caller.reach() == Reach::All;
    let mut r = scan(db).await?;
    if !names {
        r.items.iter_mut().for_each(|c| c.name = None);
    }
    Ok(r)
}

const ACCOUNTS: &str = "FROM accounts a JOIN org_units b ON b.id = a.branch_id \
    LEFT JOIN org_units r ON r.id = a.region_id LEFT JOIN org_units br ON br.id = b.parent_id \
    WHERE a.deleted_at IS NULL AND (a.region_id IS NULL OR b.parent_id IS NULL OR b.parent_id <> a.region_id)";
const ACTIVITIES: &str = "FROM activities v JOIN opportunities o ON o.id = v.opportunity_id \
    JOIN accounts a ON a.id = v.account_id \
    WHERE v.deleted_at IS NULL AND v.opportunity_id IS NOT NULL AND o.account_id <> v.account_id";

/// Every kind of contradiction, unscoped (for the start-up log and [`find`]).
pub async fn scan(db: &Db) -> Result<ConsistencyReport> {
    let mut out = ConsistencyReport::default();
    for (sql, _) in [(ACCOUNTS, ()), (ACTIVITIES, ())] {
        out.total +=
            sqlx::query(&format!("SELECT COUNT(*) AS n {sql}")).fetch_one(&db.pool).await?.try_get::<i64, _>("n")?;
    }
    let rows = sqlx::query(&format!(
        "SELECT a.id, a.name, r.code AS region, b.code AS branch, br.code AS branch_region {ACCOUNTS} ORDER BY a.id LIMIT {LIST}"
    ))
    .fetch_all(&db.pool)
    .await?;
    for row in rows {
        let region: Option<String> = row.try_get("region")?;
        let branch: String = row.try_get("branch")?;
        let branch_region: Option<String> = row.try_get("branch_region")?;
        out.items.push(Contradiction {
            entity: "account",
            id: row.try_get("id")?,
            name: Some(row.try_get("name")?),
            problem: "branch_not_in_region",
            detail: format!(
                "region {}, branch {branch} ({})",
                region.as_deref().unwrap_or("—"),
                branch_region.as_deref().unwrap_or("—")
            ),
        });
    }
    let rows = sqlx::query(&format!(
        "SELECT v.id, a.name, v.account_id, o.id AS opportunity_id, o.account_id AS opportunity_account {ACTIVITIES} \
         ORDER BY v.id LIMIT {LIST}"
    ))
    .fetch_all(&db.pool)
    .await?;
    for row in rows {
        let (account, opp, opp_account): (i64, i64, i64) =
            (row.try_get("account_id")?, row.try_get("opportunity_id")?, row.try_get("opportunity_account")?);
        out.items.push(Contradiction {
            entity: "activity",
            id: row.try_get("id")?,
            name: Some(row.try_get("name")?),
            problem: "opportunity_of_other_account",
            detail: format!("account {account}, opportunity {opp} (account {opp_account})"),
        });
    }
    Ok(out)
}
