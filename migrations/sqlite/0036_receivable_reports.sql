-- The aging report reads open receivables only, grouped by account or owner: a covering partial
-- index holds every column it reads, in account order (issue 21, Speed: HQ aging).
CREATE INDEX receivables_open_aging ON receivables(state, account_id, due_on, amount, paid, written_off, owner_id) WHERE state = 'open';
