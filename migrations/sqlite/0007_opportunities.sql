-- Opportunities and the funnel (商机管理, DOMAIN.md M3). Established (立项) with the opportunity
-- evaluation form (销售机会评估表); every stage change and every change of amount or expected
-- date is kept in opportunity_history, so the funnel can be shown as it stood on a past date.
CREATE TABLE opportunities (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    name TEXT NOT NULL,
    amount INTEGER NOT NULL,
    currency TEXT NOT NULL DEFAULT 'CNY',
    expected_close TEXT NOT NULL,
    stage TEXT NOT NULL,
    probability INTEGER NOT NULL,
    owner_id INTEGER NOT NULL REFERENCES users(id),
    products TEXT,
    business_unit TEXT,
    competitors TEXT,
    source TEXT,
    next_step TEXT,
    next_step_due TEXT,
    eval_need TEXT,
    eval_budget TEXT,
    eval_timeline TEXT,
    eval_decision_makers TEXT,
    eval_competition TEXT,
    eval_advantages TEXT,
    eval_strategy TEXT,
    booked_amount INTEGER,
    booked_on TEXT,
    lost_reason TEXT,
    lost_to TEXT,
    established_at TEXT NOT NULL,
    deleted_at TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX opportunities_account ON opportunities(account_id);
CREATE INDEX opportunities_owner ON opportunities(owner_id, stage, expected_close);
CREATE INDEX opportunities_stage ON opportunities(stage, expected_close);
CREATE INDEX opportunities_close ON opportunities(expected_close);
-- The funnel over everything: read from the index alone.
CREATE INDEX opportunities_live ON opportunities(stage, account_id, amount, booked_amount) WHERE deleted_at IS NULL;
-- The few deleted accounts, whose opportunities aggregates leave out.
CREATE INDEX accounts_deleted ON accounts(id) WHERE deleted_at IS NOT NULL;

-- The account team on an opportunity besides its owner.
CREATE TABLE opportunity_team (
    opportunity_id INTEGER NOT NULL REFERENCES opportunities(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    PRIMARY KEY (opportunity_id, user_id)
);
CREATE INDEX opportunity_team_user ON opportunity_team(user_id);

-- Exit criteria met (the stage checklist): who checked each, and when.
CREATE TABLE opportunity_checks (
    opportunity_id INTEGER NOT NULL REFERENCES opportunities(id),
    item TEXT NOT NULL,
    checked_by TEXT NOT NULL,
    checked_at TEXT NOT NULL,
    PRIMARY KEY (opportunity_id, item)
);

-- One row per change of stage, amount or expected date: the state after it.
CREATE TABLE opportunity_history (
    id INTEGER PRIMARY KEY,
    opportunity_id INTEGER NOT NULL REFERENCES opportunities(id),
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    from_stage TEXT,
    stage TEXT NOT NULL,
    amount INTEGER NOT NULL,
    expected_close TEXT NOT NULL,
    reason TEXT,
    override INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX opportunity_history_opp ON opportunity_history(opportunity_id, at, id);
CREATE INDEX opportunity_history_at ON opportunity_history(at);
