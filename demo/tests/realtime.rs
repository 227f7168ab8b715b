//! Realtime delivery against real PostgreSQL, over real sockets: fan-out between two server
//! instances through LISTEN/NOTIFY, WebSocket authentication and Origin checks, resume by
//! cursor, cutting off a stalled reader, SSE resume with `Last-Event-ID`, membership checks on
//! every transport, and the group-commit writer under 200 concurrent sends.

mod common;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{ws_connect, TestApp, TestUser, WsClient};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use sqlx::PgPool;
use tokio_tungstenite::tungstenite;
use tower::ServiceExt;

/// A 1:1 channel between alice and bob, on instance `app`.
async fn pair(app: &TestApp) -> (TestUser, TestUser, String) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let channel = app.channel(&alice, &[&bob], None).await;
    let id = channel["id"].as_str().unwrap_or_default().to_owned();
    (alice, bob, id)
}

fn of_type<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == kind).collect()
}

fn seqs(events: &[Value]) -> Vec<i64> {
    of_type(events, "message")
        .iter()
        .filter_map(|e| e["message"]["seq"].as_i64())
        .collect()
}

#[sqlx::test]
async fn a_message_sent_through_one_instance_reaches_a_socket_on_another(pool: PgPool) {
    let a = TestApp::new(pool.clone()).await;
    let b = TestApp::new(pool).await;
    let (alice, bob, channel) = pair(&a).await;
    let b_addr = b.serve().await;
    let mut bob_ws = WsClient::open(b_addr, &bob, json!([])).await;

    let sent = a.send(&alice, &channel, "hello from instance A").await;

    let events = bob_ws.until("message").await;
    let message = &events[events.len() - 1]["message"];
    assert_eq!(message["id"], sent["id"]);
    assert_eq!(message["text"], "hello from instance A");
    // Then bob's absolute unread count for the channel.
    let state = bob_ws.until("channel_state").await;
    let state = &state[state.len() - 1];
    assert_eq!(state["channel_id"], channel.as_str());
    assert_eq!(state["unread"], 1);
}

