//! What the chat keeps in the browser's `localStorage` for the signed-in person: each
//! conversation's unsent draft, and the outbox's queued messages, so both outlive a reload or a
//! closed tab. Keys: `parley:draft:<user id>:<channel id>` and `parley:outbox:<user id>:<message
//! id>`, one per message, so tabs of the same person add and remove their own entries without
//! rewriting each other's. Best effort: a browser without storage (or over its quota) keeps
//! them in memory only. On the server every read finds nothing and every write does nothing:
//! the server-rendered page never depends on it.

use chrono::DateTime;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::ChatClient;
use crate::model::{Attachment, Message, Quote};

/// One queued message as stored. Fields added later (a reply's quoted id…) take
/// `#[serde(default)]`: entries written by an older version lack them; fields this version
/// does not know are ignored. The time is in milliseconds since the epoch: chrono's own
/// `Deserialize` would bring its lenient parser into the WASM (see `model::time`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredSend {
    pub id: Uuid,
    pub channel_id: Uuid,
    pub text: String,
    pub created_ms: i64,
    /// The quote of the message it replies to (sent as its id).
    #[serde(default)]
    pub reply_to: Option<Quote>,
    /// Its files, uploaded already (sent as their ids).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

impl StoredSend {
    fn of(message: &Message) -> Self {
        Self {
            id: message.id,
            channel_id: message.channel_id,
            text: message.text.clone(),
            created_ms: message.created_at.timestamp_millis(),
            reply_to: message.reply_to.clone(),
            attachments: message.attachments.clone(),
        }
    }

    /// The pending message it stands for, written by `me`.
    fn into_message(self, me: Uuid) -> Message {
        Message {
            id: self.id,
            channel_id: self.channel_id,
            seq: 0,
            user_id: Some(me),
            text: self.text,
            created_at: DateTime::from_timestamp_millis(self.created_ms).unwrap_or_default(),
            edited: false,
            deleted: false,
            reply_to: self.reply_to,
            mentions: Vec::new(),
            reactions: Vec::new(),
            attachments: self.attachments,
        }
    }
}

fn draft_key(user: Uuid, channel: Uuid) -> String {
    format!("parley:draft:{user}:{channel}")
}

fn outbox_prefix(user: Uuid) -> String {
    format!("parley:outbox:{user}:")
}

fn outbox_key(user: Uuid, id: Uuid) -> String {
    format!("{}{id}", outbox_prefix(user))
}

/// The stored entries' messages in the order they were written (then by id, so every tab
/// sends them in the same order). Unreadable entries are left out.
fn decode_queue<'a>(entries: impl IntoIterator<Item = &'a str>, me: Uuid) -> Vec<Message> {
    let mut queue: Vec<StoredSend> = entries
        .into_iter()
        .filter_map(|json| serde_json::from_str(json).ok())
        .collect();
    queue.sort_by_key(|s| (s.created_ms, s.id));
    queue.into_iter().map(|s| s.into_message(me)).collect()
}

#[cfg(feature = "hydrate")]
mod browser {
    //! The `web_sys::Storage` calls; failures are ignored (see the module above).

    fn local() -> Option<web_sys::Storage> {
        web_sys::window()?.local_storage().ok().flatten()
    }

    pub fn get(key: &str) -> Option<String> {
        local()?.get_item(key).ok().flatten()
    }

    pub fn set(key: &str, value: &str) {
        if let Some(storage) = local() {
            let _ = storage.set_item(key, value);
        }
    }

    pub fn remove(key: &str) {
        if let Some(storage) = local() {
            let _ = storage.remove_item(key);
        }
    }

    /// Every entry whose key starts with `prefix`, as (key, value).
    pub fn starting_with(prefix: &str) -> Vec<(String, String)> {
        let Some(storage) = local() else {
            return Vec::new();
        };
        let count = storage.length().unwrap_or(0);
        (0..count)
            .filter_map(|i| storage.key(i).ok().flatten())
            .filter(|key| key.starts_with(prefix))
            .filter_map(|key| storage.get_item(&key).ok().flatten().map(|v| (key, v)))
            .collect()
    }
}

