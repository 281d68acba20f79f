//! A record's history (the audit trail) as a user may read it: the trail itself is written and
//! read by `audit`; whether the caller may see the named record is decided here, by the
//! record's own scope rule.
use crate::app::customers::accounts::Seen;
use crate::app::records::audit::{self, AuditEntry, AuditFilter};
use crate::app::{Ctx, Error, Page, Result};
use crate::db::Db;

/// The audit trail as the caller may see it: administrators and the general manager see all;
/// others see the history of records in their scope (they must name one) and their own acts.
/// `seen`: the account the caller was already shown to see, when `f` names it (its page).
pub async fn list(db: &Db, ctx: &Ctx, f: &AuditFilter, seen: Option<Seen>) -> Result<Page<AuditEntry>> {
    let named = if ctx.caller.role.sees_all_audit() {
        true
    } else {
        match (f.entity.as_deref(), f.entity_id.as_deref()) {
            (Some(e), Some(i)) => {
                let id: i64 = i.parse().map_err(|_| Error::NotFound)?;
                match e {
                    // A merged account's history stays readable to those who see the survivor.
                    "account" => {
                        seen.is_some_and(|s| s.id() == id)
                            || crate::app::customers::accounts::ensure_visible(db, &ctx.caller, id).await.is_ok()
                            || crate::app::customers::merge::survivor_of(db, &ctx.caller, id).await?.is_some()
                    }
                    "contact" => crate::app::customers::contacts::ensure_visible(db, &ctx.caller, id).await.is_ok(),
                    "opportunity" => crate::app::funnel::opportunities::get(db, &ctx.caller, id).await.is_ok(),
                    "bid" => crate::app::quotes::bids::get(db, &ctx.caller, id).await.is_ok(),
                    "negotiation_round" => crate::app::quotes::negotiations::get(db, &ctx.caller, id).await.is_ok(),
                    // The catalogue is everyone's to read (its confidential prices are stripped).
                    "product" => crate::app::quotes::products::may_read(&ctx.caller),
                    "quote" => crate::app::quotes::quotes::get(db, &ctx.caller, id, None).await.is_ok(),
                    "order" => crate::app::orders::orders::get(db, &ctx.caller, id, None).await.is_ok(),
                    "outbound" => crate::app::orders::deliveries::get(db, &ctx.caller, id).await.is_ok(),
                    _ => false,
                }
            }
            _ => false,
        }
    };
    audit::read(db, ctx, f, named).await
}
