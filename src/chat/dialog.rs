//! `Modal`: a modal `<dialog>` named by its heading, with a "Close" button. The browser gives
//! it what a modal needs: the rest of the page inert, focus moved in on open, Escape closes,
//! and the focus handed back on close (the caller may also move it). Also `ErrorLine`, the
//! alert every managing control shows its refusal in. Uses leptos only.

use leptos::html;
use leptos::prelude::*;

/// Shown (as a modal) once mounted; `on_close` runs when it closes by Escape or "Close": the
/// caller then stops rendering it. `id` names the heading (unique in the page).
#[component]
pub fn Modal(
    id: String,
    title: &'static str,
    on_close: Callback<()>,
    children: Children,
) -> impl IntoView {
    let dialog = NodeRef::<html::Dialog>::new();
    // Effects run in the browser only, after the element is in the page.
    Effect::new(move |_| {
        if let Some(el) = dialog.get() {
            if !el.open() {
                let _ = el.show_modal();
            }
        }
    });
    let close = move |_| {
        if let Some(el) = dialog.get_untracked() {
            // Fires `close`, which tells the caller.
            el.close();
        }
    };
    let heading = id.clone();
    view! {
        <dialog
            class="parley parley-dialog"
            node_ref=dialog
            aria-labelledby=id
            on:close=move |_| on_close.run(())
        >
            <div class="parley-dialog-head">
                <h2 id=heading>{title}</h2>
                <button type="button" class="parley-link" on:click=close>
                    "Close"
                </button>
            </div>
            {children()}
        </dialog>
    }
}

/// The error of the last attempt, as an alert (nothing while there is none). One component
/// for every control that shows one: a single copy of its view code in the WASM.
#[component]
pub fn ErrorLine(error: RwSignal<Option<String>>) -> impl IntoView {
    move || {
        error
            .get()
            .map(|e| view! { <p class="parley-error" role="alert">{e}</p> })
    }
}
