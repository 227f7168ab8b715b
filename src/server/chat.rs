//! The chat's server logic, behind both the server functions and the JSON API: channels,
//! history, sending, editing, deleting and read state. The caller is always the session's user;
//! a channel the caller is not a member of does not exist for them (`NotFound`).

use sqlx::PgPool;
use uuid::Uuid;

use super::attachments;
use super::bus::Notice;
use super::db;
use super::error::ServerError;
use super::limits::Action;
use super::state::Chat;
use super::store::Draft;
use super::webhook::Event;
use crate::model::chat::is_reaction;
use crate::model::chat::{CHANNEL_PAGE, MAX_CHANNEL_PAGE, MAX_MEMBERS, MAX_PAGE};
use crate::model::{
    ChannelCursor, ChannelKind, ChannelName, ChannelPage, ChannelQuery, ChannelSummary,
    HistoryPage, HistoryQuery, Message, MessageText, NewChannel, NewMessage, User, REACTIONS,
};

/// Creates (or, for an existing 1:1, reuses) a channel; the flag tells whether it is new.
pub async fn create_channel(
    state: &Chat,
    me: &User,
    input: &NewChannel,
) -> Result<(ChannelSummary, bool), ServerError> {
    let wanted = WantedChannel::parse(me, input)?;
    state.limits.check(Action::CreateChannel, me.id)?;
    store_channel(state, me, wanted).await
}

/// [`create_channel`] for the host's backend (the server API), on behalf of `creator`: the
/// same rules, but not the per-person rate limit.
pub async fn create_channel_for(
    state: &Chat,
    creator: &User,
    input: &NewChannel,
) -> Result<(ChannelSummary, bool), ServerError> {
    let wanted = WantedChannel::parse(creator, input)?;
    store_channel(state, creator, wanted).await
}

/// A channel someone asked for, checked: the other members (sorted, each once, at least one,
/// at most [`MAX_MEMBERS`]) and the group's name.
struct WantedChannel {
    others: Vec<Uuid>,
    name: Option<ChannelName>,
}

impl WantedChannel {
    fn parse(me: &User, input: &NewChannel) -> Result<Self, ServerError> {
        let mut others: Vec<Uuid> = input
            .members
            .iter()
            .copied()
            .filter(|id| *id != me.id)
            .collect();
        others.sort_unstable();
        let listed = others.len();
        others.dedup();
        if others.len() != listed {
            return Err(ServerError::BadRequest(
                "Each member may be listed only once.".into(),
            ));
        }
        if others.is_empty() {
            return Err(ServerError::BadRequest(
                "Choose at least one other person.".into(),
            ));
        }
        if others.len() > MAX_MEMBERS {
            return Err(ServerError::BadRequest(format!(
                "A channel can have at most {MAX_MEMBERS} other members."
            )));
        }
        let name = match input.name.as_deref() {
            Some(raw) if !raw.trim().is_empty() => Some(ChannelName::parse(raw)?),
            _ => None,
        };
        Ok(Self { others, name })
    }
}

async fn store_channel(
    state: &Chat,
    me: &User,
    WantedChannel { others, name }: WantedChannel,
) -> Result<(ChannelSummary, bool), ServerError> {
    let pool = &state.pool;
    if db::users::count_existing(pool, &others).await? != others.len() as i64 {
        return Err(ServerError::BadRequest(
            "Some of those people do not exist.".into(),
        ));
    }

    let mut tx = pool.begin().await?;
    let (id, kind, members, created) = match (others.as_slice(), &name) {
        ([other], None) => {
            let (low, high) = if me.id < *other {
                (me.id, *other)
            } else {
                (*other, me.id)
            };
            let members = [me.id, *other];
            let dm_key = format!("{low}:{high}");
            // Blocked either way: the existing 1:1 still opens (its history stays readable),
            // a new one is never made.
            if db::blocks::either_way(&mut *tx, me.id, *other).await? {
                let existing = db::channels::dm_by_key(&mut *tx, &dm_key).await?;
                tx.rollback().await?;
                let id = existing.ok_or(ServerError::Blocked)?;
                return Ok((channel(pool, me, id).await?, false));
            }
            let (id, created) = db::channels::create_or_get_dm(&mut tx, &dm_key, members).await?;
            (id, ChannelKind::Dm, members.to_vec(), created)
        }
        _ => {
            let mut members = others;
            members.push(me.id);
            let id = db::channels::create_group(
                &mut tx,
                name.as_ref().map(ChannelName::as_str),
                &members,
                me.id,
            )
            .await?;
            (id, ChannelKind::Group, members, true)
        }
    };
    if created {
        let event = Event::ChannelCreated {
            id,
            kind,
            name: name.map(|n| n.as_str().to_owned()),
            members,
            created_by: me.id,
        };
        state.outbox.record(&mut *tx, &[event]).await?;
        Notice::Channel { c: id }.publish(&mut *tx).await?;
    }
    tx.commit().await?;
    if created {
        state.outbox.wake();
        tracing::info!(channel_id = %id, user_id = %me.id, "channel created");
    }
    Ok((channel(pool, me, id).await?, created))
}

