-- One person's next steps in due order (the home's to-do "next steps due", issue 18): the
-- home reads the first few from one index range instead of sorting all their open deals.
CREATE INDEX opportunities_owner_next_step ON opportunities(owner_id, next_step_due, id)
    WHERE next_step_due IS NOT NULL AND deleted_at IS NULL;
