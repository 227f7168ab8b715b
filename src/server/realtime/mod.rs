//! Realtime delivery: PostgreSQL is the bus between server instances (`NOTIFY` on commit, one
//! `LISTEN` connection per instance), each instance fans events out to its own WebSockets and
//! SSE streams through a hub, and sends are stored by a group-commit writer. May use `db`,
//! `chat` and `model`; the HTTP layer reaches it through [`Chat`](super::Chat).

pub mod hub;
mod listener;
mod presence;
pub mod sse;
pub mod ws;

use std::sync::Arc;

use sqlx::PgPool;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::lifecycle::Lifecycle;
use super::store::Writer;
use super::webhook::Outbox;
pub use hub::Hub;

/// This instance's realtime machinery. Cheap to clone.
#[derive(Clone)]
pub struct Realtime {
    pub hub: Arc<Hub>,
    pub writer: Writer,
    pub instance_id: Uuid,
    presence: mpsc::UnboundedSender<Uuid>,
}

impl Realtime {
    /// Starts the writer (queuing webhook events in `outbox`), the bus listener and the
    /// presence keeper on the current runtime, under the chat's lifecycle.
    pub fn start(pool: PgPool, outbox: Outbox, lifecycle: &Lifecycle) -> Self {
        let hub = Arc::new(Hub::default());
        let instance_id = Uuid::new_v4();
        let writer = Writer::start(pool.clone(), outbox, lifecycle);
        let presence = presence::start(pool.clone(), hub.clone(), instance_id, lifecycle);
        listener::start(pool, hub.clone(), lifecycle);
        tracing::info!(%instance_id, "realtime started");
        Self {
            hub,
            writer,
            instance_id,
            presence,
        }
    }

    /// A WebSocket of `user_id` opened or closed: bring their presence up to date.
    pub fn presence_changed(&self, user_id: Uuid) {
        // The keeper lives as long as the runtime; a send can only fail during shutdown.
        let _ = self.presence.send(user_id);
    }

    /// Takes this instance's presence out of the database (at shutdown): its users who have no
    /// socket elsewhere become offline with `last_seen_at` now.
    pub async fn shut_down(&self, pool: &PgPool) {
        if let Err(e) = presence::leave(pool, self.instance_id).await {
            tracing::warn!(error = %e, "could not clear this instance's presence");
        }
    }
}
