//! Shared by the integration tests: the real router on a fresh database, and a client that
//! talks to it as an HTTP client would (cookies in headers, JSON bodies).

#![allow(dead_code)] // each test file uses a different subset

pub mod process;

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use leptos::config::LeptosOptions;
use parley::server::{Chat, Settings};
use parley_demo::server::{router, AccountSettings, Accounts, DemoState};
use serde_json::{json, Value};
use sqlx::PgPool;
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tower::ServiceExt;

pub struct TestApp {
    pub pool: PgPool,
    /// This instance's chat (its hub, writer and bus listener).
    pub state: Chat,
    /// The whole host's state, to build more routers over the same instance.
    pub host: DemoState,
    router: Router,
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The body as text (lossy where it is not UTF-8).
    pub text: String,
    /// The body as it came (a download's bytes).
    pub bytes: Vec<u8>,
}

impl TestResponse {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    /// The `name=value` part of the session cookie this response sets.
    pub fn session_cookie(&self) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("parley_session="))
            .and_then(|v| v.split(';').next())
            .map(str::to_owned)
    }

    pub fn error_code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

impl TestApp {
    /// The default settings, but for sign-ups: every test signs people up from one address.
    pub async fn new(pool: PgPool) -> Self {
        let mut settings = Settings::default();
        settings.limits.sign_ups = parley::server::limits::Rate::new(100_000, 100_000);
        Self::with_settings(pool, settings).await
    }

    /// For tests that send more, faster, than one person may.
    pub async fn without_send_limit(pool: PgPool) -> Self {
        let mut settings = Settings::default();
        settings.limits.sends = parley::server::limits::Rate::new(1_000_000, 100_000);
        settings.limits.sign_ups = parley::server::limits::Rate::new(100_000, 100_000);
        Self::with_settings(pool, settings).await
    }

    /// The demo host on this test's database (`#[sqlx::test]` applied the demo's migrations;
    /// the chat applies its own, as the binary does).
    pub async fn with_settings(pool: PgPool, settings: Settings) -> Self {
        let options = LeptosOptions::builder().output_name("parley").build();
        Self::with_options(pool, settings, options).await
    }

    /// The demo host serving the built site from `site_root` (a test's own files).
    pub async fn with_site(pool: PgPool, site_root: &str) -> Self {
        let options = LeptosOptions::builder()
            .output_name("parley")
            .site_root(site_root)
            .build();
        Self::with_options(pool, Settings::default(), options).await
    }

    async fn with_options(pool: PgPool, settings: Settings, options: LeptosOptions) -> Self {
        parley::server::db::migrate(&pool)
            .await
            .expect("the chat's migrations apply");
        let accounts = Accounts::new(
            pool.clone(),
            AccountSettings {
                secure_cookies: settings.secure_cookies,
                ..AccountSettings::default()
            },
        );
        let state = Chat::start(pool.clone(), accounts.clone(), settings);
        let host = DemoState {
            leptos_options: options,
            chat: state.clone(),
            accounts,
        };
        Self {
            pool,
            router: router(host.clone()),
            state,
            host,
        }
    }

    /// Serves this instance over TCP on a free loopback port (for WebSocket clients), through
    /// the server the binary uses (timeouts, connection cap, client addresses).
    pub async fn serve(&self) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let router = self.router.clone();
        let settings = self.state.settings.serve.clone();
        tokio::spawn(async move {
            parley::server::serve(listener, router, &settings, std::future::pending()).await
        });
        addr
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<(&str, String)>,
        cookie: Option<&str>,
    ) -> TestResponse {
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(cookie) = cookie {
            builder = builder.header(header::COOKIE, cookie);
        }
        let body = match body {
            Some((content_type, body)) => {
                builder = builder.header(header::CONTENT_TYPE, content_type);
                Body::from(body)
            }
            None => Body::empty(),
        };
        self.send_request(builder.body(body).expect("valid test request"))
            .await
    }

    /// A request as `user`, with an optional JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        user: &TestUser,
        body: Option<Value>,
    ) -> TestResponse {
        self.request(
            method,
            path,
            body.map(|b| ("application/json", b.to_string())),
            Some(&user.cookie),
        )
        .await
    }

    /// Sends any request through the router and reads the whole answer.
    pub async fn send_request(&self, request: Request<Body>) -> TestResponse {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("router is infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        TestResponse {
            status,
            headers,
            text: String::from_utf8_lossy(&bytes).into_owned(),
            bytes: bytes.to_vec(),
        }
    }

    /// A request with any headers (e.g. `Authorization`) and an optional JSON body.
    pub async fn request_with(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> TestResponse {
        let mut builder = Request::builder().method(method).uri(path);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let body = match body {
            Some(body) => {
                builder = builder.header(header::CONTENT_TYPE, "application/json");
                Body::from(body.to_string())
            }
            None => Body::empty(),
        };
        self.send_request(builder.body(body).expect("valid test request"))
            .await
    }

    pub async fn post_json(&self, path: &str, body: Value, cookie: Option<&str>) -> TestResponse {
        self.request(
            Method::POST,
            path,
            Some(("application/json", body.to_string())),
            cookie,
        )
        .await
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>) -> TestResponse {
        self.request(Method::GET, path, None, cookie).await
    }

    /// Signs up `username` (display name "<Username>", password "correct horse") and returns
    /// the session cookie.
    pub async fn sign_up(&self, username: &str) -> String {
        let response = self
            .post_json(
                "/api/auth/signup",
                json!({"username": username, "display_name": capitalise(username), "password": "correct horse"}),
                None,
            )
            .await;
        assert_eq!(
            response.status,
            StatusCode::CREATED,
            "sign up {username}: {}",
            response.text
        );
        response
            .session_cookie()
            .expect("sign-up sets a session cookie")
    }
}

