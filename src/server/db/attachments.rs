//! The `chat_attachments` table: uploads (their metadata; the bytes are in the object store),
//! attaching them to the message that sends them, what a download may serve, each user's
//! stored bytes, the sweep of uploads no message took, and the queue of files whose rows are
//! gone (`chat_attachment_garbage`, filled by a trigger).

use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::model::Attachment;

/// A new upload's row.
pub struct NewUpload<'a> {
    pub id: Uuid,
    pub user_id: Uuid,
    pub channel_id: Uuid,
    pub name: &'a str,
    pub content_type: &'a str,
    pub size: i64,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub thumbnail: bool,
    pub reencoded: bool,
}

pub async fn insert(db: impl PgExecutor<'_>, upload: &NewUpload<'_>) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO chat_attachments (id, user_id, channel_id, name, content_type, size, width,
                                       height, thumbnail, reencoded)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        upload.id,
        upload.user_id,
        upload.channel_id,
        upload.name,
        upload.content_type,
        upload.size,
        upload.width,
        upload.height,
        upload.thumbnail,
        upload.reencoded
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The bytes `user_id` has stored (attached or not), for the per-user total.
pub async fn used_bytes(db: impl PgExecutor<'_>, user_id: Uuid) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT coalesce(sum(size), 0)::int8 AS "used!" FROM chat_attachments
            WHERE user_id = $1"#,
        user_id
    )
    .fetch_one(db)
    .await
}

/// Who uploaded each of `ids`, where to, and which message took it (if any).
pub struct Owner {
    pub id: Uuid,
    pub user_id: Uuid,
    pub channel_id: Uuid,
    pub message_id: Option<Uuid>,
}

pub async fn owners(db: impl PgExecutor<'_>, ids: &[Uuid]) -> Result<Vec<Owner>, sqlx::Error> {
    sqlx::query_as!(
        Owner,
        "SELECT id, user_id, channel_id, message_id FROM chat_attachments WHERE id = ANY($1)",
        ids
    )
    .fetch_all(db)
    .await
}

/// Attaches `ids` (in that order) to a message just inserted in this transaction: only the
/// sender's own unattached uploads to the same channel are taken.
pub async fn attach(
    tx: &mut PgConnection,
    message_id: Uuid,
    user_id: Uuid,
    channel_id: Uuid,
    ids: &[Uuid],
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE chat_attachments a SET message_id = $1, position = x.ord - 1
           FROM unnest($4::uuid[]) WITH ORDINALITY AS x(id, ord)
          WHERE a.id = x.id AND a.message_id IS NULL AND a.user_id = $2 AND a.channel_id = $3",
        message_id,
        user_id,
        channel_id,
        ids
    )
    .execute(&mut *tx)
    .await?;
    Ok(done.rows_affected())
}

/// The attachments of each of `message_ids`, per message in order.
pub async fn of_messages(
    db: impl PgExecutor<'_>,
    message_ids: &[Uuid],
) -> Result<Vec<(Uuid, Attachment)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT message_id AS "message_id!", id, name, content_type, size, width, height,
                  thumbnail
             FROM chat_attachments WHERE message_id = ANY($1)
            ORDER BY message_id, position"#,
        message_ids
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.message_id,
                Attachment {
                    id: r.id,
                    name: r.name,
                    content_type: r.content_type,
                    size: r.size,
                    width: r.width,
                    height: r.height,
                    thumbnail: r.thumbnail,
                },
            )
        })
        .collect())
}

/// What a download serves: the file's metadata.
pub struct Servable {
    pub name: String,
    pub content_type: String,
    pub thumbnail: bool,
    pub reencoded: bool,
}

/// The attachment `id` if `viewer` may read it now: a member of its channel and its message
/// not deleted, or its uploader before it is sent. `None` otherwise (unknown ids alike).
pub async fn servable(
    db: impl PgExecutor<'_>,
    id: Uuid,
    viewer: Uuid,
) -> Result<Option<Servable>, sqlx::Error> {
    sqlx::query_as!(
        Servable,
        "SELECT a.name, a.content_type, a.thumbnail, a.reencoded
           FROM chat_attachments a
           LEFT JOIN chat_messages m ON m.id = a.message_id
          WHERE a.id = $1
            AND EXISTS (SELECT 1 FROM chat_members cm
                         WHERE cm.channel_id = a.channel_id AND cm.user_id = $2)
            AND CASE WHEN a.message_id IS NULL THEN a.user_id = $2 ELSE NOT m.deleted END",
        id,
        viewer
    )
    .fetch_optional(db)
    .await
}

/// Deletes up to `limit` uploads no message took within `older_than_secs`; how many. Their
/// bytes are queued as garbage by the table's trigger, as every deleted row's are.
pub async fn delete_unattached(
    db: impl PgExecutor<'_>,
    older_than_secs: f64,
    limit: i64,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        "DELETE FROM chat_attachments
          WHERE id IN (SELECT id FROM chat_attachments
                        WHERE message_id IS NULL
                          AND created_at < now() - make_interval(secs => $1)
                        ORDER BY created_at LIMIT $2)",
        older_than_secs,
        limit
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// Deletes a message's attachment rows (the message is being deleted); their bytes are queued
/// as garbage by the table's trigger.
pub async fn delete_of_message(
    db: impl PgExecutor<'_>,
    message_id: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "DELETE FROM chat_attachments WHERE message_id = $1",
        message_id
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Up to `limit` queued files whose rows are gone, oldest first, with whether each had a
/// thumbnail; locked (others skip them) until `db`'s transaction ends.
pub async fn claim_garbage(
    db: impl PgExecutor<'_>,
    limit: i64,
) -> Result<Vec<(Uuid, bool)>, sqlx::Error> {
    let rows = sqlx::query!(
        "SELECT id, thumbnail FROM chat_attachment_garbage
          ORDER BY queued_at LIMIT $1
            FOR UPDATE SKIP LOCKED",
        limit
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.thumbnail)).collect())
}

/// Forgets queued files whose bytes are deleted.
pub async fn forget_garbage(db: impl PgExecutor<'_>, ids: &[Uuid]) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "DELETE FROM chat_attachment_garbage WHERE id = ANY($1)",
        ids
    )
    .execute(db)
    .await?;
    Ok(())
}
