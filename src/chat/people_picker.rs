//! Finding people in the browser: [`use_people_search`] (a search text answered by the
//! `search_users` server function once typing pauses, page by page, stale answers dropped),
//! [`PeopleSearchBox`] (its "Search people" box) and [`PeoplePicker`] (checkboxes of the people
//! found, for the "New group" form and "Add people" dialogs). Uses `api` and `model` only.

use std::time::Duration;

use leptos::ev::KeyboardEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use uuid::Uuid;

use crate::api::search_users;
use crate::model::{ApiError, SearchText, User, USER_PAGE};

/// How long typing must pause before the server is asked.
const DEBOUNCE: Duration = Duration::from_millis(200);

/// A people search: what the box holds, the people found for it so far (pages appended in
/// order), and whether more follow. `Copy`: hand it to any component of the same owner.
#[derive(Clone, Copy)]
pub struct PeopleSearch {
    /// The search box's text; every change asks the server again once typing pauses.
    pub text: RwSignal<String>,
    users: RwSignal<Vec<User>>,
    more: RwSignal<bool>,
    loading: RwSignal<bool>,
    error: RwSignal<Option<ApiError>>,
    /// Numbers every question; an answer to any but the latest is stale and dropped.
    asked: StoredValue<u64>,
    /// The (trimmed) text of the latest question, and the offset of the page after its last.
    current: StoredValue<Option<(String, u32)>>,
}

impl PeopleSearch {
    /// The people found so far, by display name (the signed-in person never among them).
    pub fn users(&self) -> Signal<Vec<User>> {
        self.users.into()
    }

    /// Whether more people match than are shown: [`PeopleSearch::load_more`] fetches them.
    pub fn more(&self) -> Signal<bool> {
        self.more.into()
    }

    /// Whether a question is on its way.
    pub fn loading(&self) -> Signal<bool> {
        self.loading.into()
    }

    /// Why the latest question failed (e.g. `Unauthenticated` once signed out).
    pub fn error(&self) -> Signal<Option<ApiError>> {
        self.error.into()
    }

    /// Appends the next page of the current search.
    pub fn load_more(&self) {
        if let Some((text, next)) = self.current.get_value() {
            self.ask(text, next);
        }
    }

    /// Asks for the page of `text` at `offset` (0: a new search, replacing what is shown).
    fn ask(self, text: String, offset: u32) {
        let ticket = self.asked.get_value().wrapping_add(1);
        self.asked.set_value(ticket);
        // Where the next page starts: the server reads pages of USER_PAGE from the host, even
        // when it leaves out someone it cannot show.
        self.current
            .set_value(Some((text.clone(), offset.saturating_add(USER_PAGE))));
        self.loading.set(true);
        spawn_local(async move {
            let answer = search_users(text, offset).await;
            // The search may be gone (its component unmounted) or asked again meanwhile.
            if self.asked.try_get_value() != Some(ticket) {
                return;
            }
            self.loading.try_set(false);
            match answer {
                Ok(page) => {
                    self.users.try_update(|users| {
                        if offset == 0 {
                            users.clear();
                        }
                        // People who signed up between two pages shift the order: never twice.
                        for user in page.users {
                            if !users.iter().any(|u| u.id == user.id) {
                                users.push(user);
                            }
                        }
                    });
                    self.more.try_set(page.more);
                    self.error.try_set(None);
                }
                Err(error) => {
                    // Typing the same text again asks again.
                    self.current.try_set_value(None);
                    self.error.try_set(Some(error));
                }
            }
        });
    }

    /// A new search for `raw` unless it asks the same as the latest (e.g. a trailing space).
    fn search(self, raw: &str) {
        let text = raw.trim().to_owned();
        if self
            .current
            .with_value(|current| current.as_ref().is_some_and(|(t, _)| *t == text))
        {
            return;
        }
        // Too long or holding control characters: say so here, without asking the server.
        if let Err(error) = SearchText::parse(&text) {
            self.asked.update_value(|n| *n = n.wrapping_add(1));
            self.current.set_value(None);
            self.loading.set(false);
            self.error.set(Some(ApiError::from(error)));
            return;
        }
        self.ask(text, 0);
    }
}

