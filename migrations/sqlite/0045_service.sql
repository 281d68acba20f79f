-- Serving key accounts (大客户服务方案; issue 24 items 1–3, seed 003 §二.2).
-- The account's service team: members by function with their responsibilities. The team is
-- told of the account's service events and reads the account's plans.
CREATE TABLE account_service_team (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    function TEXT NOT NULL,
    responsibilities TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (account_id, user_id, function)
);
CREATE INDEX account_service_team_user ON account_service_team(user_id, account_id);

-- Service and support requests (大客户服务与支持申请表). `services` is a JSON array of the
-- services asked; `state`: draft, submitted, approved, returned, rejected. `approval_id` the
-- latest `service_request` request.
CREATE TABLE service_requests (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    applicant_id INTEGER NOT NULL REFERENCES users(id),
    applied_on TEXT NOT NULL,
    content TEXT NOT NULL,
    deeper_needs TEXT,
    needs_changes TEXT,
    organisation TEXT,
    services TEXT NOT NULL,
    state TEXT NOT NULL,
    approval_id INTEGER,
    submitted_at TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX service_requests_account ON service_requests(account_id, id);
CREATE INDEX service_requests_state ON service_requests(state, id);
CREATE INDEX service_requests_approval ON service_requests(approval_id);

-- Service events (技术交流会, 行业交流, 客户答谢, 新品发布邀请 …). `invited` and `attended` are
-- JSON arrays of the account's contacts' ids. `state`: planned, held, cancelled. Held: the
-- return visit is due on `return_due_on` (a week after), answered by the next done activity
-- of the account after `starts_at`; `return_reminded_at` once the owner was reminded.
CREATE TABLE service_events (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    place TEXT,
    invited TEXT NOT NULL,
    attended TEXT NOT NULL,
    notes TEXT,
    state TEXT NOT NULL,
    held_at TEXT,
    return_due_on TEXT,
    return_reminded_at TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX service_events_account ON service_events(account_id, starts_at);
CREATE INDEX service_events_return ON service_events(return_due_on, state);

-- The service evaluation form (大客户服务评估表) of a held event. `problems` a JSON array of
-- the problems raised (lines of text). `state`: draft, submitted, approved, returned, rejected;
-- `approval_id` the latest `service_evaluation` request.
CREATE TABLE service_evaluations (
    id INTEGER PRIMARY KEY,
    event_id INTEGER NOT NULL UNIQUE REFERENCES service_events(id),
    done TEXT NOT NULL,
    reaction TEXT,
    problems TEXT NOT NULL,
    score INTEGER NOT NULL,
    suggestions TEXT,
    state TEXT NOT NULL,
    approval_id INTEGER,
    written_by TEXT NOT NULL,
    written_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX service_evaluations_approval ON service_evaluations(approval_id);
