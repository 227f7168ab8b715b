//! `/people`: the host app's directory of everyone else, where a chat starts: a "Search people"
//! box answered by the chat's people search (the first page of everyone before any text), a
//! page at a time, each person with a "Message <name>" and a "Block <name>" button.

use leptos::prelude::*;
use leptos_router::components::Redirect;

use parley::chat::{
    use_people_search, BlockButton, ChatButton, Identicon, PeopleSearchBox, PeopleSearchStatus,
};
use parley::model::{ErrorCode, User};

#[component]
pub fn PeoplePage() -> impl IntoView {
    let search = use_people_search();
    let signed_out = move || {
        search.error().with(|e| {
            e.as_ref()
                .is_some_and(|e| e.code == ErrorCode::Unauthenticated)
        })
    };
    let empty = move || {
        if search.text.with(|t| t.trim().is_empty()) {
            "Nobody else is here yet."
        } else {
            "Nobody found."
        }
    };
    view! {
        <section class="people">
            <h1>"People"</h1>
            <PeopleSearchBox search />
            <Show when=signed_out>
                <Redirect path="/login?next=/people" />
            </Show>
            <ul class="people-list">
                <For each=move || search.users().get() key=|person| person.id children=person_row />
            </ul>
            <PeopleSearchStatus search empty=Signal::derive(empty) />
            <Show when=move || search.more().get()>
                <button type="button" on:click=move |_| search.load_more()>
                    "More people"
                </button>
            </Show>
        </section>
    }
}

fn person_row(person: User) -> impl IntoView {
    let id = person.id;
    let (name, username) = (person.display_name.clone(), person.username.clone());
    view! {
        <li class="person">
            <Identicon id=id size=40 />
            <div class="person-names">
                <span class="person-name">{name}</span>
                <span class="muted">"@" {username}</span>
            </div>
            <ChatButton user=person.clone() />
            <BlockButton user=person />
        </li>
    }
}
