//! The api presenters of `app::classification` (same folder name in each layer).
pub mod candidates;
pub mod classify;
pub mod downgrade;
