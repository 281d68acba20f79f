//! The api presenters of `app::quotes` (same folder name in each layer).
pub mod bids;
pub mod negotiations;
pub mod products;
pub mod quotes;
