-- Which opportunities each rep (the roles whose reach is their own: ka_rep, inside_sales) may
-- see: those of the accounts they see, those they own, those whose team they are on. One row
-- per (rep, opportunity), ordered by the expected close date, so a rep's opportunity list in its
-- default order is one index range instead of sorting every opportunity the rep sees on each
-- request (about 1,500 for an inside salesperson of l3-60k). Derived: app/visibility.rs
-- rewrites the rows of an opportunity or of an account in the transaction that changes them.
CREATE TABLE opportunity_visibility (
    user_id INTEGER NOT NULL,
    expected_close TEXT NOT NULL,
    opportunity_id INTEGER NOT NULL,
    PRIMARY KEY (user_id, expected_close, opportunity_id)
) WITHOUT ROWID;

INSERT INTO opportunity_visibility (user_id, expected_close, opportunity_id)
SELECT v.user_id, o.expected_close, o.id FROM account_visibility v
    JOIN users u ON u.id = v.user_id JOIN opportunities o ON o.account_id = v.account_id
    WHERE o.deleted_at IS NULL AND u.role IN ('ka_rep', 'inside_sales')
UNION
SELECT o.owner_id, o.expected_close, o.id FROM opportunities o JOIN users u ON u.id = o.owner_id
    WHERE o.deleted_at IS NULL AND u.role IN ('ka_rep', 'inside_sales')
UNION
SELECT t.user_id, o.expected_close, o.id FROM opportunity_team t
    JOIN opportunities o ON o.id = t.opportunity_id JOIN users u ON u.id = t.user_id
    WHERE o.deleted_at IS NULL AND u.role IN ('ka_rep', 'inside_sales');

CREATE INDEX opportunity_visibility_opportunity ON opportunity_visibility(opportunity_id);
