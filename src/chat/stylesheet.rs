//! `ChatStylesheet`: links the chat's stylesheet into the page head. The server serves it at
//! `/parley.css` (`server::style`, from `style/parley.css`): one file, themed by `--parley-*`
//! custom properties.

use leptos::prelude::*;
use leptos_meta::Stylesheet;

/// Renders `<link rel="stylesheet" href="/parley.css">` into the head (the host calls
/// `provide_meta_context` and renders `MetaTags`). Put it before the host's own stylesheet, so
/// the host's rules win where both say the same thing.
#[component]
pub fn ChatStylesheet() -> impl IntoView {
    view! { <Stylesheet id="parley-chat" href="/parley.css" /> }
}
