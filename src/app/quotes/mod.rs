//! Quotes and bids (docs/DOMAIN.md M6; seed 000 S-4, S-5): the product catalogue, bid
//! decisions, versioned quotes with discount authority, and negotiation rounds.
pub mod bids;
pub mod files;
pub mod negotiations;
pub mod products;
#[allow(clippy::module_inception)] // the part is quotes, and so is its main use case
pub mod quotes;
