//! The chat's state, shared by every handler and server function: injected (axum state reached
//! through `FromRef`, Leptos context), never global.

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;

use super::attachments::{self, Files, UploadSettings};
use super::identity::Identity;
use super::lifecycle::Lifecycle;
use super::limits::{LimitSettings, Limits};
use super::realtime::Realtime;
use super::secret::ServerSecret;
use super::webhook::{self, Outbox, WebhookSettings};

/// Request-independent settings derived from the configuration once at start-up.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Mark cookies `Secure` and name the session cookie `__Host-…` (the public origin is
    /// https); also send HSTS.
    pub secure_cookies: bool,
    /// Where the app is served (`scheme://host[:port]`): the one foreign `Origin` accepted, and
    /// the one `Host` served besides loopback names in development.
    pub public_origin: String,
    /// Also serve `Host`s that name a loopback address (`127.0.0.1`, `[::1]`, `localhost`):
    /// when the server listens on loopback or the public origin is loopback (development).
    pub loopback_hosts: bool,
    /// Every abuse limit.
    pub limits: LimitSettings,
    /// How long one write to a WebSocket may take before the peer counts as not reading.
    pub socket_write_timeout: Duration,
    /// Connection-level limits of the HTTP server.
    pub serve: ServeSettings,
    /// `PARLEY_SERVER_SECRET`: turns on the server API (`/api/server/*`) and user tokens, and
    /// signs webhooks. `None`: the server API answers 404 and bearer tokens are not read.
    pub server_secret: Option<ServerSecret>,
    /// `PARLEY_WEBHOOK_URL` and its delivery settings: `None`, no webhook events are recorded.
    /// Needs `server_secret` (the signing key).
    pub webhooks: Option<WebhookSettings>,
    /// Attachments: where the default store keeps them, sizes, the unattached sweep.
    pub uploads: UploadSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            secure_cookies: false,
            public_origin: "http://127.0.0.1:3000".to_owned(),
            loopback_hosts: true,
            limits: LimitSettings::default(),
            socket_write_timeout: Duration::from_secs(10),
            serve: ServeSettings::default(),
            server_secret: None,
            webhooks: None,
            uploads: UploadSettings::default(),
        }
    }
}

impl Settings {
    /// Whether a request's `Host` names this server: the public origin's host (and port), or a
    /// loopback name when those are allowed. A DNS-rebinding page reaches us under its own
    /// name, which is neither.
    pub fn serves_host(&self, host: &str) -> bool {
        let host = host.trim().to_ascii_lowercase();
        let public = self
            .public_origin
            .split_once("://")
            .map_or(self.public_origin.as_str(), |(_, rest)| rest)
            .to_ascii_lowercase();
        let default_port = if self.secure_cookies { ":443" } else { ":80" };
        if host == public
            || host.strip_suffix(default_port) == Some(public.as_str())
            || public.strip_suffix(default_port) == Some(host.as_str())
        {
            return true;
        }
        self.loopback_hosts && is_loopback_name(host_name(&host))
    }
}

/// `host` without its port (`[::1]:3000` → `[::1]`).
fn host_name(host: &str) -> &str {
    if host.starts_with('[') {
        return host.split_inclusive(']').next().unwrap_or(host);
    }
    host.split(':').next().unwrap_or(host)
}

fn is_loopback_name(name: &str) -> bool {
    name == "localhost"
        || name == "[::1]"
        || name
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Limits of the HTTP server itself, below the routes.
#[derive(Debug, Clone)]
pub struct ServeSettings {
    /// A request's headers must arrive within this (against half-sent requests).
    pub header_read_timeout: Duration,
    /// A request that is not a stream must be answered within this (its body included).
    pub request_timeout: Duration,
    /// Connections held at once; beyond it new ones are closed at once.
    pub max_connections: usize,
}

impl Default for ServeSettings {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_connections: 10_000,
        }
    }
}

/// How long [`Chat::shut_down`] waits for the chat's tasks and sockets.
pub const SHUTDOWN_WITHIN: Duration = Duration::from_secs(20);

