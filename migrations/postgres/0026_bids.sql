-- Bids (投标决策) beyond 0024: the tender's documents, who decided and when, which exception
-- the decision needed (a bond above the flow's limit is kept as it was judged then), the
-- decider's reason when a bid exception was rejected or returned, and who recorded the result.
-- A negotiation round keeps the decider's reason of its escalation. The deadlines of open bids
-- by owner (questions), beside 0024's index on the submission deadline, for the home and the
-- calendar.
ALTER TABLE bids ADD COLUMN documents TEXT;
ALTER TABLE bids ADD COLUMN bond_above_limit BIGINT NOT NULL DEFAULT 0;
ALTER TABLE bids ADD COLUMN exception_reason TEXT;
ALTER TABLE bids ADD COLUMN decided_by TEXT;
ALTER TABLE bids ADD COLUMN decided_at TEXT;
ALTER TABLE bids ADD COLUMN result_by TEXT;
ALTER TABLE bids ADD COLUMN result_at TEXT;
CREATE INDEX bids_owner_questions ON bids(owner_id, questions_due) WHERE result IS NULL;
CREATE INDEX bids_updated ON bids(updated_at, id);
CREATE INDEX bids_approval ON bids(approval_id);
ALTER TABLE negotiation_rounds ADD COLUMN outcome_reason TEXT;
CREATE INDEX negotiation_rounds_approval ON negotiation_rounds(approval_id);
