-- The year's actuals kept by month (issue 25, DOMAIN.md §16.9): what was booked (won
-- opportunities' booked amounts, by their booking month and owner) and what was signed (the
-- margin of signed, not cancelled orders over the catalogue's standard cost and their count, by
-- the month signed (UTC) and the order's owner), per account and per region. Kept in the
-- transaction of every change that moves them (app/funnel/months.rs): an opportunity won,
-- edited, handed over or deleted; an order signed, revised or cancelled; an account moved to
-- another region or merged. Plan-against-actual and the scorecards add up these rows instead
-- of every order. `owner_id` / `region_id` 0: none.
CREATE TABLE sales_month_accounts (
    account_id BIGINT NOT NULL,
    month TEXT NOT NULL,
    owner_id BIGINT NOT NULL,
    region_id BIGINT NOT NULL,
    revenue BIGINT NOT NULL,
    profit BIGINT NOT NULL,
    orders BIGINT NOT NULL,
    PRIMARY KEY (account_id, month, owner_id)
);
CREATE TABLE sales_months (
    month TEXT NOT NULL,
    region_id BIGINT NOT NULL,
    owner_id BIGINT NOT NULL,
    revenue BIGINT NOT NULL,
    profit BIGINT NOT NULL,
    orders BIGINT NOT NULL,
    PRIMARY KEY (month, region_id, owner_id)
);
INSERT INTO sales_month_accounts (account_id, month, owner_id, region_id, revenue, profit, orders)
SELECT s.account_id, s.month, s.owner_id, COALESCE(a.region_id, 0), SUM(s.revenue), SUM(s.profit), SUM(s.n)
FROM (
    SELECT account_id, SUBSTR(booked_on, 1, 7) AS month, COALESCE(owner_id, 0) AS owner_id,
           booked_amount AS revenue, 0 AS profit, 0 AS n
    FROM opportunities
    WHERE stage = 'won' AND deleted_at IS NULL AND booked_on IS NOT NULL AND booked_amount IS NOT NULL
    UNION ALL
    SELECT o.account_id, SUBSTR(o.signed_at, 1, 7), COALESCE(o.owner_id, 0), 0, v.total_excl - v.cost, 1
    FROM orders o JOIN order_versions v ON v.order_id = o.id AND v.version_no = o.signed_version
    WHERE o.signed_version IS NOT NULL AND o.state <> 'cancelled' AND o.signed_at IS NOT NULL
) s JOIN accounts a ON a.id = s.account_id
GROUP BY s.account_id, s.month, s.owner_id, COALESCE(a.region_id, 0);
INSERT INTO sales_months (month, region_id, owner_id, revenue, profit, orders)
SELECT month, region_id, owner_id, SUM(revenue), SUM(profit), SUM(orders) FROM sales_month_accounts
GROUP BY month, region_id, owner_id;

-- The scorecards' effective visits of a period, counted per owner from this year's done,
-- effective ones alone.
CREATE INDEX activities_effective_day ON activities(local_day, owner_id)
    WHERE deleted_at IS NULL AND status = 'done' AND effective = 1;
