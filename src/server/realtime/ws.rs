//! `GET /api/chat/ws`: the WebSocket. The upgrade needs the session cookie (401), a same-site
//! `Origin` (403: browsers send cookies on cross-site upgrades) and a free socket slot for the
//! user and the address (429). When the server API is on, an upgrade without a session is
//! accepted too and must then send `hello` with a user `token` within 10 s (never in the URL);
//! an expired, forged or missing token closes it with 4001 (no `Origin` check then: a token is
//! not sent by browsers on their own, as cookies are). Then the connection speaks
//! [`ClientEvent`]/[`ServerEvent`] JSON frames: events from the hub and answers to its own
//! frames, all through its one bounded queue; a ping every 25 s, a close after 60 s of silence,
//! at its session's (or token's) end (4001) and when a write stalls (4008).

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message as WsMessage, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use tokio_util::task::TaskTracker;
use uuid::Uuid;

use super::hub::{Frame, Registration};
use crate::model::event::{
    close, MAX_CURSORS, MAX_FRAME_BYTES, MAX_REPLAY, MAX_REPLAY_BYTES_PER_FRAME,
    MAX_REPLAY_PER_FRAME, PROTOCOL_VERSION,
};
use crate::model::{ApiError, ClientEvent, Cursor, ErrorCode, MessageText, ServerEvent, User};
use crate::server::auth::{self, Viewer};
use crate::server::bus::Notice;
use crate::server::chat;
use crate::server::db;
use crate::server::error::ServerError;
use crate::server::extract::ClientAddress;
use crate::server::limits::{Action, SocketSlot};
use crate::server::state::Chat;
use crate::server::store::Draft;

const PING_EVERY: Duration = Duration::from_secs(25);
const IDLE_AFTER: Duration = Duration::from_secs(60);
/// How long a closing connection may take to accept its close frame.
const CLOSE_WITHIN: Duration = Duration::from_secs(10);
/// Typing events a connection may publish: at most one per this interval.
const TYPING_EVERY: Duration = Duration::from_millis(1000);
/// A connection's next frame is read only while fewer than this many frames wait to be sent.
const READ_WHEN_BELOW: usize = 64;
/// Socket buffers: small, so idle connections stay cheap (DESIGN.md measures ~6 KB each).
const BUFFER_BYTES: usize = 4 * 1024;
/// How long a connection opened without a session may take to send its `hello` with a token.
const HELLO_WITHIN: Duration = Duration::from_secs(10);

pub async fn websocket(
    State(state): State<Chat>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ServerError> {
    let tokens = state.settings.server_secret.is_some();
    if !tokens {
        auth::require_same_origin(&state.settings, &headers)?;
    }
    if state.lifecycle.is_stopping() {
        return Err(ServerError::ShuttingDown);
    }
    let upgrade = upgrade
        .read_buffer_size(BUFFER_BYTES)
        .write_buffer_size(BUFFER_BYTES)
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES);
    let Some(session) = state.viewer(&headers).await? else {
        if !tokens {
            return Err(ServerError::Unauthenticated);
        }
        // No session: the client may hold a user token, which it sends in `hello`. The
        // address's slot bounds how many such connections wait at once.
        let slot = address_slot(&state, address)?;
        return Ok(upgrade.on_upgrade(move |socket| {
            // Counted by the chat's lifecycle: shutdown waits for this socket to close.
            let lifecycle = state.lifecycle.clone();
            lifecycle.track(hello_first(state, slot, address, socket))
        }));
    };
    if tokens {
        auth::require_same_origin(&state.settings, &headers)?;
    }
    admit(&state, &session)?;
    let slot = address_slot(&state, address)?;
    Ok(upgrade.on_upgrade(move |socket| {
        // Counted by the chat's lifecycle: shutdown waits for this socket to close.
        let lifecycle = state.lifecycle.clone();
        lifecycle.track(run(state, session, slot, address, socket, None))
    }))
}

/// The person's own limits on sockets: upgrades per minute, sockets held.
fn admit(state: &Chat, session: &Viewer) -> Result<(), ServerError> {
    state.limits.check(Action::Connect, session.user.id)?;
    let limits = state.limits.settings();
    if state.realtime.hub.sockets_of(session.user.id) >= limits.sockets_per_user {
        tracing::info!(user_id = %session.user.id, "too many sockets for one user");
        return Err(ServerError::TooManyConnections);
    }
    Ok(())
}

