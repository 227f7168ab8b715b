//! The minimal host of the chat: three fixed people, one shared password, sessions in memory
//! under its own cookie, its own sign-in page and header. Built only on the `parley` library's
//! public API; may use nothing else of Parley. docs/INTEGRATION.md walks through it.
//!
//! - [`people`]: who may sign in (both builds).
//! - [`api`]: the host's own server functions, sign in and sign out (both builds).
//! - [`app`], [`header`]: the shell, the routes and pages, the header with the unread count.
//! - `server` (feature `ssr`): sessions, the identity the chat asks, the router.

// Nested views make deep types; the release WASM build needs more room to compute their layout.
#![recursion_limit = "256"]

pub mod api;
pub mod app;
pub mod header;
pub mod people;
#[cfg(feature = "ssr")]
pub mod server;

/// The browser entry point: attaches the app to the server-rendered HTML.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
