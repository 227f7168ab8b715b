//! `ChatUserContext`: who is signed in, and their global unread count, for every component
//! below it.

use leptos::prelude::*;

use crate::api::get_current_user;
use crate::model::{ApiError, User};

/// The signed-in user as a resource (loading → `Ok(Some(user))`, `Ok(None)` for a visitor, or
/// an error), shared through context.
#[derive(Clone, Copy)]
pub struct ChatUser {
    pub user: Resource<Result<Option<User>, ApiError>>,
    /// Unread messages across all conversations (kept current by `ChatProvider`).
    pub unread: RwSignal<i64>,
}

impl ChatUser {
    fn provide() -> Self {
        let chat_user = Self {
            user: Resource::new(|| (), |_| get_current_user()),
            unread: RwSignal::new(0),
        };
        provide_context(chat_user);
        chat_user
    }

    /// Fetches the user again, e.g. after signing in or out.
    pub fn refresh(&self) {
        self.user.refetch();
    }
}

/// The nearest `ChatUser`; one is created if a component is used outside `ChatUserContext`.
pub fn use_chat_user() -> ChatUser {
    use_context::<ChatUser>().unwrap_or_else(ChatUser::provide)
}

/// Provides [`ChatUser`] to its children.
#[component]
pub fn ChatUserContext(children: Children) -> impl IntoView {
    ChatUser::provide();
    children()
}
