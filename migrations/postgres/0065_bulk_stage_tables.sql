-- Bulk loads through COPY (issue 26, item 6), second form. Each batch of a load now gets a
-- stage table of its own (`bulk_stage_l{load}_{n}`: UNLOGGED, the batch's columns with the
-- target's types, no index), filled by COPY on the load's own connection and read once by the
-- load's transaction; the load drops its tables when it ends. This replaces the shared
-- `bulk_stage` of text arrays (0064): every value was parsed twice there (as an array element,
-- then cast), and each landed batch had to be deleted row by row.
-- `bulk_stage_loads` lists the loads running now; the tables of a load a crashed process left
-- behind are dropped by the next load after a day. Not part of the reporting schema.
DROP TABLE bulk_stage;
CREATE TABLE bulk_stage_loads (
    load_id BIGINT PRIMARY KEY,
    started_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
