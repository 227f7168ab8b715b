//! The `messages` table: sending (sequence, insert, activity bump), history pages, edits,
//! soft deletes and 1:1 read receipts. A message without `user_id` is a system message (the
//! server API's); unread counts never count those (`user_id <> me` is not true of NULL).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use sqlx::PgPool;

use crate::model::{Message, Quote, Reaction, MAX_REACTION_USERS};

/// Stored message columns, as every query here selects them (and as a webhook event keeps
/// them: the field names are the column names, see `store_batch`).
#[derive(Clone, Serialize, Deserialize)]
pub struct MessageRow {
    pub id: Uuid,
    pub channel_id: Uuid,
    pub seq: i64,
    /// `None` for a system message.
    pub user_id: Option<Uuid>,
    pub text: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted: bool,
    /// The channel's change version at the message's last edit or deletion (0: never
    /// changed). Rows queued for webhooks before it existed read as 0.
    #[serde(default)]
    pub version: i64,
    /// The message this one replies to (same channel).
    #[serde(default)]
    pub reply_to: Option<Uuid>,
    /// The members its mention tokens named when it was written or last edited.
    #[serde(default)]
    pub mentions: Vec<Uuid>,
}

/// A `MessageRow` from the record `$r` of a `query!` that selects the message columns under
/// their own names (each `query!` has a record type of its own, so a function cannot take
/// them). Moves only those fields: the record's other columns stay usable.
macro_rules! message_row {
    ($r:ident) => {
        $crate::server::db::messages::MessageRow {
            id: $r.id,
            channel_id: $r.channel_id,
            seq: $r.seq,
            user_id: $r.user_id,
            text: $r.text,
            created_at: $r.created_at,
            updated_at: $r.updated_at,
            deleted: $r.deleted,
            version: $r.version,
            reply_to: $r.reply_to,
            mentions: $r.mentions,
        }
    };
}
pub(crate) use message_row;

/// What anyone may see of a stored message: no text once deleted.
pub fn message_view(row: MessageRow) -> Message {
    Message {
        id: row.id,
        channel_id: row.channel_id,
        seq: row.seq,
        user_id: row.user_id,
        text: if row.deleted { String::new() } else { row.text },
        created_at: row.created_at,
        edited: !row.deleted && row.updated_at > row.created_at,
        deleted: row.deleted,
        // Loaded by `views` (a quote and reactions take queries of their own).
        reply_to: None,
        mentions: if row.deleted {
            Vec::new()
        } else {
            row.mentions
        },
        reactions: Vec::new(),
        attachments: Vec::new(),
    }
}

pub async fn find(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<MessageRow>, sqlx::Error> {
    sqlx::query_as!(
        MessageRow,
        "SELECT id, channel_id, seq, user_id, text, created_at, updated_at, deleted, version,
                reply_to, mentions
           FROM chat_messages WHERE id = $1",
        id
    )
    .fetch_optional(db)
    .await
}

/// Takes the channel's next sequence number and bumps its activity time. Run inside the send
/// transaction: the row lock it takes orders sends within one channel (commit order = seq
/// order) while sends to other channels proceed in parallel. `None`: no such channel.
pub async fn next_seq(tx: &mut PgConnection, channel_id: Uuid) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar!(
        "UPDATE chat_channels
            SET last_seq = last_seq + 1, last_message_at = now(), updated_at = now()
          WHERE id = $1
      RETURNING last_seq",
        channel_id
    )
    .fetch_optional(&mut *tx)
    .await
}

/// Inserts a message unless its id exists (a concurrent retry); `None` in that case. Without
/// `user_id` it is a system message. Its mentions are read from the text (`chat_mentions`).
pub async fn insert(
    tx: &mut PgConnection,
    id: Uuid,
    channel_id: Uuid,
    seq: i64,
    user_id: Option<Uuid>,
    text: &str,
    reply_to: Option<Uuid>,
) -> Result<Option<MessageRow>, sqlx::Error> {
    sqlx::query_as!(
        MessageRow,
        "INSERT INTO chat_messages (id, channel_id, seq, user_id, text, reply_to, mentions)
         VALUES ($1, $2, $3, $4, $5, $6, chat_mentions($2, $5))
         ON CONFLICT (id) DO NOTHING
         RETURNING id, channel_id, seq, user_id, text, created_at, updated_at, deleted, version,
                   reply_to, mentions",
        id,
        channel_id,
        seq,
        user_id,
        text,
        reply_to
    )
    .fetch_optional(&mut *tx)
    .await
}

