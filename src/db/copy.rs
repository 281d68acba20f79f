//! Bulk loads through `COPY` on PostgreSQL (issue 26, item 6): the account and contact imports.
//! (`kam dataset` keeps its `unnest` arrays: through a stage it was slower, BENCHMARKS.md.)
//!
//! sqlx's `Any` driver, which every other statement goes through, cannot speak PostgreSQL's
//! copy protocol. A load therefore opens a [`Stage`]: a `PgConnection` of its own that streams
//! the rows with `COPY bulk_stage … FROM STDIN` (CSV), one row of the target table as a text
//! array. The load's own transaction (on the `Any` pool) then moves each batch into the target
//! table with one `INSERT … SELECT` that casts the values to the columns' types. The rows thus
//! travel by `COPY` — no statement carries them as thousands of bound values, and a table's
//! landing statement has the same text for every batch (prepared once) — while landing them
//! stays inside the one transaction of the import: a refused or failed import commits nothing.
//! Staged rows are deleted once landed (a hundred thousand at a time), the rest when the load
//! ends (migration 0064 says more).
//!
//! [`crate::db::bulk::Inserter`] uses a stage when the transaction it writes in has one
//! ([`crate::db::WriteTx::stage_copies`]); callers of bulk writes need not know.
use std::collections::HashMap;
use std::fmt::Write as _;

use sqlx::{Connection, Row};

use super::bulk::Cell;
use super::sql::Val;

/// A load's connection for `COPY` and its place in `bulk_stage`.
pub struct Stage {
    /// Taken by [`Stage::finish`] (or by the drop of a stage that was not finished).
    conn: Option<sqlx::PgConnection>,
    load_id: i64,
    /// The last `seq` given out.
    seq: i64,
    /// Column types (`udt_name`) by table, read from the catalogue once per table.
    types: HashMap<String, HashMap<String, String>>,
    /// Rows staged so far (all tables).
    pub staged: u64,
    /// The last `seq` deleted after landing.
    forgotten: i64,
}

/// Staged rows deleted at a time once landed.
const FORGET_ROWS: i64 = 100_000;

impl Stage {
    /// Connects with `opts` (the primary's), takes a load id, and deletes what loads of crashed
    /// processes left more than a day ago.
    pub async fn open(opts: &sqlx::postgres::PgConnectOptions) -> Result<Stage, sqlx::Error> {
        let mut conn = sqlx::PgConnection::connect_with(opts).await?;
        sqlx::query("DELETE FROM bulk_stage WHERE staged_at < now() - interval '1 day'").execute(&mut conn).await?;
        let load_id: i64 =
            sqlx::query("SELECT nextval('bulk_stage_load_id') AS n").fetch_one(&mut conn).await?.try_get("n")?;
        Ok(Stage { conn: Some(conn), load_id, seq: 0, types: HashMap::new(), staged: 0, forgotten: 0 })
    }

    /// The types of `table`'s columns, by name.
    async fn types(&mut self, table: &str) -> Result<&HashMap<String, String>, sqlx::Error> {
        if !self.types.contains_key(table) {
            let rows = sqlx::query(
                "SELECT column_name::text AS name, udt_name::text AS ty FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = $1",
            )
            .bind(table)
            .fetch_all(self.conn())
            .await?;
            let mut m = HashMap::new();
            for r in rows {
                m.insert(r.try_get("name")?, r.try_get("ty")?);
            }
            self.types.insert(table.to_string(), m);
        }
        Ok(&self.types[table])
    }

    /// Streams staged rows (CSV lines from [`CopyRows::push`]) and gives the range of `seq`
    /// they took.
    async fn send(&mut self, csv: &[u8], rows: i64) -> Result<(i64, i64), sqlx::Error> {
        let mut copy =
            self.conn().copy_in_raw("COPY bulk_stage (load_id, seq, v) FROM STDIN WITH (FORMAT csv)").await?;
        copy.send(csv).await?;
        copy.finish().await?;
        let range = (self.seq + 1, self.seq + rows);
        self.seq += rows;
        self.staged += rows as u64;
        Ok(range)
    }

    /// Deletes the staged rows up to `hi` once the load's transaction has landed them.
    async fn forget(&mut self, hi: i64) -> Result<(), sqlx::Error> {
        let load_id = self.load_id;
        sqlx::query("DELETE FROM bulk_stage WHERE load_id = $1 AND seq <= $2")
            .bind(load_id)
            .bind(hi)
            .execute(self.conn())
            .await?;
        self.forgotten = hi;
        Ok(())
    }

    /// Deletes this load's staged rows and closes the connection (after the load's transaction
    /// ended, committed or not).
    pub async fn finish(mut self) -> Result<(), sqlx::Error> {
        match self.conn.take() {
            Some(conn) => Self::clear(conn, self.load_id).await,
            None => Ok(()),
        }
    }

    async fn clear(mut conn: sqlx::PgConnection, load_id: i64) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM bulk_stage WHERE load_id = $1").bind(load_id).execute(&mut conn).await?;
        conn.close().await
    }

    fn conn(&mut self) -> &mut sqlx::PgConnection {
        self.conn.as_mut().expect("a stage is used only before it is finished")
    }
}

impl Drop for Stage {
    /// A stage dropped unfinished (its transaction dropped on an error) deletes its rows on a
    /// task of its own.
    fn drop(&mut self) {
        if let (Some(conn), Ok(rt)) = (self.conn.take(), tokio::runtime::Handle::try_current()) {
            let load_id = self.load_id;
            rt.spawn(async move {
                if let Err(e) = Self::clear(conn, load_id).await {
                    tracing::warn!("deleting staged rows: {e}");
                }
            });
        }
    }
}

