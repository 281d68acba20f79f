//! The derived table `account_visibility`: for every user whose reach is not "all" or "nothing",
//! the accounts they may see. It is rebuilt for one account whenever the account changes, and
//! for everyone when the org or the manager chain changes (an administrator's rare act).
use std::collections::{HashMap, HashSet};

use sqlx::Row;

use crate::app::Result;
use crate::db::sql::Sql;
use crate::db::WriteTx;
use crate::domain::role::{Reach, Role};

/// Whether a role's scope goes through this table: users who see everything or nothing get no
/// rows (their role is checked first, and a change of role rebuilds the table).
pub fn uses_table(role: &str) -> bool {
    Role::parse(role).is_ok_and(|r| matches!(r.reach(), Reach::Own | Reach::Reports | Reach::OrgSubtree))
}

/// `(SELECT account_id FROM account_visibility WHERE user_id = …)`: the accounts a user whose
/// scope goes through the table may see, for `… IN` clauses of scoped queries.
pub fn push_visible(s: &mut Sql, user_id: i64) {
    s.push("(SELECT account_id FROM account_visibility WHERE user_id = ").bind(user_id).push(")");
}

/// How a scoped statement asks `account_visibility`: as the set of the user's accounts, for
/// lists over many accounts (the set drives the read), or as one probe of its primary key per
/// row, for one record or the records of one account (the set, thousands of ids for a manager,
/// would be built for one row: 1.4 ms against 0.01 ms for a KA manager of l3-60k on SQLite).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    Set,
    Row,
}

/// `{col} IN (SELECT account_id …)` or `EXISTS (SELECT 1 … AND account_id = {col})`: the account
/// in `col` (SQL of this program, never input) is one the user may see.
pub fn push_sees(s: &mut Sql, user_id: i64, col: &str, probe: Probe) {
    match probe {
        Probe::Set => {
            s.push(&format!("{col} IN "));
            push_visible(s, user_id);
        }
        Probe::Row => {
            s.push("EXISTS (SELECT 1 FROM account_visibility WHERE user_id = ").bind(user_id);
            s.push(&format!(" AND account_id = {col})"));
        }
    }
}

/// `'ka_rep', 'inside_sales', …`: the roles that `keep`, as SQL literals (fixed text of this
/// module, never input).
fn role_literals(keep: impl Fn(Role) -> bool) -> String {
    Role::ALL.iter().filter(|r| keep(**r)).map(|r| format!("'{}'", r.code())).collect::<Vec<_>>().join(", ")
}

/// The roles [`uses_table`] holds.
fn table_roles() -> String {
    role_literals(|r| uses_table(r.code()))
}

/// The rows for the accounts matching `filter` (SQL over alias `a`), from the sources of truth.
fn select_rows(filter: &str) -> String {
    let roles = table_roles();
    format!(
        "WITH RECURSIVE chain(account_id, uid) AS ( \
             SELECT aa.account_id, aa.user_id FROM account_access aa JOIN accounts a ON a.id = aa.account_id WHERE {filter} \
             UNION \
             SELECT c.account_id, u.manager_id FROM chain c JOIN users u ON u.id = c.uid WHERE u.manager_id IS NOT NULL \
         ) \
         INSERT INTO account_visibility (user_id, account_id, name) \
         SELECT c.uid, a.id, COALESCE(a.name_sort, a.name) FROM chain c JOIN accounts a ON a.id = c.account_id \
             JOIN users cu ON cu.id = c.uid WHERE cu.role IN ({roles}) \
         UNION \
         SELECT u.id, a.id, COALESCE(a.name_sort, a.name) FROM users u JOIN org_units o ON o.id = u.org_unit_id \
             JOIN org_units t ON t.path LIKE o.path || '%' JOIN accounts a ON a.region_id = t.id \
             WHERE u.role = 'branch_manager' AND {filter} \
         UNION \
         SELECT u.id, a.id, COALESCE(a.name_sort, a.name) FROM users u JOIN org_units o ON o.id = u.org_unit_id \
             JOIN org_units t ON t.path LIKE o.path || '%' JOIN accounts a ON a.branch_id = t.id \
             WHERE u.role = 'branch_manager' AND {filter}"
    )
}

