-- The credit change request (大客户信用等级变更申请表) on the seed's clock; issue 22, 003 §三.五.
-- A trigger (a downgrade, a grade the figures now give, a person's proposal, the 90-day dunning
-- level) is recorded with its date: `open` until the account's KA manager files the request
-- (`filed`), `closed` when the request ends. At most one live (open or filed) trigger per
-- account and kind. An open trigger past 2 days is escalated to the KA director once.
CREATE TABLE credit_triggers (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    kind TEXT NOT NULL,
    proposed_grade TEXT,
    note TEXT NOT NULL,
    triggered_at TEXT NOT NULL,
    state TEXT NOT NULL,
    request_id INTEGER,
    created_by TEXT NOT NULL,
    escalated_at TEXT,
    escalated_to INTEGER REFERENCES users(id),
    closed_at TEXT,
    outcome TEXT
);
CREATE UNIQUE INDEX credit_triggers_live ON credit_triggers(account_id, kind) WHERE state IN ('open', 'filed');
CREATE INDEX credit_triggers_open ON credit_triggers(state, triggered_at);

-- A filed request: the proposed grade and limit (fen), its reason, its `credit_change`
-- approval; `pending`, then `approved`, `rejected`, `returned` or `cancelled`.
CREATE TABLE credit_change_requests (
    id INTEGER PRIMARY KEY,
    trigger_id INTEGER NOT NULL REFERENCES credit_triggers(id),
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    from_grade TEXT,
    from_limit INTEGER,
    to_grade TEXT,
    to_limit INTEGER,
    reason TEXT NOT NULL,
    approval_id INTEGER,
    state TEXT NOT NULL,
    filed_by TEXT NOT NULL,
    filed_at TEXT NOT NULL,
    deadline_cap TEXT NOT NULL,
    closed_at TEXT,
    close_reason TEXT,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX credit_change_requests_approval ON credit_change_requests(approval_id);
CREATE INDEX credit_change_requests_account ON credit_change_requests(account_id, id);

-- Each change of an account's stored grade and limit, by an approved request.
CREATE TABLE credit_grade_changes (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    from_grade TEXT,
    to_grade TEXT,
    from_limit INTEGER,
    to_limit INTEGER,
    request_id INTEGER NOT NULL REFERENCES credit_change_requests(id),
    approval_id INTEGER NOT NULL,
    changed_at TEXT NOT NULL
);
CREATE INDEX credit_grade_changes_account ON credit_grade_changes(account_id, id);

-- A request's deadlines are capped here (credit changes: trigger + 10 days); null: no cap.
ALTER TABLE approvals ADD COLUMN deadline_cap TEXT;
