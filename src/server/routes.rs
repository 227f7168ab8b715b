//! What a host merges into its router: [`Chat::routes`] (the chat's JSON API, WebSocket, SSE,
//! and the server API when its secret is set), and [`protect`], the layers every page and API of a chat-hosting app
//! should sit behind (foreign hosts, cross-site writes, body size, time limits, JSON errors,
//! security headers). Tests build exactly what the hosts build.

use axum::http::StatusCode;
use axum::middleware;
use axum::Router;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use super::state::Chat;
use super::{http, security, server_api, style};

/// Largest request body accepted anywhere (a 4,000-character message is far below it).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

impl Chat {
    /// The chat's routes, for any host state: `/api/chat/*` (JSON API, `ws`, `events`),
    /// `/api/users`, the stylesheet (`/parley.css`), and `/api/server/*` when
    /// `PARLEY_SERVER_SECRET` is set (without it those paths are not routes at all: 404).
    /// Server functions are served by the host's Leptos routes (leptos_axum registers them)
    /// with [`Chat::provide_context`] in their context.
    pub fn routes<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        let mut routes = http::api_routes();
        if self.settings.server_secret.is_some() {
            routes = routes.merge(server_api::routes());
        }
        routes
            .layer(middleware::from_fn(http::json_errors))
            .merge(style::routes())
            .with_state(self.clone())
    }
}

/// Wraps a host's whole router (pages, server functions, the chat's routes, the host's own)
/// in the chat's protections, outermost last: cross-site writes refused, bodies limited to
/// [`MAX_BODY_BYTES`], answers within the request timeout (408), foreign `Host`s refused
/// (421), every error under `/api/` as JSON, security headers on every response.
pub fn protect<S: Clone + Send + Sync + 'static>(router: Router<S>, chat: &Chat) -> Router<S> {
    router
        .layer(middleware::from_fn_with_state(
            chat.clone(),
            security::refuse_cross_site_writes,
        ))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        // Bounds the time to an answer (a slowly sent body included). Streams (WebSocket, SSE)
        // answer at once and stream afterwards, beyond its reach.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            chat.settings.serve.request_timeout,
        ))
        .layer(middleware::from_fn_with_state(
            chat.clone(),
            security::refuse_foreign_hosts,
        ))
        .layer(middleware::from_fn(http::json_errors))
        // Outside the JSON error layer, so errors it rebuilds keep the security headers.
        .layer(middleware::from_fn_with_state(
            chat.clone(),
            security::headers,
        ))
}
