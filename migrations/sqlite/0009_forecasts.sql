-- The 4-week order forecast (001): each submission a salesperson makes is kept as it was; a
-- manager's adjustments are kept apart from it.
CREATE TABLE forecasts (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    week TEXT NOT NULL,
    submitted_at TEXT NOT NULL,
    submitted_by TEXT NOT NULL
);
CREATE INDEX forecasts_user_week ON forecasts(user_id, week, id);

CREATE TABLE forecast_lines (
    forecast_id INTEGER NOT NULL REFERENCES forecasts(id),
    target_week TEXT NOT NULL,
    commit_amount INTEGER NOT NULL,
    best_amount INTEGER NOT NULL,
    PRIMARY KEY (forecast_id, target_week)
);

CREATE TABLE forecast_adjustments (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    target_week TEXT NOT NULL,
    commit_amount INTEGER NOT NULL,
    best_amount INTEGER NOT NULL,
    reason TEXT,
    adjusted_by TEXT NOT NULL,
    adjusted_at TEXT NOT NULL
);
CREATE INDEX forecast_adjustments_user ON forecast_adjustments(user_id, target_week, id);
