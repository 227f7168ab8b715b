-- The chat's schema. Every table is prefixed `chat_` and these migrations are recorded in their
-- own table (`chat_migrations`), so they live beside a host app's tables and migrations.
-- Constraint names are referenced by the server's error mapping: rename them together.

-- The chat's projection of the host's people: its own uuid (what messages and memberships
-- refer to), the host's id for the person, their names as the host last gave them.
CREATE TABLE chat_users (
    id            uuid        PRIMARY KEY,
    external_id   text        NOT NULL,
    username      text        NOT NULL,
    display_name  text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz,
    CONSTRAINT chat_users_external_id_key UNIQUE (external_id),
    CONSTRAINT chat_users_external_id_length CHECK (char_length(external_id) BETWEEN 1 AND 128)
);

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

CREATE TABLE chat_members (
    channel_id    uuid        NOT NULL REFERENCES chat_channels (id) ON DELETE CASCADE,
    user_id       uuid        NOT NULL REFERENCES chat_users (id) ON DELETE CASCADE,
    joined_at     timestamptz NOT NULL DEFAULT now(),
    last_read_seq bigint      NOT NULL DEFAULT 0,
    last_read_at  timestamptz,
    PRIMARY KEY (channel_id, user_id)
);
-- "My channels": a user's memberships.
CREATE INDEX chat_members_user_id_idx ON chat_members (user_id, channel_id);

CREATE TABLE chat_messages (
    -- Chosen by the client, so a retried send is recognised and stored once.
    id         uuid        PRIMARY KEY,
    channel_id uuid        NOT NULL REFERENCES chat_channels (id) ON DELETE CASCADE,
    seq        bigint      NOT NULL,
    user_id    uuid        NOT NULL REFERENCES chat_users (id) ON DELETE CASCADE,
    text       text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted    boolean     NOT NULL DEFAULT false,
    -- When the other member of a 1:1 channel read it.
    read_at    timestamptz,
    -- History pages, "what did I miss" and unread counts are range scans on this key. Unread
    -- counts (`seq > last_read_seq AND user_id <> me AND NOT deleted`) carry the sender and the
    -- deleted flag in it, so PostgreSQL counts from the index alone (an index-only scan);
    -- measured in BENCHMARKS.md (channel list).
    CONSTRAINT chat_messages_channel_seq_key UNIQUE (channel_id, seq) INCLUDE (user_id, deleted)
);

-- Realtime: which server instances are alive, and which users hold sockets on which of them.
-- A user is online while any live instance has a row for them; `chat_users.last_seen_at` is
-- stamped when the last row goes.
CREATE TABLE chat_instances (
    id           uuid        PRIMARY KEY,
    started_at   timestamptz NOT NULL DEFAULT now(),
    -- Bumped every few seconds; an instance silent for long is presumed dead and swept.
    heartbeat_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE chat_presence (
    user_id     uuid NOT NULL REFERENCES chat_users (id) ON DELETE CASCADE,
    instance_id uuid NOT NULL REFERENCES chat_instances (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, instance_id)
);
CREATE INDEX chat_presence_instance_id_idx ON chat_presence (instance_id);
