//! Channels and messages as both sides see them, and the validated inputs that create them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{User, ValidationError};

// Read from its name through `String`, as `ErrorCode` is (a smaller decoder in the WASM).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", try_from = "String")]
pub enum ChannelKind {
    /// A 1:1 conversation; at most one exists per pair of users.
    Dm,
    /// A named conversation of any number of members.
    Group,
}

impl TryFrom<String> for ChannelKind {
    type Error = String;

    fn try_from(name: String) -> Result<Self, Self::Error> {
        match name.as_str() {
            "dm" => Ok(Self::Dm),
            "group" => Ok(Self::Group),
            _ => Err(format!("unknown channel kind `{name}`")),
        }
    }
}

/// A member's role in a group: the creator is `owner`; owners and admins add, remove and
/// rename; owners also change roles. A 1:1's two members are both `member`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", try_from = "String")]
pub enum Role {
    Owner,
    Admin,
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::Member => "member",
        }
    }

    /// Whether this role may add, remove and rename.
    pub fn manages(self) -> bool {
        matches!(self, Self::Owner | Self::Admin)
    }
}

impl TryFrom<String> for Role {
    type Error = String;

    fn try_from(name: String) -> Result<Self, Self::Error> {
        match name.as_str() {
            "owner" => Ok(Self::Owner),
            "admin" => Ok(Self::Admin),
            "member" => Ok(Self::Member),
            _ => Err(format!("unknown role `{name}`")),
        }
    }
}

/// One member of a channel, as the "Members" dialog lists them (longest-standing first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub user: User,
    pub role: Role,
    #[serde(deserialize_with = "super::time::deserialize")]
    pub joined_at: DateTime<Utc>,
}

/// A message. Text of a deleted message is never sent to anyone: it arrives empty with
/// `deleted: true`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Message {
    pub id: Uuid,
    pub channel_id: Uuid,
    /// Position in the channel: 1, 2, 3… without gaps, in commit order.
    pub seq: i64,
    /// The author; `None` (JSON `null`) for a **system message**, posted by the host's backend
    /// through the server API: shown centred without an author, and unread for no one.
    #[serde(default)]
    pub user_id: Option<Uuid>,
    pub text: String,
    #[serde(deserialize_with = "super::time::deserialize")]
    pub created_at: DateTime<Utc>,
    pub edited: bool,
    pub deleted: bool,
    /// The earlier message of the same channel this one replies to, as it is now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<Quote>,
    /// The members this message mentions (`<@user id>` tokens in its text, kept only for
    /// people who were members when it was written or last edited).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<Uuid>,
    /// Reactions in the order each emoji was first used (none on a deleted message).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<Reaction>,
    /// Files sent with it, in the order they were attached (none on a deleted message).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

/// Most files attached to one message.
pub const MAX_ATTACHMENTS: usize = 10;

/// A file sent with a message (or uploaded, waiting for its message). The bytes are served by
/// [`Attachment::url`] (and a small image by [`Attachment::thumbnail_url`]) to members only.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Attachment {
    pub id: Uuid,
    /// The file's name as it was uploaded (for display; never where it is stored).
    pub name: String,
    /// What the bytes are, sniffed by the server (never the name's or the browser's word).
    pub content_type: String,
    /// Bytes served at [`Attachment::url`].
    pub size: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<i32>,
    /// A thumbnail is served at [`Attachment::thumbnail_url`] (images).
    #[serde(default)]
    pub thumbnail: bool,
}

impl Attachment {
    /// `GET` the file (members of its conversation only).
    pub fn url(&self) -> String {
        format!("/api/chat/attachments/{}", self.id)
    }

    /// `GET` its thumbnail, when [`Attachment::thumbnail`].
    pub fn thumbnail_url(&self) -> String {
        format!("/api/chat/attachments/{}/thumbnail", self.id)
    }

    /// Shown inline as a picture (it has a thumbnail).
    pub fn is_image(&self) -> bool {
        self.thumbnail && self.content_type.starts_with("image/")
    }
}

