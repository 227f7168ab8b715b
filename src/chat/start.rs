//! `use_start_chat` and `ChatButton`: create-or-get a channel, then open it.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use uuid::Uuid;

use super::provider::use_chat_client;
use crate::api::CreateChannel;
use crate::model::{ChannelSummary, NewChannel, User};

/// Starts chats: `start` creates (or, for one other person, reuses) the channel and navigates to
/// it; `pending`, `error` and `channel` report progress.
#[derive(Clone, Copy)]
pub struct StartChat {
    action: ServerAction<CreateChannel>,
}

impl StartChat {
    pub fn start(&self, members: Vec<Uuid>, name: Option<String>) {
        self.action.dispatch(CreateChannel {
            input: NewChannel { members, name },
        });
    }

    pub fn pending(&self) -> bool {
        self.action.pending().get()
    }

    pub fn error(&self) -> Option<String> {
        self.action
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| e.message)
    }

    pub fn channel(&self) -> Option<ChannelSummary> {
        self.action.value().get().and_then(Result::ok)
    }
}

pub fn use_start_chat() -> StartChat {
    let action = ServerAction::<CreateChannel>::new();
    let handle = use_chat_client();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(channel)) = action.value().get() {
            if let Some(client) = handle.get_untracked() {
                client.put_channel(channel.clone());
            }
            navigate(&format!("/chat/{}", channel.id), Default::default());
        }
    });
    StartChat { action }
}

/// "Message <name>": opens the 1:1 conversation with `user`, creating it the first time.
#[component]
pub fn ChatButton(user: User) -> impl IntoView {
    let start = use_start_chat();
    let label = format!("Message {}", user.display_name);
    view! {
        <div class="parley parley-chat-button">
            <button
                type="button"
                class="parley-primary"
                aria-busy=move || start.pending().to_string()
                disabled=move || start.pending()
                on:click=move |_| start.start(vec![user.id], None)
            >
                {label}
            </button>
            {move || start.error().map(|e| view! { <p class="parley-error" role="alert">{e}</p> })}
        </div>
    }
}
