//! Reactions under a message: a toggle button per emoji in use ("👍 2", pressed when mine is
//! among them, its title naming who), and "Add reaction", a small menu of every emoji in
//! `model::REACTIONS` ("React with 👍"). Counts are never changed here: the client sends the
//! change and every tab shows the server's absolute counts when `message_updated` arrives.

use leptos::ev::{FocusEvent, KeyboardEvent};
use leptos::html;
use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;
use leptos::web_sys;
use uuid::Uuid;

use crate::client::ChatClient;
use crate::model::{Reaction, User, REACTIONS};

/// Who reacted, as a reaction's title says it: "Ava, Bob and 3 others" (display names of the
/// listed people still in the conversation; the rest counted).
pub fn who_reacted(reaction: &Reaction, people: &[User]) -> String {
    let names: Vec<&str> = reaction
        .users
        .iter()
        .filter_map(|id| people.iter().find(|p| p.id == *id))
        .map(|p| p.display_name.as_str())
        .collect();
    let others = (reaction.count - names.len() as i64).max(0);
    match (names.is_empty(), others) {
        (true, 1) => "1 person".to_owned(),
        (true, n) => format!("{n} people"),
        (false, 0) => names.join(", "),
        (false, 1) => format!("{} and 1 other", names.join(", ")),
        (false, n) => format!("{} and {n} others", names.join(", ")),
    }
}

/// The reactions a message has, as toggle buttons; a click sets mine on or off.
#[component]
pub fn ReactionBar(
    client: ChatClient,
    channel_id: Uuid,
    message_id: Uuid,
    reactions: Vec<Reaction>,
    people: std::sync::Arc<[User]>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    if reactions.is_empty() {
        return None;
    }
    let me = client.me_id();
    let refocus = Refocus::use_refocus();
    let buttons = reactions
        .into_iter()
        .map(|reaction| {
            let mine = reaction.users.contains(&me);
            let title = who_reacted(&reaction, &people);
            let emoji = reaction.emoji.clone();
            let button = NodeRef::<html::Button>::new();
            // This row was rebuilt by the change a click here asked for: the focus comes back.
            let key = (message_id, emoji.clone());
            Effect::new(move |_| {
                if let (Some(el), Some(refocus)) = (button.get(), refocus) {
                    if refocus.take(&key) {
                        let _ = el.focus();
                    }
                }
            });
            let toggle = move |_| {
                if let Some(refocus) = refocus {
                    refocus.ask((message_id, emoji.clone()));
                }
                error.set(client.react(channel_id, message_id, &emoji, !mine).err());
            };
            view! {
                <button
                    type="button"
                    class="parley-reaction"
                    class:parley-reaction-mine=mine
                    aria-pressed=mine.to_string()
                    title=title
                    node_ref=button
                    on:click=toggle
                >
                    {reaction.emoji.clone()}
                    " "
                    {reaction.count}
                </button>
            }
        })
        .collect_view();
    Some(view! { <div class="parley-reactions">{buttons}</div> })
}

/// "Add reaction" and its menu of emoji (in the page only while open). Picking one closes it;
/// the focus goes back to "Add reaction", then to the reaction's toggle once the change
/// arrives (it rebuilds the row).
#[component]
pub fn AddReaction(
    client: ChatClient,
    channel_id: Uuid,
    message_id: Uuid,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let opener = NodeRef::<html::Button>::new();
    let refocus = Refocus::use_refocus();
    let close = move || {
        open.set(false);
        if let Some(el) = opener.get_untracked() {
            let _ = el.focus();
        }
    };
    let menu = move || {
        let choices = REACTIONS
            .iter()
            .map(|emoji| {
                let react = move |_| {
                    close();
                    if let Some(refocus) = refocus {
                        refocus.ask((message_id, (*emoji).to_owned()));
                    }
                    error.set(client.react(channel_id, message_id, emoji, true).err());
                };
                view! {
                    <button type="button" aria-label=format!("React with {emoji}") on:click=react>
                        {*emoji}
                    </button>
                }
            })
            .collect_view();
        // Opened: the focus goes to its first emoji.
        let group = NodeRef::<html::Div>::new();
        Effect::new(move |_| {
            let first = group.get().and_then(|el| el.first_element_child());
            if let Some(first) = first.and_then(|c| c.dyn_into::<web_sys::HtmlElement>().ok()) {
                let _ = first.focus();
            }
        });
        view! {
            <div
                class="parley-reaction-menu"
                role="group"
                aria-label="Reactions"
                node_ref=group
                // Keeps the focus where it is while clicking (a browser that does not focus
                // clicked buttons would otherwise close the menu before the click lands).
                on:mousedown=|ev| ev.prevent_default()
                on:keydown=move |ev: KeyboardEvent| {
                    if ev.key() == "Escape" {
                        ev.prevent_default();
                        close();
                    }
                }
            >
                {choices}
            </div>
        }
    };
    let wrapper = NodeRef::<html::Span>::new();
    // The focus left the button and its menu: the menu closes.
    let left = move |ev: FocusEvent| {
        let to = ev
            .related_target()
            .and_then(|t| t.dyn_into::<web_sys::Node>().ok());
        let inside = wrapper
            .get_untracked()
            .is_some_and(|w| to.as_ref().is_some_and(|to| w.contains(Some(to))));
        if !inside {
            open.set(false);
        }
    };
    view! {
        <span class="parley-add-reaction" node_ref=wrapper on:focusout=left>
            <button
                type="button"
                class="parley-link"
                aria-expanded=move || open.get().to_string()
                node_ref=opener
                on:click=move |_| open.update(|o| *o = !*o)
            >
                "Add reaction"
            </button>
            <Show when=move || open.get()>{menu}</Show>
        </span>
    }
}

/// Which reaction button had the focus when a click on it asked for a change: the change
/// rebuilds the message's row, and the new button takes the focus back.
#[derive(Clone, Copy)]
pub struct Refocus(StoredValue<Option<(Uuid, String)>>);

impl Refocus {
    pub fn provide() {
        provide_context(Self(StoredValue::new(None)));
    }

    fn use_refocus() -> Option<Self> {
        use_context::<Self>()
    }

    fn ask(&self, key: (Uuid, String)) {
        self.0.set_value(Some(key));
    }

    /// Whether `key` asked for the focus (once).
    fn take(&self, key: &(Uuid, String)) -> bool {
        let wanted = self.0.with_value(|k| k.as_ref() == Some(key));
        if wanted {
            self.0.set_value(None);
        }
        wanted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reaction(count: i64, users: &[u128]) -> Reaction {
        Reaction {
            emoji: "👍".into(),
            count,
            users: users.iter().copied().map(Uuid::from_u128).collect(),
        }
    }

    #[test]
    fn titles_name_members_and_count_the_rest() {
        let people = [
            User {
                id: Uuid::from_u128(1),
                username: "ava".into(),
                display_name: "Ava".into(),
            },
            User {
                id: Uuid::from_u128(2),
                username: "bob".into(),
                display_name: "Bob".into(),
            },
        ];
        assert_eq!(who_reacted(&reaction(2, &[1, 2]), &people), "Ava, Bob");
        assert_eq!(
            who_reacted(&reaction(30, &[2, 1, 9]), &people),
            "Bob, Ava and 28 others"
        );
        assert_eq!(
            who_reacted(&reaction(2, &[1, 9]), &people),
            "Ava and 1 other"
        );
        assert_eq!(who_reacted(&reaction(1, &[9]), &people), "1 person");
    }
}
