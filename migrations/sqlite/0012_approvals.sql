-- One approval engine (DOMAIN.md M5). A flow definition is data (ordered steps: the deciding
-- role, where it is resolved, a deadline in days) and versioned: a request keeps the version it
-- started with. Notifications go out through an outbox, claimed row by row, so that with several
-- servers on one database each is sent once; failures are retried and shown to the admin.
CREATE TABLE flow_definitions (
    id INTEGER PRIMARY KEY,
    flow TEXT NOT NULL,
    version INTEGER NOT NULL,
    definition TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (flow, version)
);

CREATE TABLE approvals (
    id INTEGER PRIMARY KEY,
    flow TEXT NOT NULL,
    flow_version INTEGER NOT NULL,
    subject_type TEXT NOT NULL,
    subject_id INTEGER NOT NULL,
    subject_label TEXT NOT NULL,
    -- The subject's region and owner, against which the steps' roles are resolved.
    region_id INTEGER,
    subject_owner_id INTEGER,
    requested_by INTEGER NOT NULL REFERENCES users(id),
    state TEXT NOT NULL,
    current_step INTEGER,
    -- The subject's decisive fields when it was asked for (an amount, a grade, a score).
    decisive TEXT NOT NULL,
    payload TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    closed_at TEXT
);
CREATE INDEX approvals_subject ON approvals(subject_type, subject_id);
CREATE INDEX approvals_requested_by ON approvals(requested_by, state);
CREATE INDEX approvals_open ON approvals(state) WHERE state = 'pending';

CREATE TABLE approval_steps (
    id INTEGER PRIMARY KEY,
    approval_id INTEGER NOT NULL REFERENCES approvals(id),
    position INTEGER NOT NULL,
    role TEXT NOT NULL,
    scope TEXT NOT NULL,
    days INTEGER NOT NULL,
    state TEXT NOT NULL,
    opened_at TEXT,
    due_at TEXT,
    decided_by INTEGER REFERENCES users(id),
    decided_as TEXT,
    decided_at TEXT,
    decision TEXT,
    comment TEXT,
    escalated_at TEXT,
    reminded_at TEXT,
    escalated_to INTEGER REFERENCES users(id),
    extended_by INTEGER REFERENCES users(id),
    extended_days INTEGER,
    UNIQUE (approval_id, position)
);
CREATE INDEX approval_steps_due ON approval_steps(due_at) WHERE state = 'open' AND escalated_at IS NULL;

-- While away: `delegate_id` decides for `user_id` from `starts_on` to `ends_on` (dates).
CREATE TABLE delegations (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    delegate_id INTEGER NOT NULL REFERENCES users(id),
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX delegations_delegate ON delegations(delegate_id, ends_on);

-- In-app notifications, and how each user wants them delivered besides.
ALTER TABLE users ADD COLUMN notify_email INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN webhook_url TEXT;
ALTER TABLE users ADD COLUMN notify_webhook INTEGER NOT NULL DEFAULT 0;

CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    approval_id INTEGER REFERENCES approvals(id),
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    read_at TEXT
);
CREATE INDEX notifications_user ON notifications(user_id, read_at);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    notification_id INTEGER NOT NULL REFERENCES notifications(id),
    channel TEXT NOT NULL,
    target TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    claimed_by TEXT,
    claimed_until TEXT,
    last_error TEXT,
    sent_at TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (notification_id, channel)
);
CREATE INDEX outbox_pending ON outbox(next_attempt_at) WHERE state = 'pending';

-- Key-account screening (003 §一.1): every submitted version of the form is kept.
CREATE TABLE screenings (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    version INTEGER NOT NULL,
    form TEXT NOT NULL,
    risk_score INTEGER NOT NULL,
    approval_id INTEGER REFERENCES approvals(id),
    submitted_by INTEGER NOT NULL REFERENCES users(id),
    submitted_at TEXT NOT NULL,
    UNIQUE (account_id, version)
);
