//! The server below the routes (issue 12, items 5, 8 and 10): half-sent requests are closed
//! by the header-read timeout while normal requests answer, connections beyond the cap are
//! closed at once, a slow body times out with 408; a `Host` that is not ours gets 421 (DNS
//! rebinding) on every route and the WebSocket; JSON and pages are `no-store`, and errors
//! rebuilt by the JSON error layer keep the security headers; the site's files go
//! brotli-compressed to the clients that accept it, and to no one else.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use parley::server::Settings;
use serde_json::json;
use sqlx::PgPool;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::TestApp;

/// Sends `head` (possibly unfinished) on a new connection and returns it.
async fn half_sent(addr: SocketAddr, head: &str) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(head.as_bytes()).await.expect("write");
    stream
}

/// Whether the server closes `stream` within `within` (reads to the end).
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buffer = [0u8; 4096];
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buffer)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
        }
    }
}

/// A whole request on a new connection: its status line.
async fn status_line(addr: SocketAddr, request: &str) -> String {
    let mut stream = half_sent(addr, request).await;
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    while !answer.windows(2).any(|w| w == b"\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buffer))
            .await
            .expect("an answer within 10 s")
            .expect("readable");
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buffer[..n]);
    }
    String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[sqlx::test]
async fn half_sent_requests_are_closed_while_normal_requests_answer(pool: PgPool) {
    let mut settings = Settings::default();
    settings.serve.header_read_timeout = Duration::from_secs(2);
    let app = TestApp::with_settings(pool, settings).await;
    let addr = app.serve().await;
    let host = format!("Host: {addr}\r\n");

    let mut slow = Vec::new();
    for _ in 0..200 {
        slow.push(
            half_sent(
                addr,
                &format!("GET /api/auth/me HTTP/1.1\r\n{host}X-Slow: 1"),
            )
            .await,
        );
    }
    let normal = status_line(addr, &format!("GET /api/auth/me HTTP/1.1\r\n{host}\r\n")).await;
    assert!(normal.contains(" 401 "), "{normal}");
    for stream in &mut slow {
        assert!(
            closed_within(stream, Duration::from_secs(20)).await,
            "a half-sent request is closed"
        );
    }
}

#[sqlx::test]
async fn connections_beyond_the_cap_are_closed_at_once(pool: PgPool) {
    let mut settings = Settings::default();
    settings.serve.max_connections = 20;
    let app = TestApp::with_settings(pool, settings).await;
    let addr = app.serve().await;
    let mut held = Vec::new();
    for _ in 0..20 {
        held.push(half_sent(addr, "GET / HTTP/1.1\r\n").await);
    }
    // Give the server a moment to accept them all.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut extra = half_sent(addr, "GET / HTTP/1.1\r\n").await;
    assert!(closed_within(&mut extra, Duration::from_secs(5)).await);
    // Once some close, new connections are served again.
    held.truncate(10);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let answer = status_line(
        addr,
        &format!("GET /api/auth/me HTTP/1.1\r\nHost: {addr}\r\n\r\n"),
    )
    .await;
    assert!(answer.contains(" 401 "), "{answer}");
}

#[sqlx::test]
async fn a_body_sent_too_slowly_times_out_with_408(pool: PgPool) {
    let mut settings = Settings::default();
    settings.serve.request_timeout = Duration::from_secs(1);
    let app = TestApp::with_settings(pool, settings).await;
    let addr = app.serve().await;
    let answer = status_line(
        addr,
        &format!(
            "POST /api/auth/login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             Content-Length: 100\r\n\r\n{{\"username\""
        ),
    )
    .await;
    assert!(answer.contains(" 408 "), "{answer}");
}

#[sqlx::test]
async fn a_host_that_is_not_ours_is_refused_everywhere(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.user("alice").await;
    let rebound = "rebind.attacker.example:3000";
    let login = json!({"username": "alice", "password": "correct horse"}).to_string();
    let request = |host: &str| {
        Request::builder()
            .method(Method::POST)
            .uri("/api/auth/login")
            .header(header::HOST, host)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(login.clone()))
            .expect("request")
    };
    let refused = app.send_request(request(rebound)).await;
    assert_eq!(refused.status, StatusCode::MISDIRECTED_REQUEST);
    assert_eq!(refused.error_code(), "misdirected_request");
    assert!(refused.session_cookie().is_none());
    // Our own names are served: the public origin's, and loopback in development.
    for host in ["127.0.0.1:3000", "localhost:3000"] {
        assert_eq!(
            app.send_request(request(host)).await.status,
            StatusCode::OK,
            "{host}"
        );
    }
    let page = Request::get("/login")
        .header(header::HOST, rebound)
        .body(Body::empty())
        .expect("request");
    assert_eq!(
        app.send_request(page).await.status,
        StatusCode::MISDIRECTED_REQUEST
    );

    // The WebSocket upgrade under a rebound name: 421, not 101.
    let addr = app.serve().await;
    let cookie = app.sign_up("bob").await;
    let upgrade = format!(
        "GET /api/chat/ws HTTP/1.1\r\nHost: {rebound}\r\nOrigin: http://{rebound}\r\n\
         Cookie: {cookie}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    );
    let answer = status_line(addr, &upgrade).await;
    assert!(answer.contains(" 421 "), "{answer}");

    // A deployment behind a proxy serves its public name and nothing else.
    let public = Settings {
        public_origin: "https://chat.example.com".into(),
        secure_cookies: true,
        loopback_hosts: false,
        ..Settings::default()
    };
    let deployed = TestApp::with_settings(app.pool.clone(), public).await;
    assert_eq!(
        deployed
            .send_request(request("chat.example.com"))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        deployed
            .send_request(request("127.0.0.1:3000"))
            .await
            .status,
        StatusCode::MISDIRECTED_REQUEST
    );
}