fn address_slot(state: &Chat, address: IpAddr) -> Result<SocketSlot, ServerError> {
    state.limits.socket_slot(address).ok_or_else(|| {
        tracing::info!(%address, "too many sockets for one address");
        ServerError::TooManyConnections
    })
}

/// A connection opened without a session: its first frame must be `hello` with a valid user
/// token, within [`HELLO_WITHIN`]; it is then served as that person, the `hello` answered as
/// usual. Otherwise it is closed with 4001 (1013 when the token could not be checked, or the
/// person holds too many sockets).
async fn hello_first(state: Chat, slot: SocketSlot, address: IpAddr, mut socket: WebSocket) {
    let authenticated = tokio::select! {
        authenticated = authenticate_hello(&state, &mut socket) => authenticated,
        () = state.lifecycle.stopped() => {
            Err(Some((close::GOING_AWAY, "the server is going away; reconnect")))
        }
    };
    match authenticated {
        Ok((session, hello)) => run(state, session, slot, address, socket, Some(hello)).await,
        Err(None) => {} // the peer left, or spoke no text
        Err(Some(closing)) => {
            tracing::debug!(%address, ?closing, "websocket refused");
            send_close(&mut socket, closing).await;
        }
    }
}

/// The person a connection's first frame names by its token, and that frame; `Err(None)` when
/// the peer is gone.
async fn authenticate_hello(
    state: &Chat,
    socket: &mut WebSocket,
) -> Result<(Viewer, Utf8Bytes), Option<Closing>> {
    let refused = |reason: &'static str| Some((close::UNAUTHENTICATED, reason));
    let unavailable = |error: ServerError, reason: &'static str| {
        error.log();
        Some((close::TRY_AGAIN_LATER, reason))
    };
    let text = match tokio::time::timeout(HELLO_WITHIN, first_text(socket)).await {
        Ok(Some(text)) => text,
        Ok(None) => return Err(None),
        Err(_) => return Err(refused("no hello with a token; sign in")),
    };
    let Ok(ClientEvent::Hello {
        token: Some(token), ..
    }) = serde_json::from_str::<ClientEvent>(text.as_str())
    else {
        return Err(refused("the first frame must be a hello with a token"));
    };
    let session = match state.token_viewer(&token.0).await {
        Ok(session) => session,
        Err(ServerError::Token(_) | ServerError::Unauthenticated) => {
            return Err(refused("the token is not valid or has expired"));
        }
        Err(e) => {
            return Err(unavailable(
                e,
                "the service is unavailable; reconnect later",
            ))
        }
    };
    admit(state, &session).map_err(|e| unavailable(e, "too many connections; reconnect later"))?;
    Ok((session, text))
}

/// The first text frame (pings and pongs skipped); `None` when the peer leaves or sends
/// anything else.
async fn first_text(socket: &mut WebSocket) -> Option<Utf8Bytes> {
    loop {
        match socket.recv().await? {
            Ok(WsMessage::Text(text)) => return Some(text),
            Ok(WsMessage::Ping(_) | WsMessage::Pong(_)) => {}
            _ => return None,
        }
    }
}

/// Closes with a code and a reason, giving a slow peer a while to read it.
async fn send_close(socket: &mut WebSocket, (code, reason): Closing) {
    let frame = CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    };
    // A slow peer gets a while to read what is already on the wire; a gone one, nothing.
    let _ = tokio::time::timeout(CLOSE_WITHIN, socket.send(WsMessage::Close(Some(frame)))).await;
}

