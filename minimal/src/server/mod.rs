//! The minimal host's server side (feature `ssr`): its sessions, the identity the chat asks,
//! sign-in and sign-out, and the router. Uses the chat only through `parley::server`'s public
//! API.

pub mod account;
pub mod identity;
pub mod router;
pub mod sessions;

pub use router::{router, AppState};
pub use sessions::Sessions;
