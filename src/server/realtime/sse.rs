//! `GET /api/chat/events?channel_id=…`: one channel's events as Server-Sent Events, for clients
//! that only listen. Members only (404 otherwise). Each `message` event's `id:` is its channel
//! sequence, so a reconnecting `EventSource` sends `Last-Event-ID` and gets exactly what it
//! missed: the stream fills any gap from the table and never repeats a sequence. The stream
//! ends when its session does (signed out on any instance, or expired) and when its user
//! leaves the channel.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use serde::Deserialize;
use sqlx::PgPool;
use uuid::Uuid;

use super::hub::{Frame, Registration};
use crate::model::event::{MAX_REPLAY, MAX_REPLAY_BYTES_PER_FRAME};
use crate::model::{Message, ServerEvent};
use crate::server::db;
use crate::server::error::ServerError;
use crate::server::extract::{ApiQuery, ClientAddress};
use crate::server::lifecycle::Lifecycle;
use crate::server::limits::SocketSlot;
use crate::server::state::Chat;

#[derive(Debug, Deserialize)]
pub struct EventsQuery {
    pub channel_id: Uuid,
}

pub async fn events(
    State(state): State<Chat>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<EventsQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ServerError> {
    let session = state
        .viewer(&headers)
        .await?
        .ok_or(ServerError::Unauthenticated)?;
    // Streams count against the address's connections, as WebSockets do.
    let Some(slot) = state.limits.socket_slot(address) else {
        tracing::info!(%address, "too many streams for one address");
        return Err(ServerError::TooManyConnections);
    };
    let me = &session.user;
    let channel_id = query.channel_id;
    let resume_after = match headers.get("last-event-id") {
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse::<i64>().ok())
                .filter(|seq| *seq >= 0)
                .ok_or_else(|| {
                    ServerError::BadRequest("Last-Event-ID must be a sequence number.".into())
                })?,
        ),
        None => None,
    };
    // Subscribe before reading the table, so nothing committed in between is missed.
    let registration = state
        .realtime
        .hub
        .subscribe_channel(channel_id, session.holder());
    let last_seq = db::channels::last_seq_for_member(&state.pool, channel_id, me.id)
        .await?
        .ok_or(ServerError::NotFound)?;
    if state.lifecycle.is_stopping() {
        return Err(ServerError::ShuttingDown);
    }
    let mut feed = Feed {
        pool: state.pool.clone(),
        lifecycle: state.lifecycle.clone(),
        channel_id,
        // A resume point past the newest message is the newest message (and keeps the
        // arithmetic of `fill` far from overflow).
        last_seq: resume_after.map_or(last_seq, |after| after.min(last_seq)),
        backlog: VecDeque::new(),
        more: false,
        registration,
        _slot: slot,
        session_ends: tokio::time::Instant::now() + session.ends_in(),
    };
    if resume_after.is_some() {
        feed.fill().await?;
    }
    let events = stream::unfold(feed, |mut feed| async move {
        let event = feed.next().await?;
        Some((Ok(event), feed))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

struct Feed {
    pool: PgPool,
    /// The chat's lifecycle: the stream ends when shutdown begins (clients reconnect with
    /// `Last-Event-ID`).
    lifecycle: Lifecycle,
    channel_id: Uuid,
    /// The newest sequence sent (or the resume point).
    last_seq: i64,
    backlog: VecDeque<Message>,
    /// The last fill hit its limit: more rows wait in the table.
    more: bool,
    registration: Registration,
    /// Held while the stream lives.
    _slot: SocketSlot,
    session_ends: tokio::time::Instant,
}

impl Feed {
    /// Loads the messages after `last_seq` from the table: at most [`MAX_REPLAY`] messages and
    /// [`MAX_REPLAY_BYTES_PER_FRAME`] bytes of text at a time, so a stream that is read slowly
    /// holds a bounded backlog; the rest is loaded when this is sent.
    /// [`Feed::fill`] inside the stream: a failure is logged where every error of the chat is
    /// (`ServerError::log`) and ends the stream; the client reconnects with `Last-Event-ID`.
    async fn refill(&mut self) -> Option<()> {
        match self.fill().await {
            Ok(()) => Some(()),
            Err(e) => {
                ServerError::from(e).log();
                None
            }
        }
    }

    async fn fill(&mut self) -> Result<(), sqlx::Error> {
        let rows = db::messages::replay(
            &self.pool,
            &[self.channel_id],
            &[self.last_seq + 1],
            &[self.last_seq + MAX_REPLAY],
            MAX_REPLAY_BYTES_PER_FRAME,
        )
        .await?;
        // Cut short by either bound, or not: ask again once these are sent (an empty answer
        // ends the catching up).
        self.more = !rows.is_empty();
        self.backlog = db::messages::views(&self.pool, rows).await?.into();
        Ok(())
    }

    /// The next event, or `None` to end the stream (the client reconnects and resumes).
    async fn next(&mut self) -> Option<Event> {
        loop {
            // Also while catching up: a signed-out or expired stream sends nothing more.
            if self.registration.stop.is_stopped()
                || tokio::time::Instant::now() >= self.session_ends
            {
                return None;
            }
            if let Some(message) = self.backlog.pop_front() {
                if message.seq <= self.last_seq {
                    continue;
                }
                self.last_seq = message.seq;
                let event = ServerEvent::Message {
                    message,
                    version: 0,
                };
                return Some(to_event(&Frame::new(&event)));
            }
            if self.more {
                self.refill().await?;
                continue;
            }
            let frame = tokio::select! {
                // Stopping wins over a frame that is ready too: a member removed from the
                // channel is stopped before its next event is queued, and must not get it.
                biased;
                // Too slow, the session ended, or no longer a member: the stream ends.
                _ = self.registration.stop.stopped() => return None,
                () = self.lifecycle.stopped() => return None,
                () = tokio::time::sleep_until(self.session_ends) => return None,
                frame = self.registration.frames.recv() => frame?,
            };
            if frame.close.is_some() {
                return None;
            }
            match frame.seq {
                Some(seq) if seq <= self.last_seq => continue,
                Some(seq) if seq == self.last_seq + 1 => {
                    self.last_seq = seq;
                    return Some(to_event(&frame));
                }
                // A gap (a missed notice), or the instance lost its bus link: read the table.
                Some(_) => self.refill().await?,
                None if frame.kind == ServerEvent::Resync.kind() => self.refill().await?,
                None => return Some(to_event(&frame)),
            }
        }
    }
}

fn to_event(frame: &Frame) -> Event {
    let event = Event::default().event(frame.kind).data(frame.json.as_str());
    match frame.seq {
        Some(seq) => event.id(seq.to_string()),
        None => event,
    }
}
