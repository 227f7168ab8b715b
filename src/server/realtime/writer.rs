//! The group-commit writer: every send on this instance goes through it. Sends that arrive
//! while a transaction is committing are gathered into the next one (one fsync, one `NOTIFY`
//! per batch; NOTIFY serialises commits cluster-wide, see DESIGN.md), and each sender is
//! answered after that commit. A batch that fails as a whole is retried one send at a time, so
//! one bad send never fails the others.

use std::collections::{BTreeMap, HashMap, HashSet};

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::Notice;
use crate::model::{Message, MessageText};
use crate::server::db::{self, messages::message_view, messages::MessageRow};
use crate::server::error::ServerError;

/// Most sends in one transaction.
const MAX_BATCH: usize = 512;
/// Sends waiting for the writer before callers wait for room (back-pressure).
const QUEUE: usize = 8192;

/// A send on its way to the database; `id` is the client's, so retries are recognised.
#[derive(Debug, Clone)]
pub struct Draft {
    pub id: Uuid,
    pub channel_id: Uuid,
    pub user_id: Uuid,
    pub text: MessageText,
}

type Reply = oneshot::Sender<Result<Message, ServerError>>;

#[derive(Clone)]
pub struct Writer {
    queue: mpsc::Sender<(Draft, Reply)>,
}

/// The writer's answer to one send, awaited separately so a connection can queue several
/// sends in order without waiting for each commit.
pub struct Pending(oneshot::Receiver<Result<Message, ServerError>>);

impl Pending {
    pub async fn stored(self) -> Result<Message, ServerError> {
        self.0
            .await
            .unwrap_or_else(|_| Err(ServerError::Internal("the writer stopped".into())))
    }
}

impl Writer {
    pub fn start(pool: PgPool) -> Self {
        let (queue, jobs) = mpsc::channel(QUEUE);
        tokio::spawn(run(pool, jobs));
        Self { queue }
    }

    /// Queues a send (sends queued by one caller are stored in that order).
    pub async fn enqueue(&self, draft: Draft) -> Result<Pending, ServerError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((draft, reply))
            .await
            .map_err(|_| ServerError::Internal("the writer stopped".into()))?;
        Ok(Pending(answer))
    }

    /// Stores a message exactly once and returns it after the commit.
    pub async fn send(&self, draft: Draft) -> Result<Message, ServerError> {
        self.enqueue(draft).await?.stored().await
    }
}

async fn run(pool: PgPool, mut jobs: mpsc::Receiver<(Draft, Reply)>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while jobs.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (drafts, replies): (Vec<Draft>, Vec<Reply>) = batch.drain(..).unzip();
        let outcomes = match write_batch(&pool, &drafts).await {
            Ok(outcomes) => outcomes,
            Err(e) => {
                if drafts.len() > 1 {
                    tracing::warn!(error = %e, sends = drafts.len(), "batch failed; one by one");
                }
                let mut outcomes = Vec::with_capacity(drafts.len());
                for draft in &drafts {
                    outcomes.push(write_one(&pool, draft).await);
                }
                outcomes
            }
        };
        for (reply, outcome) in replies.into_iter().zip(outcomes) {
            // The sender may have gone (connection closed); the message is stored regardless.
            let _ = reply.send(outcome);
        }
    }
}

/// The answer to a send whose id is already stored: the stored message if it is the same
/// sender's in the same channel (a retry), else a refusal.
fn retried(stored: MessageRow, draft: &Draft) -> Result<Message, ServerError> {
    if stored.user_id == draft.user_id && stored.channel_id == draft.channel_id {
        Ok(message_view(stored))
    } else {
        Err(ServerError::BadRequest(
            "That message id is already in use.".into(),
        ))
    }
}

