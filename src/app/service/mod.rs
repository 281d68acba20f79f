//! Serving key accounts (大客户服务方案; seed 003 §二.2, issue 24 items 1–3; docs/DOMAIN.md M9):
//! the account's service team (`team`), service and support requests through the
//! `service_request` flow (`requests`), service events with their evaluation form through the
//! `service_evaluation` flow and the return visit due a week after (`events`).
pub mod events;
pub mod requests;
pub mod team;

use chrono::{DateTime, Utc};

/// Today in the company's zone (`YYYY-MM-DD`).
pub(crate) fn today_of(now: DateTime<Utc>) -> String {
    crate::domain::activity::local_day(now, chrono_tz::Asia::Shanghai).format("%Y-%m-%d").to_string()
}

/// One decider's opinion on a request: the step's role, who decided, how, and the comment.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Opinion {
    pub position: i64,
    /// The step's role.
    pub role: String,
    /// `waiting`, `open`, `approved`, `returned`, `rejected`, `cancelled`, `skipped`.
    pub state: String,
    pub decided_by_name: Option<String>,
    #[schema(format = DateTime)]
    pub decided_at: Option<String>,
    pub comment: Option<String>,
}

/// The steps of a request with their opinions, in order.
pub(crate) async fn opinions_in(
    conn: &mut sqlx::AnyConnection,
    approval_id: Option<i64>,
) -> crate::app::Result<Vec<Opinion>> {
    use sqlx::Row;
    let Some(aid) = approval_id else { return Ok(vec![]) };
    let rows = sqlx::query(
        "SELECT s.position, s.role, s.state, s.decided_at, s.comment, COALESCE(u.display_name, u.username) AS who \
         FROM approval_steps s LEFT JOIN users u ON u.id = s.decided_by WHERE s.approval_id = $1 ORDER BY s.position",
    )
    .bind(aid)
    .fetch_all(conn)
    .await?;
    let mut out = vec![];
    for r in rows {
        out.push(Opinion {
            position: r.try_get("position")?,
            role: r.try_get("role")?,
            state: r.try_get("state")?,
            decided_by_name: r.try_get("who")?,
            decided_at: r.try_get("decided_at")?,
            comment: r.try_get("comment")?,
        });
    }
    Ok(out)
}

/// The account's region, branch, owner and name (the subject of its requests).
pub(crate) async fn account_facts(
    conn: &mut sqlx::AnyConnection,
    account_id: i64,
) -> crate::app::Result<(Option<i64>, Option<i64>, Option<i64>, String)> {
    use sqlx::Row;
    let a = sqlx::query("SELECT region_id, branch_id, owner_id, name FROM accounts WHERE id = $1")
        .bind(account_id)
        .fetch_one(conn)
        .await?;
    Ok((a.try_get("region_id")?, a.try_get("branch_id")?, a.try_get("owner_id")?, a.try_get("name")?))
}
