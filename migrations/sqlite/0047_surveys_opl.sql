-- Satisfaction surveys and the open-points list (issue 24 items 5 and 6; seed 002 §六; DOMAIN M8).
-- The open-points list (OPL): every problem a survey, a suggestion or a service evaluation
-- raises, led by the account's KA manager (`owner_id`), reviewed every two weeks
-- (`next_review_on`). `source`: survey, suggestion, service_evaluation, manual; `source_id` the
-- record that raised it. `status`: open, in_progress, closed.
CREATE TABLE opl_items (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    source TEXT NOT NULL,
    source_id INTEGER,
    title TEXT NOT NULL,
    detail TEXT,
    owner_id INTEGER REFERENCES users(id),
    due_on TEXT,
    status TEXT NOT NULL,
    next_review_on TEXT,
    closed_at TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX opl_items_owner_review ON opl_items(owner_id, status, next_review_on);
CREATE INDEX opl_items_account ON opl_items(account_id, status);
CREATE INDEX opl_items_created ON opl_items(created_at);
CREATE INDEX opl_items_source ON opl_items(source, source_id);

-- Each review of an item: the progress, the status after it and the next review it sets.
CREATE TABLE opl_reviews (
    id INTEGER PRIMARY KEY,
    item_id INTEGER NOT NULL REFERENCES opl_items(id),
    reviewed_on TEXT NOT NULL,
    progress TEXT NOT NULL,
    status_after TEXT NOT NULL,
    next_review_on TEXT,
    reviewed_by TEXT NOT NULL,
    reviewed_at TEXT NOT NULL
);
CREATE INDEX opl_reviews_item ON opl_reviews(item_id, id);

-- A quarter's satisfaction survey ('2026-Q4'): the questionnaire and the departments asked,
-- copied from the company's setting when the campaign was opened.
CREATE TABLE survey_campaigns (
    id INTEGER PRIMARY KEY,
    quarter TEXT NOT NULL UNIQUE,
    questions TEXT NOT NULL,
    departments TEXT NOT NULL,
    state TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- One department's answers for one key account in one campaign. `channel`: staff, import, link.
CREATE TABLE survey_responses (
    id INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES survey_campaigns(id),
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    department TEXT NOT NULL,
    respondent TEXT,
    comment TEXT,
    channel TEXT NOT NULL,
    answered_at TEXT NOT NULL,
    entered_by TEXT NOT NULL,
    UNIQUE (campaign_id, account_id, department)
);
CREATE INDEX survey_responses_account ON survey_responses(account_id, campaign_id);

-- The scores of a response, with the campaign, account and department copied so the
-- aggregates are one grouped read. `pct` is the score on its scale as 0–10000 (basis points).
CREATE TABLE survey_scores (
    response_id INTEGER NOT NULL REFERENCES survey_responses(id),
    question TEXT NOT NULL,
    campaign_id INTEGER NOT NULL,
    account_id INTEGER NOT NULL,
    department TEXT NOT NULL,
    score INTEGER NOT NULL,
    scale_max INTEGER NOT NULL,
    pct INTEGER NOT NULL,
    PRIMARY KEY (response_id, question)
);
CREATE INDEX survey_scores_campaign ON survey_scores(campaign_id, account_id);

-- One-time links for a customer's contact: only the token's hash is kept; expiring, used once.
CREATE TABLE survey_links (
    id INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES survey_campaigns(id),
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    department TEXT NOT NULL,
    respondent TEXT,
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TEXT NOT NULL,
    used_at TEXT,
    response_id INTEGER REFERENCES survey_responses(id),
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX survey_links_campaign ON survey_links(campaign_id, account_id);

-- Tries of the public survey page (rate limit per client address).
CREATE TABLE survey_link_hits (
    client TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX survey_link_hits_client ON survey_link_hits(client, at);
