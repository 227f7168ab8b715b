//! The `server_instances` and `presence` tables, `users.last_seen_at`, and the bus
//! (`pg_notify`). A user is online while some live instance holds a presence row for them.

use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::model::Presence;

/// Registers or refreshes this instance's heartbeat; `true` when the row was (re)created, e.g.
/// after another instance swept it during a database outage: its presence rows are gone then.
pub async fn heartbeat(db: impl PgExecutor<'_>, instance_id: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"INSERT INTO chat_instances (id) VALUES ($1)
           ON CONFLICT (id) DO UPDATE SET heartbeat_at = now()
           RETURNING (xmax = 0) AS "inserted!""#,
        instance_id
    )
    .fetch_one(db)
    .await
}

/// Makes the stored presence of `user_id` on this instance match `connected`. Returns the
/// user's new presence when it changed service-wide (first socket anywhere, or last one gone).
pub async fn sync(
    tx: &mut PgConnection,
    user_id: Uuid,
    instance_id: Uuid,
    connected: bool,
) -> Result<Option<Presence>, sqlx::Error> {
    // Serialises presence changes of one user across instances.
    let last_seen_at = sqlx::query_scalar!(
        "SELECT last_seen_at FROM chat_users WHERE id = $1 FOR UPDATE",
        user_id
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(last_seen_at) = last_seen_at else {
        return Ok(None);
    };
    let was_online = online_anywhere(&mut *tx, user_id).await?;
    if connected {
        sqlx::query!(
            "INSERT INTO chat_presence (user_id, instance_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            user_id,
            instance_id
        )
        .execute(&mut *tx)
        .await?;
        return Ok((!was_online).then_some(Presence {
            user_id,
            online: true,
            last_seen_at,
        }));
    }
    sqlx::query!(
        "DELETE FROM chat_presence WHERE user_id = $1 AND instance_id = $2",
        user_id,
        instance_id
    )
    .execute(&mut *tx)
    .await?;
    if !was_online || online_anywhere(&mut *tx, user_id).await? {
        return Ok(None);
    }
    let seen = sqlx::query_scalar!(
        r#"UPDATE chat_users SET last_seen_at = now() WHERE id = $1 RETURNING last_seen_at AS "at!""#,
        user_id
    )
    .fetch_one(&mut *tx)
    .await?;
    Ok(Some(Presence {
        user_id,
        online: false,
        last_seen_at: Some(seen),
    }))
}

async fn online_anywhere(tx: &mut PgConnection, user_id: Uuid) -> Result<bool, sqlx::Error> {
    let row = sqlx::query_scalar!(
        r#"SELECT 1 AS "one!" FROM chat_presence WHERE user_id = $1 LIMIT 1"#,
        user_id
    )
    .fetch_optional(&mut *tx)
    .await?;
    Ok(row.is_some())
}

/// Removes instances silent for longer than `stale_seconds` (or exactly `only`, at shutdown)
/// with their presence rows; returns the users who are now offline everywhere.
pub async fn sweep(
    tx: &mut PgConnection,
    stale_seconds: f64,
    only: Option<Uuid>,
) -> Result<Vec<Presence>, sqlx::Error> {
    let users = sqlx::query_scalar!(
        "DELETE FROM chat_presence p USING chat_instances i
          WHERE p.instance_id = i.id
            AND (i.id = $2 OR ($2::uuid IS NULL
                 AND i.heartbeat_at < now() - make_interval(secs => $1)))
      RETURNING p.user_id",
        stale_seconds,
        only
    )
    .fetch_all(&mut *tx)
    .await?;
    sqlx::query!(
        "DELETE FROM chat_instances
          WHERE id = $2 OR ($2::uuid IS NULL AND heartbeat_at < now() - make_interval(secs => $1))",
        stale_seconds,
        only
    )
    .execute(&mut *tx)
    .await?;
    if users.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query!(
        r#"UPDATE chat_users u SET last_seen_at = now()
            WHERE u.id = ANY($1) AND NOT EXISTS (SELECT 1 FROM chat_presence p WHERE p.user_id = u.id)
        RETURNING u.id, u.last_seen_at AS "last_seen_at!""#,
        &users
    )
    .fetch_all(&mut *tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Presence {
            user_id: r.id,
            online: false,
            last_seen_at: Some(r.last_seen_at),
        })
        .collect())
}

/// The presence of everyone who shares a channel with `user_id`, but those either of them
/// blocks.
pub async fn of_peers(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
) -> Result<Vec<Presence>, sqlx::Error> {
    sqlx::query_as!(
        Presence,
        r#"SELECT u.id AS user_id, u.last_seen_at,
                  EXISTS (SELECT 1 FROM chat_presence p WHERE p.user_id = u.id) AS "online!"
             FROM chat_users u
            WHERE u.id IN (SELECT other.user_id FROM chat_members mine
                             JOIN chat_members other ON other.channel_id = mine.channel_id
                            WHERE mine.user_id = $1 AND other.user_id <> $1)
              AND NOT EXISTS (SELECT 1 FROM chat_blocks b
                               WHERE (b.blocker = $1 AND b.blocked = u.id)
                                  OR (b.blocker = u.id AND b.blocked = $1))"#,
        user_id
    )
    .fetch_all(db)
    .await
}

/// Publishes `payload` on the bus channel; delivered to every listener when the surrounding
/// transaction commits (at once outside one).
pub async fn notify(
    db: impl PgExecutor<'_>,
    channel: &str,
    payload: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!("SELECT pg_notify($1, $2)", channel, payload)
        .execute(db)
        .await?;
    Ok(())
}

/// One user's presence as anyone may see it.
pub async fn of_user(db: impl PgExecutor<'_>, user_id: Uuid) -> Result<Presence, sqlx::Error> {
    sqlx::query_as!(
        Presence,
        r#"SELECT u.id AS user_id, u.last_seen_at,
                  EXISTS (SELECT 1 FROM chat_presence p WHERE p.user_id = u.id) AS "online!"
             FROM chat_users u WHERE u.id = $1"#,
        user_id
    )
    .fetch_one(db)
    .await
}
