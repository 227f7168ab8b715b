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

/// Messages one `hello` or `resume` frame may replay in all; channels beyond it get `reset`.
/// With at most [`MAX_CURSORS`] resets, `ready` and one error besides, a frame's answer stays
/// under the connection's queue (1,024 frames), and the server reads a connection's next frame
/// only once its queue is nearly empty: a replay never cuts its own socket off.
pub const MAX_REPLAY_PER_FRAME: i64 = 400;

/// Message text one `hello` or `resume` frame may replay in all (bytes); channels beyond it get
/// `reset`, so a frame's replay holds a bounded amount of memory whatever the messages hold.
pub const MAX_REPLAY_BYTES_PER_FRAME: i64 = 1024 * 1024;

/// Largest frame a client may send (a 4,000-character message is far below it).
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

/// Where a client stands in one channel: the newest sequence it holds, and the newest change
/// version it has seen. Every change to a channel's visible state (an edit, a deletion, a
/// rename, a member change) bumps the channel's version; with `version`, a `resume` replays
/// the changes made after it to the messages the client holds (each changed message once, in
/// its current state, as `message_updated`; the channel's name and members once, as
/// `channel_updated`), in version order, before the new messages. Without it (the first
/// version's clients), only new messages are replayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub channel_id: Uuid,
    pub last_seq: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
}

/// A user token (minted by the host's backend through the server API) as a client presents
/// it. Its `Debug` does not show it: frames may be logged, credentials must not be.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserToken(pub String);

impl std::fmt::Debug for UserToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UserToken(…)")
    }
}

/// Client → server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientEvent {
    /// First frame of every connection; `cursors` replay what was missed (as `resume`).
    /// A connection opened without the host's session (no cookie) authenticates with `token`
    /// here, within 10 s, or is closed with 4001; with a session, `token` is not read.
    Hello {
        version: u32,
        #[serde(default)]
        cursors: Vec<Cursor>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token: Option<UserToken>,
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
        /// An earlier message of the same channel this one replies to.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply_to: Option<Uuid>,
        /// Uploads sent with it (see `NewMessage::attachments`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        attachments: Vec<Uuid>,
    },
    /// Sets my reaction `emoji` (one of `model::REACTIONS`) on a message on or off.
    /// Idempotent; the change reaches every member (me included) as `message_updated` with
    /// the message's absolute reaction counts; nothing is sent when nothing changed. A refusal
    /// is an `error` frame.
    React {
        message_id: Uuid,
        emoji: String,
        on: bool,
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
        /// The people I blocked.
        #[serde(default)]
        blocked: Vec<Uuid>,
    },
    /// A new message (live, or replayed by `resume`); a replayed one changed since it was
    /// sent carries the version of that change (absent: 0).
    Message {
        message: Message,
        #[serde(default, skip_serializing_if = "is_zero")]
        version: i64,
    },
    /// A message was edited or deleted (deleted ones carry no text); `version` is the
    /// channel's change version the change made (the message may already show a later one).
    MessageUpdated {
        message: Message,
        #[serde(default)]
        version: i64,
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
        /// I muted the channel (its unread messages leave my global count).
        #[serde(default)]
        muted: bool,
        /// My unread messages here that mention me (muted or not).
        #[serde(default)]
        mentions: i64,
    },
    /// I became a member of a channel.
    ChannelAdded {
        channel: ChannelSummary,
    },
    /// A channel's name or members changed (at `version`): the new name and every member.
    ChannelUpdated {
        channel_id: Uuid,
        name: Option<String>,
        members: Vec<crate::model::User>,
        version: i64,
    },
    /// I am no longer a member of a channel (removed, or I left in another tab): it leaves my
    /// list and every later read of it is `not_found`.
    ChannelRemoved {
        channel_id: Uuid,
    },
    /// The people I block changed (in this tab or another): all of them.
    Blocks {
        blocked: Vec<Uuid>,
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

fn is_zero(version: &i64) -> bool {
    *version == 0
}

/// Whether a user is online, and when they were last seen if not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    pub user_id: Uuid,
    pub online: bool,
    #[serde(default, deserialize_with = "super::time::deserialize_option")]
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
            Self::ChannelUpdated { .. } => "channel_updated",
            Self::ChannelRemoved { .. } => "channel_removed",
            Self::Blocks { .. } => "blocks",
            Self::Presence { .. } => "presence",
            Self::Typing { .. } => "typing",
            Self::Reset { .. } => "reset",
            Self::Resync => "resync",
            Self::Error { .. } => "error",
            Self::Pong => "pong",
        }
    }
}

