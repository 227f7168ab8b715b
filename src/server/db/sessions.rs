//! The `sessions` table: SHA-256 of a session token → user, until it expires.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::model::User;

pub async fn insert(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
    user_id: Uuid,
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO sessions (token_hash, user_id, expires_at) VALUES ($1, $2, $3)",
        token_hash,
        user_id,
        expires_at
    )
    .execute(db)
    .await?;
    Ok(())
}

/// A live session: whose it is and until when.
pub struct LiveSession {
    pub user: User,
    pub expires_at: DateTime<Utc>,
}

/// The live (not expired, not deleted) session of a token.
pub async fn live(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
) -> Result<Option<LiveSession>, sqlx::Error> {
    let row = sqlx::query!(
        "SELECT u.id, u.username, u.display_name, s.expires_at
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = $1 AND s.expires_at > now()",
        token_hash
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| LiveSession {
        user: User {
            id: r.id,
            username: r.username,
            display_name: r.display_name,
        },
        expires_at: r.expires_at,
    }))
}

/// Deletes a session; returns its user when there was one.
pub async fn delete(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "DELETE FROM sessions WHERE token_hash = $1 RETURNING user_id",
        token_hash
    )
    .fetch_optional(db)
    .await
}

/// Deletes every session of a user ("sign out everywhere"); returns how many.
pub async fn delete_all_of(db: impl PgExecutor<'_>, user_id: Uuid) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!("DELETE FROM sessions WHERE user_id = $1", user_id)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}

/// Removes expired sessions; returns how many. (Connections of a session close by themselves
/// when it expires: each knows its session's end.)
pub async fn delete_expired(db: impl PgExecutor<'_>) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!("DELETE FROM sessions WHERE expires_at <= now()")
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}
