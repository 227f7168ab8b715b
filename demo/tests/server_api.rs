//! The server API, user tokens and webhooks (SPEC §7.1) against real PostgreSQL, as the host's
//! backend and its clients use them: the secret (401 without it, 404 when none is set), user
//! upserts, tokens as bearers on the JSON API and server functions and in the WebSocket's
//! `hello` (expired and forged ones refused, sockets closed when theirs expires), channels,
//! member changes seen at once on every instance, system messages; webhooks received by a real
//! HTTP server on a loopback port, signatures checked as a receiver would, retried after a
//! 500, delivered after the server binary is killed and restarted, never twice.

mod common;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::routing::post;
use axum::Router;
use chrono::Utc;
use common::process::{self, Server};
use common::{sse_open, ws_connect, TestApp, TestResponse, WsClient};
use parley::server::secret::ServerSecret;
use parley::server::token::{self, Claims};
use parley::server::webhook::WebhookSettings;
use parley::server::Settings;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

const SECRET: &str = "a-test-server-secret-of-more-than-32-characters";

fn secret() -> ServerSecret {
    ServerSecret::new(SECRET).expect("a long enough secret")
}

fn settings() -> Settings {
    Settings {
        server_secret: Some(secret()),
        ..Settings::default()
    }
}

/// The demo host with the server API on (no webhooks).
async fn app(pool: PgPool) -> TestApp {
    TestApp::with_settings(pool, settings()).await
}

/// The demo host with the server API on and webhooks going to `receiver`, retried quickly.
async fn app_with_webhooks(pool: PgPool, receiver: &Receiver) -> TestApp {
    let mut webhooks = WebhookSettings::new(&receiver.url()).expect("a webhook URL");
    webhooks.timeout = Duration::from_secs(5);
    webhooks.first_retry = Duration::from_millis(100);
    webhooks.max_retry = Duration::from_millis(500);
    let settings = Settings {
        webhooks: Some(webhooks),
        ..settings()
    };
    TestApp::with_settings(pool, settings).await
}