/// A size for people: "812 B", "1.2 KB", "3.4 MB" (powers of 1,024, one decimal).
pub fn human_size(bytes: i64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

impl Message {
    /// Whether this message mentions `user`.
    pub fn mentions_user(&self, user: Uuid) -> bool {
        self.mentions.contains(&user)
    }
}

/// The emoji people may react with, in the order the "Add reaction" menu offers them.
pub const REACTIONS: [&str; 8] = ["👍", "❤️", "😂", "🎉", "😮", "😢", "🙏", "👀"];

/// Most people listed behind one reaction (`count` is always exact).
pub const MAX_REACTION_USERS: usize = 25;

/// One emoji's reactions to a message: how many (absolute, from the server) and who, in the
/// order they reacted (the first [`MAX_REACTION_USERS`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Reaction {
    pub emoji: String,
    pub count: i64,
    pub users: Vec<Uuid>,
}

/// The message a reply quotes, as it is now: author and the first words of its text (empty,
/// with `deleted`, once it is deleted).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Quote {
    pub id: Uuid,
    pub seq: i64,
    #[serde(default)]
    pub user_id: Option<Uuid>,
    /// At most [`Quote::MAX_CHARS`] characters of the original.
    pub text: String,
    pub deleted: bool,
}

impl Quote {
    pub const MAX_CHARS: usize = 120;
}

/// Whether `emoji` is one of [`REACTIONS`].
pub fn is_reaction(emoji: &str) -> bool {
    REACTIONS.contains(&emoji)
}

/// `POST /api/chat/messages/{id}/reactions`: my reaction with `emoji` on (`true`) or off.
/// Idempotent: setting it on twice leaves one.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReactionChange {
    pub emoji: String,
    pub on: bool,
}

/// A channel as listed for one member: who is in it, what was said last, and what this member
/// has not read yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelSummary {
    pub id: Uuid,
    pub kind: ChannelKind,
    pub name: Option<String>,
    pub members: Vec<User>,
    #[serde(deserialize_with = "super::time::deserialize")]
    pub created_at: DateTime<Utc>,
    #[serde(default, deserialize_with = "super::time::deserialize_option")]
    pub last_message_at: Option<DateTime<Utc>>,
    /// The newest sequence in the channel (0 when empty).
    pub last_seq: i64,
    pub last_message: Option<Message>,
    /// Messages after my read mark, not sent by me, not deleted, not system messages.
    pub unread: i64,
    pub my_last_read_seq: i64,
    /// The lowest read mark among the other members ("Seen" when ≥ my last message's seq).
    pub others_last_read_seq: i64,
    /// I muted it: its unread messages do not count in my global unread count (its unread
    /// mentions still do).
    #[serde(default)]
    pub muted: bool,
    /// Unread messages (after my read mark, not deleted) that mention me; counted whether or
    /// not I muted the channel.
    #[serde(default)]
    pub mentions: i64,
    /// The channel's change version when this was read: every edit, deletion, rename and
    /// member change bumps it (see [`crate::model::event::Cursor::version`]).
    #[serde(default)]
    pub version: i64,
}

impl ChannelSummary {
    /// When something last happened in the channel: its newest message, else its creation.
    pub fn activity(&self) -> DateTime<Utc> {
        self.last_message_at.unwrap_or(self.created_at)
    }

    /// The cursor of the page that follows this channel in the list.
    pub fn cursor(&self) -> ChannelCursor {
        ChannelCursor {
            before_at: self.activity(),
            before_id: self.id,
        }
    }

    /// What the channel is called for `me`: the other person in a 1:1, else the group's name.
    pub fn title(&self, me: Uuid) -> String {
        match (self.kind, &self.name) {
            (ChannelKind::Group, Some(name)) => name.clone(),
            _ => {
                let others: Vec<&str> = self
                    .members
                    .iter()
                    .filter(|m| m.id != me)
                    .map(|m| m.display_name.as_str())
                    .collect();
                if others.is_empty() {
                    "Just you".to_owned()
                } else {
                    others.join(", ")
                }
            }
        }
    }

    /// The other member of a 1:1 channel.
    pub fn peer(&self, me: Uuid) -> Option<&User> {
        match self.kind {
            ChannelKind::Dm => self.members.iter().find(|m| m.id != me),
            ChannelKind::Group => None,
        }
    }

    pub fn member(&self, id: Uuid) -> Option<&User> {
        self.members.iter().find(|m| m.id == id)
    }
}

