//! People and the organisation (docs/DOMAIN.md#8-people-roles-and-scope): users, org units,
//! sign-in and sessions (`auth`), and the manager chain (`team`).
pub mod auth;
pub mod directory;
pub mod ldap;
pub mod org;
pub mod role_titles;
pub mod team;
pub mod two_factor;
pub mod users;
