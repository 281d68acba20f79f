//! Visits and other activities (docs/DOMAIN.md#5-visits): plans, records,
//! effective visits, follow-ups.
pub mod activities;
pub mod development_plans;
