//! The `messages` table: sending (sequence, insert, activity bump), history pages, edits,
//! soft deletes and 1:1 read receipts.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::model::Message;

/// Stored message columns, as every query here selects them.
#[derive(Clone)]
pub struct MessageRow {
    pub id: Uuid,
    pub channel_id: Uuid,
    pub seq: i64,
    pub user_id: Uuid,
    pub text: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted: bool,
}

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
    }
}

pub async fn find(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<MessageRow>, sqlx::Error> {
    sqlx::query_as!(
        MessageRow,
        "SELECT id, channel_id, seq, user_id, text, created_at, updated_at, deleted
           FROM messages WHERE id = $1",
        id
    )
    .fetch_optional(db)
    .await
}

/// Takes the channel's next sequence number and bumps its activity time. Run inside the send
/// transaction: the row lock it takes orders sends within one channel (commit order = seq
/// order) while sends to other channels proceed in parallel.
pub async fn next_seq(tx: &mut PgConnection, channel_id: Uuid) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        "UPDATE chat_channels
            SET last_seq = last_seq + 1, last_message_at = now(), updated_at = now()
          WHERE id = $1
      RETURNING last_seq",
        channel_id
    )
    .fetch_one(&mut *tx)
    .await
}

/// Inserts a message unless its id exists (a concurrent retry); `None` in that case.
pub async fn insert(
    tx: &mut PgConnection,
    id: Uuid,
    channel_id: Uuid,
    seq: i64,
    user_id: Uuid,
    text: &str,
) -> Result<Option<MessageRow>, sqlx::Error> {
    sqlx::query_as!(
        MessageRow,
        "INSERT INTO messages (id, channel_id, seq, user_id, text) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO NOTHING
         RETURNING id, channel_id, seq, user_id, text, created_at, updated_at, deleted",
        id,
        channel_id,
        seq,
        user_id,
        text
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
        "SELECT id, channel_id, seq, user_id, text, created_at, updated_at, deleted
           FROM messages WHERE channel_id = $1 AND seq < $2
          ORDER BY seq DESC LIMIT $3",
        channel_id,
        before,
        limit
    )
    .fetch_all(db)
    .await
}

pub async fn edit(
    db: impl PgExecutor<'_>,
    id: Uuid,
    text: &str,
) -> Result<Option<MessageRow>, sqlx::Error> {
    sqlx::query_as!(
        MessageRow,
        "UPDATE messages SET text = $2, updated_at = clock_timestamp()
          WHERE id = $1 AND NOT deleted
      RETURNING id, channel_id, seq, user_id, text, created_at, updated_at, deleted",
        id,
        text
    )
    .fetch_optional(db)
    .await
}

/// Soft delete: the row (and its place in the sequence) stays, the words do not.
pub async fn soft_delete(
    db: impl PgExecutor<'_>,
    id: Uuid,
) -> Result<Option<MessageRow>, sqlx::Error> {
    sqlx::query_as!(
        MessageRow,
        "UPDATE messages SET deleted = true, text = '', updated_at = clock_timestamp()
          WHERE id = $1
      RETURNING id, channel_id, seq, user_id, text, created_at, updated_at, deleted",
        id
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
        "UPDATE messages SET read_at = now()
          WHERE channel_id = $1 AND seq <= $3 AND user_id <> $2 AND read_at IS NULL",
        channel_id,
        reader,
        seq
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Messages with these ids (retries of sends already stored).
pub async fn find_many(
    db: impl PgExecutor<'_>,
    ids: &[Uuid],
) -> Result<Vec<MessageRow>, sqlx::Error> {
    sqlx::query_as!(
        MessageRow,
        "SELECT id, channel_id, seq, user_id, text, created_at, updated_at, deleted
           FROM messages WHERE id = ANY($1)",
        ids
    )
    .fetch_all(db)
    .await
}

/// Locks the channels' rows in id order (so concurrent batches cannot deadlock), then takes
/// `counts[i]` sequence numbers in `channel_ids[i]`; returns each channel's new `last_seq`.
pub async fn reserve_seqs(
    tx: &mut PgConnection,
    channel_ids: &[Uuid],
    counts: &[i64],
) -> Result<Vec<(Uuid, i64)>, sqlx::Error> {
    sqlx::query!(
        "SELECT id FROM chat_channels WHERE id = ANY($1) ORDER BY id FOR UPDATE",
        channel_ids
    )
    .fetch_all(&mut *tx)
    .await?;
    let rows = sqlx::query!(
        "UPDATE chat_channels c
            SET last_seq = c.last_seq + n.count, last_message_at = now(), updated_at = now()
           FROM unnest($1::uuid[], $2::int8[]) AS n(id, count)
          WHERE c.id = n.id
      RETURNING c.id, c.last_seq",
        channel_ids,
        counts
    )
    .fetch_all(&mut *tx)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.last_seq)).collect())
}

/// The columns of a batch of new messages, one entry per message.
#[derive(Default)]
pub struct NewRows {
    pub ids: Vec<Uuid>,
    pub channel_ids: Vec<Uuid>,
    pub seqs: Vec<i64>,
    pub user_ids: Vec<Uuid>,
    pub texts: Vec<String>,
}

/// Inserts a batch; rows whose id exists already (a retry racing on another instance) are
/// skipped, so fewer rows than given come back.
pub async fn insert_many(
    tx: &mut PgConnection,
    rows: &NewRows,
) -> Result<Vec<MessageRow>, sqlx::Error> {
    sqlx::query_as!(
        MessageRow,
        "INSERT INTO messages (id, channel_id, seq, user_id, text)
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::int8[], $4::uuid[], $5::text[])
         ON CONFLICT (id) DO NOTHING
         RETURNING id, channel_id, seq, user_id, text, created_at, updated_at, deleted",
        &rows.ids,
        &rows.channel_ids,
        &rows.seqs,
        &rows.user_ids,
        &rows.texts
    )
    .fetch_all(&mut *tx)
    .await
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
                m.deleted
           FROM unnest($1::uuid[], $2::int8[], $3::int8[]) AS r(channel_id, lo, hi)
           JOIN messages m ON m.channel_id = r.channel_id AND m.seq BETWEEN r.lo AND r.hi
          ORDER BY m.channel_id, m.seq",
        channel_ids,
        from,
        to
    )
    .fetch_all(db)
    .await
}

/// Up to `limit` messages after sequence `after`, oldest first.
pub async fn page_after(
    db: impl PgExecutor<'_>,
    channel_id: Uuid,
    after: i64,
    limit: i64,
) -> Result<Vec<MessageRow>, sqlx::Error> {
    sqlx::query_as!(
        MessageRow,
        "SELECT id, channel_id, seq, user_id, text, created_at, updated_at, deleted
           FROM messages WHERE channel_id = $1 AND seq > $2
          ORDER BY seq LIMIT $3",
        channel_id,
        after,
        limit
    )
    .fetch_all(db)
    .await
}
