//! The state every handler and server function shares: injected, never global.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sqlx::PgPool;

use super::limits::{Limits, Rate};
use super::realtime::Realtime;

/// Request-independent settings derived from the configuration once at start-up.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Mark cookies `Secure` (the public origin is https).
    pub secure_cookies: bool,
    /// How long a session lives without signing in again.
    pub session_ttl: Duration,
    /// Where the app is served (`scheme://host[:port]`): the one foreign `Origin` accepted.
    pub public_origin: String,
    /// Messages one user may send.
    pub send_rate: Rate,
    /// Sign-in attempts from one address.
    pub sign_in_rate: Rate,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            secure_cookies: false,
            session_ttl: Duration::from_secs(30 * 24 * 60 * 60),
            public_origin: "http://127.0.0.1:3000".to_owned(),
            // 10 a second sustained, 100 at once (a pasted batch, an outbox after a tunnel).
            send_rate: Rate {
                per_minute: 600,
                burst: 100,
            },
            // One a second sustained: password guessing stays slow, while a test suite or an
            // office behind one address signing many people in at once is not refused.
            sign_in_rate: Rate {
                per_minute: 60,
                burst: 60,
            },
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub pool: PgPool,
    pub settings: Arc<Settings>,
    pub realtime: Realtime,
    pub limits: Arc<Limits>,
}

impl AppState {
    /// State for one server instance; starts its realtime tasks (call inside the runtime).
    pub fn new(leptos_options: LeptosOptions, pool: PgPool, settings: Settings) -> Self {
        Self {
            leptos_options,
            realtime: Realtime::start(pool.clone()),
            limits: Limits::new(settings.send_rate, settings.sign_in_rate),
            pool,
            settings: Arc::new(settings),
        }
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
