//! Webhooks (SPEC §7.1, §7.2): when `PARLEY_WEBHOOK_URL` is set, every `message.new`,
//! `message.updated`, `message.reported`, `channel.created`, `channel.updated`,
//! `member.added`, `member.removed`, `reaction.new` and `reaction.deleted` is POSTed to it as
//! JSON `{id, type, created_at, data}`, signed `X-Parley-Signature: sha256=<hex HMAC-SHA256 of
//! the body keyed with the server secret>`.
//!
//! Outgoing is durable (DESIGN.md): the [`Outbox`] records an event as a row in the very
//! transaction of the change (`db::webhooks`), and the [`Worker`] delivers rows afterwards, at
//! least once, retrying with exponential backoff while the receiver fails (non-2xx or no
//! answer). No HTTP call ever happens inside a request's transaction. Claims take a lease with
//! `FOR UPDATE SKIP LOCKED`, so instances never send one event at the same time; an instance
//! killed mid-delivery leaves the lease to run out and the event is sent again, by any
//! instance. Event ids are unique: receivers drop repeats by `id`. Order is not guaranteed (a
//! retried event comes after later ones).
//!
//! Uses `db`, `secret` and `model`; used by the chat logic, the store and the server API.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::{CONTENT_TYPE, USER_AGENT};
use serde::Serialize;
use serde_json::{json, Value};
use sqlx::{PgExecutor, PgPool};
use tokio::sync::Notify;
use uuid::Uuid;

use super::db::{self, messages::message_view, messages::MessageRow};
use super::secret::{hex, ServerSecret};
use crate::model::{ChannelKind, Message};

/// The header carrying the body's signature.
pub const SIGNATURE_HEADER: &str = "x-parley-signature";
/// Events one claim takes (delivered concurrently).
const BATCH: i64 = 16;
/// How often an idle worker looks for events committed by other instances (its own instance
/// wakes it at once) and for retries that fell due.
const POLL_EVERY: Duration = Duration::from_secs(1);
/// Longest text kept of why a delivery failed.
const MAX_ERROR_CHARS: usize = 500;

/// Where webhooks go and how deliveries are retried.
#[derive(Clone)]
pub struct WebhookSettings {
    pub url: reqwest::Url,
    /// A delivery that has not been answered within this failed (connecting included).
    pub timeout: Duration,
    /// The wait before the first retry; it doubles with each failure…
    pub first_retry: Duration,
    /// …up to this.
    pub max_retry: Duration,
}

impl WebhookSettings {
    /// Settings for an `http://` or `https://` URL, with the default timeout (10 s) and
    /// backoff (1 s doubling up to 10 min); `None` for anything else.
    pub fn new(url: &str) -> Option<Self> {
        let url = reqwest::Url::parse(url.trim()).ok()?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return None;
        }
        Some(Self {
            url,
            timeout: Duration::from_secs(10),
            first_retry: Duration::from_secs(1),
            max_retry: Duration::from_secs(10 * 60),
        })
    }

    /// How long a claim holds its events: past the timeout of the deliveries it makes.
    fn lease(&self) -> Duration {
        self.timeout + Duration::from_secs(10)
    }

    /// The wait after the `attempts`-th failed try.
    fn retry_after(&self, attempts: i32) -> Duration {
        let doublings = u32::try_from(attempts.saturating_sub(1))
            .unwrap_or(0)
            .min(30);
        self.first_retry
            .saturating_mul(1 << doublings)
            .min(self.max_retry)
    }
}

/// The URL without what may be secret in it (credentials, query): settings are logged.
impl fmt::Debug for WebhookSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookSettings")
            .field(
                "url",
                &format!(
                    "{}{}",
                    self.url.origin().ascii_serialization(),
                    self.url.path()
                ),
            )
            .field("timeout", &self.timeout)
            .field("first_retry", &self.first_retry)
            .field("max_retry", &self.max_retry)
            .finish()
    }
}

/// A change receivers hear about.
pub enum Event {
    /// A message was stored (a system message too).
    MessageNew(MessageRow),
    /// A message was edited or deleted.
    MessageUpdated(MessageRow),
    ChannelCreated {
        id: Uuid,
        kind: ChannelKind,
        name: Option<String>,
        members: Vec<Uuid>,
        created_by: Uuid,
    },
    /// Someone joined a channel after it was created (its first members are in
    /// `channel.created`).
    MemberAdded {
        channel_id: Uuid,
        user_id: Uuid,
    },
    MemberRemoved {
        channel_id: Uuid,
        user_id: Uuid,
    },
    /// A group was renamed.
    ChannelUpdated {
        channel_id: Uuid,
        name: Option<String>,
        /// Who renamed it (`None`: the host's backend).
        by: Option<Uuid>,
    },
    /// A member reported a message (the message as stored when reported).
    MessageReported {
        report_id: Uuid,
        reporter: Uuid,
        reason: String,
        message: Message,
    },
    /// A member set (`added`) or took back a reaction; only changes, never a repeat.
    Reaction {
        added: bool,
        message_id: Uuid,
        channel_id: Uuid,
        user_id: Uuid,
        emoji: String,
    },
}

