//! Shared types, compiled for both the server and the browser: users, validated inputs and the
//! error shape every boundary speaks, and the realtime protocol. Depends on nothing else in this crate.

pub mod account;
pub mod chat;
pub mod error;
pub mod event;
pub mod next_path;
mod time;
pub mod user;

pub use account::{
    form_error_code, form_error_message, DisplayName, LoginInput, Password, SignupInput, Username,
    ValidationError,
};
pub use chat::{
    ChannelCursor, ChannelKind, ChannelName, ChannelPage, ChannelQuery, ChannelSummary,
    HistoryPage, HistoryQuery, Message, MessageEdit, MessageText, NewChannel, NewMessage, ReadUpTo,
};
pub use error::{ApiError, ErrorCode};
pub use event::{ClientEvent, Cursor, Presence, ServerEvent};
pub use next_path::NextPath;
pub use user::User;
