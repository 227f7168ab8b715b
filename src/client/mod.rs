//! The chat client: one per tab. It owns the reactive store (channels, per-channel message
//! logs, delivery states) and every call to the server; components read store slices and call
//! its methods, never the network. Server answers and (later) realtime events update the store
//! with absolute values (unread counts, read marks), never increments.
//!
//! Compiled for both builds so components can name it; its network methods only run in the
//! browser (from event handlers and effects).

use std::collections::HashMap;

use chrono::Utc;
use leptos::prelude::*;
use leptos::task::spawn_local;
use uuid::Uuid;

use crate::api;
use crate::model::{ChannelSummary, Message, MessageText, NewMessage, User};

/// Where a message is on its way to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Delivery {
    /// Stored on the server.
    Sent,
    /// Shown at once, waiting for the server's acknowledgement.
    Pending,
    /// The server could not be reached or refused it; "Retry" resends with the same id.
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LocalMessage {
    pub message: Message,
    pub delivery: Delivery,
}

/// What this tab knows of one channel's history: a contiguous run of the newest messages
/// (oldest first), then messages still on their way.
#[derive(Debug, Clone, Default)]
pub struct ChannelLog {
    pub messages: Vec<LocalMessage>,
    /// Older messages exist on the server before the first one here.
    pub has_more: bool,
    pub loaded: bool,
    pub loading_older: bool,
    pub error: Option<String>,
}

impl ChannelLog {
    /// Adds or replaces `message` (matched by id), keeping stored messages in sequence order
    /// and pending ones after them.
    fn upsert(&mut self, message: Message, delivery: Delivery) {
        self.messages.retain(|m| m.message.id != message.id);
        let local = LocalMessage { message, delivery };
        if delivery == Delivery::Sent {
            let at = self
                .messages
                .iter()
                .position(|m| m.delivery != Delivery::Sent || m.message.seq > local.message.seq)
                .unwrap_or(self.messages.len());
            self.messages.insert(at, local);
        } else {
            self.messages.push(local);
        }
    }

    /// The newest stored sequence shown (0 when none).
    pub fn newest_seq(&self) -> i64 {
        self.messages
            .iter()
            .filter(|m| m.delivery == Delivery::Sent)
            .map(|m| m.message.seq)
            .max()
            .unwrap_or(0)
    }
}

/// Channel list loading state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListState {
    Loading,
    Ready,
    Failed(String),
}

#[derive(Clone, Copy)]
pub struct ChatClient {
    pub me: StoredValue<User>,
    pub channels: RwSignal<Vec<ChannelSummary>>,
    pub list_state: RwSignal<ListState>,
    logs: StoredValue<HashMap<Uuid, RwSignal<ChannelLog>>>,
    /// Owns every signal of this client. Signals made lazily (channel logs) are created under
    /// it, not under whichever component asked first: that component may be gone long before
    /// the client is.
    owner: StoredValue<Owner>,
}

impl ChatClient {
    /// A client whose signals live as long as `owner`.
    pub fn new(me: User, owner: Owner) -> Self {
        owner.clone().with(|| Self {
            me: StoredValue::new(me),
            channels: RwSignal::new(Vec::new()),
            list_state: RwSignal::new(ListState::Loading),
            logs: StoredValue::new(HashMap::new()),
            owner: StoredValue::new(owner),
        })
    }

    pub fn me_id(&self) -> Uuid {
        self.me.with_value(|me| me.id)
    }

    /// Unread messages across all channels.
    pub fn unread_total(&self) -> i64 {
        self.channels
            .with(|channels| channels.iter().map(|c| c.unread).sum())
    }

    /// The log signal of one channel (created empty on first use).
    pub fn log(&self, channel_id: Uuid) -> RwSignal<ChannelLog> {
        if let Some(log) = self.logs.with_value(|logs| logs.get(&channel_id).copied()) {
            return log;
        }
        let log = self
            .owner
            .with_value(|owner| owner.with(|| RwSignal::new(ChannelLog::default())));
        self.logs.update_value(|logs| {
            logs.insert(channel_id, log);
        });
        log
    }

    /// Loads (or reloads) the channel list.
    pub fn refresh_channels(&self) {
        let this = *self;
        spawn_local(async move {
            match api::list_channels().await {
                Ok(list) => {
                    this.channels.set(list);
                    this.list_state.set(ListState::Ready);
                }
                Err(e) => this.list_state.set(ListState::Failed(e.message)),
            }
        });
    }

    /// Puts a channel's new state into the list (newest activity first).
    pub fn put_channel(&self, channel: ChannelSummary) {
        self.channels.update(|list| {
            list.retain(|c| c.id != channel.id);
            list.push(channel);
            list.sort_by(|a, b| {
                let at = |c: &ChannelSummary| c.last_message_at.unwrap_or(c.created_at);
                at(b).cmp(&at(a)).then(a.id.cmp(&b.id))
            });
        });
    }

    fn update_channel(&self, channel_id: Uuid, change: impl FnOnce(&mut ChannelSummary)) {
        self.channels.update(|list| {
            if let Some(channel) = list.iter_mut().find(|c| c.id == channel_id) {
                change(channel);
            }
        });
    }

