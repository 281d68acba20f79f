-- The regional resource pool: accounts without an owner; claimed_at marks an account a rep
-- took from the pool (the per-rep claim limit counts these).
ALTER TABLE accounts ADD COLUMN claimed_at TEXT;
CREATE INDEX accounts_pool ON accounts(region_id, name) WHERE owner_id IS NULL AND inside_owner_id IS NULL AND deleted_at IS NULL;
