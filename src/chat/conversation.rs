//! The open conversation: heading with its actions (mute, a group's members, blocking the other
//! person of a 1:1), message log (infinite scroll up; opened at "New messages" above the first
//! unread message; "Jump to latest"), message actions (reply, react, edit, delete, report;
//! blocked people's messages collapsed; messages that mention me highlighted) and the composer
//! (reply bar, mention list), whose unsent text (`Drafts`) survives hydration, the composer
//! being rebuilt and (stored by the client) a reload, and its files (`attach`: "Attach files",
//! dropped on the conversation or pasted; sent with the message once uploaded).

use std::collections::{HashMap, HashSet};

use leptos::ev::{FocusEvent, KeyboardEvent, SubmitEvent};
use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos::web_sys;
use uuid::Uuid;

use super::attach::{AttachButton, AttachmentList, UploadList, Uploads};
use super::block::BlockButton;
use super::dialog::ErrorLine;
use super::identicon::Identicon;
use super::members::MembersButton;
use super::mention::{MentionList, MentionPicker, People};
use super::reactions::{AddReaction, ReactionBar, Refocus};
use super::reply::{row_id, QuoteButton, Replies, ReplyBar, ReplyTo};
use super::report::ReportDialog;
use super::text::MessageText;
use crate::client::{ChannelLog, ChatClient, Delivery, ListState, LocalMessage};
use chrono::{DateTime, Utc};

use crate::model::format::{with_names, with_tokens};
use crate::model::{ChannelKind, ChannelSummary, Presence};

/// Consecutive messages of one author within this many seconds share one header.
const GROUP_SECONDS: i64 = 5 * 60;

/// How close to the top (in pixels) the log must be scrolled to load older messages.
const LOAD_OLDER_AT: i32 = 80;

/// Within this many pixels of the bottom the log follows new messages, and "Jump to latest"
/// stays hidden.
const FOLLOW_WITHIN: i32 = 120;

/// At most this many older pages (of 50) are loaded on opening to reach the first unread
/// message; past them the log opens at the oldest loaded one.
const FIRST_UNREAD_PAGES: u8 = 10;

/// Room left above the "New messages" line when the log lands on it (pixels).
const LANDING_MARGIN: i32 = 8;

#[component]
pub fn Conversation(client: ChatClient, active: Memo<Option<Option<Uuid>>>) -> impl IntoView {
    // What was unread when the open conversation was opened: kept while it stays open, even
    // if its view is rebuilt; taken again each time a conversation is opened.
    let opened = StoredValue::new(None::<(Uuid, Option<UnreadFrom>)>);
    move || match active.get() {
        None => view! {
            <section class="parley-conversation parley-empty-state">
                <p class="parley-muted">"Select a conversation"</p>
            </section>
        }
        .into_any(),
        Some(id) => {
            opened.set_value(None);
            // Only whether the channel is known matters here: the open channel must not be
            // rebuilt each time its summary changes (a new message, a read mark).
            let known = Memo::new(move |_| {
                id.filter(|id| {
                    client
                        .channels
                        .with(|list| list.iter().any(|c| c.id == *id))
                })
            });
            // Only the newest pages of the list are loaded: an older channel opened by its
            // URL is fetched on its own.
            Effect::new(move |_| {
                if let (Some(id), None, ListState::Ready) =
                    (id, known.get(), client.list_state.get())
                {
                    client.find_channel(id);
                }
            });
            let missing = move || id.is_none_or(|id| client.missing.with(|m| m.contains(&id)));
            view! {
                {move || match (known.get(), client.list_state.get()) {
                    (Some(channel), _) => view! { <OpenChannel client channel opened /> }.into_any(),
                    (None, ListState::Loading) => view! { <LoadingChannel channel=id /> }.into_any(),
                    (None, ListState::Ready) if !missing() => {
                        view! { <LoadingChannel channel=id /> }.into_any()
                    }
                    (None, _) => view! {
                        <section class="parley-conversation parley-empty-state">
                            <p class="parley-muted">"Conversation not found"</p>
                        </section>
                    }
                    .into_any(),
                }}
            }
            .into_any()
        }
    }
}

/// One row of the log, with what the renderer needs to know about its neighbours.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Row {
    message: LocalMessage,
    /// Same author as the previous message, shortly after it: no header.
    grouped: bool,
    /// My newest stored message in a 1:1 that the other person has read.
    seen: bool,
    /// The first message that was unread when the conversation was opened: "New messages"
    /// goes above it.
    first_unread: bool,
}

/// The unread messages when a conversation was opened: those after `read` (my read mark
/// then) up to `last` (its newest message then). Fixed while it stays open, so the "New
/// messages" line does not move as the read mark does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct UnreadFrom {
    read: i64,
    last: i64,
}

impl UnreadFrom {
    /// `None` when nothing was unread.
    fn of(channel: &ChannelSummary) -> Option<Self> {
        (channel.unread > 0 && channel.last_seq > channel.my_last_read_seq).then_some(Self {
            read: channel.my_last_read_seq,
            last: channel.last_seq,
        })
    }

    /// Whether the log holds every message after the read mark (else older pages are needed
    /// before the first unread one is known).
    fn loaded_in(&self, log: &ChannelLog) -> bool {
        let oldest = log
            .messages
            .iter()
            .find(|m| m.delivery == Delivery::Sent)
            .map(|m| m.message.seq);
        log.loaded && (!log.has_more || oldest.is_some_and(|seq| seq <= self.read + 1))
    }

