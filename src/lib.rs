//! Parley: a self-hosted realtime chat for web apps. One crate, two builds: the server (feature
//! `ssr`: axum + PostgreSQL) and the browser (feature `hydrate`: Leptos compiled to WASM).
//!
//! Layers, each depending only on those above it:
//! - [`model`]: shared types (both builds).
//! - [`api`]: server functions (both builds; bodies run on the server).
//! - [`chat`]: the chat components a host app embeds.
//! - [`pages`]: the host app's own pages (sign-in, sign-up, people).
//! - [`app`]: the shell and router.
//! - `server`: server-only code (feature `ssr`).

// Nested views make deep types; the release WASM build needs more room to compute their layout.
#![recursion_limit = "256"]

pub mod api;
pub mod app;
pub mod chat;
pub mod client;
pub mod model;
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
