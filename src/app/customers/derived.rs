//! An account's derived figures, kept current in one place: who may see it
//! (`account_visibility`, and an opportunity's viewers), its funnel figures (`opportunity_totals`,
//! the region's totals and the open pipeline, `funnel::totals`), its classes and tier
//! (`classification::classify`), its latest activity and its activation, the months' booked and
//! signed actuals (`funnel::months`). Each write that can
//! move them takes the account's lock first ([`lock`]) and, after its own changes, calls
//! [`refresh`] once, naming what it changed; this module knows which figures follow from that
//! and in which order (docs/DOMAIN.md#7-classification, docs/ARCHITECTURE.md).
//!
//! Lock order: the account's row, then its records (opportunities, activities), as a merge
//! does, so that no two writes wait on each other.
use crate::app::classification::classify;
use crate::app::customers::visibility;
use crate::app::funnel::{months, totals};
use crate::app::Result;
use crate::db::{now, RowLock, WriteTx};

/// What a write changed about an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A new account, its access rows written.
    Created,
    /// Its fields were edited (owners, team, region, the inputs of its classes).
    Edited { region_moved: bool },
    /// Who holds it changed outside an edit (pool, team membership, hand-over).
    Holders,
    /// It was soft-deleted: its funnel figures leave its region's.
    Deleted,
    /// Its lifecycle status moved (a screening approved): its tier follows.
    Status,
    /// An opportunity of it was established (the account's first activates it).
    OpportunityCreated { id: i64 },
    /// An opportunity of it changed: `holders` when its owner, team or dates moved (who sees
    /// it), `figures` when its amount or stage moved (the funnel totals and the classes).
    Opportunity { id: i64, holders: bool, figures: bool },
    /// An activity of it was recorded, edited or deleted: its latest done activity.
    Activity,
    /// It absorbed the duplicate `duplicate`, whose records it now holds.
    Merged { duplicate: i64 },
    /// An order of it was signed, revised or cancelled, or imported signed: the months' actuals.
    Orders,
}

/// Takes the account's lock (PostgreSQL: its row, `FOR NO KEY UPDATE`; SQLite has one writer at
/// a time). Call it before changing the account's records.
pub async fn lock(tx: &mut WriteTx, account_id: i64) -> Result<()> {
    Ok(tx.lock_row("accounts", account_id, RowLock::NoKeyUpdate).await?)
}

/// Brings the account's derived figures up to date after `change`, inside the write's
/// transaction. `by` names who made the change, for the account's class history.
pub async fn refresh(tx: &mut WriteTx, account_id: i64, by: &str, change: Change) -> Result<()> {
    match change {
        Change::Created => {
            visibility::refresh_account(tx.conn(), account_id).await?;
            classify::refresh(tx.conn(), account_id, by, "create").await?;
        }
        Change::Edited { region_moved } => {
            visibility::refresh_account(tx.conn(), account_id).await?;
            if region_moved {
                // The account's opportunities and orders now count in the other region.
                funnel_of(tx, account_id).await?;
                months::refresh(tx, account_id).await?;
            }
            classify::refresh(tx.conn(), account_id, by, "account_update").await?;
        }
        Change::Holders => visibility::refresh_account(tx.conn(), account_id).await?,
        Change::Deleted => {
            funnel_of(tx, account_id).await?;
        }
        Change::Status => classify::refresh(tx.conn(), account_id, by, "status").await?,
        Change::OpportunityCreated { id } => {
            visibility::refresh_opportunity(tx.conn(), id).await?;
            funnel_moved(tx, account_id, by).await?;
            months::refresh(tx, account_id).await?;
            // The account's first opportunity activates it (coverage counts activations).
            sqlx::query("UPDATE accounts SET activated_at = $1 WHERE id = $2 AND activated_at IS NULL")
                .bind(now())
                .bind(account_id)
                .execute(tx.conn())
                .await?;
        }
        Change::Opportunity { id, holders, figures } => {
            if holders {
                visibility::refresh_opportunity(tx.conn(), id).await?;
            }
            if figures {
                funnel_moved(tx, account_id, by).await?;
            }
            if figures || holders {
                // Booked revenue counts for the opportunity's owner in its booking month.
                months::refresh(tx, account_id).await?;
            }
        }
        Change::Activity => classify::touch_activity(tx.conn(), account_id).await?,
        Change::Orders => {
            lock(tx, account_id).await?;
            months::refresh(tx, account_id).await?;
        }
        Change::Merged { duplicate } => {
            visibility::refresh_account(tx.conn(), account_id).await?;
            visibility::refresh_account(tx.conn(), duplicate).await?;
            funnel_of(tx, account_id).await?;
            funnel_of(tx, duplicate).await?;
            months::refresh(tx, account_id).await?;
            months::refresh(tx, duplicate).await?;
            // The survivor's activation, latest activity and classes now include the duplicate's.
            sqlx::query(
                "UPDATE accounts SET activated_at = (SELECT MIN(o.established_at) FROM opportunities o \
                 WHERE o.account_id = $1 AND o.deleted_at IS NULL) WHERE id = $1",
            )
            .bind(account_id)
            .execute(tx.conn())
            .await?;
            classify::touch_activity(tx.conn(), account_id).await?;
            classify::refresh(tx.conn(), account_id, by, "merge").await?;
        }
    }
    Ok(())
}

/// The funnel figures, and the classes when they moved (a won opportunity adds to the sales).
async fn funnel_moved(tx: &mut WriteTx, account_id: i64, by: &str) -> Result<()> {
    if funnel_of(tx, account_id).await? {
        classify::refresh(tx.conn(), account_id, by, "opportunities").await?;
    }
    Ok(())
}

/// The account's funnel figures, under its lock (taken again if the write has it already:
/// a no-op within one transaction), so two writes recompute one after the other.
async fn funnel_of(tx: &mut WriteTx, account_id: i64) -> Result<bool> {
    lock(tx, account_id).await?;
    totals::refresh(tx, account_id).await
}
