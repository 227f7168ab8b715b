//! The message store: a group-commit writer that every send on this instance goes through it. Sends that arrive
//! while a batch is committing are gathered into the next one (one statement, one fsync, one
//! `NOTIFY` per batch; NOTIFY serialises commits cluster-wide, see DESIGN.md), and each sender
//! is answered after that commit. Several writers run side by side, each owning the channels
//! whose id falls to it, so one channel's sends keep their order while different channels'
//! batches commit in parallel. A batch that fails as a whole is retried one send at a time,
//! so one bad send never fails the others. With webhooks on, each stored message's
//! `message.new` event is queued in the same transaction.

use std::collections::HashMap;
use std::sync::Arc;

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::bus::{Notice, BUS};
use super::webhook::{Event, Outbox};
use crate::model::{Message, MessageText};
use crate::server::db::{self, messages::MessageRow};
use crate::server::error::ServerError;
use crate::server::lifecycle::Lifecycle;

/// Most sends in one batch.
const MAX_BATCH: usize = 512;
/// Sends waiting for one writer before callers wait for room (back-pressure).
const QUEUE: usize = 4096;
/// Writers (batches in flight at once). Measured in BENCHMARKS.md against one writer: p50
/// 3.0 vs 3.5 ms and p99 10 vs 15 ms at 200 msg/s, though one writer's bigger batches held
/// p99 ≤ 25 ms to a higher rate. Four of the pool's 16 connections at most.
const WRITERS: usize = 4;

/// A send on its way to the database; `id` is the client's, so retries are recognised.
#[derive(Debug, Clone)]
pub struct Draft {
    pub id: Uuid,
    pub channel_id: Uuid,
    pub user_id: Uuid,
    pub text: MessageText,
    /// The message of the same channel it replies to (checked before it is queued).
    pub reply_to: Option<Uuid>,
    /// Uploads to attach, in order (checked before it is queued: the sender's, unattached,
    /// to this channel; the statement that stores the message attaches them).
    pub attachments: Vec<Uuid>,
}

type Reply = oneshot::Sender<Result<Message, ServerError>>;

#[derive(Clone)]
pub struct Writer {
    queues: Arc<[mpsc::Sender<(Draft, Reply)>]>,
}

/// The writer's answer to one send, awaited separately so a connection can queue several
/// sends in order without waiting for each commit.
pub struct Pending(oneshot::Receiver<Result<Message, ServerError>>);

impl Pending {
    pub async fn stored(self) -> Result<Message, ServerError> {
        self.0
            .await
            .unwrap_or_else(|_| Err(ServerError::ShuttingDown))
    }
}

impl Writer {
    pub fn start(pool: PgPool, outbox: Outbox, lifecycle: &Lifecycle) -> Self {
        let queues = (0..WRITERS)
            .map(|_| {
                let (queue, jobs) = mpsc::channel(QUEUE);
                lifecycle.spawn(run(pool.clone(), outbox.clone(), jobs, lifecycle.clone()));
                queue
            })
            .collect();
        Self { queues }
    }

    /// Queues a send (sends queued by one caller to one channel are stored in that order).
    pub async fn enqueue(&self, draft: Draft) -> Result<Pending, ServerError> {
        let (reply, answer) = oneshot::channel();
        // Random (v4) ids spread channels evenly; one channel always meets the same writer.
        let writer = (draft.channel_id.as_u128() % self.queues.len() as u128) as usize;
        self.queues[writer]
            .send((draft, reply))
            .await
            .map_err(|_| ServerError::ShuttingDown)?;
        Ok(Pending(answer))
    }

    /// Stores a message exactly once and returns it after the commit.
    pub async fn send(&self, draft: Draft) -> Result<Message, ServerError> {
        self.enqueue(draft).await?.stored().await
    }
}

