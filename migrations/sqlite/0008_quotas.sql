-- Quotas (销售指标) per person and per org unit per month; quarters and years are sums of months.
CREATE TABLE quotas (
    id INTEGER PRIMARY KEY,
    month TEXT NOT NULL,
    user_id INTEGER REFERENCES users(id),
    org_unit_id INTEGER REFERENCES org_units(id),
    amount INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX quotas_user_month ON quotas(user_id, month) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX quotas_org_month ON quotas(org_unit_id, month) WHERE org_unit_id IS NOT NULL;
CREATE INDEX opportunities_booked ON opportunities(owner_id, booked_on) WHERE stage = 'won';
