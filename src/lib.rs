//! KAM — key-account management. See docs/ARCHITECTURE.md for the shape.
pub mod app;
pub mod cli;
pub mod config;
pub mod db;
pub mod doctor;
pub mod domain;
pub mod generate;
mod rng;
pub mod web;

rust_i18n::i18n!("locales", fallback = "zh-CN");
