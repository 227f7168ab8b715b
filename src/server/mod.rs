//! The chat's server side (feature `ssr`): its state ([`Chat`]), the identity seam a host
//! implements and the people search over it, configuration, the database, the JSON HTTP API, attachments, the server API for the host's
//! backend (user tokens, webhooks), realtime delivery and the layers a host may wrap its
//! router in. May use `model` and `api`; never the browser-side `chat`
//! components or `client`.

pub mod attachments;
pub mod auth;
pub mod bus;
pub mod chat;
pub mod config;
pub mod context;
pub mod db;
pub mod error;
pub mod extract;
pub mod http;
pub mod identity;
pub mod lifecycle;
pub mod limits;
pub mod manage;
pub mod people;
pub mod realtime;
pub mod routes;
pub mod search;
pub mod secret;
pub mod security;
pub mod serve;
pub mod server_api;
pub mod state;
pub mod store;
pub mod style;
pub mod token;
pub mod webhook;

pub use auth::{CurrentUser, MintedToken, Viewer};
pub use error::ServerError;
pub use identity::{HostSession, HostUser, Identity, IdentityError, UserSearch};
pub use serve::serve;
pub use state::{Chat, ServeSettings, Settings};
