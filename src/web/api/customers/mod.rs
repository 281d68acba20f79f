//! The api presenters of `app::customers` (same folder name in each layer).
pub mod accounts;
pub mod contacts;
pub mod documents;
pub mod merge;