/// Why the server ends a connection: a close code and a reason for the client.
type Closing = (u16, &'static str);

struct Connection {
    state: Chat,
    user: User,
    socket: WebSocket,
    registration: Registration,
    last_typing: Option<Instant>,
    /// Sends stored by the writer whose `ack`/`nack` is on its way: at shutdown they are
    /// answered before the socket closes.
    answering: TaskTracker,
}

/// Serves a connection of `session`; `hello`, when given, is its first frame, already read
/// (the one that carried the token).
async fn run(
    state: Chat,
    session: Viewer,
    slot: SocketSlot,
    address: IpAddr,
    socket: WebSocket,
    hello: Option<Utf8Bytes>,
) {
    let realtime = state.realtime.clone();
    let registration = realtime.hub.connect_user(session.holder());
    let user_id = session.user.id;
    // A sign-out handled between the upgrade's check and this registration found nothing to
    // close: look again now that a later one would find this socket.
    let valid = match session.session.as_deref() {
        Some(name) => state.identity.session_valid(name).await,
        None => Ok(true),
    };
    match valid {
        Ok(true) => {}
        Ok(false) => registration.stop.stop(close::UNAUTHENTICATED),
        Err(e) => {
            ServerError::from(e).log();
            registration.stop.stop(close::TRY_AGAIN_LATER);
        }
    }
    realtime.presence_changed(user_id);
    tracing::debug!(%user_id, %address, "websocket opened");
    // The session's end, as a deadline on this process's clock.
    let ends_in = session.ends_in();
    let mut connection = Connection {
        state,
        user: session.user,
        socket,
        registration,
        last_typing: None,
        answering: TaskTracker::new(),
    };
    let deadline = tokio::time::Instant::now() + ends_in;
    let closing = match hello {
        Some(hello) => match Box::pin(connection.handle(hello.as_str())).await {
            Ok(()) => connection.serve(deadline).await,
            Err(closing) => Some(closing),
        },
        None => connection.serve(deadline).await,
    };
    let Connection {
        mut socket,
        registration,
        ..
    } = connection;
    drop(registration);
    drop(slot);
    realtime.presence_changed(user_id);
    if let Some(closing) = closing {
        send_close(&mut socket, closing).await;
    }
    tracing::debug!(%user_id, ?closing, "websocket closed");
}

/// The reason a client is given for a close code the hub asked for.
fn stop_reason(code: u16) -> &'static str {
    match code {
        close::TOO_SLOW => "fell behind; reconnect and resume",
        close::UNAUTHENTICATED => "the session ended; sign in again",
        _ => "the service is unavailable; reconnect later",
    }
}

impl Connection {
    /// Serves until the peer leaves (`None`) or the server closes the connection. Every write
    /// has a deadline: a peer that stops reading is closed (4008) within it, whatever it asked
    /// for, because everything it is sent goes through the one queue drained here.
    async fn serve(&mut self, session_ends: tokio::time::Instant) -> Option<Closing> {
        let write_within = self.state.settings.socket_write_timeout;
        let mut heartbeat =
            tokio::time::interval_at(tokio::time::Instant::now() + PING_EVERY, PING_EVERY);
        let mut last_heard = Instant::now();
        let stop = self.registration.stop.clone();
        let lifecycle = self.state.lifecycle.clone();
        loop {
            let outgoing = tokio::select! {
                code = stop.stopped() => return Some((code, stop_reason(code))),
                () = lifecycle.stopped() => {
                    self.answer_before_going().await;
                    return Some((close::GOING_AWAY, "the server is restarting; reconnect and resume"));
                }
                () = tokio::time::sleep_until(session_ends) => {
                    return Some((close::UNAUTHENTICATED, "the session expired; sign in again"));
                }
                // The next frame is read once what earlier ones asked for has mostly gone out,
                // so a client's frames cannot pile answers up past its queue.
                incoming = self.socket.recv(), if self.registration.frames.len() < READ_WHEN_BELOW => {
                    last_heard = Instant::now();
                    match incoming? {
                        Ok(WsMessage::Text(text)) => {
                            // Boxed: handling a frame (queries, replays) needs far more state
                            // than waiting does, and an idle connection should not carry it.
                            if let Err(closing) = Box::pin(self.handle(text.as_str())).await {
                                return Some(closing);
                            }
                        }
                        Ok(WsMessage::Binary(_)) => {
                            return Some((close::UNSUPPORTED_DATA, "JSON text frames only"));
                        }
                        Ok(WsMessage::Close(_)) => return None,
                        Ok(WsMessage::Ping(_) | WsMessage::Pong(_)) => {}
                        Err(e) => return Some(read_error(e)),
                    }
                    continue;
                }
                frame = self.registration.frames.recv() => {
                    let frame = frame?;
                    if let Some(code) = frame.close {
                        return Some((code, stop_reason(code)));
                    }
                    WsMessage::Text(frame.json.clone())
                }
                _ = heartbeat.tick() => {
                    if last_heard.elapsed() > IDLE_AFTER {
                        return Some((close::IDLE, "no answer to pings"));
                    }
                    WsMessage::Ping(Default::default())
                }
            };
            let sent = tokio::select! {
                sent = tokio::time::timeout(write_within, self.socket.send(outgoing)) => sent,
                // Told to stop while blocked on a full socket.
                code = stop.stopped() => return Some((code, stop_reason(code))),
            };
            match sent {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return None,
                Err(_) => return Some((close::TOO_SLOW, "not reading; reconnect and resume")),
            }
        }
    }