/// Up to `limit` messages before sequence `before`, newest first.
pub async fn page_before(
    db: impl PgExecutor<'_>,
    channel_id: Uuid,
    before: i64,
    limit: i64,
) -> Result<Vec<MessageRow>, sqlx::Error> {
    sqlx::query_as!(
        MessageRow,
        "SELECT id, channel_id, seq, user_id, text, created_at, updated_at, deleted, version,
                reply_to, mentions
           FROM chat_messages WHERE channel_id = $1 AND seq < $2
          ORDER BY seq DESC LIMIT $3",
        channel_id,
        before,
        limit
    )
    .fetch_all(db)
    .await
}

/// Up to `limit` messages from sequence `from` on (`from` included), oldest first.
pub async fn page_from(
    db: impl PgExecutor<'_>,
    channel_id: Uuid,
    from: i64,
    limit: i64,
) -> Result<Vec<MessageRow>, sqlx::Error> {
    sqlx::query_as!(
        MessageRow,
        "SELECT id, channel_id, seq, user_id, text, created_at, updated_at, deleted, version,
                reply_to, mentions
           FROM chat_messages WHERE channel_id = $1 AND seq >= $2
          ORDER BY seq LIMIT $3",
        channel_id,
        from,
        limit
    )
    .fetch_all(db)
    .await
}

/// Replaces a message's text (and so its mentions); `version` is the channel's version this
/// change took.
pub async fn edit(
    db: impl PgExecutor<'_>,
    id: Uuid,
    text: &str,
    version: i64,
) -> Result<Option<MessageRow>, sqlx::Error> {
    sqlx::query_as!(
        MessageRow,
        "UPDATE chat_messages
            SET text = $2, updated_at = clock_timestamp(), version = $3,
                mentions = chat_mentions(channel_id, $2)
          WHERE id = $1 AND NOT deleted
      RETURNING id, channel_id, seq, user_id, text, created_at, updated_at, deleted, version,
                reply_to, mentions",
        id,
        text,
        version
    )
    .fetch_optional(db)
    .await
}

/// Soft delete: the row (and its place in the sequence) stays, the words do not; `version`
/// is the channel's version this change took.
pub async fn soft_delete(
    db: impl PgExecutor<'_>,
    id: Uuid,
    version: i64,
) -> Result<Option<MessageRow>, sqlx::Error> {
    sqlx::query_as!(
        MessageRow,
        "UPDATE chat_messages SET deleted = true, text = '', updated_at = clock_timestamp(),
                version = $2, mentions = '{}'
          WHERE id = $1
      RETURNING id, channel_id, seq, user_id, text, created_at, updated_at, deleted, version,
                reply_to, mentions",
        id,
        version
    )
    .fetch_optional(db)
    .await
}

/// Stamps `read_at` on the other person's messages of a 1:1 channel up to `seq`.
pub async fn mark_dm_read(
    db: impl PgExecutor<'_>,
    channel_id: Uuid,
    reader: Uuid,
    seq: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE chat_messages SET read_at = now()
          WHERE channel_id = $1 AND seq <= $3 AND user_id <> $2 AND read_at IS NULL",
        channel_id,
        reader,
        seq
    )
    .execute(db)
    .await?;
    Ok(())
}

