//! Configuration, loaded and checked once at start-up: `Leptos.toml` (address, site root, …)
//! overridden by `LEPTOS_*` variables, plus the server's own variables:
//! `DATABASE_URL` (required), `PARLEY_PUBLIC_ORIGIN` (default `http://<site address>`),
//! `PARLEY_SEED_DEMO` (`1`/`true` seeds the demo users alice, bob and carol),
//! `PARLEY_SENDS_PER_MINUTE` and `PARLEY_SEND_BURST` (the per-user send limit; 600 and 100).

use leptos::config::{get_configuration, LeptosOptions};
use thiserror::Error;

use super::limits::Rate;
use super::state::Settings;

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("could not read Leptos.toml: {0}")]
    Leptos(String),
    #[error("DATABASE_URL is not set")]
    MissingDatabaseUrl,
}

pub struct Config {
    pub leptos_options: LeptosOptions,
    pub database_url: String,
    pub public_origin: String,
    pub seed_demo_users: bool,
}

impl Config {
    pub fn load() -> Result<Self, ConfigError> {
        let leptos_options = get_configuration(Some("Leptos.toml"))
            .map_err(|e| ConfigError::Leptos(e.to_string()))?
            .leptos_options;
        let database_url = env("DATABASE_URL").ok_or(ConfigError::MissingDatabaseUrl)?;
        let public_origin = env("PARLEY_PUBLIC_ORIGIN")
            .unwrap_or_else(|| format!("http://{}", leptos_options.site_addr));
        let seed_demo_users = env("PARLEY_SEED_DEMO").is_some_and(|v| v == "1" || v == "true");
        Ok(Self {
            leptos_options,
            database_url,
            public_origin,
            seed_demo_users,
        })
    }

    pub fn settings(&self) -> Settings {
        let defaults = Settings::default();
        Settings {
            secure_cookies: self.public_origin.starts_with("https://"),
            public_origin: self.public_origin.trim_end_matches('/').to_owned(),
            send_rate: Rate {
                per_minute: number("PARLEY_SENDS_PER_MINUTE")
                    .unwrap_or(defaults.send_rate.per_minute),
                burst: number("PARLEY_SEND_BURST").unwrap_or(defaults.send_rate.burst),
            },
            ..defaults
        }
    }
}

fn number(name: &str) -> Option<u32> {
    env(name).and_then(|v| v.parse().ok())
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}
