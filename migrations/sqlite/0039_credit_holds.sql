-- Credit holds (信用冻结, DOMAIN.md §12.5; issue 22). The credit check at an order's submission,
-- its sign-off and its delivery holds the order (kind `credit`) when the account's exposure with
-- the order goes above its credit limit, or the account's grade is red or black. The hold keeps
-- where it was placed (`credit_stage`: submit, signoff, delivery) and the figures the check saw
-- (`credit_figures`, JSON: shown to those who may see credit only); the finance manager or the KA
-- director decides it (`decision`: released, or rejected and the order cancelled).
ALTER TABLE order_holds ADD COLUMN credit_stage TEXT;
ALTER TABLE order_holds ADD COLUMN credit_figures TEXT;
ALTER TABLE order_holds ADD COLUMN decision TEXT;
-- Exposure: what the account's receivables not yet paid still owe, summed from this index alone.
CREATE INDEX receivables_exposure ON receivables(account_id, state, order_id, amount, paid, written_off);
