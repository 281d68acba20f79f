//! Orders and what follows them (DOMAIN.md M7; issue 21): orders and their sign-off, and the
//! customer's invoicing details, delivery (outbounds and the logistics worklist), the orders'
//! files.
pub mod collection;
pub mod deliveries;
pub mod files;
pub mod invoicing;
#[allow(clippy::module_inception)] // the part is orders, and so is its main use case
pub mod orders;
pub mod receivables;
