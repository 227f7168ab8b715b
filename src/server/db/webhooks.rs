//! The `chat_webhook_events` table: the webhook outbox. Events are inserted in the transaction
//! of the change that causes them; the worker (`server::webhook`) claims due ones with a lease,
//! deletes those delivered and reschedules those that failed.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgExecutor;
use uuid::Uuid;

/// Queues events (`kinds[i]` with `data[i]`), each with a new id.
pub async fn insert(
    db: impl PgExecutor<'_>,
    kinds: &[String],
    data: &[Value],
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO chat_webhook_events (id, kind, data)
         SELECT gen_random_uuid(), e.kind, e.data
           FROM unnest($1::text[], $2::jsonb[]) WITH ORDINALITY AS e(kind, data, ord)
          ORDER BY e.ord",
        kinds,
        data
    )
    .execute(db)
    .await?;
    Ok(())
}

/// An event claimed for delivery.
pub struct Claimed {
    pub id: Uuid,
    pub kind: String,
    pub data: Value,
    pub created_at: DateTime<Utc>,
    /// Tries so far, this one included.
    pub attempts: i32,
}

/// Takes up to `limit` due events, oldest first, and leases them for `lease_secs`: their next
/// try moves past the lease, so no other instance claims them while this one delivers. Rows
/// another instance is claiming at this moment are skipped, not waited for.
pub async fn claim(
    db: impl PgExecutor<'_>,
    limit: i64,
    lease_secs: f64,
) -> Result<Vec<Claimed>, sqlx::Error> {
    sqlx::query_as!(
        Claimed,
        "UPDATE chat_webhook_events e
            SET attempts = e.attempts + 1,
                next_attempt_at = now() + make_interval(secs => $2)
           FROM (SELECT id FROM chat_webhook_events
                  WHERE next_attempt_at <= now()
                  ORDER BY next_attempt_at, created_at
                  LIMIT $1
                    FOR UPDATE SKIP LOCKED) due
          WHERE e.id = due.id
      RETURNING e.id, e.kind, e.data, e.created_at, e.attempts",
        limit,
        lease_secs
    )
    .fetch_all(db)
    .await
}

/// A delivered event leaves the queue.
pub async fn delivered(db: impl PgExecutor<'_>, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM chat_webhook_events WHERE id = $1", id)
        .execute(db)
        .await?;
    Ok(())
}

/// A failed delivery is tried again after `retry_in_secs` (±20 %, so that the events of one
/// outage do not all come back at once).
pub async fn failed(
    db: impl PgExecutor<'_>,
    id: Uuid,
    retry_in_secs: f64,
    error: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE chat_webhook_events
            SET next_attempt_at = now() + make_interval(secs => $2 * (0.8 + random() * 0.4)),
                last_error = $3
          WHERE id = $1",
        id,
        retry_in_secs,
        error
    )
    .execute(db)
    .await?;
    Ok(())
}
