//! A database outage with clients connected: the real server binary on a PostgreSQL cluster
//! of this test's own, which is stopped and started again. While it is down, requests get a
//! clear 503 (`unavailable`) and WebSockets are closed with 1013 (try again later, which
//! browsers show as "Reconnecting…"); once it is back, the service recovers with no manual
//! step, clients resume by cursor, and no acknowledged message is lost.

mod common;

use std::time::{Duration, Instant};

use common::process::{http, Cluster, Server};
use common::{TestApp, WsClient};
use serde_json::json;
use sqlx::postgres::PgPoolOptions;

#[tokio::test]
async fn the_service_survives_a_database_outage_with_clients_connected() {
    let cluster = Cluster::create();
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect(&cluster.url())
        .await
        .expect("scratch database");
    parley::server::db::migrate(&pool)
        .await
        .expect("the chat's migrations");
    parley_demo::server::db::MIGRATOR
        .run(&pool)
        .await
        .expect("the demo's migrations");
    let server = Server::start(&cluster.url()).await;
    // Accounts made in-process on the same database: their sessions work on the child too.
    let app = TestApp::new(pool.clone()).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let channel = app.channel(&alice, &[&bob], None).await["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let send = |text: &str| json!({"channel_id": channel, "text": text}).to_string();

    let (status, _) = http(
        server.addr,
        "POST",
        "/api/chat/messages",
        &alice.cookie,
        Some(&send("before")),
    )
    .await;
    assert_eq!(status, 200);
    let mut bob_ws = WsClient::open(server.addr, &bob, json!([])).await;
    pool.close().await;
    drop(app);

    cluster.stop();
    // Sockets are closed with "try again later" …
    let mut closed = json!(null);
    for _ in 0..100 {
        let event = bob_ws.next().await;
        if event["type"] == "closed" {
            closed = event;
            break;
        }
    }
    assert_eq!(closed["code"], 1013, "{closed}");
    // … and requests get a clear 503, not a hang or a 500.
    let started = Instant::now();
    let (status, body) = http(
        server.addr,
        "POST",
        "/api/chat/messages",
        &alice.cookie,
        Some(&send("during")),
    )
    .await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("\"unavailable\""), "{body}");
    assert!(started.elapsed() < Duration::from_secs(15));
    let (status, _) = http(server.addr, "GET", "/api/chat/channels", &bob.cookie, None).await;
    assert_eq!(status, 503);

    cluster.start();
    // Recovery without a restart: sends work again within a few seconds.
    let started = Instant::now();
    loop {
        let (status, body) = http(
            server.addr,
            "POST",
            "/api/chat/messages",
            &alice.cookie,
            Some(&send("after")),
        )
        .await;
        if status == 200 {
            break;
        }
        assert_eq!(status, 503, "{body}");
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no recovery: {body}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // bob reconnects and resumes from what he had (seq 1): exactly "after".
    let mut bob_ws = WsClient::open(
        server.addr,
        &bob,
        json!([{"channel_id": channel, "last_seq": 1}]),
    )
    .await;
    let replayed = bob_ws.drain().await;
    let texts: Vec<&str> = replayed
        .iter()
        .filter(|e| e["type"] == "message")
        .filter_map(|e| e["message"]["text"].as_str())
        .collect();
    assert_eq!(texts, ["after"]);
    // Live delivery works again too (the bus listener is back).
    let (status, _) = http(
        server.addr,
        "POST",
        "/api/chat/messages",
        &alice.cookie,
        Some(&send("live again")),
    )
    .await;
    assert_eq!(status, 200);
    // It arrives live, or (if the server's bus link was not back yet) after the `resync` the
    // server sends once it is, which tells the client to resume from its cursor.
    loop {
        let event = bob_ws.next().await;
        match event["type"].as_str() {
            Some("message") => {
                assert_eq!(event["message"]["text"], "live again");
                break;
            }
            Some("resync") => {
                bob_ws
                    .send(json!({"type": "resume", "cursors": [{"channel_id": channel, "last_seq": 2}]}))
                    .await;
            }
            Some("closed") => panic!("{event}"),
            _ => {}
        }
    }

    // Nothing acknowledged was lost, nothing refused was stored.
    let (_, history) = http(
        server.addr,
        "GET",
        &format!("/api/chat/channels/{channel}/messages"),
        &bob.cookie,
        None,
    )
    .await;
    let history: serde_json::Value = serde_json::from_str(&history).unwrap_or_default();
    let texts: Vec<&str> = history["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["text"].as_str())
        .collect();
    assert_eq!(texts, ["before", "after", "live again"]);
    drop(server);
}
