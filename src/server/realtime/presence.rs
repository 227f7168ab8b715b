//! The presence keeper: one task per instance that makes the stored presence match this
//! instance's sockets (one user at a time, in order, so a quick close-and-reopen can never
//! leave a connected user offline), keeps the instance's heartbeat, and sweeps instances that
//! died without saying goodbye. Changes go out on the bus to everyone who shares a channel.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::Hub;
use crate::model::Presence;
use crate::server::bus::Notice;
use crate::server::db;
use crate::server::lifecycle::Lifecycle;

/// How often the heartbeat is written.
const HEARTBEAT: Duration = Duration::from_secs(5);
/// An instance silent this long is presumed dead; its users go offline.
const STALE_SECONDS: f64 = 30.0;

pub fn start(
    pool: PgPool,
    hub: Arc<Hub>,
    instance_id: Uuid,
    lifecycle: &Lifecycle,
) -> mpsc::UnboundedSender<Uuid> {
    let (changed, mut changes) = mpsc::unbounded_channel();
    // Stopped at an await: what it was writing, `leave` rewrites at shutdown.
    lifecycle.spawn_until_stopped(async move {
        // Users whose stored presence may be out of date (a write failed, or is due).
        let mut dirty: HashSet<Uuid> = HashSet::new();
        let mut tick = tokio::time::interval(HEARTBEAT);
        loop {
            tokio::select! {
                user = changes.recv() => match user {
                    Some(user) => {
                        dirty.insert(user);
                        while let Ok(user) = changes.try_recv() {
                            dirty.insert(user);
                        }
                    }
                    None => break,
                },
                _ = tick.tick() => match beat(&pool, instance_id).await {
                    // Our rows were swept (we were unreachable): write everyone again.
                    Ok(true) => dirty.extend(hub.users()),
                    Ok(false) => {}
                    Err(e) => tracing::warn!(error = %e, "presence heartbeat failed"),
                },
            }
            let users: Vec<Uuid> = dirty.iter().copied().collect();
            for user in users {
                match sync(&pool, &hub, instance_id, user).await {
                    Ok(()) => {
                        dirty.remove(&user);
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, %user, "presence update failed; will retry");
                        break;
                    }
                }
            }
        }
    });
    changed
}

/// Heartbeat plus sweep of dead instances; `true` when this instance's row was recreated.
async fn beat(pool: &PgPool, instance_id: Uuid) -> Result<bool, sqlx::Error> {
    let recreated = db::presence::heartbeat(pool, instance_id).await?;
    let mut tx = pool.begin().await?;
    let gone = db::presence::sweep(&mut tx, STALE_SECONDS, None).await?;
    publish_all(&mut tx, gone).await?;
    tx.commit().await?;
    Ok(recreated)
}

async fn sync(
    pool: &PgPool,
    hub: &Hub,
    instance_id: Uuid,
    user_id: Uuid,
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    let connected = hub.sockets_of(user_id) > 0;
    if connected {
        // The instance row must exist before a presence row can point at it.
        db::presence::heartbeat(&mut *tx, instance_id).await?;
    }
    let changed = db::presence::sync(&mut tx, user_id, instance_id, connected).await?;
    publish_all(&mut tx, changed.into_iter().collect()).await?;
    tx.commit().await
}

async fn publish_all(
    tx: &mut sqlx::PgConnection,
    changes: Vec<Presence>,
) -> Result<(), sqlx::Error> {
    for p in changes {
        Notice::Presence {
            u: p.user_id,
            on: p.online,
            at: p.last_seen_at,
        }
        .publish(&mut *tx)
        .await?;
    }
    Ok(())
}

/// Removes this instance and its presence (graceful shutdown).
pub async fn leave(pool: &PgPool, instance_id: Uuid) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    let gone = db::presence::sweep(&mut tx, STALE_SECONDS, Some(instance_id)).await?;
    publish_all(&mut tx, gone).await?;
    tx.commit().await
}
