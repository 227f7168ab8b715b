//! Parley: a realtime chat a Leptos/axum app embeds, with the host's own users. One crate, two
//! builds: the server side (feature `ssr`: axum + PostgreSQL) and the browser side (feature
//! `hydrate`: the chat client and components compiled to WASM by the host's build). The host
//! owns accounts, pages and the entry points; see docs/INTEGRATION.md.
//!
//! Layers, each depending only on those above it:
//! - [`model`]: shared types (both builds).
//! - [`api`]: server functions (both builds; bodies run on the server).
//! - [`client`]: the browser's chat client (socket, reconnect, store, outbox).
//! - [`chat`]: the components a host mounts.
//! - `server`: the server side (feature `ssr`): state, the identity seam, routes, database,
//!   realtime. Never imports `chat` or `client`.

// Nested views make deep types; the release WASM build needs more room to compute their layout.
#![recursion_limit = "256"]

pub mod api;
pub mod chat;
pub mod client;
pub mod model;
#[cfg(feature = "ssr")]
pub mod server;
