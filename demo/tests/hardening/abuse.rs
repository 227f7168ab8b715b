//! One account must not be able to stall the service (issue 12, items 1–4): replays
//! deduplicated, decided without loading rows and bounded per frame, limited per user; socket
//! caps per user and per address; a reader that never reads is closed; every kind of write is
//! limited per user; sign-ups limited per address and checked before hashing; sign-in failures
//! counted per address and username, behind a trusted proxy by the forwarded address.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Method, Request, StatusCode};
use parley::server::limits::Rate;
use parley::server::Settings;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::common::{ws_connect, TestApp, TestResponse, TestUser, WsClient};

/// Stores `count` messages of `text` from `user` in `channel` directly, in sequence.
async fn flood(pool: &PgPool, channel: &str, user: &TestUser, count: i64, text: &str) {
    let channel: uuid::Uuid = channel.parse().expect("channel id");
    let user: uuid::Uuid = user.id.parse().expect("user id");
    let mut tx = pool.begin().await.expect("begin");
    let base: i64 = sqlx::query_scalar(
        "UPDATE chat_channels SET last_seq = last_seq + $2, last_message_at = now()
          WHERE id = $1 RETURNING last_seq - $2",
    )
    .bind(channel)
    .bind(count)
    .fetch_one(&mut *tx)
    .await
    .expect("bump seq");
    sqlx::query(
        "INSERT INTO chat_messages (id, channel_id, seq, user_id, text)
         SELECT gen_random_uuid(), $1, $2 + g, $3, $4 FROM generate_series(1, $5) g",
    )
    .bind(channel)
    .bind(base)
    .bind(user)
    .bind(text)
    .bind(count)
    .execute(&mut *tx)
    .await
    .expect("insert messages");
    tx.commit().await.expect("commit");
}

fn of_type<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == kind).collect()
}

fn id_of(channel: &Value) -> String {
    channel["id"].as_str().unwrap_or_default().to_owned()
}

#[sqlx::test]
async fn a_resume_listing_one_channel_500_times_replays_it_once(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let dm = id_of(&app.channel(&alice, &[&bob], None).await);
    flood(&pool, &dm, &bob, 3, "hello").await;
    let addr = app.serve().await;

    let cursors: Vec<Value> = (0..500)
        .map(|_| json!({"channel_id": dm, "last_seq": 0}))
        .collect();
    let mut socket = WsClient::open(addr, &alice, json!([])).await;
    socket
        .send(json!({"type": "resume", "cursors": cursors}))
        .await;
    let events = socket.drain().await;
    let seqs: Vec<i64> = of_type(&events, "message")
        .iter()
        .filter_map(|e| e["message"]["seq"].as_i64())
        .collect();
    assert_eq!(seqs, vec![1, 2, 3], "each missed message once, in order");
}

#[sqlx::test]
async fn one_frame_replays_at_most_its_budget_and_resets_the_rest(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let first = id_of(&app.channel(&alice, &[&bob], None).await);
    let second = id_of(&app.channel(&alice, &[&carol], None).await);
    // 350 + 350 missed: each within the per-channel limit (500), together over the frame's
    // budget (400): the first is replayed, the second reset.
    flood(&pool, &first, &bob, 350, "one").await;
    flood(&pool, &second, &carol, 350, "two").await;
    let addr = app.serve().await;

    let mut socket = WsClient::open(addr, &alice, json!([])).await;
    socket
        .send(json!({"type": "resume", "cursors": [
            {"channel_id": first, "last_seq": 0},
            {"channel_id": second, "last_seq": 0},
        ]}))
        .await;
    let events = socket.drain().await;
    let messages = of_type(&events, "message");
    assert_eq!(messages.len(), 350);
    assert!(messages
        .iter()
        .all(|m| m["message"]["channel_id"] == first.as_str()));
    let resets = of_type(&events, "reset");
    assert_eq!(resets.len(), 1, "{resets:?}");
    assert_eq!(resets[0]["channel_id"], second.as_str());

    // The byte budget (1 MiB of text per frame) cuts long messages short the same way: 300
    // messages of 4,000 bytes (2,000 "é") are ~1.2 MB.
    let third = id_of(&app.channel(&bob, &[&carol], None).await);
    flood(&pool, &third, &carol, 300, &"é".repeat(2000)).await;
    let mut socket = WsClient::open(addr, &bob, json!([])).await;
    socket
        .send(json!({"type": "resume", "cursors": [{"channel_id": third, "last_seq": 0}]}))
        .await;
    let events = socket.drain().await;
    assert!(of_type(&events, "message").is_empty());
    assert_eq!(of_type(&events, "reset").len(), 1);
}

