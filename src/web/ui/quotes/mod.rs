//! The ui presenters of `app::quotes` (same folder name in each layer).
pub mod attachments;
pub mod bids;
pub mod negotiations;
pub mod products;
#[allow(clippy::module_inception)] // the part is quotes, and so is its main use case
pub mod quotes;