    /// The first of them that counts as unread (someone else's, not a system message, not
    /// deleted), once the log holds it.
    fn first_in(&self, log: &ChannelLog, me: Uuid) -> Option<Uuid> {
        if !self.loaded_in(log) {
            return None;
        }
        log.messages
            .iter()
            .find(|m| {
                m.delivery == Delivery::Sent
                    && (self.read + 1..=self.last).contains(&m.message.seq)
                    && m.message.user_id.is_some_and(|author| author != me)
                    && !m.message.deleted
            })
            .map(|m| m.message.id)
    }
}

fn rows(
    log: &ChannelLog,
    channel: &ChannelSummary,
    me: Uuid,
    unread: Option<UnreadFrom>,
) -> Vec<Row> {
    let first_unread = unread.and_then(|u| u.first_in(log, me));
    let seen_seq = match channel.kind {
        ChannelKind::Dm => log
            .messages
            .iter()
            .rev()
            .find(|m| m.delivery == Delivery::Sent && m.message.user_id == Some(me))
            .map(|m| m.message.seq)
            .filter(|seq| channel.others_last_read_seq >= *seq),
        ChannelKind::Group => None,
    };
    let mut previous: Option<&LocalMessage> = None;
    log.messages
        .iter()
        .map(|m| {
            // System messages have no author, so they never share a header.
            let grouped = previous.is_some_and(|p| {
                m.message.user_id.is_some()
                    && p.message.user_id == m.message.user_id
                    && (m.message.created_at - p.message.created_at).num_seconds() < GROUP_SECONDS
            });
            previous = Some(m);
            let seen = m.delivery == Delivery::Sent
                && Some(m.message.seq) == seen_seq
                && m.message.user_id == Some(me);
            Row {
                message: m.clone(),
                grouped,
                seen,
                first_unread: first_unread == Some(m.message.id),
            }
        })
        .collect()
}

