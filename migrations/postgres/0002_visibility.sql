-- Who may see which account, derived from account_access (owners and team), the manager chain
-- above them, and the branch/region managers whose org subtree holds the account. One row per
-- (user, account); `name` mirrors accounts.name so a scoped list is one ordered index range.
CREATE TABLE account_visibility (
    user_id BIGINT NOT NULL,
    account_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (user_id, account_id)
);
CREATE INDEX account_visibility_by_name ON account_visibility(user_id, name, account_id);
CREATE INDEX account_visibility_account ON account_visibility(account_id);
