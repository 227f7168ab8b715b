//! The `chat_blocks` table: who blocks whom. A block works both ways round: the two cannot
//! start a 1:1 or send into theirs, and neither sees the other's presence or typing.

use sqlx::PgExecutor;
use uuid::Uuid;

/// Records that `blocker` blocks `blocked`; `true` when it is new.
pub async fn add(
    db: impl PgExecutor<'_>,
    blocker: Uuid,
    blocked: Uuid,
) -> Result<bool, sqlx::Error> {
    let added = sqlx::query!(
        "INSERT INTO chat_blocks (blocker, blocked) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        blocker,
        blocked
    )
    .execute(db)
    .await?;
    Ok(added.rows_affected() > 0)
}

/// Lifts `blocker`'s block of `blocked`; `true` when there was one.
pub async fn remove(
    db: impl PgExecutor<'_>,
    blocker: Uuid,
    blocked: Uuid,
) -> Result<bool, sqlx::Error> {
    let removed = sqlx::query!(
        "DELETE FROM chat_blocks WHERE blocker = $1 AND blocked = $2",
        blocker,
        blocked
    )
    .execute(db)
    .await?;
    Ok(removed.rows_affected() > 0)
}

/// The people `blocker` blocks, oldest block first.
pub async fn blocked_by(db: impl PgExecutor<'_>, blocker: Uuid) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT blocked FROM chat_blocks WHERE blocker = $1 ORDER BY created_at, blocked",
        blocker
    )
    .fetch_all(db)
    .await
}

/// Whether either of the two blocks the other.
pub async fn either_way(db: impl PgExecutor<'_>, a: Uuid, b: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM chat_blocks
                           WHERE (blocker = $1 AND blocked = $2)
                              OR (blocker = $2 AND blocked = $1)) AS "blocked!""#,
        a,
        b
    )
    .fetch_one(db)
    .await
}

/// Everyone `user_id` blocks or is blocked by.
pub async fn apart_from(db: impl PgExecutor<'_>, user_id: Uuid) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT blocked AS "id!" FROM chat_blocks WHERE blocker = $1
           UNION
           SELECT blocker FROM chat_blocks WHERE blocked = $1"#,
        user_id
    )
    .fetch_all(db)
    .await
}

/// Whether `user_id` may not send into `channel_id` because it is a 1:1 whose other member
/// blocks them or is blocked by them.
pub async fn blocks_dm(
    db: impl PgExecutor<'_>,
    channel_id: Uuid,
    user_id: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (
               SELECT 1 FROM chat_channels c
                 JOIN chat_members o ON o.channel_id = c.id AND o.user_id <> $2
                 JOIN chat_blocks b ON (b.blocker = $2 AND b.blocked = o.user_id)
                                    OR (b.blocker = o.user_id AND b.blocked = $2)
                WHERE c.id = $1 AND c.kind = 'dm') AS "blocked!""#,
        channel_id,
        user_id
    )
    .fetch_one(db)
    .await
}
