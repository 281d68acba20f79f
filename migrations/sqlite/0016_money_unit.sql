-- How the user reads amounts on pages: 'yuan' (1,280,000.00) or 'wan' (128.00 万元). Forms and
-- the API are not affected; exports are in yuan.
ALTER TABLE users ADD COLUMN money_unit TEXT NOT NULL DEFAULT 'yuan';
