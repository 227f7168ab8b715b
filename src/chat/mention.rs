//! Mentions in the composer: typing `@` opens a `listbox` named "Mention" of the conversation's
//! other members, filtered by what follows the `@` (display name or username, ignoring case);
//! arrow keys move the active option (`aria-activedescendant`), Enter or Tab picks (the text
//! gets "@Display Name "), Escape closes, a click picks too. Sending turns the names into
//! tokens (`model::format::with_tokens`). The pure parts (`query_at`, `matching`) are tested
//! here.

use std::sync::Arc;

use leptos::ev::KeyboardEvent;
use leptos::html;
use leptos::prelude::*;
use uuid::Uuid;

use crate::model::{ChannelSummary, User};

/// The open conversation's members as its messages name them (`<@id>` tokens, authors of
/// quotes, who reacted): provided by the conversation, one list for all its messages.
#[derive(Clone, Copy)]
pub struct People(Memo<Arc<[User]>>);

impl People {
    pub fn provide(summary: Memo<Option<ChannelSummary>>) -> Self {
        let people = Self(Memo::new(move |_| {
            summary
                .with(|s| s.as_ref().map(|s| Arc::from(s.members.as_slice())))
                .unwrap_or_else(|| Arc::from(Vec::new()))
        }));
        provide_context(people);
        people
    }

    pub fn use_people() -> Option<Self> {
        use_context::<Self>()
    }

    /// The members now (an empty list outside a conversation).
    pub fn now() -> Arc<[User]> {
        Self::use_people().map_or_else(|| Arc::from(Vec::new()), |p| p.get_untracked())
    }

    pub fn get_untracked(&self) -> Arc<[User]> {
        self.0.get_untracked()
    }

    /// Everyone but `me`, as the mention list offers them.
    pub fn others(&self, me: Uuid) -> Memo<Vec<User>> {
        let people = self.0;
        Memo::new(move |_| people.with(|p| p.iter().filter(|p| p.id != me).cloned().collect()))
    }
}

/// Most people the list offers at once.
const MAX_OPTIONS: usize = 8;

/// Longest text after an `@` still read as a name being typed (characters).
const MAX_QUERY: usize = 40;

/// The mention being typed before `caret` (a byte index of `text`): the byte index of its `@`
/// and what follows it. An `@` counts at the start of the text or after a space or an opening
/// bracket (not in "ann@example.com"), with no line break after it.
pub fn query_at(text: &str, caret: usize) -> Option<(usize, &str)> {
    let before = text.get(..caret)?;
    let at = before.rfind('@')?;
    let starts_word = before[..at]
        .chars()
        .last()
        .is_none_or(|c| c.is_whitespace() || matches!(c, '(' | '[' | '"' | '\''));
    let query = &before[at + 1..];
    let plausible = !query.contains('\n')
        && !query.starts_with(char::is_whitespace)
        && query.chars().count() <= MAX_QUERY;
    (starts_word && plausible).then_some((at, query))
}

/// The people `query` finds (display name or username containing it, ignoring case): those
/// whose name starts with it first, then by display name; at most [`MAX_OPTIONS`].
pub fn matching<'a>(people: &'a [User], query: &str) -> Vec<&'a User> {
    let query = query.to_lowercase();
    let mut found: Vec<(bool, String, &User)> = people
        .iter()
        .filter_map(|p| {
            let name = p.display_name.to_lowercase();
            let username = p.username.to_lowercase();
            let prefix = name.starts_with(&query) || username.starts_with(&query);
            (prefix || name.contains(&query) || username.contains(&query))
                .then_some((!prefix, name, p))
        })
        .collect();
    found.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    found
        .into_iter()
        .take(MAX_OPTIONS)
        .map(|(_, _, p)| p)
        .collect()
}

/// The byte index of the UTF-16 offset `units` (what a textarea's selection counts) in `text`.
fn byte_index(text: &str, units: u32) -> usize {
    let mut seen = 0u32;
    for (i, c) in text.char_indices() {
        if seen >= units {
            return i;
        }
        seen += c.len_utf16() as u32;
    }
    text.len()
}