/// A batch of sends, one entry per send, in arrival order.
#[derive(Default)]
pub struct Sends {
    pub ids: Vec<Uuid>,
    pub channel_ids: Vec<Uuid>,
    pub user_ids: Vec<Uuid>,
    pub texts: Vec<String>,
    pub reply_tos: Vec<Option<Uuid>>,
    /// Attachments, flat: upload id, the send's message id and the place among its files.
    pub attachment_ids: Vec<Uuid>,
    pub attachment_messages: Vec<Uuid>,
    pub attachment_positions: Vec<i32>,
}

/// Stores a batch of sends in **one statement** (one round trip, one implicit transaction, one
/// fsync), measured in BENCHMARKS.md to be what keeps a send's latency near the floor:
/// - ids already stored (retries) are not inserted again; they come back as stored, and the
///   caller checks that they are the same sender's in the same channel;
/// - a send whose sender is not a member of the channel is left out (no row comes back);
/// - each channel's row is locked in id order (concurrent batches cannot deadlock), its
///   `last_seq` bumped by its number of sends, which take the sequence numbers in arrival
///   order (commit order = seq order, see DESIGN.md);
/// - every sender's read mark moves to their newest message;
/// - one `NOTIFY` per 64 channels on `bus` carries the ranges and, when the payload stays
///   below PostgreSQL's 8,000-byte limit, the new rows themselves, so listeners need not
///   load them;
/// - with `webhooks`, each new row is queued as a `message.new` webhook event (its columns as
///   [`MessageRow`] reads them), in the same statement and so the same transaction;
/// - each new message takes its attachments (the sender's unattached uploads to its channel,
///   checked again here), so a message and its files become visible in one commit; a
///   retried send inserts nothing and so attaches nothing again.
///
/// An id stored concurrently by another transaction makes the whole statement fail with a
/// unique violation (nothing stored); the caller then stores the sends one at a time.
pub async fn store_batch(
    db: impl PgExecutor<'_>,
    sends: &Sends,
    bus: &str,
    webhooks: bool,
) -> Result<Vec<MessageRow>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"WITH input AS (
            SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $7::uuid[])
                WITH ORDINALITY AS i(id, channel_id, user_id, text, reply_to, ord)
        ), stored AS (
            SELECT m.id, m.channel_id, m.seq, m.user_id, m.text, m.created_at, m.updated_at,
                   m.deleted, m.version, m.reply_to, m.mentions
              FROM chat_messages m WHERE m.id IN (SELECT id FROM input)
        ), fresh AS (
            SELECT DISTINCT ON (i.id) i.*
              FROM input i
              JOIN chat_members me ON me.channel_id = i.channel_id AND me.user_id = i.user_id
             WHERE i.id NOT IN (SELECT id FROM stored)
               -- Not into a 1:1 where either person blocks the other (answered `blocked`).
               AND NOT EXISTS (
                   SELECT 1 FROM chat_channels c
                     JOIN chat_members o ON o.channel_id = c.id AND o.user_id <> i.user_id
                     JOIN chat_blocks b ON (b.blocker = i.user_id AND b.blocked = o.user_id)
                                        OR (b.blocker = o.user_id AND b.blocked = i.user_id)
                    WHERE c.id = i.channel_id AND c.kind = 'dm')
             ORDER BY i.id, i.ord
        ), counts AS (
            SELECT channel_id, count(*) AS n FROM fresh GROUP BY channel_id
        ), locked AS (
            SELECT c.id FROM chat_channels c WHERE c.id IN (SELECT channel_id FROM counts)
             ORDER BY c.id FOR NO KEY UPDATE
        ), bumped AS (
            UPDATE chat_channels c
               SET last_seq = c.last_seq + n.n, last_message_at = now(), updated_at = now()
              FROM counts n, locked l
             WHERE c.id = n.channel_id AND l.id = c.id
         RETURNING c.id, c.last_seq - n.n AS before
        ), numbered AS (
            SELECT f.id, f.channel_id, f.user_id, f.text, f.reply_to,
                   b.before + row_number() OVER (PARTITION BY f.channel_id ORDER BY f.ord) AS seq
              FROM fresh f JOIN bumped b ON b.id = f.channel_id
        ), inserted AS (
            INSERT INTO chat_messages (id, channel_id, seq, user_id, text, reply_to, mentions)
            SELECT id, channel_id, seq, user_id, text, reply_to, chat_mentions(channel_id, text)
              FROM numbered
         RETURNING id, channel_id, seq, user_id, text, created_at, updated_at, deleted, version,
                   reply_to, mentions
        ), read AS (
            UPDATE chat_members me
               SET last_read_seq = greatest(me.last_read_seq, r.seq), last_read_at = now()
              FROM (SELECT channel_id, user_id, max(seq) AS seq FROM numbered
                     GROUP BY channel_id, user_id) r
             WHERE me.channel_id = r.channel_id AND me.user_id = r.user_id
        ), ranges AS (
            SELECT (row_number() OVER (ORDER BY channel_id) - 1) / 64 AS chunk,
                   json_build_array(channel_id, min(seq), max(seq)) AS range,
                   json_agg(json_build_array(id, channel_id, seq, user_id, text, created_at,
                                             reply_to, mentions)
                            ORDER BY seq) AS rows
              FROM inserted GROUP BY channel_id
        ), notices AS (
            SELECT json_build_object('t', 'messages', 'r', json_agg(range))::text AS bare,
                   json_build_object('t', 'messages', 'r', json_agg(range),
                                     'm', json_agg(rows))::text AS with_rows
              FROM ranges GROUP BY chunk
        ), notified AS (
            SELECT pg_notify($5, CASE WHEN octet_length(with_rows) <= 7900
                                      THEN with_rows ELSE bare END)
              FROM notices
        ), hooked AS (
            -- Runs whether or not anything reads it (a data-modifying WITH always does).
            INSERT INTO chat_webhook_events (id, kind, data)
            SELECT gen_random_uuid(), 'message.new', to_jsonb(i) FROM inserted i WHERE $6
        ), attached AS (
            UPDATE chat_attachments a SET message_id = x.message_id, position = x.position
              FROM unnest($8::uuid[], $9::uuid[], $10::int4[]) AS x(id, message_id, position)
              JOIN inserted n ON n.id = x.message_id
             WHERE a.id = x.id AND a.message_id IS NULL
               AND a.user_id = n.user_id AND a.channel_id = n.channel_id
        )
        SELECT id AS "id!", channel_id AS "channel_id!", seq AS "seq!", user_id AS "user_id?",
               text AS "text!", created_at AS "created_at!", updated_at AS "updated_at!",
               deleted AS "deleted!", version AS "version!", reply_to AS "reply_to?",
               mentions AS "mentions!", (SELECT count(*) FROM notified) AS "notices!"
          FROM inserted
        UNION ALL
        SELECT id, channel_id, seq, user_id, text, created_at, updated_at, deleted, version,
               reply_to, mentions, 0
          FROM stored"#,
        &sends.ids,
        &sends.channel_ids,
        &sends.user_ids,
        &sends.texts,
        bus,
        webhooks,
        &sends.reply_tos as &[Option<Uuid>],
        &sends.attachment_ids,
        &sends.attachment_messages,
        &sends.attachment_positions
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| message_row!(r)).collect())
}

