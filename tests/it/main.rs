//! Integration tests: one binary, each test on its own fresh database.
mod activities;
mod activity_pages;
mod approval_pages;
mod approvals;
mod common;
mod forecasts;
mod funnel_totals;
mod http;
mod import;
mod merge;
mod opportunities;
mod opportunity_pages;
mod permissions;
mod quotas;
mod receivers;
mod reports;
mod security;
