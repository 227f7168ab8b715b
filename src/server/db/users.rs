//! The `users` table.

use sqlx::PgExecutor;
use uuid::Uuid;

use crate::model::User;

/// Inserts a new user; a taken username fails on `users_username_key`.
pub async fn insert(
    db: impl PgExecutor<'_>,
    id: Uuid,
    username: &str,
    display_name: &str,
    password_hash: &str,
) -> Result<User, sqlx::Error> {
    sqlx::query_as!(
        User,
        "INSERT INTO users (id, username, display_name, password_hash)
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
        r#"SELECT EXISTS (SELECT 1 FROM users WHERE username = $1) AS "taken!""#,
        username
    )
    .fetch_one(db)
    .await?;
    Ok(taken)
}

/// Inserts a user unless the username exists (used to seed demo accounts).
pub async fn insert_if_missing(
    db: impl PgExecutor<'_>,
    username: &str,
    display_name: &str,
    password_hash: &str,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query!(
        "INSERT INTO users (id, username, display_name, password_hash)
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
    pub user: User,
    pub password_hash: String,
}

/// The user and password hash for a (lower-cased) username.
pub async fn credentials(
    db: impl PgExecutor<'_>,
    username: &str,
) -> Result<Option<Credentials>, sqlx::Error> {
    let row = sqlx::query!(
        "SELECT id, username, display_name, password_hash FROM users WHERE username = $1",
        username
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| Credentials {
        user: User {
            id: r.id,
            username: r.username,
            display_name: r.display_name,
        },
        password_hash: r.password_hash,
    }))
}

/// Everyone except `me`, by display name.
pub async fn list_except(db: impl PgExecutor<'_>, me: Uuid) -> Result<Vec<User>, sqlx::Error> {
    sqlx::query_as!(
        User,
        "SELECT id, username, display_name FROM users WHERE id <> $1
         ORDER BY lower(display_name), username",
        me
    )
    .fetch_all(db)
    .await
}

/// How many of `ids` are existing users.
pub async fn count_existing(db: impl PgExecutor<'_>, ids: &[Uuid]) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM users WHERE id = ANY($1)"#,
        ids
    )
    .fetch_one(db)
    .await
}
