//! Finding people: a page of the host's people search ([`Identity::list_users`]) as chat users,
//! behind `/api/chat/users` and the `search_users` / `list_users` server functions. Uses the
//! identity seam, the viewer (`auth`), the state (its `upsert_users`), `error` and `model`.
//!
//! [`Identity::list_users`]: super::identity::Identity::list_users

use super::auth::Viewer;
use super::error::ServerError;
use super::identity::UserSearch;
use super::state::Chat;
use crate::model::{SearchText, User, UserPage, UserQuery, MAX_USER_PAGE, USER_PAGE};

/// A [`UserQuery`] checked: the text to find (none: everyone), and the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeopleQuery {
    pub text: Option<SearchText>,
    pub offset: u32,
    pub limit: u32,
}

impl PeopleQuery {
    /// The first page of everyone.
    pub fn everyone() -> Self {
        Self {
            text: None,
            offset: 0,
            limit: USER_PAGE,
        }
    }

    /// Checks a query as it came: a text of at most [`SearchText::MAX`] characters, a page
    /// size of 1–[`MAX_USER_PAGE`]; anything else is a 400 that says why.
    pub fn parse(query: &UserQuery) -> Result<Self, ServerError> {
        let text = match &query.q {
            Some(q) => SearchText::parse(q)?,
            None => None,
        };
        let limit = query.limit.unwrap_or(USER_PAGE);
        if !(1..=MAX_USER_PAGE).contains(&limit) {
            return Err(ServerError::BadRequest(format!(
                "limit must be between 1 and {MAX_USER_PAGE}."
            )));
        }
        Ok(Self {
            text,
            offset: query.offset.unwrap_or(0),
            limit,
        })
    }
}

/// One page of the people `viewer` may start a conversation with, as chat users (created or
/// renamed in `chat_users` on the way). The host is asked for one more than the page holds, to
/// tell whether more follow.
pub async fn search(
    state: &Chat,
    viewer: &Viewer,
    query: &PeopleQuery,
) -> Result<UserPage, ServerError> {
    // Widening: u32 fits usize on every target the server builds for.
    let (offset, limit) = (query.offset as usize, query.limit as usize);
    let search = UserSearch::new(
        query.text.as_ref().map(SearchText::as_str),
        offset,
        limit + 1,
    );
    let mut people = state.identity.list_users(&viewer.person, search).await?;
    // The contract leaves the viewer out; a host that forgets must not offer a chat with oneself.
    people.retain(|person| person.external_id != viewer.person.external_id);
    let more = people.len() > limit;
    people.truncate(limit);
    Ok(UserPage {
        users: state.upsert_users(&people).await?,
        more,
    })
}

/// The first page of everyone (the first version's whole list).
pub async fn first_page(state: &Chat, viewer: &Viewer) -> Result<Vec<User>, ServerError> {
    Ok(search(state, viewer, &PeopleQuery::everyone()).await?.users)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(
        q: Option<&str>,
        offset: Option<u32>,
        limit: Option<u32>,
    ) -> Result<PeopleQuery, String> {
        PeopleQuery::parse(&UserQuery {
            q: q.map(str::to_owned),
            offset,
            limit,
        })
        .map_err(|e| e.to_api().message)
    }

    #[test]
    fn defaults_are_the_first_page_of_everyone() {
        assert_eq!(parse(None, None, None), Ok(PeopleQuery::everyone()));
        assert_eq!(parse(Some("  "), None, None), Ok(PeopleQuery::everyone()));
    }

    #[test]
    fn bad_values_say_why() {
        assert_eq!(
            parse(None, None, Some(0)),
            Err("limit must be between 1 and 100.".to_owned())
        );
        assert!(parse(None, None, Some(101)).is_err());
        assert!(parse(None, Some(7), Some(100)).is_ok());
        assert!(parse(Some(&"x".repeat(101)), None, None).is_err());
        assert!(parse(Some("a\u{0}"), None, None).is_err());
    }
}
