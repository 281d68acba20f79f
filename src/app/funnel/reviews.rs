//! The manager's weekly 1×1 review of one salesperson (001): quota, booked, remaining and V
//! value; how the pipeline changed since last week (new, advanced, slipped, lost); this week's
//! forecast against last week's; next steps that are overdue.
use std::collections::HashMap;

use serde::Serialize;

use crate::app::funnel::forecasts::PersonForecast;
use crate::app::funnel::opportunities::OpportunityView;
use crate::app::funnel::quotas::Figures;
use crate::app::{Caller, Error, Result};
use crate::db::Db;
use crate::domain::opportunity::Stage;

/// A change of one opportunity in the week looked back on.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct Change {
    pub opportunity_id: i64,
    pub name: String,
    #[schema(format = DateTime)]
    pub at: String,
    #[schema(value_type = Option<crate::domain::opportunity::Stage>)]
    pub from_stage: Option<String>,
    pub stage: crate::domain::opportunity::Stage,
    #[schema(value_type = String, pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    #[sqlx(try_from = "crate::db::codes::Fen")]
    pub amount: String,
    #[schema(format = Date)]
    pub expected_close: String,
    /// For a slip: the expected date before it.
    #[schema(format = Date)]
    #[sqlx(skip)]
    pub previous_expected_close: Option<String>,
    pub reason: Option<String>,
}

/// The manager's weekly 1×1 review of one salesperson.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OneOnOne {
    /// The salesperson's username.
    pub owner: String,
    pub name: String,
    /// The first day of the week looked back on.
    #[schema(format = Date)]
    pub since: String,
    pub figures: Figures,
    pub new: Vec<Change>,
    pub advanced: Vec<Change>,
    /// Moved back, or its expected date pushed later.
    pub slipped: Vec<Change>,
    pub lost: Vec<Change>,
    pub forecast: PersonForecast,
    pub overdue_next_steps: Vec<OpportunityView>,
    pub overdue_deals: Vec<OpportunityView>,
    /// This week's visits and calls against the targets.
    pub visits: Option<crate::app::visits::activities::PersonWeek>,
    /// Visits still waiting for their follow-up contact (due and overdue).
    pub follow_ups: Vec<crate::app::visits::activities::FollowUp>,
}

/// The review of `owner` for a caller who may see them (else 404): the last seven days.
pub async fn one_on_one(db: &Db, caller: &Caller, owner: &str) -> Result<OneOnOne> {
    let mut conn = db.pool.acquire().await?;
    let people = crate::app::people::team::people_in_scope(&mut conn, caller).await?;
    let Some((username, name, uid)) = people.into_iter().find(|p| p.0 == owner) else {
        return Err(Error::NotFound);
    };
    let today = chrono::Utc::now().date_naive();
    let since_day = today - chrono::Duration::days(7);
    let since = format!("{}T00:00:00Z", since_day.format("%Y-%m-%d"));
    let figures = crate::app::funnel::quotas::v_report(db, caller, None, Some(&username)).await?.people.remove(0);
    let forecast = crate::app::funnel::forecasts::report(db, caller, Some(&username)).await?.remove(0);
    // Every history row of the person's opportunities, in order, so each change can be read
    // against the row before it.
    let rows: Vec<Change> = sqlx::query_as(
        "SELECT h.opportunity_id, o.name, h.at, h.from_stage, h.stage, h.amount, h.expected_close, h.reason \
         FROM opportunity_history h JOIN opportunities o ON o.id = h.opportunity_id \
         WHERE o.owner_id = $1 AND o.deleted_at IS NULL ORDER BY h.opportunity_id, h.at, h.id",
    )
    .bind(uid)
    .fetch_all(&mut *conn)
    .await?;
    let (mut new, mut advanced, mut slipped, mut lost) = (vec![], vec![], vec![], vec![]);
    let mut prev_close: HashMap<i64, String> = HashMap::new();
    for c in rows {
        let before = prev_close.insert(c.opportunity_id, c.expected_close.clone());
        if c.at < since {
            continue;
        }
        let (f, s) = (c.from_stage.as_deref().and_then(|f| Stage::parse(f).ok()), Some(c.stage));
        match (f, s) {
            (None, _) => new.push(c),
            (Some(_), Some(Stage::Lost)) => lost.push(c),
            (Some(f), Some(s)) if f != s && s.rank() > f.rank() => advanced.push(c),
            (Some(f), Some(s)) if f != s => slipped.push(c),
            _ => {
                if before.as_deref().is_some_and(|b| c.expected_close.as_str() > b) {
                    slipped.push(Change { previous_expected_close: before, ..c });
                }
            }
        }
    }
    let f = crate::app::funnel::opportunities::Filter {
        owner: Some(username.clone()),
        open: true,
        limit: Some(500),
        ..Default::default()
    };
    let open = crate::app::funnel::opportunities::list(db, caller, &f).await?.items;
    let day = today.format("%Y-%m-%d").to_string();
    let overdue_next_steps =
        open.iter().filter(|o| o.next_step_due.as_deref().is_some_and(|d| d < day.as_str())).cloned().collect();
    let overdue_deals = open.into_iter().filter(|o| o.expected_close.as_str() < day.as_str()).collect();
    Ok(OneOnOne {
        owner: username,
        name,
        since: since_day.format("%Y-%m-%d").to_string(),
        figures,
        new,
        advanced,
        slipped,
        lost,
        forecast,
        overdue_next_steps,
        overdue_deals,
        visits: crate::app::visits::activities::stats(db, caller, None)
            .await?
            .people
            .into_iter()
            .find(|p| p.username == owner),
        follow_ups: crate::app::visits::activities::follow_ups(db, caller, Some(owner)).await?,
    })
}
