-- Attachments (SPEC §7.4): one row per uploaded file. The bytes live in the object store
-- (`server::attachments`) under keys made from `id`, which the server generates: never a path
-- or name a user chose. An upload starts unattached (`message_id` NULL); the send that names
-- it sets `message_id` in the statement that stores the message, so the two become visible
-- together. Unattached uploads older than an hour (configurable) are deleted by a sweeper.
CREATE TABLE chat_attachments (
    id           uuid        PRIMARY KEY,
    -- The uploader; only they may attach it, and only to a message of `channel_id`.
    user_id      uuid        NOT NULL REFERENCES chat_users (id) ON DELETE CASCADE,
    channel_id   uuid        NOT NULL REFERENCES chat_channels (id) ON DELETE CASCADE,
    message_id   uuid        REFERENCES chat_messages (id) ON DELETE CASCADE,
    -- Its place among the message's attachments (0, 1, …).
    position     int         NOT NULL DEFAULT 0,
    -- The file name as given, for display and `Content-Disposition` only (never a key).
    name         text        NOT NULL,
    -- Sniffed from the bytes, never taken from the name or a header.
    content_type text        NOT NULL,
    size         bigint      NOT NULL,
    width        int,
    height       int,
    -- A thumbnail is stored beside it (images).
    thumbnail    boolean     NOT NULL DEFAULT false,
    -- The stored bytes are our own re-encoding (metadata dropped): served inline.
    reencoded    boolean     NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT chat_attachments_name_length CHECK (char_length(name) BETWEEN 1 AND 255),
    CONSTRAINT chat_attachments_size CHECK (size >= 0)
);
-- A message's attachments, in order (history pages and live events load them by message).
CREATE INDEX chat_attachments_message_idx ON chat_attachments (message_id, position)
    WHERE message_id IS NOT NULL;
-- The sweeper's scan of old unattached uploads.
CREATE INDEX chat_attachments_unattached_idx ON chat_attachments (created_at)
    WHERE message_id IS NULL;
-- A user's stored bytes (the per-user total limit).
CREATE INDEX chat_attachments_user_idx ON chat_attachments (user_id);
