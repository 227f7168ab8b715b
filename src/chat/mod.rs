//! The chat components a host app embeds (`ChatUserContext`, `ChatInterface`, identicons).
//! They use `model` and the server functions in `api`; never the network directly.

pub mod identicon;
pub mod interface;
pub mod user_context;

pub use identicon::Identicon;
pub use interface::ChatInterface;
pub use user_context::{use_chat_user, ChatUser, ChatUserContext};
