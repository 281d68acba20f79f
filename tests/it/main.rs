//! Integration tests: one binary, each test on its own fresh database.
mod common;
mod http;
mod import;
mod merge;
mod permissions;
mod security;
