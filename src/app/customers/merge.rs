//! Merging duplicate accounts (M1 duplicate detection): a manager keeps one account (the
//! survivor) and folds a duplicate into it. Everything that belongs to the duplicate moves, the
//! survivor's empty fields take the duplicate's values, the duplicate is soft-deleted with a
//! pointer to the survivor, and both histories record the merge — all in one transaction.
use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::json;
use sqlx::Row;

use crate::app::customers::accounts::{self, AccountData, AccountView, TeamMember};
use crate::app::{records::audit, Caller, Ctx, Error, Result};
use crate::db::sql::Sql;
use crate::db::{now, Db};
use crate::domain::role::Reach;
use crate::domain::text;

/// Tables whose rows belong to an account through an `account_id` column; a merge moves all
/// their rows (soft-deleted ones too, so nothing keeps pointing at the merged account).
/// Later tables with an `account_id` (opportunities, activities, …) add themselves here, and
/// a label `merge.table.<name>` in `locales/app.yml`.
pub const MOVED: &[&str] =
    &["contacts", "documents", "opportunities", "activities", "quotes", "bids", "negotiation_rounds", "orders"];

/// Tables whose rows follow their account without an edit counter of their own: the money
/// (invoices, receivables, payments, the collection log, holds, write-offs, matched bank lines)
/// and the lifecycle's records (status history, candidate proposals). Moved in the merge's
/// transaction and counted in its audit row with [`MOVED`]'s (labels `merge.table.<name>`).
pub const FOLLOW: &[&str] = &[
    "invoices",
    "receivables",
    "payments",
    "collection_contacts",
    "order_holds",
    "writeoffs",
    "bank_statement_lines",
    "account_status_changes",
    "candidate_proposals",
];

/// Credit records (credit information): they follow their account too, counted apart under
/// `credit_moved`, which the history shows only to those who see credit (`audit::CREDIT_FIELDS`).
const CREDIT_FOLLOW: &[&str] =
    &["credit_evaluations", "credit_triggers", "credit_change_requests", "credit_grade_changes"];

/// The audit trail's entity name for a row of a table of [`MOVED`].
fn entity_of(table: &str) -> &str {
    match table {
        "opportunities" => "opportunity",
        "activities" => "activity",
        t => t.strip_suffix('s').unwrap_or(t),
    }
}

/// How far a chain of merges (A into B, later B into C) is followed.
const MAX_HOPS: usize = 16;

/// One side of a merge as the confirmation shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Side {
    pub account: AccountView,
    /// Rows per table of [`MOVED`], in that order.
    pub counts: Vec<(&'static str, i64)>,
}

/// What a merge would do, computed by the same rules the merge applies.
#[derive(Debug, Clone, Serialize)]
pub struct Preview {
    pub survivor: Side,
    pub duplicate: Side,
    /// Survivor fields (API names) that are empty and take the duplicate's value.
    pub filled: Vec<&'static str>,
    /// Users who hold the duplicate (owner, inside owner, KA manager, team) and join the
    /// survivor's team, so nobody loses sight of the contacts they look after.
    pub team_joined: Vec<TeamMember>,
    /// Duplicate documents whose title the survivor has already: they keep their order and are
    /// numbered after the survivor's versions of that title.
    pub documents_renumbered: i64,
}

struct Plan {
    preview: Preview,
    /// The survivor's stored state after the fill.
    merged: AccountData,
    joiners: Vec<i64>,
}

/// A likely duplicate of an account, as the merge page lists it.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    pub account: AccountView,
    /// Matched by credit code (otherwise by normalized name).
    pub same_credit_code: bool,
}

/// Live accounts in the caller's scope with the same credit code or the same normalized name
/// (see [`text::name_variants`]) as account `id`; for those who may merge.
pub async fn candidates(db: &Db, caller: &Caller, id: i64) -> Result<Vec<Candidate>> {
    let a = accounts::get(db, caller, id).await?;
    if !caller.role.manages_accounts() {
        return Err(Error::Forbidden);
    }
    let mut s = Sql::new(&accounts::select());
    s.push(" WHERE a.id <> ").bind(id).push(" AND (a.name_norm IN (");
    for (i, v) in text::name_variants(&a.name).into_iter().enumerate() {
        if i > 0 {
            s.push(", ");
        }
        s.bind(v);
    }
    s.push(")");
    if let Some(code) = &a.credit_code {
        s.push(" OR a.credit_code = ").bind(code.as_str());
    }
    s.push(")");
    accounts::push_scope(&mut s, caller);
    s.push(" ORDER BY a.name_sort, a.id LIMIT 50");
    let rows = s.query().fetch_all(&db.pool).await?;
    rows.iter()
        .map(|r| {
            let v = accounts::view_from_row(r)?.for_caller(caller);
            let same_credit_code = v.credit_code.is_some() && v.credit_code == a.credit_code;
            Ok(Candidate { account: v, same_credit_code })
        })
        .collect()
}

