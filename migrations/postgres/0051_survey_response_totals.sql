-- Each survey response's total of its scores as basis points of their scales and their count
-- (issue 24): the satisfaction trend over quarters reads one row per department's answers
-- instead of one per question (8 quarters of HQ: 52,545 rows, not 315,270).
ALTER TABLE survey_responses ADD COLUMN pct_sum BIGINT NOT NULL DEFAULT 0;
ALTER TABLE survey_responses ADD COLUMN n_scores BIGINT NOT NULL DEFAULT 0;
UPDATE survey_responses SET
    pct_sum = (SELECT COALESCE(SUM(s.pct), 0) FROM survey_scores s WHERE s.response_id = survey_responses.id),
    n_scores = (SELECT COUNT(*) FROM survey_scores s WHERE s.response_id = survey_responses.id);
CREATE INDEX survey_responses_trend ON survey_responses(campaign_id, department, account_id, pct_sum, n_scores);
