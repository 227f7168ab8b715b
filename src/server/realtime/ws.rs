//! `GET /api/chat/ws`: the WebSocket. The upgrade needs the session cookie (401) and a
//! same-site `Origin` (403: browsers send cookies on cross-site upgrades). Then the connection
//! speaks [`ClientEvent`]/[`ServerEvent`] JSON frames: events from the hub, answers to its own
//! frames, a ping every 25 s and a close after 60 s of silence.

use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message as WsMessage, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use uuid::Uuid;

use super::hub::{Frame, Registration};
use super::writer::Draft;
use super::Notice;
use crate::model::event::{close, MAX_CURSORS, MAX_FRAME_BYTES, MAX_REPLAY, PROTOCOL_VERSION};
use crate::model::{ApiError, ClientEvent, Cursor, ErrorCode, MessageText, ServerEvent, User};
use crate::server::db::{self, messages::message_view};
use crate::server::error::ServerError;
use crate::server::state::AppState;
use crate::server::{auth, chat};

const PING_EVERY: Duration = Duration::from_secs(25);
const IDLE_AFTER: Duration = Duration::from_secs(60);
/// How long a closing connection may take to accept its close frame.
const CLOSE_WITHIN: Duration = Duration::from_secs(10);
/// Typing events a connection may publish: at most one per this interval.
const TYPING_EVERY: Duration = Duration::from_millis(1000);
/// Socket buffers: small, so idle connections stay cheap (DESIGN.md measures ~6 KB each).
const BUFFER_BYTES: usize = 4 * 1024;

pub async fn websocket(
    State(state): State<AppState>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ServerError> {
    auth::require_same_origin(&state.settings, &headers)?;
    let user = auth::session_user(&state, &headers)
        .await?
        .ok_or(ServerError::Unauthenticated)?;
    Ok(upgrade
        .read_buffer_size(BUFFER_BYTES)
        .write_buffer_size(BUFFER_BYTES)
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| run(state, user, socket)))
}

/// Why the server ends a connection: a close code and a reason for the client.
type Closing = (u16, &'static str);

struct Connection {
    state: AppState,
    user: User,
    socket: WebSocket,
    registration: Registration,
    last_typing: Option<Instant>,
}

async fn run(state: AppState, user: User, socket: WebSocket) {
    let realtime = state.realtime.clone();
    let registration = realtime.hub.connect_user(user.id);
    realtime.presence_changed(user.id);
    tracing::debug!(user_id = %user.id, "websocket opened");
    let user_id = user.id;
    let mut connection = Connection {
        state,
        user,
        socket,
        registration,
        last_typing: None,
    };
    let closing = connection.serve().await;
    let Connection {
        mut socket,
        registration,
        ..
    } = connection;
    drop(registration);
    realtime.presence_changed(user_id);
    if let Some((code, reason)) = closing {
        let frame = CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        };
        // A slow peer gets a while to read what is already on the wire; a gone one, nothing.
        let _ =
            tokio::time::timeout(CLOSE_WITHIN, socket.send(WsMessage::Close(Some(frame)))).await;
    }
    tracing::debug!(%user_id, ?closing, "websocket closed");
}

