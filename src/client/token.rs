//! Where the chat client gets a user token when the host's session does not reach the chat
//! (another origin, a native shell, a host that prefers tokens): the host's callback, as
//! Stream's `tokenProvider`. Asked before the first connection and again, once, after the
//! server closes with 4001 (the token expired or the session ended); when it answers with an
//! error the client shows signed-out. Both builds (the component that takes it renders on the
//! server too); only the browser calls it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::model::ApiError;

/// A token on its way (the host's server function, typically).
pub type TokenFuture = Pin<Box<dyn Future<Output = Result<String, ApiError>>>>;

/// The host's token callback. Cheap to clone.
#[derive(Clone)]
pub struct TokenProvider(Arc<dyn Fn() -> TokenFuture + Send + Sync>);

impl TokenProvider {
    /// `fetch` mints a token for the signed-in person, e.g. a host server function that calls
    /// `Chat::mint_token`, or a request to the host's backend, which calls the server API.
    pub fn new<F, Fut>(fetch: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<String, ApiError>> + 'static,
    {
        Self(Arc::new(move || Box::pin(fetch())))
    }

    pub fn fetch(&self) -> TokenFuture {
        (self.0)()
    }
}
