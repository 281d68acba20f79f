-- KPI performance contracts (业绩合同) and team performance (issue 25 items 5–6; seed 000
-- 业绩合同 samples, seed 002 §五; docs/DOMAIN.md §16.4–16.5).
--
-- The role templates and the score cap are a company setting (`settings` key `kpi_templates`,
-- the built-in three samples while never saved). A contract per person and year: issued by
-- their manager (发约人), its indicators (category, name, measure, weight in whole percent,
-- unit, target ×100) copied from the role's template and adjustable, acknowledged by the
-- holder (受约人) and the issuer (who and when). `state`: issued, acknowledged, closed (the year
-- over, its yearly score frozen in `final_score_bp`). `bonus_base` in fen for the year.
CREATE TABLE kpi_contracts (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    year INTEGER NOT NULL,
    role TEXT NOT NULL,
    org_unit_id INTEGER NOT NULL REFERENCES org_units(id),
    issuer_id INTEGER NOT NULL REFERENCES users(id),
    indicators TEXT NOT NULL,
    veto TEXT NOT NULL,
    bonus_base INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    holder_ack_at TEXT,
    issuer_ack_by INTEGER REFERENCES users(id),
    issuer_ack_at TEXT,
    veto_hit INTEGER NOT NULL DEFAULT 0,
    veto_reason TEXT,
    veto_by INTEGER REFERENCES users(id),
    veto_at TEXT,
    final_score_bp INTEGER,
    closed_at TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (user_id, year)
);
CREATE INDEX kpi_contracts_year ON kpi_contracts(year, org_unit_id);
CREATE INDEX kpi_contracts_final ON kpi_contracts(user_id, year, final_score_bp);
-- An actual entered by the manager for an indicator KAM has no data for: a period (`2027`
-- the year, `2027-Q1` … a quarter) and a value ×100 (fen, basis points, hundredths).
CREATE TABLE kpi_actuals (
    id INTEGER PRIMARY KEY,
    contract_id INTEGER NOT NULL REFERENCES kpi_contracts(id),
    indicator TEXT NOT NULL,
    period TEXT NOT NULL,
    value INTEGER NOT NULL,
    note TEXT,
    entered_by INTEGER NOT NULL REFERENCES users(id),
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (contract_id, indicator, period)
);
-- A team's (org unit's) quarterly evaluation: the targets met (text and the share met in
-- basis points) and the next targets (text and a revenue target in fen).
CREATE TABLE kpi_team_evaluations (
    id INTEGER PRIMARY KEY,
    org_unit_id INTEGER NOT NULL REFERENCES org_units(id),
    period TEXT NOT NULL,
    targets_met TEXT NOT NULL,
    met_bp INTEGER NOT NULL,
    next_targets TEXT NOT NULL,
    next_revenue INTEGER NOT NULL,
    recorded_by INTEGER NOT NULL REFERENCES users(id),
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (org_unit_id, period)
);
-- The team coefficient (at most 1.0, in basis points: 10000 = 1.0) of a team for a quarter
-- or a year; it multiplies each member's bonus base.
CREATE TABLE kpi_coefficients (
    id INTEGER PRIMARY KEY,
    org_unit_id INTEGER NOT NULL REFERENCES org_units(id),
    period TEXT NOT NULL,
    coefficient_bp INTEGER NOT NULL,
    set_by INTEGER NOT NULL REFERENCES users(id),
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (org_unit_id, period)
);
-- Awards: `best_team` (a year's best team) or `quarterly` (a person or a team in a quarter).
CREATE TABLE kpi_awards (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    period TEXT NOT NULL,
    org_unit_id INTEGER REFERENCES org_units(id),
    user_id INTEGER REFERENCES users(id),
    title TEXT NOT NULL,
    reason TEXT,
    awarded_by INTEGER NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL
);
CREATE INDEX kpi_awards_period ON kpi_awards(period, id);
