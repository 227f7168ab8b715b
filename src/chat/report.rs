//! The "Report" dialog of a message: a reason, "Send report", then "Report sent". Reports
//! through the chat client only.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use uuid::Uuid;

use super::dialog::{ErrorLine, Modal};
use crate::client::ChatClient;

#[component]
pub fn ReportDialog(client: ChatClient, message_id: Uuid, on_close: Callback<()>) -> impl IntoView {
    let reason = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let sent = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let reason_id = format!("parley-reason-{message_id}");
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        let text = reason.get_untracked();
        spawn_local(async move {
            let outcome = client.report(message_id, &text).await;
            busy.set(false);
            match outcome {
                Ok(()) => {
                    error.set(None);
                    sent.set(true);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <Modal id=format!("parley-report-{message_id}") title="Report message" on_close>
            // In the page from the start, so that its text is announced when it changes.
            <p class="parley-report-status" role="status">
                {move || sent.get().then_some("Report sent")}
            </p>
            <Show when=move || !sent.get()>
                <form class="parley-report" on:submit=on_submit novalidate>
                    <label for=reason_id.clone()>"Reason"</label>
                    <textarea id=reason_id.clone() maxlength="1000" rows="3" autofocus bind:value=reason></textarea>
                    <ErrorLine error />
                    <button type="submit" class="parley-primary" disabled=move || busy.get()>
                        "Send report"
                    </button>
                </form>
            </Show>
        </Modal>
    }
}
