-- Two-factor sign-in with time-based one-time passwords (RFC 6238; issue 26 item 2,
-- app/people/two_factor.rs). `totp_secret`: the confirmed secret (base32), NULL when the user
-- has none; `totp_pending`: a secret shown for enrolment and not yet confirmed by a code;
-- `totp_last_step`: the last 30-second step a code was accepted for, so a code is used once.
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_pending TEXT;
ALTER TABLE users ADD COLUMN totp_enabled_at TEXT;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;
-- Recovery codes (their SHA-256 only), each good once.
CREATE TABLE recovery_codes (
    user_id BIGINT NOT NULL REFERENCES users(id),
    code_hash TEXT NOT NULL,
    used_at TEXT,
    PRIMARY KEY (user_id, code_hash)
);
-- A session's second factor: `done` (usable), `code` (the password was right; the one-time
-- code is awaited) or `enrol` (the user's role requires two-factor and they have none yet).
ALTER TABLE sessions ADD COLUMN second_factor TEXT NOT NULL DEFAULT 'done';
