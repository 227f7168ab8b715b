//! The realtime protocol: every frame on `GET /api/chat/ws` (both directions, JSON text frames
//! tagged by `type`) and every event on `GET /api/chat/events` (SSE). One definition serves the
//! server, the browser client and any other client. Counts and read marks are absolute values,
//! never increments, so a missed event can never make them drift.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{ApiError, ChannelSummary, Message};

/// Sent in `hello` and `ready`; a client speaking another version is closed with
/// [`close::UNSUPPORTED_VERSION`].
pub const PROTOCOL_VERSION: u32 = 1;

/// The most missed messages one `resume` replays per channel; beyond it the server sends
/// `reset` and the client reloads the channel's newest page instead.
pub const MAX_REPLAY: i64 = 500;

/// WebSocket close codes the server uses (4000–4999 are the application's own).
pub mod close {
    /// Going away: the server is shutting down.
    pub const GOING_AWAY: u16 = 1001;
    /// A binary frame: this protocol speaks JSON text only.
    pub const UNSUPPORTED_DATA: u16 = 1003;
    /// A text frame that is not UTF-8.
    pub const INVALID_PAYLOAD: u16 = 1007;
    /// A frame that breaks the WebSocket protocol.
    pub const PROTOCOL_ERROR: u16 = 1002;
    /// A frame larger than [`super::MAX_FRAME_BYTES`].
    pub const TOO_BIG: u16 = 1009;
    /// The server cannot serve now (its database is unreachable): reconnect later.
    pub const TRY_AGAIN_LATER: u16 = 1013;
    /// The client's protocol version is not [`super::PROTOCOL_VERSION`].
    pub const UNSUPPORTED_VERSION: u16 = 4000;
    /// The session ended (signed out or expired).
    pub const UNAUTHENTICATED: u16 = 4001;
    /// Nothing (not even a pong) arrived for too long.
    pub const IDLE: u16 = 4002;
    /// The client read too slowly and its queue filled: reconnect and resume.
    pub const TOO_SLOW: u16 = 4008;
}

/// Cursors one `hello` or `resume` may carry (a client with more sends several `resume`s).
pub const MAX_CURSORS: usize = 500;

/// Largest frame a client may send (a 4,000-character message is far below it).
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

/// Where a client stands in one channel: the newest sequence it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub channel_id: Uuid,
    pub last_seq: i64,
}

/// Client → server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientEvent {
    /// First frame of every connection; `cursors` replay what was missed (as `resume`).
    Hello {
        version: u32,
        #[serde(default)]
        cursors: Vec<Cursor>,
    },
    /// Replays messages after each cursor, in order (`message` events), or `reset` when too
    /// many were missed.
    Resume {
        cursors: Vec<Cursor>,
    },
    /// Stores a message exactly once (the id is the client's); answered by `ack` or `nack`.
    Send {
        id: Uuid,
        channel_id: Uuid,
        text: String,
    },
    /// "I am typing"; clients send it at most every two seconds while the user types.
    Typing {
        channel_id: Uuid,
    },
    /// Moves my read mark forward to `seq` (never back).
    Read {
        channel_id: Uuid,
        seq: i64,
    },
    Ping,
}

/// Server → client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerEvent {
    /// Answer to `hello`: the connection is live; `presence` covers everyone who shares a
    /// channel with me.
    Ready {
        version: u32,
        user_id: Uuid,
        presence: Vec<Presence>,
    },
    /// A new message (live, or replayed by `resume`).
    Message {
        message: Message,
    },
    /// A message was edited or deleted (deleted ones carry no text).
    MessageUpdated {
        message: Message,
    },
    /// My send was stored (or had been already).
    Ack {
        id: Uuid,
        message: Message,
    },
    /// My send was refused; the client shows "Failed to send".
    Nack {
        id: Uuid,
        error: ApiError,
    },
    /// My standing in a channel, as absolute values.
    ChannelState {
        channel_id: Uuid,
        last_seq: i64,
        unread: i64,
        my_last_read_seq: i64,
        others_last_read_seq: i64,
    },
    /// I became a member of a channel.
    ChannelAdded {
        channel: ChannelSummary,
    },
    /// Someone's presence changed.
    Presence {
        presence: Presence,
    },
    Typing {
        channel_id: Uuid,
        user_id: Uuid,
    },
    /// Too many messages were missed to replay: reload the channel's newest page.
    Reset {
        channel_id: Uuid,
    },
    /// The server may have missed events (its database link dropped): `resume` now.
    Resync,
    /// A frame was not understood or not allowed; the connection stays open.
    Error {
        error: ApiError,
    },
    Pong,
}

/// Whether a user is online, and when they were last seen if not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    pub user_id: Uuid,
    pub online: bool,
    pub last_seen_at: Option<DateTime<Utc>>,
}

impl ServerEvent {
    /// The SSE `event:` name and the tag of the JSON frame.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Ready { .. } => "ready",
            Self::Message { .. } => "message",
            Self::MessageUpdated { .. } => "message_updated",
            Self::Ack { .. } => "ack",
            Self::Nack { .. } => "nack",
            Self::ChannelState { .. } => "channel_state",
            Self::ChannelAdded { .. } => "channel_added",
            Self::Presence { .. } => "presence",
            Self::Typing { .. } => "typing",
            Self::Reset { .. } => "reset",
            Self::Resync => "resync",
            Self::Error { .. } => "error",
            Self::Pong => "pong",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_tagged_snake_case() {
        let json = serde_json::to_value(ClientEvent::Typing {
            channel_id: Uuid::nil(),
        })
        .unwrap_or_default();
        assert_eq!(json["type"], "typing");
        let hello: ClientEvent =
            serde_json::from_str(r#"{"type":"hello","version":1}"#).unwrap_or(ClientEvent::Ping);
        assert_eq!(
            hello,
            ClientEvent::Hello {
                version: 1,
                cursors: vec![]
            }
        );
        assert!(serde_json::from_str::<ClientEvent>(r#"{"type":"nope"}"#).is_err());
        assert_eq!(
            serde_json::to_value(ServerEvent::Resync).unwrap_or_default()["type"],
            ServerEvent::Resync.kind()
        );
    }
}
