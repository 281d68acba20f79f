-- Parallel steps in the approval engine (issue 24): a run of steps marked `parallel` in a flow
-- opens together, each with its own deciders and deadline, and the request moves on once every
-- one of them is approved. `grp` is the position of the first step of the step's run (the
-- step's own position when it runs alone); rows written before this migration have none and
-- run alone.
ALTER TABLE approval_steps ADD COLUMN grp BIGINT;
