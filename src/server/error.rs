//! The server's error type and its one mapping to HTTP: status codes, the JSON body
//! `{"error": {"code", "message"}}`, and logging of internal failures (once, here).

use axum::extract::rejection::JsonRejection;
use std::time::Duration;

use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use thiserror::Error;

use crate::model::{ApiError, ErrorCode, ValidationError};

#[derive(Debug, Error)]
pub enum ServerError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("malformed request: {0}")]
    BadRequest(String),
    #[error("not signed in")]
    Unauthenticated,
    /// `/api/server/*` without the server secret, or with a wrong one.
    #[error("server secret missing or wrong")]
    WrongServerSecret,
    /// A user token that is malformed, forged or expired (401, as no session).
    #[error(transparent)]
    Token(#[from] super::token::TokenError),
    #[error("wrong username or password")]
    InvalidCredentials,
    #[error("username is taken")]
    UsernameTaken,
    #[error("not found")]
    NotFound,
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// One of a 1:1's two people blocked the other (403 `blocked`).
    #[error("blocked")]
    Blocked,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("too many requests; retry in {retry_after:?}")]
    RateLimited { retry_after: Duration },
    #[error("too many open connections")]
    TooManyConnections,
    #[error("request for a host this server does not serve")]
    MisdirectedRequest,
    #[error("request timed out")]
    RequestTimeout,
    #[error("shutting down")]
    ShuttingDown,
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    #[error(transparent)]
    Identity(#[from] super::identity::IdentityError),
    /// An upload, a download or a send's attachments refused (413 for sizes, 400 for bad
    /// images and attachments, 503/500 for the file store).
    #[error(transparent)]
    Upload(#[from] super::attachments::UploadError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ServerError {
    /// What the client may see. Internal details stay in the log.
    pub fn to_api(&self) -> ApiError {
        use ServerError::*;
        match self {
            Invalid(e) => ApiError::from(e.clone()),
            BadRequest(m) => ApiError::new(ErrorCode::BadRequest, m.clone()),
            Unauthenticated => ApiError::new(ErrorCode::Unauthenticated, "Please sign in."),
            WrongServerSecret => ApiError::new(
                ErrorCode::Unauthenticated,
                "The server API needs `Authorization: Bearer <PARLEY_SERVER_SECRET>`.",
            ),
            Token(e) => ApiError::new(ErrorCode::Unauthenticated, format!("{}.", capitalised(e))),
            InvalidCredentials => {
                ApiError::new(ErrorCode::InvalidCredentials, "Wrong username or password.")
            }
            UsernameTaken => {
                ApiError::new(ErrorCode::UsernameTaken, "That username is already taken.")
            }
            NotFound => ApiError::new(ErrorCode::NotFound, "Not found."),
            Forbidden(why) => ApiError::new(ErrorCode::Forbidden, *why),
            Blocked => ApiError::new(
                ErrorCode::Blocked,
                "You cannot message this person: one of you has blocked the other.",
            ),
            MethodNotAllowed => ApiError::new(
                ErrorCode::MethodNotAllowed,
                "That method is not allowed here.",
            ),
            PayloadTooLarge => ApiError::new(
                ErrorCode::PayloadTooLarge,
                "The request is too large (at most 64 KiB).",
            ),
            RateLimited { retry_after } => ApiError::new(
                ErrorCode::RateLimited,
                format!(
                    "Too many requests. Try again in {} s.",
                    retry_after.as_secs().max(1)
                ),
            ),
            TooManyConnections => ApiError::new(
                ErrorCode::RateLimited,
                "Too many open connections. Close some tabs or try again later.",
            ),
            MisdirectedRequest => ApiError::new(
                ErrorCode::MisdirectedRequest,
                "This server does not serve that host name.",
            ),
            RequestTimeout => ApiError::new(
                ErrorCode::RequestTimeout,
                "The request took too long. Please try again.",
            ),
            ShuttingDown => ApiError::new(
                ErrorCode::Unavailable,
                "The server is restarting. Please try again.",
            ),
            Unavailable(_) | Identity(_) => ApiError::new(
                ErrorCode::Unavailable,
                "The service is temporarily unavailable. Please try again.",
            ),
            Upload(e) => {
                use super::attachments::UploadError as U;
                let code = match e {
                    U::TooLarge { .. } | U::QuotaExceeded { .. } | U::ImageTooLarge => {
                        ErrorCode::PayloadTooLarge
                    }
                    U::BadImage(_) | U::TooMany | U::NotAttachable => ErrorCode::BadRequest,
                    U::NoStore | U::Store(_) => ErrorCode::Unavailable,
                    U::Encode(_) => ErrorCode::Internal,
                };
                ApiError::new(code, e.message())
            }
            Database(_) | Internal(_) => {
                ApiError::new(ErrorCode::Internal, "Something went wrong on our side.")
            }
        }
    }

    /// Logs failures that are ours (5xx); client mistakes are not worth a log line each.
    pub fn log(&self) {
        if status_code(self.to_api().code).is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
    }
}

fn capitalised(error: &impl std::fmt::Display) -> String {
    let text = error.to_string();
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The one place an error code becomes an HTTP status.
pub fn status_code(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::BadRequest => StatusCode::BAD_REQUEST,
        ErrorCode::Unauthenticated | ErrorCode::InvalidCredentials => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden | ErrorCode::Blocked => StatusCode::FORBIDDEN,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::UsernameTaken => StatusCode::CONFLICT,
        ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::MisdirectedRequest => StatusCode::MISDIRECTED_REQUEST,
        ErrorCode::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
        ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl From<sqlx::Error> for ServerError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                ServerError::Unavailable(error)
            }
            _ => ServerError::Database(error),
        }
    }
}

