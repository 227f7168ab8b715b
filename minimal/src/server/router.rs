//! The router: the host's pages (Leptos, with its server functions), the chat's routes merged
//! in, the chat and the sessions provided to server functions and pages, visitors sent to the
//! sign-in page, all behind the chat's protections. Uses `sessions`, `app` and
//! `parley::server` (`Chat`, `routes`).

use axum::extract::{FromRef, Request, State};
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Router;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{file_and_error_handler_with_context, generate_route_list, LeptosRoutes};
use parley::server::{routes, Chat};

use super::sessions::Sessions;
use crate::app::{shell, App};

/// What the handlers share; the chat is reached from it through `FromRef`.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub chat: Chat,
    pub sessions: Sessions,
}

pub fn router(state: AppState) -> Router {
    let context = {
        let state = state.clone();
        move || {
            state.chat.provide_context();
            provide_context(state.sessions.clone());
            // The page policy (`set_page_policy` in the shell) allows only this nonce's script.
            leptos::nonce::provide_nonce();
        }
    };
    let options = state.leptos_options.clone();
    let app = Router::new()
        .merge(state.chat.routes())
        .merge(routes::site_files(&state.leptos_options))
        .leptos_routes_with_context(
            &state,
            generate_route_list(App),
            context.clone(),
            move || shell(options.clone()),
        )
        .fallback(file_and_error_handler_with_context::<AppState, _>(
            context, shell,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            require_sign_in,
        ));
    routes::protect(app, &state.chat).with_state(state)
}

/// Sends visitors of the pages behind sign-in to the sign-in page, before anything renders.
async fn require_sign_in(
    State(sessions): State<Sessions>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    let behind_sign_in = path == "/" || path == "/chat" || path.starts_with("/chat/");
    if request.method() == Method::GET
        && behind_sign_in
        && sessions.find(request.headers()).is_none()
    {
        return Redirect::to("/sign-in").into_response();
    }
    next.run(request).await
}
