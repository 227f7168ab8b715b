//! Full-text search over `chat_messages` (its generated `search` vector and GIN index): the
//! messages a user may read at query time (channels they belong to, people they do not block),
//! newest first, each with its text marked where it matched.

use chrono::{DateTime, Utc};
use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

use super::messages::{message_row, MessageRow};

/// Marks `ts_headline` puts around a matching word: control characters, which message text
/// never holds (`MessageText` refuses them), so they cannot be forged by a message.
pub const MARK_START: char = '\u{2}';
pub const MARK_END: char = '\u{3}';
/// What `<` and `>` become for `ts_headline`, whose parser would otherwise drop what looks
/// like a tag (`<b>`, a mention token) from the text; turned back by the caller.
pub const LT: char = '\u{1}';
pub const GT: char = '\u{4}';

/// A message found, with the whole text marked (`MARK_START`/`MARK_END`, `LT`/`GT`).
pub struct Found {
    pub row: MessageRow,
    pub marked: String,
    pub channel_title: String,
    pub author_name: Option<String>,
}

/// Up to `limit` messages matching `words` (`websearch_to_tsquery` syntax) that `me` may read,
/// older than `before` (a message's time and id) when given, newest first.
///
/// Planned anew for each search's words, in a transaction of its own: a cached generic plan
/// cannot know how many messages the words match. Measured at 1M messages, a person in 1,000
/// channels: from the sixth run of the prepared statement PostgreSQL kept a generic plan (a
/// nested loop over the person's channels) that took 49 s for a word every message holds,
/// against 0.3 s planned for the word (BENCHMARKS.md, issue 16).
pub async fn search(
    pool: &PgPool,
    me: Uuid,
    words: &str,
    before: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<Found>, sqlx::Error> {
    let (before_at, before_id) = before.unzip();
    let mut tx = pool.begin().await?;
    // A setting, no data: nothing for the compile-time check to read.
    sqlx::raw_sql("SET LOCAL plan_cache_mode = force_custom_plan")
        .execute(&mut *tx)
        .await?;
    let swap = format!("{LT}{GT}");
    let options = format!("StartSel={MARK_START}, StopSel={MARK_END}, HighlightAll=true");
    // The inner query finds and orders (the GIN index, then the few hundred matches in my
    // channels); names and marks are made for the page only.
    let rows = sqlx::query!(
        r#"SELECT m.id, m.channel_id, m.seq, m.user_id, m.text, m.created_at, m.updated_at,
                  m.deleted, m.version, m.reply_to, m.mentions,
                  ts_headline('english', translate(m.text, '<>', $6), q.q, $7) AS "marked!",
                  CASE WHEN c.kind = 'group' AND c.name IS NOT NULL THEN c.name ELSE coalesce(
                      (SELECT string_agg(ou.display_name, ', ' ORDER BY ou.display_name)
                         FROM chat_members om JOIN chat_users ou ON ou.id = om.user_id
                        WHERE om.channel_id = c.id AND om.user_id <> $1),
                      'Just you') END AS "channel_title!",
                  u.display_name AS "author_name?"
             FROM (SELECT m.*
                     FROM chat_messages m
                     JOIN chat_members mb ON mb.channel_id = m.channel_id AND mb.user_id = $1
                    WHERE m.search @@ websearch_to_tsquery('english', $2)
                      AND NOT m.deleted AND m.user_id IS NOT NULL
                      AND NOT EXISTS (SELECT 1 FROM chat_blocks b
                                       WHERE b.blocker = $1 AND b.blocked = m.user_id)
                      AND ($3::timestamptz IS NULL OR (m.created_at, m.id) < ($3, $4::uuid))
                    ORDER BY m.created_at DESC, m.id DESC
                    LIMIT $5) m
             CROSS JOIN websearch_to_tsquery('english', $2) AS q(q)
             JOIN chat_channels c ON c.id = m.channel_id
             LEFT JOIN chat_users u ON u.id = m.user_id
            ORDER BY m.created_at DESC, m.id DESC"#,
        me,
        words,
        before_at,
        before_id,
        limit,
        swap,
        options
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows
        .into_iter()
        .map(|r| Found {
            row: message_row!(r),
            marked: r.marked,
            channel_title: r.channel_title,
            author_name: r.author_name,
        })
        .collect())
}

/// The time and id of message `id` (a search cursor), if it exists.
pub async fn cursor(
    db: impl PgExecutor<'_>,
    id: Uuid,
) -> Result<Option<(DateTime<Utc>, Uuid)>, sqlx::Error> {
    Ok(
        sqlx::query_scalar!("SELECT created_at FROM chat_messages WHERE id = $1", id)
            .fetch_optional(db)
            .await?
            .map(|at| (at, id)),
    )
}
