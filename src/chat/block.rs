//! `BlockButton`: "Block <name>" / "Unblock <name>", for a host's people page and a 1:1's
//! header. Reads and changes the signed-in person's block list through the chat client.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::dialog::ErrorLine;
use super::provider::use_chat_client;
use crate::model::User;

/// Blocks or unblocks `user`; disabled until the chat client exists (after hydration, once
/// the signed-in person is known).
#[component]
pub fn BlockButton(user: User) -> impl IntoView {
    let handle = use_chat_client();
    let id = user.id;
    let name = user.display_name;
    let blocked = move || handle.get().is_some_and(|client| client.blocks(id));
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let toggle = move |_| {
        let Some(client) = handle.get_untracked() else {
            return;
        };
        if busy.get_untracked() {
            return;
        }
        let block = !client.blocked.with_untracked(|b| b.contains(&id));
        busy.set(true);
        spawn_local(async move {
            let outcome = client.block(id, block).await;
            busy.set(false);
            error.set(outcome.err());
        });
    };
    view! {
        <div class="parley parley-block">
            <button
                type="button"
                class="parley-link"
                class:parley-danger=move || !blocked()
                disabled=move || busy.get() || handle.get().is_none()
                on:click=toggle
            >
                {move || if blocked() { format!("Unblock {name}") } else { format!("Block {name}") }}
            </button>
            <ErrorLine error />
        </div>
    }
}
