-- Merging duplicate accounts: the duplicate is soft-deleted and points at the account it was
-- merged into, so old links lead to the survivor and both histories stay readable.
ALTER TABLE accounts ADD COLUMN merged_into_id BIGINT REFERENCES accounts(id);
