//! The identity seam: the one trait a host app implements so the chat knows who a request is
//! and who the people are. The host owns accounts, passwords and sessions; the chat keeps only
//! a projection of each user (its own uuid, the host's `external_id`, names) so messages and
//! memberships have keys of their own. Depends on nothing else in the server.

use async_trait::async_trait;
use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use thiserror::Error;

/// A person as the host knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostUser {
    /// The host's own id for this person: any string of 1–128 characters, stable for life.
    pub external_id: String,
    /// A short handle (defaults to `external_id` when the host has none).
    pub username: Option<String>,
    pub display_name: String,
}

/// A request's signed-in person and the session it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostSession {
    pub user: HostUser,
    /// The host's name for this session (not a secret: never the cookie itself), when it has
    /// sessions that can end. Realtime connections opened with it close when the host ends it
    /// ([`Chat::end_session`](super::Chat::end_session)) or when
    /// [`Identity::session_valid`] says it is over.
    pub session: Option<String>,
    /// When the session ends by itself; connections opened with it close then.
    pub expires_at: Option<DateTime<Utc>>,
}

/// The host could not answer (its store is down): the request fails with 503, never as
/// "signed out".
#[derive(Debug, Error)]
#[error("identity provider unavailable: {0}")]
pub struct IdentityError(pub String);

/// What the chat asks the host. Implementations are shared by every request (`Send + Sync`)
/// and should answer from the host's own store in a query or two.
#[async_trait]
pub trait Identity: Send + Sync + 'static {
    /// Who sent a request with these headers (the host's cookie, header or session store);
    /// `None` for a visitor.
    async fn authenticate(&self, headers: &HeaderMap)
        -> Result<Option<HostSession>, IdentityError>;

    /// Whether a session named by [`HostSession::session`] is still valid. Asked when a
    /// realtime connection starts, so a sign-out racing the upgrade is not missed.
    async fn session_valid(&self, session: &str) -> Result<bool, IdentityError>;

    /// The people `viewer` may start a conversation with, by display name; `query` narrows
    /// them by name when given. At most `limit`.
    async fn list_users(
        &self,
        viewer: &HostUser,
        query: Option<&str>,
        limit: usize,
    ) -> Result<Vec<HostUser>, IdentityError>;
}
