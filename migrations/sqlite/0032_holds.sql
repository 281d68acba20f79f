-- Holds (冻结, DOMAIN.md §12.5; issue 21). An order held with a reason (kind `general`), or all
-- of an account's orders held because a receivable climbed to the dunning level that holds
-- (kind `dunning`, order_id null, the receivable named). While a hold is active the orders it
-- covers are not signed off, prepared or shipped; finance releases it with a reason. Nothing is
-- deleted: a released hold keeps who released it, when and why.
CREATE TABLE order_holds (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    order_id INTEGER REFERENCES orders(id),
    kind TEXT NOT NULL,
    reason TEXT NOT NULL,
    receivable_id INTEGER REFERENCES receivables(id),
    placed_by TEXT NOT NULL,
    placed_at TEXT NOT NULL,
    released_by TEXT,
    released_at TEXT,
    release_reason TEXT,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX order_holds_active ON order_holds(account_id, order_id) WHERE released_at IS NULL;
CREATE INDEX order_holds_order ON order_holds(order_id);

-- How many dunning levels a receivable's people were told of (0: none yet); the scheduler tells
-- them once per level reached, and places the hold when the holding level is reached.
ALTER TABLE receivables ADD COLUMN dun_notified INTEGER NOT NULL DEFAULT 0;
CREATE INDEX receivables_open_dun ON receivables(dun_notified, due_on) WHERE state = 'open';
-- Whether the scheduler has judged a promise whose day passed (kept or broken).
ALTER TABLE collection_contacts ADD COLUMN judged INTEGER NOT NULL DEFAULT 0;
CREATE INDEX collection_contacts_unjudged ON collection_contacts(promised_on) WHERE judged = 0 AND promised_on IS NOT NULL;
-- Receivables already overdue when this arrived: their lower levels count as told (the default
-- levels: 1, 15, 30, 60 days), so the first pass does not tell of every old one again.
UPDATE receivables SET dun_notified = CASE
    WHEN due_on <= date('now', '-60 day') THEN 4 WHEN due_on <= date('now', '-30 day') THEN 3
    WHEN due_on <= date('now', '-15 day') THEN 2 WHEN due_on <= date('now', '-1 day') THEN 1 ELSE 0 END
WHERE state = 'open' AND due_on IS NOT NULL;
