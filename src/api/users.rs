//! Server functions about people: who is signed in (through the host's identity), and whom
//! they may start a conversation with.

use leptos::prelude::*;

use crate::model::{ApiError, User};

/// The signed-in person as the chat knows them, or `None` for a visitor.
#[server(prefix = "/api/fn", endpoint = "current_user")]
pub async fn get_current_user() -> Result<Option<User>, ApiError> {
    use crate::server::context;
    context::respond(context::current_user().await)
}

/// The people the signed-in person may start a conversation with (from the host), by name.
#[server(prefix = "/api/fn", endpoint = "users")]
pub async fn list_users() -> Result<Vec<User>, ApiError> {
    use crate::server::{chat, context};
    context::respond(
        async {
            let me = context::require_viewer().await?;
            chat::list_users(&context::chat()?, &me).await
        }
        .await,
    )
}
