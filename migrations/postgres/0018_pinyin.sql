-- Account names in pinyin (docs/DOMAIN.md, "Search"): full (天成信息 → tianchengxinxi) and
-- initials (tcxx), lower case, without spaces. A search matches them as substrings, like the
-- names (the same scan); they are filled on every write and, for rows written before this
-- migration, by `Db`'s start-up backfill (SQL cannot spell pinyin), where they are NULL.
ALTER TABLE accounts ADD COLUMN name_pinyin TEXT;
ALTER TABLE accounts ADD COLUMN name_initials TEXT;
CREATE INDEX accounts_pinyin_pending ON accounts(id) WHERE name_pinyin IS NULL;
