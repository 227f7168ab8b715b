//! Conversations people manage (SPEC §7.2): members and roles, leaving, renaming, muting,
//! blocking and reporting, and the host's moderation (deleting any message). A change to a
//! channel locks its row, takes its next change version (so a reconnecting client can replay
//! it, see `realtime::ws`), writes its system message ("Ann added Bob") with the channel's next
//! sequence, queues its webhook events and publishes one notice, all in one transaction.
//! Used by the server functions, the JSON API and the server API; uses `db`, `bus`, `store`,
//! `webhook` and `model`.

use uuid::Uuid;

use super::bus::Notice;
use super::db::{self, messages::message_view};
use super::error::ServerError;
use super::limits::Action;
use super::state::Chat;
use super::store;
use super::webhook::Event;
use crate::model::chat::MAX_MEMBERS;
use crate::model::{ChannelName, Member, MemberChange, Message, ReportReason, Role, User};

/// Who makes a change: a member (their role decides what they may do), or the host's backend
/// through the server API (trusted: anything a group allows).
#[derive(Clone, Copy)]
pub enum Actor<'a> {
    Person(&'a User),
    Host,
}

impl Actor<'_> {
    fn id(&self) -> Option<Uuid> {
        match self {
            Self::Person(user) => Some(user.id),
            Self::Host => None,
        }
    }
}

