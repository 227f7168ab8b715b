//! The host app's header: app name, navigation, the signed-in user, "Sign out" and "Sign out
//! everywhere" (ends every session of the user, on every device).

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::api::{Logout, LogoutEverywhere};
use parley::chat::{use_chat_user, Identicon};
use parley::model::User;

#[component]
pub fn Header() -> impl IntoView {
    let chat_user = use_chat_user();
    let signed_in = move || chat_user.user.get().and_then(Result::ok).flatten();
    // Owned here, not by the signed-in part below: signing out also closes the live connection,
    // whose 4001 may refresh the user (and unmount that part) before the answer arrives, and
    // the way to /login must survive that.
    let navigate = use_navigate();
    let logout = ServerAction::<Logout>::new();
    let everywhere = ServerAction::<LogoutEverywhere>::new();
    Effect::new(move |_| {
        let done = matches!(logout.value().get(), Some(Ok(())))
            || matches!(everywhere.value().get(), Some(Ok(())));
        if done {
            chat_user.refresh();
            navigate("/login", Default::default());
        }
    });
    view! {
        <header class="topbar">
            <a class="brand" href="/people">
                "Parley"
            </a>
            <Transition fallback=|| ()>
                {move || match signed_in() {
                    Some(user) => view! { <UserNav user logout everywhere /> }.into_any(),
                    None => {
                        view! {
                            <nav class="topnav" aria-label="Account">
                                <a href="/login">"Sign in"</a>
                                <a href="/signup">"Sign up"</a>
                            </nav>
                        }
                            .into_any()
                    }
                }}
            </Transition>
        </header>
    }
}

#[component]
fn UserNav(
    user: User,
    logout: ServerAction<Logout>,
    everywhere: ServerAction<LogoutEverywhere>,
) -> impl IntoView {
    let chat_user = use_chat_user();
    let busy = move || logout.pending().get() || everywhere.pending().get();
    view! {
        <nav class="topnav" aria-label="Main">
            <a href="/people">"People"</a>
            <a href="/chat">
                "Chat"
                {move || {
                    let unread = chat_user.unread.get();
                    (unread > 0).then(|| view! { <span class="badge">{format!("{unread} unread")}</span> })
                }}
            </a>
        </nav>
        <div class="me">
            <Identicon id=user.id size=24 />
            <span class="me-name">{user.display_name}</span>
            <button
                type="button"
                class="link"
                disabled=busy
                on:click=move |_| {
                    logout.dispatch(Logout {});
                }
            >
                "Sign out"
            </button>
            // Behind a disclosure, so that "Sign out" stays the one button of that name in view.
            <details class="account-menu">
                <summary>"Account"</summary>
                <button
                    type="button"
                    class="link"
                    disabled=busy
                    on:click=move |_| {
                        everywhere.dispatch(LogoutEverywhere {});
                    }
                >
                    "Sign out everywhere"
                </button>
            </details>
        </div>
    }
}
