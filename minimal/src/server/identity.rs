//! The host's side of the chat's identity seam: a request is whoever its `minimal_session`
//! cookie names, and the people are the fixed list. Uses `sessions`, `people` and
//! `parley::server`'s identity types.

use async_trait::async_trait;
use axum::http::HeaderMap;
use parley::server::{HostSession, HostUser, Identity, IdentityError, UserSearch};

use super::sessions::Sessions;
use crate::people::{Person, PEOPLE};

/// A person as the chat sees them.
pub fn host_user(person: &Person) -> HostUser {
    HostUser {
        external_id: person.id.to_owned(),
        username: Some(person.id.to_owned()),
        display_name: person.name.to_owned(),
    }
}

#[async_trait]
impl Identity for Sessions {
    async fn authenticate(
        &self,
        headers: &HeaderMap,
    ) -> Result<Option<HostSession>, IdentityError> {
        Ok(self.find(headers).map(|session| HostSession {
            user: host_user(session.person),
            session: Some(session.name),
            expires_at: Some(session.expires_at),
        }))
    }

    async fn session_valid(&self, session: &str) -> Result<bool, IdentityError> {
        Ok(self.is_live(session))
    }

    async fn list_users(
        &self,
        viewer: &HostUser,
        search: UserSearch<'_>,
    ) -> Result<Vec<HostUser>, IdentityError> {
        let mut people: Vec<&Person> = PEOPLE
            .iter()
            .filter(|p| p.id != viewer.external_id && search.matches(p.name, Some(p.id)))
            .collect();
        people.sort_by_key(|p| (p.name.to_lowercase(), p.id));
        Ok(people
            .into_iter()
            .skip(search.offset)
            .take(search.limit)
            .map(host_user)
            .collect())
    }
}
