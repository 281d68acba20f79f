-- Candidates by rule and the development of target accounts (issue 22 items 7 and 9; seed 002
-- §一, seed 003 §二.1). The identification criteria are a company setting (`settings` key
-- `candidate_criteria`). A proposal from the candidate list makes the account a candidate and asks
-- its owner to complete the screening; the proposal keeps which criteria the account met.
CREATE TABLE candidate_proposals (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    criteria TEXT NOT NULL,
    note TEXT,
    proposed_by TEXT NOT NULL,
    proposed_at TEXT NOT NULL
);
CREATE INDEX candidate_proposals_account ON candidate_proposals(account_id, id);

-- The development plan (大客户开发方案) of a prospect or candidate: one per account, versioned;
-- every saved version is kept whole in development_plan_versions. `competitors` and `steps`
-- are JSON arrays; a step's owner is a user id. `market_influence` and `loyalty` (1–5) are the
-- plan's assessment of the account, read by the identification criteria.
CREATE TABLE development_plans (
    account_id INTEGER PRIMARY KEY REFERENCES accounts(id),
    dev_value TEXT,
    advantages TEXT,
    method TEXT,
    competitors TEXT NOT NULL,
    steps TEXT NOT NULL,
    market_influence INTEGER,
    loyalty INTEGER,
    version INTEGER NOT NULL DEFAULT 1,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE development_plan_versions (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    version INTEGER NOT NULL,
    plan TEXT NOT NULL,
    saved_by TEXT NOT NULL,
    saved_at TEXT NOT NULL,
    UNIQUE (account_id, version)
);
