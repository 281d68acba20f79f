//! What every part shares: the audit trail (`audit`) and a record's history as a user may read
//! it (`history`), raw input before validation (`input`), notifications (`notify`), and create
//! forms saved once however often they are posted (`once`), and the company's versioned
//! settings (`settings`); files under the data directory written whole or not at all (`files`).
pub mod attachments;
pub mod audit;
pub mod backups;
pub mod company;
pub mod consistency;
pub mod files;
pub mod history;
pub mod input;
pub mod notify;
pub mod once;
pub mod settings;
