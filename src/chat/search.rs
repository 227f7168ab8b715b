//! Message search in the sidebar: the searchbox "Search messages", the list "Search results"
//! (conversation, author, time and the matching words in `<mark>`), more results on demand,
//! and choosing one, which opens its conversation at that message (`client::Focus`). Asks the
//! server (`api::search_messages`) as the words settle; never shows text as HTML.

use leptos::prelude::*;
use uuid::Uuid;

use super::time::{clock, day_month};
use crate::api;
use crate::client::{ChatClient, Focus};
use crate::model::format::with_names;
use crate::model::{SearchResult, SnippetPart};

/// How long the words must rest before they are searched for.
const SETTLE: std::time::Duration = std::time::Duration::from_millis(250);

/// What the search shows.
#[derive(Debug, Clone, Default, PartialEq)]
struct Found {
    words: String,
    results: Vec<SearchResult>,
    has_more: bool,
    loading: bool,
    error: Option<String>,
}

#[component]
pub fn MessageSearch(client: ChatClient) -> impl IntoView {
    let words = RwSignal::new(String::new());
    let found = RwSignal::new(Found::default());
    // Bumped by every change of the words: an answer to older words is dropped.
    let asked = StoredValue::new(0u64);

    let run = move |q: String, before: Option<Uuid>| {
        let ticket = asked.get_value();
        found.update(|f| {
            f.loading = true;
            f.error = None;
        });
        leptos::task::spawn_local(async move {
            let answer = api::search_messages(q.clone(), before).await;
            if asked.get_value() != ticket {
                return;
            }
            found.update(|f| {
                f.loading = false;
                match answer {
                    Ok(page) => {
                        if before.is_none() {
                            f.results.clear();
                        }
                        f.words = q;
                        f.results.extend(page.results);
                        f.has_more = page.has_more;
                    }
                    Err(e) => f.error = Some(e.message),
                }
            });
        });
    };
    let on_input = move |ev| {
        let text = event_target_value(&ev);
        words.set(text.clone());
        asked.update_value(|n| *n += 1);
        let ticket = asked.get_value();
        if text.trim().is_empty() {
            found.set(Found::default());
            return;
        }
        set_timeout(
            move || {
                if asked.get_value() == ticket {
                    run(text.trim().to_owned(), None);
                }
            },
            SETTLE,
        );
    };
    let clear = move || {
        asked.update_value(|n| *n += 1);
        words.set(String::new());
        found.set(Found::default());
    };
    let more = move |_| {
        let last = found.with_untracked(|f| f.results.last().map(|r| r.message.id));
        let q = found.with_untracked(|f| f.words.clone());
        if let Some(last) = last {
            run(q, Some(last));
        }
    };
    let open = move |focus: Focus| {
        client.focus.set(Some(focus));
        clear();
    };
    let searching = move || !words.with(|w| w.trim().is_empty());

    view! {
        <div class="parley-search" role="search">
            <input
                type="search"
                class="parley-search-box"
                aria-label="Search messages"
                placeholder="Search messages"
                maxlength="200"
                prop:value=move || words.get()
                on:input=on_input
                on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                    if ev.key() == "Escape" {
                        clear();
                    }
                }
            />
            <Show when=searching>
                <div class="parley-search-found">
                    {move || found.with(|f| f.error.clone()).map(|e| view! { <p class="parley-error" role="alert">{e}</p> })}
                    <p class="parley-muted parley-search-status" role="status">
                        {move || {
                            found
                                .with(|f| {
                                    if f.loading && f.results.is_empty() {
                                        "Searching…".to_owned()
                                    } else if f.results.is_empty() && f.error.is_none() && !f.words.is_empty() {
                                        "No messages found".to_owned()
                                    } else {
                                        String::new()
                                    }
                                })
                        }}
                    </p>
                    <ul class="parley-search-results" aria-label="Search results">
                        <For
                            each=move || found.with(|f| f.results.clone())
                            key=|r| r.message.id
                            let:result
                        >
                            <ResultItem client result open />
                        </For>
                    </ul>
                    <Show when=move || found.with(|f| f.has_more)>
                        <button
                            type="button"
                            class="parley-link"
                            disabled=move || found.with(|f| f.loading)
                            on:click=more
                        >
                            "More results"
                        </button>
                    </Show>
                </div>
            </Show>
        </div>
    }
}

#[component]
fn ResultItem(
    client: ChatClient,
    result: SearchResult,
    open: impl Fn(Focus) + Copy + 'static,
) -> impl IntoView {
    let message = result.message;
    let focus = Focus {
        channel_id: message.channel_id,
        message_id: message.id,
        seq: message.seq,
    };
    // Mention tokens read as names where the conversation's members are known here.
    let people = client.channels.with_untracked(|list| {
        list.iter()
            .find(|c| c.id == message.channel_id)
            .map(|c| c.members.clone())
            .unwrap_or_default()
    });
    let snippet = result
        .snippet
        .into_iter()
        .map(|SnippetPart { text, mark }| {
            let text = with_names(&text, &people);
            if mark {
                view! { <mark>{text}</mark> }.into_any()
            } else {
                text.into_any()
            }
        })
        .collect_view();
    let when = format!(
        "{}, {}",
        day_month(message.created_at).trim(),
        clock(message.created_at)
    );
    view! {
        <li>
            <a
                class="parley-search-result"
                href=format!("/chat/{}", message.channel_id)
                on:click=move |_| open(focus)
            >
                <span class="parley-search-where">
                    <span class="parley-search-title">{result.channel_title}</span>
                    <span class="parley-muted">
                        {result.author_name.unwrap_or_default()} " · "
                        <time datetime=message.created_at.to_rfc3339()>{when}</time>
                    </span>
                </span>
                <span class="parley-search-snippet">{snippet}</span>
            </a>
        </li>
    }
}
