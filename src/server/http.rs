//! The JSON HTTP API for clients other than the Leptos app (mobile apps, bots, tests). It calls
//! the same server logic as the server functions. Errors: `{"error": {"code", "message"}}`.
//!
//! | method | path                | body                                      | answer          |
//! |--------|---------------------|-------------------------------------------|-----------------|
//! | POST   | `/api/auth/signup`  | `{username, display_name, password}`      | 201 user + cookie |
//! | POST   | `/api/auth/login`   | `{username, password}`                    | 200 user + cookie |
//! | POST   | `/api/auth/logout`  | —                                         | 204, cookie cleared |
//! | GET    | `/api/auth/me`      | —                                         | 200 user / 401  |
//! | GET    | `/api/users`        | —                                         | 200 other users |

use axum::extract::{FromRequest, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use super::auth::{self, CurrentUser};
use super::db;
use super::error::ServerError;
use super::state::AppState;
use crate::model::{LoginInput, SignupInput, User};

/// `Json` whose rejections use our error body.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ServerError))]
pub struct ApiJson<T>(pub T);

pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/api/auth/signup", post(signup))
        .route("/api/auth/login", post(login))
        .route("/api/auth/logout", post(logout))
        .route("/api/auth/me", get(me))
        .route("/api/users", get(users))
}

async fn signup(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<SignupInput>,
) -> Result<Response, ServerError> {
    let signed_in = auth::sign_up(&state, &input).await?;
    Ok(auth::with_cookie(
        signed_in.cookie,
        (StatusCode::CREATED, Json(signed_in.user)),
    ))
}

async fn login(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<LoginInput>,
) -> Result<Response, ServerError> {
    let signed_in = auth::sign_in(&state, &input).await?;
    Ok(auth::with_cookie(signed_in.cookie, Json(signed_in.user)))
}

async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ServerError> {
    let cookie = auth::sign_out(&state, &headers).await?;
    Ok(auth::with_cookie(cookie, StatusCode::NO_CONTENT))
}

async fn me(CurrentUser(user): CurrentUser) -> Json<User> {
    Json(user)
}

async fn users(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
) -> Result<impl IntoResponse, ServerError> {
    Ok(Json(db::users::list_except(&state.pool, me.id).await?))
}
