//! The server's error type and its one mapping to HTTP: status codes, the JSON body
//! `{"error": {"code", "message"}}`, and logging of internal failures (once, here).

use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
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
    #[error("wrong username or password")]
    InvalidCredentials,
    #[error("username is taken")]
    UsernameTaken,
    #[error("not found")]
    NotFound,
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
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
            InvalidCredentials => {
                ApiError::new(ErrorCode::InvalidCredentials, "Wrong username or password.")
            }
            UsernameTaken => {
                ApiError::new(ErrorCode::UsernameTaken, "That username is already taken.")
            }
            NotFound => ApiError::new(ErrorCode::NotFound, "Not found."),
            Forbidden(why) => ApiError::new(ErrorCode::Forbidden, *why),
            Unavailable(_) => ApiError::new(
                ErrorCode::Unavailable,
                "The service is temporarily unavailable. Please try again.",
            ),
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

/// The one place an error code becomes an HTTP status.
pub fn status_code(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::BadRequest => StatusCode::BAD_REQUEST,
        ErrorCode::Unauthenticated | ErrorCode::InvalidCredentials => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::UsernameTaken => StatusCode::CONFLICT,
        ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl From<sqlx::Error> for ServerError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::Database(db) if db.constraint() == Some("users_username_key") => {
                ServerError::UsernameTaken
            }
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                ServerError::Unavailable(error)
            }
            _ => ServerError::Database(error),
        }
    }
}

impl From<JsonRejection> for ServerError {
    fn from(rejection: JsonRejection) -> Self {
        ServerError::BadRequest(rejection.body_text())
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
        (
            status_code(body.code),
            Json(serde_json::json!({ "error": body })),
        )
            .into_response()
    }
}
