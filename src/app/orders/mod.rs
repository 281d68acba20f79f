//! Orders and what follows them (DOMAIN.md M7; issue 21): orders and their sign-off, and the
//! customer's invoicing details, delivery (outbounds and the logistics worklist), the orders'
//! files, holds and the receivables policy.
pub mod aging_summary;
pub mod collection;
pub mod credit_check;
pub mod credit_decisions;
pub mod deliveries;
pub mod files;
pub mod holds;
pub mod invoicing;
pub mod opening;
#[allow(clippy::module_inception)] // the part is orders, and so is its main use case
pub mod orders;
pub mod policy;
pub mod receivable_reports;
pub mod receivables;
pub mod returns;
pub mod statements;
pub mod writeoffs;
