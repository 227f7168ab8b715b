//! Server functions: the typed calls the Leptos components make. Each is a thin adapter
//! (session → parse → server logic → shared type); the logic lives in `server`, behind the JSON
//! HTTP API too. Compiled on both sides: the browser gets the client stubs.

mod chat;
mod manage;
mod users;

pub use chat::*;
pub use manage::*;
pub use users::*;