    /// At shutdown: waits (a little) for the answers to sends already handed to the writer,
    /// which commits everything queued before it stops, and writes every frame still queued.
    /// A send whose answer does not come is retried by the client with the same id.
    async fn answer_before_going(&mut self) {
        const ANSWER_WITHIN: Duration = Duration::from_secs(5);
        self.answering.close();
        let _ = tokio::time::timeout(ANSWER_WITHIN, self.answering.wait()).await;
        let write_within = self.state.settings.socket_write_timeout;
        while let Ok(frame) = self.registration.frames.try_recv() {
            if frame.close.is_some() {
                continue;
            }
            let sent = tokio::time::timeout(
                write_within,
                self.socket.send(WsMessage::Text(frame.json.clone())),
            )
            .await;
            if !matches!(sent, Ok(Ok(()))) {
                return;
            }
        }
    }

    /// Queues an event to this connection, behind the events queued before it. A full queue
    /// stops the connection (4008): the loop sees it at its next turn.
    fn emit(&self, event: &ServerEvent) {
        self.registration.to_self.offer(&Frame::new(event));
    }

    /// Answers a failed frame with an `error` event. The conversion is the one exit every
    /// error of the chat leaves by (`From<ServerError> for ApiError`): it logs ours (5xx) once,
    /// as the HTTP responses do.
    fn emit_error(&self, error: ServerError) {
        self.emit(&ServerEvent::Error {
            error: ApiError::from(error),
        });
    }

    /// Handles one text frame. `Err` ends the connection with that close code.
    async fn handle(&mut self, text: &str) -> Result<(), Closing> {
        let event: ClientEvent = match serde_json::from_str(text) {
            Ok(event) => event,
            Err(e) => {
                let error = ApiError::new(ErrorCode::BadRequest, format!("Unreadable frame: {e}"));
                self.emit(&ServerEvent::Error { error });
                return Ok(());
            }
        };
        // Replays are the costly frames (queries and rows): limited per user, not per socket,
        // so opening more sockets buys nothing. Over the limit a `hello` closes the connection
        // with 1013 (without a `ready` it is of no use; the client reconnects after its
        // backoff); a `resume` on a working connection gets `rate_limited` and it stays open.
        if matches!(
            event,
            ClientEvent::Hello { .. } | ClientEvent::Resume { .. }
        ) {
            if let Err(limited) = self.state.limits.check(Action::Replay, self.user.id) {
                tracing::info!(user_id = %self.user.id, "replays limited");
                if matches!(event, ClientEvent::Hello { .. }) {
                    return Err((close::TRY_AGAIN_LATER, "too many replays; reconnect later"));
                }
                self.emit_error(limited);
                return Ok(());
            }
        }
        let result = match event {
            // The token was read before the connection was served (or not at all: a session
            // authenticated it).
            ClientEvent::Hello {
                version, cursors, ..
            } => {
                if version != PROTOCOL_VERSION {
                    return Err((close::UNSUPPORTED_VERSION, "unsupported protocol version"));
                }
                self.hello(cursors).await
            }
            ClientEvent::Resume { cursors } => self.replay(cursors).await,
            ClientEvent::Send {
                id,
                channel_id,
                text,
                reply_to,
                attachments,
            } => {
                self.send(id, channel_id, &text, reply_to, &attachments)
                    .await;
                Ok(())
            }
            ClientEvent::React {
                message_id,
                emoji,
                on,
            } => self.react(message_id, &emoji, on).await,
            ClientEvent::Typing { channel_id } => self.typing(channel_id).await,
            ClientEvent::Read { channel_id, seq } => {
                chat::move_read_mark(&self.state, &self.user, channel_id, Some(seq)).await
            }
            // Through the queue: the pong comes after every event queued before the ping.
            ClientEvent::Ping => {
                self.emit(&ServerEvent::Pong);
                return Ok(());
            }
        };
        match result {
            Ok(()) => Ok(()),
            Err(e) => {
                self.emit_error(e);
                Ok(())
            }
        }
    }