#[sqlx::test]
async fn the_websocket_needs_a_session_and_a_same_site_origin(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let bob = app.user("bob").await;
    let addr = app.serve().await;

    let status_of = |result: Result<WsClient, tungstenite::Error>| match result {
        Err(tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => 101,
    };
    let own = format!("http://{addr}");
    assert_eq!(status_of(ws_connect(addr, None, Some(&own)).await), 401);
    assert_eq!(
        status_of(ws_connect(addr, Some("parley_session=forged"), Some(&own)).await),
        401
    );
    assert_eq!(
        status_of(ws_connect(addr, Some(&bob.cookie), Some("https://evil.example")).await),
        403
    );
    assert_eq!(
        status_of(ws_connect(addr, Some(&bob.cookie), Some(&own)).await),
        101
    );
    // The configured public origin is accepted too, and so are clients that send none.
    assert_eq!(
        status_of(ws_connect(addr, Some(&bob.cookie), Some("http://127.0.0.1:3000")).await),
        101
    );
    assert_eq!(
        status_of(ws_connect(addr, Some(&bob.cookie), None).await),
        101
    );
}

#[sqlx::test]
async fn resuming_from_a_sequence_replays_exactly_the_missed_messages(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (alice, bob, channel) = pair(&app).await;
    let addr = app.serve().await;
    // bob is online while the first five arrive, then his connection drops.
    let mut first = WsClient::open(addr, &bob, json!([])).await;
    for i in 1..=5 {
        app.send(&alice, &channel, &format!("message {i}")).await;
    }
    let mut live = Vec::new();
    while live.len() < 5 {
        live.extend(seqs(&first.until("message").await));
    }
    assert_eq!(live, vec![1, 2, 3, 4, 5]);
    drop(first);

    // He reconnects holding only up to 2 (the last three never reached his screen).
    let mut bob_ws =
        WsClient::open(addr, &bob, json!([{"channel_id": channel, "last_seq": 2}])).await;
    let replayed = bob_ws.drain().await;
    assert_eq!(seqs(&replayed), vec![3, 4, 5]);
    assert_eq!(of_type(&replayed, "message").len(), 3);

    // Resume again from the newest: nothing.
    bob_ws
        .send(json!({"type": "resume", "cursors": [{"channel_id": channel, "last_seq": 5}]}))
        .await;
    assert!(seqs(&bob_ws.drain().await).is_empty());

    // A live message after the replay continues the sequence.
    app.send(&alice, &channel, "message 6").await;
    let live = bob_ws.until("message").await;
    assert_eq!(seqs(&live), vec![6]);
}

#[sqlx::test]
async fn a_stalled_reader_is_cut_off_while_other_readers_keep_receiving(pool: PgPool) {
    // No send limit here: alice floods on purpose.
    let app = TestApp::without_send_limit(pool).await;
    let (alice, bob, channel) = pair(&app).await;
    let addr = app.serve().await;
    let bob_id = bob.id.parse().unwrap_or_default();

    // One of bob's sockets never reads; the other reads everything.
    let mut stalled = WsClient::open(addr, &bob, json!([])).await;
    let mut reader = WsClient::open(addr, &bob, json!([])).await;
    let reading = tokio::spawn(async move {
        let mut seen = Vec::new();
        loop {
            let event = reader.next().await;
            if let Some(seq) = event["message"]["seq"].as_i64() {
                if event["type"] == "message" {
                    seen.push(seq);
                }
            }
            if event["type"] == "message" && event["message"]["text"] == "last" {
                return seen;
            }
        }
    });

    let text = "x".repeat(4000);
    let mut sent = 0;
    while app.state.realtime.hub.sockets_of(bob_id) == 2 {
        assert!(sent < 20_000, "the stalled socket was never cut off");
        let sends = (0..50).map(|_| app.send(&alice, &channel, &text));
        futures_util::future::join_all(sends).await;
        sent += 50;
    }
    app.send(&alice, &channel, "last").await;
    sent += 1;

    let seen = tokio::time::timeout(Duration::from_secs(30), reading)
        .await
        .expect("the reader keeps up")
        .expect("reader task");
    assert_eq!(seen, (1..=sent).collect::<Vec<i64>>());

    // The stalled socket gets what was already on the wire, then the close code.
    let mut closed = Value::Null;
    for _ in 0..100_000 {
        let event = stalled.next().await;
        if event["type"] == "closed" {
            closed = event;
            break;
        }
    }
    assert_eq!(closed["code"], 4008, "{closed}");
}

/// Reads SSE events from a streaming body until `count` message events arrived.
async fn sse_events(body: &mut Body, count: usize) -> Vec<(i64, Value)> {
    let mut buffer = String::new();
    let mut events = Vec::new();
    while events.len() < count {
        let frame = tokio::time::timeout(Duration::from_secs(10), body.frame())
            .await
            .expect("an SSE event within 10 s")
            .expect("stream open")
            .expect("readable");
        if let Ok(data) = frame.into_data() {
            buffer.push_str(&String::from_utf8_lossy(&data));
        }
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let mut id = None;
            let mut data = None;
            let mut kind = None;
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("id:") {
                    id = v.trim().parse::<i64>().ok();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data = serde_json::from_str::<Value>(v.trim()).ok();
                } else if let Some(v) = line.strip_prefix("event:") {
                    kind = Some(v.trim().to_owned());
                }
            }
            if let (Some(id), Some(data), Some("message")) = (id, data, kind.as_deref()) {
                events.push((id, data));
            }
        }
    }
    events
}

async fn open_sse(app: &TestApp, user: &TestUser, channel: &str, last_id: Option<&str>) -> Body {
    let mut request = Request::get(format!("/api/chat/events?channel_id={channel}"))
        .header(header::COOKIE, &user.cookie);
    if let Some(last_id) = last_id {
        request = request.header("last-event-id", last_id);
    }
    let response = parley_demo::server::router(app.host.clone())
        .oneshot(request.body(Body::empty()).expect("request"))
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/event-stream"
    );
    response.into_body()
}

