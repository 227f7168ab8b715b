//! Demo accounts for a fresh install: alice, bob and carol, all with the password
//! [`DEMO_PASSWORD`] (named in the README). Existing accounts are left untouched.

use sqlx::PgPool;

use parley::server::ServerError;

use super::accounts::hash_password;
use super::db;
use crate::model::Password;

pub const DEMO_PASSWORD: &str = "parley-demo";

const DEMO_USERS: [(&str, &str); 3] = [
    ("alice", "Alice Liddell"),
    ("bob", "Bob Marley"),
    ("carol", "Carol Danvers"),
];

pub async fn seed_demo_users(pool: &PgPool) -> Result<(), ServerError> {
    tracing::warn!(
        "seeding the demo users alice, bob and carol with the public password \"{DEMO_PASSWORD}\" \
         (PARLEY_SEED_DEMO is set): never on a database real people use"
    );
    for (username, display_name) in DEMO_USERS {
        let hash = hash_password(Password::parse(DEMO_PASSWORD)?).await?;
        if db::insert_account_if_missing(pool, username, display_name, &hash).await? {
            tracing::info!(username, "seeded demo user");
        }
    }
    Ok(())
}
