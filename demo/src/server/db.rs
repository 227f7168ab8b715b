//! The demo's own tables: `demo_accounts` (username, display name, password hash) and
//! `demo_sessions` (SHA-256 of a session token → account, until it expires), and their
//! migrations, applied with sqlx's usual migrations table beside the chat's own.

use chrono::{DateTime, Utc};
use parley::server::ServerError;
use sqlx::PgExecutor;
use uuid::Uuid;

/// The demo's migrations (`demo/migrations/`), recorded in sqlx's default `_sqlx_migrations`.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

/// An account as the pages and the chat see it (never the password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
}

/// A database error of an account write: a taken username is the visitor's to fix.
pub fn account_error(error: sqlx::Error) -> ServerError {
    match &error {
        sqlx::Error::Database(db) if db.constraint() == Some("demo_accounts_username_key") => {
            ServerError::UsernameTaken
        }
        _ => error.into(),
    }
}

/// Inserts a new account; a taken username fails on `demo_accounts_username_key`.
pub async fn insert_account(
    db: impl PgExecutor<'_>,
    id: Uuid,
    username: &str,
    display_name: &str,
    password_hash: &str,
) -> Result<Account, sqlx::Error> {
    sqlx::query_as!(
        Account,
        "INSERT INTO demo_accounts (id, username, display_name, password_hash)
         VALUES ($1, $2, $3, $4)
         RETURNING id, username, display_name",
        id,
        username,
        display_name,
        password_hash
    )
    .fetch_one(db)
    .await
}

/// Whether a (lower-cased) username is taken: checked before a password is hashed, so a
/// repeated taken name costs a lookup, not a hash.
pub async fn username_taken(db: impl PgExecutor<'_>, username: &str) -> Result<bool, sqlx::Error> {
    let taken = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM demo_accounts WHERE username = $1) AS "taken!""#,
        username
    )
    .fetch_one(db)
    .await?;
    Ok(taken)
}

/// Inserts an account unless the username exists (used to seed the demo accounts).
pub async fn insert_account_if_missing(
    db: impl PgExecutor<'_>,
    username: &str,
    display_name: &str,
    password_hash: &str,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query!(
        "INSERT INTO demo_accounts (id, username, display_name, password_hash)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (username) DO NOTHING",
        Uuid::new_v4(),
        username,
        display_name,
        password_hash
    )
    .execute(db)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

pub struct Credentials {
    pub account: Account,
    pub password_hash: String,
}

/// The account and password hash for a (lower-cased) username.
pub async fn credentials(
    db: impl PgExecutor<'_>,
    username: &str,
) -> Result<Option<Credentials>, sqlx::Error> {
    let row = sqlx::query!(
        "SELECT id, username, display_name, password_hash FROM demo_accounts WHERE username = $1",
        username
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| Credentials {
        account: Account {
            id: r.id,
            username: r.username,
            display_name: r.display_name,
        },
        password_hash: r.password_hash,
    }))
}

/// A page of the accounts other than `viewer` whose display name or username matches
/// `pattern` (an `ILIKE` pattern escaped with `\`: [`parley::server::UserSearch::like_pattern`];
/// `None`: every account), ordered by display name ignoring case, then id (stable). The order
/// is `demo_accounts_display_name_idx`'s, so the first pages of everyone read only their rows.
pub async fn search_accounts(
    db: impl PgExecutor<'_>,
    viewer: Option<Uuid>,
    pattern: Option<&str>,
    offset: i64,
    limit: i64,
) -> Result<Vec<Account>, sqlx::Error> {
    sqlx::query_as!(
        Account,
        r#"SELECT id, username, display_name FROM demo_accounts
         WHERE ($1::uuid IS NULL OR id <> $1)
           AND ($2::text IS NULL OR display_name ILIKE $2 OR username ILIKE $2)
         ORDER BY lower(display_name), id
         OFFSET $3 LIMIT $4"#,
        viewer,
        pattern,
        offset,
        limit
    )
    .fetch_all(db)
    .await
}

pub async fn insert_session(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
    account_id: Uuid,
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO demo_sessions (token_hash, account_id, expires_at) VALUES ($1, $2, $3)",
        token_hash,
        account_id,
        expires_at
    )
    .execute(db)
    .await?;
    Ok(())
}

/// A live session: whose it is and until when.
pub struct LiveSession {
    pub account: Account,
    pub expires_at: DateTime<Utc>,
}

/// The live (not expired, not deleted) session of a token.
pub async fn live_session(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
) -> Result<Option<LiveSession>, sqlx::Error> {
    let row = sqlx::query!(
        "SELECT a.id, a.username, a.display_name, s.expires_at
         FROM demo_sessions s JOIN demo_accounts a ON a.id = s.account_id
         WHERE s.token_hash = $1 AND s.expires_at > now()",
        token_hash
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| LiveSession {
        account: Account {
            id: r.id,
            username: r.username,
            display_name: r.display_name,
        },
        expires_at: r.expires_at,
    }))
}

/// Whether a token's session is live.
pub async fn session_is_live(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM demo_sessions WHERE token_hash = $1 AND expires_at > now()) AS "live!""#,
        token_hash
    )
    .fetch_one(db)
    .await
}

/// Deletes a session; returns its account when there was one.
pub async fn delete_session(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "DELETE FROM demo_sessions WHERE token_hash = $1 RETURNING account_id",
        token_hash
    )
    .fetch_optional(db)
    .await
}

/// Deletes every session of an account ("sign out everywhere"); returns how many.
pub async fn delete_sessions_of(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        "DELETE FROM demo_sessions WHERE account_id = $1",
        account_id
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// Removes expired sessions; returns how many. (Connections of a session close by themselves
/// when it expires: each knows its session's end.)
pub async fn delete_expired_sessions(db: impl PgExecutor<'_>) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!("DELETE FROM demo_sessions WHERE expires_at <= now()")
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}
