//! `ChatInterface`: the conversation list and the active conversation.

use leptos::prelude::*;

/// The chat page. Conversations arrive with the chat core; until then it shows its empty states.
#[component]
pub fn ChatInterface() -> impl IntoView {
    view! {
        <div class="chat">
            <nav class="sidebar" aria-label="Conversations">
                <p class="muted empty">"No conversations yet"</p>
            </nav>
            <section class="conversation empty-state">
                <p class="muted">"Select a conversation"</p>
            </section>
        </div>
    }
}