#[component]
fn OpenChannel(
    client: ChatClient,
    channel: Uuid,
    opened: StoredValue<Option<(Uuid, Option<UnreadFrom>)>>,
) -> impl IntoView {
    let me = client.me_id();
    let summary = Memo::new(move |_| {
        client
            .channels
            .with(|list| list.iter().find(|c| c.id == channel).cloned())
    });
    // Taken before the effects below mark the channel read.
    let unread = match opened.get_value() {
        Some((id, unread)) if id == channel => unread,
        _ => {
            let unread = summary.with_untracked(|s| s.as_ref().and_then(UnreadFrom::of));
            opened.set_value(Some((channel, unread)));
            unread
        }
    };
    let log = client.log(channel);
    let log_ref = NodeRef::<html::Div>::new();
    // Distance from the bottom of the log, measured at every scroll: restores the position
    // when older messages are put above, and tells whether to follow new ones.
    let from_bottom = StoredValue::new(0);
    let first_id = StoredValue::new(None::<Uuid>);
    People::provide(summary);
    Refocus::provide();
    // Scrolled up away from the newest messages: "Jump to latest" shows.
    let away = RwSignal::new(false);
    // Opened with unread messages: older pages it may still load to reach the first of them
    // before landing there, once. `None`: landed (or nothing was unread), the log then
    // behaves as usual, so it never scrolls back by itself.
    // Opened at a search result: that message is landed on instead.
    let focused = client
        .focus
        .with_untracked(|f| f.is_some_and(|f| f.channel_id == channel));
    let landing = StoredValue::new(unread.filter(|_| !focused).map(|_| FIRST_UNREAD_PAGES));
    // Whether the log was a window (`has_newer`) at the last change: pages read on into it
    // never make the log follow to the bottom.
    let window_before = StoredValue::new(false);
    let measure = move |el: &web_sys::HtmlDivElement| {
        let distance = el.scroll_height() - el.client_height() - el.scroll_top();
        from_bottom.set_value(distance);
        let up = distance > FOLLOW_WITHIN;
        if away.get_untracked() != up {
            away.set(up);
        }
    };

    Effect::new(move |_| client.open(channel));
    // Keep the channel read while it is open (and the tab in front) and new messages arrive.
    Effect::new(move |_| {
        // (`visible` tracked: coming back to the tab reads what came meanwhile.)
        if log.with(ChannelLog::newest_seq) > 0 && client.visible.get() {
            client.mark_read(channel);
        }
    });
    // After the log changes: first land on the first unread message (loading the older pages
    // it is in); afterwards keep the reader's place when history is prepended, otherwise
    // follow the newest message if the reader was at the bottom.
    Effect::new(move |_| {
        let (first, loaded, loading_older) = log.with(|l| {
            (
                l.messages.first().map(|m| m.message.id),
                l.loaded,
                l.loading_older,
            )
        });
        let prepended = first_id.get_value().is_some() && first != first_id.get_value();
        first_id.set_value(first);
        let window = log.with(|l| l.has_newer);
        let follow = !window && !window_before.get_value();
        window_before.set_value(window);
        let Some(el) = log_ref.get() else { return };
        if let Some(pages) = landing.get_value() {
            if !loaded || loading_older {
                return;
            }
            let reached = unread.is_none_or(|u| log.with(|l| u.loaded_in(l)));
            if !reached && pages > 0 {
                landing.set_value(Some(pages - 1));
                client.load_older(channel);
                return;
            }
            landing.set_value(None);
            request_animation_frame(move || {
                land_on_first_unread(&el, reached);
                measure(&el);
            });
            return;
        }
        let keep = from_bottom.get_value();
        request_animation_frame(move || {
            if prepended {
                el.set_scroll_top(el.scroll_height() - el.client_height() - keep);
            } else if keep < FOLLOW_WITHIN && follow {
                el.set_scroll_top(el.scroll_height());
            }
        });
    });

    let replies = Replies::provide(client, channel, log);
    // A search result chosen (now or while this conversation was opening): go to it.
    Effect::new(move |_| {
        if let Some(focus) = client.focus.get().filter(|f| f.channel_id == channel) {
            client.focus.set(None);
            replies.jump_to_seq(focus.message_id, focus.seq);
        }
    });

    let on_scroll = move |_| {
        if let Some(el) = log_ref.get() {
            measure(&el);
            if el.scroll_top() < LOAD_OLDER_AT {
                client.load_older(channel);
            }
            if el.scroll_height() - el.client_height() - el.scroll_top() < LOAD_OLDER_AT {
                client.load_newer(channel);
            }
        }
    };
    let window = move || log.with(|l| l.has_newer);
    let jump_to_latest = move |_| {
        if log.with_untracked(|l| l.has_newer) {
            // The newest page replaces the window and the log follows it to the bottom.
            from_bottom.set_value(0);
            client.leave_window(channel);
        } else if let Some(el) = log_ref.get() {
            el.set_scroll_top(el.scroll_height());
            measure(&el);
        }
    };

    let title = move || summary.with(|s| s.as_ref().map(|s| s.title(me)).unwrap_or_default());
    let peer = summary.with_untracked(|s| s.as_ref().and_then(|s| s.peer(me)).cloned());
    let is_group =
        summary.with_untracked(|s| s.as_ref().is_some_and(|s| s.kind == ChannelKind::Group));
    let typing = client.typing(channel);
    let typing_line = move || {
        let names: Vec<String> = typing.with(|ids| {
            summary.with(|s| {
                ids.iter()
                    .filter_map(|id| s.as_ref().and_then(|s| s.member(*id)))
                    .map(|m| m.display_name.clone())
                    .collect()
            })
        });
        match names.as_slice() {
            [] => String::new(),
            [one] => format!("{one} is typing…"),
            [one, two] => format!("{one} and {two} are typing…"),
            _ => "Several people are typing…".to_owned(),
        }
    };
    let uploads = Uploads::new(channel);
    view! {
        <section
            class="parley-conversation"
            on:dragover=move |ev: leptos::ev::DragEvent| ev.prevent_default()
            on:drop=move |ev: leptos::ev::DragEvent| {
                ev.prevent_default();
                #[cfg(feature = "hydrate")]
                if let Some(files) = ev.data_transfer().and_then(|d| d.files()) {
                    uploads.add(&files);
                }
            }
        >
            <header class="parley-conversation-head">
                <a class="parley-back" href="/chat" aria-label="All conversations">
                    "‹"
                </a>
                <div class="parley-conversation-title">
                    <h2>{title}</h2>
                    // Nothing about someone I block (the server hides it too, both ways).
                    {peer
                        .clone()
                        .map(|user| {
                            let user = user.id;
                            view! {
                                <Show when=move || !client.blocks(user)>
                                    <PresenceLine client user />
                                </Show>
                            }
                        })}
                </div>
                <div class="parley-conversation-actions">
                    <MuteButton client channel summary />
                    {is_group.then(|| view! { <MembersButton client channel summary /> })}
                    {peer.map(|user| view! { <BlockButton user /> })}
                </div>
            </header>
            <div class="parley-log-frame">
            <div class="parley-log" role="log" aria-label="Messages" node_ref=log_ref on:scroll=on_scroll>
                {move || {
                    log.with(|l| {
                        if l.loading_older {
                            Some(view! { <p class="parley-muted parley-center">"Loading older messages…"</p> }.into_any())
                        } else if l.has_more {
                            Some(
                                view! {
                                    <button type="button" class="parley-link parley-center" on:click=move |_| client.load_older(channel)>
                                        "Load older messages"
                                    </button>
                                }
                                    .into_any(),
                            )
                        } else if l.loaded && l.messages.is_empty() {
                            Some(view! { <p class="parley-muted parley-center">"No messages yet. Say hello!"</p> }.into_any())
                        } else {
                            None
                        }
                    })
                }}
                {move || log.with(|l| l.error.clone()).map(|e| view! { <p class="parley-error" role="alert">{e}</p> })}
                <ol class="parley-messages">
                    <For
                        each=move || {
                            let rows = summary
                                .with(|s| s.as_ref().map(|s| log.with(|l| rows(l, s, me, unread))))
                                .unwrap_or_default();
                            rows
                        }
                        key=|row| row.clone()
                        let:row
                    >
                        <MessageItem client row=row.clone() me summary />
                    </For>
                </ol>
                {move || {
                    log.with(|l| {
                        if l.loading_newer {
                            Some(view! { <p class="parley-muted parley-center">"Loading newer messages…"</p> }.into_any())
                        } else if l.has_newer {
                            Some(
                                view! {
                                    <button type="button" class="parley-link parley-center" on:click=move |_| client.load_newer(channel)>
                                        "Load newer messages"
                                    </button>
                                }
                                    .into_any(),
                            )
                        } else {
                            None
                        }
                    })
                }}
            </div>
            <Show when=move || away.get() || window()>
                <button type="button" class="parley-jump" on:click=jump_to_latest>
                    "Jump to latest"
                </button>
            </Show>
            </div>
            <p class="parley-typing" aria-live="polite">{typing_line}</p>
            <Composer client=Some(client) channel uploads />
        </section>
    }
}