/// A call of the host's backend (with the secret).
async fn server(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> TestResponse {
    let auth = format!("Bearer {SECRET}");
    app.request_with(method, path, &[("authorization", &auth)], body)
        .await
}

/// A client's call with a user token.
async fn with_token(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> TestResponse {
    let auth = format!("Bearer {token}");
    app.request_with(method, path, &[("authorization", &auth)], body)
        .await
}

/// Upserts a host user and returns the chat's id for them.
async fn upsert(app: &TestApp, external_id: &str, display_name: &str) -> String {
    let response = server(
        app,
        Method::PUT,
        &format!("/api/server/users/{external_id}"),
        Some(json!({ "display_name": display_name })),
    )
    .await;
    assert_eq!(response.status, StatusCode::OK, "upsert: {}", response.text);
    response.json()["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn mint(app: &TestApp, user_id: &str) -> String {
    let response = server(
        app,
        Method::POST,
        "/api/server/tokens",
        Some(json!({ "user_id": user_id })),
    )
    .await;
    assert_eq!(response.status, StatusCode::OK, "mint: {}", response.text);
    response.json()["token"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// A group created through the server API; returns its id.
async fn group(app: &TestApp, created_by: &str, others: &[&str], name: &str) -> String {
    let response = server(
        app,
        Method::POST,
        "/api/server/channels",
        Some(json!({ "members": others, "name": name, "created_by": created_by })),
    )
    .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
    response.json()["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// A WebSocket opened without a cookie, authenticated by `hello` with `token`.
async fn ws_with_token(addr: SocketAddr, token: &str) -> WsClient {
    let mut client = ws_connect(addr, None, None).await.expect("websocket opens");
    client
        .send(json!({"type": "hello", "version": 1, "token": token}))
        .await;
    client
}

/// Waits (polling, at most 30 s) until `check` returns something.
async fn eventually<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(found) = check() {
            return found;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[sqlx::test]
async fn without_a_secret_the_server_api_is_not_there(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let auth = format!("Bearer {SECRET}");
    for (method, path) in [
        (Method::PUT, "/api/server/users/ann"),
        (Method::POST, "/api/server/tokens"),
        (Method::POST, "/api/server/channels"),
        (Method::POST, "/api/server/messages"),
        (
            Method::GET,
            "/api/server/users/00000000-0000-0000-0000-000000000001/unread",
        ),
    ] {
        let response = app
            .request_with(method, path, &[("authorization", &auth)], Some(json!({})))
            .await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(response.error_code(), "not_found", "{path}");
    }
    // Nor are user tokens read: a well-signed one names nobody here.
    let token = token::sign(
        &secret(),
        &Claims::new(Uuid::new_v4(), Utc::now(), Duration::from_secs(60)),
    );
    let me = with_token(&app, Method::GET, "/api/chat/me", &token, None).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
}

#[sqlx::test]
async fn the_server_api_needs_its_secret(pool: PgPool) {
    let app = app(pool).await;
    let path = "/api/server/users/ann";
    let body = json!({ "display_name": "Ann" });
    let wrong = format!("Bearer {SECRET}x");
    let basic = format!("Basic {SECRET}");
    for headers in [
        vec![],
        vec![("authorization", wrong.as_str())],
        vec![("authorization", basic.as_str())],
        vec![("authorization", "Bearer ")],
    ] {
        let response = app
            .request_with(Method::PUT, path, &headers, Some(body.clone()))
            .await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "{headers:?}");
        assert_eq!(response.error_code(), "unauthenticated");
    }
    let response = server(&app, Method::PUT, path, Some(body)).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
}

#[sqlx::test]
async fn upserting_a_user_twice_keeps_one_user(pool: PgPool) {
    let app = app(pool.clone()).await;
    // Any 1–128 characters, percent-encoded in the path.
    let path = "/api/server/users/host%2F42%20%C3%A9";

    let first = server(
        &app,
        Method::PUT,
        path,
        Some(json!({"display_name": "Ann"})),
    )
    .await;
    let second = server(
        &app,
        Method::PUT,
        path,
        Some(json!({"display_name": "Ann Arbor", "username": "ann"})),
    )
    .await;

    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!(second.status, StatusCode::OK, "{}", second.text);
    let (first, second) = (first.json(), second.json());
    assert_eq!(first["id"], second["id"], "one user");
    assert_eq!(first["external_id"], "host/42 é");
    assert_eq!(second["display_name"], "Ann Arbor");
    assert_eq!(second["username"], "ann");
    let rows: i64 =
        sqlx::query_scalar("SELECT count(*) FROM chat_users WHERE external_id = 'host/42 é'")
            .fetch_one(&pool)
            .await
            .expect("count");
    assert_eq!(rows, 1);

    let long = format!("/api/server/users/{}", "x".repeat(129));
    let too_long = server(&app, Method::PUT, &long, Some(json!({"display_name": "X"}))).await;
    assert_eq!(too_long.status, StatusCode::BAD_REQUEST);
    let nameless = server(&app, Method::PUT, path, Some(json!({"display_name": " "}))).await;
    assert_eq!(nameless.status, StatusCode::BAD_REQUEST);
}

#[sqlx::test]
async fn a_minted_token_is_a_bearer_on_the_chat_api_and_server_functions(pool: PgPool) {
    let app = app(pool).await;
    let ann = upsert(&app, "ann", "Ann").await;
    let bob = upsert(&app, "bob", "Bob").await;

    let minted = server(
        &app,
        Method::POST,
        "/api/server/tokens",
        Some(json!({ "user_id": ann })),
    )
    .await;
    assert_eq!(minted.status, StatusCode::OK, "{}", minted.text);
    let token = minted.json()["token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let expires_at = minted.json()["expires_at"]
        .as_str()
        .and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok())
        .expect("expires_at");
    let ttl = expires_at.with_timezone(&Utc) - Utc::now();
    assert!(ttl <= chrono::Duration::hours(1) && ttl > chrono::Duration::minutes(59));

    let me = with_token(&app, Method::GET, "/api/chat/me", &token, None).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    assert_eq!(me.json()["id"], ann.as_str());
    let channel = with_token(
        &app,
        Method::POST,
        "/api/chat/channels",
        &token,
        Some(json!({ "members": [bob] })),
    )
    .await;
    assert_eq!(channel.status, StatusCode::CREATED, "{}", channel.text);
    let channel_id = channel.json()["id"].as_str().unwrap_or_default().to_owned();
    let sent = with_token(
        &app,
        Method::POST,
        "/api/chat/messages",
        &token,
        Some(json!({ "channel_id": channel_id, "text": "hi Bob" })),
    )
    .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.text);
    assert_eq!(sent.json()["user_id"], ann.as_str());
    let bobs = mint(&app, &bob).await;
    let unread = with_token(&app, Method::GET, "/api/chat/unread", &bobs, None).await;
    assert_eq!(unread.json()["unread"], 1);

    // A server function, as the Leptos client calls it.
    let auth = format!("Bearer {token}");
    let function = app
        .request(
            Method::POST,
            "/api/fn/channel",
            Some((
                "application/x-www-form-urlencoded",
                format!("channel_id={channel_id}"),
            )),
            None,
        )
        .await;
    assert_eq!(function.status, StatusCode::UNAUTHORIZED, "no credential");
    let function = app
        .send_request(
            axum::http::Request::post("/api/fn/channel")
                .header("authorization", &auth)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(axum::body::Body::from(format!("channel_id={channel_id}")))
                .expect("request"),
        )
        .await;
    assert_eq!(function.status, StatusCode::OK, "{}", function.text);
    assert_eq!(function.json()["id"], channel_id.as_str());

    // Lifetimes beyond the bounds, and people who do not exist.
    for (body, status) in [
        (
            json!({"user_id": ann, "ttl_seconds": 0}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"user_id": ann, "ttl_seconds": 86_401}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"user_id": ann, "ttl_seconds": 86_400}),
            StatusCode::OK,
        ),
        (json!({"user_id": Uuid::new_v4()}), StatusCode::NOT_FOUND),
    ] {
        let response = server(&app, Method::POST, "/api/server/tokens", Some(body.clone())).await;
        assert_eq!(response.status, status, "{body}: {}", response.text);
    }
}

#[sqlx::test]
async fn a_minted_token_opens_the_websocket_in_hello(pool: PgPool) {
    let app = app(pool).await;
    let addr = app.serve().await;
    let ann = upsert(&app, "ann", "Ann").await;
    let bob = upsert(&app, "bob", "Bob").await;
    let channel = group(&app, &ann, &[&bob], "Team").await;
    let token = mint(&app, &bob).await;

    // No cookie, and a page of another origin: a token is no ambient credential.
    let mut socket = ws_connect(addr, None, Some("https://elsewhere.example"))
        .await
        .expect("websocket opens");
    socket
        .send(json!({"type": "hello", "version": 1, "token": token}))
        .await;
    let ready = socket.until("ready").await;
    assert_eq!(ready[ready.len() - 1]["user_id"], bob.as_str());

    let posted = server(
        &app,
        Method::POST,
        "/api/server/messages",
        Some(json!({"channel_id": channel, "user_id": ann, "text": "welcome"})),
    )
    .await;
    assert_eq!(posted.status, StatusCode::OK, "{}", posted.text);
    let events = socket.until("message").await;
    assert_eq!(events[events.len() - 1]["message"]["text"], "welcome");
    // The socket speaks as bob from then on.
    socket
        .send(
            json!({"type": "send", "id": Uuid::new_v4(), "channel_id": channel, "text": "thanks"}),
        )
        .await;
    let acks = socket.until("ack").await;
    assert_eq!(acks[acks.len() - 1]["message"]["user_id"], bob.as_str());
}

#[sqlx::test]
async fn expired_and_forged_tokens_are_refused(pool: PgPool) {
    let app = app(pool).await;
    let addr = app.serve().await;
    let ann = upsert(&app, "ann", "Ann").await;
    let ann_id: Uuid = ann.parse().expect("uuid");
    let expired = token::sign(
        &secret(),
        &Claims {
            sub: ann_id,
            iat: Utc::now().timestamp() - 120,
            exp: Utc::now().timestamp() - 60,
        },
    );
    let other_secret = ServerSecret::new(format!("{SECRET}-but-another")).expect("secret");
    let forged = token::sign(
        &other_secret,
        &Claims::new(ann_id, Utc::now(), Duration::from_secs(600)),
    );
    // A valid token for ann with bob's claims pasted in.
    let bob = upsert(&app, "bob", "Bob").await;
    let valid = mint(&app, &ann).await;
    let bobs = mint(&app, &bob).await;
    let mut parts: Vec<&str> = valid.split('.').collect();
    parts[1] = bobs.split('.').nth(1).unwrap_or_default();
    let tampered = parts.join(".");

    for (name, bad) in [
        ("expired", &expired),
        ("forged", &forged),
        ("tampered", &tampered),
    ] {
        let response = with_token(&app, Method::GET, "/api/chat/me", bad, None).await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "{name}");
        assert_eq!(response.error_code(), "unauthenticated", "{name}");
        let mut socket = ws_with_token(addr, bad).await;
        assert_eq!(socket.next().await["code"], 4001, "{name} in hello");
    }
    let expired = with_token(&app, Method::GET, "/api/chat/me", &expired, None).await;
    assert!(
        expired.json()["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("expired")),
        "{}",
        expired.text
    );

    // A socket without a cookie whose first frame is no hello with a token.
    let mut tokenless = ws_connect(addr, None, None).await.expect("opens");
    tokenless.send(json!({"type": "hello", "version": 1})).await;
    assert_eq!(tokenless.next().await["code"], 4001);
    let mut chatty = ws_connect(addr, None, None).await.expect("opens");
    chatty.send(json!({"type": "ping"})).await;
    assert_eq!(chatty.next().await["code"], 4001);
}

#[sqlx::test]
async fn a_socket_opened_with_a_token_closes_when_it_expires(pool: PgPool) {
    let app = app(pool).await;
    let addr = app.serve().await;
    let ann = upsert(&app, "ann", "Ann").await;
    // Valid for one to two seconds (expiry is in whole seconds).
    let minted = server(
        &app,
        Method::POST,
        "/api/server/tokens",
        Some(json!({"user_id": ann, "ttl_seconds": 2})),
    )
    .await;
    let token = minted.json()["token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let started = Instant::now();

    let mut socket = ws_with_token(addr, &token).await;
    socket.until("ready").await;
    let closed = loop {
        let event = socket.next().await;
        if event["type"] == "closed" {
            break event;
        }
    };

    assert_eq!(closed["code"], 4001, "{closed}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[sqlx::test]
async fn a_system_message_is_stored_and_shown_without_an_author(pool: PgPool) {
    let app = app(pool).await;
    let addr = app.serve().await;
    let ann = upsert(&app, "ann", "Ann").await;
    let bob = upsert(&app, "bob", "Bob").await;
    let channel = group(&app, &ann, &[&bob], "Trip").await;
    let bobs = mint(&app, &bob).await;
    let mut socket = ws_with_token(addr, &bobs).await;
    socket.until("ready").await;
    let id = Uuid::new_v4();

    let posted = server(
        &app,
        Method::POST,
        "/api/server/messages",
        Some(json!({"id": id, "channel_id": channel, "text": "Your booking is confirmed."})),
    )
    .await;

    assert_eq!(posted.status, StatusCode::OK, "{}", posted.text);
    let message = posted.json();
    assert_eq!(message["user_id"], Value::Null, "no author");
    assert_eq!(message["seq"], 1);
    // Live, as any message.
    let events = socket.until("message").await;
    assert_eq!(events[events.len() - 1]["message"]["id"], id.to_string());
    assert_eq!(events[events.len() - 1]["message"]["user_id"], Value::Null);
    // In the history and as the channel's last message.
    let history = with_token(
        &app,
        Method::GET,
        &format!("/api/chat/channels/{channel}/messages"),
        &bobs,
        None,
    )
    .await;
    let stored = &history.json()["messages"][0];
    assert_eq!(stored["text"], "Your booking is confirmed.");
    assert_eq!(stored["user_id"], Value::Null);
    let listed = with_token(&app, Method::GET, "/api/chat/channels", &bobs, None).await;
    assert_eq!(listed.json()[0]["last_message"]["user_id"], Value::Null);
    // Unread for no one; a message by a person counts as ever.
    let unread = |user: String| {
        let app = &app;
        async move {
            server(
                app,
                Method::GET,
                &format!("/api/server/users/{user}/unread"),
                None,
            )
            .await
            .json()["unread"]
                .clone()
        }
    };
    assert_eq!(unread(bob.clone()).await, 0);
    assert_eq!(unread(ann.clone()).await, 0);
    let by_ann = server(
        &app,
        Method::POST,
        "/api/server/messages",
        Some(json!({"channel_id": channel, "user_id": ann, "text": "See you there"})),
    )
    .await;
    assert_eq!(by_ann.json()["user_id"], ann.as_str());
    assert_eq!(unread(bob.clone()).await, 1);
    // A retry with the same id is the same message; nobody can edit it.
    let again = server(
        &app,
        Method::POST,
        "/api/server/messages",
        Some(json!({"id": id, "channel_id": channel, "text": "Your booking is confirmed."})),
    )
    .await;
    assert_eq!(again.json()["seq"], 1);
    let edit = with_token(
        &app,
        Method::PATCH,
        &format!("/api/chat/messages/{id}"),
        &bobs,
        Some(json!({"text": "hijacked"})),
    )
    .await;
    assert_eq!(edit.status, StatusCode::FORBIDDEN);
    // Wrong channel, wrong author.
    let carol = upsert(&app, "carol", "Carol").await;
    for (body, status) in [
        (
            json!({"channel_id": Uuid::new_v4(), "text": "x"}),
            StatusCode::NOT_FOUND,
        ),
        (
            json!({"channel_id": channel, "user_id": carol, "text": "x"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"channel_id": channel, "text": " "}),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let response = server(
            &app,
            Method::POST,
            "/api/server/messages",
            Some(body.clone()),
        )
        .await;
        assert_eq!(response.status, status, "{body}: {}", response.text);
    }
    assert_eq!(
        server(
            &app,
            Method::GET,
            &format!("/api/server/users/{}/unread", Uuid::new_v4()),
            None
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
}

#[sqlx::test]
async fn member_changes_reach_every_instance_at_once(pool: PgPool) {
    use tokio::io::AsyncReadExt;
    let a = app(pool.clone()).await;
    let b = app(pool).await;
    let b_addr = b.serve().await;
    let ann = upsert(&a, "ann", "Ann").await;
    let bob = upsert(&a, "bob", "Bob").await;
    let carol = upsert(&a, "carol", "Carol").await;
    let dave = upsert(&a, "dave", "Dave").await;
    let channel = group(&a, &ann, &[&bob, &carol], "Plans").await;
    let (bobs, carols, daves) = (
        mint(&a, &bob).await,
        mint(&a, &carol).await,
        mint(&a, &dave).await,
    );
    // Everyone but ann listens on instance B, bob on a stream too.
    let mut bob_ws = ws_with_token(b_addr, &bobs).await;
    let mut carol_ws = ws_with_token(b_addr, &carols).await;
    let mut dave_ws = ws_with_token(b_addr, &daves).await;
    for socket in [&mut bob_ws, &mut carol_ws, &mut dave_ws] {
        socket.until("ready").await;
    }
    let mut bob_stream = sse_open(b_addr, &channel, &format!("Authorization: Bearer {bobs}")).await;
    // B has cached the members: a message reaches bob and carol there.
    let first = server(
        &a,
        Method::POST,
        "/api/server/messages",
        Some(json!({"channel_id": channel, "text": "before"})),
    )
    .await;
    assert_eq!(first.status, StatusCode::OK);
    bob_ws.until("message").await;
    carol_ws.until("message").await;

    let changed = server(
        &a,
        Method::POST,
        &format!("/api/server/channels/{channel}/members"),
        Some(json!({"add": [dave], "remove": [bob]})),
    )
    .await;

    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    let members: HashSet<String> = changed.json()["members"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        members,
        HashSet::from([ann.clone(), carol.clone(), dave.clone()])
    );
    // Dave hears of the channel on B, with nothing unread (he joined after "before").
    let dave_heard = dave_ws.until("channel_added").await;
    let added = &dave_heard[dave_heard.len() - 1]["channel"];
    assert_eq!(added["id"], channel.as_str());
    assert_eq!(added["unread"], 0);
    // Bob's stream of it ends.
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), bob_stream.read_to_end(&mut rest))
        .await
        .expect("the removed member's stream ends")
        .expect("read");
    // The next message goes to carol and dave on B, not to bob.
    let after = server(
        &a,
        Method::POST,
        "/api/server/messages",
        Some(json!({"channel_id": channel, "user_id": ann, "text": "after"})),
    )
    .await;
    assert_eq!(after.status, StatusCode::OK);
    // The change's system lines ("Dave joined", "Bob left") come first; dave's first may
    // have come before his `channel_added` (that is sent apart from the listener).
    let texts_in = |events: &[Value]| -> Vec<String> {
        events
            .iter()
            .filter(|e| e["type"] == "message")
            .filter_map(|e| e["message"]["text"].as_str().map(str::to_owned))
            .collect()
    };
    for (socket, mut texts) in [
        (&mut carol_ws, Vec::new()),
        (&mut dave_ws, texts_in(&dave_heard)),
    ] {
        while texts.last().map(String::as_str) != Some("after") {
            let events = socket.until("message").await;
            let message = &events[events.len() - 1]["message"];
            texts.push(message["text"].as_str().unwrap_or_default().to_owned());
        }
        assert_eq!(texts, ["Dave joined", "Bob left", "after"]);
    }
    let bobs_events = bob_ws.drain().await;
    assert!(
        bobs_events.iter().all(|e| e["type"] != "message"),
        "{bobs_events:?}"
    );
    let history = with_token(
        &b,
        Method::GET,
        &format!("/api/chat/channels/{channel}/messages"),
        &bobs,
        None,
    )
    .await;
    assert_eq!(history.status, StatusCode::NOT_FOUND);

    // 1:1s keep their two members; unknown channels and people are refused.
    let pair = server(
        &a,
        Method::POST,
        "/api/server/channels",
        Some(json!({"members": [bob], "created_by": ann})),
    )
    .await;
    assert_eq!(pair.json()["kind"], "dm");
    let pair = pair.json()["id"].as_str().unwrap_or_default().to_owned();
    for (path, body, status) in [
        (
            format!("/api/server/channels/{pair}/members"),
            json!({"add": [carol]}),
            StatusCode::BAD_REQUEST,
        ),
        (
            format!("/api/server/channels/{}/members", Uuid::new_v4()),
            json!({"add": [carol]}),
            StatusCode::NOT_FOUND,
        ),
        (
            format!("/api/server/channels/{channel}/members"),
            json!({"add": [Uuid::new_v4()]}),
            StatusCode::BAD_REQUEST,
        ),
        (
            format!("/api/server/channels/{channel}/members"),
            json!({"add": [bob], "remove": [bob]}),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let response = server(&a, Method::POST, &path, Some(body.clone())).await;
        assert_eq!(response.status, status, "{path} {body}: {}", response.text);
    }
}

#[sqlx::test]
async fn a_report_is_webhooked_and_listed_and_the_host_deletes_the_message_live(pool: PgPool) {
    let receiver = Receiver::start(Answer::Accept).await;
    let app = app_with_webhooks(pool, &receiver).await;
    let addr = app.serve().await;
    let ann = upsert(&app, "ann", "Ann").await;
    let bob = upsert(&app, "bob", "Bob").await;
    let channel = group(&app, &ann, &[&bob], "Moderated").await;
    let (anns, bobs) = (mint(&app, &ann).await, mint(&app, &bob).await);
    let sent = with_token(
        &app,
        Method::POST,
        "/api/chat/messages",
        &anns,
        Some(json!({"channel_id": channel, "text": "something rude"})),
    )
    .await;
    let message = sent.json()["id"].as_str().unwrap_or_default().to_owned();
    let reported = with_token(
        &app,
        Method::POST,
        &format!("/api/chat/messages/{message}/report"),
        &bobs,
        Some(json!({"reason": "It is rude"})),
    )
    .await;
    assert_eq!(reported.status, StatusCode::CREATED, "{}", reported.text);
    let report_id = reported.json()["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    // The webhook: the report and the message as it was.
    let hook = eventually("message.reported delivered", || {
        receiver
            .successes()
            .into_iter()
            .find(|d| d.kind() == "message.reported")
    })
    .await;
    assert_eq!(hook.signature, expected_signature(&hook.raw));
    let data = &hook.body["data"];
    assert_eq!(data["report"]["id"], report_id.as_str());
    assert_eq!(data["report"]["reporter"], bob.as_str());
    assert_eq!(data["report"]["reason"], "It is rude");
    assert_eq!(data["message"]["text"], "something rude");

    // The server API lists it (newest first, paginated, bad parameters refused).
    let listed = server(&app, Method::GET, "/api/server/reports", None).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    let listed = listed.json();
    assert_eq!(listed["more"], false);
    let first = &listed["reports"][0];
    assert_eq!(first["id"], report_id.as_str());
    assert_eq!(first["message_id"], message.as_str());
    assert_eq!(first["channel_id"], channel.as_str());
    assert_eq!(first["reason"], "It is rude");
    assert_eq!(first["message"]["text"], "something rude");
    for query in ["?limit=0", "?limit=101", "?offset=-1", "?limit=many"] {
        let bad = server(
            &app,
            Method::GET,
            &format!("/api/server/reports{query}"),
            None,
        )
        .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{query}: {}", bad.text);
    }
    assert_eq!(
        app.get("/api/server/reports", None).await.status,
        StatusCode::UNAUTHORIZED
    );

    // The host's moderator deletes it: bob's open socket shows "Message deleted" at once.
    let mut bob_ws = ws_with_token(addr, &bobs).await;
    bob_ws.until("ready").await;
    let deleted = server(
        &app,
        Method::DELETE,
        &format!("/api/server/messages/{message}"),
        None,
    )
    .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.text);
    assert_eq!(deleted.json()["deleted"], true);
    let events = bob_ws.until("message_updated").await;
    let live = &events[events.len() - 1]["message"];
    assert_eq!(live["id"], message.as_str());
    assert_eq!(
        (live["deleted"].as_bool(), live["text"].as_str()),
        (Some(true), Some(""))
    );
    let history = with_token(
        &app,
        Method::GET,
        &format!("/api/chat/channels/{channel}/messages"),
        &bobs,
        None,
    )
    .await
    .json();
    assert!(!history.to_string().contains("something rude"), "{history}");
    // Deleting it again changes nothing; an unknown message is not_found.
    let again = server(
        &app,
        Method::DELETE,
        &format!("/api/server/messages/{message}"),
        None,
    )
    .await;
    assert_eq!(again.status, StatusCode::OK);
    let unknown = server(
        &app,
        Method::DELETE,
        &format!("/api/server/messages/{}", Uuid::new_v4()),
        None,
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

// ---- Webhooks ------------------------------------------------------------------------------

/// How the test receiver answers.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Answer {
    /// 200.
    Accept,
    /// 500, always.
    Refuse,
    /// 500 the first time an event id arrives, 200 after.
    RefuseFirst,
}

/// One delivery as the receiver saw it, and what it answered.
#[derive(Clone, Debug)]
struct Delivery {
    body: Value,
    raw: Vec<u8>,
    signature: String,
    status: u16,
}

impl Delivery {
    fn id(&self) -> String {
        self.body["id"].as_str().unwrap_or_default().to_owned()
    }

    fn kind(&self) -> String {
        self.body["type"].as_str().unwrap_or_default().to_owned()
    }
}

#[derive(Default)]
struct Heard {
    answer: Option<Answer>,
    deliveries: Vec<Delivery>,
    seen: HashSet<String>,
}

/// A webhook receiver: a real HTTP server on a loopback port, in the test.
#[derive(Clone)]
struct Receiver {
    addr: SocketAddr,
    heard: Arc<Mutex<Heard>>,
}

impl Receiver {
    async fn start(answer: Answer) -> Self {
        let heard = Arc::new(Mutex::new(Heard {
            answer: Some(answer),
            ..Heard::default()
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        let app = Router::new()
            .route("/hooks/parley", post(receive))
            .with_state(heard.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { addr, heard }
    }

    fn url(&self) -> String {
        format!("http://{}/hooks/parley", self.addr)
    }

    fn answer(&self, answer: Answer) {
        self.heard.lock().expect("receiver").answer = Some(answer);
    }

    fn deliveries(&self) -> Vec<Delivery> {
        self.heard.lock().expect("receiver").deliveries.clone()
    }

    fn successes(&self) -> Vec<Delivery> {
        let mut ok = self.deliveries();
        ok.retain(|d| d.status == 200);
        ok
    }
}

async fn receive(
    State(heard): State<Arc<Mutex<Heard>>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    let mut heard = heard.lock().expect("receiver");
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let id = parsed["id"].as_str().unwrap_or_default().to_owned();
    let first_time = heard.seen.insert(id);
    let status = match heard.answer {
        Some(Answer::Accept) => StatusCode::OK,
        Some(Answer::RefuseFirst) if !first_time => StatusCode::OK,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    heard.deliveries.push(Delivery {
        body: parsed,
        raw: body.to_vec(),
        signature: headers
            .get("x-parley-signature")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
        status: status.as_u16(),
    });
    status
}

/// What the signature header of `body` must be, computed as a receiver would: HMAC-SHA256
/// (RFC 2104) keyed with the secret, written out here apart from the library's.
fn expected_signature(body: &[u8]) -> String {
    const BLOCK: usize = 64;
    let mut key = SECRET.as_bytes().to_vec();
    if key.len() > BLOCK {
        key = Sha256::digest(&key).to_vec();
    }
    key.resize(BLOCK, 0);
    let pad = |byte: u8| key.iter().map(|k| k ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(body)
        .finalize();
    let tag = Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize();
    let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// No event id among the successful deliveries twice.
fn assert_no_repeats(successes: &[Delivery]) {
    let mut ids = HashSet::new();
    for delivery in successes {
        assert!(
            ids.insert(delivery.id()),
            "delivered twice: {}",
            delivery.body
        );
    }
}

#[sqlx::test]
async fn webhooks_deliver_every_event_type_signed(pool: PgPool) {
    let receiver = Receiver::start(Answer::Accept).await;
    let app = app_with_webhooks(pool, &receiver).await;
    let ann = upsert(&app, "ann", "Ann").await;
    let bob = upsert(&app, "bob", "Bob").await;
    let carol = upsert(&app, "carol", "Carol").await;
    let anns = mint(&app, &ann).await;

    let channel = group(&app, &ann, &[&bob], "Hooks").await;
    let sent = with_token(
        &app,
        Method::POST,
        "/api/chat/messages",
        &anns,
        Some(json!({"channel_id": channel, "text": "first words"})),
    )
    .await;
    let message_id = sent.json()["id"].as_str().unwrap_or_default().to_owned();
    let edited = with_token(
        &app,
        Method::PATCH,
        &format!("/api/chat/messages/{message_id}"),
        &anns,
        Some(json!({"text": "better words"})),
    )
    .await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.text);
    // Bob reacts, sets the same reaction again (no change: no event) and takes it back.
    let bobs = mint(&app, &bob).await;
    let reactions = format!("/api/chat/messages/{message_id}/reactions");
    for on in [true, true, false] {
        let reacted = with_token(
            &app,
            Method::POST,
            &reactions,
            &bobs,
            Some(json!({"emoji": "👍", "on": on})),
        )
        .await;
        assert_eq!(reacted.status, StatusCode::OK, "{}", reacted.text);
    }
    let members = format!("/api/server/channels/{channel}/members");
    server(&app, Method::POST, &members, Some(json!({"add": [carol]}))).await;
    server(
        &app,
        Method::POST,
        &members,
        Some(json!({"remove": [carol]})),
    )
    .await;
    server(
        &app,
        Method::POST,
        "/api/server/messages",
        Some(json!({"channel_id": channel, "text": "system words"})),
    )
    .await;

    let kinds = [
        "channel.created",
        "message.new",
        "message.updated",
        "member.added",
        "member.removed",
        "reaction.new",
        "reaction.deleted",
    ];
    let deliveries = eventually("every event delivered", || {
        let got = receiver.successes();
        (got.len() >= 10).then_some(got)
    })
    .await;
    let by_kind: HashMap<String, Vec<&Delivery>> =
        deliveries.iter().fold(HashMap::new(), |mut map, d| {
            map.entry(d.kind()).or_default().push(d);
            map
        });
    for kind in kinds {
        assert!(by_kind.contains_key(kind), "no {kind}: {deliveries:?}");
    }
    for delivery in &deliveries {
        assert_eq!(delivery.signature, expected_signature(&delivery.raw));
        let body = &delivery.body;
        assert!(body["id"]
            .as_str()
            .is_some_and(|id| id.parse::<Uuid>().is_ok()));
        assert!(body["created_at"].as_str().is_some(), "{body}");
        assert!(body["data"].is_object(), "{body}");
    }
    assert_no_repeats(&deliveries);
    let created = &by_kind["channel.created"][0].body["data"];
    assert_eq!(created["channel"]["id"], channel.as_str());
    assert_eq!(created["channel"]["kind"], "group");
    assert_eq!(created["created_by"], ann.as_str());
    let texts: HashSet<&str> = by_kind["message.new"]
        .iter()
        .filter_map(|d| d.body["data"]["message"]["text"].as_str())
        .collect();
    // The member changes' system lines are messages too.
    assert_eq!(
        texts,
        HashSet::from(["first words", "Carol joined", "Carol left", "system words"])
    );
    let updated = &by_kind["message.updated"][0].body["data"]["message"];
    assert_eq!(updated["id"], message_id.as_str());
    assert_eq!(updated["text"], "better words");
    assert_eq!(updated["edited"], true);
    for kind in ["member.added", "member.removed"] {
        let data = &by_kind[kind][0].body["data"];
        assert_eq!(data["channel_id"], channel.as_str(), "{kind}");
        assert_eq!(data["user_id"], carol.as_str(), "{kind}");
    }
    for kind in ["reaction.new", "reaction.deleted"] {
        assert_eq!(by_kind[kind].len(), 1, "one {kind}: {deliveries:?}");
        let reaction = &by_kind[kind][0].body["data"]["reaction"];
        assert_eq!(
            *reaction,
            json!({"message_id": message_id, "channel_id": channel, "user_id": bob, "emoji": "👍"}),
            "{kind}"
        );
    }
    // A signature over other bytes does not verify.
    assert_ne!(
        deliveries[0].signature,
        expected_signature(&deliveries[1].raw)
    );
}

#[sqlx::test]
async fn a_refused_delivery_is_repeated(pool: PgPool) {
    let receiver = Receiver::start(Answer::RefuseFirst).await;
    let app = app_with_webhooks(pool, &receiver).await;
    let ann = upsert(&app, "ann", "Ann").await;
    let bob = upsert(&app, "bob", "Bob").await;

    let channel = group(&app, &ann, &[&bob], "Retry").await;

    let success = eventually("a delivery after the 500", || {
        receiver.successes().into_iter().next()
    })
    .await;
    let attempts: Vec<Delivery> = receiver
        .deliveries()
        .into_iter()
        .filter(|d| d.id() == success.id())
        .collect();
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    assert_eq!((attempts[0].status, attempts[1].status), (500, 200));
    assert_eq!(
        attempts[0].raw, attempts[1].raw,
        "the same event, byte for byte"
    );
    assert_eq!(success.body["data"]["channel"]["id"], channel.as_str());
    // Delivered, it leaves the queue, and is not sent again.
    assert_eq!(eventually_queue_empty(&app.pool).await, 0);
    assert_eq!(receiver.successes().len(), 1);
}

/// Waits until the outbox holds nothing; returns what it holds.
async fn eventually_queue_empty(pool: &PgPool) -> i64 {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let queued: i64 = sqlx::query_scalar("SELECT count(*) FROM chat_webhook_events")
            .fetch_one(pool)
            .await
            .expect("count");
        if queued == 0 || Instant::now() > deadline {
            return queued;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[sqlx::test]
async fn two_instances_never_send_one_event_twice(pool: PgPool) {
    let receiver = Receiver::start(Answer::Accept).await;
    let a = app_with_webhooks(pool.clone(), &receiver).await;
    let b = app_with_webhooks(pool, &receiver).await;
    let ann = upsert(&a, "ann", "Ann").await;
    let bob = upsert(&a, "bob", "Bob").await;
    let channel = group(&a, &ann, &[&bob], "Both").await;

    // Events committed through both instances, each waking its own worker while the other
    // polls the same queue.
    for n in 0..20 {
        let instance = if n % 2 == 0 { &a } else { &b };
        let response = server(
            instance,
            Method::POST,
            "/api/server/messages",
            Some(json!({"channel_id": channel, "user_id": ann, "text": format!("#{n}")})),
        )
        .await;
        assert_eq!(response.status, StatusCode::OK);
    }

    eventually("all 21 events delivered", || {
        (receiver.successes().len() >= 21).then_some(())
    })
    .await;
    assert_eq!(eventually_queue_empty(&a.pool).await, 0);
    let deliveries = receiver.deliveries();
    assert_eq!(deliveries.len(), 21, "each event sent once: {deliveries:?}");
    assert_no_repeats(&deliveries);
}

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

#[sqlx::test]
async fn webhooks_are_delivered_after_the_server_is_killed_and_restarted(pool: PgPool) {
    let receiver = Receiver::start(Answer::Refuse).await;
    let url = database_url(&pool).await;
    let hook = receiver.url();
    let env = [
        ("PARLEY_SERVER_SECRET", SECRET),
        ("PARLEY_WEBHOOK_URL", hook.as_str()),
        // Keeps the lease of an event in flight at the kill short (timeout + 10 s).
        ("PARLEY_WEBHOOK_TIMEOUT_SECS", "2"),
    ];
    let child = Server::start_with(&url, &env).await;
    let addr = child.addr;
    let auth = format!("Authorization: Bearer {SECRET}");
    let call = |method: &'static str, path: &'static str, body: Value| {
        let auth = auth.clone();
        async move { process::http_with(addr, method, path, &auth, Some(&body.to_string())).await }
    };
    let (_, ann) = call(
        "PUT",
        "/api/server/users/ann",
        json!({"display_name": "Ann"}),
    )
    .await;
    let (_, bob) = call(
        "PUT",
        "/api/server/users/bob",
        json!({"display_name": "Bob"}),
    )
    .await;
    let id = |user: &str| -> String {
        serde_json::from_str::<Value>(user).unwrap_or(Value::Null)["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let (status, channel) = call(
        "POST",
        "/api/server/channels",
        json!({"members": [id(&bob)], "name": "Durable", "created_by": id(&ann)}),
    )
    .await;
    assert_eq!(status, 201, "{channel}");
    let channel = id(&channel);
    let (status, _) = call(
        "POST",
        "/api/server/messages",
        json!({"channel_id": channel, "text": "before the crash"}),
    )
    .await;
    assert_eq!(status, 200);
    // Both events were tried (and refused) by the running server…
    eventually("both events tried", || {
        let ids: HashSet<String> = receiver.deliveries().iter().map(Delivery::id).collect();
        (ids.len() == 2).then_some(())
    })
    .await;

    // …which dies without a word, and comes back while the receiver is up again.
    child.kill();
    receiver.answer(Answer::Accept);
    let _restarted = Server::start_with(&url, &env).await;

    let delivered = eventually("both events delivered after the restart", || {
        let ok = receiver.successes();
        (ok.len() >= 2).then_some(ok)
    })
    .await;
    let kinds: HashSet<String> = delivered.iter().map(Delivery::kind).collect();
    assert_eq!(
        kinds,
        HashSet::from(["channel.created".to_owned(), "message.new".to_owned()])
    );
    for delivery in &delivered {
        assert_eq!(delivery.signature, expected_signature(&delivery.raw));
    }
    assert_eq!(eventually_queue_empty(&pool).await, 0);
    assert_no_repeats(&receiver.successes());
}
