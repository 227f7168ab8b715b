//! Everything that runs only on the server (feature `ssr`): configuration, state, the database,
//! authentication, the JSON HTTP API and the router. May use `model` and `api`; never the
//! browser-side `chat` components or `pages` except to render the app shell.

pub mod app;
pub mod auth;
pub mod chat;
pub mod config;
pub mod context;
pub mod db;
pub mod error;
pub mod http;
pub mod limits;
pub mod realtime;
pub mod security;
pub mod seed;
pub mod serve;
pub mod state;

pub use app::router;
pub use config::Config;
pub use error::ServerError;
pub use serve::serve;
pub use state::{AppState, ServeSettings, Settings};