impl Connection {
    /// Serves until the peer leaves (`None`) or the server closes the connection.
    async fn serve(&mut self) -> Option<Closing> {
        let mut heartbeat =
            tokio::time::interval_at(tokio::time::Instant::now() + PING_EVERY, PING_EVERY);
        let mut last_heard = Instant::now();
        loop {
            tokio::select! {
                _ = self.registration.cut_off.notified() => {
                    return Some((close::TOO_SLOW, "fell behind; reconnect and resume"));
                }
                incoming = self.socket.recv() => {
                    last_heard = Instant::now();
                    match incoming? {
                        Ok(WsMessage::Text(text)) => {
                            // Boxed: handling a frame (queries, replays) needs far more state
                            // than waiting does, and an idle connection should not carry it.
                            if let Err(closing) = Box::pin(self.handle(text.as_str())).await {
                                return closing;
                            }
                        }
                        Ok(WsMessage::Binary(_)) => {
                            return Some((close::UNSUPPORTED_DATA, "JSON text frames only"));
                        }
                        Ok(WsMessage::Close(_)) => return None,
                        Ok(WsMessage::Ping(_) | WsMessage::Pong(_)) => {}
                        Err(e) => return Some(read_error(e)),
                    }
                }
                frame = self.registration.frames.recv() => {
                    let frame = frame?;
                    if let Some(code) = frame.close {
                        return Some((code, "the service is unavailable; reconnect later"));
                    }
                    let send = self.socket.send(WsMessage::Text(frame.json.clone()));
                    tokio::select! {
                        sent = send => sent.ok()?,
                        // Blocked on a full socket while the queue filled up behind it.
                        _ = self.registration.cut_off.notified() => {
                            return Some((close::TOO_SLOW, "fell behind; reconnect and resume"));
                        }
                    }
                }
                _ = heartbeat.tick() => {
                    if last_heard.elapsed() > IDLE_AFTER {
                        return Some((close::IDLE, "no answer to pings"));
                    }
                    self.socket.send(WsMessage::Ping(Default::default())).await.ok()?;
                }
            }
        }
    }

    async fn emit(&mut self, event: &ServerEvent) -> Result<(), Option<Closing>> {
        let frame = Frame::new(event);
        self.socket
            .send(WsMessage::Text(frame.json.clone()))
            .await
            .map_err(|_| None)
    }

    async fn emit_error(&mut self, error: &ServerError) -> Result<(), Option<Closing>> {
        self.emit(&ServerEvent::Error {
            error: error.to_api(),
        })
        .await
    }

    /// Handles one text frame. `Err` ends the connection (with a close frame when `Some`).
    async fn handle(&mut self, text: &str) -> Result<(), Option<Closing>> {
        let event: ClientEvent = match serde_json::from_str(text) {
            Ok(event) => event,
            Err(e) => {
                let error = ApiError::new(ErrorCode::BadRequest, format!("Unreadable frame: {e}"));
                return self.emit(&ServerEvent::Error { error }).await;
            }
        };
        let result = match event {
            ClientEvent::Hello { version, cursors } => {
                if version != PROTOCOL_VERSION {
                    return Err(Some((
                        close::UNSUPPORTED_VERSION,
                        "unsupported protocol version",
                    )));
                }
                self.hello(cursors).await
            }
            ClientEvent::Resume { cursors } => self.resume(cursors).await,
            ClientEvent::Send {
                id,
                channel_id,
                text,
            } => self.send(id, channel_id, &text).await,
            ClientEvent::Typing { channel_id } => self.typing(channel_id).await,
            ClientEvent::Read { channel_id, seq } => {
                chat::move_read_mark(&self.state.pool, &self.user, channel_id, Some(seq)).await
            }
            // Through the queue: the pong comes after every event queued before the ping.
            ClientEvent::Ping => {
                self.to_self(&ServerEvent::Pong);
                return Ok(());
            }
        };
        match result {
            Ok(()) => Ok(()),
            Err(e) => self.emit_error(&e).await,
        }
    }

    async fn hello(&mut self, cursors: Vec<Cursor>) -> Result<(), ServerError> {
        let presence = db::presence::of_peers(&self.state.pool, self.user.id).await?;
        let ready = ServerEvent::Ready {
            version: PROTOCOL_VERSION,
            user_id: self.user.id,
            presence,
        };
        self.emit(&ready).await.map_err(|_| gone())?;
        self.resume(cursors).await
    }