#[cfg(not(feature = "hydrate"))]
mod browser {
    //! Server rendering: no storage.

    pub fn get(_key: &str) -> Option<String> {
        None
    }

    pub fn set(_key: &str, _value: &str) {}

    pub fn remove(_key: &str) {}

    pub fn starting_with(_prefix: &str) -> Vec<(String, String)> {
        Vec::new()
    }
}

impl ChatClient {
    /// The draft stored for a channel (typed here before a reload, or in another tab).
    pub fn saved_draft(&self, channel_id: Uuid) -> Option<String> {
        browser::get(&draft_key(self.me_id(), channel_id)).filter(|t| !t.is_empty())
    }

    /// Stores a channel's draft; empty text removes it.
    pub fn save_draft(&self, channel_id: Uuid, text: &str) {
        let key = draft_key(self.me_id(), channel_id);
        if text.is_empty() {
            browser::remove(&key);
        } else {
            browser::set(&key, text);
        }
    }

    /// The messages queued by earlier pages of this person (oldest first).
    pub(super) fn stored_queue(&self) -> Vec<Message> {
        let entries = browser::starting_with(&outbox_prefix(self.me_id()));
        decode_queue(entries.iter().map(|(_, json)| json.as_str()), self.me_id())
    }

    /// Keeps a queued message until it is acknowledged or refused.
    pub(super) fn store_queued(&self, message: &Message) {
        if let Ok(json) = serde_json::to_string(&StoredSend::of(message)) {
            browser::set(&outbox_key(self.me_id(), message.id), &json);
        }
    }

    /// Forgets a queued message (acknowledged, refused, or stored by another tab).
    pub(super) fn forget_queued(&self, id: Uuid) {
        browser::remove(&outbox_key(self.me_id(), id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap_or_default()
    }

    #[test]
    fn keys_are_per_user_and_channel_or_message() {
        let (user, other, channel) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        assert_eq!(
            draft_key(user, channel),
            format!("parley:draft:{user}:{channel}")
        );
        assert_ne!(draft_key(user, channel), draft_key(other, channel));
        let id = Uuid::new_v4();
        assert!(outbox_key(user, id).starts_with(&outbox_prefix(user)));
        assert!(!outbox_key(other, id).starts_with(&outbox_prefix(user)));
    }

    #[test]
    fn a_queued_message_comes_back_as_written_in_order() {
        let me = Uuid::new_v4();
        let channel = Uuid::new_v4();
        let message = |text: &str, seconds| Message {
            id: Uuid::new_v4(),
            channel_id: channel,
            seq: 0,
            user_id: Some(me),
            text: text.to_owned(),
            created_at: at(seconds),
            edited: false,
            deleted: false,
            reply_to: None,
            mentions: Vec::new(),
            reactions: Vec::new(),
            attachments: Vec::new(),
        };
        let (first, second) = (message("first", 1), message("second", 2));
        let json = |m: &Message| serde_json::to_string(&StoredSend::of(m)).unwrap_or_default();
        let stored = [json(&second), "not json".to_owned(), json(&first)];
        let queue = decode_queue(stored.iter().map(String::as_str), me);
        assert_eq!(queue, vec![first, second]);
    }

    #[test]
    fn entries_of_another_version_are_read() {
        let me = Uuid::new_v4();
        let (id, channel) = (Uuid::new_v4(), Uuid::new_v4());
        // A later version's entry with a field this one does not know.
        let json = format!(
            r#"{{"id":"{id}","channel_id":"{channel}","text":"hi","created_ms":1800000000000,"pinned":"{channel}"}}"#
        );
        let queue = decode_queue([json.as_str()], me);
        assert_eq!(queue.len(), 1);
        assert_eq!((queue[0].id, queue[0].text.as_str()), (id, "hi"));
        assert_eq!(queue[0].user_id, Some(me));
    }
}
