-- A done contact answers its account's visits still waiting for a follow-up: the update that
-- finds them read every activity of the account (0.8 ms on an account of l3-60k, inside the
-- write). The waiting ones are few; this index holds just them, by account.
CREATE INDEX activities_awaiting_follow_up ON activities(account_id, occurred_at)
    WHERE follow_up_due IS NOT NULL AND followed_up_by IS NULL AND deleted_at IS NULL;
