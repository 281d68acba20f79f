-- Classifying and covering key accounts (DOMAIN.md M2): buying power and trailing sales, the
-- RAD class, the tier from five banded dimensions, service standards per tier, coverage.
-- `sales_12m` stays the figure RAD and the tier read: the won opportunities of the trailing
-- twelve months (`sales_12m_won`, derived) plus a figure entered or imported for sales that
-- KAM does not hold (`sales_12m_entered`, the customer's history before KAM).
ALTER TABLE accounts ADD COLUMN sales_12m_entered INTEGER;
ALTER TABLE accounts ADD COLUMN sales_12m_won INTEGER NOT NULL DEFAULT 0;
-- Σ amount of the open opportunities (derived with the funnel's totals, app/totals.rs).
ALTER TABLE accounts ADD COLUMN pipeline_open INTEGER NOT NULL DEFAULT 0;
-- Tier inputs besides sales and share: our profit margin on the customer, the payment terms
-- granted (days), and the sales expense ratio.
ALTER TABLE accounts ADD COLUMN profit_margin_bp INTEGER;
ALTER TABLE accounts ADD COLUMN payment_terms_days INTEGER;
ALTER TABLE accounts ADD COLUMN expense_ratio_bp INTEGER;
-- The weighted score in hundredths (100–500) and since when the account holds its tier.
ALTER TABLE accounts ADD COLUMN tier_score INTEGER;
ALTER TABLE accounts ADD COLUMN tier_since TEXT;
-- The latest done activity on the account (derived), and its first opportunity (activation).
ALTER TABLE accounts ADD COLUMN last_activity_at TEXT;
ALTER TABLE accounts ADD COLUMN activated_at TEXT;
UPDATE accounts SET sales_12m_entered = sales_12m;
UPDATE accounts SET last_activity_at = (SELECT MAX(occurred_at) FROM activities t
    WHERE t.account_id = accounts.id AND t.status = 'done' AND t.deleted_at IS NULL);
UPDATE accounts SET activated_at = (SELECT MIN(established_at) FROM opportunities o WHERE o.account_id = accounts.id);
UPDATE accounts SET pipeline_open = COALESCE((SELECT SUM(amount) FROM opportunity_totals t
    WHERE t.account_id = accounts.id AND t.stage NOT IN ('won', 'lost')), 0);

-- What an activity was for, as the service standards count it: an executive visit, a
-- technical exchange; any done contact is a working contact.
ALTER TABLE activities ADD COLUMN purpose TEXT;

-- Settings an administrator edits as a whole (JSON, validated by the app): 'rad', 'tiers',
-- 'service_standards'. Absent: the shipped defaults.
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);

-- Every change of an account's buying power, trailing sales, share of wallet, RAD class or
-- tier: the state after it, who or what caused it, and why.
CREATE TABLE account_class_history (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    at TEXT NOT NULL,
    by_user TEXT NOT NULL,
    reason TEXT NOT NULL,
    buying_power INTEGER,
    sales_12m INTEGER,
    sow_bp INTEGER,
    rad_class TEXT,
    tier TEXT,
    tier_score INTEGER
);
CREATE INDEX account_class_history_account ON account_class_history(account_id, at);

-- The RAD grid, the portfolios and the coverage report read these indexes alone; the lists of
-- unowned and activated accounts and the service standards have their own.
CREATE INDEX accounts_rad ON accounts(rad_class, buying_power, sales_12m, pipeline_open, region_id, branch_id) WHERE deleted_at IS NULL;
CREATE INDEX accounts_owner_rad ON accounts(owner_id, rad_class) WHERE deleted_at IS NULL;
CREATE INDEX accounts_coverage ON accounts(region_id, owner_id, inside_owner_id, last_activity_at, activated_at, buying_power, sales_12m) WHERE deleted_at IS NULL;
CREATE INDEX accounts_unowned ON accounts(owner_id, inside_owner_id, name, id) WHERE deleted_at IS NULL;
CREATE INDEX accounts_activated ON accounts(activated_at) WHERE deleted_at IS NULL;
CREATE INDEX accounts_tier ON accounts(tier, owner_id) WHERE tier IS NOT NULL AND deleted_at IS NULL;
CREATE INDEX activities_done_at ON activities(occurred_at, account_id) WHERE deleted_at IS NULL AND status = 'done';
CREATE INDEX activities_service ON activities(account_id, kind, purpose, occurred_at) WHERE deleted_at IS NULL AND status = 'done';
CREATE INDEX opportunities_won ON opportunities(booked_on, account_id) WHERE stage = 'won' AND deleted_at IS NULL;