fn utf16_len(text: &str) -> u32 {
    text.encode_utf16().count() as u32
}

/// The mention being typed in one composer.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Typed {
    /// Byte index of the `@`.
    at: usize,
    query: String,
}

/// One composer's mention list: the conversation's other members, what is being typed, the
/// active option. Copy, so every handler of the composer can hold it.
#[derive(Clone, Copy)]
pub struct MentionPicker {
    people: Signal<Vec<User>>,
    typed: RwSignal<Option<Typed>>,
    active: RwSignal<usize>,
    /// The `@` a pick or Escape closed the list for: it stays closed until another `@`.
    dismissed: StoredValue<Option<usize>>,
    textarea: NodeRef<html::Textarea>,
    list_id: StoredValue<String>,
}

impl MentionPicker {
    /// A picker for `textarea`, offering `people` (the conversation's members but me).
    pub fn new(
        channel: Uuid,
        people: Signal<Vec<User>>,
        textarea: NodeRef<html::Textarea>,
    ) -> Self {
        Self {
            people,
            typed: RwSignal::new(None),
            active: RwSignal::new(0),
            dismissed: StoredValue::new(None),
            textarea,
            list_id: StoredValue::new(format!("parley-mention-{channel}")),
        }
    }

    fn options(&self) -> Vec<User> {
        self.typed.with(|typed| match typed {
            Some(t) => self
                .people
                .with(|people| matching(people, &t.query).into_iter().cloned().collect()),
            None => Vec::new(),
        })
    }

    pub fn is_open(&self) -> bool {
        !self.options().is_empty()
    }

    fn option_id(&self, user: Uuid) -> String {
        format!("{}-{user}", self.list_id.get_value())
    }

    /// The textarea's `aria-controls` while the list is open.
    pub fn controls(&self) -> Option<String> {
        self.is_open().then(|| self.list_id.get_value())
    }

    /// The textarea's `aria-activedescendant`: the active option while the list is open.
    pub fn active_descendant(&self) -> Option<String> {
        let options = self.options();
        let active = self.active.get().min(options.len().saturating_sub(1));
        options.get(active).map(|p| self.option_id(p.id))
    }

    /// Reads what is typed before the caret (after every input and click in the textarea).
    pub fn read(&self) {
        let Some(el) = self.textarea.get_untracked() else {
            return;
        };
        let text = el.value();
        let caret = el
            .selection_start()
            .ok()
            .flatten()
            .map_or(text.len(), |units| byte_index(&text, units));
        let typed = query_at(&text, caret).map(|(at, query)| Typed {
            at,
            query: query.to_owned(),
        });
        match &typed {
            Some(t) if self.dismissed.get_value() == Some(t.at) => {
                self.typed.set(None);
                return;
            }
            // Another @, or none left: the list may open again.
            _ => self.dismissed.set_value(None),
        }
        let changed = self
            .typed
            .with_untracked(|t| t.as_ref().map(|t| &t.query) != typed.as_ref().map(|t| &t.query));
        if changed {
            self.active.set(0);
        }
        self.typed.set(typed);
    }

    /// Closes the list without picking (Escape, leaving the box).
    pub fn close(&self, for_good: bool) {
        if for_good {
            self.dismissed
                .set_value(self.typed.with_untracked(|t| t.as_ref().map(|t| t.at)));
        }
        self.typed.set(None);
    }

    /// A key pressed in the textarea; `true` when the list used it (the composer then must
    /// not: Enter picks instead of sending).
    pub fn keydown(&self, ev: &KeyboardEvent) -> bool {
        let options = self.options();
        if options.is_empty() || ev.is_composing() {
            return false;
        }
        let count = options.len();
        let active = self.active.get_untracked().min(count - 1);
        match ev.key().as_str() {
            "ArrowDown" => self.active.set((active + 1) % count),
            "ArrowUp" => self.active.set((active + count - 1) % count),
            "Enter" | "Tab" if !ev.shift_key() => self.pick(&options[active]),
            "Escape" => self.close(true),
            _ => return false,
        }
        ev.prevent_default();
        true
    }

