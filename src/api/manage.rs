//! Server functions for conversations people manage (SPEC §7.2): members and roles, leaving,
//! renaming, muting, blocking and reporting. Each calls `server::manage`, as the JSON API does.
//! Endpoint names are prefixed `parley_` so a host's own server functions cannot collide.

use leptos::prelude::*;
use uuid::Uuid;

use crate::model::{ApiError, ChannelSummary, Member, MemberChange, Role};

/// A channel's members with their roles, longest-standing first (members only).
#[server(prefix = "/api/fn", endpoint = "parley_members")]
pub async fn channel_members(channel_id: Uuid) -> Result<Vec<Member>, ApiError> {
    use crate::server::{context, manage};
    context::respond(
        async {
            let me = context::require_user().await?;
            manage::members(&context::chat()?, &me, channel_id).await
        }
        .await,
    )
}

/// Adds and removes people in a group (owners and admins only); the channel as I now see it.
#[server(prefix = "/api/fn", endpoint = "parley_change_members")]
pub async fn change_members(
    channel_id: Uuid,
    change: MemberChange,
) -> Result<ChannelSummary, ApiError> {
    use crate::server::{context, manage};
    context::respond(
        async {
            let me = context::require_user().await?;
            let chat = context::chat()?;
            manage::change_members(&chat, manage::Actor::Person(&me), channel_id, change).await?;
            crate::server::chat::channel(&chat.pool, &me, channel_id).await
        }
        .await,
    )
}

/// Gives a member another role (owners only); the members afterwards.
#[server(prefix = "/api/fn", endpoint = "parley_set_role")]
pub async fn set_role(
    channel_id: Uuid,
    user_id: Uuid,
    role: Role,
) -> Result<Vec<Member>, ApiError> {
    use crate::server::{context, manage};
    context::respond(
        async {
            let me = context::require_user().await?;
            let chat = context::chat()?;
            manage::set_role(&chat, &me, channel_id, user_id, role).await?;
            manage::members(&chat, &me, channel_id).await
        }
        .await,
    )
}

/// Leaves a group (the last owner leaving hands ownership to the longest-standing member).
#[server(prefix = "/api/fn", endpoint = "parley_leave")]
pub async fn leave_channel(channel_id: Uuid) -> Result<(), ApiError> {
    use crate::server::{context, manage};
    context::respond(
        async {
            let me = context::require_user().await?;
            manage::leave(&context::chat()?, &me, channel_id).await
        }
        .await,
    )
}

/// Renames a group (owners and admins only).
#[server(prefix = "/api/fn", endpoint = "parley_rename")]
pub async fn rename_channel(channel_id: Uuid, name: String) -> Result<ChannelSummary, ApiError> {
    use crate::server::{context, manage};
    context::respond(
        async {
            let me = context::require_user().await?;
            let chat = context::chat()?;
            manage::rename(&chat, manage::Actor::Person(&me), channel_id, &name).await?;
            crate::server::chat::channel(&chat.pool, &me, channel_id).await
        }
        .await,
    )
}

/// Mutes or unmutes a conversation for me.
#[server(prefix = "/api/fn", endpoint = "parley_mute")]
pub async fn mute_channel(channel_id: Uuid, muted: bool) -> Result<ChannelSummary, ApiError> {
    use crate::server::{context, manage};
    context::respond(
        async {
            let me = context::require_user().await?;
            let chat = context::chat()?;
            manage::mute(&chat, &me, channel_id, muted).await?;
            crate::server::chat::channel(&chat.pool, &me, channel_id).await
        }
        .await,
    )
}

/// The people I block.
#[server(prefix = "/api/fn", endpoint = "parley_blocks")]
pub async fn blocked_users() -> Result<Vec<Uuid>, ApiError> {
    use crate::server::{context, manage};
    context::respond(
        async {
            let me = context::require_user().await?;
            manage::blocked(&context::chat()?, &me).await
        }
        .await,
    )
}

/// Blocks (`blocked: true`) or unblocks someone; the people I block afterwards.
#[server(prefix = "/api/fn", endpoint = "parley_block")]
pub async fn block_user(user_id: Uuid, blocked: bool) -> Result<Vec<Uuid>, ApiError> {
    use crate::server::{context, manage};
    context::respond(
        async {
            let me = context::require_user().await?;
            let chat = context::chat()?;
            manage::set_block(&chat, &me, user_id, blocked).await?;
            manage::blocked(&chat, &me).await
        }
        .await,
    )
}

/// Reports a message to the host's moderators, with a reason (1–1,000 characters).
#[server(prefix = "/api/fn", endpoint = "parley_report")]
pub async fn report_message(message_id: Uuid, reason: String) -> Result<(), ApiError> {
    use crate::server::{context, manage};
    context::respond(
        async {
            let me = context::require_user().await?;
            manage::report(&context::chat()?, &me, message_id, &reason)
                .await
                .map(|_| ())
        }
        .await,
    )
}
