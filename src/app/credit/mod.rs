//! Credit (seed 003 §三 大客户信用管理方案; issue 22): the company's credit rules (`settings`),
//! the credit evaluation with its scoring form, sheet and documents (`evaluations`), the grade
//! and limit the figures give (`grades`) and the credit lists (`lists`). Credit information is
//! seen only by callers who see credit (`Caller::sees_credit`); for anyone else it is not there.
pub mod changes;
pub mod evaluations;
pub mod grades;
pub mod lists;
pub mod settings;
pub mod triggers;
