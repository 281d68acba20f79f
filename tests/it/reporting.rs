//! Issue 26 item 5. The database itself refuses a code, an amount or a flag the application
//! would never write (CHECK constraints on PostgreSQL, triggers of the same names on SQLite),
//! and on PostgreSQL the `reporting` schema answers a BI tool with typed, labelled views that a
//! login in `kam_reporting` may read while the tables stay out of its reach.
use crate::common::{opportunity, seed, Auth, TestApp};
use kam::db::Backend;
use sqlx::{Connection, Row};
use std::collections::BTreeSet;

/// Runs one raw statement; the database's error message when it is refused.
async fn exec(t: &TestApp, sql: &str) -> Result<u64, String> {
    sqlx::query(sql).execute(&t.db().pool).await.map(|r| r.rows_affected()).map_err(|e| e.to_string())
}

/// The statement is refused by the named constraint (both backends name it in the message).
async fn refused(t: &TestApp, sql: &str, constraint: &str) {
    match exec(t, sql).await {
        Ok(n) => panic!("{sql}: accepted ({n} rows), expected {constraint} to refuse it"),
        Err(e) => assert!(e.contains(constraint), "{sql}: refused, but not by {constraint}: {e}"),
    }
}

async fn accepted(t: &TestApp, sql: &str) {
    let n = exec(t, sql).await.unwrap_or_else(|e| panic!("{sql}: refused: {e}"));
    assert_eq!(n, 1, "{sql}: one row written");
}

async fn text(t: &TestApp, sql: &str) -> String {
    sqlx::query(sql).fetch_one(&t.db().pool).await.expect(sql).try_get::<String, _>(0).expect("text")
}

async fn int(t: &TestApp, sql: &str) -> i64 {
    sqlx::query(sql).fetch_one(&t.db().pool).await.expect(sql).try_get::<i64, _>(0).expect("integer")
}

#[tokio::test]
async fn the_database_refuses_unknown_codes_negative_amounts_and_flags_other_than_0_or_1() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let a = w.account_x;

    // A status outside the enumeration, written straight to the table, is refused; the row keeps
    // its status. A known one is accepted.
    let before = text(&t, &format!("SELECT status FROM accounts WHERE id = {a}")).await;
    refused(&t, &format!("UPDATE accounts SET status = 'bogus' WHERE id = {a}"), "accounts_status_check").await;
    assert_eq!(text(&t, &format!("SELECT status FROM accounts WHERE id = {a}")).await, before);
    accepted(&t, &format!("UPDATE accounts SET status = 'candidate' WHERE id = {a}")).await;
    assert_eq!(text(&t, &format!("SELECT status FROM accounts WHERE id = {a}")).await, "candidate");
    // Codes are case-sensitive: 'Strategic' is not 'strategic'. A nullable code may be NULL.
    refused(&t, &format!("UPDATE accounts SET tier = 'Strategic' WHERE id = {a}"), "accounts_tier_check").await;
    accepted(&t, &format!("UPDATE accounts SET tier = 'strategic' WHERE id = {a}")).await;
    accepted(&t, &format!("UPDATE accounts SET tier = NULL WHERE id = {a}")).await;

    // A new row with an unknown code is refused too (SQLite: the BEFORE INSERT trigger).
    let now = "2026-01-05T08:00:00.000000Z";
    refused(
        &t,
        &format!(
            "INSERT INTO org_units (code, name, kind, path, created_at, updated_at) \
             VALUES ('MARS', '火星', 'planet', '/mars/', '{now}', '{now}')"
        ),
        "org_units_kind_check",
    )
    .await;
    assert_eq!(int(&t, "SELECT COUNT(*) FROM org_units WHERE code = 'MARS'").await, 0);

    // An amount in fen that is never negative: the account's credit limit, an opportunity's amount.
    refused(&t, &format!("UPDATE accounts SET credit_limit = -1 WHERE id = {a}"), "accounts_credit_limit_check").await;
    accepted(&t, &format!("UPDATE accounts SET credit_limit = 0 WHERE id = {a}")).await;
    let opp = opportunity(&t, &Auth::Bearer(w.tokens["repA"].clone()), a, "扩产项目").await;
    let amount = int(&t, &format!("SELECT amount FROM opportunities WHERE id = {opp}")).await;
    refused(&t, &format!("UPDATE opportunities SET amount = -100 WHERE id = {opp}"), "opportunities_amount_check")
        .await;
    assert_eq!(int(&t, &format!("SELECT amount FROM opportunities WHERE id = {opp}")).await, amount);
    accepted(&t, &format!("UPDATE opportunities SET amount = {} WHERE id = {opp}", amount + 100)).await;
    // A stage outside the funnel.
    refused(&t, &format!("UPDATE opportunities SET stage = 'won_big' WHERE id = {opp}"), "opportunities_stage_check")
        .await;

    // A 0/1 flag: 2 is refused, 0 and 1 are accepted.
    refused(&t, "UPDATE users SET active = 2 WHERE username = 'gone'", "users_active_check").await;
    accepted(&t, "UPDATE users SET active = 0 WHERE username = 'gone'").await;
    accepted(&t, "UPDATE users SET active = 1 WHERE username = 'gone'").await;
}

