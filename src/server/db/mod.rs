//! Queries, one file per table. Each function takes any executor (pool, connection or
//! transaction) and returns `sqlx::Error`; callers turn that into `ServerError` in one place.

pub mod attachments;
pub mod blocks;
pub mod channels;
pub mod messages;
pub mod presence;
pub mod reports;
pub mod search;
pub mod users;
pub mod webhooks;

use sqlx::migrate::{MigrateError, Migrator};
use sqlx::PgPool;

/// The table that records which of the chat's migrations ran: its own, so a host's
/// `_sqlx_migrations` (and `sqlx migrate run`) never sees the chat's and the chat never sees
/// the host's.
pub const MIGRATIONS_TABLE: &str = "chat_migrations";

/// The chat's schema migrations (`migrations/`, every table prefixed `chat_`), embedded in the
/// library.
pub fn migrator() -> Migrator {
    let mut migrator = sqlx::migrate!();
    migrator.dangerous_set_table_name(MIGRATIONS_TABLE);
    migrator
}

/// A page read one row beyond its `limit` (queries are asked for `limit + 1`): the first
/// `limit` rows, and whether more follow.
pub fn page_of<T>(mut rows: Vec<T>, limit: i64) -> (Vec<T>, bool) {
    // A negative limit never reaches here (callers clamp or reject it); as 0 it keeps nothing.
    let limit = usize::try_from(limit).unwrap_or(0);
    let more = rows.len() > limit;
    rows.truncate(limit);
    (rows, more)
}

/// Brings the chat's tables up to date; a host calls it at start-up, before or after its own
/// migrations.
pub async fn migrate(pool: &PgPool) -> Result<(), MigrateError> {
    migrator().run(pool).await
}
