//! The ui presenters of `app::orders` (same folder name in each layer).
pub mod attachments;
pub mod deliveries;
pub mod holds;
pub mod invoicing;
#[allow(clippy::module_inception)] // the part is orders, and so is its main use case
pub mod orders;
pub mod receivable_reports;
pub mod receivables;
pub mod statements;
pub mod writeoffs;
