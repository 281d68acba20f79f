-- Attachments of a record other than an account (a quote's enclosures, a tender's documents):
-- the bytes live under the data directory by their SHA-256 like account documents; a row names
-- its subject by kind and id. Removal is a mark (who, when), never a lost row: the record's
-- history keeps every file it ever carried.
CREATE TABLE attachments (
    id INTEGER PRIMARY KEY,
    subject_kind TEXT NOT NULL,
    subject_id INTEGER NOT NULL,
    -- The subject's version the file was added under (a quote's version number), when it has one.
    version_no INTEGER,
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    note TEXT,
    uploaded_by TEXT NOT NULL,
    uploaded_at TEXT NOT NULL,
    removed_by TEXT,
    removed_at TEXT
);
CREATE INDEX attachments_subject ON attachments(subject_kind, subject_id, id);