impl From<JsonRejection> for ServerError {
    fn from(rejection: JsonRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ServerError::PayloadTooLarge
        } else {
            ServerError::BadRequest(rejection.body_text())
        }
    }
}

impl From<ServerError> for ApiError {
    fn from(error: ServerError) -> Self {
        error.log();
        error.to_api()
    }
}

impl IntoResponse for ServerError {
    fn into_response(self) -> Response {
        self.log();
        let body = self.to_api();
        let mut response = (
            status_code(body.code),
            Json(serde_json::json!({ "error": body })),
        )
            .into_response();
        let retry_after = match self {
            ServerError::RateLimited { retry_after } => Some(retry_after),
            ServerError::TooManyConnections => Some(Duration::from_secs(30)),
            ServerError::ShuttingDown => Some(Duration::from_secs(1)),
            _ => None,
        };
        if let Some(retry_after) = retry_after {
            let seconds = retry_after.as_secs().max(1).to_string();
            if let Ok(value) = HeaderValue::from_str(&seconds) {
                response.headers_mut().insert(RETRY_AFTER, value);
            }
        }
        response
    }
}

impl ServerError {
    /// The error for a response some layer made without our JSON body (a 404 from routing, a
    /// 413 from the body limit, …), so every API error has the same shape.
    pub fn from_status(status: StatusCode, text: &str) -> Self {
        match status {
            StatusCode::UNAUTHORIZED => ServerError::Unauthenticated,
            StatusCode::FORBIDDEN => ServerError::Forbidden("Not allowed."),
            StatusCode::NOT_FOUND => ServerError::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => ServerError::MethodNotAllowed,
            StatusCode::PAYLOAD_TOO_LARGE => ServerError::PayloadTooLarge,
            StatusCode::REQUEST_TIMEOUT => ServerError::RequestTimeout,
            s if s.is_client_error() => ServerError::BadRequest(text.chars().take(200).collect()),
            _ => ServerError::Internal(text.chars().take(200).collect()),
        }
    }
}
