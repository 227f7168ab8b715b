//! Configuration, loaded and checked once at start-up: `Leptos.toml` (address, site root, …)
//! overridden by `LEPTOS_*` variables, plus the server's own variables:
//! `DATABASE_URL` (required), `PARLEY_PUBLIC_ORIGIN` (default `http://<site address>`),
//! `PARLEY_SEED_DEMO` (`1`/`true` seeds the demo users alice, bob and carol).

use leptos::config::{get_configuration, LeptosOptions};
use thiserror::Error;

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
        Settings {
            secure_cookies: self.public_origin.starts_with("https://"),
            public_origin: self.public_origin.trim_end_matches('/').to_owned(),
            ..Settings::default()
        }
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}
