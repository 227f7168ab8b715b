-- Reactions reach webhooks (`reaction.new`, `reaction.deleted`), queued in the reaction's own
-- transaction like every other event.
ALTER TABLE chat_webhook_events DROP CONSTRAINT chat_webhook_events_kind;
ALTER TABLE chat_webhook_events ADD CONSTRAINT chat_webhook_events_kind CHECK (kind IN (
    'message.new', 'message.updated', 'message.reported', 'channel.created', 'channel.updated',
    'member.added', 'member.removed', 'reaction.new', 'reaction.deleted'));
