//! What every part shares: the audit trail (`audit`) and a record's history as a user may read
//! it (`history`), raw input before validation (`input`), and notifications (`notify`).
pub mod audit;
pub mod history;
pub mod input;
pub mod notify;
