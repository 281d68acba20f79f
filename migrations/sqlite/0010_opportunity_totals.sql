-- The funnel's figures kept per account and stage, and per region and stage, in the same
-- transaction as every change to an opportunity or to its account (app/totals.rs): the funnel
-- of a region or of HQ then adds up a few rows instead of every opportunity. Only live
-- opportunities of live accounts are counted; `amount` is what an opportunity counts for (the
-- booked amount once won). `region_id` 0: the account has no region.
CREATE TABLE opportunity_totals (
    account_id INTEGER NOT NULL,
    stage TEXT NOT NULL,
    region_id INTEGER NOT NULL,
    n INTEGER NOT NULL,
    amount INTEGER NOT NULL,
    PRIMARY KEY (account_id, stage)
) WITHOUT ROWID;
CREATE TABLE opportunity_region_totals (
    region_id INTEGER NOT NULL,
    stage TEXT NOT NULL,
    n INTEGER NOT NULL,
    amount INTEGER NOT NULL,
    PRIMARY KEY (region_id, stage)
) WITHOUT ROWID;
INSERT INTO opportunity_totals (account_id, stage, region_id, n, amount)
SELECT o.account_id, o.stage, COALESCE(a.region_id, 0), COUNT(*),
       COALESCE(SUM(CASE WHEN o.stage = 'won' THEN COALESCE(o.booked_amount, o.amount) ELSE o.amount END), 0)
FROM opportunities o JOIN accounts a ON a.id = o.account_id
WHERE o.deleted_at IS NULL AND a.deleted_at IS NULL
GROUP BY o.account_id, o.stage, COALESCE(a.region_id, 0);
INSERT INTO opportunity_region_totals (region_id, stage, n, amount)
SELECT region_id, stage, SUM(n), SUM(amount) FROM opportunity_totals GROUP BY region_id, stage;
