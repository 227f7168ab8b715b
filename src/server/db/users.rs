//! The `chat_users` table: the chat's projection of the host's people (the chat's own uuid, the
//! host's `external_id`, names, last seen). The host owns accounts and passwords.

use sqlx::PgExecutor;
use uuid::Uuid;

use crate::model::User;

/// The chat user of a host's person, created when missing and renamed when the names differ.
/// The usual case (known, unchanged) is one read; a write happens only on first sight or after
/// a rename.
pub async fn project(
    db: impl PgExecutor<'_> + Copy,
    external_id: &str,
    username: &str,
    display_name: &str,
) -> Result<User, sqlx::Error> {
    let known = sqlx::query_as!(
        User,
        "SELECT id, username, display_name FROM chat_users WHERE external_id = $1",
        external_id
    )
    .fetch_optional(db)
    .await?;
    if let Some(user) = known.filter(|u| u.username == username && u.display_name == display_name) {
        return Ok(user);
    }
    sqlx::query_as!(
        User,
        "INSERT INTO chat_users (id, external_id, username, display_name)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (external_id) DO UPDATE
             SET username = EXCLUDED.username, display_name = EXCLUDED.display_name
         RETURNING id, username, display_name",
        Uuid::new_v4(),
        external_id,
        username,
        display_name
    )
    .fetch_one(db)
    .await
}

/// [`project`] for many people at once (three equally long columns), in the order given.
/// Rows whose names did not change are not written.
pub async fn project_many(
    db: impl PgExecutor<'_> + Copy,
    external_ids: &[String],
    usernames: &[String],
    display_names: &[String],
) -> Result<Vec<User>, sqlx::Error> {
    sqlx::query!(
        "INSERT INTO chat_users (id, external_id, username, display_name)
         SELECT gen_random_uuid(), e, u, d FROM UNNEST($1::text[], $2::text[], $3::text[]) AS p (e, u, d)
         ON CONFLICT (external_id) DO UPDATE
             SET username = EXCLUDED.username, display_name = EXCLUDED.display_name
             WHERE (chat_users.username, chat_users.display_name)
                   IS DISTINCT FROM (EXCLUDED.username, EXCLUDED.display_name)",
        external_ids,
        usernames,
        display_names
    )
    .execute(db)
    .await?;
    sqlx::query_as!(
        User,
        r#"SELECT u.id AS "id!", u.username AS "username!", u.display_name AS "display_name!"
           FROM UNNEST($1::text[]) WITH ORDINALITY AS p (external_id, n)
           JOIN chat_users u ON u.external_id = p.external_id
           ORDER BY p.n"#,
        external_ids
    )
    .fetch_all(db)
    .await
}

/// The chat user id of a host's person, if the chat has seen them.
pub async fn id_of(
    db: impl PgExecutor<'_>,
    external_id: &str,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT id FROM chat_users WHERE external_id = $1",
        external_id
    )
    .fetch_optional(db)
    .await
}

/// How many of `ids` are existing users.
pub async fn count_existing(db: impl PgExecutor<'_>, ids: &[Uuid]) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM chat_users WHERE id = ANY($1)"#,
        ids
    )
    .fetch_one(db)
    .await
}

/// A chat user with the host's id for them.
pub struct UserRow {
    pub id: Uuid,
    pub external_id: String,
    pub username: String,
    pub display_name: String,
}

impl UserRow {
    pub fn user(&self) -> User {
        User {
            id: self.id,
            username: self.username.clone(),
            display_name: self.display_name.clone(),
        }
    }
}

/// The chat user with this id, if any.
pub async fn find(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as!(
        UserRow,
        "SELECT id, external_id, username, display_name FROM chat_users WHERE id = $1",
        id
    )
    .fetch_optional(db)
    .await
}

/// The display names of these users, in the order given (unknown ids left out).
pub async fn display_names(
    db: impl PgExecutor<'_>,
    ids: &[Uuid],
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT u.display_name AS "display_name!"
             FROM unnest($1::uuid[]) WITH ORDINALITY AS i(id, ord)
             JOIN chat_users u ON u.id = i.id
            ORDER BY i.ord"#,
        ids
    )
    .fetch_all(db)
    .await
}
