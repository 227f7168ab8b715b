//! The "New group" form: a name and the people in it (found with the people picker).

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use uuid::Uuid;

use super::people_picker::PeoplePicker;
use super::start::use_start_chat;
use crate::model::ChannelName;

#[component]
pub fn NewGroupForm(on_cancel: Callback<()>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    // A plain list (sorted when sent): a `BTreeSet` would bring ~7 KB of tree code to the WASM.
    let chosen = RwSignal::new(Vec::<Uuid>::new());
    let problem = RwSignal::new(None::<String>);
    let start = use_start_chat();

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let mut members = chosen.get_untracked();
        members.sort_unstable();
        match ChannelName::parse(&name.get_untracked()) {
            Err(e) => problem.set(Some(e.to_string())),
            Ok(_) if members.is_empty() => problem.set(Some("Choose at least one person.".into())),
            Ok(group) => {
                problem.set(None);
                start.start(members, Some(group.as_str().to_owned()));
            }
        }
    };

    view! {
        <form class="parley-new-group" on:submit=on_submit novalidate>
            <label for="group-name">"Group name"</label>
            <input id="group-name" type="text" maxlength="80" bind:value=name />
            <fieldset>
                <legend>"Members"</legend>
                <PeoplePicker chosen />
            </fieldset>
            {move || {
                problem
                    .get()
                    .or_else(|| start.error())
                    .map(|e| view! { <p class="parley-error" role="alert">{e}</p> })
            }}
            <div class="parley-row">
                <button type="submit" class="parley-primary" disabled=move || start.pending()>
                    "Create group"
                </button>
                <button type="button" on:click=move |_| on_cancel.run(())>
                    "Cancel"
                </button>
            </div>
        </form>
    }
}