/// A people search for this component and its children: the first page of everyone at once
/// (in the browser; nothing is fetched while rendering on the server), then a new search
/// [`DEBOUNCE`] after each change of [`PeopleSearch::text`].
pub fn use_people_search() -> PeopleSearch {
    let search = PeopleSearch {
        text: RwSignal::new(String::new()),
        users: RwSignal::new(Vec::new()),
        more: RwSignal::new(false),
        loading: RwSignal::new(true),
        error: RwSignal::new(None),
        asked: StoredValue::new(0),
        current: StoredValue::new(None),
    };
    let timer = StoredValue::new(None::<TimeoutHandle>);
    let stop_timer = move || {
        if let Some(handle) = timer.try_get_value().flatten() {
            handle.clear();
        }
    };
    // Effects run only in the browser.
    Effect::new(move |ran: Option<()>| {
        let text = search.text.get();
        stop_timer();
        if ran.is_none() {
            search.search(&text);
            return;
        }
        match set_timeout_with_handle(move || search.search(&text), DEBOUNCE) {
            Ok(handle) => timer.set_value(Some(handle)),
            Err(_) => search.search(&search.text.get_untracked()),
        }
    });
    on_cleanup(stop_timer);
    search
}

/// The search box of a [`PeopleSearch`]: an `<input type="search">` labelled "Search people".
/// Enter does not submit a form around it.
#[component]
pub fn PeopleSearchBox(search: PeopleSearch) -> impl IntoView {
    let keep_enter = |ev: KeyboardEvent| {
        if ev.key() == "Enter" {
            ev.prevent_default();
        }
    };
    view! {
        <label class="parley-search">
            <span>"Search people"</span>
            <input
                type="search"
                autocomplete="off"
                spellcheck="false"
                maxlength=SearchText::MAX.to_string()
                bind:value=search.text
                on:keydown=keep_enter
            />
        </label>
    }
}

/// Choosing people: a "Search people" box, a checkbox per person found (labelled by display
/// name) and "More people" while more match.
///
/// - `chosen`: the chosen people's chat user ids. Ticking adds, unticking removes; choices stay
///   when the search changes, and people chosen but not among the matches are listed first,
///   still ticked, so they can be unticked. Ids set from outside show once found.
/// - `exclude` (optional): people never offered, e.g. a group's members. The signed-in person
///   is never offered anyway.
#[component]
pub fn PeoplePicker(
    chosen: RwSignal<Vec<Uuid>>,
    #[prop(into, default = Signal::stored(Vec::new()))] exclude: Signal<Vec<Uuid>>,
) -> impl IntoView {
    let search = use_people_search();
    // The people ticked, with their names, to keep showing them when the search moves on.
    let ticked = RwSignal::new(Vec::<User>::new());
    let shown = Memo::new(move |_| {
        let excluded = exclude.get();
        let found: Vec<User> = search.users.with(|users| {
            users
                .iter()
                .filter(|u| !excluded.contains(&u.id))
                .cloned()
                .collect()
        });
        let mut shown: Vec<User> = chosen.with(|chosen| {
            ticked.with(|ticked| {
                ticked
                    .iter()
                    .filter(|u| {
                        chosen.contains(&u.id)
                            && !excluded.contains(&u.id)
                            && !found.iter().any(|f| f.id == u.id)
                    })
                    .cloned()
                    .collect()
            })
        });
        shown.extend(found);
        shown
    });
    let row = move |person: User| {
        let id = person.id;
        let name = person.display_name.clone();
        let on_change = move |ev| {
            let on = event_target_checked(&ev);
            chosen.update(|list| {
                list.retain(|m| *m != id);
                if on {
                    list.push(id);
                }
            });
            if on {
                let person = person.clone();
                ticked.update(|ticked| {
                    if !ticked.iter().any(|u| u.id == id) {
                        ticked.push(person);
                    }
                });
            }
        };
        view! {
            <li>
                <label class="parley-check">
                    <input
                        type="checkbox"
                        prop:checked=move || chosen.with(|c| c.contains(&id))
                        on:change=on_change
                    />
                    {name}
                </label>
            </li>
        }
    };
    view! {
        <div class="parley-people-picker">
            <PeopleSearchBox search />
            <ul class="parley-people-found">
                <For each=move || shown.get() key=|person| person.id children=row />
            </ul>
            <PeopleSearchStatus search empty="Nobody found." />
            <Show when=move || search.more.get()>
                <button type="button" on:click=move |_| search.load_more()>
                    "More people"
                </button>
            </Show>
        </div>
    }
}

/// What a search is doing when its list alone does not say: loading, failed, or found nobody
/// (`empty`).
#[component]
pub fn PeopleSearchStatus(
    search: PeopleSearch,
    #[prop(into)] empty: Signal<&'static str>,
) -> impl IntoView {
    move || {
        if let Some(error) = search.error.get() {
            view! { <p class="parley-error" role="alert">{error.message}</p> }.into_any()
        } else if search.loading.get() {
            view! { <p class="parley-muted" role="status">"Searching…"</p> }.into_any()
        } else if search.users.with(Vec::is_empty) {
            view! { <p class="parley-muted" role="status">{empty.get()}</p> }.into_any()
        } else {
            ().into_any()
        }
    }
}
