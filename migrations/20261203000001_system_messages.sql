-- The server API (SPEC §7.1): system messages.

-- A system message (posted by the host's backend without a `user_id`) has no author. It is
-- shown centred without one, and counts as unread for no one: every unread count compares
-- `user_id <> me`, which is never true of NULL (the covering index stays as it is).
ALTER TABLE chat_messages ALTER COLUMN user_id DROP NOT NULL;