/// "New messages", above the first message that was unread when the conversation was opened
/// (inside its list item: a list holds list items only).
#[component]
fn NewMessagesLine() -> impl IntoView {
    view! {
        <div class="parley-new-messages" role="separator" aria-label="New messages">
            "New messages"
        </div>
    }
}

/// Scrolls the log so the "New messages" line is near its top. Without the line: to the
/// oldest loaded message when the first unread one was too far back (`reached` false), else
/// (nothing counts as unread any more) to the newest.
fn land_on_first_unread(log: &web_sys::HtmlDivElement, reached: bool) {
    use leptos::wasm_bindgen::JsCast;
    let line = log
        .query_selector(".parley-new-messages")
        .ok()
        .flatten()
        .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok());
    match line {
        // The log is the line's offset parent (the nearest positioned ancestor).
        Some(line) => log.set_scroll_top(line.offset_top() - LANDING_MARGIN),
        None if reached => log.set_scroll_top(log.scroll_height()),
        None => log.set_scroll_top(0),
    }
}

#[component]
fn MessageItem(
    client: ChatClient,
    row: Row,
    me: Uuid,
    summary: Memo<Option<ChannelSummary>>,
) -> impl IntoView {
    let Row {
        message:
            LocalMessage {
                message,
                delivery,
                refusal,
            },
        grouped,
        seen,
        first_unread,
    } = row;
    let time = super::time::clock(message.created_at);
    let datetime = message.created_at.to_rfc3339();
    let Some(author_id) = message.user_id else {
        return view! { <SystemMessage message time datetime /> }.into_any();
    };
    let mine = author_id == me;
    let author = summary.with_untracked(|s| {
        s.as_ref()
            .and_then(|s| s.member(author_id))
            .map(|m| m.display_name.clone())
            .unwrap_or_else(|| "Someone".into())
    });
    let editing = RwSignal::new(false);
    let reporting = RwSignal::new(false);
    // A blocked person's message stays folded until "Show" (for this row only).
    let revealed = RwSignal::new(false);
    let folded = move || !mine && !revealed.get() && client.blocks(author_id);
    let (id, channel_id) = (message.id, message.channel_id);
    let action_error = RwSignal::new(None::<String>);
    let delete = move |_| {
        spawn_local(async move {
            if let Err(e) = client.delete(channel_id, id).await {
                action_error.set(Some(e));
            }
        });
    };
    let can_change = mine && delivery == Delivery::Sent && !message.deleted;
    let can_report = !mine && delivery == Delivery::Sent && !message.deleted;
    let can_respond = delivery == Delivery::Sent && !message.deleted;
    let people = People::now();
    let replies = Replies::use_replies();
    let highlighted = move || replies.is_some_and(|r| r.highlighted.get() == Some(id));
    let mentions_me = !mine && !message.deleted && message.mentions_user(me);
    // Tokens (`<@id>`) read as "@Name" wherever people see or edit the text.
    let text = with_names(&message.text, &people);
    // Rendered from the stored text: mentions become "@Name" elements there.
    let stored_text = message.text.clone();
    let text_people = people.clone();
    let (deleted, edited) = (message.deleted, message.edited);
    let quote = message
        .reply_to
        .clone()
        .map(|quote| view! { <QuoteButton quote people=people.clone() /> });
    let reactions = message.reactions.clone();
    let files = message.attachments.clone();
    let reaction_people = people.clone();
    let reply_author = author.clone();
    let reply = move |_| {
        if let Some(replies) = replies {
            replies.target.set(Some(ReplyTo {
                id,
                author: reply_author.clone(),
            }));
        }
    };

    let content = view! {
        // Folded: the author's line goes too (the name stays out of sight, not out of the page).
        <div class="parley-message-head" class:parley-visually-hidden=grouped class:parley-hidden=folded>
            <Identicon id=author_id size=28 />
            <span class="parley-author">{author}</span>
            <time datetime=datetime>{time}</time>
        </div>
        <div class="parley-message-body">
            <div class:parley-hidden=folded>{quote}</div>
            {mentions_me.then(|| view! { <span class="parley-visually-hidden">"Mentions you"</span> })}
            {move || {
                if folded() {
                    view! {
                        <p class="parley-message-text parley-folded">
                            "Message from a blocked person"
                            <button type="button" class="parley-link" on:click=move |_| revealed.set(true)>
                                "Show"
                            </button>
                        </p>
                    }
                        .into_any()
                } else if deleted {
                    view! { <p class="parley-message-text parley-deleted">"Message deleted"</p> }.into_any()
                } else if editing.get() {
                    view! { <Editor client channel_id id text=text.clone() editing people=people.clone() /> }.into_any()
                } else {
                    view! {
                        <div class="parley-message-text">
                            <MessageText text=stored_text.clone() people=text_people.clone() />
                            {edited.then(|| view! { <span class="parley-muted parley-edited">" (edited)"</span> })}
                        </div>
                        {(!files.is_empty()).then(|| view! { <AttachmentList files=files.clone() /> })}
                    }
                        .into_any()
                }
            }}
            {match delivery {
                Delivery::Pending => Some(view! { <span class="parley-status parley-muted">"Sending…"</span> }.into_any()),
                Delivery::Failed => Some(
                    view! {
                        <span class="parley-status parley-error">"Failed to send"</span>
                        {refusal.map(|why| view! { <span class="parley-status parley-error parley-refusal" role="alert">{why}</span> })}
                        <button type="button" class="parley-link" on:click=move |_| client.retry(channel_id, id)>
                            "Retry"
                        </button>
                    }
                        .into_any(),
                ),
                Delivery::Sent => None,
            }}
            {seen.then(|| view! { <span class="parley-status parley-seen">"Seen"</span> })}
            <div class:parley-hidden=folded>
                <ReactionBar client channel_id message_id=id reactions people=reaction_people error=action_error />
            </div>
            {can_respond
                .then(|| {
                    view! {
                        <span class="parley-actions" class:parley-hidden=move || folded() || editing.get()>
                            <button type="button" class="parley-link" on:click=reply>
                                "Reply"
                            </button>
                            <AddReaction client channel_id message_id=id error=action_error />
                        </span>
                    }
                })}
            {can_change
                .then(|| {
                    view! {
                        <span class="parley-actions" class:parley-hidden=move || editing.get()>
                            <button type="button" class="parley-link" on:click=move |_| editing.set(true)>
                                "Edit"
                            </button>
                            <button type="button" class="parley-link parley-danger" on:click=delete>
                                "Delete"
                            </button>
                        </span>
                    }
                })}
            {can_report
                .then(|| {
                    view! {
                        <span class="parley-actions" class:parley-hidden=folded>
                            <button type="button" class="parley-link" aria-haspopup="dialog" on:click=move |_| reporting.set(true)>
                                "Report"
                            </button>
                        </span>
                    }
                })}
            <ErrorLine error=action_error />
        </div>
    };

    view! {
        <li
            class="parley-message"
            id=row_id(id)
            class:parley-grouped=grouped
            class:parley-mine=mine
            class:parley-pending=delivery == Delivery::Pending
            class:parley-mentioned=mentions_me
            class:parley-highlighted=highlighted
            data-highlighted=move || highlighted().then_some("true")
        >
            {first_unread.then(|| view! { <NewMessagesLine /> })}
            {content}
            <Show when=move || reporting.get()>
                <ReportDialog client message_id=id on_close=Callback::new(move |()| reporting.set(false)) />
            </Show>
        </li>
    }
    .into_any()
}

