-- Customer suggestions (大客户建议处理流程; issue 24, seed 003 §一.3, DOMAIN.md M10). A
-- suggestion is received (in person, by phone, web or email), recorded with thanks and
-- classified; its report (cause, feasibility) goes through the `suggestion` flow — the KA
-- department manager, the departments concerned in parallel (`departments`: the roles picked,
-- each with its own deadline in days, as JSON), the marketing director, the general manager —
-- then it is carried out and answered to the customer by `reply_due` with the feedback form.
-- `state`: received, in_review, returned, approved, rejected, done (carried out), replied.
-- `overdue_flagged_at`: when the KA department manager was told its reply is late (once).
CREATE TABLE suggestions (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    channel TEXT NOT NULL,
    category TEXT NOT NULL,
    received_on TEXT NOT NULL,
    received_by INTEGER REFERENCES users(id),
    contact_id INTEGER REFERENCES contacts(id),
    content TEXT NOT NULL,
    thanks TEXT,
    cause TEXT,
    feasibility TEXT,
    departments TEXT,
    reply_due TEXT NOT NULL,
    state TEXT NOT NULL,
    approval_id INTEGER REFERENCES approvals(id),
    execution TEXT,
    executed_at TEXT,
    reply TEXT,
    replied_at TEXT,
    replied_by INTEGER REFERENCES users(id),
    feedback_score INTEGER,
    feedback TEXT,
    overdue_flagged_at TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX suggestions_account ON suggestions(account_id, received_on);
CREATE INDEX suggestions_open ON suggestions(state, reply_due);
