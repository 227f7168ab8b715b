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

    /// One page of the people `viewer` may start a conversation with (see [`UserSearch`] for
    /// the contract: what matches, in which order, and that `viewer` is left out). The chat
    /// asks for one more than it shows, to know whether more follow.
    async fn list_users(
        &self,
        viewer: &HostUser,
        search: UserSearch<'_>,
    ) -> Result<Vec<HostUser>, IdentityError>;
}

/// What [`Identity::list_users`] is asked: a page of a search of the host's people.
///
/// The contract every host keeps, so pages follow on from each other:
/// - **Who**: everyone `viewer` may start a conversation with, **`viewer` left out** (the chat
///   drops them too if they come back, but the page is then one short).
/// - **Match**: with a `text`, people whose display name or username contains it, ignoring case
///   (`%` and `_` are plain characters, not wildcards: [`UserSearch::like_pattern`] escapes
///   them for SQL); without one, everyone.
/// - **Order**: by display name ignoring case, then a stable key of the host's (its id), so a
///   person is on exactly one page however many share a name.
/// - **Page**: skip `offset` people of that order, then at most `limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserSearch<'a> {
    /// The text to match: trimmed, never empty (`None` lists everyone).
    pub text: Option<&'a str>,
    /// How many people of the order to skip.
    pub offset: usize,
    /// Most people to answer with.
    pub limit: usize,
}

impl<'a> UserSearch<'a> {
    /// A search for `text` (trimmed; empty or blank means everyone).
    pub fn new(text: Option<&'a str>, offset: usize, limit: usize) -> Self {
        let text = text.map(str::trim).filter(|t| !t.is_empty());
        Self {
            text,
            offset,
            limit,
        }
    }

    /// Whether a person matches the text, for hosts that search in memory: their display name
    /// or username contains it, ignoring case.
    pub fn matches(&self, display_name: &str, username: Option<&str>) -> bool {
        let Some(text) = self.text else {
            return true;
        };
        let text = text.to_lowercase();
        display_name.to_lowercase().contains(&text)
            || username.is_some_and(|u| u.to_lowercase().contains(&text))
    }

    /// The text as a pattern for SQL's `LIKE`/`ILIKE` (default escape character `\`) that
    /// matches it anywhere, its `%`, `_` and `\` taken literally: `"50%_off"` becomes
    /// `"%50\%\_off%"`. `None` without a text.
    pub fn like_pattern(&self) -> Option<String> {
        self.text.map(|text| {
            let mut pattern = String::with_capacity(text.len() + 2);
            pattern.push('%');
            for c in text.chars() {
                if matches!(c, '%' | '_' | '\\') {
                    pattern.push('\\');
                }
                pattern.push(c);
            }
            pattern.push('%');
            pattern
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_is_trimmed_and_blank_means_everyone() {
        assert_eq!(UserSearch::new(Some("  ada "), 0, 10).text, Some("ada"));
        assert_eq!(UserSearch::new(Some("   "), 0, 10).text, None);
        assert_eq!(UserSearch::new(Some(""), 0, 10).text, None);
        assert_eq!(UserSearch::new(None, 0, 10).like_pattern(), None);
    }

    #[test]
    fn like_patterns_take_wildcards_and_the_escape_literally() {
        let pattern = |text| UserSearch::new(Some(text), 0, 1).like_pattern();
        assert_eq!(pattern("ada").as_deref(), Some("%ada%"));
        assert_eq!(pattern("50%_off").as_deref(), Some("%50\\%\\_off%"));
        assert_eq!(pattern("a\\b").as_deref(), Some("%a\\\\b%"));
        assert_eq!(pattern("%").as_deref(), Some("%\\%%"));
        assert_eq!(pattern("Zoë").as_deref(), Some("%Zoë%"));
    }

    #[test]
    fn in_memory_matches_display_name_or_username_ignoring_case() {
        let search = UserSearch::new(Some("LOVE"), 0, 1);
        assert!(search.matches("Ada Lovelace", Some("ada")));
        assert!(!search.matches("Grace Hopper", Some("grace")));
        let by_username = UserSearch::new(Some("Gra"), 0, 1);
        assert!(by_username.matches("Rear Admiral", Some("grace")));
        assert!(!by_username.matches("Rear Admiral", None));
        assert!(UserSearch::new(None, 0, 1).matches("Anyone", None));
        // Wildcards are plain characters here too.
        assert!(!UserSearch::new(Some("a_a"), 0, 1).matches("ada", None));
        assert!(UserSearch::new(Some("a_a"), 0, 1).matches("a_a", None));
    }
}
