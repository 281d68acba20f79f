-- Budgets and spending (issue 25 item 3; seed 000 F-1 … F-9; DOMAIN.md M12) and executive
-- resource requests (高层资源支持申请表; issue 25 item 4).
--
-- A cost centre is an org unit (the KA department at HQ, each region, each branch): a budget
-- is kept per cost centre and year. `state`: draft, in_review, returned, approved, closed
-- (the year closed: no more spending). `revision`: the budget's version, one more at each
-- submission after a return; every submission's lines are kept in `budget_revisions`.
CREATE TABLE budgets (
    id INTEGER PRIMARY KEY,
    org_unit_id INTEGER NOT NULL REFERENCES org_units(id),
    year INTEGER NOT NULL,
    state TEXT NOT NULL,
    revision INTEGER NOT NULL DEFAULT 1,
    approval_id INTEGER REFERENCES approvals(id),
    drafted_by INTEGER NOT NULL REFERENCES users(id),
    note TEXT,
    approved_at TEXT,
    closed_at TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (org_unit_id, year)
);
-- A line: a category (the company's list) and a month (1-12), or the whole year (0), in fen.
CREATE TABLE budget_lines (
    id INTEGER PRIMARY KEY,
    budget_id INTEGER NOT NULL REFERENCES budgets(id),
    category TEXT NOT NULL,
    month INTEGER NOT NULL,
    amount INTEGER NOT NULL,
    UNIQUE (budget_id, category, month)
);
CREATE TABLE budget_revisions (
    id INTEGER PRIMARY KEY,
    budget_id INTEGER NOT NULL REFERENCES budgets(id),
    revision INTEGER NOT NULL,
    lines TEXT NOT NULL,
    total INTEGER NOT NULL,
    approval_id INTEGER REFERENCES approvals(id),
    submitted_by INTEGER NOT NULL REFERENCES users(id),
    submitted_at TEXT NOT NULL,
    UNIQUE (budget_id, revision)
);
-- The 质询 round: questions by a reviewer, each answered by the budget's drafter.
CREATE TABLE budget_questions (
    id INTEGER PRIMARY KEY,
    budget_id INTEGER NOT NULL REFERENCES budgets(id),
    revision INTEGER NOT NULL,
    question TEXT NOT NULL,
    asked_by INTEGER NOT NULL REFERENCES users(id),
    asked_at TEXT NOT NULL,
    answer TEXT,
    answered_by INTEGER REFERENCES users(id),
    answered_at TEXT
);
CREATE INDEX budget_questions_budget ON budget_questions(budget_id, id);
-- Spending against a cost centre's budget line. `state`: submitted (inside the line's
-- remainder, to be signed by the KA director), signed, in_approval (a `budget_exception`
-- request: outside the budget or beyond the line), approved, rejected, returned, cancelled.
CREATE TABLE spending (
    id INTEGER PRIMARY KEY,
    budget_id INTEGER NOT NULL REFERENCES budgets(id),
    org_unit_id INTEGER NOT NULL REFERENCES org_units(id),
    category TEXT NOT NULL,
    spent_on TEXT NOT NULL,
    amount INTEGER NOT NULL,
    purpose TEXT NOT NULL,
    account_id INTEGER REFERENCES accounts(id),
    state TEXT NOT NULL,
    in_budget INTEGER NOT NULL,
    approval_id INTEGER REFERENCES approvals(id),
    recorded_by INTEGER NOT NULL REFERENCES users(id),
    signed_by INTEGER REFERENCES users(id),
    signed_at TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX spending_budget ON spending(budget_id, category, state);
CREATE INDEX spending_state ON spending(state, id);
-- 高层资源支持申请表: an executive asked to support an account; approved by the KA director
-- (flow `exec_resource`), it becomes an executive visit on the account (`activity_id`).
-- `state`: in_approval, approved, rejected, returned, cancelled.
CREATE TABLE exec_requests (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    executive_id INTEGER NOT NULL REFERENCES users(id),
    purpose TEXT NOT NULL,
    expected_result TEXT NOT NULL,
    visit_on TEXT NOT NULL,
    state TEXT NOT NULL,
    approval_id INTEGER REFERENCES approvals(id),
    activity_id INTEGER REFERENCES activities(id),
    requested_by INTEGER NOT NULL REFERENCES users(id),
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX exec_requests_account ON exec_requests(account_id, visit_on);
