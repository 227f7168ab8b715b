-- Unread counts (`seq > last_read_seq AND user_id <> me AND NOT deleted`) are range scans on
-- (channel_id, seq). Carrying the sender and the deleted flag in that index lets PostgreSQL
-- count from the index alone (an index-only scan) instead of visiting every unread row in the
-- table; measured in BENCHMARKS.md (channel list). Same constraint name: the server's error
-- mapping refers to it.
ALTER TABLE messages
    DROP CONSTRAINT messages_channel_seq_key,
    ADD CONSTRAINT messages_channel_seq_key UNIQUE (channel_id, seq) INCLUDE (user_id, deleted);