    async fn hello(&mut self, cursors: Vec<Cursor>) -> Result<(), ServerError> {
        let presence = db::presence::of_peers(&self.state.pool, self.user.id).await?;
        let blocked = db::blocks::blocked_by(&self.state.pool, self.user.id).await?;
        self.emit(&ServerEvent::Ready {
            version: PROTOCOL_VERSION,
            user_id: self.user.id,
            presence,
            blocked,
        });
        self.replay(cursors).await
    }

    /// Replays, per channel, what changed after its cursor's version (when it has one: see
    /// [`Self::replay_changes`]), then the messages after its sequence, or `reset` when more
    /// than [`MAX_REPLAY`] were missed or the frame's budget ([`MAX_REPLAY_PER_FRAME`]
    /// messages, [`MAX_REPLAY_BYTES_PER_FRAME`] bytes of text) is spent. A channel listed twice
    /// counts once (from its lower cursor). Channels the user is not in get `channel_removed`
    /// each (they may have been removed meanwhile) and one `not_found`. A few queries whatever
    /// the frame holds.
    async fn replay(&mut self, cursors: Vec<Cursor>) -> Result<(), ServerError> {
        if cursors.len() > MAX_CURSORS {
            return Err(ServerError::BadRequest(format!(
                "At most {MAX_CURSORS} cursors per resume."
            )));
        }
        let mut order = Vec::new();
        let mut after: HashMap<Uuid, i64> = HashMap::new();
        let mut versions: HashMap<Uuid, i64> = HashMap::new();
        for cursor in cursors {
            let last_seq = cursor.last_seq.max(0);
            after
                .entry(cursor.channel_id)
                .and_modify(|seq| *seq = (*seq).min(last_seq))
                .or_insert_with(|| {
                    order.push(cursor.channel_id);
                    last_seq
                });
            if let Some(version) = cursor.version {
                let version = version.max(0);
                versions
                    .entry(cursor.channel_id)
                    .and_modify(|v| *v = (*v).min(version))
                    .or_insert(version);
            }
        }
        let standings =
            db::channels::standings_for_member(&self.state.pool, self.user.id, &order).await?;
        let newest: HashMap<Uuid, i64> = standings.iter().map(|s| (s.id, s.last_seq)).collect();
        let gone: Vec<Uuid> = order
            .iter()
            .filter(|c| !newest.contains_key(c))
            .copied()
            .collect();
        if !gone.is_empty() {
            self.emit_error(ServerError::NotFound);
            for channel_id in gone {
                self.emit(&ServerEvent::ChannelRemoved { channel_id });
            }
        }
        // Changes and new messages share the frame's budget, so its answer stays under the
        // connection's queue whatever the cursors ask for.
        let mut budget = MAX_REPLAY_PER_FRAME;
        let mut resets = self
            .replay_changes(&order, &standings, &after, &versions, &mut budget)
            .await?;
        let mut ranges = Vec::new();
        for channel in order {
            let (Some(&newest), Some(&after)) = (newest.get(&channel), after.get(&channel)) else {
                continue;
            };
            if resets.contains(&channel) {
                continue;
            }
            let missed = newest - after;
            if missed <= 0 {
                continue;
            }
            if missed > MAX_REPLAY || missed > budget {
                resets.push(channel);
                continue;
            }
            budget -= missed;
            ranges.push((channel, after + 1, newest));
        }
        if !ranges.is_empty() {
            let channels: Vec<Uuid> = ranges.iter().map(|r| r.0).collect();
            let from: Vec<i64> = ranges.iter().map(|r| r.1).collect();
            let to: Vec<i64> = ranges.iter().map(|r| r.2).collect();
            let rows = db::messages::replay(
                &self.state.pool,
                &channels,
                &from,
                &to,
                MAX_REPLAY_BYTES_PER_FRAME,
            )
            .await?;
            let versions_of: HashMap<Uuid, i64> = rows.iter().map(|r| (r.id, r.version)).collect();
            // A range cut short by the byte budget is reset instead: all of it, or none.
            let mut rows = rows.into_iter().peekable();
            for (channel, from, to) in ranges {
                let mut messages = Vec::new();
                while let Some(row) = rows.next_if(|r| r.channel_id == channel) {
                    messages.push(row);
                }
                if messages.len() as i64 == to - from + 1 {
                    for message in db::messages::views(&self.state.pool, messages).await? {
                        // A message's version is the last change it shows (a reaction, an
                        // edit): the event carries it, so the cursor moves past it.
                        let version = versions_of.get(&message.id).copied().unwrap_or(0);
                        self.emit(&ServerEvent::Message { version, message });
                    }
                } else {
                    resets.push(channel);
                }
            }
        }
        for channel_id in resets {
            self.emit(&ServerEvent::Reset { channel_id });
        }
        Ok(())
    }

