//! Crash safety with the real server binary: several clients send over WebSockets while the
//! server is killed with SIGKILL (or stopped with SIGTERM) mid-stream, restarted, and stopped
//! again, round after round. A SIGTERM must close every socket with 1001 and end the process
//! cleanly.
//! Every acknowledged message must be stored exactly once, each channel's sequence must stay
//! gapless, senders resend what was not acknowledged (same ids) and a reader that resumes by
//! cursor ends up with every message. Rounds: `PARLEY_CRASH_ROUNDS` (default 2;
//! `scripts/soak.sh` runs 10).

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::process::Server;
use common::{ws_connect, TestApp, TestUser};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use sqlx::PgPool;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use uuid::Uuid;

/// This test's own database, as a URL for the child process.
async fn database_url(pool: &PgPool) -> String {
    let name: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(pool)
        .await
        .expect("database name");
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL (the test command sets it)");
    let root = base.rsplit_once('/').map(|(root, _)| root).unwrap_or(&base);
    format!("{root}/{name}")
}

/// What one sender has written: every id in order, and which ones were acknowledged.
#[derive(Default)]
struct Ledger {
    written: Vec<(Uuid, String)>,
    acked: HashSet<Uuid>,
}

/// Sends until the connection dies: first everything not yet acknowledged (same ids), then new
/// messages, keeping at most `WINDOW` unacknowledged on the wire.
async fn send_until_dead(
    addr: SocketAddr,
    user: &TestUser,
    channel: &str,
    ledger: Arc<Mutex<Ledger>>,
    stop_at: Option<usize>,
) {
    const WINDOW: usize = 10;
    let Ok(mut client) = ws_connect(addr, Some(&user.cookie), None).await else {
        return;
    };
    if client
        .ws
        .send(WsMessage::text(
            json!({"type": "hello", "version": 1}).to_string(),
        ))
        .await
        .is_err()
    {
        return;
    }
    let unacked: Vec<(Uuid, String)> = {
        let l = ledger.lock().expect("ledger");
        l.written
            .iter()
            .filter(|(id, _)| !l.acked.contains(id))
            .cloned()
            .collect()
    };
    let mut queue: std::collections::VecDeque<(Uuid, String)> = unacked.into();
    let mut in_flight = 0usize;
    loop {
        let written = ledger.lock().expect("ledger").written.len();
        while in_flight < WINDOW {
            let next = match queue.pop_front() {
                Some(resend) => resend,
                None if stop_at.is_none_or(|n| written < n) => {
                    let fresh = (Uuid::new_v4(), format!("{} #{written}", user.id));
                    ledger.lock().expect("ledger").written.push(fresh.clone());
                    fresh
                }
                None => break,
            };
            let frame =
                json!({"type": "send", "id": next.0, "channel_id": channel, "text": next.1});
            if client
                .ws
                .send(WsMessage::text(frame.to_string()))
                .await
                .is_err()
            {
                return;
            }
            in_flight += 1;
        }
        if in_flight == 0 {
            return; // everything acknowledged (final round)
        }
        let frame = match tokio::time::timeout(Duration::from_secs(10), client.ws.next()).await {
            Ok(Some(Ok(frame))) => frame,
            _ => return,
        };
        let WsMessage::Text(text) = frame else {
            continue;
        };
        let event: Value = serde_json::from_str(&text).unwrap_or_default();
        match event["type"].as_str() {
            Some("ack") => {
                if let Ok(id) = Uuid::parse_str(event["id"].as_str().unwrap_or_default()) {
                    ledger.lock().expect("ledger").acked.insert(id);
                }
                in_flight -= 1;
            }
            Some("nack") => panic!("send refused: {event}"),
            _ => {}
        }
    }
}

/// A reader that resumes by cursor after every reconnect; records the seqs it saw, by id, and
/// returns the close code the server ended the connection with, if it sent one.
async fn read_until_dead(
    addr: SocketAddr,
    user: &TestUser,
    channel: &str,
    seen: Arc<Mutex<BTreeMap<i64, Uuid>>>,
) -> Option<u16> {
    let last = seen
        .lock()
        .expect("seen")
        .keys()
        .next_back()
        .copied()
        .unwrap_or(0);
    let Ok(mut client) = ws_connect(addr, Some(&user.cookie), None).await else {
        return None;
    };
    client
        .send(json!({"type": "hello", "version": 1, "cursors": [{"channel_id": channel, "last_seq": last}]}))
        .await;
    while let Ok(Some(Ok(frame))) =
        tokio::time::timeout(Duration::from_secs(10), client.ws.next()).await
    {
        let text = match frame {
            WsMessage::Text(text) => text,
            WsMessage::Close(close) => return close.map(|c| u16::from(c.code)),
            _ => continue,
        };
        let event: Value = serde_json::from_str(&text).unwrap_or_default();
        if event["type"] == "message" {
            let seq = event["message"]["seq"].as_i64().unwrap_or_default();
            let id = Uuid::parse_str(event["message"]["id"].as_str().unwrap_or_default())
                .unwrap_or_default();
            let previous = seen.lock().expect("seen").insert(seq, id);
            assert!(
                previous.is_none_or(|p| p == id),
                "seq {seq} changed its message"
            );
        }
    }
    None
}

/// How the server is stopped mid-stream.
#[derive(Clone, Copy, PartialEq)]
enum Stop {
    Kill,
    Terminate,
}

