-- Files whose rows are gone: a deleted message's (deleting it deletes its attachment rows), an
-- upload no message took (the sweeper), and everything deleted with a conversation or a person
-- (foreign-key cascades). A statement trigger queues each gone row's bytes here in the very
-- transaction that deleted it, whatever deleted it; the sweeper deletes the bytes from the
-- object store and then the queue rows. Nothing else reads this table.
CREATE TABLE chat_attachment_garbage (
    id        uuid        PRIMARY KEY,
    -- A thumbnail is stored beside the file.
    thumbnail boolean     NOT NULL,
    queued_at timestamptz NOT NULL DEFAULT now()
);
-- The sweeper takes the oldest first (a deleted conversation may queue many at once).
CREATE INDEX chat_attachment_garbage_queued_idx ON chat_attachment_garbage (queued_at);

CREATE FUNCTION chat_attachments_queue_garbage() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO chat_attachment_garbage (id, thumbnail)
    SELECT id, thumbnail FROM gone
    ON CONFLICT (id) DO NOTHING;
    RETURN NULL;
END;
$$;

CREATE TRIGGER chat_attachments_garbage
    AFTER DELETE ON chat_attachments
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION chat_attachments_queue_garbage();