/// One writer: batches until shutdown begins, then refuses new sends (503: the client retries
/// with the same id, on another instance or after the restart) and commits and answers every
/// send already queued before it ends.
async fn run(
    pool: PgPool,
    outbox: Outbox,
    mut jobs: mpsc::Receiver<(Draft, Reply)>,
    lifecycle: Lifecycle,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut closed = false;
    loop {
        let received = tokio::select! {
            biased;
            () = lifecycle.stopped(), if !closed => {
                jobs.close();
                closed = true;
                continue;
            }
            received = jobs.recv_many(&mut batch, MAX_BATCH) => received,
        };
        if received == 0 {
            break;
        }
        let (drafts, replies): (Vec<Draft>, Vec<Reply>) = batch.drain(..).unzip();
        let outcomes = match write_batch(&pool, &outbox, &drafts).await {
            Ok(outcomes) => outcomes,
            Err(e) => {
                if drafts.len() > 1 {
                    tracing::warn!(error = %e, sends = drafts.len(), "batch failed; one by one");
                }
                let mut outcomes = Vec::with_capacity(drafts.len());
                for draft in &drafts {
                    outcomes.push(write_one(&pool, &outbox, draft).await);
                }
                outcomes
            }
        };
        outbox.wake();
        for (reply, outcome) in replies.into_iter().zip(outcomes) {
            // The sender may have gone (connection closed); the message is stored regardless.
            let _ = reply.send(outcome);
        }
    }
}

/// Whether a send may be answered with the message stored under its id (just now, or earlier
/// by a retried send): it must be the same author's (or both system messages) in the same
/// channel, else the send is refused.
fn answer(stored: &MessageRow, author: Option<Uuid>, channel_id: Uuid) -> Result<(), ServerError> {
    if stored.user_id == author && stored.channel_id == channel_id {
        Ok(())
    } else {
        Err(ServerError::BadRequest(
            "That message id is already in use.".into(),
        ))
    }
}

/// Stores a batch with one statement. An `Err` means nothing was stored (the caller retries
/// one by one); per-send refusals (not a member, id taken) are in the `Ok` list.
async fn write_batch(
    pool: &PgPool,
    outbox: &Outbox,
    drafts: &[Draft],
) -> Result<Vec<Result<Message, ServerError>>, ServerError> {
    let mut sends = db::messages::Sends::default();
    for draft in drafts {
        sends.ids.push(draft.id);
        sends.channel_ids.push(draft.channel_id);
        sends.user_ids.push(draft.user_id);
        sends.texts.push(draft.text.as_str().to_owned());
        sends.reply_tos.push(draft.reply_to);
        for (position, id) in draft.attachments.iter().enumerate() {
            sends.attachment_ids.push(*id);
            sends.attachment_messages.push(draft.id);
            sends.attachment_positions.push(position as i32);
        }
    }
    // New rows and retries alike; a send with no row was refused for not being a member.
    let stored: HashMap<Uuid, MessageRow> =
        db::messages::store_batch(pool, &sends, BUS, outbox.enabled())
            .await?
            .into_iter()
            .map(|row| (row.id, row))
            .collect();
    // Replies' quotes (and a retried message's reactions) in one query each, when any.
    let views: HashMap<Uuid, Message> =
        db::messages::views(pool, stored.values().cloned().collect())
            .await?
            .into_iter()
            .map(|m| (m.id, m))
            .collect();
    let mut outcomes = Vec::with_capacity(drafts.len());
    for draft in drafts {
        outcomes.push(match (stored.get(&draft.id), views.get(&draft.id)) {
            (Some(row), Some(view)) => {
                answer(row, Some(draft.user_id), draft.channel_id).map(|()| view.clone())
            }
            // Refused: not a member, or a 1:1 with a block (asked only on this rare path).
            _ => Err(refusal(pool, draft).await),
        });
    }
    Ok(outcomes)
}

/// Why a send the batch left out was refused: a block in its 1:1 (`blocked`), else it is not
/// the sender's channel (`not_found`).
async fn refusal(pool: &PgPool, draft: &Draft) -> ServerError {
    match db::blocks::blocks_dm(pool, draft.channel_id, draft.user_id).await {
        Ok(true) => ServerError::Blocked,
        Ok(false) => ServerError::NotFound,
        Err(e) => e.into(),
    }
}

/// One send in its own transaction (the fallback when a batch fails).
async fn write_one(pool: &PgPool, outbox: &Outbox, draft: &Draft) -> Result<Message, ServerError> {
    if db::blocks::blocks_dm(pool, draft.channel_id, draft.user_id).await? {
        if let Some(stored) = db::messages::find(pool, draft.id).await? {
            return viewed(pool, stored, Some(draft.user_id), draft.channel_id).await;
        }
        return Err(ServerError::Blocked);
    }
    if !db::channels::is_member(pool, draft.channel_id, draft.user_id).await? {
        // A retry of a stored message by someone who left still gets its answer.
        if let Some(stored) = db::messages::find(pool, draft.id).await? {
            return viewed(pool, stored, Some(draft.user_id), draft.channel_id).await;
        }
        return Err(ServerError::NotFound);
    }
    let author = Some(draft.user_id);
    store_one(
        pool,
        outbox,
        draft.id,
        draft.channel_id,
        author,
        &draft.text,
        draft.reply_to,
        &draft.attachments,
    )
    .await
}

