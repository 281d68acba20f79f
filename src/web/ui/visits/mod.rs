//! The ui presenters of `app::visits` (same folder name in each layer).
pub mod activities;
pub mod development_plans;
pub mod retention;
