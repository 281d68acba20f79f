//! Customers (docs/DOMAIN.md#1-customers): accounts and their contacts, documents, duplicates
//! merged, hand-over when someone leaves, the regional pool, and who may see which account
//! (`visibility`). `derived` keeps an account's derived figures current after a write. A
//! contact's personal data is exported for them and erased at their request (`privacy`).
pub mod accounts;
pub mod contacts;
pub mod derived;
pub mod documents;
pub mod handover;
pub mod merge;
pub mod pool;
pub mod privacy;
pub mod visibility;
