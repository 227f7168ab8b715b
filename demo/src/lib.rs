//! Parley's demo host: password accounts (sign-up, sign-in, sessions in its own tables), the
//! People page, demo seeding and the entry points, around the chat it embeds. Built only on the
//! `parley` library's public API, as a third party's app would be; may use nothing else of
//! Parley.
//!
//! - [`model`]: the account forms' inputs (both builds).
//! - [`api`]: the account server functions (both builds; bodies run on the server).
//! - [`pages`], [`app`]: the pages and the shell with its router.
//! - `server` (feature `ssr`): accounts and sessions, the identity the chat asks, the router.

// Nested views make deep types; the release WASM build needs more room to compute their layout.
#![recursion_limit = "256"]

pub mod api;
pub mod app;
pub mod model;
pub mod next_path;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod server;

/// The browser entry point: attaches the app to the server-rendered HTML.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