#[sqlx::test]
async fn private_answers_are_not_cached_and_rebuilt_errors_keep_the_security_headers(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let cookie = app.sign_up("alice").await;
    for (path, cookie) in [
        ("/api/auth/me", Some(cookie.as_str())),
        ("/api/auth/me", None),
        ("/api/chat/channels", Some(cookie.as_str())),
        ("/login", None),
        // Made by routing, rebuilt as our JSON by the error layer.
        ("/api/no/such/route", None),
    ] {
        let response = app.get(path, cookie).await;
        assert_eq!(
            response
                .headers
                .get(header::CACHE_CONTROL)
                .and_then(|v| v.to_str().ok()),
            Some("no-store"),
            "{path}"
        );
        assert_eq!(
            response.headers[header::X_CONTENT_TYPE_OPTIONS],
            "nosniff",
            "{path}"
        );
        assert_eq!(response.headers[header::X_FRAME_OPTIONS], "DENY", "{path}");
        assert!(
            response
                .headers
                .contains_key(header::CONTENT_SECURITY_POLICY),
            "{path}"
        );
    }
    let rebuilt = app.get("/api/no/such/route", None).await;
    assert_eq!(rebuilt.status, StatusCode::NOT_FOUND);
    assert_eq!(rebuilt.error_code(), "not_found");
    // A body over the limit: 413, rebuilt, with the headers too.
    let big = app
        .post_json(
            "/api/auth/login",
            json!({"username": "x".repeat(70_000)}),
            None,
        )
        .await;
    assert_eq!(big.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(big.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
}

#[sqlx::test]
async fn site_files_go_brotli_compressed_only_to_clients_that_accept_it(pool: PgPool) {
    // A site as `cargo leptos build --release --precompress` leaves it: each file with a `.br`
    // and a `.gz` copy beside it (stand-ins here: the bytes show which one was sent).
    let name = format!("parley-site-{}", uuid::Uuid::new_v4());
    let site = std::env::temp_dir().join(&name);
    let pkg = site.join("pkg");
    // A file beside the site, which no path may reach.
    let outside = std::env::temp_dir().join(format!("{name}.txt"));
    std::fs::write(&outside, b"not served").expect("write");
    std::fs::create_dir_all(&pkg).expect("site folder");
    let wasm = b"\0asm wasm module bytes ".repeat(200);
    std::fs::write(pkg.join("parley.wasm"), &wasm).expect("write");
    std::fs::write(pkg.join("parley.wasm.br"), b"the brotli copy").expect("write");
    std::fs::write(pkg.join("parley.wasm.gz"), b"the gzip copy").expect("write");
    let app = TestApp::with_site(pool, &site.to_string_lossy()).await;
    let get = |encodings: &'static str| {
        let app = &app;
        async move {
            let headers: &[(&str, &str)] = if encodings.is_empty() {
                &[]
            } else {
                &[("accept-encoding", encodings)]
            };
            app.request_with(Method::GET, "/pkg/parley.wasm", headers, None)
                .await
        }
    };
    let encoding = |response: &crate::common::TestResponse| {
        response
            .headers
            .get(header::CONTENT_ENCODING)
            .map(|v| v.to_str().unwrap_or_default().to_owned())
    };
    let vary = |response: &crate::common::TestResponse| {
        response.headers.get_all(header::VARY).iter().any(|v| {
            v.to_str()
                .is_ok_and(|v| v.to_ascii_lowercase().contains("accept-encoding"))
        })
    };

    // A browser (Chromium offers "gzip, deflate, br, zstd") gets the brotli copy.
    let browser = get("gzip, deflate, br, zstd").await;
    assert_eq!(browser.status, StatusCode::OK);
    assert_eq!(encoding(&browser).as_deref(), Some("br"));
    assert_eq!(browser.bytes, b"the brotli copy");
    assert_eq!(browser.headers[header::CONTENT_TYPE], "application/wasm");
    assert!(vary(&browser), "{:?}", browser.headers);
    // A gzip-only client gets the file gzipped by the compression layer, never the `.gz` copy
    // (cargo-leptos's gzip coder makes a larger file than the layer does).
    let gzip = get("gzip").await;
    assert_eq!(gzip.status, StatusCode::OK);
    assert_eq!(encoding(&gzip).as_deref(), Some("gzip"));
    assert_ne!(gzip.bytes, b"the gzip copy");
    assert!(gzip.bytes.len() < wasm.len(), "{}", gzip.bytes.len());
    assert!(vary(&gzip), "{:?}", gzip.headers);
    // A client that offers nothing gets the file as it is.
    let plain = get("").await;
    assert_eq!(plain.status, StatusCode::OK);
    assert_eq!(encoding(&plain), None);
    assert_eq!(plain.bytes, wasm);
    assert!(vary(&plain), "{:?}", plain.headers);
    // No path leaves the site, and a missing file is a plain 404.
    for path in [
        format!("/pkg/../../{name}.txt"),
        format!("/pkg/%2e%2e/%2e%2e/{name}.txt"),
        format!("/pkg/..%2f..%2f{name}.txt"),
        "/pkg/missing.wasm".to_owned(),
    ] {
        let response = app.get(&path, None).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!response.text.contains("not served"), "{path}");
    }
    std::fs::remove_dir_all(&site).expect("clean up");
    std::fs::remove_file(&outside).expect("clean up");
}