/// What merging `duplicate_id` into `survivor_id` would do; the same checks as [`merge`].
pub async fn preview(db: &Db, caller: &Caller, survivor_id: i64, duplicate_id: i64) -> Result<Preview> {
    let mut conn = db.pool.acquire().await?;
    let mut p = plan(&mut conn, caller, survivor_id, duplicate_id).await?.preview;
    for side in [&mut p.survivor, &mut p.duplicate] {
        side.account = side.account.clone().for_caller(caller);
    }
    if !caller.sees_credit() {
        p.filled.retain(|f| !audit::CREDIT_FIELDS.contains(f));
    }
    Ok(p)
}

/// Merges `duplicate_id` into `survivor_id` (managers and above; both accounts in scope).
/// The versions are the ones the caller saw; a changed account answers 409 and nothing moves.
pub async fn merge(
    db: &Db,
    ctx: &Ctx,
    survivor_id: i64,
    duplicate_id: i64,
    survivor_version: Option<i64>,
    duplicate_version: Option<i64>,
) -> Result<AccountView> {
    let caller = &ctx.caller;
    let mut tx = db.begin().await?;
    let Plan { preview: p, merged, joiners } = plan(tx.conn(), caller, survivor_id, duplicate_id).await?;
    let (s_before, d_before) = (&p.survivor.account, &p.duplicate.account);
    for (given, current) in [(survivor_version, s_before.version), (duplicate_version, d_before.version)] {
        if given.is_some_and(|v| v != current) {
            return Err(Error::StaleVersion { current });
        }
    }
    let ts = now();
    // The duplicate goes first: its credit code is unique and may pass to the survivor.
    let gone = sqlx::query(
        "UPDATE accounts SET deleted_at = $1, updated_at = $1, merged_into_id = $2, credit_code = NULL, \
         version = version + 1 WHERE id = $3 AND version = $4 AND deleted_at IS NULL",
    )
    .bind(ts)
    .bind(survivor_id)
    .bind(duplicate_id)
    .bind(d_before.version)
    .execute(tx.conn())
    .await?;
    if gone.rows_affected() != 1 {
        return Err(Error::StaleVersion { current: d_before.version });
    }
    // Versions are numbered per (account, title): a moved title the survivor has already
    // continues after the survivor's last version instead of repeating its numbers.
    sqlx::query(
        "UPDATE documents SET version = version + (SELECT COALESCE(MAX(s.version), 0) FROM documents s \
         WHERE s.account_id = $1 AND s.title = documents.title) WHERE account_id = $2",
    )
    .bind(survivor_id)
    .bind(duplicate_id)
    .execute(tx.conn())
    .await?;
    let mut moved = BTreeMap::new();
    for table in MOVED {
        let ids: Vec<i64> = sqlx::query(&format!("SELECT id FROM {table} WHERE account_id = $1 ORDER BY id"))
            .bind(duplicate_id)
            .fetch_all(tx.conn())
            .await?
            .iter()
            .map(|r| r.try_get::<i64, _>("id"))
            .collect::<std::result::Result<_, _>>()?;
        // A moved record changed (its account did): its version moves on, so a form opened
        // before the merge answers 409 instead of writing over it. A document's `version` is its
        // file's version number (renumbered above), not an edit counter.
        let bump = if *table == "documents" { "" } else { ", version = version + 1, updated_at = $3" };
        let sql = format!("UPDATE {table} SET account_id = $1{bump} WHERE account_id = $2");
        let mut q = sqlx::query(&sql).bind(survivor_id).bind(duplicate_id);
        if !bump.is_empty() {
            q = q.bind(now());
        }
        let n = q.execute(tx.conn()).await?.rows_affected();
        moved.insert(*table, n);
        // Each moved row's own history says where it went (`contacts` → entity `contact`).
        let after = json!({"account_id": survivor_id, "from_account_id": duplicate_id}).to_string();
        let rows: Vec<(String, String)> = ids.iter().map(|id| (id.to_string(), after.clone())).collect();
        audit::record_many(&mut tx, ctx, entity_of(table), "move", rows).await?;
    }
    for table in FOLLOW {
        let n = sqlx::query(&format!("UPDATE {table} SET account_id = $1 WHERE account_id = $2"))
            .bind(survivor_id)
            .bind(duplicate_id)
            .execute(tx.conn())
            .await?
            .rows_affected();
        if n > 0 {
            moved.insert(*table, n);
        }
    }
    let mut credit_moved = BTreeMap::new();
    for table in CREDIT_FOLLOW {
        let n = sqlx::query(&format!("UPDATE {table} SET account_id = $1 WHERE account_id = $2"))
            .bind(survivor_id)
            .bind(duplicate_id)
            .execute(tx.conn())
            .await?
            .rows_affected();
        if n > 0 {
            credit_moved.insert(*table, n);
        }
    }
    // What the survivor owes now includes the duplicate's receivables: both accounts' aging rows.
    crate::app::orders::aging_summary::touch(&mut tx, duplicate_id).await?;
    crate::app::orders::aging_summary::touch(&mut tx, survivor_id).await?;
    // The development plan (and its versions) follows when the survivor has none of its own.
    let plan = sqlx::query(
        "UPDATE development_plans SET account_id = $1 WHERE account_id = $2 \
         AND NOT EXISTS (SELECT 1 FROM development_plans s WHERE s.account_id = $1)",
    )
    .bind(survivor_id)
    .bind(duplicate_id)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if plan > 0 {
        sqlx::query("UPDATE development_plan_versions SET account_id = $1 WHERE account_id = $2")
            .bind(survivor_id)
            .bind(duplicate_id)
            .execute(tx.conn())
            .await?;
        moved.insert("development_plans", plan);
    }
    // The customer's invoicing details (开票信息) follow when the survivor has none of its own.
    sqlx::query(
        "UPDATE account_invoicing SET account_id = $1, version = version + 1, updated_at = $3 WHERE account_id = $2 \
         AND NOT EXISTS (SELECT 1 FROM account_invoicing s WHERE s.account_id = $1)",
    )
    .bind(survivor_id)
    .bind(duplicate_id)
    .bind(now())
    .execute(tx.conn())
    .await?;
    accounts::write(tx.conn(), Some(survivor_id), &merged, s_before.version).await?;
    accounts::refresh_access(tx.conn(), survivor_id, &merged).await?;
    for uid in &joiners {
        sqlx::query("INSERT INTO account_access (account_id, user_id, via) VALUES ($1, $2, 'team')")
            .bind(survivor_id)
            .bind(*uid)
            .execute(tx.conn())
            .await?;
    }
    // Nobody holds a merged account; who may still read its history follows the survivor.
    sqlx::query("DELETE FROM account_access WHERE account_id = $1").bind(duplicate_id).execute(tx.conn()).await?;
    let change = crate::app::customers::derived::Change::Merged { duplicate: duplicate_id };
    crate::app::customers::derived::refresh(&mut tx, survivor_id, &ctx.caller.username, change).await?;
    let s_after = fetch(tx.conn(), survivor_id).await?;
    let d_after = fetch(tx.conn(), duplicate_id).await?;
    let summary = json!({
        "duplicate_id": duplicate_id,
        "duplicate_name": d_before.name,
        "moved": moved,
        "credit_moved": credit_moved,
        "filled": p.filled,
        "team_joined": p.team_joined.iter().map(|m| m.username.as_str()).collect::<Vec<_>>(),
        "documents_renumbered": p.documents_renumbered,
    });
    let mut after = accounts::audit_json(&s_after);
    after["merge"] = summary;
    let before = accounts::audit_json(s_before);
    audit::record(&mut tx, ctx, "account", &survivor_id.to_string(), "merge", Some(&before), Some(&after)).await?;
    let mut after = accounts::audit_json(&d_after);
    after["merged_into"] = json!(survivor_id);
    let before = accounts::audit_json(d_before);
    audit::record(&mut tx, ctx, "account", &duplicate_id.to_string(), "merged", Some(&before), Some(&after)).await?;
    tx.commit().await?;
    Ok(s_after.for_caller(caller))
}