#[sqlx::test]
async fn replays_are_limited_per_user_not_per_socket(pool: PgPool) {
    let mut settings = Settings::default();
    settings.limits.replays = Rate::new(1, 3);
    let app = TestApp::with_settings(pool, settings).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let addr = app.serve().await;

    // Three `hello`s on three sockets use alice's burst; a fourth socket's `hello` is refused
    // with 1013 (reconnect later); a `resume` on an open one gets `rate_limited` and the
    // connection stays open.
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(WsClient::open(addr, &alice, json!([])).await);
    }
    let mut fourth = ws_connect(addr, Some(&alice.cookie), Some(&format!("http://{addr}")))
        .await
        .expect("upgrade");
    fourth
        .send(json!({"type": "hello", "version": 1, "cursors": []}))
        .await;
    assert_eq!(fourth.next().await["code"], 1013);
    open[0].send(json!({"type": "resume", "cursors": []})).await;
    let events = open[0].drain().await;
    let errors = of_type(&events, "error");
    assert_eq!(errors.len(), 1, "{events:?}");
    assert_eq!(errors[0]["error"]["code"], "rate_limited");
    // bob is not affected.
    WsClient::open(addr, &bob, json!([])).await;
}

#[sqlx::test]
async fn sockets_are_capped_per_user_and_per_address(pool: PgPool) {
    let mut settings = Settings::default();
    settings.limits.sockets_per_user = 2;
    settings.limits.sockets_per_address = 3;
    let app = TestApp::with_settings(pool, settings).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let addr = app.serve().await;
    let origin = format!("http://{addr}");
    let status =
        |result: Result<crate::common::WsClient, tokio_tungstenite::tungstenite::Error>| {
            match result {
                Ok(_) => 101,
                Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                    response.status().as_u16()
                }
                Err(_) => 0,
            }
        };

    let _a1 = WsClient::open(addr, &alice, json!([])).await;
    let _a2 = WsClient::open(addr, &alice, json!([])).await;
    assert_eq!(
        status(ws_connect(addr, Some(&alice.cookie), Some(&origin)).await),
        429,
        "a third socket of alice"
    );
    let _b1 = WsClient::open(addr, &bob, json!([])).await;
    assert_eq!(
        status(ws_connect(addr, Some(&bob.cookie), Some(&origin)).await),
        429,
        "a fourth socket from the address"
    );
    // Closing one frees its slot.
    drop(_a1);
    let bob_id: uuid::Uuid = bob.id.parse().unwrap_or_default();
    let alice_id: uuid::Uuid = alice.id.parse().unwrap_or_default();
    let started = Instant::now();
    while app.state.realtime.hub.sockets_of(alice_id) != 1 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the closed socket left the hub"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    WsClient::open(addr, &bob, json!([])).await;
    assert_eq!(app.state.realtime.hub.sockets_of(bob_id), 2);
}

#[sqlx::test]
async fn a_reader_that_never_reads_is_closed_whatever_it_asked_for(pool: PgPool) {
    let settings = Settings {
        socket_write_timeout: Duration::from_secs(2),
        ..Settings::default()
    };
    let app = TestApp::with_settings(pool.clone(), settings).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let dm = id_of(&app.channel(&alice, &[&bob], None).await);
    // 100 messages of 16 KB of text each.
    flood(&pool, &dm, &bob, 100, &"😀".repeat(4000)).await;
    let addr = app.serve().await;
    let alice_id: uuid::Uuid = alice.id.parse().unwrap_or_default();

    // alice asks for replays and never reads again: 15 frames of the last 60 messages each
    // (each within a frame's 1 MiB budget), ~15 MB in all, far more than the socket buffers
    // on both sides hold, and fewer frames than the connection's queue holds.
    let mut socket = WsClient::open(addr, &alice, json!([])).await;
    for _ in 0..15 {
        socket
            .send(json!({"type": "resume", "cursors": [{"channel_id": dm, "last_seq": 40}]}))
            .await;
    }
    let started = Instant::now();
    while app.state.realtime.hub.sockets_of(alice_id) > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "a socket that does not read stays open"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // What was on the wire is still readable; it ends without the server waiting on us (the
    // close frame could not be written either: the socket was full).
    let mut ended = false;
    for _ in 0..2_000 {
        if socket.next().await["type"] == "closed" {
            ended = true;
            break;
        }
    }
    assert!(ended, "the connection ends once the backlog is read");
}

