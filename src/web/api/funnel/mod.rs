//! The api presenters of `app::funnel` (same folder name in each layer).
pub mod opportunities;