/// Stores a batch in one transaction. An `Err` means nothing was stored (the caller retries
/// one by one); per-send refusals (not a member, id taken) are in the `Ok` list.
async fn write_batch(
    pool: &PgPool,
    drafts: &[Draft],
) -> Result<Vec<Result<Message, ServerError>>, ServerError> {
    let mut outcomes: Vec<Option<Result<Message, ServerError>>> =
        drafts.iter().map(|_| None).collect();
    let mut tx = pool.begin().await?;

    // Retries of stored sends, and repeats of one id within the batch.
    let ids: Vec<Uuid> = drafts.iter().map(|d| d.id).collect();
    let mut stored: HashMap<Uuid, MessageRow> = db::messages::find_many(&mut *tx, &ids)
        .await?
        .into_iter()
        .map(|row| (row.id, row))
        .collect();
    let mut fresh = Vec::new();
    let mut seen = HashSet::new();
    for (i, draft) in drafts.iter().enumerate() {
        if stored.contains_key(&draft.id) || !seen.insert(draft.id) {
            continue;
        }
        fresh.push(i);
    }

    // Only members may send.
    let (channels, users): (Vec<Uuid>, Vec<Uuid>) = fresh
        .iter()
        .map(|&i| (drafts[i].channel_id, drafts[i].user_id))
        .unzip();
    let members: HashSet<(Uuid, Uuid)> = db::channels::memberships(&mut *tx, &channels, &users)
        .await?
        .into_iter()
        .collect();
    fresh.retain(|&i| {
        let ok = members.contains(&(drafts[i].channel_id, drafts[i].user_id));
        if !ok {
            outcomes[i] = Some(Err(ServerError::NotFound));
        }
        ok
    });

    if !fresh.is_empty() {
        // Sequence numbers: per channel, in arrival order.
        let mut per_channel: BTreeMap<Uuid, Vec<usize>> = BTreeMap::new();
        for &i in &fresh {
            per_channel.entry(drafts[i].channel_id).or_default().push(i);
        }
        let channel_ids: Vec<Uuid> = per_channel.keys().copied().collect();
        let counts: Vec<i64> = per_channel.values().map(|v| v.len() as i64).collect();
        let last: HashMap<Uuid, i64> = db::messages::reserve_seqs(&mut tx, &channel_ids, &counts)
            .await?
            .into_iter()
            .collect();
        let mut rows = db::messages::NewRows::default();
        let mut ranges = Vec::with_capacity(per_channel.len());
        let mut read_marks = (Vec::new(), Vec::new(), Vec::new());
        for (channel_id, indices) in &per_channel {
            let last_seq = last.get(channel_id).copied().ok_or(ServerError::NotFound)?;
            let first_seq = last_seq - indices.len() as i64 + 1;
            ranges.push((*channel_id, first_seq, last_seq));
            let mut newest_by_sender: HashMap<Uuid, i64> = HashMap::new();
            for (k, &i) in indices.iter().enumerate() {
                let draft = &drafts[i];
                let seq = first_seq + k as i64;
                rows.ids.push(draft.id);
                rows.channel_ids.push(draft.channel_id);
                rows.seqs.push(seq);
                rows.user_ids.push(draft.user_id);
                rows.texts.push(draft.text.as_str().to_owned());
                newest_by_sender.insert(draft.user_id, seq);
            }
            for (user, seq) in newest_by_sender {
                read_marks.0.push(*channel_id);
                read_marks.1.push(user);
                read_marks.2.push(seq);
            }
        }
        let inserted = db::messages::insert_many(&mut tx, &rows).await?;
        if inserted.len() != rows.ids.len() {
            // An id was stored concurrently elsewhere: its sequence number would be a gap.
            tx.rollback().await?;
            return Err(ServerError::Internal("a message id raced; retrying".into()));
        }
        db::channels::mark_read_many(&mut tx, &read_marks.0, &read_marks.1, &read_marks.2).await?;
        for notice in Notice::messages(ranges) {
            notice.publish(&mut *tx).await?;
        }
        for row in inserted {
            stored.insert(row.id, row);
        }
        // The fresh rows are answered from `stored` below, like retries.
        for &i in &fresh {
            if let Some(row) = stored.get(&drafts[i].id) {
                outcomes[i] = Some(Ok(message_view(row.clone())));
            }
        }
    }
    tx.commit().await?;

    Ok(drafts
        .iter()
        .zip(outcomes)
        .map(|(draft, outcome)| match outcome {
            Some(outcome) => outcome,
            None => match stored.get(&draft.id) {
                Some(row) => retried(row.clone(), draft),
                None => Err(ServerError::NotFound),
            },
        })
        .collect())
}

/// One send in its own transaction (the fallback when a batch fails).
async fn write_one(pool: &PgPool, draft: &Draft) -> Result<Message, ServerError> {
    if let Some(stored) = db::messages::find(pool, draft.id).await? {
        return retried(stored, draft);
    }
    if !db::channels::is_member(pool, draft.channel_id, draft.user_id).await? {
        return Err(ServerError::NotFound);
    }
    let mut tx = pool.begin().await?;
    let seq = db::messages::next_seq(&mut tx, draft.channel_id).await?;
    let row = db::messages::insert(
        &mut tx,
        draft.id,
        draft.channel_id,
        seq,
        draft.user_id,
        draft.text.as_str(),
    )
    .await?;
    match row {
        Some(row) => {
            db::channels::mark_read(&mut *tx, draft.channel_id, draft.user_id, seq).await?;
            Notice::Messages {
                r: vec![(draft.channel_id, seq, seq)],
            }
            .publish(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(message_view(row))
        }
        None => {
            // A concurrent retry of the same message won: give back its sequence number.
            tx.rollback().await?;
            let stored = db::messages::find(pool, draft.id)
                .await?
                .ok_or(ServerError::NotFound)?;
            retried(stored, draft)
        }
    }
}