#[sqlx::test]
async fn every_kind_of_write_is_limited_per_user(pool: PgPool) {
    let mut settings = Settings::default();
    settings.limits.channels = Rate::new(1, 2);
    settings.limits.edits = Rate::new(1, 2);
    settings.limits.reads = Rate::new(1, 2);
    settings.limits.typing = Rate::new(1, 1);
    let app = TestApp::with_settings(pool, settings).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let addr = app.serve().await;

    // Channels: two, then 429 with Retry-After.
    let group = |name: &str| json!({"members": [bob.id, carol.id], "name": name});
    for name in ["one", "two"] {
        let created = app
            .post_json("/api/chat/channels", group(name), Some(&alice.cookie))
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    }
    let third = app
        .post_json("/api/chat/channels", group("three"), Some(&alice.cookie))
        .await;
    assert_eq!(third.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(third.error_code(), "rate_limited");
    assert!(third.headers.contains_key(header::RETRY_AFTER));
    // Edits and deletions share one bucket: two, then 429.
    let dm = id_of(&app.channel(&bob, &[&alice], None).await);
    let message = app.send(&bob, &dm, "first").await;
    let path = format!(
        "/api/chat/messages/{}",
        message["id"].as_str().unwrap_or_default()
    );
    let edit = |text: &str| {
        app.request(
            Method::PATCH,
            &path,
            Some(("application/json", json!({"text": text}).to_string())),
            Some(&bob.cookie),
        )
    };
    assert_eq!(edit("second").await.status, StatusCode::OK);
    assert_eq!(edit("third").await.status, StatusCode::OK);
    let limited = app
        .request(Method::DELETE, &path, None, Some(&bob.cookie))
        .await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);

    // Read marks: HTTP and WebSocket share the bucket.
    let read_path = format!("/api/chat/channels/{dm}/read");
    let read = |seq: i64| app.post_json(&read_path, json!({"seq": seq}), Some(&alice.cookie));
    assert_eq!(read(1).await.status, StatusCode::OK);
    assert_eq!(read(1).await.status, StatusCode::OK);
    assert_eq!(read(1).await.status, StatusCode::TOO_MANY_REQUESTS);
    let mut socket = WsClient::open(addr, &alice, json!([])).await;
    socket
        .send(json!({"type": "read", "channel_id": dm, "seq": 1}))
        .await;
    let events = socket.drain().await;
    let errors = of_type(&events, "error");
    assert_eq!(errors.len(), 1, "{events:?}");
    assert_eq!(errors[0]["error"]["code"], "rate_limited");

    // Typing: per user, across sockets (each socket passes one a second by itself).
    let mut other = WsClient::open(addr, &alice, json!([])).await;
    socket
        .send(json!({"type": "typing", "channel_id": dm}))
        .await;
    assert!(of_type(&socket.drain().await, "error").is_empty());
    other
        .send(json!({"type": "typing", "channel_id": dm}))
        .await;
    let events = other.drain().await;
    assert_eq!(
        of_type(&events, "error")[0]["error"]["code"],
        "rate_limited"
    );
}