/// The live account a merged account now lives on, when the caller may see it (a chain of
/// merges is followed). Old links to a merged account lead there.
pub async fn survivor_of(db: &Db, caller: &Caller, id: i64) -> Result<Option<i64>> {
    let mut conn = db.pool.acquire().await?;
    survivor_in(&mut conn, caller, id).await
}

async fn survivor_in(conn: &mut sqlx::AnyConnection, caller: &Caller, id: i64) -> Result<Option<i64>> {
    let mut cur = id;
    for _ in 0..MAX_HOPS {
        let next: Option<i64> =
            match sqlx::query("SELECT merged_into_id FROM accounts WHERE id = $1 AND deleted_at IS NOT NULL")
                .bind(cur)
                .fetch_optional(&mut *conn)
                .await?
            {
                Some(r) => r.try_get("merged_into_id")?,
                None => None,
            };
        let Some(next) = next else { return Ok(None) };
        match accounts::fetch_scoped(&mut *conn, caller, next).await {
            Ok(_) => return Ok(Some(next)),
            Err(Error::NotFound) => cur = next,
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}

/// The account, unscoped (after the caller's right to it was checked).
async fn fetch(conn: &mut sqlx::AnyConnection, id: i64) -> Result<AccountView> {
    let mut s = Sql::new(&accounts::select());
    s.push(" WHERE a.id = ").bind(id);
    accounts::view_from_row(&s.query().fetch_one(conn).await?)
}

/// A live account in scope. One the caller could see that is already merged or deleted is
/// named in a field error; anything else is "not found".
async fn live(conn: &mut sqlx::AnyConnection, caller: &Caller, id: i64, field: &str) -> Result<AccountView> {
    match accounts::fetch_scoped(&mut *conn, caller, id).await {
        Err(Error::NotFound) => {}
        other => return other,
    }
    let r = sqlx::query("SELECT merged_into_id FROM accounts WHERE id = $1 AND deleted_at IS NOT NULL")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(r) = r else { return Err(Error::NotFound) };
    let merged: Option<i64> = r.try_get("merged_into_id")?;
    if merged.is_some() {
        return match survivor_in(conn, caller, id).await? {
            Some(_) => Err(Error::invalid(field, "already_merged")),
            None => Err(Error::NotFound),
        };
    }
    // Deleting an account leaves its visibility rows, so "was in scope" is still answerable.
    let was_visible = match caller.reach() {
        Reach::All => true,
        Reach::Nothing => false,
        Reach::Own | Reach::Reports | Reach::OrgSubtree => {
            sqlx::query("SELECT 1 AS x FROM account_visibility WHERE user_id = $1 AND account_id = $2")
                .bind(caller.user_id)
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?
                .is_some()
        }
    };
    if was_visible {
        Err(Error::invalid(field, "account_deleted"))
    } else {
        Err(Error::NotFound)
    }
}

async fn counts(conn: &mut sqlx::AnyConnection, id: i64) -> Result<Vec<(&'static str, i64)>> {
    let mut out = Vec::with_capacity(MOVED.len());
    for table in MOVED {
        let n: i64 = sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table} WHERE account_id = $1"))
            .bind(id)
            .fetch_one(&mut *conn)
            .await?
            .try_get("n")?;
        out.push((*table, n));
    }
    Ok(out)
}

/// Gives every empty survivor field the duplicate's value; returns the fields filled.
fn fill(s: &mut AccountData, d: &AccountData) -> Vec<&'static str> {
    fn take<T: Clone>(t: &mut Option<T>, from: &Option<T>, name: &'static str, filled: &mut Vec<&'static str>) {
        if t.is_none() && from.is_some() {
            t.clone_from(from);
            filled.push(name);
        }
    }
    let mut f = vec![];
    take(&mut s.short_name, &d.short_name, "short_name", &mut f);
    take(&mut s.credit_code, &d.credit_code, "credit_code", &mut f);
    // Region and branch go together, so a branch never lands outside its region.
    if s.region_id.is_none() && d.region_id.is_some() {
        s.region_id = d.region_id;
        f.push("region");
        take(&mut s.branch_id, &d.branch_id, "branch", &mut f);
    } else if s.region_id == d.region_id {
        take(&mut s.branch_id, &d.branch_id, "branch", &mut f);
    }
    take(&mut s.owner_id, &d.owner_id, "owner", &mut f);
    take(&mut s.inside_owner_id, &d.inside_owner_id, "inside_owner", &mut f);
    take(&mut s.ka_manager_id, &d.ka_manager_id, "ka_manager", &mut f);
    take(&mut s.address, &d.address, "address", &mut f);
    take(&mut s.website, &d.website, "website", &mut f);
    take(&mut s.business_units, &d.business_units, "business_units", &mut f);
    take(&mut s.buying_power, &d.buying_power, "buying_power", &mut f);
    take(&mut s.sales_12m_entered, &d.sales_12m_entered, "sales_12m_entered", &mut f);
    take(&mut s.profit_margin_bp, &d.profit_margin_bp, "profit_margin", &mut f);
    take(&mut s.payment_terms_days, &d.payment_terms_days, "payment_terms_days", &mut f);
    take(&mut s.expense_ratio_bp, &d.expense_ratio_bp, "sales_expense_ratio", &mut f);
    take(&mut s.notes, &d.notes, "notes", &mut f);
    take(&mut s.tags, &d.tags, "tags", &mut f);
    take(&mut s.current_asset_ratio_bp, &d.current_asset_ratio_bp, "current_asset_ratio", &mut f);
    take(&mut s.net_margin_bp, &d.net_margin_bp, "net_margin", &mut f);
    take(&mut s.roa_bp, &d.roa_bp, "roa", &mut f);
    take(&mut s.collection_days, &d.collection_days, "collection_days", &mut f);
    take(&mut s.inventory_days, &d.inventory_days, "inventory_days", &mut f);
    take(&mut s.credit_grade, &d.credit_grade, "credit_grade", &mut f);
    take(&mut s.credit_limit, &d.credit_limit, "credit_limit", &mut f);
    take(&mut s.credit_score, &d.credit_score, "credit_score", &mut f);
    f
}