/// A system message (posted by the host's backend): centred, with no author, its time below.
#[component]
fn SystemMessage(message: crate::model::Message, time: String, datetime: String) -> impl IntoView {
    view! {
        <li class="parley-message parley-system">
            {if message.deleted {
                view! { <p class="parley-message-text parley-deleted">"Message deleted"</p> }.into_any()
            } else {
                view! {
                    <div class="parley-message-text">
                        <MessageText text=message.text.clone() />
                    </div>
                }
                    .into_any()
            }}
            <time datetime=datetime>{time}</time>
        </li>
    }
}

#[component]
fn Editor(
    client: ChatClient,
    channel_id: Uuid,
    id: Uuid,
    text: String,
    editing: RwSignal<bool>,
    people: std::sync::Arc<[crate::model::User]>,
) -> impl IntoView {
    let draft = RwSignal::new(text);
    let error = RwSignal::new(None::<String>);
    let people = StoredValue::new(people);
    let save = move || {
        let text = people.with_value(|people| with_tokens(&draft.get_untracked(), people));
        spawn_local(async move {
            match client.edit(channel_id, id, text).await {
                Ok(()) => editing.set(false),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <form
            class="parley-editor"
            on:submit=move |ev: SubmitEvent| {
                ev.prevent_default();
                save();
            }
        >
            <textarea
                aria-label="Edit message"
                prop:value=move || draft.get()
                on:input=move |ev| draft.set(event_target_value(&ev))
                on:keydown=move |ev: KeyboardEvent| {
                    if ev.key() == "Escape" {
                        editing.set(false);
                    } else if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                        ev.prevent_default();
                        save();
                    }
                }
            ></textarea>
            {move || error.get().map(|e| view! { <p class="parley-error" role="alert">{e}</p> })}
            <button type="submit" class="parley-primary">"Save"</button>
            <button type="button" on:click=move |_| editing.set(false)>"Cancel"</button>
        </form>
    }
}

/// Unsent text per channel, whether a composer had the focus, and sends asked for before the
/// chat client could take them (Enter in a composer that is still loading). Kept by `ChatInterface`, so
/// it outlives each composer: the one rendered by the server (typed into before the WASM has
/// loaded) is replaced by the live one once the chat client exists, and a channel list reload
/// rebuilds the open channel.
#[derive(Clone, Copy)]
pub struct Drafts(StoredValue<DraftState>);

#[derive(Default)]
pub struct DraftState {
    text: HashMap<Uuid, String>,
    focused: Option<Uuid>,
    send_asked: HashSet<Uuid>,
}

impl Drafts {
    pub fn provide() -> Self {
        let drafts = Self(StoredValue::new(DraftState::default()));
        provide_context(drafts);
        drafts
    }

    fn use_drafts() -> Self {
        use_context::<Self>().unwrap_or_else(Self::provide)
    }

    fn text(&self, channel: Uuid) -> Option<String> {
        self.0
            .with_value(|d| d.text.get(&channel).filter(|t| !t.is_empty()).cloned())
    }

    fn set_text(&self, channel: Uuid, text: String) {
        self.0.update_value(|d| {
            d.text.insert(channel, text);
        });
    }

    fn set_focused(&self, channel: Uuid, focused: bool) {
        self.0.update_value(|d| match focused {
            true => d.focused = Some(channel),
            false if d.focused == Some(channel) => d.focused = None,
            false => {}
        });
    }

    fn focused(&self, channel: Uuid) -> bool {
        self.0.with_value(|d| d.focused == Some(channel))
    }

    fn ask_send(&self, channel: Uuid) {
        self.0.update_value(|d| {
            d.send_asked.insert(channel);
        });
    }

    /// Whether a send was asked for in `channel` (once).
    fn take_send(&self, channel: Uuid) -> bool {
        self.0
            .try_update_value(|d| d.send_asked.remove(&channel))
            .unwrap_or(false)
    }
}

/// The open conversation before the chat client exists (server rendering, then until the
/// browser knows the signed-in user).
#[component]
pub fn PendingConversation(active: Memo<Option<Option<Uuid>>>) -> impl IntoView {
    move || match active.get() {
        Some(channel) => view! { <LoadingChannel channel /> }.into_any(),
        None => {
            view! { <section class="parley-conversation parley-empty-state"></section> }.into_any()
        }
    }
}

/// A channel whose messages are not there yet: its composer already is, to type into.
#[component]
fn LoadingChannel(channel: Option<Uuid>) -> impl IntoView {
    match channel {
        Some(channel) => view! {
            <section class="parley-conversation">
                <div class="parley-log">
                    <p class="parley-muted parley-center">"Loading…"</p>
                </div>
                <Composer client=None channel />
            </section>
        }
        .into_any(),
        None => view! {
            <section class="parley-conversation parley-empty-state">
                <p class="parley-muted">"Loading…"</p>
            </section>
        }
        .into_any(),
    }
}

/// The message box. Its textarea is uncontrolled (read through a `NodeRef`): hydration never
/// clears text typed before the WASM loaded, and what is typed is kept in [`Drafts`] for the
/// composer that replaces this one. Without a client (`None`, still loading) nothing is sent
/// yet: the button is disabled (before hydration it would submit the page), and Enter asks the
/// composer that replaces this one to send.
#[component]
fn Composer(
    client: Option<ChatClient>,
    channel: Uuid,
    /// The conversation's files (none while loading).
    #[prop(optional)]
    uploads: Option<Uploads>,
) -> impl IntoView {
    let drafts = Drafts::use_drafts();
    // Send was asked for while files were still uploading: it goes once they are up.
    let waiting = RwSignal::new(false);
    let text = NodeRef::<html::Textarea>::new();
    let error = RwSignal::new(None::<String>);
    // Only an open conversation (with its client) has replies and members to mention.
    let replies = Replies::use_replies();
    let people = People::use_people();
    let me = client.map(|c| c.me_id()).unwrap_or_default();
    let others = match people {
        Some(people) => people.others(me),
        None => Memo::new(|_| Vec::new()),
    };
    let picker = MentionPicker::new(channel, others.into(), text);
    let submit = move || {
        let Some(el) = text.get_untracked() else {
            return;
        };
        let Some(client) = client else {
            // Still loading: the composer that replaces this one sends it.
            if !el.value().trim().is_empty() {
                drafts.ask_send(channel);
            }
            return;
        };
        // "@Display name" of a member becomes their token.
        let typed = match people {
            Some(people) => with_tokens(&el.value(), &people.get_untracked()),
            None => el.value(),
        };
        let reply_to = replies
            .and_then(|r| r.target.get_untracked())
            .map(|to| to.id);
        if uploads.is_some_and(|u| u.uploading()) {
            waiting.set(true);
            error.set(None);
            return;
        }
        let files = uploads.map(|u| u.done()).unwrap_or_default();
        match client.send(channel, &typed, reply_to, files) {
            Ok(()) => {
                if let Some(uploads) = uploads {
                    uploads.clear();
                }
                el.set_value("");
                drafts.set_text(channel, String::new());
                client.save_draft(channel, "");
                error.set(None);
                picker.close(false);
                if let Some(replies) = replies {
                    replies.target.set(None);
                }
            }
            Err(e) => error.set(Some(e)),
        }
    };
    // Once in the page: text already in the box (typed before hydration) is kept as the draft;
    // an empty box takes the draft an earlier composer of this channel left (else, with a
    // client, the one stored by an earlier page: effects run only in the browser, so the
    // server-rendered box stays empty), its focus, and the send asked for there.
    Effect::new(move |_| {
        let Some(el) = text.get() else { return };
        untrack(move || {
            let typed = el.value();
            if !typed.is_empty() {
                drafts.set_text(channel, typed);
            } else if let Some(saved) = drafts
                .text(channel)
                .or_else(|| client.and_then(|c| c.saved_draft(channel)))
            {
                el.set_value(&saved);
            }
            if let Some(client) = client {
                client.save_draft(channel, &el.value());
            }
            let box_node: &web_sys::Node = &el;
            let active = document().active_element();
            let nothing_focused = active.as_ref().is_none_or(|a| {
                let body = document().body();
                a.is_same_node(body.as_ref().map(|b| -> &web_sys::Node { b }))
            });
            if active.is_some_and(|a| a.is_same_node(Some(box_node))) {
                drafts.set_focused(channel, true);
            } else if drafts.focused(channel) && nothing_focused {
                let _ = el.focus();
            }
            if client.is_some() && drafts.take_send(channel) {
                submit();
            }
        });
    });
    // The send asked for goes once the last file is up.
    Effect::new(move |_| {
        if waiting.get() && !uploads.is_some_and(|u| u.uploading()) {
            waiting.set(false);
            untrack(submit);
        }
    });
    // Choosing "Reply" puts the cursor in the box.
    Effect::new(move |_| {
        if replies.is_some_and(|r| r.target.with(Option::is_some)) {
            if let Some(el) = text.get_untracked() {
                let _ = el.focus();
            }
        }
    });
    view! {
        {replies.map(|replies| view! { <ReplyBar replies /> })}
        <form
            class="parley-composer"
            on:submit=move |ev: SubmitEvent| {
                ev.prevent_default();
                submit();
            }
        >
            <MentionList picker />
            {uploads.map(|uploads| view! { <UploadList uploads /> })}
            <textarea
                on:paste=move |ev: leptos::ev::ClipboardEvent| {
                    #[cfg(feature = "hydrate")]
                    if let (Some(uploads), Some(files)) = (
                        uploads,
                        ev.clipboard_data().and_then(|d| d.files()).filter(|f| f.length() > 0),
                    ) {
                        ev.prevent_default();
                        uploads.add(&files);
                    }
                    #[cfg(not(feature = "hydrate"))]
                    let _ = ev;
                }
                aria-label="Message"
                placeholder="Write a message…"
                rows="1"
                node_ref=text
                aria-autocomplete="list"
                aria-controls=move || picker.controls()
                aria-activedescendant=move || picker.active_descendant()
                on:click=move |_| picker.read()
                on:input=move |ev| {
                    picker.read();
                    let typed = event_target_value(&ev);
                    if let Some(client) = client {
                        if !typed.trim().is_empty() {
                            client.typed(channel);
                        }
                        client.save_draft(channel, &typed);
                    }
                    drafts.set_text(channel, typed);
                }
                on:focus=move |_| drafts.set_focused(channel, true)
                on:blur=move |ev: FocusEvent| {
                    picker.close(false);
                    // Removing the box (when it is replaced) blurs it with no new target: the
                    // composer that replaces it takes the focus back.
                    if ev.related_target().is_some() {
                        drafts.set_focused(channel, false);
                    }
                }
                on:keydown=move |ev: KeyboardEvent| {
                    if picker.keydown(&ev) {
                        return;
                    }
                    if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                        ev.prevent_default();
                        submit();
                    } else if ev.key() == "Escape" {
                        if let Some(replies) = replies {
                            replies.target.set(None);
                        }
                    }
                }
            ></textarea>
            {uploads.map(|uploads| view! { <AttachButton uploads /> })}
            <button type="submit" class="parley-primary" disabled=client.is_none()>
                "Send"
            </button>
            <Show when=move || waiting.get()>
                <p class="parley-muted parley-composer-status" role="status">
                    "Sending once the files are uploaded…"
                </p>
            </Show>
            {move || error.get().map(|e| view! { <p class="parley-error parley-composer-error" role="alert">{e}</p> })}
        </form>
    }
}

/// "Mute conversation" / "Unmute conversation": a muted conversation's unread messages leave
/// the global count.
#[component]
fn MuteButton(
    client: ChatClient,
    channel: Uuid,
    summary: Memo<Option<ChannelSummary>>,
) -> impl IntoView {
    let muted = move || summary.with(|s| s.as_ref().is_some_and(|s| s.muted));
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let toggle = move |_| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        let mute = !summary.with_untracked(|s| s.as_ref().is_some_and(|s| s.muted));
        spawn_local(async move {
            let outcome = client.mute(channel, mute).await;
            busy.set(false);
            error.set(outcome.err());
        });
    };
    view! {
        <button type="button" disabled=move || busy.get() on:click=toggle>
            {move || if muted() { "Unmute conversation" } else { "Mute conversation" }}
        </button>
        <ErrorLine error />
    }
}