#[sqlx::test]
async fn a_new_group_reaches_every_connected_member_with_their_own_standing(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let addr = app.serve().await;
    let owner = app.user("owner").await;
    let mut members = Vec::new();
    let mut sockets = Vec::new();
    for i in 0..30 {
        let user = app.user(&format!("member{i:02}")).await;
        sockets.push(WsClient::open(addr, &user, json!([])).await);
        members.push(user);
    }
    let ids: Vec<&str> = members.iter().map(|m| m.id.as_str()).collect();
    let created = app
        .post_json(
            "/api/chat/channels",
            json!({"members": ids, "name": "Everyone"}),
            Some(&owner.cookie),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let channel_id = id_of(&created.json());
    for socket in &mut sockets {
        let added = socket
            .until("channel_added")
            .await
            .pop()
            .unwrap_or_default();
        assert_eq!(added["channel"]["id"], channel_id.as_str());
        assert_eq!(added["channel"]["name"], "Everyone");
        assert_eq!(
            added["channel"]["members"].as_array().map(Vec::len),
            Some(31)
        );
        assert_eq!(added["channel"]["unread"], 0);
    }
}

/// A sign-up or sign-in request from `address` (as the server would see the peer), with
/// `extra` headers.
async fn auth_request(
    app: &TestApp,
    path: &str,
    body: Value,
    address: &str,
    extra: &[(&str, &str)],
) -> TestResponse {
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/json");
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    let mut request = request.body(Body::from(body.to_string())).expect("request");
    let peer: std::net::SocketAddr = format!("{address}:40000").parse().expect("address");
    request.extensions_mut().insert(ConnectInfo(peer));
    app.send_request(request).await
}

fn login(username: &str, password: &str) -> Value {
    json!({"username": username, "password": password})
}

#[sqlx::test]
async fn sign_ups_are_limited_per_address_and_a_taken_name_costs_no_hash(pool: PgPool) {
    let mut settings = Settings::default();
    settings.limits.sign_ups = Rate::new(1, 2);
    let app = TestApp::with_settings(pool, settings).await;
    let signup =
        |name: &str| json!({"username": name, "display_name": name, "password": "correct horse"});
    for name in ["ann", "ben"] {
        let response = auth_request(&app, "/api/auth/signup", signup(name), "192.0.2.1", &[]).await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
    }
    let third = auth_request(&app, "/api/auth/signup", signup("cal"), "192.0.2.1", &[]).await;
    assert_eq!(third.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(third.headers.contains_key(header::RETRY_AFTER));
    let elsewhere = auth_request(&app, "/api/auth/signup", signup("cal"), "192.0.2.2", &[]).await;
    assert_eq!(elsewhere.status, StatusCode::CREATED);

    // Every hashing turn is taken (hashes run one per core): a taken name is still answered,
    // because it is checked before hashing; a new name waits for a turn.
    let mut turns = Vec::new();
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    for _ in 0..cores {
        turns.push(app.state.limits.hash_turn().await.expect("turn"));
    }
    let taken = tokio::time::timeout(
        Duration::from_secs(5),
        auth_request(&app, "/api/auth/signup", signup("ann"), "192.0.2.3", &[]),
    )
    .await
    .expect("a taken name needs no hash");
    assert_eq!(taken.status, StatusCode::CONFLICT);
    let waiting = tokio::time::timeout(
        Duration::from_millis(500),
        auth_request(&app, "/api/auth/signup", signup("dee"), "192.0.2.3", &[]),
    )
    .await;
    assert!(
        waiting.is_err(),
        "a hash beyond one per core waits for a turn"
    );
    drop(turns);
    let done = auth_request(&app, "/api/auth/signup", signup("dee"), "192.0.2.4", &[]).await;
    assert_eq!(done.status, StatusCode::CREATED);
}

#[sqlx::test]
async fn only_failed_sign_ins_count_per_address_and_username(pool: PgPool) {
    let mut settings = Settings::default();
    settings.limits.sign_in_failures = Rate::new(1, 4);
    settings.limits.sign_in_failures_per_name = Rate::new(1, 2);
    let app = TestApp::with_settings(pool, settings).await;
    app.user("alice").await;
    app.user("bob").await;
    let office = "198.51.100.7";

    // Successful sign-ins do not count: a whole office signs in from one address.
    for _ in 0..10 {
        let ok = auth_request(
            &app,
            "/api/auth/login",
            login("alice", "correct horse"),
            office,
            &[],
        )
        .await;
        assert_eq!(ok.status, StatusCode::OK);
    }
    // Two wrong passwords for bob: bob is locked for this address, even with the right one…
    for _ in 0..2 {
        let wrong = auth_request(
            &app,
            "/api/auth/login",
            login("bob", "wrong password"),
            office,
            &[],
        )
        .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    }
    let locked = auth_request(
        &app,
        "/api/auth/login",
        login("bob", "correct horse"),
        office,
        &[],
    )
    .await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(locked.headers.contains_key(header::RETRY_AFTER));
    // …while alice signs in from the same address, and bob from another one.
    let alice = auth_request(
        &app,
        "/api/auth/login",
        login("alice", "correct horse"),
        office,
        &[],
    )
    .await;
    assert_eq!(alice.status, StatusCode::OK);
    let home = auth_request(
        &app,
        "/api/auth/login",
        login("bob", "correct horse"),
        "203.0.113.9",
        &[],
    )
    .await;
    assert_eq!(home.status, StatusCode::OK);
    // Guessing across names from one address hits the address's limit (4 failures).
    for name in ["carl", "dora"] {
        auth_request(&app, "/api/auth/login", login(name, "guess"), office, &[]).await;
    }
    let guessing = auth_request(
        &app,
        "/api/auth/login",
        login("alice", "correct horse"),
        office,
        &[],
    )
    .await;
    assert_eq!(guessing.status, StatusCode::TOO_MANY_REQUESTS);
    // The server function shares the limits.
    let mut request = Request::post("/api/fn/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(
            "input[username]=alice&input[password]=correct+horse",
        ))
        .expect("request");
    let peer: std::net::SocketAddr = format!("{office}:40000").parse().expect("address");
    request.extensions_mut().insert(ConnectInfo(peer));
    let by_fn = app.send_request(request).await;
    assert_eq!(
        by_fn.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        by_fn.text
    );
}

#[sqlx::test]
async fn behind_a_trusted_proxy_the_forwarded_address_is_the_client(pool: PgPool) {
    let proxy = "10.0.0.2";
    let mut settings = Settings::default();
    settings.limits.sign_in_failures = Rate::new(1, 2);
    settings.limits.trusted_proxies = vec![proxy.parse().expect("ip")];
    let app = TestApp::with_settings(pool, settings).await;
    app.user("alice").await;
    let from = |client: &'static str| [("x-forwarded-for", client)];

    for _ in 0..2 {
        auth_request(
            &app,
            "/api/auth/login",
            login("alice", "wrong"),
            proxy,
            &from("203.0.113.1"),
        )
        .await;
    }
    let attacker = auth_request(
        &app,
        "/api/auth/login",
        login("alice", "correct horse"),
        proxy,
        &from("203.0.113.1"),
    )
    .await;
    assert_eq!(attacker.status, StatusCode::TOO_MANY_REQUESTS);
    // Someone else behind the same proxy is not locked out by the attacker.
    let other = auth_request(
        &app,
        "/api/auth/login",
        login("alice", "correct horse"),
        proxy,
        &from("203.0.113.2"),
    )
    .await;
    assert_eq!(other.status, StatusCode::OK, "{}", other.text);
    // A client that is not the proxy cannot pick its address by sending the header.
    let direct = "192.0.2.50";
    for _ in 0..2 {
        auth_request(
            &app,
            "/api/auth/login",
            login("alice", "wrong"),
            direct,
            &from("203.0.113.77"),
        )
        .await;
    }
    let spoofed = auth_request(
        &app,
        "/api/auth/login",
        login("alice", "correct horse"),
        direct,
        &from("203.0.113.78"),
    )
    .await;
    assert_eq!(spoofed.status, StatusCode::TOO_MANY_REQUESTS);
}

#[sqlx::test]
async fn a_reconnecting_loop_is_refused_before_the_upgrade(pool: PgPool) {
    let mut settings = Settings::default();
    settings.limits.connects = Rate::new(1, 3);
    let app = TestApp::with_settings(pool, settings).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let addr = app.serve().await;
    let origin = format!("http://{addr}");
    // Three connections (closed again at once, as a loop does), then 429 with Retry-After:
    // no upgrade, so no presence change, no `hello`.
    for _ in 0..3 {
        drop(WsClient::open(addr, &alice, json!([])).await);
    }
    match ws_connect(addr, Some(&alice.cookie), Some(&origin)).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status().as_u16(), 429);
            assert!(response.headers().contains_key("retry-after"));
        }
        Ok(_) => panic!("a fourth upgrade within the burst was accepted"),
        Err(e) => panic!("unexpected: {e}"),
    }
    // Per user: bob connects.
    WsClient::open(addr, &bob, json!([])).await;
}

#[sqlx::test]
async fn guesses_sent_all_at_once_are_limited_like_guesses_one_by_one(pool: PgPool) {
    let mut settings = Settings::default();
    settings.limits.sign_in_failures_per_name = Rate::new(1, 2);
    let app = TestApp::with_settings(pool, settings).await;
    app.user("alice").await;
    let guesses = (0..12).map(|i| {
        auth_request(
            &app,
            "/api/auth/login",
            login("alice", &format!("guess {i}")),
            "192.0.2.9",
            &[],
        )
    });
    let answers = futures_util::future::join_all(guesses).await;
    let checked = answers
        .iter()
        .filter(|a| a.status == StatusCode::UNAUTHORIZED)
        .count();
    let limited = answers
        .iter()
        .filter(|a| a.status == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((checked, limited), (2, 10), "only the burst is checked");
}
