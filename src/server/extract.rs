//! The extractors every handler of the chat (and a host's) uses: JSON, path and query whose
//! rejections speak the chat's error body, and the client's address. Uses `error`, `limits`
//! and the state; imported by `http`, `realtime` and hosts.

use std::net::{IpAddr, SocketAddr};

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRef, FromRequest, FromRequestParts};
use axum::http::request::Parts;

use super::error::ServerError;
use super::limits::client_address;
use super::state::Chat;

/// `Json` whose rejections use our error body.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ServerError))]
pub struct ApiJson<T>(pub T);

/// `Path` whose rejections (e.g. a malformed uuid) use our error body.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ServerError))]
pub struct ApiPath<T>(pub T);

/// `Query` whose rejections use our error body.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ServerError))]
pub struct ApiQuery<T>(pub T);

impl From<PathRejection> for ServerError {
    fn from(rejection: PathRejection) -> Self {
        ServerError::BadRequest(rejection.body_text())
    }
}

impl From<QueryRejection> for ServerError {
    fn from(rejection: QueryRejection) -> Self {
        ServerError::BadRequest(rejection.body_text())
    }
}

/// The client address of a request, as an extractor (see [`client_address`]).
pub struct ClientAddress(pub IpAddr);

impl<S> FromRequestParts<S> for ClientAddress
where
    Chat: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = Chat::from_ref(state);
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip());
        Ok(Self(client_address(
            state.limits.settings(),
            peer,
            &parts.headers,
        )))
    }
}
