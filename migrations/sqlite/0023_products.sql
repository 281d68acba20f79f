-- The product catalogue (产品目录, DOMAIN.md §11.1): what quotes are made of. A product is never
-- deleted (quote lines will refer to it); it is deactivated. Prices and costs are fen; the tax
-- rate is basis points (1300 = 13 %). `floor_price` and `standard_cost` are confidential: the
-- use cases show them to the commercial, finance and director roles only.
-- `code_key` is the code in lower case (codes are unique whatever their case); `name_key` the
-- name normalised for search (`text::normalize_name`); `name_pinyin`/`name_initials` the name
-- in pinyin for search, `name_sort` its sort key (`pinyin::stored_sort_key`) — all written by
-- the use cases, which spell pinyin (SQL cannot).
CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL,
    code_key TEXT NOT NULL,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    name_pinyin TEXT NOT NULL,
    name_initials TEXT NOT NULL,
    name_sort TEXT NOT NULL,
    category TEXT,
    specification TEXT,
    unit TEXT NOT NULL,
    list_price INTEGER NOT NULL,
    floor_price INTEGER,
    tax_rate_bp INTEGER NOT NULL DEFAULT 1300,
    standard_cost INTEGER,
    active INTEGER NOT NULL DEFAULT 1,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_by TEXT NOT NULL
);
CREATE UNIQUE INDEX products_code_key ON products(code_key);
CREATE INDEX products_name_sort ON products(name_sort, id);
CREATE INDEX products_list_price ON products(list_price, id);
CREATE INDEX products_updated ON products(updated_at, id);
CREATE INDEX products_category ON products(category, id);
