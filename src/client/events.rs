//! What the client does with each server event: messages go into loaded logs (by id, in
//! sequence order, gaps fetched by cursor), acknowledgements settle the outbox, counts and read
//! marks are set to the server's absolute values, presence and typing update their own signals;
//! channel changes (renames, members, removal, mute) and my block list replace what the store
//! held.

use leptos::prelude::*;
use uuid::Uuid;

use super::{ChannelLog, ChatClient, Delivery};
use crate::model::{ApiError, ClientEvent, Message, ServerEvent};

/// How long "… is typing" lasts without a new typing event.
#[cfg(feature = "hydrate")]
const TYPING_LASTS: std::time::Duration = std::time::Duration::from_secs(5);

impl ChatClient {
    pub(super) fn receive_frame(&self, text: &str) {
        match ServerEvent::from_json(text.as_bytes()) {
            Ok(event) => self.apply(event),
            Err(e) => leptos::logging::warn!("chat: unreadable event: {e}"),
        }
    }

    fn apply(&self, event: ServerEvent) {
        match event {
            ServerEvent::Ready {
                presence, blocked, ..
            } => {
                for p in presence {
                    self.presence(p.user_id).set(Some(p));
                }
                self.set_blocked(blocked);
                self.ready();
            }
            ServerEvent::Message { message, version } => self.arrived(message, version),
            ServerEvent::MessageUpdated { message, version } => self.updated(message, version),
            ServerEvent::Ack { id, message } => self.settled(id, Ok(message)),
            ServerEvent::Nack { id, error } => self.settled(id, Err(error)),
            ServerEvent::ChannelState {
                channel_id,
                last_seq,
                unread,
                my_last_read_seq,
                others_last_read_seq,
                muted,
                mentions,
            } => {
                self.update_channel(channel_id, |c| {
                    c.mentions = mentions;
                    c.last_seq = c.last_seq.max(last_seq);
                    c.unread = unread;
                    c.my_last_read_seq = my_last_read_seq;
                    c.others_last_read_seq = others_last_read_seq;
                    c.muted = muted;
                });
                if self.beyond_pages(channel_id) {
                    self.recount_unloaded();
                }
            }
            ServerEvent::ChannelAdded { channel } => {
                let known = self
                    .channels
                    .with_untracked(|list| list.iter().any(|c| c.id == channel.id));
                // Removed earlier and added again: readable once more.
                self.missing.update(|ids| {
                    ids.remove(&channel.id);
                });
                if !known {
                    self.put_channel(channel);
                }
            }
            ServerEvent::ChannelUpdated {
                channel_id,
                name,
                members,
                version,
            } => self.channel_changed(channel_id, name, members, version),
            ServerEvent::ChannelRemoved { channel_id } => self.removed(channel_id),
            ServerEvent::Blocks { blocked } => self.set_blocked(blocked),
            ServerEvent::Presence { presence } => {
                self.presence(presence.user_id).set(Some(presence));
            }
            ServerEvent::Typing {
                channel_id,
                user_id,
            } => self.started_typing(channel_id, user_id),
            ServerEvent::Reset { channel_id } => self.load_newest(channel_id, false),
            ServerEvent::Resync => self.resume(&self.cursors()),
            ServerEvent::Error { error } => leptos::logging::warn!("chat: {}", error.message),
            ServerEvent::Pong => {}
        }
    }

    /// A new message, live or replayed (a replayed one changed since carries that change's
    /// version).
    fn arrived(&self, message: Message, version: i64) {
        let log = self.log(message.channel_id);
        // A window (`has_newer`) gets there by pages.
        if log.with_untracked(|l| l.loaded && !l.has_newer) {
            let newest = log.with_untracked(ChannelLog::newest_seq);
            log.update(|l| {
                l.upsert(message.clone(), Delivery::Sent);
                l.version = l.version.max(version);
            });
            if message.seq > newest + 1 {
                // Something between was missed: the replay fills it (duplicates merge by id).
                self.catch_up_from(message.channel_id, newest);
            }
        }
        self.notify(&message);
        if let Some(author) = message.user_id {
            self.stopped_typing(message.channel_id, author);
            if author == self.me_id() {
                self.stored_elsewhere(message.id);
            }
        }
        self.note_message(&message);
    }

