-- +goose Up
-- The dashboard's own accounts: users sign in to it with a password, not
-- with an API key. Only hashes of secrets are kept: a leaked copy of the
-- database signs nobody in.

-- A user's password, as an argon2id hash in the PHC string format
-- ($argon2id$v=19$m=…,t=…,p=…$salt$key): its parameters travel with it,
-- so they can be raised later without locking anyone out. No row: the
-- user has not set a password yet (invited, not accepted).
CREATE TABLE user_passwords (
    user_id    bigint PRIMARY KEY,
    company_id bigint NOT NULL,
    hash       text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (company_id, user_id) REFERENCES users (company_id, id) ON DELETE CASCADE
);

-- The links of invitation and password reset mails: the SHA-256 of the
-- token in the link (the token is 32 random bytes: no need for a slow
-- hash), single-use (used_at), until expires_at.
CREATE TABLE password_tokens (
    token_sha256 bytea PRIMARY KEY,
    company_id   bigint NOT NULL,
    user_id      bigint NOT NULL,
    purpose      text NOT NULL CHECK (purpose IN ('invitation', 'reset')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz,
    FOREIGN KEY (company_id, user_id) REFERENCES users (company_id, id) ON DELETE CASCADE
);
CREATE INDEX password_tokens_user ON password_tokens (user_id, purpose);

-- Signed-in browsers: the SHA-256 of the cookie's token; the CSRF token
-- every form of the session carries; an idle expiry (last_seen_at) and an
-- absolute one (expires_at).
CREATE TABLE web_sessions (
    token_sha256 bytea PRIMARY KEY,
    company_id   bigint NOT NULL,
    user_id      bigint NOT NULL,
    csrf_token   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    FOREIGN KEY (company_id, user_id) REFERENCES users (company_id, id) ON DELETE CASCADE
);
CREATE INDEX web_sessions_user ON web_sessions (user_id);

-- +goose Down
DROP TABLE web_sessions;
DROP TABLE password_tokens;
DROP TABLE user_passwords;
