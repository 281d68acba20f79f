//! The ui presenters of `app::customers` (same folder name in each layer).
pub mod accounts;
pub mod merge;
pub mod relmap;
