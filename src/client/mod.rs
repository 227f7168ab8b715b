//! The chat client: one per tab. It owns the reactive store (channels, per-channel message
//! logs, delivery states, presence, typing), the WebSocket (`connection`, `socket`), the outbox
//! and every call to the server; components read store slices and call its methods, never the
//! network. Server answers and realtime events (`events`) update the store with absolute
//! values (unread counts, read marks), never increments. Managing conversations (members,
//! roles, leaving, renaming, muting, blocking, reporting) lives in `manage`.
//!
//! Compiled for both builds so components can name it; its network methods only run in the
//! browser (from event handlers and effects).

// Server rendering compiles the store but never the live connection that feeds it.
#![cfg_attr(not(feature = "hydrate"), allow(dead_code, unused_imports))]

mod connection;
mod events;
mod manage;
pub mod notify;
#[cfg(feature = "hydrate")]
mod socket;
mod storage;
mod token;

pub use token::{TokenFuture, TokenProvider};

use std::collections::{HashMap, HashSet, VecDeque};

use chrono::Utc;
use leptos::prelude::*;
use leptos::task::spawn_local;
use uuid::Uuid;

use crate::api;
use crate::model::{
    Attachment, ChannelCursor, ChannelPage, ChannelSummary, ClientEvent, ErrorCode, Member,
    Message, MessageText, Presence, Quote, User,
};
pub use connection::Connection;

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
    /// Why the server refused it (`Failed` only), e.g. that one of us blocked the other.
    pub refusal: Option<String>,
}

/// What this tab knows of one channel's history: a contiguous run of messages (oldest first),
/// the newest ones unless it is a window opened further back (`has_newer`), then messages
/// still on their way.
#[derive(Debug, Clone, Default)]
pub struct ChannelLog {
    pub messages: Vec<LocalMessage>,
    /// Older messages exist on the server before the first one here.
    pub has_more: bool,
    /// Newer messages exist on the server after the last one here: the log is a window
    /// opened around an older message (a search result), read on with `load_newer`. Live
    /// messages stay out of it (they lie beyond the gap) until it reaches the newest.
    pub has_newer: bool,
    pub loading_newer: bool,
    /// A page around a message is on its way (`load_around`).
    pub loading_around: bool,
    pub loaded: bool,
    pub loading_older: bool,
    pub error: Option<String>,
    /// The newest change version of the channel this log reflects: the newest page's, raised
    /// by every `message_updated` and `channel_updated` seen. Sent in each cursor, so a resume
    /// replays the edits, deletions and member changes made since.
    pub version: i64,
}

