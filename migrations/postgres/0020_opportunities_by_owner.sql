-- One person's opportunities in the list's orders (most recently updated first; by expected
-- close date): the list filtered by owner reads the first page from one index range and probes
-- each row's scope, instead of sorting every opportunity the caller sees (issue 18).
CREATE INDEX opportunities_owner_updated ON opportunities(owner_id, updated_at, id);
CREATE INDEX opportunities_owner_close ON opportunities(owner_id, expected_close, id);
