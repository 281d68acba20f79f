-- A create form's one-time token (`_once`, issued when the form is shown). The first post that
-- saves writes (user, token → the page of what it created) in the same transaction; the same
-- form posted again (Back, then submit) creates nothing and goes to that page. Kept 24 hours.
CREATE TABLE form_tokens (
    user_id BIGINT NOT NULL REFERENCES users(id),
    token TEXT NOT NULL,
    target TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, token)
);
CREATE INDEX form_tokens_created ON form_tokens(created_at);