/// Checks the caller's right and both accounts, and works out what the merge does.
async fn plan(conn: &mut sqlx::AnyConnection, caller: &Caller, survivor_id: i64, duplicate_id: i64) -> Result<Plan> {
    let survivor = live(conn, caller, survivor_id, "id").await?;
    if !caller.role.manages_accounts() {
        return Err(Error::Forbidden);
    }
    if survivor_id == duplicate_id {
        return Err(Error::invalid("duplicate_id", "merge_same_account"));
    }
    let duplicate = live(conn, caller, duplicate_id, "duplicate_id").await?;
    let (mut merged, _) = accounts::load_data(conn, survivor_id).await?;
    let (dup, _) = accounts::load_data(conn, duplicate_id).await?;
    let filled = fill(&mut merged, &dup);
    // Everyone holding the duplicate who will not hold the survivor joins its team.
    let rows = sqlx::query(
        "SELECT DISTINCT u.id, u.username, u.display_name, u.role FROM account_access aa JOIN users u ON u.id = aa.user_id \
         WHERE aa.account_id = $1 AND u.active = 1 AND u.id NOT IN \
         (SELECT user_id FROM account_access WHERE account_id = $2 AND via = 'team') ORDER BY u.username",
    )
    .bind(duplicate_id)
    .bind(survivor_id)
    .fetch_all(&mut *conn)
    .await?;
    let owners = [merged.owner_id, merged.inside_owner_id, merged.ka_manager_id];
    let (mut joiners, mut team_joined) = (vec![], vec![]);
    for r in &rows {
        let id: i64 = r.try_get("id")?;
        if owners.contains(&Some(id)) {
            continue;
        }
        joiners.push(id);
        team_joined.push(TeamMember {
            username: r.try_get("username")?,
            display_name: r.try_get("display_name")?,
            role: r.try_get("role")?,
        });
    }
    let documents_renumbered: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM documents d WHERE d.account_id = $1 AND EXISTS \
         (SELECT 1 FROM documents s WHERE s.account_id = $2 AND s.title = d.title)",
    )
    .bind(duplicate_id)
    .bind(survivor_id)
    .fetch_one(&mut *conn)
    .await?
    .try_get("n")?;
    let preview = Preview {
        survivor: Side { counts: counts(conn, survivor_id).await?, account: survivor },
        duplicate: Side { counts: counts(conn, duplicate_id).await?, account: duplicate },
        filled,
        team_joined,
        documents_renumbered,
    };
    Ok(Plan { preview, merged, joiners })
}
