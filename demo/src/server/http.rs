//! The demo's JSON account API (`/api/auth/*`): sign up, sign in, sign out (here or
//! everywhere), who am I. Errors have the chat's shape, `{"error": {"code", "message"}}`.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use parley::server::extract::{ApiJson, ClientAddress};
use parley::server::{Chat, CurrentUser, ServerError};

use super::accounts::{with_cookie, Accounts};
use super::state::DemoState;
use crate::model::{LoginInput, SignupInput};

pub fn routes() -> Router<DemoState> {
    Router::new()
        .route("/api/auth/signup", post(signup))
        .route("/api/auth/login", post(login))
        .route("/api/auth/logout", post(logout))
        .route("/api/auth/logout_everywhere", post(logout_everywhere))
        .route("/api/auth/me", get(me))
}

type ApiResult = Result<Response, ServerError>;

async fn signup(
    State(accounts): State<Accounts>,
    State(chat): State<Chat>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    ApiJson(input): ApiJson<SignupInput>,
) -> ApiResult {
    let signed_in = accounts.sign_up(&chat, &input, address, &headers).await?;
    Ok(with_cookie(
        signed_in.cookie,
        (StatusCode::CREATED, Json(signed_in.user)),
    ))
}

async fn login(
    State(accounts): State<Accounts>,
    State(chat): State<Chat>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    ApiJson(input): ApiJson<LoginInput>,
) -> ApiResult {
    let signed_in = accounts.sign_in(&chat, &input, address, &headers).await?;
    Ok(with_cookie(signed_in.cookie, Json(signed_in.user)))
}

async fn logout(
    State(accounts): State<Accounts>,
    State(chat): State<Chat>,
    headers: HeaderMap,
) -> ApiResult {
    let cookie = accounts.sign_out(&chat, &headers).await?;
    Ok(with_cookie(cookie, StatusCode::NO_CONTENT))
}

async fn logout_everywhere(
    State(accounts): State<Accounts>,
    State(chat): State<Chat>,
    headers: HeaderMap,
) -> ApiResult {
    let cookie = accounts.sign_out_everywhere(&chat, &headers).await?;
    Ok(with_cookie(cookie, StatusCode::NO_CONTENT))
}

async fn me(CurrentUser(user): CurrentUser) -> Response {
    Json(user).into_response()
}