impl ChannelLog {
    /// Adds or replaces `message` (matched by id), keeping stored messages in sequence order
    /// and pending ones after them.
    fn upsert(&mut self, message: Message, delivery: Delivery) {
        if self.has_newer && delivery == Delivery::Sent && message.seq > self.newest_seq() + 1 {
            // Beyond a window's gap: read when the window gets there.
            return;
        }
        self.messages.retain(|m| m.message.id != message.id);
        let local = LocalMessage {
            message,
            delivery,
            refusal: None,
        };
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

    /// Whether the log holds the message `id` (stored or on its way).
    pub fn holds(&self, id: Uuid) -> bool {
        self.messages.iter().any(|m| m.message.id == id)
    }

    /// The message `id`, when the log holds it.
    pub fn find(&self, id: Uuid) -> Option<&Message> {
        self.messages
            .iter()
            .map(|m| &m.message)
            .find(|m| m.id == id)
    }

    /// Brings every quote of `original` in the log up to date (edited or deleted since).
    fn requote(&mut self, original: &Message) {
        for local in &mut self.messages {
            if let Some(quoted) = local
                .message
                .reply_to
                .as_mut()
                .filter(|q| q.id == original.id)
            {
                *quoted = quote(original);
            }
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

/// How a reply quotes `original` as it is now (what the server stores and sends).
pub fn quote(original: &Message) -> Quote {
    Quote {
        id: original.id,
        seq: original.seq,
        user_id: original.user_id,
        text: if original.deleted {
            String::new()
        } else {
            original.text.chars().take(Quote::MAX_CHARS).collect()
        },
        deleted: original.deleted,
    }
}

/// The list's order: newest activity first, then id descending (the server's page order).
fn sort_by_activity(list: &mut [ChannelSummary]) {
    list.sort_by_key(|c| std::cmp::Reverse((c.activity(), c.id)));
}

/// Whether a channel lies within the loaded pages of the list.
fn before_end(channel: &ChannelSummary, end: Option<ChannelCursor>) -> bool {
    end.is_none_or(|end| (channel.activity(), channel.id) > (end.before_at, end.before_id))
}

/// Channel list loading state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListState {
    Loading,
    Ready,
    Failed(String),
}

/// Messages waiting to be sent, oldest first; the first is on the wire when `in_flight`.
/// Sends go one at a time over the socket, so they are stored in the order they were written,
/// and a resend after a reconnect uses the same id (stored once). Each is kept in the
/// browser's storage too until settled (`storage`), so a tab closed offline sends it next time.
#[derive(Debug, Default)]
struct Outbox {
    queue: VecDeque<Message>,
    /// The id sent and when (ms since the epoch).
    in_flight: Option<(Uuid, f64)>,
}

/// A message to open its conversation at (a search result chosen): the conversation takes it
/// when it opens, loads the page around it and highlights it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Focus {
    pub channel_id: Uuid,
    pub message_id: Uuid,
    pub seq: i64,
}

#[derive(Clone, Copy)]
pub struct ChatClient {
    pub me: StoredValue<User>,
    pub channels: RwSignal<Vec<ChannelSummary>>,
    pub list_state: RwSignal<ListState>,
    /// Where the loaded pages of the list end (`None`: every channel is loaded). Channels
    /// after it may still be listed: fetched one by one (opened by URL).
    pub list_end: RwSignal<Option<ChannelCursor>>,
    pub loading_more: RwSignal<bool>,
    /// Unread messages in the channels after `list_end`, as the server counted them.
    unread_after: RwSignal<i64>,
    /// Channels asked for by id (opened by URL) and those the server does not know.
    looked_up: StoredValue<HashSet<Uuid>>,
    pub missing: RwSignal<HashSet<Uuid>>,
    /// The people I block (from `ready`, `blocks` events and my own changes).
    pub blocked: RwSignal<Vec<Uuid>>,
    /// Per channel: its members with their roles, once asked for (the "Members" dialog);
    /// fetched again on every `channel_updated` while someone holds it.
    rosters: StoredValue<HashMap<Uuid, RwSignal<Option<Vec<Member>>>>>,
    pub connection: RwSignal<Connection>,
    /// The message the next opened conversation goes to, if any.
    pub focus: RwSignal<Option<Focus>>,
    /// A conversation to open (a notification clicked): the chat interface goes there.
    pub open_request: RwSignal<Option<Uuid>>,
    /// How many chat interfaces are mounted to follow `open_request` (none: a notification
    /// clicked on another page of the host loads the conversation's page instead).
    pub open_followers: StoredValue<usize>,
    /// Whether the tab is in front: an open conversation is read only while it is.
    pub visible: RwSignal<bool>,
    logs: StoredValue<HashMap<Uuid, RwSignal<ChannelLog>>>,
    /// Per user, so a presence change re-renders one dot, not a list.
    presence: StoredValue<HashMap<Uuid, RwSignal<Option<Presence>>>>,
    /// Per channel: who is typing there now.
    typing: StoredValue<HashMap<Uuid, RwSignal<Vec<Uuid>>>>,
    /// Per (channel, user): bumped on every typing event, so only the newest expiry applies.
    typing_marks: StoredValue<HashMap<(Uuid, Uuid), u64>>,
    /// Per channel: when I last said I was typing (ms), for the 2-second throttle.
    typing_sent: StoredValue<HashMap<Uuid, f64>>,
    outbox: StoredValue<Outbox>,
    link: StoredValue<connection::Link, LocalStorage>,
    /// Owns every signal of this client. Signals made lazily (channel logs) are created under
    /// it, not under whichever component asked first: that component may be gone long before
    /// the client is.
    owner: StoredValue<Owner>,
}

impl ChatClient {
    /// A client whose signals live as long as `owner`.
    /// Authenticates this client's connections with the host's user tokens (call before
    /// `connect`).
    pub fn use_tokens(&self, tokens: TokenProvider) {
        self.link.update_value(|l| l.tokens = Some(tokens));
    }

    pub fn new(me: User, owner: Owner) -> Self {
        owner.clone().with(|| Self {
            me: StoredValue::new(me),
            channels: RwSignal::new(Vec::new()),
            list_state: RwSignal::new(ListState::Loading),
            list_end: RwSignal::new(None),
            loading_more: RwSignal::new(false),
            unread_after: RwSignal::new(0),
            looked_up: StoredValue::new(HashSet::new()),
            missing: RwSignal::new(HashSet::new()),
            blocked: RwSignal::new(Vec::new()),
            rosters: StoredValue::new(HashMap::new()),
            connection: RwSignal::new(Connection::Connecting),
            focus: RwSignal::new(None),
            open_request: RwSignal::new(None),
            open_followers: StoredValue::new(0),
            visible: RwSignal::new(true),
            logs: StoredValue::new(HashMap::new()),
            presence: StoredValue::new(HashMap::new()),
            typing: StoredValue::new(HashMap::new()),
            typing_marks: StoredValue::new(HashMap::new()),
            typing_sent: StoredValue::new(HashMap::new()),
            outbox: StoredValue::new(Outbox::default()),
            link: StoredValue::new_local(connection::Link::default()),
            owner: StoredValue::new(owner),
        })
    }

    pub fn me_id(&self) -> Uuid {
        self.me.with_value(|me| me.id)
    }

    /// Unread messages across all channels I have not muted, and the unread mentions of me in
    /// those I muted: those of the loaded pages, plus the server's count for the rest (which
    /// counts the same way).
    pub fn unread_total(&self) -> i64 {
        let end = self.list_end.get();
        let loaded: i64 = self.channels.with(|channels| {
            channels
                .iter()
                .filter(|c| before_end(c, end))
                .map(|c| if c.muted { c.mentions } else { c.unread })
                .sum()
        });
        loaded + self.unread_after.get()
    }

    /// The log signal of one channel (created empty on first use).
    pub fn log(&self, channel_id: Uuid) -> RwSignal<ChannelLog> {
        self.signal_in(self.logs, channel_id)
    }

    /// One user's presence (`None` until the server says).
    pub fn presence(&self, user_id: Uuid) -> RwSignal<Option<Presence>> {
        self.signal_in(self.presence, user_id)
    }

    /// Who is typing in a channel now.
    pub fn typing(&self, channel_id: Uuid) -> RwSignal<Vec<Uuid>> {
        self.signal_in(self.typing, channel_id)
    }

    /// The signal under `key` in `map`, created with the default value under the client's own
    /// owner on first use.
    fn signal_in<T: Default + Send + Sync + 'static>(
        &self,
        map: StoredValue<HashMap<Uuid, RwSignal<T>>>,
        key: Uuid,
    ) -> RwSignal<T> {
        if let Some(signal) = map.with_value(|m| m.get(&key).copied()) {
            return signal;
        }
        let signal = self
            .owner
            .with_value(|owner| owner.with(|| RwSignal::new(T::default())));
        map.update_value(|m| {
            m.insert(key, signal);
        });
        signal
    }

    /// Loads (or reloads) the first page of the channel list.
    pub fn refresh_channels(&self) {
        let this = *self;
        spawn_local(async move {
            match api::list_channels(None).await {
                Ok(page) => {
                    // Channels fetched one by one are fetched again if still open.
                    this.looked_up.update_value(HashSet::clear);
                    this.channels.set(Vec::new());
                    this.took_page(page);
                    this.list_state.set(ListState::Ready);
                }
                Err(e) => this.list_state.set(ListState::Failed(e.message)),
            }
        });
    }

    /// Loads the next page of the channel list (older activity).
    pub fn load_more_channels(&self) {
        let Some(end) = self.list_end.get_untracked() else {
            return;
        };
        if self.loading_more.get_untracked() {
            return;
        }
        self.loading_more.set(true);
        let this = *self;
        spawn_local(async move {
            let page = api::list_channels(Some(end)).await;
            this.loading_more.set(false);
            match page {
                Ok(page) => this.took_page(page),
                Err(e) => leptos::logging::warn!("chat: more channels: {}", e.message),
            }
        });
    }

    fn took_page(&self, page: ChannelPage) {
        let end = page
            .channels
            .last()
            .filter(|_| page.more)
            .map(ChannelSummary::cursor);
        self.channels.update(|list| {
            for channel in page.channels {
                // A channel already here may be newer than the page (a live event).
                if !list.iter().any(|c| c.id == channel.id) {
                    list.push(channel);
                }
            }
            sort_by_activity(list);
        });
        self.list_end.set(end);
        self.unread_after.set(page.unread_after);
    }

    /// Asks the server again how many unread messages lie after the loaded pages: after an
    /// event about a channel there, whose count the client cannot know.
    fn recount_unloaded(&self) {
        let Some(end) = self.list_end.get_untracked() else {
            return;
        };
        let this = *self;
        spawn_local(async move {
            if let Ok(unread) = api::unread_after(end).await {
                // The pages may have moved on meanwhile; the next event recounts again.
                if this.list_end.get_untracked() == Some(end) {
                    this.unread_after.set(unread);
                }
            }
        });
    }

    /// Whether `channel_id` is listed outside the loaded pages, or not listed at all.
    fn beyond_pages(&self, channel_id: Uuid) -> bool {
        let end = self.list_end.get_untracked();
        self.channels.with_untracked(|list| {
            list.iter()
                .find(|c| c.id == channel_id)
                .is_none_or(|c| !before_end(c, end))
        })
    }

    /// Fetches a channel that is not listed (opened by its URL); `missing` when the server does
    /// not know it for me.
    pub fn find_channel(&self, channel_id: Uuid) {
        let mut asked = false;
        self.looked_up
            .update_value(|ids| asked = !ids.insert(channel_id));
        if asked {
            return;
        }
        let this = *self;
        spawn_local(async move {
            match api::get_channel(channel_id).await {
                Ok(channel) => this.put_channel(channel),
                Err(e) if e.code == ErrorCode::NotFound => this.missing.update(|ids| {
                    ids.insert(channel_id);
                }),
                // Asked again when the list reloads (on reconnect).
                Err(e) => leptos::logging::warn!("chat: channel {channel_id}: {}", e.message),
            }
        });
    }

    /// Puts a channel's new state into the list (newest activity first).
    pub fn put_channel(&self, channel: ChannelSummary) {
        self.channels.update(|list| {
            list.retain(|c| c.id != channel.id);
            list.push(channel);
            sort_by_activity(list);
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
        self.load_newest(channel_id, true);
    }

    /// (Re)loads the newest page of a channel, keeping messages still on their way.
    fn load_newest(&self, channel_id: Uuid, then_mark_read: bool) {
        let log = self.log(channel_id);
        let this = *self;
        spawn_local(async move {
            match api::load_history(channel_id, None, None, None).await {
                Ok(page) => {
                    log.update(|l| {
                        l.messages.retain(|m| m.delivery != Delivery::Sent);
                        l.has_newer = false;
                        for message in page.messages {
                            l.upsert(message, Delivery::Sent);
                        }
                        l.has_more = page.has_more;
                        l.loaded = true;
                        l.error = None;
                        // Only the newest page's: an older page read later says nothing of
                        // changes to the messages already here.
                        l.version = l.version.max(page.version);
                    });
                    // A message may have been committed between the page and the live events.
                    let known = this.channels.with_untracked(|list| {
                        list.iter().find(|c| c.id == channel_id).map(|c| c.last_seq)
                    });
                    let newest = log.with_untracked(ChannelLog::newest_seq);
                    if known.unwrap_or(0) > newest {
                        this.catch_up_from(channel_id, newest);
                    }
                    if then_mark_read {
                        this.mark_read(channel_id);
                    }
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
            let result = api::load_history(channel_id, before, None, None).await;
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

    /// Shows the page around sequence `seq` (a search result's message): merged into the log
    /// when it meets what is loaded, else in place of it as a window (`has_newer`).
    pub fn load_around(&self, channel_id: Uuid, seq: i64) {
        let log = self.log(channel_id);
        if log.with_untracked(|l| l.loading_around) {
            return;
        }
        log.update(|l| l.loading_around = true);
        spawn_local(async move {
            let result = api::load_history(channel_id, None, None, Some(seq)).await;
            log.update(|l| {
                l.loading_around = false;
                let page = match result {
                    Ok(page) => page,
                    Err(e) => {
                        l.error = Some(e.message);
                        return;
                    }
                };
                let oldest = l
                    .messages
                    .iter()
                    .find(|m| m.delivery == Delivery::Sent)
                    .map(|m| m.message.seq);
                let page_newest = page.messages.last().map_or(0, |m| m.seq);
                let meets = l.loaded && oldest.is_some_and(|oldest| page_newest + 1 >= oldest);
                if !meets {
                    l.messages.retain(|m| m.delivery != Delivery::Sent);
                    l.has_newer = false;
                    l.version = page.version;
                    l.loaded = true;
                }
                let older = page.messages.first().map(|m| m.seq);
                for message in page.messages {
                    l.upsert(message, Delivery::Sent);
                }
                if !meets {
                    // After the page is in: a window takes no message beyond its last one.
                    l.has_newer = page.has_newer;
                }
                if !meets || older < oldest {
                    l.has_more = page.has_more;
                }
                l.error = None;
            });
        });
    }

    /// Reads a window on towards the newest: the page after its last message.
    pub fn load_newer(&self, channel_id: Uuid) {
        let log = self.log(channel_id);
        let (busy, after) =
            log.with_untracked(|l| (l.loading_newer || !l.has_newer || !l.loaded, l.newest_seq()));
        if busy {
            return;
        }
        log.update(|l| l.loading_newer = true);
        spawn_local(async move {
            let result = api::load_history(channel_id, None, Some(after), None).await;
            log.update(|l| {
                l.loading_newer = false;
                match result {
                    Ok(page) => {
                        for message in page.messages {
                            l.upsert(message, Delivery::Sent);
                        }
                        l.has_newer = page.has_newer;
                    }
                    Err(e) => l.error = Some(e.message),
                }
            });
        });
    }

    /// Leaves a window for the newest messages (sending, "Jump to latest"). Nothing when the
    /// log reaches the newest already.
    pub fn leave_window(&self, channel_id: Uuid) {
        let log = self.log(channel_id);
        if log.with_untracked(|l| l.has_newer) {
            log.update(|l| {
                l.messages.retain(|m| m.delivery != Delivery::Sent);
                l.has_newer = false;
                l.has_more = false;
            });
            self.load_newest(channel_id, true);
        }
    }

    /// Marks everything shown in a channel as read, when something is unread.
    /// Nothing while the tab is hidden: what arrives then is not read yet (the open
    /// conversation marks it once the tab is in front again).
    pub fn mark_read(&self, channel_id: Uuid) {
        if !self.visible.get_untracked() {
            return;
        }
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

    /// Sends `text` (a reply to the message `reply_to` of the log, when given) with files
    /// already uploaded: shown at once as pending (with its quote and files), queued in the
    /// outbox, then replaced by the stored message or marked failed. Returns the parse error
    /// for over-long text, or empty text without files.
    pub fn send(
        &self,
        channel_id: Uuid,
        text: &str,
        reply_to: Option<Uuid>,
        attachments: Vec<Attachment>,
    ) -> Result<(), String> {
        let text = MessageText::parse_with_attachments(text, attachments.len())
            .map_err(|e| e.to_string())?;
        let log = self.log(channel_id);
        let reply_to = match reply_to {
            Some(original) => Some(
                log.with_untracked(|l| l.find(original).map(quote))
                    .ok_or("The message you reply to is no longer shown: choose Reply again.")?,
            ),
            None => None,
        };
        // What I send goes at the end of the conversation: read it from the newest.
        self.leave_window(channel_id);
        let message = Message {
            id: Uuid::new_v4(),
            channel_id,
            seq: 0,
            user_id: Some(self.me_id()),
            text: text.as_str().to_owned(),
            created_at: Utc::now(),
            edited: false,
            deleted: false,
            reply_to,
            mentions: Vec::new(),
            reactions: Vec::new(),
            attachments,
        };
        log.update(|l| l.upsert(message.clone(), Delivery::Pending));
        // Receivers stop showing "typing" when the message arrives; the next keystroke says
        // so again without waiting for the throttle.
        self.typing_sent.update_value(|t| {
            t.remove(&channel_id);
        });
        self.enqueue(message);
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
            self.enqueue(message);
        }
    }

    /// The server stored one of my messages (acknowledged, or replayed).
    fn stored(&self, message: Message) {
        let channel_id = message.channel_id;
        self.log(channel_id)
            .update(|l| l.upsert(message.clone(), Delivery::Sent));
        self.update_channel(channel_id, |c| {
            c.my_last_read_seq = c.my_last_read_seq.max(message.seq);
        });
        self.note_message(&message);
    }

    /// Makes `message` the channel's newest in the list when it is, and re-sorts the list.
    /// A message in a channel this tab does not know yet brings the channel in.
    fn note_message(&self, message: &Message) {
        let channel_id = message.channel_id;
        let known = self
            .channels
            .with_untracked(|list| list.iter().any(|c| c.id == channel_id));
        if !known {
            let this = *self;
            spawn_local(async move {
                if let Ok(channel) = api::get_channel(channel_id).await {
                    this.put_channel(channel);
                    // Its unread messages were counted with the unloaded channels.
                    this.recount_unloaded();
                }
            });
            return;
        }
        self.update_channel(channel_id, |c| {
            c.last_seq = c.last_seq.max(message.seq);
            if c.last_message.as_ref().is_none_or(|m| m.seq <= message.seq) {
                c.last_message_at = Some(message.created_at);
                c.last_message = Some(message.clone());
            }
        });
        if let Some(channel) = self
            .channels
            .with_untracked(|l| l.iter().find(|c| c.id == channel_id).cloned())
        {
            self.put_channel(channel);
        }
    }

    /// Replaces the text of one of my messages; the error is for the editor to show.
    pub async fn edit(&self, channel_id: Uuid, id: Uuid, text: String) -> Result<(), String> {
        let text = MessageText::parse(&text).map_err(|e| e.to_string())?;
        let stored = api::edit_message(id, text.as_str().to_owned())
            .await
            .map_err(|e| e.message)?;
        self.replace(channel_id, stored);
        Ok(())
    }

    pub async fn delete(&self, channel_id: Uuid, id: Uuid) -> Result<(), String> {
        let stored = api::delete_message(id).await.map_err(|e| e.message)?;
        self.replace(channel_id, stored);
        Ok(())
    }

    /// Sets my reaction `emoji` on a stored message of the log on or off. Nothing is counted
    /// here: every member's tab (this one too) shows the server's absolute counts when its
    /// `message_updated` arrives. The error says why the frame could not go out.
    pub fn react(
        &self,
        channel_id: Uuid,
        message_id: Uuid,
        emoji: &str,
        on: bool,
    ) -> Result<(), String> {
        let reactable = self.log(channel_id).with_untracked(|l| {
            l.messages.iter().any(|m| {
                m.message.id == message_id && m.delivery == Delivery::Sent && !m.message.deleted
            })
        });
        if !reactable {
            return Err("That message takes no reactions.".into());
        }
        let event = ClientEvent::React {
            message_id,
            emoji: emoji.to_owned(),
            on,
        };
        if self.transmit(&event) {
            Ok(())
        } else {
            Err("Not connected: try again once the chat is back online.".into())
        }
    }

    /// Puts a changed stored message into its log (and its quotes there) and, if it is the
    /// newest, the channel list.
    fn replace(&self, channel_id: Uuid, stored: Message) {
        self.log(channel_id).update(|l| {
            l.requote(&stored);
            l.upsert(stored.clone(), Delivery::Sent);
        });
        self.update_channel(channel_id, |c| {
            if c.last_message.as_ref().is_some_and(|m| m.id == stored.id) {
                c.last_message = Some(stored);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(seq: i64) -> Message {
        Message {
            id: Uuid::new_v4(),
            channel_id: Uuid::nil(),
            seq,
            user_id: Some(Uuid::nil()),
            text: format!("message {seq}"),
            created_at: Utc::now(),
            edited: false,
            deleted: false,
            reply_to: None,
            mentions: Vec::new(),
            reactions: Vec::new(),
            attachments: Vec::new(),
        }
    }

    fn seqs(log: &ChannelLog) -> Vec<i64> {
        log.messages.iter().map(|m| m.message.seq).collect()
    }

    #[test]
    fn a_window_reads_on_page_by_page_and_keeps_out_what_lies_beyond_its_gap() {
        let mut log = ChannelLog {
            loaded: true,
            ..ChannelLog::default()
        };
        for seq in 10..=19 {
            log.upsert(stored(seq), Delivery::Sent);
        }
        log.has_newer = true;
        // A live message far beyond the window's end stays out of it.
        log.upsert(stored(500), Delivery::Sent);
        assert_eq!(seqs(&log), (10..=19).collect::<Vec<_>>());
        // The next page joins on, in order; an older page still goes in front.
        for seq in 20..=24 {
            log.upsert(stored(seq), Delivery::Sent);
        }
        log.upsert(stored(9), Delivery::Sent);
        assert_eq!(seqs(&log), (9..=24).collect::<Vec<_>>());
        // My message on its way shows at the end, whatever the window.
        log.upsert(stored(0), Delivery::Pending);
        assert_eq!(
            log.messages.last().map(|m| m.delivery),
            Some(Delivery::Pending)
        );
        // Once the window reaches the newest, live messages come in again.
        log.has_newer = false;
        log.upsert(stored(500), Delivery::Sent);
        assert_eq!(log.newest_seq(), 500);
    }
}
