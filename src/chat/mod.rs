//! The chat components a host app embeds: `ChatUserContext`, `ChatProvider`, `ChatInterface`,
//! `ChatButton`, `BlockButton`, `use_start_chat`, the people search and picker
//! (`use_people_search`, `PeopleSearchBox`, `PeoplePicker`), identicons and `ChatStylesheet`.
//! They read the chat client's store (`client`) and call server functions (`api`); never the
//! network directly.

mod attach;
mod block;
mod conversation;
mod dialog;
mod group;
pub mod identicon;
mod interface;
mod members;
mod mention;
mod people_picker;
mod provider;
mod reactions;
mod reply;
mod report;
mod search;
mod start;
mod stylesheet;
pub mod text;
mod time;
mod user_context;

pub use crate::client::TokenProvider;
pub use block::BlockButton;
pub use identicon::Identicon;
pub use interface::ChatInterface;
pub use people_picker::{
    use_people_search, PeoplePicker, PeopleSearch, PeopleSearchBox, PeopleSearchStatus,
};
pub use provider::{use_chat_client, ChatHandle, ChatProvider};
pub use start::{use_start_chat, ChatButton, StartChat};
pub use stylesheet::ChatStylesheet;
pub use user_context::{use_chat_user, ChatUser, ChatUserContext};
