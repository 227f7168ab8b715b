//! What a host merges into its router: [`Chat::routes`] (the chat's JSON API, WebSocket, SSE,
//! and the server API when its secret is set), [`site_files`] (its own built WASM, JS and CSS,
//! brotli-compressed where the client accepts it), and [`protect`], the layers every page and
//! API of a chat-hosting app should sit behind (foreign hosts, cross-site writes, body size,
//! time limits, JSON errors, security headers). Tests build exactly what the hosts build.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_LENGTH, VARY};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use leptos::config::LeptosOptions;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

use super::attachments::UploadError;
use super::error::ServerError;
use super::state::Chat;
use super::{http, security, server_api, style};

/// Largest request body accepted anywhere but an upload (a 4,000-character message is far
/// below it).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Whether `path` is an upload route (`/api/chat/channels/{id}/uploads`,
/// `/api/server/uploads`): the one kind of request with a large body and a long time to send it.
pub fn is_upload(path: &str) -> bool {
    path == "/api/server/uploads"
        || path
            .strip_prefix("/api/chat/channels/")
            .and_then(|rest| rest.strip_suffix("/uploads"))
            .is_some_and(|id| !id.is_empty() && !id.contains('/'))
}

/// The body limit and the time limit of every request, chosen by route. Everything keeps
/// [`MAX_BODY_BYTES`] (a longer `Content-Length` is refused at once, a body that grows past
/// it fails to read: 413) and the request timeout (408). Upload routes, and only they, take
/// `PARLEY_MAX_UPLOAD_BYTES` (a `Content-Length` over twice it is refused here; the handler
/// refuses any over it and counts the bytes as they arrive, stopping at the limit, never
/// buffering more) and
/// `PARLEY_UPLOAD_TIMEOUT_SECS`. One layer instead of tower-http's two, because a body limit
/// set outside the router cannot be raised by an inner layer for one route.
async fn limit_by_route(State(chat): State<Chat>, request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let uploads = &chat.settings.uploads;
    let (request, within) = if is_upload(request.uri().path()) {
        // Up to twice the limit the handler answers, after checking who asks (and reads the
        // body away so the client sees the 413); beyond, refused here unread.
        if declared.is_some_and(|n| n > uploads.max_bytes.saturating_mul(2)) {
            let max = uploads.max_bytes;
            return ServerError::from(UploadError::TooLarge { max }).into_response();
        }
        (request, uploads.timeout)
    } else {
        if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
            return StatusCode::PAYLOAD_TOO_LARGE.into_response();
        }
        let request =
            request.map(|body| Body::new(http_body_util::Limited::new(body, MAX_BODY_BYTES)));
        (request, chat.settings.serve.request_timeout)
    };
    // Bounds the time to an answer (a slowly sent body included). Streams (WebSocket, SSE)
    // answer at once and stream afterwards, beyond its reach.
    match tokio::time::timeout(within, next.run(request)).await {
        Ok(response) => response,
        Err(_) => StatusCode::REQUEST_TIMEOUT.into_response(),
    }
}

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

/// The host's built files under `/<site-pkg-dir>/` (the WASM, its JS glue, the host's CSS),
/// from `<site-root>/<site-pkg-dir>`, for a host to merge before its Leptos fallback. A file's
/// brotli copy (`NAME.br`, which `cargo leptos build --release --precompress` writes beside
/// it) goes to clients that accept `br`: the WASM is ~27 % smaller on the wire than gzip -9
/// makes it. Everyone else gets the file itself, which the host's compression layer may gzip.
/// The `NAME.gz` copies that flag writes too are not used: its gzip coder makes the WASM 17 %
/// larger than the compression layer's default level does (684 KB against 584 KB, Dec 2026),
/// which is why this replaces leptos_axum's file handler (it serves both) for these files.
/// Answers say `Vary: Accept-Encoding`, so a shared cache keeps the two apart.
pub fn site_files<S: Clone + Send + Sync + 'static>(options: &LeptosOptions) -> Router<S> {
    let dir = format!("{}/{}", options.site_root, options.site_pkg_dir);
    let files = ServeDir::new(dir).precompressed_br();
    Router::new()
        .nest_service(&format!("/{}", options.site_pkg_dir), files)
        .layer(SetResponseHeaderLayer::if_not_present(
            VARY,
            HeaderValue::from_static("accept-encoding"),
        ))
}

/// Wraps a host's whole router (pages, server functions, the chat's routes, the host's own)
/// in the chat's protections, outermost last: cross-site writes refused, bodies limited to
/// [`MAX_BODY_BYTES`] and answers within the request timeout (408) except uploads, which
/// have their own ([`limit_by_route`]), foreign `Host`s refused
/// (421), every error under `/api/` as JSON, security headers on every response.
pub fn protect<S: Clone + Send + Sync + 'static>(router: Router<S>, chat: &Chat) -> Router<S> {
    router
        .layer(middleware::from_fn_with_state(
            chat.clone(),
            security::refuse_cross_site_writes,
        ))
        .layer(middleware::from_fn_with_state(chat.clone(), limit_by_route))
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
