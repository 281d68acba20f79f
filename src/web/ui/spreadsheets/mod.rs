//! The ui presenters of `app::spreadsheets` (same folder name in each layer).
pub mod imports;
