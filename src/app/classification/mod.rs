//! Classification (docs/DOMAIN.md#7-classification): the sales, share-of-wallet and RAD classes
//! and the tier derived from them (`classify`), their reports (`classify_views`), and the
//! key-account screening (`screenings`), a subject of the approval engine, and the way down and
//! back: fulfilment, the automatic and manual downgrade, the status history (`downgrade`).
pub mod candidates;
pub mod classify;
pub mod classify_views;
pub mod downgrade;
pub mod screenings;
