//! What server functions read from the reactive context that leptos_axum fills per request:
//! the chat (provided by the host, [`Chat::provide_context`]), the request's parts and the
//! response options.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;

use super::auth::Viewer;
use super::error::{status_code, ServerError};
use super::limits;
use super::state::Chat;
use crate::model::{ApiError, User};

/// The chat the host provided to this request.
pub fn chat() -> Result<Chat, ServerError> {
    use_context::<Chat>().ok_or_else(|| {
        ServerError::Internal("no Chat in context: call Chat::provide_context in the host".into())
    })
}

pub fn request_headers() -> Result<HeaderMap, ServerError> {
    use_context::<Parts>()
        .map(|parts| parts.headers)
        .ok_or_else(|| ServerError::Internal("no request in context".into()))
}

/// The client's address (see `limits::client_address`).
pub fn client_address() -> Result<IpAddr, ServerError> {
    let parts = use_context::<Parts>()
        .ok_or_else(|| ServerError::Internal("no request in context".into()))?;
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip());
    Ok(limits::client_address(
        chat()?.limits.settings(),
        peer,
        &parts.headers,
    ))
}

/// The person behind the current request, if any.
pub async fn viewer() -> Result<Option<Viewer>, ServerError> {
    chat()?.viewer(&request_headers()?).await
}

/// The person behind the current request, or `Unauthenticated`.
pub async fn require_viewer() -> Result<Viewer, ServerError> {
    viewer().await?.ok_or(ServerError::Unauthenticated)
}

/// The signed-in user of the current request, if any.
pub async fn current_user() -> Result<Option<User>, ServerError> {
    Ok(viewer().await?.map(|viewer| viewer.user))
}

/// The signed-in user of the current request, or `Unauthenticated`.
pub async fn require_user() -> Result<User, ServerError> {
    current_user().await?.ok_or(ServerError::Unauthenticated)
}

/// Ends a server function: an error gets its HTTP status and a client-safe body.
pub fn respond<T>(result: Result<T, ServerError>) -> Result<T, ApiError> {
    result.map_err(|error| {
        if let Some(response) = use_context::<ResponseOptions>() {
            response.set_status(status_code(error.to_api().code));
        }
        ApiError::from(error)
    })
}
