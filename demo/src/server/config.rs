//! The demo's configuration, loaded and checked once at start-up: `Leptos.toml` (address, site
//! root, …) overridden by `LEPTOS_*` variables, `DATABASE_URL` (required), `PARLEY_SEED_DEMO`
//! (`1`/`true` seeds alice, bob and carol), and the chat's own variables
//! (`parley::server::config`).

use std::time::Duration;

use leptos::config::{get_configuration, LeptosOptions};
use parley::server::config::{ChatConfig, ConfigError};
use parley::server::Settings;
use thiserror::Error;

use super::accounts::AccountSettings;

#[derive(Debug, Error)]
pub enum DemoConfigError {
    #[error("could not read Leptos.toml: {0}")]
    Leptos(String),
    #[error("DATABASE_URL is not set")]
    MissingDatabaseUrl,
    #[error(transparent)]
    Chat(#[from] ConfigError),
}

pub struct Config {
    pub leptos_options: LeptosOptions,
    pub database_url: String,
    pub seed_demo_users: bool,
    pub chat: ChatConfig,
}

impl Config {
    pub fn load() -> Result<Self, DemoConfigError> {
        let leptos_options = get_configuration(Some("Leptos.toml"))
            .map_err(|e| DemoConfigError::Leptos(e.to_string()))?
            .leptos_options;
        let database_url = env("DATABASE_URL").ok_or(DemoConfigError::MissingDatabaseUrl)?;
        let seed_demo_users = env("PARLEY_SEED_DEMO").is_some_and(|v| v == "1" || v == "true");
        let chat = ChatConfig::from_env(leptos_options.site_addr)?;
        Ok(Self {
            leptos_options,
            database_url,
            seed_demo_users,
            chat,
        })
    }

    pub fn settings(&self) -> Settings {
        self.chat.settings()
    }

    /// The demo's sessions: secure cookies exactly when the chat's origin is https.
    pub fn account_settings(&self) -> AccountSettings {
        AccountSettings {
            secure_cookies: self.chat.settings().secure_cookies,
            session_ttl: Duration::from_secs(30 * 24 * 60 * 60),
        }
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}
