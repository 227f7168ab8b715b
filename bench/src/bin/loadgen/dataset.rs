//! A big database: messages bulk-loaded with `COPY` across many channels (1M across 10k by
//! default), one person in 1,000 of them. Times, over HTTP against the real server, that
//! person's channel list and history pages, each beside the bare SQL that reads the same rows
//! (the floor: what the database alone needs) and an authenticated no-op request (`/api/auth/me`:
//! what any request costs); and message search, for a rare word (one of 1,000 topics, one in
//! every message) and a word every message holds, each beside its bare SQL.

use std::time::{Duration, Instant};

use chrono::Utc;
use hyper::Method;
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use crate::client::Rng;
use crate::fixture::{self, BenchChannel};
use crate::http::Http;
use crate::process::Served;
use crate::stats::{round3, Samples, Summary};
use crate::Failure;

#[derive(Debug, Clone, Copy)]
pub struct Size {
    pub channels: usize,
    pub messages_per_channel: usize,
    /// Channels the measured person belongs to.
    pub my_channels: usize,
    pub others: usize,
    pub requests: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Dataset {
    pub messages: i64,
    pub channels: usize,
    pub my_channels: usize,
    pub copy_s: f64,
    pub copy_rows_per_s: f64,
    pub channel_list: Summary,
    pub channel_list_sql_floor: Summary,
    /// The sidebar's server function: the first page and the unread count of the rest.
    pub sidebar_first_load: Summary,
    pub sidebar_first_load_sql_floor: Summary,
    pub history_page: Summary,
    pub history_page_sql_floor: Summary,
    pub auth_me: Summary,
    pub channel_list_bytes: usize,
    /// `GET /api/chat/search?q=topicN`: about one message in 1,000 matches.
    pub search_rare_word: Summary,
    pub search_rare_word_sql_floor: Summary,
    /// `GET /api/chat/search?q=benchmark`: every message matches (the worst case).
    pub search_common_word: Summary,
    pub search_common_word_sql_floor: Summary,
}

/// Topics the messages are about: a search for one finds about one message in this many.
const TOPICS: usize = 1_000;

/// The bare SQL of a search: my channels' matching messages, newest first, one page.
const SEARCH_FLOOR: &str = "SELECT m.id, m.channel_id, m.seq, m.user_id, m.text, m.created_at
       FROM chat_messages m
       JOIN chat_members mb ON mb.channel_id = m.channel_id AND mb.user_id = $1
      WHERE m.search @@ websearch_to_tsquery('english', $2)
        AND NOT m.deleted AND m.user_id IS NOT NULL
      ORDER BY m.created_at DESC, m.id DESC LIMIT 21";

/// Fills the (empty) database; returns the measured person's token and channels.
pub async fn load(pool: &PgPool, size: Size) -> Result<(String, Vec<Uuid>, f64, i64), Failure> {
    let users = fixture::users(pool, size.others + 1).await?;
    let mut rng = Rng::new(7);
    let mut channels = Vec::with_capacity(size.channels);
    for c in 0..size.channels {
        // Half of my channels are 1:1s (one per other person, so their keys are unique); every
        // other channel is a group of three distinct people.
        let members = if c < size.my_channels && c % 2 == 0 {
            vec![0, 1 + (c / 2) % size.others]
        } else {
            let mut members = if c < size.my_channels {
                vec![0]
            } else {
                vec![]
            };
            while members.len() < 3 {
                let other = 1 + rng.below(size.others);
                if !members.contains(&other) {
                    members.push(other);
                }
            }
            members
        };
        channels.push(BenchChannel {
            id: Uuid::new_v4(),
            members,
        });
    }
    fixture::insert_channels(pool, &users, &channels).await?;

    let started = Instant::now();
    let mut connection = pool.acquire().await?;
    let mut copy = connection
        .copy_in_raw(
            "COPY chat_messages (id, channel_id, seq, user_id, text, created_at, updated_at) FROM STDIN",
        )
        .await?;
    let now = Utc::now();
    let mut chunk = String::with_capacity(4 << 20);
    for (c, channel) in channels.iter().enumerate() {
        for seq in 1..=size.messages_per_channel {
            let author = users[channel.members[seq % channel.members.len()]].id;
            let at =
                now - chrono::Duration::seconds((c * 7 + size.messages_per_channel - seq) as i64);
            let at = at.format("%Y-%m-%d %H:%M:%S%.6f+00");
            let topic = rng.below(TOPICS);
            chunk.push_str(&format!(
                "{}\t{}\t{seq}\t{author}\tMessage {seq} of a benchmark channel, about topic{topic}.\t{at}\t{at}\n",
                Uuid::new_v4(),
                channel.id,
            ));
        }
        if chunk.len() > 4 << 20 {
            copy.send(chunk.as_bytes()).await?;
            chunk.clear();
        }
    }
    copy.send(chunk.as_bytes()).await?;
    let rows = copy.finish().await?;
    drop(connection);
    sqlx::raw_sql(
        "UPDATE chat_channels c SET last_seq = m.n, last_message_at = m.at
           FROM (SELECT channel_id, max(seq) AS n, max(created_at) AS at
                   FROM chat_messages GROUP BY channel_id) m
          WHERE c.id = m.channel_id;
         UPDATE chat_members SET last_read_seq = (random() * 90)::int8;",
    )
    .execute(pool)
    .await?;
    let copy_s = started.elapsed().as_secs_f64();
    // As autovacuum would have done on a database that grew over time.
    sqlx::raw_sql("VACUUM ANALYZE").execute(pool).await?;
    let mine = channels[..size.my_channels].iter().map(|c| c.id).collect();
    Ok((users[0].token.clone(), mine, copy_s, rows as i64))
}

pub async fn measure(
    pool: &PgPool,
    served: &Served,
    size: Size,
    token: &str,
    mine: &[Uuid],
    copy_s: f64,
    rows: i64,
) -> Result<Dataset, Failure> {
    let mut http = Http::connect(served.addr, Some(token)).await?;
    let mut rng = Rng::new(11);
    let me: Uuid = sqlx::query_scalar(
        "SELECT account_id FROM demo_sessions WHERE token_hash = sha256(convert_to($1, 'UTF8'))",
    )
    .bind(token)
    .fetch_one(pool)
    .await?;
    let warm = size.requests / 10 + 1;

    let (mut list, mut list_floor, mut page, mut page_floor, mut me_samples) = (
        Samples::default(),
        Samples::default(),
        Samples::default(),
        Samples::default(),
        Samples::default(),
    );
    let (mut sidebar, mut sidebar_floor) = (Samples::default(), Samples::default());
    let mut list_bytes = 0;
    for i in 0..size.requests + warm {
        let reply = http.get("/api/chat/channels", false).await?;
        if reply.status != 200 {
            return Err(format!("channel list answered {}", reply.status).into());
        }
        list_bytes = reply.body.len();
        let floor = timed(
            sqlx::query(
                "SELECT c.id, c.kind, c.name, c.last_seq, c.last_message_at, m.last_read_seq
                   FROM chat_members m JOIN chat_channels c ON c.id = m.channel_id
                  WHERE m.user_id = $1
                  ORDER BY coalesce(c.last_message_at, c.created_at) DESC, c.id DESC
                  LIMIT 50",
            )
            .bind(me)
            .fetch_all(pool),
        )
        .await?;
        // The sidebar's first load: the same page, plus the unread count of every other channel.
        let sidebar_reply = http
            .request(Method::POST, "/api/fn/channels", None, false)
            .await?;
        if sidebar_reply.status != 200 {
            return Err(format!("sidebar page answered {}", sidebar_reply.status).into());
        }
        let unread_floor = timed(
            sqlx::query(
                "SELECT count(*) FROM chat_members me
                   JOIN chat_messages m ON m.channel_id = me.channel_id AND m.seq > me.last_read_seq
                  WHERE me.user_id = $1 AND m.user_id <> $1 AND NOT m.deleted",
            )
            .bind(me)
            .fetch_all(pool),
        )
        .await?;
        if i >= warm {
            list.push(reply.elapsed);
            list_floor.push(floor);
            sidebar.push(sidebar_reply.elapsed);
            sidebar_floor.push(floor + unread_floor);
        }
    }
    for i in 0..(size.requests * 5) + warm {
        let channel = mine[rng.below(mine.len())];
        // Half the newest page, half a page further back (scrolling up).
        let before = if i % 2 == 0 {
            None
        } else {
            Some(1 + rng.below(size.messages_per_channel) as i64)
        };
        let path = match before {
            Some(seq) => format!("/api/chat/channels/{channel}/messages?before={seq}"),
            None => format!("/api/chat/channels/{channel}/messages"),
        };
        let reply = http.get(&path, false).await?;
        if reply.status != 200 {
            return Err(format!("history answered {}", reply.status).into());
        }
        let floor = timed(
            sqlx::query(
                "SELECT id, channel_id, seq, user_id, text, created_at, updated_at, deleted
                   FROM chat_messages WHERE channel_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT 50",
            )
            .bind(channel)
            .bind(before.unwrap_or(i64::MAX))
            .fetch_all(pool),
        )
        .await?;
        let auth = http.get("/api/auth/me", false).await?;
        if i >= warm {
            page.push(reply.elapsed);
            page_floor.push(floor);
            me_samples.push(auth.elapsed);
        }
    }
    let (mut rare, mut rare_floor, mut common, mut common_floor) = (
        Samples::default(),
        Samples::default(),
        Samples::default(),
        Samples::default(),
    );
    for i in 0..size.requests + warm {
        let word = format!("topic{}", rng.below(TOPICS));
        for (q, samples, floors) in [
            (word.as_str(), &mut rare, &mut rare_floor),
            ("benchmark", &mut common, &mut common_floor),
        ] {
            let reply = http
                .get(&format!("/api/chat/search?q={q}"), false)
                .await
                .map_err(|e| format!("search {q:?} (request {i}): {e}"))?;
            if reply.status != 200 {
                return Err(format!("search answered {}", reply.status).into());
            }
            // Unprepared, so PostgreSQL plans it for these words every time, as the server has
            // it do: a cached generic plan takes many seconds for a common word (see search.rs).
            let floor = timed(
                sqlx::query(SEARCH_FLOOR)
                    .bind(me)
                    .bind(q)
                    .persistent(false)
                    .fetch_all(pool),
            )
            .await?;
            if i >= warm {
                samples.push(reply.elapsed);
                floors.push(floor);
            }
        }
    }
    Ok(Dataset {
        messages: rows,
        channels: size.channels,
        my_channels: size.my_channels,
        copy_s: round3(copy_s),
        copy_rows_per_s: round3(rows as f64 / copy_s),
        channel_list: list.summary(),
        channel_list_sql_floor: list_floor.summary(),
        sidebar_first_load: sidebar.summary(),
        sidebar_first_load_sql_floor: sidebar_floor.summary(),
        history_page: page.summary(),
        history_page_sql_floor: page_floor.summary(),
        auth_me: me_samples.summary(),
        channel_list_bytes: list_bytes,
        search_rare_word: rare.summary(),
        search_rare_word_sql_floor: rare_floor.summary(),
        search_common_word: common.summary(),
        search_common_word_sql_floor: common_floor.summary(),
    })
}

async fn timed<T>(
    query: impl std::future::Future<Output = Result<T, sqlx::Error>>,
) -> Result<Duration, Failure> {
    let started = Instant::now();
    query.await?;
    Ok(started.elapsed())
}
