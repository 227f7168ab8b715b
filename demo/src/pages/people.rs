//! `/people`: the host app's directory of everyone else, where a chat starts.

use leptos::prelude::*;
use leptos_router::components::Redirect;

use parley::api::list_users;
use parley::chat::{BlockButton, ChatButton, Identicon};
use parley::model::{ErrorCode, User};

#[component]
pub fn PeoplePage() -> impl IntoView {
    let users = Resource::new(|| (), |_| list_users());
    view! {
        <section class="people">
            <h1>"People"</h1>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    users
                        .get()
                        .map(|result| match result {
                            Ok(people) if people.is_empty() => {
                                view! { <p class="muted">"Nobody else is here yet."</p> }.into_any()
                            }
                            Ok(people) => view! { <PeopleList people /> }.into_any(),
                            Err(e) if e.code == ErrorCode::Unauthenticated => {
                                view! { <Redirect path="/login?next=/people" /> }.into_any()
                            }
                            Err(e) => {
                                view! { <p class="error" role="alert">{e.message}</p> }.into_any()
                            }
                        })
                }}
            </Suspense>
        </section>
    }
}

#[component]
fn PeopleList(people: Vec<User>) -> impl IntoView {
    view! {
        <ul class="people-list">
            {people
                .into_iter()
                .map(|person| {
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
                })
                .collect_view()}
        </ul>
    }
}