/// The rows of one bulk insert on their way through a [`Stage`]: each row's text array as a
/// quoted CSV field, then the `INSERT … SELECT` that lands them.
pub struct CopyRows {
    table: String,
    columns: Vec<String>,
    /// The rows' fields, one after the other; `ends` says where each ends.
    fields: String,
    ends: Vec<usize>,
    /// Which columns take a shared value (its 1-based index), from the first row.
    shared_at: Option<Vec<Option<usize>>>,
    item: String,
}

impl CopyRows {
    /// `head`: `INSERT INTO table (columns…) VALUES ` (fixed text of the calling module).
    pub fn new(head: &str) -> CopyRows {
        let parsed = head
            .strip_prefix("INSERT INTO ")
            .and_then(|h| h.split_once(" ("))
            .and_then(|(t, rest)| Some((t.trim(), rest.split_once(')')?.0)));
        let (table, names) = parsed.unwrap_or_else(|| panic!("not an INSERT head: {head}"));
        CopyRows {
            table: table.to_string(),
            columns: names.split(',').map(|c| c.trim().to_string()).collect(),
            fields: String::new(),
            ends: vec![],
            shared_at: None,
            item: String::new(),
        }
    }

    /// Adds a row: its values but the shared ones as a text array, `"{…}"` in CSV.
    pub fn push(&mut self, cells: Vec<Cell>) {
        if self.shared_at.is_none() {
            self.shared_at =
                Some(cells.iter().map(|c| if let Cell::Shared(n) = c { Some(*n) } else { None }).collect());
        }
        self.fields.push_str("\"{");
        let mut first = true;
        for c in cells {
            self.item.clear();
            match c {
                Cell::Shared(_) => continue,
                Cell::V(x) => array_item(&mut self.item, &x),
                Cell::Lit("NULL") => self.item.push_str("NULL"),
                // A literal of the calling module: a quoted text ('' for a quote) or a number.
                Cell::Lit(l) => match l.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')) {
                    Some(t) => array_item(&mut self.item, &Val::Text(Some(t.replace("''", "'")))),
                    None => self.item.push_str(l),
                },
            }
            if !first {
                self.fields.push(',');
            }
            first = false;
            // Inside a quoted CSV field a quote is doubled.
            for ch in self.item.chars() {
                if ch == '"' {
                    self.fields.push('"');
                }
                self.fields.push(ch);
            }
        }
        self.fields.push_str("}\"");
        self.ends.push(self.fields.len());
    }

    /// Stages the collected rows through `stage` and lands them in the table inside `conn`'s
    /// transaction, with `tail` (say `RETURNING id, key`) after the statement; gives what the
    /// tail returns.
    pub async fn land(
        &mut self,
        stage: &mut Stage,
        conn: &mut sqlx::AnyConnection,
        shared: &[Val],
        tail: &str,
    ) -> Result<Vec<sqlx::any::AnyRow>, sqlx::Error> {
        let n = self.ends.len() as i64;
        if n == 0 {
            return Ok(vec![]);
        }
        let (load_id, offset) = (stage.load_id, stage.seq);
        let mut csv = String::with_capacity(self.fields.len() + self.ends.len() * 24);
        let mut start = 0;
        for (i, &end) in self.ends.iter().enumerate() {
            let _ = writeln!(csv, "{load_id},{},{}", offset + i as i64 + 1, &self.fields[start..end]);
            start = end;
        }
        self.fields.clear();
        self.ends.clear();
        let (lo, hi) = stage.send(csv.as_bytes(), n).await?;
        let types = stage.types(&self.table).await?;
        let shared_at = self.shared_at.as_deref().unwrap_or_default();
        let mut select = vec![];
        let mut k = 0;
        for (i, col) in self.columns.iter().enumerate() {
            match shared_at.get(i).copied().flatten() {
                Some(n) => select.push(format!("${}", 3 + n)),
                None => {
                    k += 1;
                    let ty = types.get(col).map(String::as_str).unwrap_or("text");
                    select.push(if ty == "text" { format!("s.v[{k}]") } else { format!("CAST(s.v[{k}] AS {ty})") });
                }
            }
        }
        let sql = format!(
            "INSERT INTO {} ({}) SELECT {} FROM bulk_stage s WHERE s.load_id = $1 AND s.seq BETWEEN $2 AND $3 \
             ORDER BY s.seq{}{}",
            self.table,
            self.columns.join(", "),
            select.join(", "),
            if tail.is_empty() { "" } else { " " },
            tail
        );
        let mut args: Vec<Val> = vec![load_id.into(), lo.into(), hi.into()];
        args.extend(shared.iter().cloned());
        let q = super::sql::bind_all(&sql, args);
        let landed = if tail.is_empty() {
            q.execute(conn).await?;
            vec![]
        } else {
            q.fetch_all(conn).await?
        };
        // Landed: the transaction holds its own copy, the staged rows can go. Deleted a
        // hundred thousand at a time (a load of millions would otherwise keep them all until
        // its end; a statement per batch cost more than it saved on an import).
        if hi - stage.forgotten >= FORGET_ROWS {
            stage.forget(hi).await?;
        }
        Ok(landed)
    }
}

/// One element of a PostgreSQL array literal: `NULL`, a number, or a quoted text.
pub fn array_item(a: &mut String, x: &Val) {
    match x {
        Val::Int(Some(n)) => {
            let _ = write!(a, "{n}");
        }
        Val::Text(Some(t)) => {
            a.push('"');
            for ch in t.chars() {
                if ch == '"' || ch == '\\' {
                    a.push('\\');
                }
                a.push(ch);
            }
            a.push('"');
        }
        _ => a.push_str("NULL"),
    }
}
