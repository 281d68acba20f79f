//! The derived table `account_visibility`: for every user whose reach is not "all" or "nothing",
//! the accounts they may see. It is rebuilt for one account whenever the account changes, and
//! for everyone when the org or the manager chain changes (an administrator's rare act).
use super::sql::Sql;
use super::Result;

/// The rows for the accounts matching `filter` (SQL over alias `a`), from the sources of truth.
fn select_rows(filter: &str) -> String {
    format!(
        "WITH RECURSIVE chain(account_id, uid) AS ( \
             SELECT aa.account_id, aa.user_id FROM account_access aa JOIN accounts a ON a.id = aa.account_id WHERE {filter} \
             UNION \
             SELECT c.account_id, u.manager_id FROM chain c JOIN users u ON u.id = c.uid WHERE u.manager_id IS NOT NULL \
         ) \
         INSERT INTO account_visibility (user_id, account_id, name) \
         SELECT c.uid, a.id, a.name FROM chain c JOIN accounts a ON a.id = c.account_id \
         UNION \
         SELECT u.id, a.id, a.name FROM users u JOIN org_units o ON o.id = u.org_unit_id \
             JOIN org_units t ON t.path LIKE o.path || '%' JOIN accounts a ON a.region_id = t.id \
             WHERE u.role = 'branch_manager' AND {filter} \
         UNION \
         SELECT u.id, a.id, a.name FROM users u JOIN org_units o ON o.id = u.org_unit_id \
             JOIN org_units t ON t.path LIKE o.path || '%' JOIN accounts a ON a.branch_id = t.id \
             WHERE u.role = 'branch_manager' AND {filter}"
    )
}

/// Recomputes who sees one account (after it was created or changed).
pub async fn refresh_account(conn: &mut sqlx::AnyConnection, account_id: i64) -> Result<()> {
    sqlx::query("DELETE FROM account_visibility WHERE account_id = $1").bind(account_id).execute(&mut *conn).await?;
    let mut s = Sql::new("");
    s.text = select_rows("a.id = $1");
    s.args.push(account_id.into());
    s.query().execute(&mut *conn).await?;
    Ok(())
}

/// Recomputes who sees each of a few hundred accounts (after a bulk insert).
pub async fn refresh_accounts(conn: &mut sqlx::AnyConnection, ids: &[i64]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut s = Sql::new("DELETE FROM account_visibility WHERE account_id IN (");
    s.bind_list(ids).push(")");
    s.query().execute(&mut *conn).await?;
    // `$1 … $n` appear three times in the statement and are bound once.
    let mut list = Sql::new("");
    list.bind_list(ids);
    let mut s = Sql::new("");
    s.text = select_rows(&format!("a.id IN ({})", list.text));
    s.args = list.args;
    s.query().execute(&mut *conn).await?;
    Ok(())
}

/// Recomputes the whole table (after users move in the org or the manager chain, and after
/// bulk loads).
pub async fn rebuild_all(conn: &mut sqlx::AnyConnection) -> Result<()> {
    sqlx::query("DELETE FROM account_visibility").execute(&mut *conn).await?;
    sqlx::query(&select_rows("1 = 1")).execute(&mut *conn).await?;
    Ok(())
}
