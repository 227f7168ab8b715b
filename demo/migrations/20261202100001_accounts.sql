-- The demo host's own accounts and sessions (the chat keeps only a projection of each account,
-- keyed by its id: see the library's `chat_users`). Applied with the host's usual sqlx
-- migrations table, beside the chat's own.

CREATE TABLE demo_accounts (
    id            uuid        PRIMARY KEY,
    -- Stored lower-cased, so uniqueness is case-insensitive.
    username      text        NOT NULL,
    display_name  text        NOT NULL,
    password_hash text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT demo_accounts_username_key UNIQUE (username),
    CONSTRAINT demo_accounts_username_lower CHECK (username = lower(username))
);

-- A session is a random token held by the browser in an HttpOnly cookie; only its SHA-256 is
-- stored, so a leaked table cannot be replayed.
CREATE TABLE demo_sessions (
    token_hash bytea       PRIMARY KEY,
    account_id uuid        NOT NULL REFERENCES demo_accounts (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX demo_sessions_account_id_idx ON demo_sessions (account_id);