/// The stored message as the answer to a send, when [`answer`] allows it.
async fn viewed(
    pool: &PgPool,
    stored: MessageRow,
    author: Option<Uuid>,
    channel_id: Uuid,
) -> Result<Message, ServerError> {
    answer(&stored, author, channel_id)?;
    Ok(db::messages::view(pool, stored).await?)
}

/// Stores a **system message** (no author; the server API's) exactly once: a retry with the
/// same id returns the stored one. It is fanned out and queued for webhooks as any message.
pub async fn write_system_message(
    pool: &PgPool,
    outbox: &Outbox,
    id: Uuid,
    channel_id: Uuid,
    text: &MessageText,
) -> Result<Message, ServerError> {
    let stored = store_one(pool, outbox, id, channel_id, None, text, None, &[]).await?;
    outbox.wake();
    Ok(stored)
}

/// Stores one message in its own transaction: sequence, row, its attachments, the author's
/// read mark, the webhook event and the notice. The author, when there is one, is a member.
#[allow(clippy::too_many_arguments)]
async fn store_one(
    pool: &PgPool,
    outbox: &Outbox,
    id: Uuid,
    channel_id: Uuid,
    author: Option<Uuid>,
    text: &MessageText,
    reply_to: Option<Uuid>,
    attachments: &[Uuid],
) -> Result<Message, ServerError> {
    if let Some(stored) = db::messages::find(pool, id).await? {
        return viewed(pool, stored, author, channel_id).await;
    }
    let mut tx = pool.begin().await?;
    let seq = db::messages::next_seq(&mut tx, channel_id)
        .await?
        .ok_or(ServerError::NotFound)?;
    let row = db::messages::insert(
        &mut tx,
        id,
        channel_id,
        seq,
        author,
        text.as_str(),
        reply_to,
    )
    .await?;
    let Some(row) = row else {
        // A concurrent retry of the same message won: give back its sequence number.
        tx.rollback().await?;
        let stored = db::messages::find(pool, id)
            .await?
            .ok_or(ServerError::NotFound)?;
        return viewed(pool, stored, author, channel_id).await;
    };
    if let Some(author) = author {
        db::channels::mark_read(&mut *tx, channel_id, author, seq).await?;
        if !attachments.is_empty() {
            db::attachments::attach(&mut tx, id, author, channel_id, attachments).await?;
        }
    }
    announce(&mut tx, outbox, &row).await?;
    tx.commit().await?;
    Ok(db::messages::view(pool, row).await?)
}

/// Writes a **system message** inside the caller's transaction, after the change it tells of
/// ("Ann added Bob"): the channel's next sequence, the row, its webhook event and its notice,
/// all committed (or not) with the change. The caller wakes the outbox after the commit.
pub async fn system_message_in(
    tx: &mut sqlx::PgConnection,
    outbox: &Outbox,
    channel_id: Uuid,
    text: &str,
) -> Result<MessageRow, ServerError> {
    let text = MessageText::parse(text)?;
    let seq = db::messages::next_seq(&mut *tx, channel_id)
        .await?
        .ok_or(ServerError::NotFound)?;
    let row = db::messages::insert(
        &mut *tx,
        Uuid::new_v4(),
        channel_id,
        seq,
        None,
        text.as_str(),
        None,
    )
    .await?
    .ok_or_else(|| ServerError::Internal("a fresh message id was taken".into()))?;
    announce(tx, outbox, &row).await?;
    Ok(row)
}

/// Queues a message stored one at a time for webhooks and publishes it, in its transaction.
async fn announce(
    tx: &mut sqlx::PgConnection,
    outbox: &Outbox,
    row: &MessageRow,
) -> Result<(), ServerError> {
    outbox
        .record(&mut *tx, &[Event::MessageNew(row.clone())])
        .await?;
    Notice::Messages {
        r: vec![(row.channel_id, row.seq, row.seq)],
        m: Vec::new(),
    }
    .publish(&mut *tx)
    .await?;
    Ok(())
}
