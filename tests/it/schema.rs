//! The two migration folders define the same schema: the same tables, the same columns in
//! each, and the same named indexes on the same tables. Runs in the PostgreSQL pass of the
//! suite (KAM_TEST_DATABASE_URL), where both backends are at hand.
use std::collections::BTreeSet;

use kam::db::Db;
use sqlx::Row;

async fn strings(db: &Db, sql: &str) -> Vec<String> {
    sqlx::query(sql)
        .fetch_all(&db.pool)
        .await
        .expect(sql)
        .iter()
        .map(|r| r.try_get::<String, _>(0).expect("text"))
        .collect()
}

async fn shape(db: &Db, pg: bool) -> (BTreeSet<String>, BTreeSet<String>, BTreeSet<String>) {
    let tables: Vec<String> = if pg {
        strings(db, "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name NOT LIKE '\\_sqlx%'").await
    } else {
        strings(db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_sqlx%' ESCAPE '\\'").await
    };
    let mut columns = BTreeSet::new();
    for t in &tables {
        let cols = if pg {
            strings(db, &format!("SELECT column_name::text FROM information_schema.columns WHERE table_schema = 'public' AND table_name = '{t}'")).await
        } else {
            strings(db, &format!("SELECT name FROM pragma_table_info('{t}')")).await
        };
        columns.extend(cols.into_iter().map(|c| format!("{t}.{c}")));
    }
    // Named indexes (constraint-backed ones are named by each backend its own way).
    let indexes = if pg {
        strings(
            db,
            "SELECT tablename::text || ' ' || indexname::text FROM pg_indexes i WHERE schemaname = 'public' \
                     AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
        )
        .await
    } else {
        strings(db, "SELECT tbl_name || ' ' || name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite\\_autoindex%' ESCAPE '\\'").await
    };
    // PostgreSQL's own by design: the list of bulk loads through COPY running now (db/copy.rs).
    let pg_only = |s: &String| {
        !(pg && (s == "bulk_stage_loads" || s.starts_with("bulk_stage_loads.") || s.starts_with("bulk_stage_loads ")))
    };
    (
        tables.into_iter().filter(pg_only).collect(),
        columns.into_iter().filter(pg_only).collect(),
        indexes.into_iter().filter(pg_only).collect(),
    )
}

#[tokio::test]
async fn sqlite_and_postgresql_migrations_define_the_same_tables_columns_and_indexes() {
    let Ok(url) = std::env::var("KAM_TEST_DATABASE_URL") else {
        eprintln!("skipped: set KAM_TEST_DATABASE_URL to a PostgreSQL server (the CI's PostgreSQL pass does)");
        return;
    };
    if !url.starts_with("postgres") {
        return;
    }
    let (pg, _, _) = super::common::fresh_db().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let lite = Db::connect(&format!("sqlite://{}/kam.db", dir.path().display())).await.expect("sqlite");
    lite.migrate().await.expect("migrate sqlite");
    let (pt, pc, pi) = shape(&pg, true).await;
    let (st, sc, si) = shape(&lite, false).await;
    assert!(pt.len() > 20, "only {} tables on PostgreSQL", pt.len());
    assert!(pc.len() > 200 && pi.len() > 20, "{} columns and {} indexes on PostgreSQL", pc.len(), pi.len());
    let diff = |a: &BTreeSet<String>, b: &BTreeSet<String>| a.symmetric_difference(b).cloned().collect::<Vec<_>>();
    assert_eq!(diff(&pt, &st), Vec::<String>::new(), "tables only on one backend");
    assert_eq!(diff(&pc, &sc), Vec::<String>::new(), "columns only on one backend");
    assert_eq!(diff(&pi, &si), Vec::<String>::new(), "indexes only on one backend");
}
