//! Server functions about people: who is signed in (through the host's identity), and whom
//! they may start a conversation with.

use leptos::prelude::*;

use crate::model::{ApiError, User, UserPage};

/// The signed-in person as the chat knows them, or `None` for a visitor.
#[server(prefix = "/api/fn", endpoint = "current_user")]
pub async fn get_current_user() -> Result<Option<User>, ApiError> {
    use crate::server::context;
    context::respond(context::current_user().await)
}

/// The first page of the people the signed-in person may start a conversation with (from the
/// host), by display name: [`search_users`] with no text, without `more`.
#[server(prefix = "/api/fn", endpoint = "users")]
pub async fn list_users() -> Result<Vec<User>, ApiError> {
    use crate::server::{context, people};
    context::respond(
        async {
            let me = context::require_viewer().await?;
            people::first_page(&context::chat()?, &me).await
        }
        .await,
    )
}

/// A page of the people whose display name or username contains `query` (ignoring case; blank:
/// everyone), by display name, from `offset` on; `more` says whether more follow.
#[server(prefix = "/api/fn", endpoint = "parley_search_users")]
pub async fn search_users(query: String, offset: u32) -> Result<UserPage, ApiError> {
    use crate::model::UserQuery;
    use crate::server::context;
    use crate::server::people::{self, PeopleQuery};
    context::respond(
        async {
            let me = context::require_viewer().await?;
            let query = PeopleQuery::parse(&UserQuery {
                q: Some(query),
                offset: Some(offset),
                limit: None,
            })?;
            people::search(&context::chat()?, &me, &query).await
        }
        .await,
    )
}
