//! `ChatInterface`: the conversation list (sidebar) and the open conversation.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use uuid::Uuid;

use super::conversation::Conversation;
use super::group::NewGroupForm;
use super::identicon::Identicon;
use super::provider::use_chat_client;
use crate::client::{ChatClient, ListState};
use crate::model::{ChannelKind, ChannelSummary};

#[component]
pub fn ChatInterface() -> impl IntoView {
    let params = use_params_map();
    // `None`: no conversation open; `Some(None)`: the address names no valid conversation.
    let active = Memo::new(move |_| {
        params
            .with(|p| p.get("id"))
            .map(|id| Uuid::parse_str(&id).ok())
    });
    let handle = use_chat_client();
    view! {
        <div class="chat" class:open=move || active.get().is_some()>
            {move || match handle.get() {
                Some(client) => {
                    view! {
                        <ChannelList client active />
                        <Conversation client active />
                    }
                        .into_any()
                }
                None => {
                    view! {
                        <nav class="sidebar" aria-label="Conversations">
                            <p class="muted empty">"Loading conversations…"</p>
                        </nav>
                        <section class="conversation empty-state"></section>
                    }
                        .into_any()
                }
            }}
        </div>
    }
}

#[component]
fn ChannelList(client: ChatClient, active: Memo<Option<Option<Uuid>>>) -> impl IntoView {
    let creating = RwSignal::new(false);
    let me = client.me_id();
    view! {
        <nav class="sidebar" aria-label="Conversations">
            <div class="sidebar-head">
                <h2>"Conversations"</h2>
                <button type="button" on:click=move |_| creating.update(|c| *c = !*c)>
                    "New group"
                </button>
            </div>
            <Show when=move || creating.get()>
                <NewGroupForm on_cancel=Callback::new(move |()| creating.set(false)) />
            </Show>
            {move || match client.list_state.get() {
                ListState::Loading => view! { <p class="muted empty">"Loading conversations…"</p> }.into_any(),
                ListState::Failed(message) => {
                    view! {
                        <p class="error" role="alert">{message}</p>
                        <button type="button" on:click=move |_| client.refresh_channels()>
                            "Try again"
                        </button>
                    }
                        .into_any()
                }
                ListState::Ready => {
                    let channels = client.channels.get();
                    if channels.is_empty() {
                        view! { <p class="muted empty">"No conversations yet"</p> }.into_any()
                    } else {
                        let current = active.get().flatten();
                        view! {
                            <ul class="channels">
                                {channels
                                    .into_iter()
                                    .map(|channel| {
                                        let is_active = current == Some(channel.id);
                                        view! { <ChannelRow channel me is_active /> }
                                    })
                                    .collect_view()}
                            </ul>
                        }
                            .into_any()
                    }
                }
            }}
        </nav>
    }
}

/// A short preview of the newest message.
fn preview(channel: &ChannelSummary, me: Uuid) -> String {
    let Some(message) = &channel.last_message else {
        return "No messages yet".to_owned();
    };
    let who = if message.user_id == me {
        "You".to_owned()
    } else {
        channel
            .member(message.user_id)
            .map(|m| m.display_name.clone())
            .unwrap_or_default()
    };
    let text = if message.deleted {
        "Message deleted".to_owned()
    } else {
        message.text.replace('\n', " ")
    };
    let mut preview = format!("{who}: {text}");
    if preview.chars().count() > 80 {
        preview = preview
            .chars()
            .take(79)
            .chain(std::iter::once('…'))
            .collect();
    }
    preview
}

#[component]
fn ChannelRow(channel: ChannelSummary, me: Uuid, is_active: bool) -> impl IntoView {
    let avatar = match channel.kind {
        ChannelKind::Dm => channel.peer(me).map(|p| p.id).unwrap_or(channel.id),
        ChannelKind::Group => channel.id,
    };
    let unread = channel.unread;
    view! {
        <li>
            <a
                href=format!("/chat/{}", channel.id)
                class="channel"
                class:active=is_active
                aria-current=is_active.then_some("page")
            >
                <Identicon id=avatar size=36 />
                <span class="channel-text">
                    <span class="channel-title">{channel.title(me)}</span>
                    <span class="channel-preview">{preview(&channel, me)}</span>
                </span>
                {(unread > 0).then(|| view! { <span class="badge">{format!("{unread} unread")}</span> })}
            </a>
        </li>
    }
}
