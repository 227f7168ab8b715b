//! The state every handler and server function shares: injected, never global.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sqlx::PgPool;

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
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            secure_cookies: false,
            session_ttl: Duration::from_secs(30 * 24 * 60 * 60),
            public_origin: "http://127.0.0.1:3000".to_owned(),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub pool: PgPool,
    pub settings: Arc<Settings>,
    pub realtime: Realtime,
}

impl AppState {
    /// State for one server instance; starts its realtime tasks (call inside the runtime).
    pub fn new(leptos_options: LeptosOptions, pool: PgPool, settings: Settings) -> Self {
        Self {
            leptos_options,
            realtime: Realtime::start(pool.clone()),
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
