//! The bus between server instances: PostgreSQL `NOTIFY` on commit, one `LISTEN` connection
//! per instance (`realtime::listener`). What travels on it ([`Notice`]) is ids and sequences,
//! and new messages when they fit. Used by the store, the chat logic and realtime; uses only
//! `db` and `model`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgExecutor;
use uuid::Uuid;

use super::db;

/// The `LISTEN`/`NOTIFY` channel every instance shares.
pub const BUS: &str = "parley_events";

/// A new message as a `messages` notice carries it: id, channel, seq, sender (none for a
/// system message), text, time, the message it replies to, whom it mentions.
pub type NoticeRow = (
    Uuid,
    Uuid,
    i64,
    Option<Uuid>,
    String,
    DateTime<Utc>,
    Option<Uuid>,
    Vec<Uuid>,
);

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
    /// A message was edited or deleted, taking the channel's change version `v`.
    Updated {
        c: Uuid,
        id: Uuid,
        #[serde(default)]
        v: i64,
    },
    /// A member's read mark moved, or they muted or unmuted the channel.
    Read { c: Uuid, u: Uuid },
    /// A channel was created.
    Channel { c: Uuid },
    /// Channel `c`'s members or name changed, taking its change version `v`: every instance
    /// forgets the member list it cached, so those who left get none of its later events
    /// (`channel_removed` instead, and their SSE streams of it end), those who joined get
    /// `channel_added`, and every member `channel_updated`. At most `MAX_MEMBERS` ids in all.
    Members {
        c: Uuid,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        added: Vec<Uuid>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        removed: Vec<Uuid>,
        #[serde(default)]
        v: i64,
    },
    /// `u` blocked or unblocked `o`: `u`'s tabs get their block list, and each of the two the
    /// other's presence as they may now see it.
    Blocks { u: Uuid, o: Uuid },
    Presence {
        u: Uuid,
        on: bool,
        at: Option<DateTime<Utc>>,
    },
    /// `u` is typing in `c`; not shown to `h` (those who block `u` or whom `u` blocks).
    Typing {
        c: Uuid,
        u: Uuid,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        h: Vec<Uuid>,
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