/// Decoding `ServerEvent` frames in the browser. The derived `Deserialize` of an internally
/// tagged enum buffers every frame into serde's generic `Content` tree and decodes each variant
/// from it: a second copy of every payload type's decoder in the WASM. Here one flat struct
/// reads the tag and every field any event carries straight from the JSON, reusing the decoders
/// the server-function responses already need (measured: 56 KB less WASM before gzip, 19 KB
/// after). The wire format is the derive's; the tests check both agree on every event.
mod decode {
    use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
    use serde::Deserialize;
    use uuid::Uuid;

    use super::{Presence, ServerEvent};
    use crate::model::{ApiError, ChannelSummary, Message, User};

    /// `presence` is a list in `ready` and one entry in `presence`.
    enum PresenceField {
        One(Presence),
        Many(Vec<Presence>),
    }

    impl<'de> Deserialize<'de> for PresenceField {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct PresenceVisitor;
            impl<'de> Visitor<'de> for PresenceVisitor {
                type Value = PresenceField;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("a presence or a list of them")
                }
                fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                    Vec::deserialize(de::value::SeqAccessDeserializer::new(seq))
                        .map(PresenceField::Many)
                }
                fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                    Presence::deserialize(de::value::MapAccessDeserializer::new(map))
                        .map(PresenceField::One)
                }
            }
            deserializer.deserialize_any(PresenceVisitor)
        }
    }

    /// Every field of every server event; which ones must be present depends on `type` (read
    /// as a string: a derived enum decoder would cost more).
    #[derive(Deserialize)]
    struct Frame {
        #[serde(rename = "type")]
        kind: String,
        /// The protocol version in `ready`, a change version elsewhere.
        version: Option<i64>,
        user_id: Option<Uuid>,
        presence: Option<PresenceField>,
        message: Option<Message>,
        id: Option<Uuid>,
        error: Option<ApiError>,
        channel_id: Option<Uuid>,
        last_seq: Option<i64>,
        unread: Option<i64>,
        my_last_read_seq: Option<i64>,
        others_last_read_seq: Option<i64>,
        channel: Option<ChannelSummary>,
        muted: Option<bool>,
        mentions: Option<i64>,
        name: Option<String>,
        members: Option<Vec<User>>,
        blocked: Option<Vec<Uuid>>,
    }

    fn need<T>(value: Option<T>, field: &'static str) -> Result<T, serde_json::Error> {
        value.ok_or_else(|| de::Error::missing_field(field))
    }

    impl ServerEvent {
        /// Reads one JSON frame (as `serde_json::from_slice::<ServerEvent>` would).
        pub fn from_json(frame: &[u8]) -> Result<Self, serde_json::Error> {
            let f: Frame = serde_json::from_slice(frame)?;
            Ok(match f.kind.as_str() {
                "ready" => Self::Ready {
                    version: u32::try_from(need(f.version, "version")?)
                        .map_err(|_| de::Error::custom("ready: version out of range"))?,
                    user_id: need(f.user_id, "user_id")?,
                    presence: match need(f.presence, "presence")? {
                        PresenceField::Many(list) => list,
                        PresenceField::One(_) => {
                            return Err(de::Error::custom("ready: presence must be a list"))
                        }
                    },
                    blocked: f.blocked.unwrap_or_default(),
                },
                "message" => Self::Message {
                    message: need(f.message, "message")?,
                    version: f.version.unwrap_or(0),
                },
                "message_updated" => Self::MessageUpdated {
                    message: need(f.message, "message")?,
                    version: f.version.unwrap_or(0),
                },
                "ack" => Self::Ack {
                    id: need(f.id, "id")?,
                    message: need(f.message, "message")?,
                },
                "nack" => Self::Nack {
                    id: need(f.id, "id")?,
                    error: need(f.error, "error")?,
                },
                "channel_state" => Self::ChannelState {
                    channel_id: need(f.channel_id, "channel_id")?,
                    last_seq: need(f.last_seq, "last_seq")?,
                    unread: need(f.unread, "unread")?,
                    my_last_read_seq: need(f.my_last_read_seq, "my_last_read_seq")?,
                    others_last_read_seq: need(f.others_last_read_seq, "others_last_read_seq")?,
                    muted: f.muted.unwrap_or(false),
                    mentions: f.mentions.unwrap_or(0),
                },
                "channel_updated" => Self::ChannelUpdated {
                    channel_id: need(f.channel_id, "channel_id")?,
                    name: f.name,
                    members: need(f.members, "members")?,
                    version: need(f.version, "version")?,
                },
                "channel_removed" => Self::ChannelRemoved {
                    channel_id: need(f.channel_id, "channel_id")?,
                },
                "blocks" => Self::Blocks {
                    blocked: need(f.blocked, "blocked")?,
                },
                "channel_added" => Self::ChannelAdded {
                    channel: need(f.channel, "channel")?,
                },
                "presence" => Self::Presence {
                    presence: match need(f.presence, "presence")? {
                        PresenceField::One(presence) => presence,
                        PresenceField::Many(_) => {
                            return Err(de::Error::custom("presence: must be one entry"))
                        }
                    },
                },
                "typing" => Self::Typing {
                    channel_id: need(f.channel_id, "channel_id")?,
                    user_id: need(f.user_id, "user_id")?,
                },
                "reset" => Self::Reset {
                    channel_id: need(f.channel_id, "channel_id")?,
                },
                "resync" => Self::Resync,
                "error" => Self::Error {
                    error: need(f.error, "error")?,
                },
                "pong" => Self::Pong,
                other => return Err(de::Error::custom(format!("unknown event type `{other}`"))),
            })
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
                cursors: vec![],
                token: None,
            }
        );
        // The browser client's hello (no token) is the first version's frame, byte for byte.
        let plain = serde_json::to_string(&hello).unwrap_or_default();
        assert_eq!(plain, r#"{"type":"hello","version":1,"cursors":[]}"#);
        let with_token: ClientEvent =
            serde_json::from_str(r#"{"type":"hello","version":1,"token":"t.o.k"}"#)
                .unwrap_or(ClientEvent::Ping);
        assert_eq!(
            with_token,
            ClientEvent::Hello {
                version: 1,
                cursors: vec![],
                token: Some(UserToken("t.o.k".into())),
            }
        );
        assert!(!format!("{with_token:?}").contains("t.o.k"));
        assert!(serde_json::from_str::<ClientEvent>(r#"{"type":"nope"}"#).is_err());
        assert_eq!(
            serde_json::to_value(ServerEvent::Resync).unwrap_or_default()["type"],
            ServerEvent::Resync.kind()
        );
    }

    #[test]
    fn browser_decoder_reads_every_event_as_the_derive_does() {
        use crate::model::{ApiError, ChannelKind, ChannelSummary, ErrorCode, Message, User};
        let at = DateTime::parse_from_rfc3339("2024-05-06T07:08:09.123456Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        let id = Uuid::from_u128(7);
        let message = Message {
            id,
            channel_id: Uuid::from_u128(8),
            seq: 3,
            user_id: Some(Uuid::from_u128(9)),
            text: "hi \"there\"\n".into(),
            created_at: at,
            edited: true,
            deleted: false,
            reply_to: Some(crate::model::Quote {
                id: Uuid::from_u128(10),
                seq: 2,
                user_id: None,
                text: "earlier".into(),
                deleted: false,
            }),
            mentions: vec![Uuid::from_u128(9)],
            reactions: vec![crate::model::Reaction {
                emoji: "👍".into(),
                count: 2,
                users: vec![Uuid::from_u128(9), id],
            }],
            attachments: vec![crate::model::Attachment {
                id: Uuid::from_u128(11),
                name: "plan.png".into(),
                content_type: "image/png".into(),
                size: 1234,
                width: Some(640),
                height: Some(480),
                thumbnail: true,
            }],
        };
        let presence = Presence {
            user_id: id,
            online: false,
            last_seen_at: Some(at),
        };
        let error = ApiError::new(ErrorCode::RateLimited, "slow down");
        let events = vec![
            ServerEvent::Ready {
                version: 1,
                user_id: id,
                presence: vec![presence.clone()],
                blocked: vec![id],
            },
            ServerEvent::Ready {
                version: 1,
                user_id: id,
                presence: vec![],
                blocked: vec![],
            },
            ServerEvent::Message {
                message: message.clone(),
                version: 0,
            },
            ServerEvent::Message {
                message: message.clone(),
                version: 3,
            },
            ServerEvent::MessageUpdated {
                message: message.clone(),
                version: 12,
            },
            ServerEvent::Ack {
                id,
                message: message.clone(),
            },
            ServerEvent::Nack {
                id,
                error: error.clone(),
            },
            ServerEvent::ChannelState {
                channel_id: id,
                last_seq: 5,
                unread: 2,
                my_last_read_seq: 3,
                others_last_read_seq: 4,
                muted: true,
                mentions: 2,
            },
            ServerEvent::ChannelUpdated {
                channel_id: id,
                name: Some("Renamed".into()),
                members: vec![User {
                    id,
                    username: "ann".into(),
                    display_name: "Ann".into(),
                }],
                version: 9,
            },
            ServerEvent::ChannelUpdated {
                channel_id: id,
                name: None,
                members: vec![],
                version: 10,
            },
            ServerEvent::ChannelRemoved { channel_id: id },
            ServerEvent::Blocks { blocked: vec![id] },
            ServerEvent::ChannelAdded {
                channel: ChannelSummary {
                    id,
                    kind: ChannelKind::Group,
                    name: Some("Book club".into()),
                    members: vec![User {
                        id,
                        username: "ann".into(),
                        display_name: "Ann".into(),
                    }],
                    created_at: at,
                    last_message_at: None,
                    last_seq: 0,
                    last_message: Some(message),
                    unread: 0,
                    my_last_read_seq: 0,
                    others_last_read_seq: 0,
                    muted: false,
                    mentions: 0,
                    version: 4,
                },
            },
            ServerEvent::Presence {
                presence: Presence {
                    last_seen_at: None,
                    ..presence
                },
            },
            ServerEvent::Typing {
                channel_id: id,
                user_id: id,
            },
            ServerEvent::Reset { channel_id: id },
            ServerEvent::Resync,
            ServerEvent::Error { error },
            ServerEvent::Pong,
        ];
        for event in events {
            let json = serde_json::to_string(&event).unwrap_or_default();
            let derived = serde_json::from_str::<ServerEvent>(&json).ok();
            assert_eq!(derived.as_ref(), Some(&event), "{json}");
            assert_eq!(
                ServerEvent::from_json(json.as_bytes()).ok(),
                derived,
                "{json}"
            );
        }
    }

    #[test]
    fn browser_decoder_refuses_what_the_derive_refuses() {
        for frame in [
            r#"{"type":"nope"}"#,
            r#"{"type":"message"}"#,
            r#"{"version":1}"#,
            r#"{"type":"reset","channel_id":"not a uuid"}"#,
            r#"{"type":"presence","presence":[]}"#,
            r#"{"type":"ready","version":1,"user_id":"00000000-0000-0000-0000-000000000000","presence":{"user_id":"00000000-0000-0000-0000-000000000000","online":true,"last_seen_at":null}}"#,
            "[]",
        ] {
            assert!(
                serde_json::from_str::<ServerEvent>(frame).is_err(),
                "{frame}"
            );
            assert!(ServerEvent::from_json(frame.as_bytes()).is_err(), "{frame}");
        }
        assert_eq!(
            ServerEvent::from_json(br#"{"type":"pong","extra":1}"#).ok(),
            Some(ServerEvent::Pong)
        );
    }
}
