//! The demo's server side (feature `ssr`): accounts and sessions in its own tables, the
//! identity the chat asks, its account API, seeding, configuration and the router. Uses the
//! chat only through `parley::server`'s public API.

pub mod accounts;
pub mod config;
pub mod db;
pub mod form;
pub mod http;
pub mod identity;
pub mod router;
pub mod seed;
pub mod state;

pub use accounts::{AccountSettings, Accounts};
pub use config::Config;
pub use router::router;
pub use state::DemoState;
