//! The management year's money (issue 25 items 3–4; seed 000 F-1 … F-9 and 高层资源支持申请表;
//! docs/DOMAIN.md §16.2–16.3): cost centres and their yearly budgets with the 质询 round
//! (`budgets`), spending against the budget's lines, signed inside the line and approved as a
//! `budget_exception` outside it (`spending`), and executive resource requests, which become
//! executive visits on their account once approved (`exec`).
#[allow(clippy::module_inception)]
pub mod budgets;
pub mod exec;
pub mod spending;