    /// Replays, per cursor, the messages after it (or `reset` when too many were missed).
    /// A channel the user is not in gets `not_found`, and nothing else.
    async fn resume(&mut self, cursors: Vec<Cursor>) -> Result<(), ServerError> {
        if cursors.len() > MAX_CURSORS {
            return Err(ServerError::BadRequest(format!(
                "At most {MAX_CURSORS} cursors per resume."
            )));
        }
        let ids: Vec<Uuid> = cursors.iter().map(|c| c.channel_id).collect();
        let mine = db::channels::member_of(&self.state.pool, self.user.id, &ids).await?;
        for cursor in cursors {
            if !mine.contains(&cursor.channel_id) {
                self.emit_error(&ServerError::NotFound)
                    .await
                    .map_err(|_| gone())?;
                continue;
            }
            let rows = db::messages::page_after(
                &self.state.pool,
                cursor.channel_id,
                cursor.last_seq.max(0),
                MAX_REPLAY + 1,
            )
            .await?;
            if rows.len() as i64 > MAX_REPLAY {
                let reset = ServerEvent::Reset {
                    channel_id: cursor.channel_id,
                };
                self.emit(&reset).await.map_err(|_| gone())?;
                continue;
            }
            for row in rows {
                let event = ServerEvent::Message {
                    message: message_view(row),
                };
                self.emit(&event).await.map_err(|_| gone())?;
            }
        }
        Ok(())
    }

    /// Queues the send with the writer and answers `ack`/`nack` through this connection's own
    /// queue once stored, without holding up the frames that follow.
    async fn send(&mut self, id: Uuid, channel_id: Uuid, text: &str) -> Result<(), ServerError> {
        let text = match MessageText::parse(text) {
            Ok(text) => text,
            Err(e) => {
                let nack = ServerEvent::Nack {
                    id,
                    error: ApiError::from(e),
                };
                return self.emit(&nack).await.map_err(|_| gone());
            }
        };
        if let Err(limited) = self.state.limits.send(self.user.id) {
            let nack = ServerEvent::Nack {
                id,
                error: limited.to_api(),
            };
            return self.emit(&nack).await.map_err(|_| gone());
        }
        // The message ends the typing; the next keystroke may announce it again at once.
        self.last_typing = None;
        let draft = Draft {
            id,
            channel_id,
            user_id: self.user.id,
            text,
        };
        let pending = self.state.realtime.writer.enqueue(draft).await?;
        let to_self = self.registration.to_self.clone();
        tokio::spawn(async move {
            let event = match pending.stored().await {
                Ok(message) => ServerEvent::Ack { id, message },
                Err(e) => ServerEvent::Nack {
                    id,
                    error: e.to_api(),
                },
            };
            to_self.offer(&Frame::new(&event));
        });
        Ok(())
    }

    fn to_self(&self, event: &ServerEvent) {
        self.registration.to_self.offer(&Frame::new(event));
    }

    async fn typing(&mut self, channel_id: Uuid) -> Result<(), ServerError> {
        if self
            .last_typing
            .is_some_and(|at| at.elapsed() < TYPING_EVERY)
        {
            return Ok(());
        }
        self.last_typing = Some(Instant::now());
        if !db::channels::is_member(&self.state.pool, channel_id, self.user.id).await? {
            return Err(ServerError::NotFound);
        }
        Notice::Typing {
            c: channel_id,
            u: self.user.id,
        }
        .publish(&self.state.pool)
        .await?;
        Ok(())
    }
}

/// The close code for a frame the socket could not read.
fn read_error(error: axum::Error) -> Closing {
    use tungstenite::error::{CapacityError, Error};
    tracing::debug!(%error, "unreadable websocket frame");
    match error.into_inner().downcast_ref::<Error>() {
        Some(Error::Capacity(CapacityError::MessageTooLong { .. })) => {
            (close::TOO_BIG, "frame too large (64 KiB at most)")
        }
        Some(Error::Utf8(_)) => (close::INVALID_PAYLOAD, "text frames must be UTF-8"),
        _ => (close::PROTOCOL_ERROR, "malformed frame"),
    }
}

/// The socket went away while answering.
fn gone() -> ServerError {
    ServerError::Internal("connection closed".into())
}
