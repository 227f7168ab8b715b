//! Queries, one file per table. Each function takes any executor (pool, connection or
//! transaction) and returns `sqlx::Error`; callers turn that into `ServerError` in one place.

pub mod channels;
pub mod messages;
pub mod presence;
pub mod sessions;
pub mod users;

/// The schema migrations in `migrations/`, embedded in the binary and applied at start-up.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();
