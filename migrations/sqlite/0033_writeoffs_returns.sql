-- Bad-debt write-offs (坏账核销) and returns (退货); DOMAIN.md §12.3, issue 21.
-- A write-off asks to write off part or all of what an open receivable still owes, with a
-- reason, through the approval flow `bad_debt_writeoff`: `pending` while its request runs (its
-- amount is reserved: no second write-off beyond what is owed), then `approved` (the
-- receivable's `written_off` grows), `rejected`, `returned` or `cancelled` (nothing changes).
CREATE TABLE writeoffs (
    id INTEGER PRIMARY KEY,
    receivable_id INTEGER NOT NULL REFERENCES receivables(id),
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    order_id INTEGER NOT NULL REFERENCES orders(id),
    amount INTEGER NOT NULL,
    reason TEXT NOT NULL,
    state TEXT NOT NULL,
    approval_id INTEGER,
    requested_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    closed_at TEXT
);
CREATE INDEX writeoffs_receivable ON writeoffs(receivable_id, state);
CREATE INDEX writeoffs_approval ON writeoffs(approval_id);
CREATE INDEX writeoffs_account ON writeoffs(account_id, id);

-- A return (退货) of delivered goods: quantities of the order's lines (by position in the
-- version in force), a reason and a day. Its value (each line's share of the line amount) is
-- taken off the receivables at once as far as it was not yet invoiced (`reduced`); the rest
-- (`to_credit`) is for finance's red-letter invoice, which names the return (`invoices.return_id`)
-- and takes its amount off the order's receivables.
CREATE TABLE order_returns (
    id INTEGER PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    order_id INTEGER NOT NULL REFERENCES orders(id),
    order_version INTEGER NOT NULL,
    returned_on TEXT NOT NULL,
    reason TEXT NOT NULL,
    value INTEGER NOT NULL,
    reduced INTEGER NOT NULL,
    to_credit INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX order_returns_order ON order_returns(order_id, id);

CREATE TABLE order_return_lines (
    id INTEGER PRIMARY KEY,
    return_id INTEGER NOT NULL REFERENCES order_returns(id),
    position INTEGER NOT NULL,
    description TEXT NOT NULL,
    unit TEXT NOT NULL,
    -- Thousandths of a unit.
    quantity INTEGER NOT NULL,
    amount INTEGER NOT NULL
);
CREATE INDEX order_return_lines_return ON order_return_lines(return_id, position);

ALTER TABLE invoices ADD COLUMN return_id INTEGER REFERENCES order_returns(id);
-- What returns and their red-letter invoices took off the receivable's amount (the amount as
-- planned is amount + credited).
ALTER TABLE receivables ADD COLUMN credited INTEGER NOT NULL DEFAULT 0;
