//! The host app's header: app name, navigation, the signed-in user and "Sign out".

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::api::Logout;
use crate::chat::{use_chat_user, Identicon};
use crate::model::User;

#[component]
pub fn Header() -> impl IntoView {
    let chat_user = use_chat_user();
    let signed_in = move || chat_user.user.get().and_then(Result::ok).flatten();
    view! {
        <header class="topbar">
            <a class="brand" href="/people">
                "Parley"
            </a>
            <Transition fallback=|| ()>
                {move || match signed_in() {
                    Some(user) => view! { <UserNav user /> }.into_any(),
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
fn UserNav(user: User) -> impl IntoView {
    let chat_user = use_chat_user();
    let navigate = use_navigate();
    let logout = ServerAction::<Logout>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = logout.value().get() {
            chat_user.refresh();
            navigate("/login", Default::default());
        }
    });
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
                disabled=move || logout.pending().get()
                on:click=move |_| {
                    logout.dispatch(Logout {});
                }
            >
                "Sign out"
            </button>
        </div>
    }
}
