//! This instance's registry of live connections: WebSockets by user, SSE streams by channel.
//! Each connection has a bounded queue of frames serialized once per event; a connection whose
//! queue is full is cut off (it reconnects and resumes by cursor) instead of growing memory.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::ws::Utf8Bytes;
use tokio::sync::{mpsc, Notify};
use uuid::Uuid;

use crate::model::ServerEvent;

/// Frames a connection may have waiting before it counts as too slow. (Room is allocated as
/// frames arrive, 32 slots at a time, not up front.)
pub const QUEUE_FRAMES: usize = 1024;

/// One serialized event, shared by every connection it goes to (cloning is a reference count).
/// One pointer wide: every idle connection's queue holds a first block of 32 slots, which is
/// 256 bytes of pointers instead of 2.3 KB of inline frames (BENCHMARKS.md, idle sockets).
#[derive(Debug, Clone)]
pub struct Frame(Arc<Serialized>);

/// What a [`Frame`] holds.
#[derive(Debug)]
pub struct Serialized {
    pub json: Utf8Bytes,
    pub kind: &'static str,
    /// For message events: the channel sequence (the SSE `id:`).
    pub seq: Option<i64>,
    /// Not an event: the connection should close with this code.
    pub close: Option<u16>,
}

impl Frame {
    pub fn new(event: &ServerEvent) -> Self {
        let seq = match event {
            ServerEvent::Message { message, .. } => Some(message.seq),
            _ => None,
        };
        // Serializing these types cannot fail (no maps with non-string keys, no custom code).
        let json = serde_json::to_string(event).unwrap_or_default();
        Self(Arc::new(Serialized {
            json: json.into(),
            kind: event.kind(),
            seq,
            close: None,
        }))
    }

    /// Tells a connection to close with `code` (after the frames queued before it).
    pub fn close(code: u16) -> Self {
        Self(Arc::new(Serialized {
            json: Utf8Bytes::from_static(""),
            kind: "close",
            seq: None,
            close: Some(code),
        }))
    }
}

impl std::ops::Deref for Frame {
    type Target = Serialized;

    fn deref(&self) -> &Serialized {
        &self.0
    }
}

/// Who holds a connection: the user, and the session it was opened with (the SHA-256 of the
/// session token), so that signing out ends exactly that session's connections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub user_id: Uuid,
    pub session: Option<String>,
}

/// Tells a connection to stop at once, ahead of whatever its queue holds: the first reason
/// given wins.
#[derive(Default)]
pub struct Stop {
    code: AtomicU16,
    notify: Notify,
}

impl Stop {
    pub fn stop(&self, code: u16) {
        let _ = self
            .code
            .compare_exchange(0, code, Ordering::AcqRel, Ordering::Acquire);
        // A stored permit wakes the connection even if it is not waiting right now.
        self.notify.notify_one();
    }

    /// Whether the connection was told to stop (without waiting).
    pub fn is_stopped(&self) -> bool {
        self.code.load(Ordering::Acquire) != 0
    }

    /// Waits until the connection is told to stop; returns the close code.
    pub async fn stopped(&self) -> u16 {
        loop {
            let code = self.code.load(Ordering::Acquire);
            if code != 0 {
                return code;
            }
            self.notify.notified().await;
        }
    }
}

/// The sending end of one connection's queue.
#[derive(Clone)]
pub struct Sink {
    id: u64,
    tx: mpsc::Sender<Frame>,
    stop: Arc<Stop>,
    holder: Arc<Holder>,
}

impl Sink {
    /// Queues a frame; `false` when the connection is gone or was just cut off for lagging
    /// (it reconnects and resumes by cursor, which covers what was dropped).
    pub fn offer(&self, frame: &Frame) -> bool {
        match self.tx.try_send(frame.clone()) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.stop.stop(crate::model::event::close::TOO_SLOW);
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }

    fn held_by(&self, user_id: Uuid, session: Option<&str>) -> bool {
        self.holder.user_id == user_id
            && session.is_none_or(|s| self.holder.session.as_deref() == Some(s))
    }
}

#[derive(Default)]
struct Registry {
    by_user: HashMap<Uuid, Vec<Sink>>,
    by_channel: HashMap<Uuid, Vec<Sink>>,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    User(Uuid),
    Channel(Uuid),
}

#[derive(Default)]
pub struct Hub {
    registry: Mutex<Registry>,
    next_id: AtomicU64,
}

/// A live connection's end of the hub: its queue, its stop signal (too slow, session ended),
/// and (on drop) its removal from the registry.
pub struct Registration {
    hub: Arc<Hub>,
    key: Key,
    id: u64,
    pub frames: mpsc::Receiver<Frame>,
    /// Queues frames to this connection itself (answers that must not overtake events).
    pub to_self: Sink,
    pub stop: Arc<Stop>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.hub.remove(self.key, self.id);
    }
}

