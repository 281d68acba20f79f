-- Invoices, receivables and payments (发票, 应收帐款, 收款, 冲销; DOMAIN.md M7; issue 21). A signed
-- order's payment terms become its receivables, one per installment: `scheduled` until the
-- installment's event happens (the order signed, the first invoice, the delivery, the
-- acceptance), then `open` with its due date, `paid` once payments cover it, `written_off` when
-- finance writes the rest off. A payment is allocated to receivables (oldest first or by hand);
-- what is not allocated is the customer's credit balance.
CREATE TABLE invoices (
    id INTEGER PRIMARY KEY,
    number TEXT NOT NULL,
    order_id INTEGER NOT NULL REFERENCES orders(id),
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    issued_on TEXT NOT NULL,
    -- Tax-inclusive; negative for a red-letter invoice (红字发票), which reverses `reverses_id`.
    amount INTEGER NOT NULL,
    tax INTEGER NOT NULL,
    reverses_id INTEGER REFERENCES invoices(id),
    note TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX invoices_number ON invoices(number);
CREATE INDEX invoices_order ON invoices(order_id, id);
CREATE INDEX invoices_account ON invoices(account_id, issued_on);

CREATE TABLE receivables (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    order_id INTEGER NOT NULL REFERENCES orders(id),
    owner_id INTEGER NOT NULL REFERENCES users(id),
    -- The installment's place in the order's terms, its kind, and its due rule.
    position INTEGER NOT NULL,
    kind TEXT NOT NULL,
    event TEXT NOT NULL,
    days INTEGER NOT NULL,
    amount INTEGER NOT NULL,
    -- When the event happened and the installment fell due (null while scheduled).
    event_on TEXT,
    due_on TEXT,
    paid INTEGER NOT NULL DEFAULT 0,
    written_off INTEGER NOT NULL DEFAULT 0,
    paid_in_full_on TEXT,
    state TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (order_id, position)
);
CREATE INDEX receivables_account ON receivables(account_id, due_on);
CREATE INDEX receivables_open_owner ON receivables(owner_id, due_on) WHERE state = 'open';
CREATE INDEX receivables_open_due ON receivables(due_on, id) WHERE state = 'open';

CREATE TABLE payments (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    received_on TEXT NOT NULL,
    amount INTEGER NOT NULL,
    method TEXT NOT NULL,
    reference TEXT,
    payer TEXT,
    -- What no receivable took: the customer's credit balance from this payment.
    unallocated INTEGER NOT NULL,
    note TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX payments_account ON payments(account_id, received_on);
CREATE INDEX payments_reference ON payments(reference) WHERE reference IS NOT NULL;

CREATE TABLE allocations (
    id INTEGER PRIMARY KEY,
    payment_id INTEGER NOT NULL REFERENCES payments(id),
    receivable_id INTEGER NOT NULL REFERENCES receivables(id),
    amount INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX allocations_payment ON allocations(payment_id);
CREATE INDEX allocations_receivable ON allocations(receivable_id);