#[sqlx::test]
async fn sse_resumes_after_last_event_id_without_gaps_or_repeats(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (alice, bob, channel) = pair(&app).await;
    for i in 1..=5 {
        app.send(&alice, &channel, &format!("before {i}")).await;
    }

    let mut body = open_sse(&app, &bob, &channel, Some("2")).await;
    let backlog = sse_events(&mut body, 3).await;
    assert_eq!(
        backlog.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        vec![3, 4, 5]
    );
    for i in 6..=8 {
        app.send(&alice, &channel, &format!("live {i}")).await;
    }
    let live = sse_events(&mut body, 3).await;
    assert_eq!(
        live.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        vec![6, 7, 8]
    );
    assert_eq!(live[2].1["message"]["text"], "live 8");
    assert_eq!(live[2].1["message"]["seq"], 8);

    // Reconnecting with the last id seen continues exactly there.
    drop(body);
    app.send(&alice, &channel, "while away").await;
    let mut body = open_sse(&app, &bob, &channel, Some("8")).await;
    let resumed = sse_events(&mut body, 1).await;
    assert_eq!(resumed[0].0, 9);
    assert_eq!(resumed[0].1["message"]["text"], "while away");
}

#[sqlx::test]
async fn a_non_member_cannot_subscribe_to_a_channel_by_any_transport(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (alice, bob, channel) = pair(&app).await;
    let carol = app.user("carol").await;
    app.send(&alice, &channel, "private").await;
    let addr = app.serve().await;

    // SSE: not found, with no content.
    for user in [&carol] {
        let response = app
            .get(
                &format!("/api/chat/events?channel_id={channel}"),
                Some(&user.cookie),
            )
            .await;
        assert_eq!(response.status, StatusCode::NOT_FOUND);
        assert!(!response.text.contains("private"));
    }
    let signed_out = app
        .get(&format!("/api/chat/events?channel_id={channel}"), None)
        .await;
    assert_eq!(signed_out.status, StatusCode::UNAUTHORIZED);

    // WebSocket: resume, send, typing and read on a foreign channel all get not_found.
    let mut carol_ws = WsClient::open(
        addr,
        &carol,
        json!([{"channel_id": channel, "last_seq": 0}]),
    )
    .await;
    let id = uuid::Uuid::new_v4();
    carol_ws
        .send(json!({"type": "send", "id": id, "channel_id": channel, "text": "let me in"}))
        .await;
    carol_ws
        .send(json!({"type": "typing", "channel_id": channel}))
        .await;
    carol_ws
        .send(json!({"type": "read", "channel_id": channel, "seq": 1}))
        .await;
    let mut bob_ws = WsClient::open(addr, &bob, json!([])).await;
    app.send(&alice, &channel, "still private").await;
    bob_ws.until("message").await;

    let mut events = carol_ws.drain().await;
    // The nack may still be on its way from the writer.
    if !events.iter().any(|e| e["type"] == "nack") {
        events.push(carol_ws.until("nack").await.remove(0));
    }
    let text = serde_json::to_string(&events).unwrap_or_default();
    assert!(!text.contains("private"), "{text}");
    assert!(of_type(&events, "message").is_empty(), "{text}");
    assert_eq!(of_type(&events, "error").len(), 3, "{text}");
    for error in of_type(&events, "error") {
        assert_eq!(error["error"]["code"], "not_found");
    }
    let nack = of_type(&events, "nack");
    assert_eq!(nack[0]["id"], id.to_string());
    assert_eq!(nack[0]["error"]["code"], "not_found");
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM chat_messages WHERE id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap_or(-1);
    assert_eq!(stored, 0);
}

