//! The host's own server functions: sign in as one of the people with the shared password, and
//! sign out (the chat is told, and closes that session's connections). The chat's server
//! functions (who am I, people, unread count, channels…) come from `parley::api`. Bodies use
//! `server::account` (server build only); the signatures only `parley::model`.

use leptos::prelude::*;
use parley::model::ApiError;

/// Starts a session for `person` (an id of [`crate::people::PEOPLE`]) and sets its cookie.
#[server(prefix = "/api/fn", endpoint = "minimal_sign_in")]
pub async fn sign_in(person: String, password: String) -> Result<(), ApiError> {
    use parley::server::context;
    context::respond(crate::server::account::sign_in(&person, &password).await)
}

/// Ends the request's session, here and in the chat, and clears its cookie.
#[server(prefix = "/api/fn", endpoint = "minimal_sign_out")]
pub async fn sign_out() -> Result<(), ApiError> {
    use parley::server::context;
    context::respond(crate::server::account::sign_out().await)
}
