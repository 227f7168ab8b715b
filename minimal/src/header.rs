//! The host's header: its name, the way to the team and to the chat with the chat's unread
//! count ("N unread", asked of the chat's server function `unread_count`), and "Sign out".
//! Uses `api` and `parley::chat::use_chat_user`.

use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate};
use parley::api::unread_count;
use parley::chat::use_chat_user;

use crate::api::SignOut;

#[component]
pub fn Header() -> impl IntoView {
    let chat_user = use_chat_user();
    // Asked for signed-in people only, and again whenever the live connection's count moves
    // (a message arrives, a conversation is read): the server's count is the one shown.
    let (user, live) = (chat_user.user, chat_user.unread);
    let unread = Resource::new(
        move || live.get(),
        move |_| async move {
            match user.await {
                Ok(Some(_)) => unread_count().await,
                _ => Ok(0),
            }
        },
    );
    // Owned here, not by the signed-in part below: signing out closes the chat's connection,
    // which may refresh the user (unmounting that part) before the answer arrives.
    let sign_out = ServerAction::<SignOut>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = sign_out.value().get() {
            chat_user.refresh();
        }
    });
    // Nobody signed in any more (signed out here or in another tab, or the session ended): the
    // pages behind sign-in are no longer for this browser.
    let (navigate, path) = (use_navigate(), use_location().pathname);
    Effect::new(move |_| {
        if matches!(user.get(), Some(Ok(None))) && path.get() != "/sign-in" {
            navigate("/sign-in", Default::default());
        }
    });
    let badge = move || {
        let n = unread.get().and_then(Result::ok).unwrap_or(0);
        (n > 0).then(|| view! { <span class="badge">{format!("{n} unread")}</span> })
    };
    view! {
        <header class="topbar">
            <a class="brand" href="/">"Minimal"</a>
            <Transition fallback=|| ()>
                {move || {
                    user.get().and_then(Result::ok).flatten().map(|me| view! {
                        <nav class="topnav" aria-label="Main">
                            <a href="/">"Team"</a>
                            <a href="/chat">"Chat" <Transition fallback=|| ()>{badge}</Transition></a>
                        </nav>
                        <div class="me">
                            <span>{me.display_name}</span>
                            <button type="button" on:click=move |_| { sign_out.dispatch(SignOut {}); }>
                                "Sign out"
                            </button>
                        </div>
                    })
                }}
            </Transition>
        </header>
    }
}
