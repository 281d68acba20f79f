-- A team's open opportunities past their expected date (the home's "slipped deals" of a KA
-- manager): each owner's open deals in date order, so the team's first ones are read from a
-- few short index ranges instead of every deal of every member (closed deals fill the past).
CREATE INDEX opportunities_open_owner_close ON opportunities(owner_id, expected_close, id)
    WHERE stage IN ('identified', 'contacted', 'qualified', 'developed', 'committed') AND deleted_at IS NULL;
