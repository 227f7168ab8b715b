-- Conversations people manage (SPEC §7.2): roles, mute, blocks, reports, and the change
-- version that lets a reconnecting client replay edits, deletions, renames and member changes.

-- A member's role in a group (`owner` creates; owners and admins add, remove and rename) and
-- whether they muted it (its unread messages leave their global count).
ALTER TABLE chat_members
    ADD COLUMN role  text    NOT NULL DEFAULT 'member',
    ADD COLUMN muted boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT chat_members_role CHECK (role IN ('owner', 'admin', 'member'));

-- Groups made before roles existed: their longest-standing member owns them.
UPDATE chat_members m SET role = 'owner'
  FROM (SELECT DISTINCT ON (cm.channel_id) cm.channel_id, cm.user_id
          FROM chat_members cm JOIN chat_channels c ON c.id = cm.channel_id
         WHERE c.kind = 'group'
         ORDER BY cm.channel_id, cm.joined_at, cm.user_id) o
 WHERE m.channel_id = o.channel_id AND m.user_id = o.user_id;

-- The per-channel change version: every change to what members see other than a new message
-- (an edit, a deletion, a rename, a member change) takes the channel's next version under its
-- row lock, so versions follow commit order as sequences do. `meta_version` is the version of
-- the channel's last rename or member change; a message's `version` is that of its last
-- change (0: never changed). A `resume` with a version replays, once each, the messages
-- changed after it and the channel's name and members when they changed after it.
ALTER TABLE chat_channels
    ADD COLUMN version      bigint NOT NULL DEFAULT 0,
    ADD COLUMN meta_version bigint NOT NULL DEFAULT 0;
ALTER TABLE chat_messages ADD COLUMN version bigint NOT NULL DEFAULT 0;
-- Changed messages only: most never change, and a send never touches this index.
CREATE INDEX chat_messages_changed_idx ON chat_messages (channel_id, version) WHERE version > 0;

-- Who blocks whom. Either way round, the two cannot start a 1:1 or send into theirs, and
-- neither sees the other's presence or typing.
CREATE TABLE chat_blocks (
    blocker    uuid        NOT NULL REFERENCES chat_users (id) ON DELETE CASCADE,
    blocked    uuid        NOT NULL REFERENCES chat_users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (blocker, blocked),
    CONSTRAINT chat_blocks_not_self CHECK (blocker <> blocked)
);
CREATE INDEX chat_blocks_blocked_idx ON chat_blocks (blocked, blocker);

-- Reports of messages, for the host's moderators (the server API lists them). One per person
-- per message: reporting again replaces the reason.
CREATE TABLE chat_reports (
    id         uuid        PRIMARY KEY,
    message_id uuid        NOT NULL REFERENCES chat_messages (id) ON DELETE CASCADE,
    channel_id uuid        NOT NULL REFERENCES chat_channels (id) ON DELETE CASCADE,
    reporter   uuid        NOT NULL REFERENCES chat_users (id) ON DELETE CASCADE,
    reason     text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT chat_reports_one_per_person UNIQUE (message_id, reporter),
    CONSTRAINT chat_reports_reason_length CHECK (char_length(reason) BETWEEN 1 AND 1000)
);
CREATE INDEX chat_reports_newest_idx ON chat_reports (created_at DESC, id DESC);

ALTER TABLE chat_webhook_events DROP CONSTRAINT chat_webhook_events_kind;
ALTER TABLE chat_webhook_events ADD CONSTRAINT chat_webhook_events_kind CHECK (kind IN (
    'message.new', 'message.updated', 'message.reported', 'channel.created', 'channel.updated',
    'member.added', 'member.removed'));