/// One channel as `me` sees it.
pub async fn channel(
    pool: &PgPool,
    me: &User,
    channel_id: Uuid,
) -> Result<ChannelSummary, ServerError> {
    db::channels::summaries(pool, me.id, Some(channel_id), None, 1)
        .await?
        .pop()
        .ok_or(ServerError::NotFound)
}

/// A page of `me`'s channels, newest activity first (the JSON API's list).
pub async fn channels(
    pool: &PgPool,
    me: &User,
    query: &ChannelQuery,
) -> Result<Vec<ChannelSummary>, ServerError> {
    let after = match (query.before_at, query.before_id) {
        (Some(before_at), Some(before_id)) => Some(ChannelCursor {
            before_at,
            before_id,
        }),
        (None, None) => None,
        _ => {
            return Err(ServerError::BadRequest(
                "before_at and before_id go together.".into(),
            ))
        }
    };
    let limit = query
        .limit
        .unwrap_or(CHANNEL_PAGE)
        .clamp(1, MAX_CHANNEL_PAGE);
    Ok(db::channels::summaries(pool, me.id, None, after, limit).await?)
}

/// A page of `me`'s channels as the sidebar loads it: whether more follow, and how many unread
/// messages those hold (counted only when there are more).
pub async fn channel_page(
    pool: &PgPool,
    me: &User,
    after: Option<ChannelCursor>,
) -> Result<ChannelPage, ServerError> {
    let (channels, more) = db::page_of(
        db::channels::summaries(pool, me.id, None, after, CHANNEL_PAGE + 1).await?,
        CHANNEL_PAGE,
    );
    let unread_after = match channels.last() {
        Some(last) if more => db::channels::unread_total(pool, me.id, Some(last.cursor())).await?,
        _ => 0,
    };
    Ok(ChannelPage {
        channels,
        more,
        unread_after,
    })
}

async fn require_member(pool: &PgPool, me: &User, channel_id: Uuid) -> Result<(), ServerError> {
    if db::channels::is_member(pool, channel_id, me.id).await? {
        Ok(())
    } else {
        Err(ServerError::NotFound)
    }
}

/// A page of history, oldest first: up to `limit` (≤ 100, 50 when absent) messages before
/// `before`, after `after`, or around `around` (at most one of them; none: the newest page).
pub async fn history(
    pool: &PgPool,
    me: &User,
    channel_id: Uuid,
    query: &HistoryQuery,
) -> Result<HistoryPage, ServerError> {
    let limit = query.limit.unwrap_or(50).clamp(1, MAX_PAGE);
    let asked = [query.before, query.after, query.around];
    if asked.iter().flatten().count() > 1 {
        return Err(ServerError::BadRequest(
            "at most one of before, after and around".into(),
        ));
    }
    // The membership check reads the change version too, before the page: a resume from it
    // replays any change the page might not show.
    let version = db::channels::standings_for_member(pool, me.id, &[channel_id])
        .await?
        .pop()
        .ok_or(ServerError::NotFound)?
        .version;
    let (rows, has_more, has_newer) = match (query.after, query.around) {
        (Some(after), _) => {
            let (rows, has_newer) = db::page_of(
                db::messages::page_from(pool, channel_id, after.saturating_add(1), limit + 1)
                    .await?,
                limit,
            );
            // Whether anything precedes it: `after` itself, when there is a message at all.
            (rows, after > 0, has_newer)
        }
        (None, Some(around)) => {
            let older = limit / 2;
            let (mut before, has_more) = db::page_of(
                db::messages::page_before(pool, channel_id, around, older + 1).await?,
                older,
            );
            before.reverse();
            let newer = limit - before.len() as i64;
            let (rows, has_newer) = db::page_of(
                db::messages::page_from(pool, channel_id, around, newer + 1).await?,
                newer,
            );
            before.extend(rows);
            (before, has_more, has_newer)
        }
        (None, None) => {
            let before = query.before.unwrap_or(i64::MAX);
            let (mut rows, has_more) = db::page_of(
                db::messages::page_before(pool, channel_id, before, limit + 1).await?,
                limit,
            );
            rows.reverse();
            (rows, has_more, false)
        }
    };
    let messages = db::messages::views(pool, rows).await?;
    Ok(HistoryPage {
        messages,
        has_more,
        has_newer,
        version,
    })
}

