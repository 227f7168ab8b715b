-- Accounts, sessions and the chat's channels, members and messages.
-- Constraint names are referenced by the server's error mapping: rename them together.

CREATE TABLE users (
    id            uuid        PRIMARY KEY,
    -- Stored lower-cased, so uniqueness is case-insensitive.
    username      text        NOT NULL,
    display_name  text        NOT NULL,
    password_hash text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz,
    CONSTRAINT users_username_key UNIQUE (username),
    CONSTRAINT users_username_lower CHECK (username = lower(username))
);

-- A session is a random token held by the browser in an HttpOnly cookie; only its SHA-256 is
-- stored, so a leaked table cannot be replayed.
CREATE TABLE sessions (
    token_hash bytea       PRIMARY KEY,
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);

CREATE TABLE chat_channels (
    id              uuid        PRIMARY KEY,
    kind            text        NOT NULL,
    name            text,
    -- "<lower user id>:<higher user id>" for a 1:1 channel: two concurrent "Message Bob" clicks
    -- meet on this key and yield one channel.
    dm_key          text,
    -- The per-channel message sequence; the send transaction bumps it (see DESIGN.md).
    last_seq        bigint      NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    last_message_at timestamptz,
    CONSTRAINT chat_channels_kind CHECK (kind IN ('dm', 'group')),
    CONSTRAINT chat_channels_dm_key_key UNIQUE (dm_key),
    CONSTRAINT chat_channels_dm_key_iff_dm CHECK ((kind = 'dm') = (dm_key IS NOT NULL))
);

CREATE TABLE channel_members (
    channel_id    uuid        NOT NULL REFERENCES chat_channels (id) ON DELETE CASCADE,
    user_id       uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    joined_at     timestamptz NOT NULL DEFAULT now(),
    last_read_seq bigint      NOT NULL DEFAULT 0,
    last_read_at  timestamptz,
    PRIMARY KEY (channel_id, user_id)
);
-- "My channels": a user's memberships.
CREATE INDEX channel_members_user_id_idx ON channel_members (user_id, channel_id);

CREATE TABLE messages (
    -- Chosen by the client, so a retried send is recognised and stored once.
    id         uuid        PRIMARY KEY,
    channel_id uuid        NOT NULL REFERENCES chat_channels (id) ON DELETE CASCADE,
    seq        bigint      NOT NULL,
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    text       text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted    boolean     NOT NULL DEFAULT false,
    -- When the other member of a 1:1 channel read it.
    read_at    timestamptz,
    -- History pages, "what did I miss" and unread counts are range scans on this key.
    CONSTRAINT messages_channel_seq_key UNIQUE (channel_id, seq)
);
