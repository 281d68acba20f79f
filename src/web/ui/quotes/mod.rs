//! The ui presenters of `app::quotes` (same folder name in each layer).
pub mod products;
pub mod quotes;