const MESSAGE_NEW: &str = "message.new";
const MESSAGE_UPDATED: &str = "message.updated";

impl Event {
    /// The event's `type`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::MessageNew(_) => MESSAGE_NEW,
            Self::MessageUpdated(_) => MESSAGE_UPDATED,
            Self::ChannelCreated { .. } => "channel.created",
            Self::MemberAdded { .. } => "member.added",
            Self::MemberRemoved { .. } => "member.removed",
            Self::ChannelUpdated { .. } => "channel.updated",
            Self::MessageReported { .. } => "message.reported",
            Self::Reaction { added: true, .. } => "reaction.new",
            Self::Reaction { added: false, .. } => "reaction.deleted",
        }
    }

    /// What the queue keeps: for messages the stored row (as `db::messages::store_batch`
    /// writes it from SQL too), for the others the `data` that is sent.
    fn stored(&self) -> Value {
        match self {
            Self::MessageNew(row) | Self::MessageUpdated(row) => {
                serde_json::to_value(row).unwrap_or_default()
            }
            Self::ChannelCreated {
                id,
                kind,
                name,
                members,
                created_by,
            } => json!({
                "channel": {"id": id, "kind": kind, "name": name, "members": members},
                "created_by": created_by,
            }),
            Self::MemberAdded {
                channel_id,
                user_id,
            }
            | Self::MemberRemoved {
                channel_id,
                user_id,
            } => json!({"channel_id": channel_id, "user_id": user_id}),
            Self::ChannelUpdated {
                channel_id,
                name,
                by,
            } => json!({"channel": {"id": channel_id, "name": name}, "by": by}),
            Self::MessageReported {
                report_id,
                reporter,
                reason,
                message,
            } => json!({
                "report": {"id": report_id, "reporter": reporter, "reason": reason},
                "message": message,
            }),
            Self::Reaction {
                added: _,
                message_id,
                channel_id,
                user_id,
                emoji,
            } => json!({
                "reaction": {
                    "message_id": message_id,
                    "channel_id": channel_id,
                    "user_id": user_id,
                    "emoji": emoji,
                },
            }),
        }
    }
}

/// The `data` sent for an event the queue kept as `stored`.
fn data(kind: &str, stored: Value) -> Result<Value, serde_json::Error> {
    match kind {
        MESSAGE_NEW | MESSAGE_UPDATED => {
            let row: MessageRow = serde_json::from_value(stored)?;
            Ok(json!({ "message": message_view(row) }))
        }
        _ => Ok(stored),
    }
}

/// The body of a delivery: the same bytes at every try.
#[derive(Serialize)]
struct Body {
    id: Uuid,
    #[serde(rename = "type")]
    kind: String,
    created_at: DateTime<Utc>,
    data: Value,
}

/// Where changes record their events. Cheap to clone.
#[derive(Clone)]
pub struct Outbox {
    enabled: bool,
    wake: Arc<Notify>,
}