    /// A message was edited, deleted or reacted to: it replaces the one the log holds (with its
    /// reactions, as absolute values) and every quote of it there. One the log does not hold
    /// (older than its pages, replayed by a resume) stays out: the log stays one unbroken run.
    fn updated(&self, message: Message, version: i64) {
        let channel_id = message.channel_id;
        let log = self.log(channel_id);
        if !log.with_untracked(|l| l.loaded) {
            return;
        }
        let held = log.with_untracked(|l| l.holds(message.id));
        log.update(|l| {
            l.version = l.version.max(version);
            if !held {
                l.requote(&message);
            }
        });
        if held {
            self.replace(channel_id, message);
        } else {
            self.update_channel(channel_id, |c| {
                if c.last_message.as_ref().is_some_and(|m| m.id == message.id) {
                    c.last_message = Some(message);
                }
            });
        }
    }

    /// The server answered a send: stored, or refused ("Failed to send" + "Retry").
    fn settled(&self, id: Uuid, outcome: Result<Message, ApiError>) {
        // Stored or finally refused: either way never sent again, by this page or the next.
        self.forget_queued(id);
        let mut queued = None;
        self.outbox.update_value(|o| {
            if o.in_flight.is_some_and(|(sent, _)| sent == id) {
                o.in_flight = None;
            }
            if let Some(at) = o.queue.iter().position(|m| m.id == id) {
                queued = o.queue.remove(at);
            }
        });
        match outcome {
            Ok(message) => self.stored(message),
            Err(error) => {
                leptos::logging::warn!("chat: send refused: {}", error.message);
                if let Some(message) = queued {
                    let id = message.id;
                    self.log(message.channel_id).update(|l| {
                        l.upsert(message, Delivery::Failed);
                        if let Some(failed) = l.messages.iter_mut().find(|m| m.message.id == id) {
                            failed.refusal = Some(error.message);
                        }
                    });
                }
            }
        }
        self.flush_outbox();
    }

    /// Shows "… is typing" for a while; a newer event restarts the clock.
    fn started_typing(&self, channel_id: Uuid, user_id: Uuid) {
        let typing = self.typing(channel_id);
        if !typing.with_untracked(|t| t.contains(&user_id)) {
            typing.update(|t| t.push(user_id));
        }
        let mut mark = 0;
        self.typing_marks.update_value(|marks| {
            let m = marks.entry((channel_id, user_id)).or_default();
            *m += 1;
            mark = *m;
        });
        #[cfg(feature = "hydrate")]
        {
            let this = *self;
            set_timeout(
                move || {
                    let current = this
                        .typing_marks
                        .with_value(|m| m.get(&(channel_id, user_id)).copied());
                    if current == Some(mark) {
                        this.stopped_typing(channel_id, user_id);
                    }
                },
                TYPING_LASTS,
            );
        }
    }

    fn stopped_typing(&self, channel_id: Uuid, user_id: Uuid) {
        let typing = self.typing(channel_id);
        if typing.with_untracked(|t| t.contains(&user_id)) {
            typing.update(|t| t.retain(|u| *u != user_id));
        }
        self.typing_marks.update_value(|marks| {
            if let Some(m) = marks.get_mut(&(channel_id, user_id)) {
                *m += 1;
            }
        });
    }

    /// The user is typing in a channel: tell the others, at most every two seconds.
    pub fn typed(&self, channel_id: Uuid) {
        let now = super::connection::now_ms();
        let last = self
            .typing_sent
            .with_value(|t| t.get(&channel_id).copied().unwrap_or(0.0));
        if now - last < 2_000.0 {
            return;
        }
        if self.transmit(&ClientEvent::Typing { channel_id }) {
            self.typing_sent.update_value(|t| {
                t.insert(channel_id, now);
            });
        }
    }
}
