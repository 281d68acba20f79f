-- Every change of an account's lifecycle status (issue 22; DOMAIN.md §7): a screening submitted
-- (candidate) or approved (key_account), the daily pass's automatic downgrade (fulfilment below
-- 75 %), a manual downgrade through the `ka_downgrade` flow. `reason` is a code
-- (`screening_submitted`, `screening_approved`, `fulfilment_below_75`, `manual`); `note` the
-- requester's words of a manual downgrade; `figures` the fulfilment record it was decided on
-- (JSON {due, fulfilled, rate}; credit information, shown only to those who see credit);
-- `changed_by` the username (`system` for the daily pass).
CREATE TABLE account_status_changes (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    from_status TEXT NOT NULL,
    to_status TEXT NOT NULL,
    reason TEXT NOT NULL,
    note TEXT,
    figures TEXT,
    approval_id INTEGER,
    changed_by TEXT NOT NULL,
    changed_at TEXT NOT NULL
);
CREATE INDEX account_status_changes_account ON account_status_changes(account_id, id);

-- The daily pass reads the installments due in the trailing 12 months of key accounts in one
-- aggregate: a range of due dates, covered by this index, joined to the key accounts.
CREATE INDEX receivables_due_fulfilment ON receivables(due_on, account_id, amount, paid, paid_in_full_on);
CREATE INDEX accounts_key_accounts ON accounts(id) WHERE status = 'key_account';
