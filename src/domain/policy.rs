//! The access policy as one table: for a caller's role and relation to a record, which
//! operations are allowed. Queries enforce the read side (scope) in SQL; writes consult
//! [`decide`]. The permission-matrix test compares the running system with this table.
use super::role::{Reach, Role};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Get,
    List,
    Search,
    Count,
    Update,
    Delete,
    Export,
    /// Erasing a contact's personal data at the person's request (个人信息保护法): irreversible,
    /// so a manager's act (`Role::manages_accounts`).
    Erase,
}

/// What the caller gets for a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The operation goes ahead (reads include the record).
    Allow,
    /// The record is visible but the operation is not the caller's to do: 403.
    Forbid,
    /// The record is not in the caller's scope: 404 for one record, absent from lists.
    Hidden,
}

/// Whether a record is in scope is decided by the scope query; given that, the operation is
/// decided by role alone.
pub fn decide(role: Role, in_scope: bool, op: Op) -> Decision {
    if !in_scope || role.reach() == Reach::Nothing {
        return Decision::Hidden;
    }
    match op {
        Op::Get | Op::List | Op::Search | Op::Count | Op::Export => Decision::Allow,
        Op::Update if role.edits_accounts() => Decision::Allow,
        Op::Delete if role.deletes_accounts() => Decision::Allow,
        Op::Erase if role.manages_accounts() => Decision::Allow,
        Op::Update | Op::Delete | Op::Erase => Decision::Forbid,
    }
}