/// A page of history, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryPage {
    pub messages: Vec<Message>,
    /// Whether older messages exist before the first one here.
    pub has_more: bool,
    /// Whether newer messages exist after the last one here (only ever true for a page asked
    /// `after` or `around` a sequence: the newest page has nothing after it).
    #[serde(default)]
    pub has_newer: bool,
    /// The channel's change version read before the page: a `resume` from it replays every
    /// change the page may not show.
    #[serde(default)]
    pub version: i64,
}

/// Message text: trimmed, 1–4,000 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageText(String);

impl MessageText {
    pub const MAX: usize = 4000;

    /// The text of a message with files attached: it may be empty.
    pub fn parse_with_attachments(raw: &str, attachments: usize) -> Result<Self, ValidationError> {
        if attachments > 0 && raw.trim().is_empty() {
            return Ok(Self(String::new()));
        }
        Self::parse(raw)
    }

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let text = super::name::trimmed(raw, "Message", Self::MAX)?;
        // Line breaks and tabs are text; other control characters (NUL above all, which
        // PostgreSQL cannot store) are not.
        if text
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
        {
            return Err(ValidationError::InvisibleCharacters("Message"));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A group's name: trimmed, 1–80 visible characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelName(String);

impl ChannelName {
    pub const MAX: usize = 80;

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let name = super::name::visible_text(raw, "Group name", Self::MAX)?;
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A report's reason: trimmed, 1–1,000 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportReason(String);

impl ReportReason {
    pub const MAX: usize = 1000;

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let text = super::name::trimmed(raw, "Reason", Self::MAX)?;
        if text
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
        {
            return Err(ValidationError::InvisibleCharacters("Reason"));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `POST /api/chat/channels/{id}/members`: people to add and to remove, at once.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MemberChange {
    #[serde(default)]
    pub add: Vec<Uuid>,
    #[serde(default)]
    pub remove: Vec<Uuid>,
}

/// `PATCH /api/chat/channels/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rename {
    pub name: String,
}

/// `PUT /api/chat/channels/{id}/members/{user_id}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoleChange {
    pub role: Role,
}

/// `PUT /api/chat/channels/{id}/mute`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Mute {
    pub muted: bool,
}

/// `POST /api/chat/messages/{id}/report`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewReport {
    pub reason: String,
}

/// Most members a channel may be created with (besides the creator).
pub const MAX_MEMBERS: usize = 100;

/// `POST /api/chat/channels`: with one other member and no name, the 1:1 channel (created or
/// reused); otherwise a group. The caller is always a member.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NewChannel {
    pub members: Vec<Uuid>,
    #[serde(default)]
    pub name: Option<String>,
}

/// `POST /api/chat/messages`: `id` is chosen by the client so that a retry is stored once.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewMessage {
    #[serde(default)]
    pub id: Option<Uuid>,
    pub channel_id: Uuid,
    pub text: String,
    /// An earlier message of the same channel this one replies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<Uuid>,
    /// Uploads (`POST /api/chat/channels/{id}/uploads`) to send with it, at most
    /// [`MAX_ATTACHMENTS`]; with any, the text may be empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Uuid>,
}

/// `GET /api/chat/channels/{id}/messages?before=&after=&around=&limit=`: at most one of
/// `before`, `after` and `around` (none: the newest page).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct HistoryQuery {
    /// Only messages with a smaller sequence.
    #[serde(default)]
    pub before: Option<i64>,
    /// Only messages with a larger sequence, oldest first (reading on towards the newest).
    #[serde(default)]
    pub after: Option<i64>,
    /// The page around this sequence: half before it, the rest from it on (opening a
    /// conversation at a message found by search).
    #[serde(default)]
    pub around: Option<i64>,
    /// Page size, 1–100 (50 when absent).
    #[serde(default)]
    pub limit: Option<i64>,
}

/// `POST /api/chat/channels/{id}/read`: up to which sequence (the newest when absent).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ReadUpTo {
    #[serde(default)]
    pub seq: Option<i64>,
}

/// `PATCH /api/chat/messages/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MessageEdit {
    pub text: String,
}

/// Largest history page.
pub const MAX_PAGE: i64 = 100;