/// "Online", or when the person was last seen, kept current while shown.
#[component]
fn PresenceLine(client: ChatClient, user: Uuid) -> impl IntoView {
    let presence = client.presence(user);
    let now = RwSignal::new(Utc::now());
    // Effects run only in the browser: no timer during server rendering.
    Effect::new(move |_| {
        if let Ok(tick) = set_interval_with_handle(
            move || now.set(Utc::now()),
            std::time::Duration::from_secs(30),
        ) {
            on_cleanup(move || tick.clear());
        }
    });
    view! {
        <p class="parley-presence" class:parley-online=move || presence.with(|p| p.as_ref().is_some_and(|p| p.online))>
            {move || presence.with(|p| p.as_ref().map(|p| describe(p, now.get())).unwrap_or_default())}
        </p>
    }
}

fn describe(presence: &Presence, now: DateTime<Utc>) -> String {
    if presence.online {
        return "Online".to_owned();
    }
    let Some(seen) = presence.last_seen_at else {
        return "Offline".to_owned();
    };
    let minutes = (now - seen).num_minutes().max(0);
    match minutes {
        0 => "last seen just now".to_owned(),
        1..60 => format!("last seen {minutes} min ago"),
        60..1440 => format!("last seen {} h ago", minutes / 60),
        _ => format!("last seen on {}", super::time::day_month(seen)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Message;

    fn message(seq: i64, author: Option<Uuid>) -> LocalMessage {
        LocalMessage {
            message: Message {
                id: Uuid::new_v4(),
                channel_id: Uuid::nil(),
                seq,
                user_id: author,
                text: format!("message {seq}"),
                created_at: DateTime::from_timestamp(1_800_000_000 + seq, 0).unwrap_or_default(),
                edited: false,
                deleted: false,
                reply_to: None,
                mentions: Vec::new(),
                reactions: Vec::new(),
                attachments: Vec::new(),
            },
            delivery: Delivery::Sent,
            refusal: None,
        }
    }

    fn log(messages: Vec<LocalMessage>, has_more: bool) -> ChannelLog {
        ChannelLog {
            messages,
            has_more,
            loaded: true,
            ..ChannelLog::default()
        }
    }

    fn summary(unread: i64, my_last_read_seq: i64, last_seq: i64) -> ChannelSummary {
        ChannelSummary {
            id: Uuid::nil(),
            kind: ChannelKind::Dm,
            name: None,
            members: Vec::new(),
            created_at: DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default(),
            last_message_at: None,
            last_seq,
            last_message: None,
            unread,
            my_last_read_seq,
            others_last_read_seq: 0,
            muted: false,
            mentions: 0,
            version: 0,
        }
    }

    #[test]
    fn nothing_unread_means_no_line() {
        assert_eq!(UnreadFrom::of(&summary(0, 4, 4)), None);
        // My own messages after my read mark are not unread.
        assert_eq!(UnreadFrom::of(&summary(0, 2, 4)), None);
        assert_eq!(
            UnreadFrom::of(&summary(2, 2, 4)),
            Some(UnreadFrom { read: 2, last: 4 })
        );
    }

    #[test]
    fn the_line_goes_above_the_first_message_of_someone_else_after_the_read_mark() {
        let (me, other) = (Uuid::new_v4(), Uuid::new_v4());
        let messages = vec![
            message(1, Some(other)),
            message(2, Some(me)),
            message(3, Some(me)),
            message(4, None),
            message(5, Some(other)),
            message(6, Some(other)),
        ];
        let expected = messages[4].message.id;
        let unread = UnreadFrom { read: 2, last: 6 };
        assert_eq!(unread.first_in(&log(messages, false), me), Some(expected));
    }

    #[test]
    fn messages_that_arrive_later_or_were_deleted_do_not_move_it() {
        let (me, other) = (Uuid::new_v4(), Uuid::new_v4());
        let mut deleted = message(3, Some(other));
        deleted.message.deleted = true;
        let messages = vec![message(2, Some(other)), deleted, message(4, Some(other))];
        let fourth = messages[2].message.id;
        // Opened when 3 was the newest (and unread), since deleted: the line is at 4 only if
        // 4 was there when the conversation was opened.
        assert_eq!(
            UnreadFrom { read: 2, last: 3 }.first_in(&log(messages.clone(), false), me),
            None
        );
        assert_eq!(
            UnreadFrom { read: 2, last: 4 }.first_in(&log(messages, false), me),
            Some(fourth)
        );
    }

    #[test]
    fn the_first_unread_message_must_be_loaded_first() {
        let (me, other) = (Uuid::new_v4(), Uuid::new_v4());
        let newest_page: Vec<_> = (51..=100).map(|seq| message(seq, Some(other))).collect();
        let unread = UnreadFrom {
            read: 30,
            last: 100,
        };
        let partial = log(newest_page.clone(), true);
        assert!(!unread.loaded_in(&partial));
        assert_eq!(unread.first_in(&partial, me), None);

        // Once the page holding 31 is there, it is the first.
        let mut both: Vec<_> = (1..=50).map(|seq| message(seq, Some(other))).collect();
        let thirty_first = both[30].message.id;
        both.extend(newest_page);
        let full = log(both, false);
        assert!(unread.loaded_in(&full));
        assert_eq!(unread.first_in(&full, me), Some(thirty_first));

        // Or when the read mark is right before the oldest loaded message.
        assert!(UnreadFrom {
            read: 50,
            last: 100
        }
        .loaded_in(&partial));
    }

    #[test]
    fn an_unloaded_log_has_no_line_yet() {
        let other = Uuid::new_v4();
        let mut unloaded = log(vec![message(1, Some(other))], false);
        unloaded.loaded = false;
        assert!(!UnreadFrom { read: 0, last: 1 }.loaded_in(&unloaded));
    }
}
