-- Directory sign-in (LDAP / Active Directory; issue 26 item 1, app/people/ldap.rs).
-- `source`: `local` (KAM keeps the password) or `directory` (the directory checks it; the
-- password hash is unusable and the role, org unit, name and email come from the directory at
-- each sign-in and sync). `directory_dn`: the user's entry. `directory_disabled_at`: when KAM
-- deactivated the user because the directory disabled or removed them (a user an
-- administrator deactivated in KAM has none, and the directory cannot bring them back).
ALTER TABLE users ADD COLUMN source TEXT NOT NULL DEFAULT 'local';
ALTER TABLE users ADD COLUMN directory_dn TEXT;
ALTER TABLE users ADD COLUMN directory_disabled_at TEXT;
-- The rule as migration 0060 writes SQLite's checks: triggers named after PostgreSQL's constraint.
CREATE TRIGGER users_source_checks_insert BEFORE INSERT ON users
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: users_source_check') WHERE NEW.source IS NOT NULL AND NOT (NEW.source IN ('local', 'directory'));
END;
CREATE TRIGGER users_source_checks_update BEFORE UPDATE OF source ON users
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: users_source_check') WHERE NEW.source IS NOT OLD.source AND NEW.source IS NOT NULL AND NOT (NEW.source IN ('local', 'directory'));
END;
