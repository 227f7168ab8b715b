//! The bus listener: one `LISTEN` connection per instance. It turns notices into events (new
//! messages ride in the notice, or are loaded once per batch of notices) and hands them to the
//! hub; the unread counts they change are sent by a task of their own. When the connection
//! drops it listens again and tells every local client to `resume`, which fills the gap from
//! the table.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::hub::{Frame, Hub};
use crate::model::event::close;
use crate::model::{ChannelSummary, ServerEvent};
use crate::server::bus::{Notice, NoticeRow, BUS};
use crate::server::db::{self, messages::MessageRow};
use crate::server::lifecycle::Lifecycle;

/// Notices handled together (their rows are loaded in one query).
const MAX_NOTICES: usize = 1024;
/// Membership lists kept. A list is forgotten when its channel's members change (a `members`
/// notice, which every instance hears before any later event of that channel).
const MAX_CACHED_CHANNELS: usize = 50_000;

pub fn start(pool: PgPool, hub: Arc<Hub>, lifecycle: &Lifecycle) {
    let states = States::start(pool.clone(), hub.clone(), lifecycle);
    lifecycle.spawn_until_stopped(async move {
        let mut backoff = Duration::from_millis(100);
        // Sockets were told the service is down (once per outage, not at every retry).
        let mut outage_announced = false;
        loop {
            let mut listened = false;
            let result = listen(&pool, &hub, &states, &mut listened).await;
            if pool.is_closed() {
                break; // shutting down
            }
            if listened {
                backoff = Duration::from_millis(100);
                outage_announced = false;
            }
            match result {
                Ok(()) => tracing::warn!("bus connection lost; listening again"),
                Err(e) => {
                    tracing::warn!(error = %e, "bus connection failed; retrying");
                    if !outage_announced {
                        // The database is unreachable: nothing can be delivered or stored.
                        // Clients show "Reconnecting…" and resume by cursor once it is back.
                        // Said once: a retry that fails after the database is back must not
                        // close the sockets that reconnected meanwhile.
                        hub.to_everyone(&Frame::close(close::TRY_AGAIN_LATER));
                        outage_announced = true;
                    }
                }
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
    });
}

/// Listens until the connection is lost (`Ok`) or fails (`Err`); `listened` tells whether it
/// got as far as listening.
async fn listen(
    pool: &PgPool,
    hub: &Hub,
    states: &States,
    listened: &mut bool,
) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(BUS).await?;
    *listened = true;
    // Anything committed while we were not listening was not delivered here.
    hub.to_everyone(&Frame::new(&ServerEvent::Resync));
    let mut members = Members::default();
    loop {
        let Some(first) = listener.try_recv().await? else {
            return Ok(());
        };
        let mut notices = vec![first];
        while notices.len() < MAX_NOTICES {
            match listener.next_buffered() {
                Some(next) => notices.push(next),
                None => break,
            }
        }
        let notices: Vec<Notice> = notices
            .iter()
            .filter_map(|n| match serde_json::from_str(n.payload()) {
                Ok(notice) => Some(notice),
                Err(e) => {
                    tracing::warn!(error = %e, payload = n.payload(), "unreadable notice");
                    None
                }
            })
            .collect();
        if let Err(e) = deliver(pool, hub, states, &mut members, notices).await {
            // The events are lost for this instance's clients: make them catch up.
            tracing::warn!(error = %e, "could not deliver notices; clients will resync");
            hub.to_everyone(&Frame::new(&ServerEvent::Resync));
        }
    }
}

/// Who is in which channel (loaded on first need).
#[derive(Default)]
struct Members(HashMap<Uuid, Arc<Vec<Uuid>>>);

impl Members {
    async fn load(&mut self, pool: &PgPool, channels: &BTreeSet<Uuid>) -> Result<(), sqlx::Error> {
        let missing: Vec<Uuid> = channels
            .iter()
            .filter(|c| !self.0.contains_key(c))
            .copied()
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        if self.0.len() + missing.len() > MAX_CACHED_CHANNELS {
            self.0.clear();
        }
        let mut loaded: HashMap<Uuid, Vec<Uuid>> =
            missing.iter().map(|c| (*c, Vec::new())).collect();
        for (channel, user) in db::channels::members_of(pool, &missing).await? {
            loaded.entry(channel).or_default().push(user);
        }
        for (channel, users) in loaded {
            self.0.insert(channel, Arc::new(users));
        }
        Ok(())
    }

    fn of(&self, channel: &Uuid) -> Arc<Vec<Uuid>> {
        self.0.get(channel).cloned().unwrap_or_default()
    }
}

async fn deliver(
    pool: &PgPool,
    hub: &Hub,
    states: &States,
    members: &mut Members,
    notices: Vec<Notice>,
) -> Result<(), sqlx::Error> {
    let mut channels = BTreeSet::new();
    for notice in &notices {
        match notice {
            Notice::Messages { r, .. } => channels.extend(r.iter().map(|(c, _, _)| *c)),
            Notice::Updated { c, .. } | Notice::Read { c, .. } | Notice::Typing { c, .. } => {
                channels.insert(*c);
            }
            // Loaded afresh below, after the change: events of this batch (even those committed
            // before it) go to the members as they are now, never to someone removed.
            Notice::Channel { c } | Notice::Members { c, .. } => {
                members.0.remove(c);
                channels.insert(*c);
            }
            Notice::Presence { .. } | Notice::SessionEnded { .. } | Notice::Blocks { .. } => {}
        }
    }
    members.load(pool, &channels).await?;

    // Channels whose members' standing changed; sent after the events that changed it.
    let mut changed = BTreeSet::new();
    let mut fresh = Fresh::default();
    for notice in notices {
        match notice {
            Notice::Messages { r, m } if m.is_empty() => {
                for (c, from, to) in r {
                    fresh.ranges.0.push(c);
                    fresh.ranges.1.push(from);
                    fresh.ranges.2.push(to);
                }
            }
            Notice::Messages { m, .. } => {
                fresh.carried.extend(m.into_iter().flatten().map(carried));
            }
            other => {
                // Keep the order of events: flush new messages gathered so far first.
                fresh.flush(pool, hub, members, &mut changed).await?;
                deliver_one(pool, hub, states, members, other, &mut changed).await?;
            }
        }
    }
    fresh.flush(pool, hub, members, &mut changed).await?;
    states.request(changed.into_iter().map(|c| (c, members.of(&c))).collect());
    Ok(())
}

/// A new message as the notice carried it.
fn carried(
    (id, channel_id, seq, user_id, text, created_at, reply_to, mentions): NoticeRow,
) -> MessageRow {
    MessageRow {
        id,
        channel_id,
        seq,
        user_id,
        text,
        created_at,
        updated_at: created_at,
        deleted: false,
        version: 0,
        reply_to,
        mentions,
    }
}

/// New messages gathered from consecutive notices: carried in the payload, or to be loaded
/// by range `(channels, from seqs, to seqs)` when they did not fit.
#[derive(Default)]
struct Fresh {
    carried: Vec<MessageRow>,
    ranges: (Vec<Uuid>, Vec<i64>, Vec<i64>),
}

impl Fresh {
    /// Sends the gathered messages, each channel's in sequence order.
    async fn flush(
        &mut self,
        pool: &PgPool,
        hub: &Hub,
        members: &Members,
        changed: &mut BTreeSet<Uuid>,
    ) -> Result<(), sqlx::Error> {
        let mut rows = std::mem::take(&mut self.carried);
        let (channels, from, to) = std::mem::take(&mut self.ranges);
        if !channels.is_empty() {
            rows.extend(db::messages::in_ranges(pool, &channels, &from, &to).await?);
        }
        if rows.is_empty() {
            return Ok(());
        }
        // Ranges loaded and rows carried may interleave within a channel.
        rows.sort_by_key(|m| (m.channel_id, m.seq));
        // Replies' quotes in one query (none when no reply is among them).
        let messages = db::messages::views(pool, rows).await?;
        for message in messages {
            let channel_id = message.channel_id;
            changed.insert(channel_id);
            let frame = Frame::new(&ServerEvent::Message {
                message,
                version: 0,
            });
            hub.to_users(members.of(&channel_id).iter(), None, &frame);
            hub.to_channel_streams(channel_id, &frame);
        }
        Ok(())
    }
}

async fn deliver_one(
    pool: &PgPool,
    hub: &Hub,
    states: &States,
    members: &Members,
    notice: Notice,
    changed: &mut BTreeSet<Uuid>,
) -> Result<(), sqlx::Error> {
    match notice {
        Notice::Messages { .. } => {}
        Notice::Updated { c, id, v } => {
            if let Some(row) = db::messages::find(pool, id).await? {
                // The change's own version, though the row may show a later one: a client
                // that resumes from it is sent that later change again rather than miss one.
                let version = if v > 0 { v } else { row.version };
                let message = db::messages::view(pool, row).await?;
                let frame = Frame::new(&ServerEvent::MessageUpdated { message, version });
                hub.to_users(members.of(&c).iter(), None, &frame);
                hub.to_channel_streams(c, &frame);
                changed.insert(c);
            }
        }
        Notice::Read { c, .. } => {
            changed.insert(c);
        }
        Notice::Channel { c } => states.added(c, members.of(&c)),
        Notice::Members {
            c,
            added,
            removed,
            v,
        } => {
            let gone = Frame::new(&ServerEvent::ChannelRemoved { channel_id: c });
            hub.to_users(removed.iter(), None, &gone);
            for user in removed {
                hub.end_channel_streams(c, user);
            }
            if !added.is_empty() {
                states.added(c, Arc::new(added));
            }
            if let Some(meta) = db::channels::metas(pool, &[c]).await?.pop() {
                let frame = Frame::new(&ServerEvent::ChannelUpdated {
                    channel_id: c,
                    name: meta.name,
                    members: meta.members.0,
                    version: if v > 0 { v } else { meta.meta_version },
                });
                hub.to_users(members.of(&c).iter(), None, &frame);
                hub.to_channel_streams(c, &frame);
            }
            // The others' read marks ("Seen") may move with who is in.
            changed.insert(c);
        }
        Notice::Blocks { u, o } => {
            let blocked = db::blocks::blocked_by(pool, u).await?;
            let frame = Frame::new(&ServerEvent::Blocks { blocked });
            hub.to_users([u].iter(), None, &frame);
            // Each sees the other's presence as they now may: hidden while either blocks,
            // the real one again (to those who share a channel) once neither does.
            let apart = db::blocks::either_way(pool, u, o).await?;
            for (viewer, seen) in [(u, o), (o, u)] {
                let presence = if apart {
                    crate::model::Presence {
                        user_id: seen,
                        online: false,
                        last_seen_at: None,
                    }
                } else if db::channels::peers(pool, viewer).await?.contains(&seen) {
                    db::presence::of_user(pool, seen).await?
                } else {
                    continue;
                };
                let frame = Frame::new(&ServerEvent::Presence { presence });
                hub.to_users([viewer].iter(), None, &frame);
            }
        }
        Notice::Presence { u, on, at } => {
            let peers = db::channels::peers(pool, u).await?;
            let frame = Frame::new(&ServerEvent::Presence {
                presence: crate::model::Presence {
                    user_id: u,
                    online: on,
                    last_seen_at: at,
                },
            });
            hub.to_users(peers.iter(), None, &frame);
        }
        Notice::SessionEnded { u, s } => {
            // An unreadable name ends them all rather than leave a signed-out socket open.
            hub.end_sessions(u, s.as_deref(), close::UNAUTHENTICATED);
        }
        Notice::Typing { c, u, h } => {
            let frame = Frame::new(&ServerEvent::Typing {
                channel_id: c,
                user_id: u,
            });
            let members = members.of(&c);
            let shown = members.iter().filter(|m| !h.contains(m));
            hub.to_users(shown, Some(u), &frame);
            hub.to_channel_streams(c, &frame);
        }
    }
    Ok(())
}

/// Channels whose members' standing changed, with their members.
type Changed = BTreeMap<Uuid, Arc<Vec<Uuid>>>;

/// Work the listener hands off.
enum Work {
    /// Send these channels' `channel_state` to their connected members.
    States(Changed),
    /// These members joined a channel (all of them when it was created): send them
    /// `channel_added`.
    Added(Uuid, Arc<Vec<Uuid>>),
}

/// The task that sends `channel_state` and `channel_added` events, apart from the listener:
/// counting unread messages and summarising a new channel take queries, and the listener must
/// not wait for them before the next messages go out (measured: under load the listener fell
/// behind by milliseconds per batch; a group of many connected members took one query each).
/// State requests that pile up while a query runs are merged into one. The values are
/// absolute, read after the events that changed them were handed to the hub.
struct States(mpsc::UnboundedSender<Work>);

impl States {
    fn start(pool: PgPool, hub: Arc<Hub>, lifecycle: &Lifecycle) -> Self {
        let (requests, mut queue) = mpsc::unbounded_channel::<Work>();
        lifecycle.spawn_until_stopped(async move {
            while let Some(first) = queue.recv().await {
                let mut changed = Changed::new();
                let mut added = Vec::new();
                let mut take = |work| match work {
                    Work::States(more) => changed.extend(more),
                    Work::Added(channel, members) => added.push((channel, members)),
                };
                take(first);
                while let Ok(more) = queue.try_recv() {
                    take(more);
                }
                // New channels first: their states follow their summaries.
                for (channel, members) in added {
                    if let Err(e) = send_added(&pool, &hub, channel, &members).await {
                        // They see it at their next channel-list load or reconnect.
                        tracing::warn!(error = %e, %channel, "could not announce a new channel");
                    }
                }
                if let Err(e) = send_states(&pool, &hub, &changed).await {
                    // Counts stay as they were until the channel's next change or reconnect.
                    tracing::warn!(error = %e, "could not send channel states");
                }
            }
        });
        Self(requests)
    }

    fn request(&self, changed: Changed) {
        if !changed.is_empty() {
            // The task lives as long as the runtime; a send can only fail during shutdown.
            let _ = self.0.send(Work::States(changed));
        }
    }

    fn added(&self, channel: Uuid, members: Arc<Vec<Uuid>>) {
        // As above: a send can only fail during shutdown.
        let _ = self.0.send(Work::Added(channel, members));
    }
}

/// Sends `channel_added` to the connected members of a new channel with two queries, however
/// many they are: the summary as one member sees it, then each member's own standing.
async fn send_added(
    pool: &PgPool,
    hub: &Hub,
    channel_id: Uuid,
    members: &[Uuid],
) -> Result<(), sqlx::Error> {
    let connected = hub.connected(members.iter());
    let Some(first) = connected.first() else {
        return Ok(());
    };
    let Some(base) = db::channels::summaries(pool, *first, Some(channel_id), None, 1)
        .await?
        .pop()
    else {
        return Ok(());
    };
    let states = db::channels::member_states(pool, &[channel_id], &connected).await?;
    let connected: HashSet<Uuid> = connected.into_iter().collect();
    for me in states.iter().filter(|s| connected.contains(&s.user_id)) {
        let others_last_read_seq = states
            .iter()
            .filter(|s| s.user_id != me.user_id)
            .map(|s| s.last_read_seq)
            .min()
            .unwrap_or(0);
        let channel = ChannelSummary {
            last_seq: me.last_seq,
            unread: me.unread,
            my_last_read_seq: me.last_read_seq,
            others_last_read_seq,
            muted: me.muted,
            mentions: me.mentions,
            ..base.clone()
        };
        let frame = Frame::new(&ServerEvent::ChannelAdded { channel });
        hub.to_users([me.user_id].iter(), None, &frame);
    }
    Ok(())
}

/// Sends each connected member of the channels their absolute unread count and read marks.
async fn send_states(pool: &PgPool, hub: &Hub, channels: &Changed) -> Result<(), sqlx::Error> {
    let channel_ids: Vec<Uuid> = channels.keys().copied().collect();
    let everyone: HashSet<Uuid> = channels.values().flat_map(|m| m.iter().copied()).collect();
    let counted = hub.connected(everyone.iter());
    if counted.is_empty() {
        return Ok(());
    }
    let states = db::channels::member_states(pool, &channel_ids, &counted).await?;
    let counted: HashSet<Uuid> = counted.into_iter().collect();
    for channel in states.chunk_by(|a, b| a.channel_id == b.channel_id) {
        for me in channel.iter().filter(|s| counted.contains(&s.user_id)) {
            let others_last_read_seq = channel
                .iter()
                .filter(|s| s.user_id != me.user_id)
                .map(|s| s.last_read_seq)
                .min()
                .unwrap_or(0);
            let frame = Frame::new(&ServerEvent::ChannelState {
                channel_id: me.channel_id,
                last_seq: me.last_seq,
                unread: me.unread,
                my_last_read_seq: me.last_read_seq,
                others_last_read_seq,
                muted: me.muted,
                mentions: me.mentions,
            });
            hub.to_users([me.user_id].iter(), None, &frame);
        }
    }
    Ok(())
}
