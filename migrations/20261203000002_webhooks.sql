-- The server API (SPEC §7.1): the webhook outbox.

-- Webhook events waiting to be delivered, written in the same transaction as the change that
-- causes them, so a committed change always has its event and a rolled-back one never does.
-- A worker on each instance claims due rows (`FOR UPDATE SKIP LOCKED`), pushes their
-- `next_attempt_at` past its delivery timeout (a lease: no other instance sends them
-- meanwhile), POSTs them, then deletes the delivered ones and gives the failed ones a later
-- `next_attempt_at` (exponential backoff). An instance that dies mid-delivery leaves its lease
-- to run out: the event is sent again (at least once; receivers drop repeats by `id`).
CREATE TABLE chat_webhook_events (
    -- The event's `id` in the body: unique, so receivers can drop repeats.
    id              uuid        PRIMARY KEY,
    kind            text        NOT NULL,
    -- What the event says: the message row as stored (`message.*`, turned into the API's
    -- message when sent), or the event's `data` as sent (the others).
    data            jsonb       NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    -- Deliveries tried so far (a claim counts as one).
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    -- Why the last try failed (a status or a connection error), for operators.
    last_error      text,
    CONSTRAINT chat_webhook_events_kind CHECK (kind IN ('message.new', 'message.updated',
        'channel.created', 'member.added', 'member.removed'))
);
-- The worker's claim: the due rows, oldest first.
CREATE INDEX chat_webhook_events_due_idx ON chat_webhook_events (next_attempt_at, created_at);
