-- Visits and activities (DOMAIN.md M4). Times are UTC RFC 3339; `local_day` and `week` (its
-- Monday) are the owner's calendar day in their time zone when the record was written, so that
-- daily and weekly counts are the user's own days.
ALTER TABLE users ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'Asia/Shanghai';

CREATE TABLE activities (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    opportunity_id INTEGER REFERENCES opportunities(id),
    owner_id INTEGER NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    planned_at TEXT,
    occurred_at TEXT,
    ends_at TEXT,
    local_day TEXT NOT NULL,
    week TEXT NOT NULL,
    place TEXT,
    participants TEXT,
    objective TEXT,
    materials TEXT,
    talking_points TEXT,
    customer_views TEXT,
    problems TEXT,
    next_steps TEXT,
    summary TEXT,
    outcome TEXT NOT NULL DEFAULT 'none',
    customer_attitude TEXT,
    effective INTEGER NOT NULL DEFAULT 0,
    -- A visit to a key account asks for a follow-up contact by this (local) day, until a later
    -- done activity on the account answers it (`followed_up_by`).
    follow_up_due TEXT,
    followed_up_by INTEGER,
    follow_up_reminded_at TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT
);
CREATE INDEX activities_owner_week ON activities(owner_id, week, local_day, status, effective, kind) WHERE deleted_at IS NULL;
CREATE INDEX activities_account ON activities(account_id, occurred_at) WHERE deleted_at IS NULL;
CREATE INDEX activities_follow_up ON activities(owner_id, follow_up_due) WHERE follow_up_due IS NOT NULL AND followed_up_by IS NULL AND deleted_at IS NULL;
CREATE INDEX activities_opportunity ON activities(opportunity_id) WHERE opportunity_id IS NOT NULL;
CREATE INDEX activities_planned ON activities(owner_id, planned_at) WHERE planned_at IS NOT NULL AND deleted_at IS NULL;

-- The contacts met, and the attitude (supporter / neutral / opponent) the record noted for each.
CREATE TABLE activity_contacts (
    activity_id INTEGER NOT NULL REFERENCES activities(id),
    contact_id INTEGER NOT NULL REFERENCES contacts(id),
    attitude TEXT,
    PRIMARY KEY (activity_id, contact_id)
);
CREATE INDEX activity_contacts_contact ON activity_contacts(contact_id);

-- The weekly visit plan (每周工作计划表): its visits are the owner's planned activities of
-- that week; submitting it records when.
CREATE TABLE visit_plans (
    id INTEGER PRIMARY KEY,
    owner_id INTEGER NOT NULL REFERENCES users(id),
    week TEXT NOT NULL,
    status TEXT NOT NULL,
    note TEXT,
    submitted_at TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (owner_id, week)
);

-- Targets per sales type (ae: outside sales, sr: inside sales), set by the administrator.
CREATE TABLE activity_targets (
    sales_type TEXT PRIMARY KEY,
    weekly_effective INTEGER NOT NULL,
    daily_effective INTEGER NOT NULL,
    daily_calls INTEGER NOT NULL,
    follow_up_days INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL
);