#[tokio::test]
async fn sqlite_enforces_the_rules_by_triggers_named_after_the_constraints() {
    let t = TestApp::new().await;
    if t.db().backend != Backend::Sqlite {
        return;
    }
    // One BEFORE INSERT and one BEFORE UPDATE OF trigger per table, raising the PostgreSQL name.
    let n =
        int(&t, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%\\_checks\\_%' ESCAPE '\\'")
            .await;
    assert!(n >= 100, "{n} check triggers");
    let body =
        text(&t, "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'accounts_checks_update'").await;
    assert!(
        body.contains("BEFORE UPDATE OF") && body.contains("CHECK constraint failed: accounts_status_check"),
        "{body}"
    );
}

#[tokio::test]
async fn both_backends_hold_the_same_named_checks() {
    // Runs in the PostgreSQL pass, where both backends are at hand (as tests/it/schema.rs).
    let Ok(url) = std::env::var("KAM_TEST_DATABASE_URL") else {
        return;
    };
    if !url.starts_with("postgres") {
        return;
    }
    let t = TestApp::new().await;
    let pg: BTreeSet<String> = sqlx::query(
        "SELECT CAST(c.conname AS text) FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace \
         WHERE n.nspname = 'public' AND c.contype = 'c'",
    )
    .fetch_all(&t.db().pool)
    .await
    .expect("constraints")
    .iter()
    .map(|r| r.try_get::<String, _>(0).expect("name"))
    .collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let lite = kam::db::Db::connect(&format!("sqlite://{}/kam.db", dir.path().display())).await.expect("sqlite");
    lite.migrate().await.expect("migrate sqlite");
    let mut sqlite = BTreeSet::new();
    for r in sqlx::query("SELECT sql FROM sqlite_master WHERE type = 'trigger'")
        .fetch_all(&lite.pool)
        .await
        .expect("triggers")
    {
        let body: String = r.try_get(0).expect("sql");
        for part in body.split("CHECK constraint failed: ").skip(1) {
            sqlite.insert(part.split('\'').next().expect("a name").to_string());
        }
    }
    assert!(pg.len() > 150, "{} check constraints on PostgreSQL", pg.len());
    assert_eq!(
        pg.symmetric_difference(&sqlite).cloned().collect::<Vec<_>>(),
        Vec::<String>::new(),
        "checks only on one backend"
    );
}

/// The views of `reporting` that the demo company leaves empty, with their table: it records
/// none of these (each table is checked empty too).
const EMPTY_ON_DEMO: &[(&str, &str)] = &[
    ("credit_change_requests", "credit_change_requests"),
    ("credit_grade_changes", "credit_grade_changes"),
    ("opl_reviews", "opl_reviews"),
    ("service_evaluations", "service_evaluations"),
    ("whitespace_cells", "whitespace_cells"),
];

#[tokio::test]
async fn reporting_views_answer_typed_labelled_rows_to_a_read_only_bi_login() {
    let t = TestApp::new().await;
    if t.db().backend != Backend::Postgres {
        return;
    }
    t.demo().await;

    // Real types: times, days, amounts in yuan, flags.
    let ty = |v: &str, c: &str| {
        format!(
            "SELECT CAST(data_type AS text) FROM information_schema.columns \
             WHERE table_schema = 'reporting' AND table_name = '{v}' AND column_name = '{c}'"
        )
    };
    assert_eq!(text(&t, &ty("accounts", "created_at")).await, "timestamp with time zone");
    assert_eq!(text(&t, &ty("accounts", "buying_power")).await, "numeric");
    assert_eq!(text(&t, &ty("opportunities", "expected_close")).await, "date");
    assert_eq!(text(&t, &ty("opportunities", "amount")).await, "numeric");
    assert_eq!(text(&t, &ty("activities", "effective")).await, "boolean");
    assert_eq!(text(&t, &ty("receivables", "outstanding")).await, "numeric");
    // Every *_at column is a timestamptz and every *_on column a date; none is left as text.
    let untyped: Vec<String> = sqlx::query(
        "SELECT table_name || '.' || column_name FROM information_schema.columns WHERE table_schema = 'reporting' \
         AND ((column_name LIKE '%\\_at' AND data_type <> 'timestamp with time zone') \
           OR (column_name LIKE '%\\_on' AND data_type <> 'date')) ORDER BY 1",
    )
    .fetch_all(&t.db().pool)
    .await
    .expect("columns")
    .iter()
    .map(|r| r.try_get::<String, _>(0).expect("name"))
    .collect();
    assert_eq!(untyped, Vec::<String>::new(), "times or days left as text");

    // The values: yuan are fen / 100, flags the 0/1 columns, times the stored instants.
    let o = "FROM reporting.opportunities r JOIN opportunities o ON o.id = r.id";
    assert!(int(&t, &format!("SELECT COUNT(*) {o}")).await > 10);
    assert_eq!(int(&t, &format!("SELECT COUNT(*) {o} WHERE r.amount * 100 <> o.amount")).await, 0);
    assert_eq!(
        int(&t, "SELECT COUNT(*) FROM reporting.activities r JOIN activities a ON a.id = r.id WHERE r.effective <> (a.effective = 1)")
            .await,
        0
    );
    assert!(
        int(&t, "SELECT COUNT(*) FROM reporting.activities WHERE effective").await > 0,
        "effective visits in the demo"
    );
    assert_eq!(
        int(&t, &format!("SELECT COUNT(*) {o} WHERE to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') <> substr(o.created_at, 1, 19)"))
            .await,
        0
    );

    // Labels beside codes, names beside ids.
    assert_eq!(text(&t, "SELECT MIN(stage_label) FROM reporting.opportunities WHERE stage = 'won'").await, "赢单 100%");
    assert_eq!(
        text(&t, "SELECT MIN(status_label) FROM reporting.accounts WHERE status = 'key_account'").await,
        "大客户"
    );
    assert_eq!(
        int(&t, "SELECT COUNT(*) FROM reporting.accounts WHERE status_label = status OR industry_label = industry")
            .await,
        0,
        "every account's codes have their label"
    );
    // Every code on the demo has its label (L2's label is L2 itself).
    let pairs: Vec<(String, String)> = sqlx::query(
        "SELECT CAST(c.table_name AS text), CAST(c.column_name AS text) FROM information_schema.columns c \
         JOIN information_schema.columns l ON l.table_schema = c.table_schema AND l.table_name = c.table_name \
         AND l.column_name = c.column_name || '_label' WHERE c.table_schema = 'reporting' ORDER BY 1, 2",
    )
    .fetch_all(&t.db().pool)
    .await
    .expect("code columns")
    .iter()
    .map(|r| (r.try_get(0).expect("view"), r.try_get(1).expect("column")))
    .collect();
    assert!(pairs.len() > 80, "{} code columns with a label", pairs.len());
    let mut unlabelled = vec![];
    for (v, c) in &pairs {
        let sql = format!("SELECT COUNT(*) FROM reporting.{v} WHERE {c}_label = {c} AND {c} <> 'L2'");
        if int(&t, &sql).await > 0 {
            unlabelled.push(format!("{v}.{c}"));
        }
    }
    assert_eq!(unlabelled, Vec::<String>::new(), "codes shown without their label");
    let (owner, name): (String, String) = {
        let r = sqlx::query(
            "SELECT r.owner_name, u.display_name FROM reporting.opportunities r JOIN users u ON u.id = r.owner_id \
             ORDER BY r.id LIMIT 1",
        )
        .fetch_one(&t.db().pool)
        .await
        .expect("an opportunity");
        (r.try_get(0).expect("owner_name"), r.try_get(1).expect("display_name"))
    };
    assert_eq!(owner, name);
    assert_eq!(
        int(&t, "SELECT COUNT(*) FROM reporting.accounts WHERE region_id IS NOT NULL AND region_name IS NULL").await,
        0
    );

    // No secrets: no password hash, token or session column anywhere in the schema.
    assert_eq!(
        int(
            &t,
            "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = 'reporting' \
             AND (column_name LIKE '%password%' OR column_name LIKE '%token%' OR column_name LIKE '%hash%' \
                  OR column_name LIKE '%webhook%' OR column_name LIKE '%csrf%')"
        )
        .await,
        0
    );
    // Every view and every column says what it holds.
    assert_eq!(
        int(
            &t,
            "SELECT COUNT(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
             WHERE n.nspname = 'reporting' AND c.relkind = 'v' \
             AND (col_description(c.oid, a.attnum) IS NULL OR obj_description(c.oid, 'pg_class') IS NULL)"
        )
        .await,
        0,
        "views or columns without a comment"
    );

    // Each view answers rows on the demo, but for the records the demo does not hold.
    let views: Vec<String> = sqlx::query(
        "SELECT CAST(table_name AS text) FROM information_schema.views WHERE table_schema = 'reporting' ORDER BY 1",
    )
    .fetch_all(&t.db().pool)
    .await
    .expect("views")
    .iter()
    .map(|r| r.try_get::<String, _>(0).expect("name"))
    .collect();
    assert!(views.len() >= 60, "{} views", views.len());
    let mut empty = vec![];
    for v in &views {
        assert!(views.iter().all(|v| !v.contains('"')));
        if int(&t, &format!("SELECT COUNT(*) FROM reporting.{v}")).await == 0 {
            empty.push(v.clone());
        }
    }
    assert_eq!(
        empty,
        EMPTY_ON_DEMO.iter().map(|(v, _)| v.to_string()).collect::<Vec<_>>(),
        "views without rows on the demo"
    );
    for (_, table) in EMPTY_ON_DEMO {
        assert_eq!(
            int(&t, &format!("SELECT COUNT(*) FROM {table}")).await,
            0,
            "{table} has rows its view does not show"
        );
    }

    // A BI login in kam_reporting reads the views and nothing else.
    let role = format!("kam_bi_{}", &kam::app::people::auth::random_token("")[..10].to_lowercase());
    assert!(role.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "{role}");
    exec(&t, &format!("CREATE ROLE {role} LOGIN IN ROLE kam_reporting")).await.expect("create the BI login");
    let (base, db) = t.url.rsplit_once('/').expect("database in the URL");
    let host = base.rsplit_once('@').map(|(_, h)| h).unwrap_or(base.trim_start_matches("postgres://"));
    let url = format!("postgres://{role}@{host}/{db}");
    let outcome = async {
        let mut c = sqlx::PgConnection::connect(&url).await.map_err(|e| format!("connect as {role}: {e}"))?;
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM reporting.accounts")
            .fetch_one(&mut c)
            .await
            .map_err(|e| format!("read reporting.accounts: {e}"))?;
        let all: i64 = int(&t, "SELECT COUNT(*) FROM accounts WHERE deleted_at IS NULL").await;
        if n != all || n == 0 {
            return Err(format!("the login saw {n} accounts of {all}"));
        }
        let label: String = sqlx::query_scalar("SELECT MIN(stage_label) FROM reporting.opportunities WHERE stage = 'lost'")
            .fetch_one(&mut c)
            .await
            .map_err(|e| format!("read reporting.opportunities: {e}"))?;
        if label != "丢单 0%" {
            return Err(format!("lost is labelled {label}"));
        }
        for sql in [
            "SELECT COUNT(*) FROM public.users",
            "SELECT COUNT(*) FROM public.accounts",
            "SELECT COUNT(*) FROM sessions",
            "UPDATE accounts SET name = 'x' WHERE id = (SELECT MIN(id) FROM accounts)",
            "INSERT INTO org_units (code, name, kind, path, created_at, updated_at) VALUES ('BI', 'BI', 'branch', '/bi/', 'x', 'x')",
            // A one-table view PostgreSQL could write through: the login has no right to.
            "DELETE FROM reporting.payment_allocations",
            "UPDATE reporting.payment_allocations SET receivable_id = receivable_id",
            "CREATE VIEW reporting.mine AS SELECT 1 AS one",
        ] {
            match sqlx::query(sql).execute(&mut c).await {
                Ok(_) => return Err(format!("{role} was allowed: {sql}")),
                Err(e) if e.to_string().contains("permission denied") => {}
                Err(e) => return Err(format!("{sql}: refused, but not for want of rights: {e}")),
            }
        }
        c.close().await.map_err(|e| e.to_string())?;
        Ok::<(), String>(())
    }
    .await;
    exec(&t, &format!("DROP ROLE {role}")).await.expect("drop the BI login");
    outcome.expect("the BI login reads the views and nothing else");
}