    /// Loads the newest page of a channel the first time it is opened.
    pub fn open(&self, channel_id: Uuid) {
        let log = self.log(channel_id);
        if log.with_untracked(|l| l.loaded) {
            self.mark_read(channel_id);
            return;
        }
        let this = *self;
        spawn_local(async move {
            match api::load_history(channel_id, None).await {
                Ok(page) => {
                    log.update(|l| {
                        for message in page.messages {
                            l.upsert(message, Delivery::Sent);
                        }
                        l.has_more = page.has_more;
                        l.loaded = true;
                        l.error = None;
                    });
                    this.mark_read(channel_id);
                }
                Err(e) => log.update(|l| l.error = Some(e.message)),
            }
        });
    }

    /// Loads the page before the oldest message shown. Returns at once when one is loading.
    pub fn load_older(&self, channel_id: Uuid) {
        let log = self.log(channel_id);
        let (busy, before) = log.with_untracked(|l| {
            let oldest = l
                .messages
                .iter()
                .find(|m| m.delivery == Delivery::Sent)
                .map(|m| m.message.seq);
            (l.loading_older || !l.has_more || !l.loaded, oldest)
        });
        if busy {
            return;
        }
        log.update(|l| l.loading_older = true);
        spawn_local(async move {
            let result = api::load_history(channel_id, before).await;
            log.update(|l| {
                l.loading_older = false;
                match result {
                    Ok(page) => {
                        l.has_more = page.has_more;
                        for message in page.messages {
                            l.upsert(message, Delivery::Sent);
                        }
                    }
                    Err(e) => l.error = Some(e.message),
                }
            });
        });
    }

    /// Marks everything shown in a channel as read, when something is unread.
    pub fn mark_read(&self, channel_id: Uuid) {
        let newest = self.log(channel_id).with_untracked(ChannelLog::newest_seq);
        let unread = self.channels.with_untracked(|list| {
            list.iter()
                .find(|c| c.id == channel_id)
                .map(|c| (c.unread, c.my_last_read_seq))
        });
        let needed = match unread {
            Some((count, read_seq)) => count > 0 || read_seq < newest,
            None => false,
        };
        if !needed {
            return;
        }
        let this = *self;
        spawn_local(async move {
            if let Ok(channel) = api::mark_read(channel_id, Some(newest)).await {
                this.put_channel(channel);
            }
        });
    }

    /// Sends `text`: shown at once as pending, then replaced by the stored message, or marked
    /// failed. Returns the parse error for empty or over-long text.
    pub fn send(&self, channel_id: Uuid, text: &str) -> Result<(), String> {
        let text = MessageText::parse(text).map_err(|e| e.to_string())?;
        let message = Message {
            id: Uuid::new_v4(),
            channel_id,
            seq: 0,
            user_id: self.me_id(),
            text: text.as_str().to_owned(),
            created_at: Utc::now(),
            edited: false,
            deleted: false,
        };
        self.log(channel_id)
            .update(|l| l.upsert(message.clone(), Delivery::Pending));
        self.deliver(message);
        Ok(())
    }

    /// Sends a failed message again, with the same id (so it can never be stored twice).
    pub fn retry(&self, channel_id: Uuid, id: Uuid) {
        let log = self.log(channel_id);
        let failed = log.with_untracked(|l| {
            l.messages
                .iter()
                .find(|m| m.message.id == id && m.delivery == Delivery::Failed)
                .map(|m| m.message.clone())
        });
        if let Some(message) = failed {
            log.update(|l| l.upsert(message.clone(), Delivery::Pending));
            self.deliver(message);
        }
    }

    fn deliver(&self, message: Message) {
        let this = *self;
        let log = self.log(message.channel_id);
        spawn_local(async move {
            let input = NewMessage {
                id: Some(message.id),
                channel_id: message.channel_id,
                text: message.text.clone(),
            };
            match api::send_message(input).await {
                Ok(stored) => {
                    let channel_id = stored.channel_id;
                    log.update(|l| l.upsert(stored.clone(), Delivery::Sent));
                    this.update_channel(channel_id, |c| {
                        c.last_seq = c.last_seq.max(stored.seq);
                        c.my_last_read_seq = c.my_last_read_seq.max(stored.seq);
                        c.last_message_at = Some(stored.created_at);
                        c.last_message = Some(stored);
                    });
                    if let Some(channel) = this
                        .channels
                        .with_untracked(|l| l.iter().find(|c| c.id == channel_id).cloned())
                    {
                        this.put_channel(channel);
                    }
                }
                Err(_) => log.update(|l| l.upsert(message, Delivery::Failed)),
            }
        });
    }

    /// Replaces the text of one of my messages; the error is for the editor to show.
    pub async fn edit(&self, channel_id: Uuid, id: Uuid, text: String) -> Result<(), String> {
        let text = MessageText::parse(&text).map_err(|e| e.to_string())?;
        let stored = api::edit_message(id, text.as_str().to_owned())
            .await
            .map_err(|e| e.message)?;
        self.apply(channel_id, stored);
        Ok(())
    }

    pub async fn delete(&self, channel_id: Uuid, id: Uuid) -> Result<(), String> {
        let stored = api::delete_message(id).await.map_err(|e| e.message)?;
        self.apply(channel_id, stored);
        Ok(())
    }

    /// Puts a changed stored message into its log and, if it is the newest, the channel list.
    fn apply(&self, channel_id: Uuid, stored: Message) {
        self.log(channel_id)
            .update(|l| l.upsert(stored.clone(), Delivery::Sent));
        self.update_channel(channel_id, |c| {
            if c.last_message.as_ref().is_some_and(|m| m.id == stored.id) {
                c.last_message = Some(stored);
            }
        });
    }
}
