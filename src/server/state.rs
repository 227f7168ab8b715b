//! The state every handler and server function shares: injected, never global.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sqlx::PgPool;

/// Request-independent settings derived from the configuration once at start-up.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Mark cookies `Secure` (the public origin is https).
    pub secure_cookies: bool,
    /// How long a session lives without signing in again.
    pub session_ttl: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            secure_cookies: false,
            session_ttl: Duration::from_secs(30 * 24 * 60 * 60),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub pool: PgPool,
    pub settings: Arc<Settings>,
}

impl AppState {
    pub fn new(leptos_options: LeptosOptions, pool: PgPool, settings: Settings) -> Self {
        Self {
            leptos_options,
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
