//! What server functions read from the reactive context that leptos_axum fills per request:
//! the shared state, the request's headers and the response options.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::header::SET_COOKIE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;

use super::error::{status_code, ServerError};
use super::state::AppState;
use super::{auth, limits};
use crate::model::{ApiError, User};

pub fn app_state() -> Result<AppState, ServerError> {
    use_context::<AppState>().ok_or_else(|| ServerError::Internal("no AppState in context".into()))
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
        app_state()?.limits.settings(),
        peer,
        &parts.headers,
    ))
}

pub fn set_cookie(cookie: HeaderValue) {
    if let Some(response) = use_context::<ResponseOptions>() {
        response.append_header(SET_COOKIE, cookie);
    }
}

/// The signed-in user of the current request, if any.
pub async fn current_user() -> Result<Option<User>, ServerError> {
    auth::session_user(&app_state()?, &request_headers()?).await
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
