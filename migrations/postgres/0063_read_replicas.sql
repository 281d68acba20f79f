-- Read replicas (issue 26 item 4, db/replica.rs): when the user last changed something through
-- a server that reads from a replica; for a short window after it their reads stay on the
-- primary, so they see their own change at once (on every server: the mark is here).
ALTER TABLE users ADD COLUMN wrote_at TEXT;