/// One instance of the chat: the pool, the host's identity, settings, abuse limits and the
/// realtime machinery. Cheap to clone. A host builds it once with [`Chat::start`], merges
/// [`Chat::routes`] into its router and provides it to server functions
/// ([`Chat::provide_context`]).
#[derive(Clone)]
pub struct Chat {
    pub pool: PgPool,
    pub identity: Arc<dyn Identity>,
    pub settings: Arc<Settings>,
    pub realtime: Realtime,
    pub limits: Arc<Limits>,
    /// Every task the chat runs, and the token that stops them.
    pub lifecycle: Lifecycle,
    /// Where changes record their webhook events (a no-op when webhooks are off).
    pub outbox: Outbox,
    /// Where attachments' bytes are kept ([`Chat::with_file_store`] replaces it).
    pub files: Files,
}

impl Chat {
    /// The chat of one server instance; starts its realtime tasks (call inside the runtime,
    /// after [`db::migrate`](super::db::migrate)).
    pub fn start(pool: PgPool, identity: impl Identity, settings: Settings) -> Self {
        let lifecycle = Lifecycle::default();
        let outbox = Outbox::new(settings.webhooks.is_some() && settings.server_secret.is_some());
        start_webhook_worker(&pool, &settings, &outbox, &lifecycle);
        let chat = Self {
            realtime: Realtime::start(pool.clone(), outbox.clone(), &lifecycle),
            limits: Limits::new(settings.limits.clone(), &lifecycle),
            identity: Arc::new(identity),
            files: Files::local(&settings.uploads.dir),
            pool,
            settings: Arc::new(settings),
            lifecycle: lifecycle.clone(),
            outbox,
        };
        attachments::start_sweeper(&chat, &lifecycle);
        chat
    }

    /// Makes the chat reachable from server functions and server-rendered components: call it
    /// in the context function given to leptos_axum's `leptos_routes_with_context` (and
    /// `file_and_error_handler_with_context`).
    pub fn provide_context(&self) {
        leptos::prelude::provide_context(self.clone());
    }

    /// Begins the shutdown: WebSockets finish answering the sends they hold and close with
    /// 1001 (clients reconnect elsewhere and resume), event streams end, new sockets and sends
    /// are refused with 503, the writers commit what is queued. Call it when the host's
    /// shutdown signal arrives, so sockets close while the HTTP server drains.
    pub fn stop(&self) {
        self.lifecycle.stop();
    }

    /// Stops (if not yet) and waits for every task and socket of the chat (at most
    /// [`SHUTDOWN_WITHIN`]), then takes this instance out of presence (its users who have no
    /// socket elsewhere go offline now). Call after the HTTP server has stopped, before
    /// closing the pool.
    pub async fn shut_down(&self) {
        if !self.lifecycle.finish(SHUTDOWN_WITHIN).await {
            tracing::warn!("some chat tasks were still running at shutdown");
        }
        self.realtime.shut_down(&self.pool).await;
    }
}

/// Spawns the webhook worker when webhooks are on: the one background task of the outbox,
/// under the chat's lifecycle (it stops when shutdown begins, or when the pool closes).
fn start_webhook_worker(
    pool: &PgPool,
    settings: &Settings,
    outbox: &Outbox,
    lifecycle: &Lifecycle,
) {
    let (Some(webhooks), Some(secret), true) = (
        settings.webhooks.clone(),
        settings.server_secret.clone(),
        outbox.enabled(),
    ) else {
        return;
    };
    match webhook::Worker::new(pool.clone(), webhooks, secret, outbox.clone()) {
        Ok(worker) => {
            // Deliveries in flight when it stops keep their lease: another instance (or this
            // one after a restart) sends them again.
            let stopping = lifecycle.clone();
            lifecycle.spawn(worker.run(async move { stopping.stopped().await }));
        }
        Err(error) => tracing::error!(%error, "webhooks are off: no HTTP client"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_own_host_names_are_served() {
        let dev = Settings::default();
        for host in [
            "127.0.0.1:3000",
            "localhost:3000",
            "[::1]:3000",
            "127.0.0.1:41234",
            "LOCALHOST:3000",
        ] {
            assert!(dev.serves_host(host), "{host}");
        }
        for host in [
            "rebind.attacker.example:3000",
            "attacker.example",
            "127.0.0.1.attacker.example:3000",
            "localhost.attacker.example",
            "",
        ] {
            assert!(!dev.serves_host(host), "{host}");
        }
        let public = Settings {
            public_origin: "https://chat.example.com".into(),
            secure_cookies: true,
            loopback_hosts: false,
            ..Settings::default()
        };
        assert!(public.serves_host("chat.example.com"));
        assert!(public.serves_host("chat.example.com:443"));
        assert!(!public.serves_host("127.0.0.1:3000"));
        assert!(!public.serves_host("evil.example.com"));
    }
}
