//! The router: server-rendered pages and server functions (Leptos), the JSON API, static files,
//! and the layers around them. Tests build exactly this router.

use axum::http::StatusCode;
use axum::middleware;
use axum::response::Redirect;
use axum::routing::get;
use axum::Router;
use leptos::prelude::provide_context;
use leptos_axum::{file_and_error_handler_with_context, generate_route_list, LeptosRoutes};
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use super::state::AppState;
use super::{auth, http, security};
use crate::app::{shell, App};

/// Largest request body accepted anywhere (a 4,000-character message is far below it).
const MAX_BODY_BYTES: usize = 64 * 1024;

pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let context = {
        let state = state.clone();
        move || {
            provide_context(state.clone());
            // A fresh nonce per page: the only inline script the page policy allows.
            leptos::nonce::provide_nonce();
        }
    };
    let leptos_options = state.leptos_options.clone();
    Router::new()
        .route("/", get(|| async { Redirect::to("/people") }))
        .merge(http::api_routes())
        .leptos_routes_with_context(&state, routes, context.clone(), move || {
            shell(leptos_options.clone())
        })
        .fallback(file_and_error_handler_with_context::<AppState, _>(
            context, shell,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_session_for_pages,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security::refuse_cross_site_writes,
        ))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        // Bounds the time to an answer (a slowly sent body included). Streams (WebSocket, SSE)
        // answer at once and stream afterwards, beyond its reach.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            state.settings.serve.request_timeout,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security::refuse_foreign_hosts,
        ))
        .layer(middleware::from_fn(http::json_errors))
        // Outside the JSON error layer, so errors it rebuilds keep the security headers.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security::headers,
        ))
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
