//! Integration tests: one binary, each test on its own fresh database.
mod common;
mod http;
mod import;
mod permissions;
mod security;