    /// Replays the changes made after each versioned cursor to what the client holds: the
    /// messages up to its sequence changed since (each once, in its current state, as
    /// `message_updated`), and the channel's name and members when they changed since
    /// (`channel_updated`), in version order per channel. New messages come after, from the
    /// sequence. Returns the channels to `reset` instead: more than [`MAX_REPLAY`] changed
    /// messages, or past the frame's `budget` of events ([`MAX_REPLAY_PER_FRAME`], shared with
    /// the new messages replayed after).
    async fn replay_changes(
        &mut self,
        order: &[Uuid],
        standings: &[db::channels::Standing],
        after: &HashMap<Uuid, i64>,
        versions: &HashMap<Uuid, i64>,
        budget: &mut i64,
    ) -> Result<Vec<Uuid>, ServerError> {
        // Channels that changed since the client's version (not those it is up to date in).
        let changed: Vec<(&db::channels::Standing, i64, i64)> = order
            .iter()
            .filter_map(|c| {
                let standing = standings.iter().find(|s| s.id == *c)?;
                let version = *versions.get(c)?;
                let upto = (*after.get(c)?).min(standing.last_seq);
                (standing.version > version).then_some((standing, version, upto))
            })
            .collect();
        if changed.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<Uuid> = changed.iter().map(|(s, _, _)| s.id).collect();
        let from: Vec<i64> = changed.iter().map(|(_, v, _)| *v).collect();
        let upto: Vec<i64> = changed.iter().map(|(_, _, u)| *u).collect();
        let limit = MAX_REPLAY_PER_FRAME + 1;
        let rows = db::messages::changed_since(&self.state.pool, &ids, &from, &upto, limit).await?;
        let cut = rows.len() as i64 >= limit;
        let metas_wanted: Vec<Uuid> = changed
            .iter()
            .filter(|(s, v, _)| s.meta_version > *v)
            .map(|(s, _, _)| s.id)
            .collect();
        let metas = if metas_wanted.is_empty() {
            Vec::new()
        } else {
            db::channels::metas(&self.state.pool, &metas_wanted).await?
        };
        let mut resets = Vec::new();
        // Rows come per channel in id order; past a cut, a channel's rows may be incomplete.
        let last_channel = rows.last().map(|r| r.channel_id);
        for (standing, _, _) in &changed {
            let channel = standing.id;
            let mine: Vec<&db::messages::MessageRow> =
                rows.iter().filter(|r| r.channel_id == channel).collect();
            let incomplete = cut && last_channel.is_none_or(|last| channel >= last);
            let meta = metas.iter().find(|m| m.id == channel);
            let events = mine.len() as i64 + i64::from(meta.is_some());
            if incomplete || mine.len() as i64 > MAX_REPLAY || events > *budget {
                resets.push(channel);
                continue;
            }
            *budget -= events;
            let mut meta_sent = false;
            let versions: Vec<i64> = mine.iter().map(|r| r.version).collect();
            let views =
                db::messages::views(&self.state.pool, mine.into_iter().cloned().collect()).await?;
            for (message, version) in views.into_iter().zip(versions) {
                if let Some(meta) = meta.filter(|m| !meta_sent && m.meta_version < version) {
                    self.emit_meta(meta);
                    meta_sent = true;
                }
                self.emit(&ServerEvent::MessageUpdated { version, message });
            }
            if let Some(meta) = meta.filter(|_| !meta_sent) {
                self.emit_meta(meta);
            }
        }
        Ok(resets)
    }