/// Stores a message exactly once (a retry with the same id returns the stored message) through
/// the group-commit writer, which also publishes it.
/// Files named in `attachments` are attached in the same commit (see [`attachments::check_for_send`]).
pub async fn send(state: &Chat, me: &User, input: &NewMessage) -> Result<Message, ServerError> {
    let text = MessageText::parse_with_attachments(&input.text, input.attachments.len())?;
    state.limits.send(me.id)?;
    if let Some(original) = input.reply_to {
        check_reply(&state.pool, input.channel_id, original).await?;
    }
    let id = input.id.unwrap_or_else(Uuid::new_v4);
    let attachments =
        attachments::check_for_send(&state.pool, me.id, input.channel_id, id, &input.attachments)
            .await?;
    let writer = &state.realtime.writer;
    writer
        .send(Draft {
            id,
            channel_id: input.channel_id,
            user_id: me.id,
            text,
            reply_to: input.reply_to,
            attachments,
        })
        .await
}

/// A reply quotes a message of its own channel that is not deleted (a query only for
/// replies; the writer checks the sender is a member).
pub async fn check_reply(
    pool: &PgPool,
    channel_id: Uuid,
    original: Uuid,
) -> Result<(), ServerError> {
    match db::messages::find(pool, original).await? {
        Some(row) if row.channel_id == channel_id && !row.deleted => Ok(()),
        _ => Err(ServerError::BadRequest(
            "A reply must quote a message of the same conversation that is not deleted.".into(),
        )),
    }
}

/// Sets my reaction `emoji` (one of [`REACTIONS`]) on a message of a channel I am in, on or
/// off. Idempotent: only a change takes the channel's next change version (stamped on the
/// message, so a reconnecting client replays it), reaches every member as `message_updated`
/// and is queued as a `reaction.new` / `reaction.deleted` webhook event in its transaction.
/// Returns the message with its reactions as they are now.
pub async fn react(
    state: &Chat,
    me: &User,
    message_id: Uuid,
    emoji: &str,
    on: bool,
) -> Result<Message, ServerError> {
    if !is_reaction(emoji) {
        return Err(ServerError::BadRequest(format!(
            "That reaction is not offered; choose one of {}.",
            REACTIONS.join(" ")
        )));
    }
    state.limits.check(Action::Edit, me.id)?;
    let pool = &state.pool;
    let row = db::messages::find(pool, message_id)
        .await?
        .ok_or(ServerError::NotFound)?;
    require_member(pool, me, row.channel_id).await?;
    if row.deleted {
        return Err(ServerError::BadRequest(
            "That message was deleted: it takes no reactions.".into(),
        ));
    }
    let mut tx = pool.begin().await?;
    if db::messages::set_reaction(&mut tx, message_id, me.id, emoji, on).await? {
        let version = next_version(&mut tx, row.channel_id).await?;
        db::messages::stamp_version(&mut *tx, message_id, version).await?;
        Notice::Updated {
            c: row.channel_id,
            id: message_id,
            v: version,
        }
        .publish(&mut *tx)
        .await?;
        let event = Event::Reaction {
            added: on,
            message_id,
            channel_id: row.channel_id,
            user_id: me.id,
            emoji: emoji.to_owned(),
        };
        state.outbox.record(&mut *tx, &[event]).await?;
        tx.commit().await?;
        state.outbox.wake();
    } else {
        tx.rollback().await?;
    }
    let row = db::messages::find(pool, message_id)
        .await?
        .ok_or(ServerError::NotFound)?;
    Ok(db::messages::view(pool, row).await?)
}

