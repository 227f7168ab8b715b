//! The benchmark's people and channels, made with SQL rather than through the API: signing up
//! costs ~50 ms of argon2 per person, so thousands are inserted directly, all with one
//! precomputed password hash, each with a session whose cookie token we keep (the server stores
//! only its SHA-256, computed here by PostgreSQL). Also the scratch database itself.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::SaltString;
use argon2::{Argon2, PasswordHasher};
use sqlx::postgres::PgPoolOptions;
use sqlx::{AssertSqlSafe, PgPool};
use uuid::Uuid;

use crate::Failure;

/// A signed-in benchmark user: their id and the value of their `parley_session` cookie.
#[derive(Clone)]
pub struct BenchUser {
    pub id: Uuid,
    pub token: String,
}

/// A channel and its members (indices into [`Fixture::users`]).
#[derive(Clone)]
pub struct BenchChannel {
    pub id: Uuid,
    pub members: Vec<usize>,
}

#[derive(Default)]
pub struct Fixture {
    pub users: Vec<BenchUser>,
    pub channels: Vec<BenchChannel>,
    /// Per user, the channels (indices into `channels`) they belong to.
    pub channels_of: Vec<Vec<usize>>,
}

/// How the users are spread over channels.
#[derive(Clone, Copy)]
pub enum Layout {
    /// Each user has a 1:1 with the next one (a ring: `n` channels, two each).
    Ring,
    /// The ring plus groups of `group_size` consecutive users: two 1:1s and one group each.
    RingAndGroups { group_size: usize },
}

/// The cookie a benchmark user sends.
pub fn cookie(token: &str) -> String {
    format!("parley_session={token}")
}

/// Drops and recreates `name` next to the database `admin_url` names; returns its URL.
pub async fn scratch_database(admin_url: &str, name: &str) -> Result<String, Failure> {
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect(admin_url)
        .await?;
    // The name is one of this tool's constants, never input.
    sqlx::raw_sql(AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
    )))
    .execute(&admin)
    .await?;
    sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&admin)
        .await?;
    admin.close().await;
    let (base, query) = match admin_url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (admin_url, String::new()),
    };
    let server = base
        .rsplit_once('/')
        .map(|(server, _)| server)
        .filter(|server| server.contains("://") && !server.ends_with('/'))
        .ok_or("DATABASE_URL has no database name")?;
    Ok(format!("{server}/{name}{query}"))
}

/// Empties every table the benchmarks fill (between scenarios, with no server running).
pub async fn reset(pool: &PgPool) -> Result<(), Failure> {
    sqlx::raw_sql("TRUNCATE demo_accounts, chat_users, chat_channels, chat_instances CASCADE")
        .execute(pool)
        .await?;
    Ok(())
}

/// Inserts `count` users with live sessions: demo accounts and their chat users, with the same
/// uuid for both (the chat's `external_id` is the account id), so a session names its chat user.
pub async fn users(pool: &PgPool, count: usize) -> Result<Vec<BenchUser>, Failure> {
    let salt = SaltString::generate(&mut OsRng);
    let hash = Argon2::default()
        .hash_password(b"benchmark password", &salt)
        .map_err(|e| format!("hashing the benchmark password: {e}"))?
        .to_string();
    let users: Vec<BenchUser> = (0..count)
        .map(|_| BenchUser {
            id: Uuid::new_v4(),
            token: Uuid::new_v4().simple().to_string(),
        })
        .collect();
    // Chunks keep each statement's arrays a reasonable size.
    for chunk in users.chunks(10_000) {
        let ids: Vec<Uuid> = chunk.iter().map(|u| u.id).collect();
        let tokens: Vec<String> = chunk.iter().map(|u| u.token.clone()).collect();
        sqlx::query(
            "INSERT INTO demo_accounts (id, username, display_name, password_hash)
             SELECT id, 'bench_' || replace(id::text, '-', ''), 'Bench ' || left(id::text, 8), $2
               FROM unnest($1::uuid[]) AS u(id)",
        )
        .bind(&ids)
        .bind(&hash)
        .execute(pool)
        .await?;
        sqlx::query(
            "INSERT INTO chat_users (id, external_id, username, display_name)
             SELECT id, id::text, username, display_name FROM demo_accounts
              WHERE id = ANY($1::uuid[])",
        )
        .bind(&ids)
        .execute(pool)
        .await?;
        sqlx::query(
            "INSERT INTO demo_sessions (token_hash, account_id, expires_at)
             SELECT sha256(convert_to(token, 'UTF8')), id, now() + interval '1 day'
               FROM unnest($1::uuid[], $2::text[]) AS s(id, token)",
        )
        .bind(&ids)
        .bind(&tokens)
        .execute(pool)
        .await?;
    }
    Ok(users)
}

