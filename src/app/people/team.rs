//! Who manages whom, and whose figures a manager sees: one recursive walk down the manager
//! chain from the caller, for everyone or for one person. The one rule for setting someone's
//! quota, adjusting their forecast, overriding their opportunity's exit criteria, and for
//! the people a report of quotas, forecasts or visits shows (docs/DOMAIN.md#8-people-roles-and-scope).
use sqlx::FromRow;

use crate::app::{Caller, Result};
use crate::db::codes::Flag;
use crate::domain::role::Reach;

/// Someone whose numbers a report shows.
#[derive(Debug, Clone, FromRow)]
pub(crate) struct Person {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub manager_id: Option<i64>,
    #[sqlx(rename = "path")]
    pub org_path: String,
}

/// A person, and whether they are below the caller in the manager chain.
#[derive(FromRow)]
struct Candidate {
    #[sqlx(flatten)]
    person: Person,
    #[sqlx(try_from = "Flag")]
    below: bool,
}

/// The roles whose people have figures (quotas, forecasts, opportunities of their own).
const PEOPLE_ROLES: &str = "'ka_rep', 'inside_sales', 'ka_manager', 'ka_director', 'branch_manager'";
/// Steps down from a manager before giving up (a cycle in the chain would otherwise never end).
const MAX_CHAIN: i64 = 50;

/// People the caller may see the figures of (themselves included), active salespeople and
/// their managers; with `only`, that one person if so. One statement: the people below the
/// caller in the manager chain come from a recursive walk down from the caller, so one person
/// is asked as cheaply as everyone (it runs inside write transactions: an exit-criteria
/// override, a forecast adjustment, a quota).
pub(crate) async fn people(conn: &mut sqlx::AnyConnection, caller: &Caller, only: Option<i64>) -> Result<Vec<Person>> {
    let mut q =
        crate::db::sql::Sql::new("WITH RECURSIVE below(id, depth) AS (SELECT id, 1 FROM users WHERE manager_id = ");
    q.bind(caller.user_id);
    q.push(&format!(
        " UNION ALL SELECT u.id, b.depth + 1 FROM users u JOIN below b ON u.manager_id = b.id \
         WHERE b.depth <= {MAX_CHAIN}) \
         SELECT u.id, u.username, u.display_name, u.manager_id, o.path, \
         CAST(CASE WHEN EXISTS (SELECT 1 FROM below WHERE below.id = u.id) THEN 1 ELSE 0 END AS BIGINT) AS below \
         FROM users u JOIN org_units o ON o.id = u.org_unit_id \
         WHERE u.active = 1 AND u.role IN ({PEOPLE_ROLES})"
    ));
    if let Some(id) = only {
        q.push(" AND u.id = ").bind(id);
    }
    q.push(" ORDER BY u.username");
    let candidates = q.query().try_map(|r| Candidate::from_row(&r)).fetch_all(&mut *conn).await?;
    Ok(candidates
        .into_iter()
        .filter(|c| {
            c.person.id == caller.user_id
                || match caller.reach() {
                    Reach::All => true,
                    Reach::OrgSubtree => c.person.org_path.starts_with(&caller.org_path) || c.below,
                    Reach::Reports => c.below,
                    Reach::Own | Reach::Nothing => false,
                }
        })
        .map(|c| c.person)
        .collect())
}

/// (username, display name, id) of the people whose figures the caller may see.
pub(crate) async fn people_in_scope(
    conn: &mut sqlx::AnyConnection,
    caller: &Caller,
) -> Result<Vec<(String, String, i64)>> {
    Ok(people(conn, caller, None).await?.into_iter().map(|p| (p.username, p.display_name, p.id)).collect())
}

/// Whether the caller manages `user_id`: a managing role that leads the whole KA system, or
/// stands above them (manager chain, or their branch or region). Nobody manages themselves.
/// The one rule for setting someone's quota, adjusting their forecast and overriding the exit
/// criteria of their opportunity.
pub(crate) async fn manages_person(conn: &mut sqlx::AnyConnection, caller: &Caller, user_id: i64) -> Result<bool> {
    if !caller.role.manages_accounts() || caller.user_id == user_id {
        return Ok(false);
    }
    if caller.reach() == Reach::All {
        return Ok(true);
    }
    Ok(!people(conn, caller, Some(user_id)).await?.is_empty())
}
