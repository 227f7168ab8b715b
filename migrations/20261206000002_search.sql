-- Full-text search over messages (SPEC §7.4). The database keeps each message's search
-- vector itself (a generated column: an edit re-indexes it, a deletion, which empties the
-- text, unindexes it). English stemming ("numbers" finds "number"); mention tokens are left
-- out of it (they are ids, not words).
ALTER TABLE chat_messages
    ADD COLUMN search tsvector GENERATED ALWAYS AS (
        to_tsvector('english', regexp_replace(text,
            '<@[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}>', ' ', 'g'))
    ) STORED;

-- Only what can be found: people's messages that are not deleted.
CREATE INDEX chat_messages_search_idx ON chat_messages USING gin (search)
    WHERE NOT deleted AND user_id IS NOT NULL;