fn capitalise(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A signed-up user: their session cookie and id.
#[derive(Clone)]
pub struct TestUser {
    pub cookie: String,
    pub id: String,
}

impl TestApp {
    pub async fn user(&self, username: &str) -> TestUser {
        let cookie = self.sign_up(username).await;
        let id = self.get("/api/auth/me", Some(&cookie)).await.json()["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        TestUser { cookie, id }
    }

    /// Creates (or gets) a channel as `user` with `members` and an optional name.
    pub async fn channel(
        &self,
        user: &TestUser,
        members: &[&TestUser],
        name: Option<&str>,
    ) -> Value {
        let ids: Vec<&str> = members.iter().map(|m| m.id.as_str()).collect();
        let response = self
            .post_json(
                "/api/chat/channels",
                json!({"members": ids, "name": name}),
                Some(&user.cookie),
            )
            .await;
        assert!(
            response.status.is_success(),
            "create channel: {} {}",
            response.status,
            response.text
        );
        response.json()
    }

    /// Sends `text` to `channel_id` as `user` and returns the stored message.
    pub async fn send(&self, user: &TestUser, channel_id: &str, text: &str) -> Value {
        let response = self
            .post_json(
                "/api/chat/messages",
                json!({"channel_id": channel_id, "text": text}),
                Some(&user.cookie),
            )
            .await;
        assert_eq!(response.status, StatusCode::OK, "send: {}", response.text);
        response.json()
    }
}

/// A WebSocket client of `/api/chat/ws` that speaks JSON events.
pub struct WsClient {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// Opens `/api/chat/ws` on `addr` with a session cookie and an `Origin`; the error is the
/// refused handshake.
pub async fn ws_connect(
    addr: SocketAddr,
    cookie: Option<&str>,
    origin: Option<&str>,
) -> Result<WsClient, tokio_tungstenite::tungstenite::Error> {
    let mut request = format!("ws://{addr}/api/chat/ws")
        .into_client_request()
        .expect("request");
    if let Some(cookie) = cookie {
        request
            .headers_mut()
            .insert(header::COOKIE, cookie.parse().expect("cookie header"));
    }
    if let Some(origin) = origin {
        request
            .headers_mut()
            .insert(header::ORIGIN, origin.parse().expect("origin header"));
    }
    let (ws, _) = tokio_tungstenite::connect_async(request).await?;
    Ok(WsClient { ws })
}

impl WsClient {
    /// Connects as `user` and completes the `hello` → `ready` exchange.
    pub async fn open(addr: SocketAddr, user: &TestUser, cursors: Value) -> Self {
        let mut client = ws_connect(addr, Some(&user.cookie), Some(&format!("http://{addr}")))
            .await
            .expect("websocket opens");
        client
            .send(json!({"type": "hello", "version": 1, "cursors": cursors}))
            .await;
        // Live events may come first: the socket is subscribed before `hello` is answered.
        client.until("ready").await;
        client
    }

    pub async fn send(&mut self, event: Value) {
        use futures_util::SinkExt;
        self.ws
            .send(WsMessage::text(event.to_string()))
            .await
            .expect("frame sent");
    }

    /// The next event (within 10 s), or `{"type": "closed", "code": …}` when the server closed.
    pub async fn next(&mut self) -> Value {
        use futures_util::StreamExt;
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(10), self.ws.next())
                .await
                .expect("an event within 10 s");
            match frame {
                Some(Ok(WsMessage::Text(text))) => {
                    return serde_json::from_str(&text).expect("JSON event");
                }
                Some(Ok(WsMessage::Close(frame))) => {
                    let code = frame.map(|f| u16::from(f.code)).unwrap_or(0);
                    return json!({"type": "closed", "code": code});
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => return json!({"type": "closed", "error": e.to_string()}),
                None => return json!({"type": "closed"}),
            }
        }
    }

    /// Every event before the `pong` that answers a `ping` sent now: what the server had
    /// queued for this client, with nothing left out.
    pub async fn drain(&mut self) -> Vec<Value> {
        self.send(json!({"type": "ping"})).await;
        let mut events = Vec::new();
        loop {
            let event = self.next().await;
            match event["type"].as_str() {
                Some("pong") => return events,
                Some("closed") => panic!("closed while draining: {event}"),
                _ => events.push(event),
            }
        }
    }

    /// Events until one of type `kind` (included).
    pub async fn until(&mut self, kind: &str) -> Vec<Value> {
        let mut events = Vec::new();
        loop {
            let event = self.next().await;
            let done = event["type"] == kind;
            assert!(done || event["type"] != "closed", "closed: {event}");
            events.push(event);
            if done {
                return events;
            }
        }
    }
}

/// Opens a channel's SSE stream with one credential header (`Cookie: …` or
/// `Authorization: Bearer …`); the stream after its head (200 asserted).
pub async fn sse_open(addr: SocketAddr, channel: &str, credential: &str) -> TcpStream {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "GET /api/chat/events?channel_id={channel} HTTP/1.1\r\nHost: {addr}\r\n\
         {credential}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut byte))
            .await
            .expect("a head within 10 s")
            .expect("read");
        assert_eq!(read, 1, "the stream closed before its head");
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    stream
}