/// Recomputes who sees one account (after it was created or changed), and so its opportunities.
pub async fn refresh_account(conn: &mut sqlx::AnyConnection, account_id: i64) -> Result<()> {
    sqlx::query("DELETE FROM account_visibility WHERE account_id = $1").bind(account_id).execute(&mut *conn).await?;
    let mut s = Sql::new("");
    s.text = select_rows("a.id = $1");
    s.args.push(account_id.into());
    s.query().execute(&mut *conn).await?;
    refresh_opportunities_of(conn, &[account_id]).await
}

/// Whether a caller's opportunity list may be read from `opportunity_visibility`: only the
/// roles whose reach is their own (reps) get rows there. A rep's list is one index range of it;
/// a manager sees a large share of all opportunities (rows for them would be four times as many).
pub fn has_opportunity_rows(role: Role) -> bool {
    role.reach() == Reach::Own
}

/// The statements that write the rows of `opportunity_visibility` for the live opportunities
/// matching `filter` (SQL over alias `o`), for users whose reach is their own: the accounts they
/// see (`account_visibility`), the opportunities they own, the teams they are on. This is the
/// rule `opportunities::push_reach` asks of the sources. The first statement inserts in the
/// table's order (a whole rebuild appends instead of inserting at random); the others add what
/// is not there yet.
fn opportunity_rows(filter: &str) -> [String; 3] {
    let roles = role_literals(has_opportunity_rows);
    let insert = "INSERT INTO opportunity_visibility (user_id, expected_close, opportunity_id)";
    [
        format!(
            "{insert} SELECT v.user_id, o.expected_close, o.id FROM account_visibility v \
             JOIN users u ON u.id = v.user_id JOIN opportunities o ON o.account_id = v.account_id \
             WHERE o.deleted_at IS NULL AND u.role IN ({roles}) AND {filter} ORDER BY 1, 2, 3"
        ),
        format!(
            "{insert} SELECT o.owner_id, o.expected_close, o.id FROM opportunities o JOIN users u ON u.id = o.owner_id \
             WHERE o.deleted_at IS NULL AND u.role IN ({roles}) AND {filter} ON CONFLICT DO NOTHING"
        ),
        format!(
            "{insert} SELECT t.user_id, o.expected_close, o.id FROM opportunity_team t \
             JOIN opportunities o ON o.id = t.opportunity_id JOIN users u ON u.id = t.user_id \
             WHERE o.deleted_at IS NULL AND u.role IN ({roles}) AND {filter} ON CONFLICT DO NOTHING"
        ),
    ]
}