/// Names as a system message lists them: "Bob", "Bob and Carol", "Bob, Carol and Dan", and
/// past ten of them "…, Jo and 5 others", so the line stays short whatever the change.
fn listed(names: &[String]) -> String {
    const SHOWN: usize = 10;
    match names {
        [] => String::new(),
        [one] => one.clone(),
        _ if names.len() > SHOWN => format!(
            "{} and {} others",
            names[..SHOWN].join(", "),
            names.len() - SHOWN
        ),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// A channel's members with their roles, longest-standing first (for its members only).
pub async fn members(
    state: &Chat,
    me: &User,
    channel_id: Uuid,
) -> Result<Vec<Member>, ServerError> {
    if db::channels::role_of(&state.pool, channel_id, me.id)
        .await?
        .is_none()
    {
        return Err(ServerError::NotFound);
    }
    Ok(db::channels::members_with_roles(&state.pool, channel_id).await?)
}

/// Locks a group for a change by `actor`: its row (so changes of one channel take turns and
/// their versions follow commit order) and the actor's role (`None` for the host). Someone not
/// in the channel gets `NotFound`, whatever it is; a 1:1 has nothing to manage.
async fn lock_group(
    tx: &mut sqlx::PgConnection,
    channel_id: Uuid,
    actor: Actor<'_>,
) -> Result<Option<Role>, ServerError> {
    let kind = db::channels::lock_kind(&mut *tx, channel_id)
        .await?
        .ok_or(ServerError::NotFound)?;
    let role = match actor {
        Actor::Person(me) => Some(
            db::channels::role_of(&mut *tx, channel_id, me.id)
                .await?
                .ok_or(ServerError::NotFound)?,
        ),
        Actor::Host => None,
    };
    if kind != "group" {
        return Err(ServerError::BadRequest(
            "A 1:1 conversation has no members, name or roles to change.".into(),
        ));
    }
    Ok(role)
}

/// Adds and removes a group's members at once (owners and admins; an admin cannot remove an
/// owner). Who is already in (or already out) is left as is. Each side writes one system
/// message, every added and removed member a webhook event, and one notice tells every
/// instance: the removed stop receiving the channel at once (`channel_removed`, their streams
/// of it end), the added get `channel_added` with its history, every member
/// `channel_updated`.
pub async fn change_members(
    state: &Chat,
    actor: Actor<'_>,
    channel_id: Uuid,
    change: MemberChange,
) -> Result<(), ServerError> {
    let MemberChange {
        mut add,
        mut remove,
    } = change;
    add.sort_unstable();
    add.dedup();
    remove.sort_unstable();
    remove.dedup();
    if add.iter().any(|user| remove.binary_search(user).is_ok()) {
        return Err(ServerError::BadRequest(
            "Nobody can be added and removed at once.".into(),
        ));
    }
    if add.len() + remove.len() > MAX_MEMBERS {
        return Err(ServerError::BadRequest(format!(
            "At most {MAX_MEMBERS} members can change at once."
        )));
    }
    if let Some(me) = actor.id() {
        if remove.contains(&me) {
            return Err(ServerError::BadRequest(
                "To leave a conversation, leave it; you cannot remove yourself.".into(),
            ));
        }
        state.limits.check(Action::Edit, me)?;
    }
    if db::users::count_existing(&state.pool, &add).await? != add.len() as i64 {
        return Err(ServerError::BadRequest(
            "Some of those people do not exist.".into(),
        ));
    }
    let mut tx = state.pool.begin().await?;
    let role = lock_group(&mut tx, channel_id, actor).await?;
    if let Some(role) = role {
        if !role.manages() {
            return Err(ServerError::Forbidden(
                "Only the group's owners and admins can add or remove people.",
            ));
        }
        if role == Role::Admin {
            for user in &remove {
                if db::channels::role_of(&mut *tx, channel_id, *user).await? == Some(Role::Owner) {
                    return Err(ServerError::Forbidden("Only an owner can remove an owner."));
                }
            }
        }
    }
    let added = db::channels::join(&mut tx, channel_id, &add).await?;
    let removed = db::channels::leave(&mut tx, channel_id, &remove).await?;
    if added.is_empty() && removed.is_empty() {
        return Ok(());
    }
    // The creator plus MAX_MEMBERS others, as at creation.
    if db::channels::member_count(&mut *tx, channel_id).await? > MAX_MEMBERS as i64 + 1 {
        return Err(ServerError::BadRequest(format!(
            "A channel can have at most {MAX_MEMBERS} other members."
        )));
    }
    // The host may remove the last owner: the longest-standing member takes over.
    db::channels::hand_over_ownership(&mut tx, channel_id).await?;
    let version = next_meta_version(&mut tx, channel_id).await?;
    let events: Vec<Event> = added
        .iter()
        .map(|&user_id| Event::MemberAdded {
            channel_id,
            user_id,
        })
        .chain(removed.iter().map(|&user_id| Event::MemberRemoved {
            channel_id,
            user_id,
        }))
        .collect();
    state.outbox.record(&mut *tx, &events).await?;
    // The notice before the system messages: every instance learns who is in before it
    // delivers "Ann added Bob", so Bob gets that line and nobody removed does.
    Notice::Members {
        c: channel_id,
        added: added.clone(),
        removed: removed.clone(),
        v: version,
    }
    .publish(&mut *tx)
    .await?;
    let by = match actor {
        Actor::Person(me) => Some(me.display_name.as_str()),
        Actor::Host => None,
    };
    if !added.is_empty() {
        let names = listed(&db::users::display_names(&mut *tx, &added).await?);
        let line = match by {
            Some(me) => format!("{me} added {names}"),
            None => format!("{names} joined"),
        };
        store::system_message_in(&mut tx, &state.outbox, channel_id, &line).await?;
    }
    if !removed.is_empty() {
        let names = listed(&db::users::display_names(&mut *tx, &removed).await?);
        let line = match by {
            Some(me) => format!("{me} removed {names}"),
            None => format!("{names} left"),
        };
        store::system_message_in(&mut tx, &state.outbox, channel_id, &line).await?;
    }
    tx.commit().await?;
    state.outbox.wake();
    tracing::info!(%channel_id, added = added.len(), removed = removed.len(), "members changed");
    Ok(())
}

async fn next_meta_version(
    tx: &mut sqlx::PgConnection,
    channel_id: Uuid,
) -> Result<i64, ServerError> {
    db::channels::next_version(&mut *tx, channel_id, true)
        .await?
        .ok_or(ServerError::NotFound)
}

/// Leaves a group. The last owner leaving hands ownership to the longest-standing member.
pub async fn leave(state: &Chat, me: &User, channel_id: Uuid) -> Result<(), ServerError> {
    state.limits.check(Action::Edit, me.id)?;
    let mut tx = state.pool.begin().await?;
    lock_group(&mut tx, channel_id, Actor::Person(me)).await?;
    let removed = db::channels::leave(&mut tx, channel_id, &[me.id]).await?;
    if let Some(owner) = db::channels::hand_over_ownership(&mut tx, channel_id).await? {
        tracing::info!(%channel_id, %owner, "ownership handed over");
    }
    let version = next_meta_version(&mut tx, channel_id).await?;
    state
        .outbox
        .record(
            &mut *tx,
            &[Event::MemberRemoved {
                channel_id,
                user_id: me.id,
            }],
        )
        .await?;
    Notice::Members {
        c: channel_id,
        added: Vec::new(),
        removed,
        v: version,
    }
    .publish(&mut *tx)
    .await?;
    let line = format!("{} left", me.display_name);
    store::system_message_in(&mut tx, &state.outbox, channel_id, &line).await?;
    tx.commit().await?;
    state.outbox.wake();
    Ok(())
}

/// Renames a group (owners and admins, or the host).
pub async fn rename(
    state: &Chat,
    actor: Actor<'_>,
    channel_id: Uuid,
    name: &str,
) -> Result<(), ServerError> {
    let name = ChannelName::parse(name)?;
    if let Some(me) = actor.id() {
        state.limits.check(Action::Edit, me)?;
    }
    let mut tx = state.pool.begin().await?;
    if let Some(role) = lock_group(&mut tx, channel_id, actor).await? {
        if !role.manages() {
            return Err(ServerError::Forbidden(
                "Only the group's owners and admins can rename it.",
            ));
        }
    }
    db::channels::rename(&mut *tx, channel_id, name.as_str()).await?;
    let version = next_meta_version(&mut tx, channel_id).await?;
    state
        .outbox
        .record(
            &mut *tx,
            &[Event::ChannelUpdated {
                channel_id,
                name: Some(name.as_str().to_owned()),
                by: actor.id(),
            }],
        )
        .await?;
    Notice::Members {
        c: channel_id,
        added: Vec::new(),
        removed: Vec::new(),
        v: version,
    }
    .publish(&mut *tx)
    .await?;
    let line = match actor {
        Actor::Person(me) => format!("{} renamed the group to {}", me.display_name, name.as_str()),
        Actor::Host => format!("The group was renamed to {}", name.as_str()),
    };
    store::system_message_in(&mut tx, &state.outbox, channel_id, &line).await?;
    tx.commit().await?;
    state.outbox.wake();
    Ok(())
}

/// Gives a member another role (owners only; a group keeps at least one owner).
pub async fn set_role(
    state: &Chat,
    me: &User,
    channel_id: Uuid,
    user_id: Uuid,
    role: Role,
) -> Result<(), ServerError> {
    state.limits.check(Action::Edit, me.id)?;
    let mut tx = state.pool.begin().await?;
    if lock_group(&mut tx, channel_id, Actor::Person(me)).await? != Some(Role::Owner) {
        return Err(ServerError::Forbidden("Only an owner can change roles."));
    }
    let current = db::channels::role_of(&mut *tx, channel_id, user_id)
        .await?
        .ok_or_else(|| ServerError::BadRequest("That person is not a member.".into()))?;
    if current == role {
        return Ok(());
    }
    if current == Role::Owner && db::channels::owner_count(&mut *tx, channel_id).await? <= 1 {
        return Err(ServerError::BadRequest(
            "A group keeps at least one owner: make someone else owner first.".into(),
        ));
    }
    db::channels::set_role(&mut *tx, channel_id, user_id, role).await?;
    let version = next_meta_version(&mut tx, channel_id).await?;
    Notice::Members {
        c: channel_id,
        added: Vec::new(),
        removed: Vec::new(),
        v: version,
    }
    .publish(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Mutes or unmutes a conversation for me; my tabs get its new `channel_state`.
pub async fn mute(
    state: &Chat,
    me: &User,
    channel_id: Uuid,
    muted: bool,
) -> Result<(), ServerError> {
    state.limits.check(Action::Edit, me.id)?;
    let mut tx = state.pool.begin().await?;
    if !db::channels::set_muted(&mut *tx, channel_id, me.id, muted).await? {
        return Err(ServerError::NotFound);
    }
    Notice::Read {
        c: channel_id,
        u: me.id,
    }
    .publish(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The people I block.
pub async fn blocked(state: &Chat, me: &User) -> Result<Vec<Uuid>, ServerError> {
    Ok(db::blocks::blocked_by(&state.pool, me.id).await?)
}

/// Blocks or unblocks someone. Either way round a block stops a new 1:1, sends into theirs
/// (`blocked`) and each other's presence and typing; shared groups still work.
pub async fn set_block(
    state: &Chat,
    me: &User,
    other: Uuid,
    blocked: bool,
) -> Result<(), ServerError> {
    if other == me.id {
        return Err(ServerError::BadRequest("You cannot block yourself.".into()));
    }
    state.limits.check(Action::Edit, me.id)?;
    if db::users::find(&state.pool, other).await?.is_none() {
        return Err(ServerError::NotFound);
    }
    let mut tx = state.pool.begin().await?;
    let changed = if blocked {
        db::blocks::add(&mut *tx, me.id, other).await?
    } else {
        db::blocks::remove(&mut *tx, me.id, other).await?
    };
    if changed {
        Notice::Blocks { u: me.id, o: other }
            .publish(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Reports a message of someone else's to the host's moderators (one report per person per
/// message: a second replaces the reason). Stored, and sent as a `message.reported` webhook.
pub async fn report(
    state: &Chat,
    me: &User,
    message_id: Uuid,
    reason: &str,
) -> Result<Uuid, ServerError> {
    let reason = ReportReason::parse(reason)?;
    state.limits.check(Action::Edit, me.id)?;
    let row = db::messages::find(&state.pool, message_id)
        .await?
        .ok_or(ServerError::NotFound)?;
    if db::channels::role_of(&state.pool, row.channel_id, me.id)
        .await?
        .is_none()
        || row.deleted
    {
        return Err(ServerError::NotFound);
    }
    if row.user_id == Some(me.id) {
        return Err(ServerError::BadRequest(
            "You cannot report your own message.".into(),
        ));
    }
    let mut tx = state.pool.begin().await?;
    let report_id =
        db::reports::upsert(&mut *tx, row.id, row.channel_id, me.id, reason.as_str()).await?;
    state
        .outbox
        .record(
            &mut *tx,
            &[Event::MessageReported {
                report_id,
                reporter: me.id,
                reason: reason.as_str().to_owned(),
                message: message_view(row),
            }],
        )
        .await?;
    tx.commit().await?;
    state.outbox.wake();
    tracing::info!(%report_id, %message_id, "message reported");
    Ok(report_id)
}

/// The host's moderator deletes any message (shown as "Message deleted" to everyone, live).
/// Deleting a deleted message changes nothing and answers it as it is.
pub async fn delete_any(state: &Chat, message_id: Uuid) -> Result<Message, ServerError> {
    let row = db::messages::find(&state.pool, message_id)
        .await?
        .ok_or(ServerError::NotFound)?;
    if row.deleted {
        return Ok(message_view(row));
    }
    super::chat::soft_delete(state, row.channel_id, message_id).await
}

#[cfg(test)]
mod tests {
    use super::listed;

    #[test]
    fn names_read_as_a_sentence() {
        let names = |n: usize| (1..=n).map(|i| format!("P{i}")).collect::<Vec<_>>();
        assert_eq!(listed(&names(1)), "P1");
        assert_eq!(listed(&names(2)), "P1 and P2");
        assert_eq!(listed(&names(3)), "P1, P2 and P3");
        assert_eq!(
            listed(&names(12)),
            "P1, P2, P3, P4, P5, P6, P7, P8, P9, P10 and 2 others"
        );
    }
}
