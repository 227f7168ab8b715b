//! Replies: `Replies`, what an open conversation shares between its messages and its composer
//! (the message being replied to, the message highlighted by a jump); the composer's
//! "Replying to …" bar; the quote a reply shows; and the jump from a quote to its original,
//! loading older pages (a bounded number) until the original is in the log, or from a search
//! result to its message, loading the page around it.

use std::sync::Arc;

use leptos::prelude::*;
use uuid::Uuid;

use crate::client::{ChannelLog, ChatClient};
use crate::model::format::plain;
use crate::model::{Quote, User};

/// Most older pages a jump loads looking for a quoted message (50 messages a page).
const MAX_JUMP_PAGES: u32 = 40;

/// How long a message stays highlighted after a jump to it.
const HIGHLIGHT_FOR: std::time::Duration = std::time::Duration::from_secs(6);

/// The message a reply is being written to, as the composer names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyTo {
    pub id: Uuid,
    pub author: String,
}

/// A jump under way: the message sought and how many older pages it loaded so far; or, when
/// its sequence is known (a search result), whether the page around it was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Jump {
    id: Uuid,
    pages: u32,
    seq: Option<i64>,
    asked: bool,
}

/// Per open conversation (provided by it): the reply being written and the jumps to quoted
/// messages.
#[derive(Clone, Copy)]
pub struct Replies {
    pub target: RwSignal<Option<ReplyTo>>,
    /// The message a jump landed on, highlighted for a moment.
    pub highlighted: RwSignal<Option<Uuid>>,
    jump: RwSignal<Option<Jump>>,
    /// Why the last jump found nothing.
    pub jump_error: RwSignal<Option<String>>,
}

/// The element id a message's row carries (the target of a jump).
pub fn row_id(message: Uuid) -> String {
    format!("parley-message-{message}")
}

impl Replies {
    /// Provides a conversation's reply state and runs its jumps: while one is under way, each
    /// change of the log either finds the original (scrolled to and highlighted) or loads the
    /// next older page, until the history's start or [`MAX_JUMP_PAGES`].
    pub fn provide(client: ChatClient, channel: Uuid, log: RwSignal<ChannelLog>) -> Self {
        let replies = Self {
            target: RwSignal::new(None),
            highlighted: RwSignal::new(None),
            jump: RwSignal::new(None),
            jump_error: RwSignal::new(None),
        };
        provide_context(replies);
        let jump = replies.jump;
        Effect::new(move |_| {
            let Some(current) = jump.get() else {
                return;
            };
            let Jump {
                id,
                pages,
                seq,
                asked,
            } = current;
            let (held, loaded, loading, more) = log.with(|l| {
                (
                    l.holds(id),
                    l.loaded,
                    l.loading_older || l.loading_around,
                    l.has_more,
                )
            });
            if held {
                jump.set(None);
                replies.land(id);
            } else if !loaded || loading {
                // The page on its way changes the log, which runs this again.
            } else if let (Some(seq), false) = (seq, asked) {
                jump.set(Some(Jump {
                    asked: true,
                    ..current
                }));
                client.load_around(channel, seq);
            } else if seq.is_none() && more && pages < MAX_JUMP_PAGES {
                jump.set(Some(Jump {
                    pages: pages + 1,
                    ..current
                }));
                client.load_older(channel);
            } else {
                jump.set(None);
                replies
                    .jump_error
                    .set(Some("The message could not be found.".into()));
            }
        });
        replies
    }

    pub fn use_replies() -> Option<Self> {
        use_context::<Self>()
    }

    /// Goes to the message `id`: at once when the log holds it, else after older pages.
    pub fn jump_to(&self, id: Uuid) {
        self.jump_error.set(None);
        self.jump.set(Some(Jump {
            id,
            pages: 0,
            seq: None,
            asked: false,
        }));
    }

    /// Goes to the message `id` at sequence `seq`: at once when the log holds it, else with
    /// the page around it (in place of the log when far from what is loaded).
    pub fn jump_to_seq(&self, id: Uuid, seq: i64) {
        self.jump_error.set(None);
        self.jump.set(Some(Jump {
            id,
            pages: 0,
            seq: Some(seq),
            asked: false,
        }));
    }

    /// Highlights the message `id` and scrolls it to the middle of the log, once the log's own
    /// scrolling (which keeps the reader's place when older pages come in) is done: two
    /// animation frames later.
    fn land(&self, id: Uuid) {
        self.highlighted.set(Some(id));
        let highlighted = self.highlighted;
        request_animation_frame(move || {
            request_animation_frame(move || {
                if let Some(row) = document().get_element_by_id(&row_id(id)) {
                    scroll_to_middle(&row);
                }
            });
        });
        set_timeout(
            move || {
                if highlighted.get_untracked() == Some(id) {
                    highlighted.set(None);
                }
            },
            HIGHLIGHT_FOR,
        );
    }
}

#[cfg(feature = "hydrate")]
fn scroll_to_middle(row: &leptos::web_sys::Element) {
    let options = leptos::web_sys::ScrollIntoViewOptions::new();
    options.set_block(leptos::web_sys::ScrollLogicalPosition::Center);
    row.scroll_into_view_with_scroll_into_view_options(&options);
}

// Jumps run in event handlers and effects, in the browser only.
#[cfg(not(feature = "hydrate"))]
fn scroll_to_middle(row: &leptos::web_sys::Element) {
    row.scroll_into_view();
}

/// The quoted original above a reply: its author and first words; a button that goes to it.
#[component]
pub fn QuoteButton(quote: Quote, people: Arc<[User]>) -> impl IntoView {
    let replies = Replies::use_replies();
    let author = quote
        .user_id
        .and_then(|id| people.iter().find(|p| p.id == id))
        .map(|p| p.display_name.clone())
        .unwrap_or_else(|| "Someone".into());
    let words = if quote.deleted {
        "Message deleted".to_owned()
    } else {
        plain(&quote.text, &people)
    };
    let id = quote.id;
    // Said in one piece: hidden parts beside the visible ones would read "Ann : hi".
    let name = format!("In reply to {author}: {words}");
    view! {
        <button
            type="button"
            class="parley-quote"
            class:parley-quote-deleted=quote.deleted
            aria-label=name
            on:click=move |_| {
                if let Some(replies) = replies {
                    replies.jump_to(id);
                }
            }
        >
            <span class="parley-quote-author">{author}</span>
            <span class="parley-quote-text">{words}</span>
        </button>
    }
}

/// "Replying to <name>" and "Cancel reply" above the composer while a reply is being written.
#[component]
pub fn ReplyBar(replies: Replies) -> impl IntoView {
    view! {
        {move || {
            replies.target.get().map(|to| {
                view! {
                    <div class="parley-reply-bar">
                        <span>"Replying to " <strong>{to.author}</strong></span>
                        <button type="button" class="parley-link" on:click=move |_| replies.target.set(None)>
                            "Cancel reply"
                        </button>
                    </div>
                }
            })
        }}
        {move || replies.jump_error.get().map(|e| view! { <p class="parley-error" role="alert">{e}</p> })}
    }
}
