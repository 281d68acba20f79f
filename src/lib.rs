//! KAM — key-account management. See docs/ARCHITECTURE.md for the shape.
pub mod app;
pub mod db;
pub mod domain;
