-- The annual KA sales plan (销售计划; issue 25 items 1–2, seed 000 C-1 … C-8, DOMAIN.md §16.1).
-- One plan per year, drafted by the KA director: `body` (JSON) holds the targets by region and
-- month for revenue and profit (fen), the resource plan (budget, people, organisation,
-- systems) and the action plan (action, owner, due date). `revision` is the plan's version
-- number: a returned plan revised is the next one; each submitted revision is kept in
-- `sales_plan_versions`. `state`: draft, in_review, returned, approved. The approved plan's
-- decomposition (region → team → person → month, JSON in `split`) generates the year's quotas;
-- `appraisal` (JSON) is the year-end appraisal per region.
CREATE TABLE sales_plans (
    id INTEGER PRIMARY KEY,
    year INTEGER NOT NULL UNIQUE,
    state TEXT NOT NULL,
    revision INTEGER NOT NULL DEFAULT 1,
    body TEXT NOT NULL,
    approval_id INTEGER REFERENCES approvals(id),
    submitted_at TEXT,
    approved_at TEXT,
    split TEXT,
    split_at TEXT,
    appraisal TEXT,
    appraised_at TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE sales_plan_versions (
    id INTEGER PRIMARY KEY,
    plan_id INTEGER NOT NULL REFERENCES sales_plans(id),
    revision INTEGER NOT NULL,
    body TEXT NOT NULL,
    approval_id INTEGER REFERENCES approvals(id),
    submitted_by TEXT NOT NULL,
    submitted_at TEXT NOT NULL,
    UNIQUE (plan_id, revision)
);
-- A quota generated from a year's plan keeps its profit target beside the revenue amount.
ALTER TABLE quotas ADD COLUMN profit INTEGER;
ALTER TABLE quotas ADD COLUMN plan_year INTEGER;
