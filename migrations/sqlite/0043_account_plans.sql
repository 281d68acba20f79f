-- Account plans (客户规划; issue 23, seed 004, seed 000's 重点客户销售计划模板).
-- The planning year's calendar (phase 1, set by the KA director): when preparation, drafting,
-- review and execution begin, with senior management's priorities and the guidelines.
CREATE TABLE plan_years (
    year INTEGER PRIMARY KEY,
    prepare_from TEXT NOT NULL,
    draft_from TEXT NOT NULL,
    draft_due TEXT NOT NULL,
    review_due TEXT NOT NULL,
    execute_from TEXT NOT NULL,
    priorities TEXT,
    guidelines TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- One plan per key account per year. `body` is the eight parts as JSON (domain::account_plan::
-- PlanBody); every saved version is kept whole in account_plan_versions. `tier` is the account's
-- tier when the plan was begun or last re-tiered (it sets the review cadence and the reviewer).
-- `priorities` are management's priorities and expectations for this account (phase 1);
-- `reviewer_id` who reviews it when the director names someone. `phase`: preparation,
-- drafting, review, execution. `revise_by`: the date a returned review asks the revision by.
CREATE TABLE account_plans (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    year INTEGER NOT NULL,
    owner_id INTEGER REFERENCES users(id),
    tier TEXT,
    phase TEXT NOT NULL,
    priorities TEXT,
    reviewer_id INTEGER REFERENCES users(id),
    body TEXT NOT NULL,
    submitted_at TEXT,
    accepted_at TEXT,
    revise_by TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (account_id, year)
);
CREATE INDEX account_plans_year ON account_plans(year, phase, id);
CREATE INDEX account_plans_owner ON account_plans(owner_id, year);

CREATE TABLE account_plan_versions (
    id INTEGER PRIMARY KEY,
    plan_id INTEGER NOT NULL REFERENCES account_plans(id),
    version INTEGER NOT NULL,
    body TEXT NOT NULL,
    saved_by TEXT NOT NULL,
    saved_at TEXT NOT NULL,
    UNIQUE (plan_id, version)
);

-- A plan's reviews on the cadence of its tier: one row per period ('2027' the plan's review,
-- '2027-Q1' … a strategic account's quarterly ones), due on a date. `state`: scheduled (not yet
-- asked), open (its `account_plan` request is pending), accepted, returned. The checklist's
-- answers, the actions the review sets and the date a revision is due are the reviewer's.
CREATE TABLE account_plan_reviews (
    id INTEGER PRIMARY KEY,
    plan_id INTEGER NOT NULL REFERENCES account_plans(id),
    period TEXT NOT NULL,
    cadence TEXT NOT NULL,
    due_on TEXT NOT NULL,
    state TEXT NOT NULL,
    approval_id INTEGER REFERENCES approvals(id),
    checklist TEXT,
    review_actions TEXT,
    revise_by TEXT,
    reviewed_by TEXT,
    reviewed_at TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    UNIQUE (plan_id, period)
);
CREATE INDEX account_plan_reviews_due ON account_plan_reviews(state, due_on);
CREATE INDEX account_plan_reviews_approval ON account_plan_reviews(approval_id);

-- Slipping objectives and milestones already flagged (once per item and due date).
CREATE TABLE account_plan_flags (
    plan_id INTEGER NOT NULL REFERENCES account_plans(id),
    item_key TEXT NOT NULL,
    due_on TEXT NOT NULL,
    flagged_at TEXT NOT NULL,
    PRIMARY KEY (plan_id, item_key, due_on)
);

-- Whitespace cells set by hand: the customer's business unit × our product line (a product
-- category), sold / pipeline / competitor / open, overriding what the data gives.
CREATE TABLE whitespace_cells (
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    business_unit TEXT NOT NULL,
    product_line TEXT NOT NULL,
    state TEXT NOT NULL,
    note TEXT,
    set_by TEXT NOT NULL,
    set_at TEXT NOT NULL,
    PRIMARY KEY (account_id, business_unit, product_line)
);
