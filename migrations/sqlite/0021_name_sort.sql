-- Accounts in pinyin order (issue 18, "Chinese names sorted by pinyin"): `name_sort` is the
-- name spelt in pinyin, U+0001, and the name itself (`domain::pinyin::stored_sort_key`);
-- `account_visibility.name` holds the same key from now on, so a scoped list in name order
-- stays one index range. SQL cannot spell pinyin: `Db`'s start-up backfill writes the key of
-- older rows (those where `name_sort` is NULL) and of their visibility rows.
ALTER TABLE accounts ADD COLUMN name_sort TEXT;
CREATE INDEX accounts_name_sort ON accounts(name_sort, id);
CREATE INDEX accounts_sort_pending ON accounts(id) WHERE name_sort IS NULL;
