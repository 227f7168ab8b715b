-- Rich messages (SPEC §7.3): replies, mentions and reactions.

-- A reply quotes one earlier message of the same channel (the server checks the channel).
-- `mentions` holds the members a message's `<@user id>` tokens named when it was written or
-- last edited (see `chat_mentions`); unread counts count those that name the reader.
ALTER TABLE chat_messages
    ADD COLUMN reply_to uuid   REFERENCES chat_messages (id) ON DELETE SET NULL,
    ADD COLUMN mentions uuid[] NOT NULL DEFAULT '{}';

-- The members of `channel` that `body`'s mention tokens name: `<@` + a lowercase hyphenated
-- id + `>` (the grammar of `model::format::mention_at`), each once. A text without `<@` costs
-- a `strpos`.
CREATE FUNCTION chat_mentions(channel uuid, body text) RETURNS uuid[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN strpos(body, '<@') = 0 THEN '{}'::uuid[] ELSE coalesce((
        SELECT array_agg(DISTINCT cm.user_id)
          FROM regexp_matches(body,
                 '<@([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})>', 'g') AS t(g)
          JOIN chat_members cm ON cm.channel_id = channel AND cm.user_id = t.g[1]::uuid
    ), '{}'::uuid[]) END
$$;

-- One row per (message, emoji, person): setting a reaction twice leaves one. Counts are read
-- from here; a change bumps the channel's change version and stamps the message's, so a
-- reconnecting client gets the message's reactions as they are now.
CREATE TABLE chat_reactions (
    message_id uuid        NOT NULL REFERENCES chat_messages (id) ON DELETE CASCADE,
    emoji      text        NOT NULL,
    user_id    uuid        NOT NULL REFERENCES chat_users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (message_id, emoji, user_id),
    CONSTRAINT chat_reactions_emoji_length CHECK (octet_length(emoji) BETWEEN 1 AND 32)
);
