//! What every part shares: the audit trail (`audit`) and a record's history as a user may read
//! it (`history`), raw input before validation (`input`), notifications (`notify`), and create
//! forms saved once however often they are posted (`once`), and the company's versioned
//! settings (`settings`).
pub mod audit;
pub mod consistency;
pub mod history;
pub mod input;
pub mod notify;
pub mod once;
pub mod settings;
