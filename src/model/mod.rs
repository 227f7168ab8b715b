//! Shared types, compiled for both the server and the browser: users, validated inputs and the
//! error shape every boundary speaks, and the realtime protocol. Depends on nothing else in this crate.

pub mod chat;
pub mod error;
pub mod event;
pub mod format;
pub mod name;
mod time;
pub mod user;

pub use chat::{
    Attachment, ChannelCursor, ChannelKind, ChannelName, ChannelPage, ChannelQuery, ChannelSummary,
    HistoryPage, HistoryQuery, Member, MemberChange, Message, MessageEdit, MessageText, Mute,
    NewChannel, NewMessage, NewReport, Quote, Reaction, ReactionChange, ReadUpTo, Rename,
    ReportReason, Role, RoleChange, SearchPage, SearchQuery, SearchResult, SnippetPart,
    MAX_ATTACHMENTS, MAX_REACTION_USERS, MAX_SEARCH_CHARS, MAX_SEARCH_PAGE, REACTIONS,
};
pub use error::{ApiError, ErrorCode};
pub use event::{ClientEvent, Cursor, Presence, ServerEvent, UserToken};
pub use name::{DisplayName, Username, ValidationError};
pub use user::{SearchText, User, UserPage, UserQuery, MAX_USER_PAGE, USER_PAGE};