/// Channels per page of the list (newest activity first), when the caller does not say.
pub const CHANNEL_PAGE: i64 = 50;
/// Largest page of the channel list.
pub const MAX_CHANNEL_PAGE: i64 = 200;

/// Where a page of the channel list starts: after the channel with this activity time and id,
/// the last one of the previous page (the list runs newest activity first, then id
/// descending). Stable while channels move: a channel that gets a message jumps to the top and
/// is reported live; it is neither skipped nor repeated by later pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelCursor {
    pub before_at: DateTime<Utc>,
    pub before_id: Uuid,
}

/// `GET /api/chat/channels` parameters.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ChannelQuery {
    /// Page size, 1–200 (50 when absent).
    #[serde(default)]
    pub limit: Option<i64>,
    /// Channels older than this cursor (both or neither); the first page when absent.
    #[serde(default)]
    pub before_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub before_id: Option<Uuid>,
}

/// One page of the channel list, as the sidebar loads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelPage {
    pub channels: Vec<ChannelSummary>,
    /// Whether older channels follow.
    pub more: bool,
    /// Unread messages in the channels after this page (0 when there are none), so the global
    /// count is exact before every page is loaded.
    pub unread_after: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_text_is_trimmed_and_bounded() {
        assert_eq!(
            MessageText::parse("  hi \n").map(|t| t.0),
            Ok("hi".to_owned())
        );
        assert_eq!(
            MessageText::parse(" \n\t "),
            Err(ValidationError::Required("Message"))
        );
        assert!(MessageText::parse(&"x".repeat(4000)).is_ok());
        assert!(matches!(
            MessageText::parse(&"x".repeat(4001)),
            Err(ValidationError::TooLong { .. })
        ));
        assert!(
            MessageText::parse(&"é".repeat(4000)).is_ok(),
            "characters, not bytes"
        );
    }

    #[test]
    fn channel_kinds_read_back_from_their_json_names() {
        for kind in [ChannelKind::Dm, ChannelKind::Group] {
            let json = serde_json::to_string(&kind).unwrap_or_default();
            assert_eq!(serde_json::from_str::<ChannelKind>(&json).ok(), Some(kind));
        }
        assert_eq!(
            serde_json::to_string(&ChannelKind::Dm).ok().as_deref(),
            Some(r#""dm""#)
        );
        assert!(serde_json::from_str::<ChannelKind>(r#""room""#).is_err());
    }

    #[test]
    fn group_names_are_checked() {
        assert!(ChannelName::parse("Book club").is_ok());
        assert!(ChannelName::parse("  ").is_err());
        assert!(ChannelName::parse("evil\u{202E}name").is_err());
    }
}

/// `GET /api/chat/search?q=&before=&limit=`: messages I may read that match `q`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SearchQuery {
    /// Search words, 1–200 characters, as a person types them: words must all occur (in any
    /// form: "numbers" finds "number"), `"quoted phrase"`, `or`, `-word` to leave out.
    #[serde(default)]
    pub q: String,
    /// Only results older than this one (the last result's message id of the previous page).
    #[serde(default)]
    pub before: Option<Uuid>,
    /// Page size, 1–50 (20 when absent).
    #[serde(default)]
    pub limit: Option<i64>,
}

/// Longest search text.
pub const MAX_SEARCH_CHARS: usize = 200;
/// Largest search page.
pub const MAX_SEARCH_PAGE: i64 = 50;

/// A page of search results, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchPage {
    pub results: Vec<SearchResult>,
    /// Whether older results exist (ask again with `before` = the last result's message id).
    pub has_more: bool,
}

/// One message found, with where it is and the words that matched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResult {
    pub message: Message,
    /// The conversation's name as the searcher sees it (a 1:1's is the other person's name).
    pub channel_title: String,
    pub author_name: Option<String>,
    /// The text around the match, in parts; the matching words are the `mark`ed ones. Parts
    /// are plain text (mention tokens included): never HTML.
    pub snippet: Vec<SnippetPart>,
}

/// A piece of a search snippet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnippetPart {
    pub text: String,
    /// One of the words the search matched.
    #[serde(default, skip_serializing_if = "is_false")]
    pub mark: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}
