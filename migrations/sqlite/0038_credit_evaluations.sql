-- Credit evaluations (客户信用评估, seed 003 §三.3; issue 22): the scoring form marked item by
-- item (items_json: item, category, mark, weight), the customer basic information sheet
-- (info_json), notes, the score on 0–100 and the scale the items were marked on, the evaluator
-- and the day. Kept as history: the latest sets the account's credit_score; nothing is updated
-- or deleted. The required documents are attachments of kind `credit_evaluation`.
CREATE TABLE credit_evaluations (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    score INTEGER NOT NULL,
    scale_max INTEGER NOT NULL,
    items_json TEXT NOT NULL,
    info_json TEXT NOT NULL,
    notes TEXT,
    evaluated_by INTEGER NOT NULL REFERENCES users(id),
    evaluated_on TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX credit_evaluations_account ON credit_evaluations(account_id, id);
-- The credit lists: the accounts of a grade in name order.
CREATE INDEX accounts_credit_grade ON accounts(credit_grade, name_sort) WHERE deleted_at IS NULL;