    fn emit_meta(&self, meta: &db::channels::Meta) {
        self.emit(&ServerEvent::ChannelUpdated {
            channel_id: meta.id,
            name: meta.name.clone(),
            members: meta.members.0.clone(),
            version: meta.meta_version,
        });
    }

    /// Queues the send with the writer and answers `ack`/`nack` through this connection's own
    /// queue once stored, without holding up the frames that follow.
    async fn send(
        &mut self,
        id: Uuid,
        channel_id: Uuid,
        text: &str,
        reply_to: Option<Uuid>,
        attachments: &[Uuid],
    ) {
        let nack = |error: ApiError| ServerEvent::Nack { id, error };
        let text = match MessageText::parse_with_attachments(text, attachments.len()) {
            Ok(text) => text,
            Err(e) => return self.emit(&nack(ApiError::from(e))),
        };
        if let Err(limited) = self.state.limits.send(self.user.id) {
            return self.emit(&nack(ApiError::from(limited)));
        }
        if let Some(original) = reply_to {
            if let Err(e) = chat::check_reply(&self.state.pool, channel_id, original).await {
                return self.emit(&nack(ApiError::from(e)));
            }
        }
        let attachments = match crate::server::attachments::check_for_send(
            &self.state.pool,
            self.user.id,
            channel_id,
            id,
            attachments,
        )
        .await
        {
            Ok(attachments) => attachments,
            Err(e) => return self.emit(&nack(ApiError::from(e))),
        };
        // The message ends the typing; the next keystroke may announce it again at once.
        self.last_typing = None;
        let draft = Draft {
            id,
            channel_id,
            user_id: self.user.id,
            text,
            reply_to,
            attachments,
        };
        let pending = match self.state.realtime.writer.enqueue(draft).await {
            Ok(pending) => pending,
            // The instance is stopping and this socket with it: no answer, so the client
            // resends it (same id) once it has reconnected.
            Err(ServerError::ShuttingDown) => return,
            Err(e) => return self.emit(&nack(ApiError::from(e))),
        };
        let to_self = self.registration.to_self.clone();
        self.answering.spawn(async move {
            let event = match pending.stored().await {
                Ok(message) => ServerEvent::Ack { id, message },
                Err(ServerError::ShuttingDown) => return,
                Err(e) => ServerEvent::Nack {
                    id,
                    error: ApiError::from(e),
                },
            };
            to_self.offer(&Frame::new(&event));
        });
    }

    /// Sets my reaction; members (this connection too) get the change as `message_updated`.
    async fn react(&mut self, message_id: Uuid, emoji: &str, on: bool) -> Result<(), ServerError> {
        chat::react(&self.state, &self.user, message_id, emoji, on).await?;
        Ok(())
    }

    async fn typing(&mut self, channel_id: Uuid) -> Result<(), ServerError> {
        if self
            .last_typing
            .is_some_and(|at| at.elapsed() < TYPING_EVERY)
        {
            return Ok(());
        }
        self.last_typing = Some(Instant::now());
        self.state.limits.check(Action::Typing, self.user.id)?;
        if !db::channels::is_member(&self.state.pool, channel_id, self.user.id).await? {
            return Err(ServerError::NotFound);
        }
        Notice::Typing {
            c: channel_id,
            u: self.user.id,
            // Nobody who blocks me or whom I block sees me type.
            h: db::blocks::apart_from(&self.state.pool, self.user.id).await?,
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