impl Outbox {
    pub fn new(enabled: bool) -> Self {
        Self {
            enabled,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Whether events are recorded (webhooks are on).
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Records events in the caller's transaction (nothing when webhooks are off). Call
    /// [`Outbox::wake`] after the commit.
    pub async fn record(
        &self,
        db: impl PgExecutor<'_>,
        events: &[Event],
    ) -> Result<(), sqlx::Error> {
        if !self.enabled || events.is_empty() {
            return Ok(());
        }
        let kinds: Vec<String> = events.iter().map(|e| e.kind().to_owned()).collect();
        let data: Vec<Value> = events.iter().map(Event::stored).collect();
        db::webhooks::insert(db, &kinds, &data).await
    }

    /// Tells this instance's worker that events were committed (it looks at once instead of
    /// at its next poll).
    pub fn wake(&self) {
        if self.enabled {
            // A stored permit: a wake while the worker is busy is not lost.
            self.wake.notify_one();
        }
    }
}

/// Delivers the queue's events, on each instance (they share the queue).
pub struct Worker {
    pool: PgPool,
    settings: WebhookSettings,
    secret: ServerSecret,
    outbox: Outbox,
    client: reqwest::Client,
}

impl Worker {
    pub fn new(
        pool: PgPool,
        settings: WebhookSettings,
        secret: ServerSecret,
        outbox: Outbox,
    ) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(5)))
            // A redirect is an answer that is not a 2xx: a failure, retried, not followed.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            pool,
            settings,
            secret,
            outbox,
            client,
        })
    }

    /// Delivers until `shutdown` completes or the pool closes. Stopping mid-delivery is safe:
    /// the events in flight keep their lease and are sent again once it runs out.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        tracing::info!(webhooks = ?self.settings, "webhook worker started");
        tokio::select! {
            () = shutdown => {}
            () = self.work() => {}
        }
        tracing::info!("webhook worker stopped");
    }

    async fn work(&self) {
        let lease = self.settings.lease().as_secs_f64();
        let mut failures = 0u32;
        loop {
            if self.pool.is_closed() {
                return;
            }
            match db::webhooks::claim(&self.pool, BATCH, lease).await {
                Ok(events) if events.is_empty() => {
                    failures = 0;
                    tokio::select! {
                        () = self.outbox.wake.notified() => {}
                        () = tokio::time::sleep(POLL_EVERY) => {}
                    }
                }
                Ok(events) => {
                    failures = 0;
                    futures_util::future::join_all(events.into_iter().map(|e| self.deliver(e)))
                        .await;
                }
                Err(error) => {
                    if self.pool.is_closed() {
                        return;
                    }
                    // The database is unreachable: the events wait in it, nothing is lost.
                    tracing::warn!(%error, "could not claim webhook events");
                    let wait = Duration::from_millis(100 << failures.min(5));
                    failures += 1;
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// One try of one event; the outcome goes back to the queue.
    async fn deliver(&self, event: db::webhooks::Claimed) {
        let (id, attempts) = (event.id, event.attempts);
        let outcome = match self.body(event) {
            Ok(body) => self.post(body).await,
            // Cannot happen for rows this code wrote; kept (and retried slowly) rather than
            // dropped, so an operator can see it.
            Err(error) => Err(format!("unreadable event: {error}")),
        };
        let recorded = match &outcome {
            Ok(()) => db::webhooks::delivered(&self.pool, id).await,
            Err(error) => {
                let retry_in = self.settings.retry_after(attempts);
                tracing::warn!(
                    event_id = %id,
                    attempts,
                    retry_in_secs = retry_in.as_secs_f64(),
                    error = %error,
                    "webhook delivery failed; will retry"
                );
                let error: String = error.chars().take(MAX_ERROR_CHARS).collect();
                db::webhooks::failed(&self.pool, id, retry_in.as_secs_f64(), &error).await
            }
        };
        if let Err(error) = recorded {
            // The lease runs out and the event is tried again: at least once still holds.
            tracing::warn!(event_id = %id, %error, "could not record a webhook delivery");
        }
    }

    fn body(&self, event: db::webhooks::Claimed) -> Result<Vec<u8>, serde_json::Error> {
        let data = data(&event.kind, event.data)?;
        serde_json::to_vec(&Body {
            id: event.id,
            kind: event.kind,
            created_at: event.created_at,
            data,
        })
    }

    async fn post(&self, body: Vec<u8>) -> Result<(), String> {
        let signature = format!("sha256={}", hex(&self.secret.sign(&body)));
        let response = self
            .client
            .post(self.settings.url.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(
                USER_AGENT,
                concat!("parley-webhooks/", env!("CARGO_PKG_VERSION")),
            )
            .header(SIGNATURE_HEADER, signature)
            .body(body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!("answered {}", response.status()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_urls_are_webhook_targets() {
        assert!(WebhookSettings::new("https://hooks.example.com/parley").is_some());
        assert!(WebhookSettings::new("http://127.0.0.1:9000/").is_some());
        for url in [
            "ftp://example.com/",
            "example.com/hook",
            "",
            "file:///etc/passwd",
        ] {
            assert!(WebhookSettings::new(url).is_none(), "{url}");
        }
        let settings = WebhookSettings::new("https://user:pw@hooks.example.com/x?key=abc");
        let printed = format!("{settings:?}");
        assert!(
            !printed.contains("pw") && !printed.contains("abc"),
            "{printed}"
        );
    }

    #[test]
    fn retries_back_off_exponentially_up_to_the_cap() {
        let Some(settings) = WebhookSettings::new("https://hooks.example.com/") else {
            panic!("a valid URL");
        };
        let waits: Vec<u64> = [1, 2, 3, 4, 10, 11, 1000]
            .iter()
            .map(|n| settings.retry_after(*n).as_secs())
            .collect();
        assert_eq!(waits, [1, 2, 4, 8, 512, 600, 600]);
    }

    #[test]
    fn message_events_are_sent_as_the_api_shows_messages() {
        let at = Utc::now();
        let row = MessageRow {
            id: Uuid::from_u128(1),
            channel_id: Uuid::from_u128(2),
            seq: 3,
            user_id: None,
            text: "Deleted words".into(),
            created_at: at,
            updated_at: at + chrono::Duration::seconds(1),
            deleted: true,
            version: 4,
            reply_to: None,
            mentions: vec![Uuid::from_u128(5)],
        };
        let event = Event::MessageUpdated(row);
        let sent = data(event.kind(), event.stored()).unwrap_or_default();
        assert_eq!(sent["message"]["text"], "", "no words of a deleted message");
        assert_eq!(sent["message"]["deleted"], true);
        assert_eq!(sent["message"]["user_id"], Value::Null);
        assert_eq!(sent["message"]["seq"], 3);
    }
}
