//! Customers (docs/DOMAIN.md#1-customers): accounts and their contacts, documents, duplicates
//! merged, hand-over when someone leaves, the regional pool, and who may see which account
//! (`visibility`). `derived` keeps an account's derived figures current after a write.
pub mod accounts;
pub mod contacts;
pub mod derived;
pub mod documents;
pub mod handover;
pub mod merge;
pub mod pool;
pub mod visibility;
