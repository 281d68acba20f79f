//! The api presenters of `app::people` (same folder name in each layer).
pub mod admin;
pub mod ldap;
pub mod me;
pub mod role_titles;
pub mod two_factor;
