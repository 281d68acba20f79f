//! The funnel (docs/DOMAIN.md#3-the-funnel): opportunities and their stages, the figures kept
//! per account and region (`totals`), quotas and V value, the 4-week forecast, the manager's
//! 1×1 review, and the reports built on them. Quotas and forecasts:
//! docs/DOMAIN.md#4-quotas-v-value-and-forecasts.
pub mod forecasts;
pub mod months;
pub mod opportunities;
pub mod quotas;
pub mod reports;
pub mod reviews;
pub mod totals;
