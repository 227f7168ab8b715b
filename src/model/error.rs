//! The error shape every boundary speaks: server functions, the JSON HTTP API
//! (`{"error": {"code", "message"}}`) and, later, realtime frames. Messages are safe to show.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::ValidationError;

/// A machine-readable reason; the server maps each one to exactly one HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request is malformed or a field is invalid.
    BadRequest,
    /// No valid session.
    Unauthenticated,
    /// Sign-in failed; deliberately does not say which part was wrong.
    InvalidCredentials,
    UsernameTaken,
    /// The thing does not exist, or the caller may not know it does.
    NotFound,
    /// The path exists, the method does not.
    MethodNotAllowed,
    /// The body is larger than the server accepts (64 KiB).
    PayloadTooLarge,
    /// The request came from another site.
    Forbidden,
    RateLimited,
    /// A dependency (the database) is down; retry later.
    Unavailable,
    /// A bug or an unexpected failure; details are in the server log only.
    Internal,
}

#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize, Deserialize)]
#[error("{message}")]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl From<ValidationError> for ApiError {
    fn from(error: ValidationError) -> Self {
        Self::new(ErrorCode::BadRequest, error.to_string())
    }
}

impl FromServerFnError for ApiError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(error: ServerFnErrorErr) -> Self {
        match error {
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Response(_) => Self::new(
                ErrorCode::Unavailable,
                "Could not reach the server. Check your connection and try again.",
            ),
            ServerFnErrorErr::Args(_)
            | ServerFnErrorErr::MissingArg(_)
            | ServerFnErrorErr::Deserialization(_) => {
                Self::new(ErrorCode::BadRequest, "The request was malformed.")
            }
            _ => Self::new(ErrorCode::Internal, "Something went wrong on our side."),
        }
    }
}
