-- The sales-credit split (业绩双计 / 虚拟利润中心; issue 25 item 7, DOMAIN.md §16.6) and the
-- hand-over of open work (issue 25 item 8, §16.7).
--
-- Every signed order credits the KA team (the org unit of the account's KA manager) and the
-- branch where the deal happened (the account's branch) by the split in force when the order
-- was signed: shares in basis points (10000 = 100 %), by default 100 % to each. Each saved
-- split is a row (`version` 1, 2, …) in force from `effective_at`; the credits are read from
-- the orders themselves, so a revised or cancelled order's credit changes with it.
CREATE TABLE credit_splits (
    id INTEGER PRIMARY KEY,
    version INTEGER NOT NULL UNIQUE,
    team_bp INTEGER NOT NULL,
    branch_bp INTEGER NOT NULL,
    note TEXT,
    effective_at TEXT NOT NULL,
    set_by TEXT NOT NULL
);
CREATE INDEX orders_signed_at ON orders(signed_at) WHERE signed_version IS NOT NULL;

-- A visit's open follow-up handed over to a successor (the visit stays its owner's record).
ALTER TABLE activities ADD COLUMN follow_up_owner_id INTEGER REFERENCES users(id);
CREATE INDEX activities_follow_up_owner ON activities(follow_up_owner_id, follow_up_due)
    WHERE follow_up_owner_id IS NOT NULL AND followed_up_by IS NULL AND deleted_at IS NULL;
