//! The demo's router, as any host of the chat writes it: its own pages and account API, the
//! chat's routes merged in, its state reaching the chat through `FromRef`, the chat provided
//! to server functions and pages, all behind the chat's protections. Tests build exactly this.

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use leptos::prelude::provide_context;
use leptos_axum::{file_and_error_handler_with_context, generate_route_list, LeptosRoutes};
use parley::server::routes;
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;

use super::accounts::{encode_query_value, Accounts};
use super::http;
use super::state::DemoState;
use crate::app::{shell, App};

pub fn router(state: DemoState) -> Router {
    let routes = generate_route_list(App);
    let context = {
        let state = state.clone();
        move || {
            state.chat.provide_context();
            provide_context(state.accounts.clone());
            // A fresh nonce per page: the only inline script the page policy allows.
            leptos::nonce::provide_nonce();
        }
    };
    let leptos_options = state.leptos_options.clone();
    let app = Router::new()
        .route("/", get(|| async { Redirect::to("/people") }))
        .merge(state.chat.routes())
        .merge(http::routes())
        .merge(routes::site_files(&state.leptos_options))
        .leptos_routes_with_context(&state, routes, context.clone(), move || {
            shell(leptos_options.clone())
        })
        .fallback(file_and_error_handler_with_context::<DemoState, _>(
            context, shell,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            require_session_for_pages,
        ));
    routes::protect(app, &state.chat)
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Pages only signed-in people may see.
fn is_protected_page(path: &str) -> bool {
    path == "/people" || path == "/chat" || path.starts_with("/chat/")
}

/// Sends signed-out visitors of protected pages to `/login?next=<page>` before anything renders.
async fn require_session_for_pages(
    State(accounts): State<Accounts>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() != Method::GET || !is_protected_page(request.uri().path()) {
        return next.run(request).await;
    }
    match accounts.session(request.headers()).await {
        Ok(Some(_)) => next.run(request).await,
        Ok(None) => {
            let target = request
                .uri()
                .path_and_query()
                .map(|pq| pq.as_str())
                .unwrap_or("/chat");
            Redirect::to(&format!("/login?next={}", encode_query_value(target, b"/")))
                .into_response()
        }
        Err(error) => error.into_response(),
    }
}
