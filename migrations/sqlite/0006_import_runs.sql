-- Uploaded spreadsheets and what became of them: the file waits under the data directory for the
-- mapping step and a later "import now" after a dry run; the report stays for its download.
CREATE TABLE import_runs (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    file_name TEXT NOT NULL,
    stored TEXT,
    status TEXT NOT NULL,
    mapping_json TEXT,
    on_match TEXT NOT NULL DEFAULT 'report',
    report_json TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX import_runs_user ON import_runs(user_id, id);
