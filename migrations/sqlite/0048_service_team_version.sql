-- The version of an account's service team (issue 24): the team is set whole, over the version
-- read, so two people editing one account's team do not overwrite each other unseen. An account
-- whose team was never set has no row (version 0).
CREATE TABLE account_service_teams (
    account_id INTEGER PRIMARY KEY REFERENCES accounts(id),
    version INTEGER NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
