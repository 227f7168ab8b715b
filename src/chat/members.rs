//! A group's "Members" button and dialog: the members with their roles, "Remove …" and role
//! changes for those allowed, "Add people" (the people search's picker), renaming, and "Leave
//! conversation". Reads and changes the group through the chat client only; the list follows
//! `channel_updated` live.

use std::future::Future;

use leptos::ev::SubmitEvent;
use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;
use uuid::Uuid;

use super::dialog::{ErrorLine, Modal};
use super::identicon::Identicon;
use super::people_picker::PeoplePicker;
use crate::client::ChatClient;
use crate::model::{ChannelSummary, Member, MemberChange, Role};

/// Runs one change at a time: `busy` while it runs, its error (or none) in `error` after.
fn run(
    busy: RwSignal<bool>,
    error: RwSignal<Option<String>>,
    change: impl Future<Output = Result<(), String>> + 'static,
    then: impl FnOnce() + 'static,
) {
    if busy.get_untracked() {
        return;
    }
    busy.set(true);
    spawn_local(async move {
        let outcome = change.await;
        busy.set(false);
        match outcome {
            Ok(()) => {
                error.set(None);
                then();
            }
            Err(e) => error.set(Some(e)),
        }
    });
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Owner => "Owner",
        Role::Admin => "Admin",
        Role::Member => "Member",
    }
}

/// "Members", in a group's header; the focus comes back to it when the dialog closes.
#[component]
pub fn MembersButton(
    client: ChatClient,
    channel: Uuid,
    summary: Memo<Option<ChannelSummary>>,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let trigger = NodeRef::<html::Button>::new();
    let on_close = Callback::new(move |()| {
        open.set(false);
        if let Some(button) = trigger.get_untracked() {
            let _ = button.focus();
        }
    });
    view! {
        <button type="button" node_ref=trigger aria-haspopup="dialog" on:click=move |_| open.set(true)>
            "Members"
        </button>
        <Show when=move || open.get()>
            <MembersDialog client channel summary on_close />
        </Show>
    }
}

#[component]
fn MembersDialog(
    client: ChatClient,
    channel: Uuid,
    summary: Memo<Option<ChannelSummary>>,
    on_close: Callback<()>,
) -> impl IntoView {
    let me = client.me_id();
    let roster = client.roster(channel);
    Effect::new(move |_| client.load_members(channel));
    let my_role = Memo::new(move |_| {
        roster.with(|r| {
            r.as_ref()
                .and_then(|r| r.iter().find(|m| m.user.id == me))
                .map(|m| m.role)
        })
    });
    let manages = move || my_role.get().is_some_and(Role::manages);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let navigate = use_navigate();
    let leave = move |_| {
        let navigate = navigate.clone();
        run(
            busy,
            error,
            async move { client.leave(channel).await },
            move || navigate("/chat", Default::default()),
        );
    };

    view! {
        <Modal id=format!("parley-members-{channel}") title="Members" on_close>
            <ErrorLine error />
            {move || match roster.get() {
                None => view! { <p class="parley-muted">"Loading members…"</p> }.into_any(),
                Some(members) => {
                    view! {
                        <ul class="parley-members">
                            {members
                                .into_iter()
                                .map(|member| {
                                    view! { <MemberRow client channel member me my_role busy error /> }
                                })
                                .collect_view()}
                        </ul>
                    }
                        .into_any()
                }
            }}
            <Show when=manages>
                <AddPeople client channel busy error />
                <RenameForm client channel summary busy error />
            </Show>
            <button type="button" class="parley-danger parley-leave" disabled=move || busy.get() on:click=leave.clone()>
                "Leave conversation"
            </button>
        </Modal>
    }
}

#[component]
fn MemberRow(
    client: ChatClient,
    channel: Uuid,
    member: Member,
    me: Uuid,
    my_role: Memo<Option<Role>>,
    busy: RwSignal<bool>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let Member { user, role, .. } = member;
    let id = user.id;
    let name = user.display_name;
    let other = id != me;
    let remove = move |_| {
        let change = MemberChange {
            add: Vec::new(),
            remove: vec![id],
        };
        run(
            busy,
            error,
            async move { client.change_members(channel, change).await },
            || (),
        );
    };
    // Owners make admins members and members admins (owners stay owners).
    let next_role = match role {
        Role::Member => Some(Role::Admin),
        Role::Admin => Some(Role::Member),
        Role::Owner => None,
    };
    let promote = move |_| {
        if let Some(to) = next_role {
            run(
                busy,
                error,
                async move { client.set_role(channel, id, to).await },
                || (),
            );
        }
    };
    let remove_label = format!("Remove {name}");
    let role_label = next_role.map(|to| format!("Make {name} {}", to.as_str()));
    view! {
        <li class="parley-member">
            <Identicon id size=28 />
            <span class="parley-member-name">
                {name}
                {(!other).then_some(" (you)")}
            </span>
            <span class="parley-role">{role_name(role)}</span>
            {move || {
                let label = role_label.clone().filter(|_| other && my_role.get() == Some(Role::Owner))?;
                Some(view! {
                    <button type="button" class="parley-link" disabled=move || busy.get() on:click=promote>
                        {label}
                    </button>
                })
            }}
            {move || {
                (other && my_role.get().is_some_and(Role::manages))
                    .then(|| {
                        view! {
                            <button type="button" class="parley-link parley-danger" disabled=move || busy.get() on:click=remove>
                                {remove_label.clone()}
                            </button>
                        }
                    })
            }}
        </li>
    }
}

/// "Add people": the people search's picker (members left out), then "Add".
#[component]
fn AddPeople(
    client: ChatClient,
    channel: Uuid,
    busy: RwSignal<bool>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let roster = client.roster(channel);
    let chosen = RwSignal::new(Vec::<Uuid>::new());
    let members = Signal::derive(move || {
        roster.with(|r| {
            r.as_ref()
                .map(|r| r.iter().map(|m| m.user.id).collect())
                .unwrap_or_default()
        })
    });
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let mut add = chosen.get_untracked();
        if add.is_empty() {
            error.set(Some("Choose at least one person.".into()));
            return;
        }
        add.sort_unstable();
        let change = MemberChange {
            add,
            remove: Vec::new(),
        };
        run(
            busy,
            error,
            async move { client.change_members(channel, change).await },
            move || chosen.set(Vec::new()),
        );
    };
    view! {
        <form class="parley-add-people" on:submit=on_submit>
            <fieldset>
                <legend>"Add people"</legend>
                <PeoplePicker chosen exclude=members />
            </fieldset>
            <button type="submit" class="parley-primary" disabled=move || busy.get()>
                "Add"
            </button>
        </form>
    }
}

#[component]
fn RenameForm(
    client: ChatClient,
    channel: Uuid,
    summary: Memo<Option<ChannelSummary>>,
    busy: RwSignal<bool>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let name = RwSignal::new(
        summary
            .with_untracked(|s| s.as_ref().and_then(|s| s.name.clone()))
            .unwrap_or_default(),
    );
    let input_id = format!("parley-rename-{channel}");
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let wanted = name.get_untracked();
        run(
            busy,
            error,
            async move { client.rename(channel, &wanted).await },
            || (),
        );
    };
    view! {
        <form class="parley-rename" on:submit=on_submit novalidate>
            <label for=input_id.clone()>"Group name"</label>
            <div class="parley-row">
                <input id=input_id type="text" maxlength="80" bind:value=name />
                <button type="submit" disabled=move || busy.get()>
                    "Rename"
                </button>
            </div>
        </form>
    }
}
