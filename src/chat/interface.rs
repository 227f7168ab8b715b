//! `ChatInterface`: the sidebar (message search, the conversation list) and the open
//! conversation.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use uuid::Uuid;

use super::conversation::{Conversation, Drafts, PendingConversation};
use super::group::NewGroupForm;
use super::identicon::Identicon;
use super::provider::use_chat_client;
use super::search::MessageSearch;
use crate::client::notify::{self, Permission};
use crate::client::{ChatClient, Connection, ListState};
use crate::model::ChannelSummary;

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
    Drafts::provide();
    view! {
        <div class="parley parley-chat" class:parley-open=move || active.get().is_some()>
            {move || match handle.get() {
                Some(client) => {
                    view! {
                        <ConnectionBanner client />
                        <OpenRequests client />
                        <ChannelList client active />
                        <Conversation client active />
                    }
                        .into_any()
                }
                None => {
                    view! {
                        <nav class="parley-sidebar" aria-label="Conversations">
                            <p class="parley-muted parley-empty">"Loading conversations…"</p>
                        </nav>
                        <PendingConversation active />
                    }
                        .into_any()
                }
            }}
        </div>
    }
}

/// "Reconnecting…" while the live connection is down (messages written meanwhile wait in the
/// outbox and go out once it is back).
#[component]
fn ConnectionBanner(client: ChatClient) -> impl IntoView {
    view! {
        <p class="parley-connection" role="status">
            {move || match client.connection.get() {
                Connection::Reconnecting => "Reconnecting…",
                Connection::Offline => "Offline. Reconnecting… (messages are sent when you are back)",
                Connection::SignedOut => "Signed out. Sign in again to keep chatting.",
                Connection::Connecting | Connection::Online => "",
            }}
        </p>
    }
}

/// Goes to the conversation a clicked notification names.
#[component]
fn OpenRequests(client: ChatClient) -> impl IntoView {
    let navigate = leptos_router::hooks::use_navigate();
    client.open_followers.update_value(|n| *n += 1);
    on_cleanup(move || {
        let _ = client
            .open_followers
            .try_update_value(|n| *n = n.saturating_sub(1));
    });
    Effect::new(move |_| {
        if let Some(channel) = client.open_request.get() {
            client.open_request.set(None);
            navigate(&format!("/chat/{channel}"), Default::default());
        }
    });
}

/// "Enable notifications" until the browser was asked (never asked on load); a note when the
/// browser refuses them. Nothing where notifications do not exist.
#[component]
fn NotificationsButton() -> impl IntoView {
    // Known in the browser only: the server renders nothing, hydration then shows the button.
    let permission = RwSignal::new(Permission::Unsupported);
    Effect::new(move |_| permission.set(notify::permission()));
    move || match permission.get() {
        Permission::Default => view! {
            <button
                type="button"
                class="parley-link parley-notifications"
                on:click=move |_| notify::ask(move |answer| permission.set(answer))
            >
                "Enable notifications"
            </button>
        }
        .into_any(),
        Permission::Denied => view! {
            <p class="parley-muted parley-notifications">
                "Notifications are blocked in this browser's settings."
            </p>
        }
        .into_any(),
        Permission::Granted | Permission::Unsupported => ().into_any(),
    }
}