/// Runs [`opportunity_rows`] with the filter's arguments.
async fn write_opportunity_rows(
    conn: &mut sqlx::AnyConnection,
    filter: &str,
    args: &[crate::db::sql::Val],
) -> Result<()> {
    for text in opportunity_rows(filter) {
        Sql { text, args: args.to_vec() }.query().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Recomputes who sees one opportunity (after it was created, or its owner, team or expected
/// close date changed).
pub async fn refresh_opportunity(conn: &mut sqlx::AnyConnection, opportunity_id: i64) -> Result<()> {
    sqlx::query("DELETE FROM opportunity_visibility WHERE opportunity_id = $1")
        .bind(opportunity_id)
        .execute(&mut *conn)
        .await?;
    write_opportunity_rows(conn, "o.id = $1", &[opportunity_id.into()]).await
}

/// Recomputes who sees the opportunities of some accounts (after who sees the accounts changed,
/// or opportunities moved between them).
async fn refresh_opportunities_of(conn: &mut sqlx::AnyConnection, account_ids: &[i64]) -> Result<()> {
    let mut list = Sql::new("");
    list.bind_list(account_ids);
    let mut s = Sql::new("DELETE FROM opportunity_visibility WHERE opportunity_id IN (SELECT id FROM opportunities WHERE account_id IN (");
    s.push(&list.text).push("))");
    s.args.clone_from(&list.args);
    s.query().execute(&mut *conn).await?;
    write_opportunity_rows(conn, &format!("o.account_id IN ({})", list.text), &list.args).await
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
    refresh_opportunities_of(conn, ids).await
}

/// Recomputes the whole table (after users move in the org or the manager chain, and after
/// bulk loads).
pub async fn rebuild_all(conn: &mut sqlx::AnyConnection) -> Result<()> {
    sqlx::query("DELETE FROM account_visibility").execute(&mut *conn).await?;
    sqlx::query(&select_rows("1 = 1")).execute(&mut *conn).await?;
    sqlx::query("DELETE FROM opportunity_visibility").execute(&mut *conn).await?;
    write_opportunity_rows(conn, "1 = 1", &[]).await
}

/// A new account and the users holding it (owner, inside owner, KA manager).
pub struct NewAccount {
    pub id: i64,
    pub name: String,
    pub region_id: Option<i64>,
    pub branch_id: Option<i64>,
    pub holders: Vec<i64>,
}

/// The rule of [`select_rows`] evaluated in memory, for bulk inserts of new accounts (an
/// import): the org tree and the manager chain are read once, and the rows go in with
/// multi-row statements. A test checks that both give the same rows.
#[derive(Default)]
pub struct Viewers {
    loaded: bool,
    manager: HashMap<i64, i64>,
    /// Users whose scope goes through the table.
    listed: HashSet<i64>,
    org_path: HashMap<i64, String>,
    /// Branch managers (the role that sees an org subtree) and their unit's path.
    subtree: Vec<(i64, String)>,
}

impl Viewers {
    async fn load(&mut self, conn: &mut sqlx::AnyConnection) -> Result<()> {
        for r in sqlx::query("SELECT id, path FROM org_units").fetch_all(&mut *conn).await? {
            self.org_path.insert(r.try_get("id")?, r.try_get("path")?);
        }
        for r in sqlx::query("SELECT id, manager_id, role, org_unit_id FROM users").fetch_all(&mut *conn).await? {
            let id: i64 = r.try_get("id")?;
            if let Some(m) = r.try_get::<Option<i64>, _>("manager_id")? {
                self.manager.insert(id, m);
            }
            let role: String = r.try_get("role")?;
            if uses_table(&role) {
                self.listed.insert(id);
            }
            if role == "branch_manager" {
                let org: i64 = r.try_get("org_unit_id")?;
                if let Some(p) = self.org_path.get(&org) {
                    self.subtree.push((id, p.clone()));
                }
            }
        }
        self.loaded = true;
        Ok(())
    }

    /// The users who see the account.
    fn of(&self, a: &NewAccount) -> HashSet<i64> {
        let mut out = HashSet::new();
        for &h in &a.holders {
            let mut cur = Some(h);
            while let Some(u) = cur {
                if !out.insert(u) {
                    break;
                }
                cur = self.manager.get(&u).copied();
            }
        }
        for unit in [a.region_id, a.branch_id].into_iter().flatten() {
            if let Some(path) = self.org_path.get(&unit) {
                for (u, p) in &self.subtree {
                    if path.starts_with(p.as_str()) {
                        out.insert(*u);
                    }
                }
            }
        }
        out
    }

    /// Writes the visibility rows of new accounts (which have none yet).
    pub async fn insert(&mut self, tx: &mut WriteTx, accounts: &[NewAccount]) -> Result<()> {
        use crate::db::bulk::{v, Inserter};
        if !self.loaded {
            self.load(tx.conn()).await?;
        }
        let mut ins = Inserter::new(
            tx.backend(),
            "INSERT INTO account_visibility (user_id, account_id, name) VALUES ",
            vec![],
            3,
        );
        for a in accounts {
            for u in self.of(a).into_iter().filter(|u| self.listed.contains(u)) {
                ins.row(tx, vec![v(u), v(a.id), v(crate::domain::pinyin::stored_sort_key(&a.name))]).await?;
            }
        }
        ins.flush(tx).await?;
        Ok(())
    }
}
