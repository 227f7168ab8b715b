//! Realtime delivery: PostgreSQL is the bus between server instances (`NOTIFY` on commit, one
//! `LISTEN` connection per instance), each instance fans events out to its own WebSockets and
//! SSE streams through a hub, and sends are stored by a group-commit writer. May use `db`,
//! `chat` and `model`; the HTTP layer reaches it through [`Chat`](super::Chat).

pub mod hub;
mod listener;
mod presence;
pub mod sse;
pub mod writer;
pub mod ws;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgExecutor, PgPool};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::db;
pub use hub::Hub;
pub use writer::Writer;

/// The `LISTEN`/`NOTIFY` channel every instance shares.
pub const BUS: &str = "parley_events";

/// A new message as a `messages` notice carries it: id, channel, seq, sender, text, time.
pub type NoticeRow = (Uuid, Uuid, i64, Uuid, String, DateTime<Utc>);

/// What travels on the bus: ids and sequences, and new messages when they fit in the payload.
/// Listeners load the rest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum Notice {
    /// New messages: `(channel, first seq, last seq)` per channel (at most 64 channels per
    /// notice), and the rows themselves, per channel, when the payload stays below
    /// PostgreSQL's 8,000-byte limit. Written by `db::messages::store_batch`.
    Messages {
        r: Vec<(Uuid, i64, i64)>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        m: Vec<Vec<NoticeRow>>,
    },
    /// A message was edited or deleted.
    Updated {
        c: Uuid,
        id: Uuid,
    },
    /// A member's read mark moved.
    Read {
        c: Uuid,
        u: Uuid,
    },
    /// A channel was created.
    Channel {
        c: Uuid,
    },
    Presence {
        u: Uuid,
        on: bool,
        at: Option<DateTime<Utc>>,
    },
    Typing {
        c: Uuid,
        u: Uuid,
    },
    /// A session of user `u` ended (signed out, revoked): the one the host names `s`, or every
    /// session of `u` when absent. Their connections close with 4001.
    SessionEnded {
        u: Uuid,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        s: Option<String>,
    },
}

impl Notice {
    /// Publishes on the bus; inside a transaction it is delivered when (and only if) it commits.
    pub async fn publish(&self, db: impl PgExecutor<'_>) -> Result<(), sqlx::Error> {
        // Plain data: serializing cannot fail.
        let payload = serde_json::to_string(self).unwrap_or_default();
        db::presence::notify(db, BUS, &payload).await
    }
}

/// This instance's realtime machinery. Cheap to clone.
#[derive(Clone)]
pub struct Realtime {
    pub hub: Arc<Hub>,
    pub writer: Writer,
    pub instance_id: Uuid,
    presence: mpsc::UnboundedSender<Uuid>,
}

impl Realtime {
    /// Starts the writer, the bus listener and the presence keeper on the current runtime.
    pub fn start(pool: PgPool) -> Self {
        let hub = Arc::new(Hub::default());
        let instance_id = Uuid::new_v4();
        let writer = Writer::start(pool.clone());
        let presence = presence::start(pool.clone(), hub.clone(), instance_id);
        listener::start(pool, hub.clone());
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
