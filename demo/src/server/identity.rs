//! The demo's side of the chat's identity seam: who a request is comes from the demo's own
//! session cookie and `demo_sessions` table; the people are its accounts.

use async_trait::async_trait;
use axum::http::HeaderMap;
use parley::server::{HostSession, HostUser, Identity, IdentityError, UserSearch};
use uuid::Uuid;

use super::accounts::{person, session_hash, session_name, Accounts};
use super::db;

fn unavailable(error: impl std::fmt::Display) -> IdentityError {
    IdentityError(error.to_string())
}

#[async_trait]
impl Identity for Accounts {
    async fn authenticate(
        &self,
        headers: &HeaderMap,
    ) -> Result<Option<HostSession>, IdentityError> {
        let Some(session) = self.session(headers).await.map_err(unavailable)? else {
            return Ok(None);
        };
        Ok(Some(HostSession {
            user: person(&session.account),
            session: Some(session_name(&session.token_hash)),
            expires_at: Some(session.expires_at),
        }))
    }

    async fn session_valid(&self, session: &str) -> Result<bool, IdentityError> {
        let Some(token_hash) = session_hash(session) else {
            return Ok(false);
        };
        db::session_is_live(&self.pool, &token_hash)
            .await
            .map_err(unavailable)
    }

    async fn list_users(
        &self,
        viewer: &HostUser,
        search: UserSearch<'_>,
    ) -> Result<Vec<HostUser>, IdentityError> {
        // The viewer's external id is their account id; one that is not a uuid names no
        // account, so nobody is left out.
        let viewer = Uuid::parse_str(&viewer.external_id).ok();
        let offset = i64::try_from(search.offset).unwrap_or(i64::MAX);
        let limit = i64::try_from(search.limit).unwrap_or(i64::MAX);
        Ok(db::search_accounts(
            &self.pool,
            viewer,
            search.like_pattern().as_deref(),
            offset,
            limit,
        )
        .await
        .map_err(unavailable)?
        .iter()
        .map(person)
        .collect())
    }
}
