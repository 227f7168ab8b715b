//! Chat server functions: channels, history, messages, read state and search for the signed-in user.

use leptos::prelude::*;
use uuid::Uuid;

use crate::model::{
    ApiError, ChannelCursor, ChannelPage, ChannelSummary, HistoryPage, Message, NewChannel,
    NewMessage, SearchPage,
};

/// A page of my channels, newest activity first, with unread counts: the first page, or the
/// one after `after`.
#[server(prefix = "/api/fn", endpoint = "channels")]
pub async fn list_channels(after: Option<ChannelCursor>) -> Result<ChannelPage, ApiError> {
    use crate::server::{chat, context};
    context::respond(
        async {
            let me = context::require_user().await?;
            chat::channel_page(&context::chat()?.pool, &me, after).await
        }
        .await,
    )
}

/// One of my channels.
#[server(prefix = "/api/fn", endpoint = "channel")]
pub async fn get_channel(channel_id: Uuid) -> Result<ChannelSummary, ApiError> {
    use crate::server::{chat, context};
    context::respond(
        async {
            let me = context::require_user().await?;
            chat::channel(&context::chat()?.pool, &me, channel_id).await
        }
        .await,
    )
}

/// Creates a group, or creates-or-gets the 1:1 channel with one other person.
#[server(prefix = "/api/fn", endpoint = "create_channel")]
pub async fn create_channel(input: NewChannel) -> Result<ChannelSummary, ApiError> {
    use crate::server::{chat, context};
    context::respond(
        async {
            let me = context::require_user().await?;
            Ok(chat::create_channel(&context::chat()?, &me, &input)
                .await?
                .0)
        }
        .await,
    )
}

/// A page of history, oldest first: before sequence `before`, after `after` or around
/// `around` (at most one; none: the newest page).
#[server(prefix = "/api/fn", endpoint = "history")]
pub async fn load_history(
    channel_id: Uuid,
    before: Option<i64>,
    after: Option<i64>,
    around: Option<i64>,
) -> Result<HistoryPage, ApiError> {
    use crate::model::HistoryQuery;
    use crate::server::{chat, context};
    context::respond(
        async {
            let me = context::require_user().await?;
            let query = HistoryQuery {
                before,
                after,
                around,
                limit: None,
            };
            chat::history(&context::chat()?.pool, &me, channel_id, &query).await
        }
        .await,
    )
}

/// The messages I may read that match `q`, newest first (older ones `before` a result's id).
#[server(prefix = "/api/fn", endpoint = "search")]
pub async fn search_messages(q: String, before: Option<Uuid>) -> Result<SearchPage, ApiError> {
    use crate::model::SearchQuery;
    use crate::server::limits::Action;
    use crate::server::{context, search};
    context::respond(
        async {
            let me = context::require_user().await?;
            let chat = context::chat()?;
            chat.limits.check(Action::Search, me.id)?;
            let query = SearchQuery {
                q,
                before,
                limit: None,
            };
            search::search(&chat.pool, me.id, &query).await
        }
        .await,
    )
}

/// Sends a message; retrying with the same id returns the stored message.
#[server(prefix = "/api/fn", endpoint = "send")]
pub async fn send_message(input: NewMessage) -> Result<Message, ApiError> {
    use crate::server::{chat, context};
    context::respond(
        async {
            let me = context::require_user().await?;
            chat::send(&context::chat()?, &me, &input).await
        }
        .await,
    )
}

/// Replaces the text of my own message.
#[server(prefix = "/api/fn", endpoint = "edit")]
pub async fn edit_message(id: Uuid, text: String) -> Result<Message, ApiError> {
    use crate::server::{chat, context};
    context::respond(
        async {
            let me = context::require_user().await?;
            chat::edit(&context::chat()?, &me, id, &text).await
        }
        .await,
    )
}

/// Deletes my own message (it shows as "Message deleted" to everyone).
#[server(prefix = "/api/fn", endpoint = "delete")]
pub async fn delete_message(id: Uuid) -> Result<Message, ApiError> {
    use crate::server::{chat, context};
    context::respond(
        async {
            let me = context::require_user().await?;
            chat::delete(&context::chat()?, &me, id).await
        }
        .await,
    )
}

/// Marks a channel read up to `seq` (the newest message when absent).
#[server(prefix = "/api/fn", endpoint = "read")]
pub async fn mark_read(channel_id: Uuid, seq: Option<i64>) -> Result<ChannelSummary, ApiError> {
    use crate::server::{chat, context};
    context::respond(
        async {
            let me = context::require_user().await?;
            chat::mark_read(&context::chat()?, &me, channel_id, seq).await
        }
        .await,
    )
}

/// Unread messages across all my channels (for a host app's badge).
#[server(prefix = "/api/fn", endpoint = "unread")]
pub async fn unread_count() -> Result<i64, ApiError> {
    use crate::server::{chat, context};
    context::respond(
        async {
            let me = context::require_user().await?;
            chat::unread_total(&context::chat()?.pool, &me, None).await
        }
        .await,
    )
}

/// Unread messages in my channels after `after` in the list (those the sidebar has not loaded).
#[server(prefix = "/api/fn", endpoint = "unread_after")]
pub async fn unread_after(after: ChannelCursor) -> Result<i64, ApiError> {
    use crate::server::{chat, context};
    context::respond(
        async {
            let me = context::require_user().await?;
            chat::unread_total(&context::chat()?.pool, &me, Some(after)).await
        }
        .await,
    )
}