/// The messages of each range `(channel, from_seq, to_seq)`, per channel in sequence order.
pub async fn in_ranges(
    db: impl PgExecutor<'_>,
    channel_ids: &[Uuid],
    from: &[i64],
    to: &[i64],
) -> Result<Vec<MessageRow>, sqlx::Error> {
    sqlx::query_as!(
        MessageRow,
        "SELECT m.id, m.channel_id, m.seq, m.user_id, m.text, m.created_at, m.updated_at,
                m.deleted, m.version, m.reply_to, m.mentions
           FROM unnest($1::uuid[], $2::int8[], $3::int8[]) AS r(channel_id, lo, hi)
           JOIN chat_messages m ON m.channel_id = r.channel_id AND m.seq BETWEEN r.lo AND r.hi
          ORDER BY m.channel_id, m.seq",
        channel_ids,
        from,
        to
    )
    .fetch_all(db)
    .await
}

/// The messages of each range `(channel, from_seq, to_seq)`, ranges in the order given and
/// each in sequence order, stopping before the text loaded would pass `max_bytes`: a replay
/// bounded in memory whatever its rows hold. A range may come back cut short.
pub async fn replay(
    db: impl PgExecutor<'_>,
    channel_ids: &[Uuid],
    from: &[i64],
    to: &[i64],
    max_bytes: i64,
) -> Result<Vec<MessageRow>, sqlx::Error> {
    sqlx::query_as!(
        MessageRow,
        r#"SELECT id AS "id!", channel_id AS "channel_id!", seq AS "seq!",
                  user_id AS "user_id?", text AS "text!", created_at AS "created_at!",
                  updated_at AS "updated_at!", deleted AS "deleted!", version AS "version!",
                  reply_to AS "reply_to?", mentions AS "mentions!"
             FROM (SELECT m.*, r.ord,
                          sum(octet_length(m.text)) OVER (ORDER BY r.ord, m.seq) AS running
                     FROM unnest($1::uuid[], $2::int8[], $3::int8[])
                          WITH ORDINALITY AS r(channel_id, lo, hi, ord)
                     JOIN chat_messages m
                       ON m.channel_id = r.channel_id AND m.seq BETWEEN r.lo AND r.hi) x
            WHERE running <= $4
            ORDER BY ord, seq"#,
        channel_ids,
        from,
        to,
        max_bytes
    )
    .fetch_all(db)
    .await
}

