-- Uploaded files kept in the database (issue 26 item 3): documents and attachments, visit
-- photos and uploads waiting for their import, when `KAM_STORAGE=database`, so every server
-- on one database sees them (app/records/files.rs). `area`: documents, photos or imports;
-- `key`: the SHA-256 of the bytes (documents, photos) or the upload's stored name (imports).
CREATE TABLE stored_files (
    area TEXT NOT NULL,
    key TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    bytes BYTEA NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (area, key)
);