/// The author's own message, or why not.
async fn own_message(
    pool: &PgPool,
    me: &User,
    id: Uuid,
) -> Result<db::messages::MessageRow, ServerError> {
    let row = db::messages::find(pool, id)
        .await?
        .ok_or(ServerError::NotFound)?;
    require_member(pool, me, row.channel_id).await?;
    if row.user_id != Some(me.id) {
        return Err(ServerError::Forbidden(
            "Only the author can change this message.",
        ));
    }
    if row.deleted {
        return Err(ServerError::NotFound);
    }
    Ok(row)
}

pub async fn edit(state: &Chat, me: &User, id: Uuid, text: &str) -> Result<Message, ServerError> {
    let pool = &state.pool;
    let text = MessageText::parse(text)?;
    state.limits.check(Action::Edit, me.id)?;
    let channel_id = own_message(pool, me, id).await?.channel_id;
    let mut tx = pool.begin().await?;
    let version = next_version(&mut tx, channel_id).await?;
    let row = db::messages::edit(&mut *tx, id, text.as_str(), version)
        .await?
        .ok_or(ServerError::NotFound)?;
    updated(state, tx, row).await
}

pub async fn delete(state: &Chat, me: &User, id: Uuid) -> Result<Message, ServerError> {
    state.limits.check(Action::Edit, me.id)?;
    let channel_id = own_message(&state.pool, me, id).await?.channel_id;
    soft_delete(state, channel_id, id).await
}

/// Deletes a message of `channel_id` (the caller has checked who may), taking the channel's
/// next change version. Its attachments go with it: their rows now, their bytes at the next
/// sweep (`attachments::sweep`).
pub(super) async fn soft_delete(
    state: &Chat,
    channel_id: Uuid,
    id: Uuid,
) -> Result<Message, ServerError> {
    let mut tx = state.pool.begin().await?;
    let version = next_version(&mut tx, channel_id).await?;
    let row = db::messages::soft_delete(&mut *tx, id, version)
        .await?
        .ok_or(ServerError::NotFound)?;
    db::attachments::delete_of_message(&mut *tx, id).await?;
    updated(state, tx, row).await
}

/// The channel's next change version, its row locked until the change commits.
async fn next_version(tx: &mut sqlx::PgConnection, channel_id: Uuid) -> Result<i64, ServerError> {
    db::channels::next_version(&mut *tx, channel_id, false)
        .await?
        .ok_or(ServerError::NotFound)
}

/// Publishes a changed message (and queues its webhook event), and commits the change.
async fn updated(
    state: &Chat,
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    row: db::messages::MessageRow,
) -> Result<Message, ServerError> {
    Notice::Updated {
        c: row.channel_id,
        id: row.id,
        v: row.version,
    }
    .publish(&mut *tx)
    .await?;
    state
        .outbox
        .record(&mut *tx, &[Event::MessageUpdated(row.clone())])
        .await?;
    tx.commit().await?;
    state.outbox.wake();
    Ok(db::messages::view(&state.pool, row).await?)
}

/// Marks the channel read up to `seq` (the newest message when absent); returns the channel
/// with its new read state.
pub async fn mark_read(
    state: &Chat,
    me: &User,
    channel_id: Uuid,
    seq: Option<i64>,
) -> Result<ChannelSummary, ServerError> {
    move_read_mark(state, me, channel_id, seq).await?;
    channel(&state.pool, me, channel_id).await
}

/// Moves the read mark and publishes it, without reading the channel back (the WebSocket's
/// `read`: its answer arrives as a `channel_state` event).
pub async fn move_read_mark(
    state: &Chat,
    me: &User,
    channel_id: Uuid,
    seq: Option<i64>,
) -> Result<(), ServerError> {
    state.limits.check(Action::Read, me.id)?;
    let mut tx = state.pool.begin().await?;
    let mark = db::channels::mark_read(&mut *tx, channel_id, me.id, seq.unwrap_or(i64::MAX))
        .await?
        .ok_or(ServerError::NotFound)?;
    // Opening a channel already read is the common case: no write, no commit to wait for, no
    // NOTIFY (whose lock serialises commits, see DESIGN.md).
    if !mark.moved {
        return Ok(());
    }
    if mark.is_dm {
        db::messages::mark_dm_read(&mut *tx, channel_id, me.id, mark.seq).await?;
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

/// Unread messages across `me`'s channels (those after `after` in the list, when given).
pub async fn unread_total(
    pool: &PgPool,
    me: &User,
    after: Option<ChannelCursor>,
) -> Result<i64, ServerError> {
    Ok(db::channels::unread_total(pool, me.id, after).await?)
}
