-- Collection (催款, DOMAIN.md M7; issue 21): each contact about an overdue receivable — who, when,
-- how, what was said, and the customer's promise to pay (amount and day). A promise whose day
-- has passed with the receivable still owing is broken, and each broken promise raises the
-- receivable's dunning level by one.
CREATE TABLE collection_contacts (
    id INTEGER PRIMARY KEY,
    receivable_id INTEGER NOT NULL REFERENCES receivables(id),
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    contacted_on TEXT NOT NULL,
    channel TEXT NOT NULL,
    note TEXT NOT NULL,
    promised_amount INTEGER,
    promised_on TEXT,
    -- The dunning level the receivable stood at when contacted (its action's code).
    level TEXT,
    -- What the receivable had been paid when the promise was made (a kept promise adds to it).
    paid_at_contact INTEGER NOT NULL DEFAULT 0,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX collection_contacts_receivable ON collection_contacts(receivable_id, id);
CREATE INDEX collection_contacts_account ON collection_contacts(account_id, contacted_on);