impl Hub {
    fn lock(&self) -> MutexGuard<'_, Registry> {
        // A panic while holding this lock cannot leave the maps half-changed (every change is
        // one push or retain), so a poisoned lock is still usable.
        self.registry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Registers a WebSocket of `holder`.
    pub fn connect_user(self: &Arc<Self>, holder: Holder) -> Registration {
        self.register(Key::User(holder.user_id), holder)
    }

    /// Registers an SSE stream of one channel, opened by `holder`.
    pub fn subscribe_channel(self: &Arc<Self>, channel_id: Uuid, holder: Holder) -> Registration {
        self.register(Key::Channel(channel_id), holder)
    }

    fn register(self: &Arc<Self>, key: Key, holder: Holder) -> Registration {
        let (tx, frames) = mpsc::channel(QUEUE_FRAMES);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let stop = Arc::new(Stop::default());
        let sink = Sink {
            id,
            tx,
            stop: stop.clone(),
            holder: Arc::new(holder),
        };
        let mut registry = self.lock();
        match key {
            Key::User(user) => registry.by_user.entry(user).or_default().push(sink.clone()),
            Key::Channel(channel) => registry
                .by_channel
                .entry(channel)
                .or_default()
                .push(sink.clone()),
        }
        Registration {
            hub: self.clone(),
            key,
            id,
            frames,
            to_self: sink,
            stop,
        }
    }

    fn remove(&self, key: Key, id: u64) {
        let mut registry = self.lock();
        let map = match key {
            Key::User(user) => registry.by_user.get_mut(&user),
            Key::Channel(channel) => registry.by_channel.get_mut(&channel),
        };
        let Some(sinks) = map else { return };
        sinks.retain(|s| s.id != id);
        if sinks.is_empty() {
            match key {
                Key::User(user) => registry.by_user.remove(&user),
                Key::Channel(channel) => registry.by_channel.remove(&channel),
            };
        }
    }

    /// How many WebSockets `user_id` holds on this instance.
    pub fn sockets_of(&self, user_id: Uuid) -> usize {
        self.lock().by_user.get(&user_id).map_or(0, Vec::len)
    }

    /// Of `users`, those with a WebSocket here.
    pub fn connected<'a>(&self, users: impl IntoIterator<Item = &'a Uuid>) -> Vec<Uuid> {
        let registry = self.lock();
        users
            .into_iter()
            .filter(|u| registry.by_user.contains_key(u))
            .copied()
            .collect()
    }

    /// Every user with a WebSocket here.
    pub fn users(&self) -> Vec<Uuid> {
        self.lock().by_user.keys().copied().collect()
    }

    /// Queues `frame` to every WebSocket of these users, except `skip`.
    pub fn to_users<'a>(
        &self,
        users: impl IntoIterator<Item = &'a Uuid>,
        skip: Option<Uuid>,
        frame: &Frame,
    ) {
        let registry = self.lock();
        for user in users {
            if Some(*user) == skip {
                continue;
            }
            for sink in registry.by_user.get(user).into_iter().flatten() {
                sink.offer(frame);
            }
        }
    }

    /// Queues `frame` to every SSE stream of `channel_id`.
    pub fn to_channel_streams(&self, channel_id: Uuid, frame: &Frame) {
        let registry = self.lock();
        for sink in registry.by_channel.get(&channel_id).into_iter().flatten() {
            sink.offer(frame);
        }
    }

    /// Stops every connection (WebSocket or SSE) of `user_id` opened with `session`, or with
    /// any session when `None`: the session ended.
    pub fn end_sessions(&self, user_id: Uuid, session: Option<&str>, code: u16) {
        let registry = self.lock();
        let sockets = registry.by_user.get(&user_id).into_iter().flatten();
        // Streams are keyed by channel: signing out is rare, a walk over them is fine.
        let streams = registry.by_channel.values().flatten();
        for sink in sockets.chain(streams) {
            if sink.held_by(user_id, session) {
                sink.stop.stop(code);
            }
        }
    }

    /// Ends every SSE stream of `channel_id` that `user_id` opened: they left the channel.
    pub fn end_channel_streams(&self, channel_id: Uuid, user_id: Uuid) {
        let registry = self.lock();
        for sink in registry.by_channel.get(&channel_id).into_iter().flatten() {
            if sink.held_by(user_id, None) {
                sink.stop.stop(crate::model::event::close::GOING_AWAY);
            }
        }
    }

    /// Queues `frame` to every connection here (e.g. `resync` after the bus link dropped).
    pub fn to_everyone(&self, frame: &Frame) {
        let registry = self.lock();
        for sink in registry
            .by_user
            .values()
            .chain(registry.by_channel.values())
            .flatten()
        {
            sink.offer(frame);
        }
    }
}