/// The messages of each channel changed after a version and at or before a sequence
/// (`(channel, after version, up to seq)`): what a reconnecting client holds but has not seen
/// change, each once in its current state, per channel in version order, at most `limit` in
/// all (one more than a caller allows tells it to reset instead).
pub async fn changed_since(
    db: impl PgExecutor<'_>,
    channel_ids: &[Uuid],
    after_versions: &[i64],
    up_to_seqs: &[i64],
    limit: i64,
) -> Result<Vec<MessageRow>, sqlx::Error> {
    sqlx::query_as!(
        MessageRow,
        r#"SELECT m.id AS "id!", m.channel_id AS "channel_id!", m.seq AS "seq!",
                  m.user_id AS "user_id?", m.text AS "text!", m.created_at AS "created_at!",
                  m.updated_at AS "updated_at!", m.deleted AS "deleted!", m.version AS "version!",
                  m.reply_to AS "reply_to?", m.mentions AS "mentions!"
             FROM unnest($1::uuid[], $2::int8[], $3::int8[]) AS r(channel_id, after, upto)
             CROSS JOIN LATERAL (
                   SELECT * FROM chat_messages m
                    WHERE m.channel_id = r.channel_id AND m.version > r.after
                      AND m.version > 0 AND m.seq <= r.upto
                    ORDER BY m.version LIMIT $4) m
            ORDER BY m.channel_id, m.version
            LIMIT $4"#,
        channel_ids,
        after_versions,
        up_to_seqs,
        limit
    )
    .fetch_all(db)
    .await
}

/// Sets `user`'s reaction `emoji` on a message on or off; whether anything changed (setting
/// it on twice, or off when it is not there, changes nothing).
pub async fn set_reaction(
    tx: &mut PgConnection,
    message_id: Uuid,
    user_id: Uuid,
    emoji: &str,
    on: bool,
) -> Result<bool, sqlx::Error> {
    let changed = if on {
        sqlx::query!(
            "INSERT INTO chat_reactions (message_id, emoji, user_id) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
            message_id,
            emoji,
            user_id
        )
        .execute(&mut *tx)
        .await?
    } else {
        sqlx::query!(
            "DELETE FROM chat_reactions WHERE message_id = $1 AND emoji = $2 AND user_id = $3",
            message_id,
            emoji,
            user_id
        )
        .execute(&mut *tx)
        .await?
    };
    Ok(changed.rows_affected() > 0)
}

