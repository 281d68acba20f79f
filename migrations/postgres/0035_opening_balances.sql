-- Opening balances (期初导入; issue 21): orders imported from the ERP when a company starts with
-- KAM are signed at once, without the sign-off flow, and marked so (`imported_at`, when).
ALTER TABLE orders ADD COLUMN imported_at TEXT;