#[sqlx::test]
async fn acknowledged_messages_survive_sigkill_exactly_once(pool: PgPool) {
    let rounds: usize = std::env::var("PARLEY_CRASH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2);
    survive(pool, rounds, Stop::Kill).await;
}

/// SIGTERM mid-stream: the instance answers the sends it holds, closes every socket with 1001,
/// leaves presence and exits 0; clients reconnect, resend what was not acknowledged and
/// resume, and nothing acknowledged is lost or doubled.
#[sqlx::test]
async fn sigterm_mid_stream_closes_with_1001_and_loses_nothing(pool: PgPool) {
    survive(pool, 2, Stop::Terminate).await;
}

async fn survive(pool: PgPool, rounds: usize, stop: Stop) {
    let app = TestApp::new(pool.clone()).await;
    let url = database_url(&pool).await;
    let senders = [
        app.user("ann").await,
        app.user("ben").await,
        app.user("cat").await,
    ];
    let reader = app.user("dee").await;
    let group = app
        .channel(
            &senders[0],
            &[&senders[1], &senders[2], &reader],
            Some("Crash test"),
        )
        .await;
    let channel = group["id"].as_str().unwrap_or_default().to_owned();
    let ledgers: Vec<Arc<Mutex<Ledger>>> = senders.iter().map(|_| Arc::default()).collect();
    let seen: Arc<Mutex<BTreeMap<i64, Uuid>>> = Arc::default();

    for round in 0..=rounds {
        let server = Server::start(&url).await;
        let last = round == rounds;
        let mut tasks = Vec::new();
        for (user, ledger) in senders.iter().zip(&ledgers) {
            let (addr, user, channel, ledger) =
                (server.addr, user.clone(), channel.clone(), ledger.clone());
            // In the last round, only finish what is outstanding.
            let stop_at = last.then(|| ledger.lock().expect("ledger").written.len());
            tasks.push(tokio::spawn(async move {
                send_until_dead(addr, &user, &channel, ledger, stop_at).await
            }));
        }
        let reading = {
            let (addr, user, channel, seen) =
                (server.addr, reader.clone(), channel.clone(), seen.clone());
            tokio::spawn(async move { read_until_dead(addr, &user, &channel, seen).await })
        };
        if last {
            for task in tasks {
                task.await.expect("sender");
            }
            // Let the reader catch the last events, then stop cleanly.
            tokio::time::sleep(Duration::from_millis(500)).await;
            server.kill();
            reading.await.expect("reader");
        } else {
            // Mid-stream: some sends are committed and acknowledged, some committed but not
            // yet acknowledged, some not committed at all.
            tokio::time::sleep(Duration::from_millis(300 + 150 * round as u64)).await;
            match stop {
                Stop::Kill => server.kill(),
                Stop::Terminate => assert!(server.terminate(), "SIGTERM: a clean exit"),
            }
            for task in tasks {
                task.await.expect("sender");
            }
            let closed_with = reading.await.expect("reader");
            if stop == Stop::Terminate {
                assert_eq!(
                    closed_with,
                    Some(1001),
                    "SIGTERM closes sockets as going away"
                );
            }
        }
    }

    // Every message written was finally acknowledged, and each is stored exactly once.
    let stored: Vec<(Uuid, i64, String)> = sqlx::query_as(
        "SELECT id, seq, text FROM chat_messages WHERE channel_id = $1::uuid ORDER BY seq",
    )
    .bind(&channel)
    .fetch_all(&pool)
    .await
    .expect("messages");
    let stored_ids: HashMap<Uuid, String> = stored
        .iter()
        .map(|(id, _, text)| (*id, text.clone()))
        .collect();
    let mut acknowledged = 0;
    for ledger in &ledgers {
        let ledger = ledger.lock().expect("ledger");
        assert_eq!(
            ledger.acked.len(),
            ledger.written.len(),
            "all acknowledged in the end"
        );
        for (id, text) in &ledger.written {
            assert_eq!(
                stored_ids.get(id),
                Some(text),
                "acknowledged message {id} lost"
            );
        }
        acknowledged += ledger.acked.len();
    }
    assert!(acknowledged > 0);
    assert_eq!(
        stored.len(),
        acknowledged,
        "something was stored twice or out of nowhere"
    );
    let seqs: Vec<i64> = stored.iter().map(|(_, seq, _)| *seq).collect();
    assert_eq!(
        seqs,
        (1..=stored.len() as i64).collect::<Vec<_>>(),
        "gapless sequence"
    );
    // Per sender, commit order is write order.
    for ledger in &ledgers {
        let ledger = ledger.lock().expect("ledger");
        let order: Vec<i64> = ledger
            .written
            .iter()
            .filter_map(|(id, _)| {
                stored
                    .iter()
                    .find(|(s, _, _)| s == id)
                    .map(|(_, seq, _)| *seq)
            })
            .collect();
        assert!(
            order.windows(2).all(|w| w[0] < w[1]),
            "a sender's messages were reordered"
        );
    }
    // The reader, resuming by cursor after each crash, saw every message.
    let seen = seen.lock().expect("seen");
    assert_eq!(
        seen.keys().copied().collect::<Vec<_>>(),
        seqs,
        "the reader missed messages"
    );
    let how = if stop == Stop::Kill {
        "SIGKILL"
    } else {
        "SIGTERM"
    };
    eprintln!(
        "crash test: {rounds} × {how}, {acknowledged} acknowledged messages, 0 lost, 0 duplicated"
    );
}