#[component]
fn ChannelList(client: ChatClient, active: Memo<Option<Option<Uuid>>>) -> impl IntoView {
    let creating = RwSignal::new(false);
    let me = client.me_id();
    view! {
        <nav class="parley-sidebar" aria-label="Conversations">
            <div class="parley-sidebar-head">
                <h2>"Conversations"</h2>
                <button type="button" on:click=move |_| creating.update(|c| *c = !*c)>
                    "New group"
                </button>
            </div>
            <NotificationsButton />
            <Show when=move || creating.get()>
                <NewGroupForm on_cancel=Callback::new(move |()| creating.set(false)) />
            </Show>
            <MessageSearch client />
            {move || match client.list_state.get() {
                ListState::Loading => view! { <p class="parley-muted parley-empty">"Loading conversations…"</p> }.into_any(),
                ListState::Failed(message) => {
                    view! {
                        <p class="parley-error" role="alert">{message}</p>
                        <button type="button" on:click=move |_| client.refresh_channels()>
                            "Try again"
                        </button>
                    }
                        .into_any()
                }
                ListState::Ready => {
                    if client.channels.with(Vec::is_empty) {
                        view! { <p class="parley-muted parley-empty">"No conversations yet"</p> }.into_any()
                    } else {
                        // Keyed by id: a change to one channel re-renders that row only.
                        view! {
                            <ul class="parley-channels">
                                <For
                                    each=move || client.channels.with(|l| l.iter().map(|c| c.id).collect::<Vec<_>>())
                                    key=|id| *id
                                    let:id
                                >
                                    <ChannelRow client id me active />
                                </For>
                            </ul>
                            <Show when=move || client.list_end.with(Option::is_some)>
                                <button
                                    type="button"
                                    class="parley-more-channels"
                                    disabled=move || client.loading_more.get()
                                    on:click=move |_| client.load_more_channels()
                                >
                                    "More conversations"
                                </button>
                            </Show>
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
    let who = match message.user_id {
        Some(author) if author == me => "You".to_owned(),
        Some(author) => channel
            .member(author)
            .map(|m| m.display_name.clone())
            .unwrap_or_default(),
        // A system message: no author to name.
        None => String::new(),
    };
    let text = if message.deleted {
        "Message deleted".to_owned()
    } else {
        crate::model::format::plain(&message.text, &channel.members)
    };
    let mut preview = if who.is_empty() {
        text
    } else {
        format!("{who}: {text}")
    };
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
fn ChannelRow(
    client: ChatClient,
    id: Uuid,
    me: Uuid,
    active: Memo<Option<Option<Uuid>>>,
) -> impl IntoView {
    let channel = Memo::new(move |_| {
        client
            .channels
            .with(|l| l.iter().find(|c| c.id == id).cloned())
    });
    let is_active = Memo::new(move |_| active.get().flatten() == Some(id));
    let Some(first) = channel.get_untracked() else {
        return ().into_any();
    };
    let peer = first.peer(me).map(|p| p.id);
    let avatar = peer.unwrap_or(id);
    let field = move |f: fn(&ChannelSummary, Uuid) -> String| {
        move || channel.with(|c| c.as_ref().map(|c| f(c, me)).unwrap_or_default())
    };
    let unread = move || channel.with(|c| c.as_ref().map_or(0, |c| c.unread));
    let mentions = move || channel.with(|c| c.as_ref().map_or(0, |c| c.mentions));
    let muted = move || channel.with(|c| c.as_ref().is_some_and(|c| c.muted));
    view! {
        <li>
            <a
                href=format!("/chat/{id}")
                class="parley-channel"
                class:parley-active=move || is_active.get()
                aria-current=move || is_active.get().then_some("page")
            >
                <span class="parley-avatar">
                    <Identicon id=avatar size=36 />
                    {peer.map(|peer| view! { <PresenceDot client user=peer /> })}
                </span>
                <span class="parley-channel-text">
                    // The link's name starts with the title, then says "muted" ("Book club, muted").
                    <span class="parley-channel-title">
                        {field(|c, me| c.title(me))}
                        {move || {
                            muted()
                                .then(|| {
                                    // Inline text: a separately positioned part would put a
                                    // space before the comma in the link's name.
                                    view! { <span class="parley-mute-tag">", muted"</span> }
                                })
                        }}
                    </span>
                    <span class="parley-channel-preview">{field(preview)}</span>
                </span>
                {move || {
                    let unread = unread();
                    (unread > 0)
                        .then(|| {
                            view! {
                                <span class="parley-badge" class:parley-badge-muted=muted>
                                    {format!("{unread} unread")}
                                </span>
                            }
                        })
                }}
                // Part of the link's name: "Book club, muted … 3 unread 1 mention".
                {move || {
                    let mentions = mentions();
                    (mentions > 0)
                        .then(|| {
                            view! {
                                <span class="parley-badge parley-badge-mention">
                                    {if mentions == 1 { "1 mention".to_owned() } else { format!("{mentions} mentions") }}
                                </span>
                            }
                        })
                }}
            </a>
        </li>
    }
    .into_any()
}

/// A dot on a 1:1 avatar while the other person is online (decorative: the conversation's
/// header says it in words).
#[component]
fn PresenceDot(client: ChatClient, user: Uuid) -> impl IntoView {
    let presence = client.presence(user);
    move || {
        presence
            .with(|p| p.as_ref().is_some_and(|p| p.online))
            .then(|| view! { <span class="parley-dot parley-online" aria-hidden="true"></span> })
    }
}