/// Inserts channels and memberships; `channels[i].members` index into `users`.
pub async fn insert_channels(
    pool: &PgPool,
    users: &[BenchUser],
    channels: &[BenchChannel],
) -> Result<(), Failure> {
    for chunk in channels.chunks(5_000) {
        let (mut ids, mut kinds, mut names, mut dm_keys) = (vec![], vec![], vec![], vec![]);
        let (mut member_channels, mut member_users) = (vec![], vec![]);
        for channel in chunk {
            ids.push(channel.id);
            if channel.members.len() == 2 {
                let (a, b) = (users[channel.members[0]].id, users[channel.members[1]].id);
                let (low, high) = if a < b { (a, b) } else { (b, a) };
                kinds.push("dm".to_owned());
                names.push(None);
                dm_keys.push(Some(format!("{low}:{high}")));
            } else {
                kinds.push("group".to_owned());
                names.push(Some(format!(
                    "Bench group {}",
                    &channel.id.simple().to_string()[..6]
                )));
                dm_keys.push(None);
            }
            for &member in &channel.members {
                member_channels.push(channel.id);
                member_users.push(users[member].id);
            }
        }
        sqlx::query(
            "INSERT INTO chat_channels (id, kind, name, dm_key)
             SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[])",
        )
        .bind(&ids)
        .bind(&kinds)
        .bind(&names)
        .bind(&dm_keys)
        .execute(pool)
        .await?;
        sqlx::query(
            "INSERT INTO chat_members (channel_id, user_id)
             SELECT * FROM unnest($1::uuid[], $2::uuid[])",
        )
        .bind(&member_channels)
        .bind(&member_users)
        .execute(pool)
        .await?;
    }
    Ok(())
}

/// `count` users spread over channels as `layout` says.
pub async fn build(pool: &PgPool, count: usize, layout: Layout) -> Result<Fixture, Failure> {
    let users = users(pool, count).await?;
    let mut channels = Vec::new();
    let ring = |channels: &mut Vec<BenchChannel>| {
        if count >= 2 {
            // Two people have one 1:1 between them, not two.
            let pairs = if count == 2 { 1 } else { count };
            for i in 0..pairs {
                channels.push(BenchChannel {
                    id: Uuid::new_v4(),
                    members: vec![i, (i + 1) % count],
                });
            }
        }
    };
    match layout {
        Layout::Ring => ring(&mut channels),
        Layout::RingAndGroups { group_size } => {
            ring(&mut channels);
            for start in (0..count).step_by(group_size.max(3)) {
                let members: Vec<usize> = (start..(start + group_size).min(count)).collect();
                if members.len() >= 3 {
                    channels.push(BenchChannel {
                        id: Uuid::new_v4(),
                        members,
                    });
                }
            }
        }
    }
    insert_channels(pool, &users, &channels).await?;
    let mut channels_of = vec![Vec::new(); users.len()];
    for (index, channel) in channels.iter().enumerate() {
        for &member in &channel.members {
            channels_of[member].push(index);
        }
    }
    Ok(Fixture {
        users,
        channels,
        channels_of,
    })
}
