//! Signing in and out, as the host's server functions run them: the chat's sign-in limits guard
//! the shared password, and every session that ends is told to the chat. Uses `sessions`,
//! `people` and `parley::server` (`context`, `Chat`, `ServerError`).

use axum::http::header::SET_COOKIE;
use axum::http::HeaderValue;
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;
use parley::server::{context, Chat, ServerError};

use super::sessions::Sessions;
use crate::people;

fn sessions() -> Result<Sessions, ServerError> {
    use_context::<Sessions>().ok_or_else(|| ServerError::Internal("no Sessions in context".into()))
}

fn set_cookie(cookie: HeaderValue) {
    if let Some(response) = use_context::<ResponseOptions>() {
        response.append_header(SET_COOKIE, cookie);
    }
}

pub async fn sign_in(person: &str, password: &str) -> Result<(), ServerError> {
    let (chat, sessions) = (context::chat()?, sessions()?);
    let address = context::client_address()?;
    chat.limits.may_sign_in(address, person)?;
    let person = people::find(person)
        .filter(|_| sessions.password_matches(password))
        .ok_or(ServerError::InvalidCredentials)?;
    chat.limits.sign_in_succeeded(address, person.id);
    // Signing in always starts a new session: one the browser already had ends first.
    end_session(&chat, &sessions).await?;
    let (token, _) = sessions.start(person)?;
    set_cookie(sessions.cookie(&token)?);
    Ok(())
}

pub async fn sign_out() -> Result<(), ServerError> {
    let (chat, sessions) = (context::chat()?, sessions()?);
    end_session(&chat, &sessions).await?;
    set_cookie(sessions.removal_cookie()?);
    Ok(())
}

/// Ends the request's session, and has the chat close the connections opened with it (on every
/// instance). Removed first: a connection starting in between asks `session_valid`.
async fn end_session(chat: &Chat, sessions: &Sessions) -> Result<(), ServerError> {
    if let Some(ended) = sessions.end(&context::request_headers()?) {
        chat.end_session(ended.person.id, Some(&ended.name)).await?;
    }
    Ok(())
}
