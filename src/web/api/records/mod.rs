//! The api presenters of `app::records` (same folder name in each layer).
pub mod company;
pub mod consistency;
