-- Bulk loads through COPY (issue 26, item 6). An account or contact import streams its rows with
-- COPY on a PostgreSQL connection of its own into this table, and its transaction then moves
-- them into the real tables with one INSERT … SELECT per batch: the rows travel by COPY and
-- still land in the import's one transaction (a refused import leaves nothing behind). A row
-- here is one row of some table as text values in column order (`v`); `load_id` names the
-- load, `seq` the row within it. The loader deletes a batch's rows once landed and the rest when
-- it ends; rows a crashed process left are deleted by the next load after a day. UNLOGGED: nothing here needs to
-- survive a crash, and the WAL is spared the rows' second copy. Not part of the reporting
-- schema.
CREATE UNLOGGED TABLE bulk_stage (
    load_id BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    v TEXT[] NOT NULL,
    staged_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX bulk_stage_load ON bulk_stage (load_id, seq);
CREATE SEQUENCE bulk_stage_load_id;
