//! Sessions really end (issue 12, items 6 and 9): signing out closes the session's WebSockets
//! (4001) and SSE streams on every instance, "sign out everywhere" ends every session, an
//! expiring session closes its sockets, signing in rotates the session, and over https the
//! cookie is `__Host-` and HSTS is sent.

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use parley::server::Settings;
use serde_json::json;
use sqlx::PgPool;
use tower::ServiceExt;

use crate::common::{TestApp, TestUser, WsClient};

/// Opens an SSE stream of `channel` as `user` on `app`.
async fn open_sse(app: &TestApp, user: &TestUser, channel: &str) -> Body {
    let request = Request::get(format!("/api/chat/events?channel_id={channel}"))
        .header(header::COOKIE, &user.cookie)
        .body(Body::empty())
        .expect("request");
    let response = parley_demo::server::router(app.host.clone())
        .oneshot(request)
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    response.into_body()
}

/// Reads the stream until it ends; `false` when it is still open after 10 s.
async fn ends(body: &mut Body) -> bool {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), body.frame()).await {
            Err(_) => return false,
            Ok(None) => return true,
            Ok(Some(Err(_))) => return true,
            Ok(Some(Ok(_))) => continue,
        }
    }
}

/// The next close (skipping events); its code.
async fn closed(socket: &mut WsClient) -> serde_json::Value {
    loop {
        let event = socket.next().await;
        if event["type"] == "closed" {
            return event["code"].clone();
        }
    }
}

#[sqlx::test]
async fn signing_out_closes_the_sessions_sockets_and_streams_on_every_instance(pool: PgPool) {
    let a = TestApp::new(pool.clone()).await;
    let b = TestApp::new(pool).await;
    let alice = a.user("alice").await;
    let bob = a.user("bob").await;
    let dm = a.channel(&alice, &[&bob], None).await["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    // A second session of alice's (another device) stays signed in.
    let other_device = a
        .post_json(
            "/api/auth/login",
            json!({"username": "alice", "password": "correct horse"}),
            None,
        )
        .await
        .session_cookie()
        .expect("second session");
    let other = TestUser {
        cookie: other_device,
        id: alice.id.clone(),
    };
    let addr_b = b.serve().await;
    let mut socket = WsClient::open(addr_b, &alice, json!([])).await;
    let mut stays = WsClient::open(addr_b, &other, json!([])).await;
    let mut stream = open_sse(&b, &alice, &dm).await;

    let out = a
        .post_json("/api/auth/logout", json!({}), Some(&alice.cookie))
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert_eq!(closed(&mut socket).await, 4001);
    assert!(ends(&mut stream).await, "the event stream ends");
    // The other device's socket still works: it receives the next message.
    a.send(&bob, &dm, "still here?").await;
    let events = stays.until("message").await;
    assert_eq!(
        events.last().map(|e| e["message"]["text"].clone()),
        Some(json!("still here?"))
    );
    // The signed-out cookie opens nothing any more.
    let me = a.get("/api/auth/me", Some(&alice.cookie)).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
}

#[sqlx::test]
async fn signing_out_everywhere_ends_every_session(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let alice = app.user("alice").await;
    let second = app
        .post_json(
            "/api/auth/login",
            json!({"username": "alice", "password": "correct horse"}),
            None,
        )
        .await
        .session_cookie()
        .expect("second session");
    let addr = app.serve().await;
    let mut first_socket = WsClient::open(addr, &alice, json!([])).await;
    let mut second_socket = WsClient::open(
        addr,
        &TestUser {
            cookie: second.clone(),
            id: alice.id.clone(),
        },
        json!([]),
    )
    .await;

    let out = app
        .post_json("/api/auth/logout_everywhere", json!({}), Some(&second))
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT, "{}", out.text);
    assert_eq!(closed(&mut first_socket).await, 4001);
    assert_eq!(closed(&mut second_socket).await, 4001);
    for cookie in [&alice.cookie, &second] {
        let me = app.get("/api/auth/me", Some(cookie)).await;
        assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    }
    // Signed out, it cannot be asked for again.
    let again = app
        .post_json("/api/auth/logout_everywhere", json!({}), Some(&second))
        .await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
}

#[sqlx::test]
async fn a_socket_closes_when_its_session_expires(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    let alice = app.user("alice").await;
    let alice_id: uuid::Uuid = alice.id.parse().unwrap_or_default();
    sqlx::query(
        "UPDATE demo_sessions SET expires_at = now() + interval '2 seconds'
         WHERE account_id::text = (SELECT external_id FROM chat_users WHERE id = $1)",
    )
    .bind(alice_id)
    .execute(&pool)
    .await
    .expect("shorten the session");
    let addr = app.serve().await;
    let mut socket = WsClient::open(addr, &alice, json!([])).await;
    assert_eq!(closed(&mut socket).await, 4001);
}

#[sqlx::test]
async fn signing_in_rotates_the_session(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let alice = app.user("alice").await;
    // Signing in again from a browser that holds a session (a planted one, or one's own)
    // ends it and starts a new one.
    let again = app
        .post_json(
            "/api/auth/login",
            json!({"username": "alice", "password": "correct horse"}),
            Some(&alice.cookie),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK);
    let fresh = again.session_cookie().expect("a new session cookie");
    assert_ne!(fresh, alice.cookie);
    assert_eq!(
        app.get("/api/auth/me", Some(&alice.cookie)).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/api/auth/me", Some(&fresh)).await.status,
        StatusCode::OK
    );
}

#[sqlx::test]
async fn over_https_the_cookie_is_host_prefixed_and_hsts_is_sent(pool: PgPool) {
    let settings = Settings {
        secure_cookies: true,
        public_origin: "https://chat.example.com".into(),
        ..Settings::default()
    };
    let app = TestApp::with_settings(pool, settings).await;
    let response = app
        .post_json(
            "/api/auth/signup",
            json!({"username": "alice", "display_name": "Alice", "password": "correct horse"}),
            None,
        )
        .await;
    assert_eq!(response.status, StatusCode::CREATED);
    let set_cookie = response.headers[header::SET_COOKIE]
        .to_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        set_cookie.starts_with("__Host-parley_session="),
        "{set_cookie}"
    );
    assert!(set_cookie.contains("Secure") && set_cookie.contains("Path=/"));
    assert!(!set_cookie.contains("Domain"));
    assert!(response.headers[header::STRICT_TRANSPORT_SECURITY]
        .to_str()
        .unwrap_or_default()
        .starts_with("max-age="));
    let cookie = set_cookie.split(';').next().unwrap_or_default().to_owned();
    assert_eq!(
        app.get("/api/auth/me", Some(&cookie)).await.status,
        StatusCode::OK
    );
    // The plain name is not the session over https (a sibling site could have set it).
    let plain = cookie.replacen("__Host-", "", 1);
    assert_eq!(
        app.get("/api/auth/me", Some(&plain)).await.status,
        StatusCode::UNAUTHORIZED
    );
    // Over http there is no HSTS.
    let http = TestApp::new(app.pool.clone()).await;
    assert!(!http
        .get("/login", None)
        .await
        .headers
        .contains_key(header::STRICT_TRANSPORT_SECURITY));
}