/// Stamps a message with the channel's change version its reactions took.
pub async fn stamp_version(
    db: impl PgExecutor<'_>,
    id: Uuid,
    version: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE chat_messages SET version = $2 WHERE id = $1",
        id,
        version
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The reactions to each of `ids`: per message, per emoji in the order it was first used,
/// the exact count and the first `MAX_REACTION_USERS` people in the order they reacted.
pub async fn reactions(
    db: impl PgExecutor<'_>,
    ids: &[Uuid],
) -> Result<Vec<(Uuid, Reaction)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT message_id, emoji, count(*) AS "count!",
                  (array_agg(user_id ORDER BY created_at, user_id))[1:$2] AS "users!"
             FROM chat_reactions WHERE message_id = ANY($1)
            GROUP BY message_id, emoji
            ORDER BY message_id, min(created_at), emoji"#,
        ids,
        MAX_REACTION_USERS as i32
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.message_id,
                Reaction {
                    emoji: r.emoji,
                    count: r.count,
                    users: r.users,
                },
            )
        })
        .collect())
}

/// The messages `ids` as replies quote them: author and the first words, no text once deleted.
pub async fn quotes(db: impl PgExecutor<'_>, ids: &[Uuid]) -> Result<Vec<Quote>, sqlx::Error> {
    sqlx::query_as!(
        Quote,
        r#"SELECT id, seq, user_id AS "user_id?", left(text, $2) AS "text!", deleted
             FROM chat_messages WHERE id = ANY($1)"#,
        ids,
        Quote::MAX_CHARS as i32
    )
    .fetch_all(db)
    .await
}

/// One stored message as members see it: [`views`] of one.
pub async fn view(db: &PgPool, row: MessageRow) -> Result<Message, sqlx::Error> {
    let (id, reply_to, reacted) = (row.id, row.reply_to, row.version > 0 && !row.deleted);
    let deleted = row.deleted;
    let mut message = message_view(row);
    if !deleted {
        message.attachments = super::attachments::of_messages(db, &[id])
            .await?
            .into_iter()
            .map(|(_, a)| a)
            .collect();
    }
    if let Some(original) = reply_to {
        message.reply_to = quotes(db, &[original]).await?.pop();
    }
    if reacted {
        message.reactions = reactions(db, &[id])
            .await?
            .into_iter()
            .map(|(_, r)| r)
            .collect();
    }
    Ok(message)
}

/// Stored messages as members see them, with what takes queries of their own: the quote of
/// each reply, the reactions of each message that ever changed (a reaction stamps the
/// message's version, so the many never changed cost no query) and the attachments (one
/// indexed query for the messages not deleted). Order is kept.
pub async fn views(db: &PgPool, rows: Vec<MessageRow>) -> Result<Vec<Message>, sqlx::Error> {
    let changed: Vec<Uuid> = rows
        .iter()
        .filter(|r| r.version > 0 && !r.deleted)
        .map(|r| r.id)
        .collect();
    let quoted: Vec<Uuid> = rows.iter().filter_map(|r| r.reply_to).collect();
    let mut reactions = if changed.is_empty() {
        Vec::new()
    } else {
        reactions(db, &changed).await?
    };
    let quotes = if quoted.is_empty() {
        Vec::new()
    } else {
        quotes(db, &quoted).await?
    };
    let shown: Vec<Uuid> = rows.iter().filter(|r| !r.deleted).map(|r| r.id).collect();
    let mut files = if shown.is_empty() {
        Vec::new()
    } else {
        super::attachments::of_messages(db, &shown).await?
    };
    Ok(rows
        .into_iter()
        .map(|row| {
            let reply_to = row
                .reply_to
                .and_then(|id| quotes.iter().find(|q| q.id == id).cloned());
            let id = row.id;
            let mut message = message_view(row);
            message.reply_to = reply_to;
            message.reactions = reactions
                .extract_if(.., |(m, _)| *m == id)
                .map(|(_, r)| r)
                .collect();
            message.attachments = files
                .extract_if(.., |(m, _)| *m == id)
                .map(|(_, a)| a)
                .collect();
            message
        })
        .collect())
}