#[sqlx::test]
async fn two_hundred_concurrent_sends_are_stored_in_order_and_acknowledged_once(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (alice, bob, dm) = pair(&app).await;
    let carol = app.user("carol").await;
    let group = app.channel(&alice, &[&bob, &carol], Some("Trio")).await;
    let group = group["id"].as_str().unwrap_or_default().to_owned();
    let addr = app.serve().await;

    // 100 sends pipelined on one socket (no waiting between them) ...
    let mut alice_ws = WsClient::open(addr, &alice, json!([])).await;
    let ids: Vec<uuid::Uuid> = (0..100).map(|_| uuid::Uuid::new_v4()).collect();
    for (i, id) in ids.iter().enumerate() {
        alice_ws
            .send(json!({"type": "send", "id": id, "channel_id": dm, "text": format!("ws {i}")}))
            .await;
    }
    // ... while 100 HTTP sends from two people hit the group at once.
    let http = (0..100).map(|i| {
        let (user, channel) = if i % 2 == 0 {
            (&bob, &group)
        } else {
            (&carol, &group)
        };
        app.send(user, channel, "http")
    });
    let stored = futures_util::future::join_all(http).await;
    assert_eq!(stored.len(), 100);

    let mut acks: HashMap<String, i64> = HashMap::new();
    while acks.len() < 100 {
        let event = alice_ws.next().await;
        match event["type"].as_str() {
            Some("ack") => {
                let id = event["id"].as_str().unwrap_or_default().to_owned();
                let seq = event["message"]["seq"].as_i64().unwrap_or_default();
                assert!(
                    acks.insert(id, seq).is_none(),
                    "acknowledged twice: {event}"
                );
            }
            Some("nack" | "closed") => panic!("{event}"),
            _ => {}
        }
    }
    // No further ack for any of them.
    let rest = alice_ws.drain().await;
    assert!(of_type(&rest, "ack").is_empty());
    // The socket's sends got sequence numbers in the order they were sent.
    let in_order: Vec<i64> = ids.iter().map(|id| acks[&id.to_string()]).collect();
    assert_eq!(in_order, (1..=100).collect::<Vec<i64>>());

    // Each channel's sequence is gapless, each message stored once.
    for (channel, expected) in [(&dm, 100i64), (&group, 100)] {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT seq, text FROM chat_messages WHERE channel_id = $1::uuid ORDER BY seq",
        )
        .bind(channel)
        .fetch_all(&app.pool)
        .await
        .unwrap_or_default();
        assert_eq!(
            rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            (1..=expected).collect::<Vec<_>>()
        );
    }
    let group_ids: HashSet<String> = stored
        .iter()
        .filter_map(|m| m["id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(group_ids.len(), 100);
}

#[sqlx::test]
async fn new_messages_ride_in_the_notice_unless_too_big_and_arrive_whole_either_way(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    let (alice, bob, channel) = pair(&app).await;
    let addr = app.serve().await;
    let mut bob_ws = WsClient::open(addr, &bob, json!([])).await;
    let mut bus = sqlx::postgres::PgListener::connect_with(&pool)
        .await
        .expect("listener");
    bus.listen(parley::server::bus::BUS).await.expect("listen");

    // 4,000 two-byte characters: 8,000 bytes of text cannot ride in an 8,000-byte payload.
    let long = "é".repeat(4000);
    for text in ["short and sweet", long.as_str()] {
        app.send(&alice, &channel, text).await;

        // The first `messages` notice (presence notices may come and go meanwhile).
        let payload = loop {
            let notice = bus.recv().await.expect("notice");
            let payload: Value = serde_json::from_str(notice.payload()).expect("JSON notice");
            if payload["t"] == "messages" {
                break payload;
            }
        };
        let carried = payload["m"][0][0][4].as_str();
        if text.len() < 7000 {
            assert_eq!(carried, Some(text), "{payload}");
        } else {
            assert_eq!(payload.get("m"), None, "{payload}");
        }
        // Bob gets the whole message either way (the listener loads what was not carried).
        let events = bob_ws.until("message").await;
        let message = &events[events.len() - 1]["message"];
        assert_eq!(message["text"], text);
    }
}