    /// Writes "@Display Name " over the typed mention, puts the caret after it, and tells the
    /// composer through an `input` event (so its draft and typing notice follow).
    fn pick(&self, person: &User) {
        let (Some(el), Some(typed)) = (self.textarea.get_untracked(), self.typed.get_untracked())
        else {
            return;
        };
        let text = el.value();
        let end = (typed.at + 1 + typed.query.len()).min(text.len());
        let (Some(head), Some(tail)) = (text.get(..typed.at), text.get(end..)) else {
            return;
        };
        let head = format!("{head}@{} ", person.display_name);
        el.set_value(&format!("{head}{tail}"));
        let caret = utf16_len(&head);
        let _ = el.set_selection_range(caret, caret);
        self.dismissed.set_value(Some(typed.at));
        self.typed.set(None);
        if let Ok(input) = leptos::web_sys::Event::new("input") {
            let _ = el.dispatch_event(&input);
        }
        let _ = el.focus();
    }
}

/// The list itself, shown above the composer while a mention is being typed.
#[component]
pub fn MentionList(picker: MentionPicker) -> impl IntoView {
    move || {
        let options = picker.options();
        if options.is_empty() {
            return None;
        }
        let active = picker.active.get().min(options.len() - 1);
        let items = options
            .into_iter()
            .enumerate()
            .map(|(i, person)| {
                let selected = i == active;
                let chosen = person.clone();
                view! {
                    <li
                        role="option"
                        id=picker.option_id(person.id)
                        class="parley-mention-option"
                        class:parley-active=selected
                        aria-selected=selected.to_string()
                        // The textarea keeps the focus: a click picks without leaving it.
                        on:mousedown=move |ev| ev.prevent_default()
                        on:click=move |_| picker.pick(&chosen)
                    >
                        <super::identicon::Identicon id=person.id size=20 />
                        <span>{person.display_name.clone()}</span>
                        <span class="parley-muted">{format!("@{}", person.username)}</span>
                    </li>
                }
            })
            .collect_view();
        Some(view! {
            <ul class="parley-mentions" role="listbox" id=picker.list_id.get_value() aria-label="Mention">
                {items}
            </ul>
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(n: u128, name: &str, username: &str) -> User {
        User {
            id: Uuid::from_u128(n),
            username: username.into(),
            display_name: name.into(),
        }
    }

    #[test]
    fn a_mention_starts_at_a_word_and_ends_at_the_caret() {
        assert_eq!(query_at("@", 1), Some((0, "")));
        assert_eq!(query_at("hi @Av", 6), Some((3, "Av")));
        assert_eq!(query_at("hi @Ava Sm", 10), Some((3, "Ava Sm")));
        assert_eq!(query_at("hi @Av", 4), Some((3, "")));
        assert_eq!(query_at("ann@example", 11), None);
        assert_eq!(query_at("@ ann", 5), None);
        assert_eq!(query_at("@ann\nhi", 7), None);
        assert_eq!(query_at("é @x", "é @x".len()), Some((3, "x")));
        assert_eq!(query_at("no mention", 10), None);
    }

    #[test]
    fn people_are_found_by_either_name_prefixes_first() {
        let people = [
            person(1, "Bob Avery", "bob"),
            person(2, "Ava Smith", "asmith"),
            person(3, "Carl", "cava"),
        ];
        let names = |q: &str| -> Vec<String> {
            matching(&people, q)
                .into_iter()
                .map(|p| p.display_name.clone())
                .collect()
        };
        assert_eq!(names("av"), ["Ava Smith", "Bob Avery", "Carl"]);
        assert_eq!(names("CAV"), ["Carl"]);
        assert_eq!(names(""), ["Ava Smith", "Bob Avery", "Carl"]);
        assert!(names("zed").is_empty());
    }

    #[test]
    fn utf16_offsets_map_to_bytes() {
        assert_eq!(byte_index("a😀b", 3), 5);
        assert_eq!(byte_index("a😀b", 9), 6);
        assert_eq!(utf16_len("a😀"), 3);
    }
}
