//! Account plans (客户规划, seed 004; issue 23; docs/DOMAIN.md §14): one plan per key account per
//! year in eight parts, pre-filled from what KAM knows (`plans`), the figures its objectives are
//! measured by (`progress`), the planning year's calendar (`calendar`), the reviews on the
//! cadence of the account's tier through the `account_plan` flow (`reviews`), the six-monthly
//! progress report (`report`) and the whitespace grid (`whitespace`).
pub mod calendar;
#[allow(clippy::module_inception)]
pub mod plans;
pub mod progress;
pub mod report;
pub mod reviews;
pub mod whitespace;
