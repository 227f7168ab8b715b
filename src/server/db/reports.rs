//! The `chat_reports` table: members' reports of messages, for the host's moderators.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgExecutor;
use uuid::Uuid;

/// Records a report (one per person per message: a second one replaces the reason and keeps
/// the first one's id); returns its id.
pub async fn upsert(
    db: impl PgExecutor<'_>,
    message_id: Uuid,
    channel_id: Uuid,
    reporter: Uuid,
    reason: &str,
) -> Result<Uuid, sqlx::Error> {
    sqlx::query_scalar!(
        "INSERT INTO chat_reports (id, message_id, channel_id, reporter, reason)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (message_id, reporter)
         DO UPDATE SET reason = EXCLUDED.reason, created_at = now()
         RETURNING id",
        Uuid::new_v4(),
        message_id,
        channel_id,
        reporter,
        reason
    )
    .fetch_one(db)
    .await
}

/// A report as the server API lists it.
#[derive(Debug, Clone, Serialize)]
pub struct ReportRow {
    pub id: Uuid,
    pub message_id: Uuid,
    pub channel_id: Uuid,
    pub reporter: Uuid,
    pub reason: String,
    pub created_at: DateTime<Utc>,
}

/// Reports, newest first, after `offset` of them; at most `limit`.
pub async fn page(
    db: impl PgExecutor<'_>,
    offset: i64,
    limit: i64,
) -> Result<Vec<ReportRow>, sqlx::Error> {
    sqlx::query_as!(
        ReportRow,
        "SELECT id, message_id, channel_id, reporter, reason, created_at FROM chat_reports
          ORDER BY created_at DESC, id DESC OFFSET $1 LIMIT $2",
        offset,
        limit
    )
    .fetch_all(db)
    .await
}
