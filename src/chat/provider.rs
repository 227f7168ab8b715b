//! `ChatProvider`: starts one chat client (and its live connection) for the signed-in user and
//! shares it with every chat component below; keeps `ChatUserContext`'s global unread count in
//! step with it; closes the connection on sign-out.

use leptos::prelude::*;

use super::use_chat_user;
use crate::client::{ChatClient, TokenProvider};

/// The current chat client, `None` while nobody is signed in (or during server rendering).
#[derive(Clone, Copy)]
pub struct ChatHandle(pub RwSignal<Option<ChatClient>>);

impl ChatHandle {
    pub fn get(&self) -> Option<ChatClient> {
        self.0.get()
    }

    pub fn get_untracked(&self) -> Option<ChatClient> {
        self.0.get_untracked()
    }
}

/// The nearest chat client handle; an empty one outside `ChatProvider`.
pub fn use_chat_client() -> ChatHandle {
    use_context::<ChatHandle>().unwrap_or_else(|| ChatHandle(RwSignal::new(None)))
}

/// `token_provider`: when the host's session does not reach the chat (another origin, a
/// native shell), the host's callback that mints a user token for the signed-in person; the
/// client sends it in `hello`, asks again once after a 4001, and shows signed-out when the
/// callback fails.
#[component]
pub fn ChatProvider(
    #[prop(optional)] token_provider: Option<TokenProvider>,
    children: Children,
) -> impl IntoView {
    let chat_user = use_chat_user();
    let handle = ChatHandle(RwSignal::new(None));
    provide_context(handle);
    // Clients are owned by the provider, not by the effect below: an effect disposes what it
    // created each time it runs again.
    let provider_owner = Owner::current();

    // A client per signed-in user: created in the browser once the user is known, dropped on
    // sign-out. (Effects do not run during server rendering.)
    Effect::new(move |_| {
        let user = chat_user.user.get().and_then(Result::ok).flatten();
        let current = handle.0.with_untracked(|c| c.map(|c| c.me_id()));
        match user {
            Some(user) if current != Some(user.id) => {
                let Some(owner) = provider_owner.as_ref().map(Owner::child) else {
                    return;
                };
                if let Some(previous) = handle.0.get_untracked() {
                    previous.disconnect();
                }
                let client = ChatClient::new(user, owner);
                if let Some(tokens) = token_provider.clone() {
                    client.use_tokens(tokens);
                }
                client.refresh_channels();
                client.watch_tab();
                client.connect();
                handle.0.set(Some(client));
            }
            None if current.is_some() => {
                if let Some(previous) = handle.0.get_untracked() {
                    previous.disconnect();
                }
                handle.0.set(None);
            }
            _ => {}
        }
    });
    // The server ended the session (signed out in another tab or everywhere, expired, or
    // rotated by signing in again in another tab): drop the client and ask who is signed in
    // now. Nobody: the visitor's pages; the same person with a new session: a new client.
    Effect::new(move |_| {
        let ended = handle
            .0
            .get()
            .filter(|client| client.connection.get() == crate::client::Connection::SignedOut);
        if let Some(client) = ended {
            client.disconnect();
            handle.0.set(None);
            chat_user.refresh();
        }
    });
    Effect::new(move |_| {
        let unread = handle
            .0
            .get()
            .map(|client| client.unread_total())
            .unwrap_or(0);
        chat_user.unread.set(unread);
        crate::client::notify::show_count_in_title(unread);
    });

    on_cleanup(move || {
        if let Some(client) = handle.0.try_get_untracked().flatten() {
            client.disconnect();
        }
    });

    children()
}
