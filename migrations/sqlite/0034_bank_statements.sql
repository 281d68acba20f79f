-- Bank statements (银行对账单; DOMAIN.md M7, issue 21): finance imports the bank's file (all rows
-- or none); each line gets a proposed match — an account and the receivables it would pay, found
-- by the reference or by the amount — and finance confirms it (a payment recorded and allocated,
-- `payment_id`) or ignores it with a reason.
CREATE TABLE bank_statements (
    id INTEGER PRIMARY KEY,
    file_name TEXT,
    line_count INTEGER NOT NULL,
    total INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX bank_statements_created ON bank_statements(created_at, id);

CREATE TABLE bank_statement_lines (
    id INTEGER PRIMARY KEY,
    statement_id INTEGER NOT NULL REFERENCES bank_statements(id),
    -- The file's row (1 = the header row).
    row_no INTEGER NOT NULL,
    received_on TEXT NOT NULL,
    payer TEXT,
    amount INTEGER NOT NULL,
    reference TEXT,
    -- `proposed` (a match found), `unmatched`, `confirmed`, `ignored`.
    state TEXT NOT NULL,
    -- How the match was found: `reference`, `amount` (null: none).
    match_by TEXT,
    account_id INTEGER REFERENCES accounts(id),
    -- JSON list of the receivables' ids the payment would go to (empty: oldest first).
    receivable_ids TEXT NOT NULL,
    payment_id INTEGER REFERENCES payments(id),
    ignore_reason TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    updated_by TEXT,
    updated_at TEXT NOT NULL
);
CREATE INDEX bank_statement_lines_statement ON bank_statement_lines(statement_id, row_no);
CREATE UNIQUE INDEX bank_statement_lines_payment ON bank_statement_lines(payment_id) WHERE payment_id IS NOT NULL;

-- Contract numbers are looked up by the statement matching and the opening-balance import.
CREATE INDEX orders_contract_no ON orders(contract_no) WHERE contract_no IS NOT NULL;
