//! Visits and other activities (docs/DOMAIN.md#5-visits): plans, records,
//! effective visits, follow-ups; how long check-in locations and photos are kept (`retention`).
pub mod activities;
pub mod development_plans;
pub mod retention;
