//! The error shape every boundary speaks: server functions, the JSON HTTP API
//! (`{"error": {"code", "message"}}`) and, later, realtime frames. Messages are safe to show.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::ValidationError;

/// A machine-readable reason; the server maps each one to exactly one HTTP status.
// Read from its name through `String`: the derived enum decoder costs ~2 KB of WASM per JSON
// reader type. The JSON is the same (the tests check every code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", try_from = "String")]
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
    /// The request came from another site, or the caller's role does not allow it.
    Forbidden,
    /// One of the two people in a 1:1 blocked the other: no new 1:1, no sends into it.
    Blocked,
    RateLimited,
    /// The request named a host this server does not serve (`Host` is not its public origin):
    /// refused before anything else, against DNS rebinding.
    MisdirectedRequest,
    /// The request took too long to arrive or to answer.
    RequestTimeout,
    /// A dependency (the database) is down; retry later.
    Unavailable,
    /// A bug or an unexpected failure; details are in the server log only.
    Internal,
}

impl TryFrom<String> for ErrorCode {
    type Error = String;

    fn try_from(name: String) -> Result<Self, Self::Error> {
        Ok(match name.as_str() {
            "bad_request" => Self::BadRequest,
            "unauthenticated" => Self::Unauthenticated,
            "invalid_credentials" => Self::InvalidCredentials,
            "username_taken" => Self::UsernameTaken,
            "not_found" => Self::NotFound,
            "method_not_allowed" => Self::MethodNotAllowed,
            "payload_too_large" => Self::PayloadTooLarge,
            "forbidden" => Self::Forbidden,
            "blocked" => Self::Blocked,
            "rate_limited" => Self::RateLimited,
            "misdirected_request" => Self::MisdirectedRequest,
            "request_timeout" => Self::RequestTimeout,
            "unavailable" => Self::Unavailable,
            "internal" => Self::Internal,
            _ => return Err(format!("unknown error code `{name}`")),
        })
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_reads_back_from_its_json_name() {
        use ErrorCode::*;
        let all = [
            BadRequest,
            Unauthenticated,
            InvalidCredentials,
            UsernameTaken,
            NotFound,
            MethodNotAllowed,
            PayloadTooLarge,
            Forbidden,
            Blocked,
            RateLimited,
            MisdirectedRequest,
            RequestTimeout,
            Unavailable,
            Internal,
        ];
        for code in all {
            let json = serde_json::to_string(&code).unwrap_or_default();
            assert_eq!(
                serde_json::from_str::<ErrorCode>(&json).ok(),
                Some(code),
                "{json}"
            );
        }
        assert_eq!(
            serde_json::to_string(&RateLimited).ok().as_deref(),
            Some(r#""rate_limited""#)
        );
        assert!(serde_json::from_str::<ErrorCode>(r#""teapot""#).is_err());
        assert!(serde_json::from_str::<ErrorCode>("3").is_err());
    }
}
