//! Types and rules of the key-account domain. No I/O lives here: the app layer calls these
//! functions, and both presenters (HTML and JSON) show what the app layer returns.
pub mod account;
pub mod account_plan;
pub mod activity;
pub mod approval;
pub mod bid;
pub mod candidates;
pub mod classify;
pub mod credit;
pub mod credit_change;
pub mod credit_code;
pub mod delivery;
pub mod error;
pub mod fulfilment;
pub mod money;
pub mod opportunity;
pub mod order;
pub mod pinyin;
pub mod policy;
pub mod quota;
pub mod quote;
pub mod receivable;
pub mod role;
pub mod service;
pub mod suggestion;
pub mod text;
pub mod writeoff;

pub use error::{DomainError, FieldError};
