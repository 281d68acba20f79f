-- The aging report's kept summary (DOMAIN.md §12.1a; issue 21, Speed: HQ aging). Per account and
-- owner, what their open receivables still owe in each aging column: c0 not yet due, c1.. the
-- buckets, as of the day and bounds stamped in the setting `aging_summary`. Derived data: every
-- change to a receivable rewrites its account's rows in the same transaction, and the whole
-- table is rebuilt when the day or the bounds change (the scheduler, once a day, or the first
-- report of a new day). Unused columns stay 0 (at most 8 bounds: 10 columns). Without rowid on
-- SQLite: the rows are stored in key order, so grouping by account reads them in place.
CREATE TABLE receivable_aging (
    account_id INTEGER NOT NULL,
    owner_id INTEGER NOT NULL,
    c0 INTEGER NOT NULL DEFAULT 0,
    c1 INTEGER NOT NULL DEFAULT 0,
    c2 INTEGER NOT NULL DEFAULT 0,
    c3 INTEGER NOT NULL DEFAULT 0,
    c4 INTEGER NOT NULL DEFAULT 0,
    c5 INTEGER NOT NULL DEFAULT 0,
    c6 INTEGER NOT NULL DEFAULT 0,
    c7 INTEGER NOT NULL DEFAULT 0,
    c8 INTEGER NOT NULL DEFAULT 0,
    c9 INTEGER NOT NULL DEFAULT 0,
    total INTEGER NOT NULL,
    PRIMARY KEY (account_id, owner_id)
) WITHOUT ROWID;
CREATE INDEX receivable_aging_owner ON receivable_aging(owner_id);
