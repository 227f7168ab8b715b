//! Hardening, each promise proven against the real router on real PostgreSQL: a catalogue of
//! bad input across every transport (each case gets its documented 4xx or close code, never a
//! 5xx, and the server keeps serving), the authorization matrix (signed-out and non-member
//! callers get 401/404 and no data on every endpoint and transport), cross-site refusal,
//! security headers, and abuse limits with `Retry-After`.

mod common;

// Issue 12 (Hardening II), beside the catalogue: one test module per concern.
#[path = "hardening/abuse.rs"]
mod abuse;
#[path = "hardening/serving.rs"]
mod serving;
#[path = "hardening/sessions.rs"]
mod sessions;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::{TestApp, TestUser, WsClient};
use parley::server::limits::Rate;
use parley::server::Settings;
use serde_json::{json, Value};
use sqlx::PgPool;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::{Frame, FrameHeader};
use tokio_tungstenite::tungstenite::Message as WsMessage;

const JSON: &str = "application/json";
const FORM: &str = "application/x-www-form-urlencoded";

/// How a bad input is sent.
enum Probe {
    /// As alice: method, path, content type, body.
    Http(Method, String, Option<&'static str>, Vec<u8>),
    /// As alice, on a fresh WebSocket after `hello`.
    Ws(WsMessage),
}

/// What must come back.
#[derive(Debug, PartialEq)]
enum Expect {
    /// HTTP status and error code ("" for a success).
    Status(u16, &'static str),
    /// A WebSocket `error` event with this code; the connection stays open.
    WsError(&'static str),
    /// A `nack` for the send, with this code.
    Nack(&'static str),
    /// The server closes the WebSocket with this code.
    Close(u16),
}

struct Case {
    name: &'static str,
    probe: Probe,
    expect: Expect,
}

fn http(name: &'static str, method: Method, path: &str, body: Value, expect: Expect) -> Case {
    Case {
        name,
        probe: Probe::Http(
            method,
            path.to_owned(),
            Some(JSON),
            body.to_string().into_bytes(),
        ),
        expect,
    }
}

fn raw(
    name: &'static str,
    path: &str,
    content_type: Option<&'static str>,
    body: &[u8],
    expect: Expect,
) -> Case {
    Case {
        name,
        probe: Probe::Http(Method::POST, path.to_owned(), content_type, body.to_vec()),
        expect,
    }
}

fn get(name: &'static str, path: &str, expect: Expect) -> Case {
    Case {
        name,
        probe: Probe::Http(Method::GET, path.to_owned(), None, Vec::new()),
        expect,
    }
}

fn ws(name: &'static str, frame: WsMessage, expect: Expect) -> Case {
    Case {
        name,
        probe: Probe::Ws(frame),
        expect,
    }
}

fn ws_json(name: &'static str, frame: Value, expect: Expect) -> Case {
    ws(name, WsMessage::text(frame.to_string()), expect)
}

struct World {
    alice: TestUser,
    bob: TestUser,
    dm: String,
    foreign: String,
    bobs_message: String,
}

async fn world(app: &TestApp) -> World {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let dm = app.channel(&alice, &[&bob], None).await["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let foreign = app.channel(&bob, &[&carol], None).await["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let bobs_message = app.send(&bob, &dm, "bob's words").await["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    World {
        alice,
        bob,
        dm,
        foreign,
        bobs_message,
    }
}

fn catalogue(w: &World) -> Vec<Case> {
    use Expect::*;
    let dm = w.dm.as_str();
    let foreign = w.foreign.as_str();
    let unknown = uuid::Uuid::new_v4().to_string();
    let long_text = "x".repeat(4001);
    let megabyte = format!(
        r#"{{"channel_id":"{dm}","text":"{}"}}"#,
        "a".repeat(1 << 20)
    );
    let send = "/api/chat/messages";
    let many: Vec<String> = (0..101).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    let huge_frame = json!({"type": "send", "id": uuid::Uuid::new_v4(), "channel_id": dm, "text": "y".repeat(70_000)});
    let mut cases = vec![
        // Message text.
        http(
            "empty text",
            Method::POST,
            send,
            json!({"channel_id": dm, "text": ""}),
            Status(400, "bad_request"),
        ),
        http(
            "whitespace-only text",
            Method::POST,
            send,
            json!({"channel_id": dm, "text": " \n\t "}),
            Status(400, "bad_request"),
        ),
        http(
            "4,001 characters",
            Method::POST,
            send,
            json!({"channel_id": dm, "text": long_text}),
            Status(400, "bad_request"),
        ),
        http(
            "NUL in text",
            Method::POST,
            send,
            json!({"channel_id": dm, "text": "a\u{0}b"}),
            Status(400, "bad_request"),
        ),
        http(
            "bell in text",
            Method::POST,
            send,
            json!({"channel_id": dm, "text": "ding\u{7}"}),
            Status(400, "bad_request"),
        ),
        http(
            "text is a number",
            Method::POST,
            send,
            json!({"channel_id": dm, "text": 42}),
            Status(400, "bad_request"),
        ),
        http(
            "text missing",
            Method::POST,
            send,
            json!({"channel_id": dm}),
            Status(400, "bad_request"),
        ),
        http(
            "XSS-looking text is stored as text",
            Method::POST,
            send,
            json!({"channel_id": dm, "text": "<script>alert(1)</script>"}),
            Status(200, ""),
        ),
        http(
            "SQL-looking text is stored as text",
            Method::POST,
            send,
            json!({"channel_id": dm, "text": "'; DROP TABLE messages; --"}),
            Status(200, ""),
        ),
        http(
            "right-to-left text is fine in messages",
            Method::POST,
            send,
            json!({"channel_id": dm, "text": "שלום \u{200F}world"}),
            Status(200, ""),
        ),
        // Bodies.
        raw(
            "1 MB body",
            send,
            Some(JSON),
            megabyte.as_bytes(),
            Status(413, "payload_too_large"),
        ),
        raw(
            "invalid JSON",
            send,
            Some(JSON),
            b"{\"channel_id\": ",
            Status(400, "bad_request"),
        ),
        raw(
            "not JSON at all",
            send,
            Some(JSON),
            b"hello",
            Status(400, "bad_request"),
        ),
        raw(
            "non-UTF-8 body",
            send,
            Some(JSON),
            &[0xff, 0xfe, 0x00, 0x7b],
            Status(400, "bad_request"),
        ),
        raw(
            "no content type",
            send,
            None,
            br#"{"text":"hi"}"#,
            Status(400, "bad_request"),
        ),
        raw(
            "JSON array instead of object",
            send,
            Some(JSON),
            b"[1,2,3]",
            Status(400, "bad_request"),
        ),
        // Ids and channels.
        http(
            "channel id not a uuid",
            Method::POST,
            send,
            json!({"channel_id": "nope", "text": "hi"}),
            Status(400, "bad_request"),
        ),
        http(
            "message id not a uuid",
            Method::POST,
            send,
            json!({"id": "123", "channel_id": dm, "text": "hi"}),
            Status(400, "bad_request"),
        ),
        http(
            "unknown channel",
            Method::POST,
            send,
            json!({"channel_id": unknown, "text": "hi"}),
            Status(404, "not_found"),
        ),
        http(
            "foreign channel",
            Method::POST,
            send,
            json!({"channel_id": foreign, "text": "hi"}),
            Status(404, "not_found"),
        ),
        http(
            "someone else's message id",
            Method::POST,
            send,
            json!({"id": w.bobs_message, "channel_id": dm, "text": "hi"}),
            Status(400, "bad_request"),
        ),
        get(
            "channel path not a uuid",
            "/api/chat/channels/not-a-uuid",
            Status(400, "bad_request"),
        ),
        get(
            "foreign channel history",
            &format!("/api/chat/channels/{foreign}/messages"),
            Status(404, "not_found"),
        ),
        get(
            "history before is not a number",
            &format!("/api/chat/channels/{dm}/messages?before=soon"),
            Status(400, "bad_request"),
        ),
        get(
            "history limit is not a number",
            &format!("/api/chat/channels/{dm}/messages?limit=all"),
            Status(400, "bad_request"),
        ),
        http(
            "read mark is a string",
            Method::POST,
            &format!("/api/chat/channels/{dm}/read"),
            json!({"seq": "x"}),
            Status(400, "bad_request"),
        ),
        http(
            "edit someone else's message",
            Method::PATCH,
            &format!("/api/chat/messages/{}", w.bobs_message),
            json!({"text": "mine now"}),
            Status(403, "forbidden"),
        ),
        http(
            "edit to empty text",
            Method::PATCH,
            &format!("/api/chat/messages/{}", w.bobs_message),
            json!({"text": "  "}),
            Status(400, "bad_request"),
        ),
        http(
            "delete an unknown message",
            Method::DELETE,
            &format!("/api/chat/messages/{unknown}"),
            json!({}),
            Status(404, "not_found"),
        ),
        // Channel creation.
        http(
            "no members",
            Method::POST,
            "/api/chat/channels",
            json!({"members": []}),
            Status(400, "bad_request"),
        ),
        http(
            "a group with only oneself",
            Method::POST,
            "/api/chat/channels",
            json!({"members": [w.alice.id], "name": "Me"}),
            Status(400, "bad_request"),
        ),
        http(
            "duplicate members",
            Method::POST,
            "/api/chat/channels",
            json!({"members": [w.bob.id, w.bob.id], "name": "Twice"}),
            Status(400, "bad_request"),
        ),
        http(
            "101 other members",
            Method::POST,
            "/api/chat/channels",
            json!({"members": many, "name": "Crowd"}),
            Status(400, "bad_request"),
        ),
        http(
            "member not a uuid",
            Method::POST,
            "/api/chat/channels",
            json!({"members": ["bob"]}),
            Status(400, "bad_request"),
        ),
        http(
            "members not a list",
            Method::POST,
            "/api/chat/channels",
            json!({"members": w.bob.id}),
            Status(400, "bad_request"),
        ),
        http(
            "unknown member",
            Method::POST,
            "/api/chat/channels",
            json!({"members": [unknown]}),
            Status(400, "bad_request"),
        ),
        http(
            "group name too long",
            Method::POST,
            "/api/chat/channels",
            json!({"members": [w.bob.id], "name": "n".repeat(81)}),
            Status(400, "bad_request"),
        ),
        http(
            "group name with a right-to-left override",
            Method::POST,
            "/api/chat/channels",
            json!({"members": [w.bob.id], "name": "team\u{202E}gpj.exe"}),
            Status(400, "bad_request"),
        ),
        http(
            "group name of zero-width spaces",
            Method::POST,
            "/api/chat/channels",
            json!({"members": [w.bob.id], "name": "\u{200B}\u{200B}"}),
            Status(400, "bad_request"),
        ),
        // Accounts.
        http(
            "display name with a control character",
            Method::POST,
            "/api/auth/signup",
            json!({"username": "dave", "display_name": "Da\u{7}ve", "password": "correct horse"}),
            Status(400, "bad_request"),
        ),
        http(
            "display name with a right-to-left mark",
            Method::POST,
            "/api/auth/signup",
            json!({"username": "dave", "display_name": "evaD\u{202E}", "password": "correct horse"}),
            Status(400, "bad_request"),
        ),
        http(
            "display name of zero-width joiners",
            Method::POST,
            "/api/auth/signup",
            json!({"username": "dave", "display_name": "\u{200D}\u{200D}", "password": "correct horse"}),
            Status(400, "bad_request"),
        ),
        http(
            "username with markup",
            Method::POST,
            "/api/auth/signup",
            json!({"username": "<script>", "display_name": "X", "password": "correct horse"}),
            Status(400, "bad_request"),
        ),
        http(
            "username with SQL",
            Method::POST,
            "/api/auth/signup",
            json!({"username": "a'; DROP TABLE users;--", "display_name": "X", "password": "correct horse"}),
            Status(400, "bad_request"),
        ),
        http(
            "password of 1,025 characters",
            Method::POST,
            "/api/auth/signup",
            json!({"username": "dave", "display_name": "Dave", "password": "p".repeat(1025)}),
            Status(400, "bad_request"),
        ),
        http(
            "sign-in with wrong types",
            Method::POST,
            "/api/auth/login",
            json!({"username": ["alice"], "password": null}),
            Status(400, "bad_request"),
        ),
        // Routing.
        get(
            "unknown API path",
            "/api/nothing/here",
            Status(404, "not_found"),
        ),
        http(
            "wrong method",
            Method::PUT,
            "/api/chat/unread",
            json!({}),
            Status(405, "method_not_allowed"),
        ),
        // Server functions.
        raw(
            "server function with malformed arguments",
            "/api/fn/send",
            Some(FORM),
            b"input[channel_id]=nope",
            Status(400, ""),
        ),
        raw(
            "server function, foreign channel",
            "/api/fn/history",
            Some(FORM),
            format!("channel_id={foreign}").as_bytes(),
            Status(404, ""),
        ),
        // SSE.
        get(
            "SSE without a channel",
            "/api/chat/events",
            Status(400, "bad_request"),
        ),
        get(
            "SSE channel not a uuid",
            "/api/chat/events?channel_id=1",
            Status(400, "bad_request"),
        ),
        get(
            "SSE foreign channel",
            &format!("/api/chat/events?channel_id={foreign}"),
            Status(404, "not_found"),
        ),
        // WebSocket frames.
        ws(
            "invalid JSON frame",
            WsMessage::text("{oops"),
            WsError("bad_request"),
        ),
        ws_json(
            "unknown event type",
            json!({"type": "launch_missiles"}),
            WsError("bad_request"),
        ),
        ws_json(
            "event without a type",
            json!({"channel_id": dm}),
            WsError("bad_request"),
        ),
        ws_json(
            "wrong field type",
            json!({"type": "read", "channel_id": dm, "seq": "x"}),
            WsError("bad_request"),
        ),
        ws_json(
            "bad uuid in a frame",
            json!({"type": "typing", "channel_id": "nope"}),
            WsError("bad_request"),
        ),
        ws_json(
            "typing in a foreign channel",
            json!({"type": "typing", "channel_id": foreign}),
            WsError("not_found"),
        ),
        ws_json(
            "read in a foreign channel",
            json!({"type": "read", "channel_id": foreign, "seq": 1}),
            WsError("not_found"),
        ),
        ws_json(
            "501 cursors",
            json!({"type": "resume", "cursors": (0..501).map(|_| json!({"channel_id": dm, "last_seq": 0})).collect::<Vec<_>>()}),
            WsError("bad_request"),
        ),
        ws_json(
            "send of empty text",
            json!({"type": "send", "id": uuid::Uuid::new_v4(), "channel_id": dm, "text": " "}),
            Nack("bad_request"),
        ),
        ws_json(
            "send with NUL",
            json!({"type": "send", "id": uuid::Uuid::new_v4(), "channel_id": dm, "text": "\u{0}"}),
            Nack("bad_request"),
        ),
        ws_json(
            "send to a foreign channel",
            json!({"type": "send", "id": uuid::Uuid::new_v4(), "channel_id": foreign, "text": "hi"}),
            Nack("not_found"),
        ),
        ws_json(
            "unsupported protocol version",
            json!({"type": "hello", "version": 99}),
            Close(4000),
        ),
        ws(
            "binary frame",
            WsMessage::binary(vec![0u8, 159, 146, 150]),
            Close(1003),
        ),
        ws(
            "oversized frame",
            WsMessage::text(huge_frame.to_string()),
            Close(1009),
        ),
    ];
    // A text frame whose payload is not UTF-8 (the client library will not make one itself).
    let header = FrameHeader {
        opcode: OpCode::Data(Data::Text),
        ..FrameHeader::default()
    };
    cases.push(ws(
        "non-UTF-8 text frame",
        WsMessage::Frame(Frame::from_payload(header, vec![0xc3, 0x28].into())),
        Close(1007),
    ));
    // Characters that render as nothing, which the first validator let through: names made of
    // them look empty or pass for someone else's.
    for (name, sneaky) in [
        (
            "display name with an Arabic letter mark (U+061C)",
            '\u{061C}',
        ),
        (
            "display name with a Hangul choseong filler (U+115F)",
            '\u{115F}',
        ),
        (
            "display name with a Hangul jungseong filler (U+1160)",
            '\u{1160}',
        ),
        ("display name with a Hangul filler (U+3164)", '\u{3164}'),
        (
            "display name with a halfwidth Hangul filler (U+FFA0)",
            '\u{FFA0}',
        ),
        ("display name with a line separator (U+2028)", '\u{2028}'),
        (
            "display name with a paragraph separator (U+2029)",
            '\u{2029}',
        ),
        ("display name with a soft hyphen (U+00AD)", '\u{00AD}'),
        ("display name with a tag character (U+E0041)", '\u{E0041}'),
        ("display name with the cancel tag (U+E007F)", '\u{E007F}'),
    ] {
        cases.push(http(
            name,
            Method::POST,
            "/api/auth/signup",
            json!({"username": "dave", "display_name": format!("Da{sneaky}ve"), "password": "correct horse"}),
            Status(400, "bad_request"),
        ));
    }
    cases.push(http(
        "group name of Hangul fillers",
        Method::POST,
        "/api/chat/channels",
        json!({"members": [w.bob.id], "name": "\u{3164}\u{3164}"}),
        Status(400, "bad_request"),
    ));
    cases
}

async fn run_http(
    app: &TestApp,
    alice: &TestUser,
    probe: (Method, String, Option<&str>, Vec<u8>),
) -> Expect {
    let (method, path, content_type, body) = probe;
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::COOKIE, &alice.cookie);
    if let Some(content_type) = content_type {
        request = request.header(header::CONTENT_TYPE, content_type);
    }
    let response = app
        .send_request(request.body(Body::from(body)).expect("request"))
        .await;
    let json = response.json();
    // The JSON API wraps errors in `error`; server functions answer with the bare error.
    let code = json["error"]["code"].as_str().unwrap_or("");
    let code: &'static str = match code {
        "bad_request" => "bad_request",
        "not_found" => "not_found",
        "forbidden" => "forbidden",
        "payload_too_large" => "payload_too_large",
        "method_not_allowed" => "method_not_allowed",
        "" => "",
        other => Box::leak(other.to_owned().into_boxed_str()),
    };
    Expect::Status(response.status.as_u16(), code)
}

async fn run_ws(addr: std::net::SocketAddr, alice: &TestUser, frame: WsMessage) -> Expect {
    use futures_util::SinkExt;
    let mut client = WsClient::open(addr, alice, json!([])).await;
    client.ws.send(frame).await.expect("frame sent");
    loop {
        let event = client.next().await;
        let code = |v: &Value| -> &'static str {
            match v["error"]["code"].as_str() {
                Some("bad_request") => "bad_request",
                Some("not_found") => "not_found",
                Some("rate_limited") => "rate_limited",
                other => Box::leak(format!("{other:?}").into_boxed_str()),
            }
        };
        match event["type"].as_str() {
            Some("error") => {
                // Still open: it answers a ping.
                assert!(client.drain().await.iter().all(|e| e["type"] != "closed"));
                return Expect::WsError(code(&event));
            }
            Some("nack") => return Expect::Nack(code(&event)),
            Some("closed") => {
                return Expect::Close(event["code"].as_u64().unwrap_or(0) as u16);
            }
            // Presence, channel state and the like are not answers.
            _ => continue,
        }
    }
}

#[sqlx::test]
async fn every_bad_input_gets_its_documented_error_and_never_a_5xx(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let w = world(&app).await;
    let addr = app.serve().await;
    let cases = catalogue(&w);
    let tried = cases.len();
    assert!(tried >= 40, "only {tried} cases");

    let mut failures = Vec::new();
    for case in cases {
        let got = match case.probe {
            Probe::Http(method, path, content_type, body) => {
                run_http(&app, &w.alice, (method, path, content_type, body)).await
            }
            Probe::Ws(frame) => run_ws(addr, &w.alice, frame).await,
        };
        if let Expect::Status(status, _) = got {
            assert!(status < 500, "{}: {status}", case.name);
        }
        if got != case.expect {
            failures.push(format!(
                "{}: expected {:?}, got {:?}",
                case.name, case.expect, got
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    eprintln!("bad-input catalogue: {tried} cases, each with its documented answer, no 5xx");

    // The server kept serving everyone throughout.
    let me = app.get("/api/auth/me", Some(&w.bob.cookie)).await;
    assert_eq!(me.status, StatusCode::OK);
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM chat_messages")
        .fetch_one(&app.pool)
        .await
        .unwrap_or(-1);
    // bob's message and the three hostile-but-valid texts.
    assert_eq!(stored, 4);
}

#[sqlx::test]
async fn signed_out_and_non_member_callers_get_nothing_anywhere(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let w = world(&app).await;
    let carol = app.user("mallory").await;
    let addr = app.serve().await;
    let (dm, message) = (w.dm.as_str(), w.bobs_message.as_str());

    // (method, path, JSON body, server function?) for every endpoint that takes a channel or
    // message, and the rest that need a session.
    let endpoints: Vec<(Method, String, Option<Value>, bool)> = vec![
        (Method::GET, format!("/api/chat/channels/{dm}"), None, false),
        (
            Method::GET,
            format!("/api/chat/channels/{dm}/messages"),
            None,
            false,
        ),
        (
            Method::POST,
            format!("/api/chat/channels/{dm}/read"),
            Some(json!({})),
            false,
        ),
        (
            Method::POST,
            "/api/chat/messages".into(),
            Some(json!({"channel_id": dm, "text": "in"})),
            false,
        ),
        (
            Method::PATCH,
            format!("/api/chat/messages/{message}"),
            Some(json!({"text": "x"})),
            false,
        ),
        (
            Method::DELETE,
            format!("/api/chat/messages/{message}"),
            None,
            false,
        ),
        (
            Method::GET,
            format!("/api/chat/events?channel_id={dm}"),
            None,
            false,
        ),
        (
            Method::POST,
            "/api/fn/channel".into(),
            Some(json!(format!("channel_id={dm}"))),
            true,
        ),
        (
            Method::POST,
            "/api/fn/history".into(),
            Some(json!(format!("channel_id={dm}"))),
            true,
        ),
        (
            Method::POST,
            "/api/fn/send".into(),
            Some(json!(format!("input[channel_id]={dm}&input[text]=in"))),
            true,
        ),
        (
            Method::POST,
            "/api/fn/read".into(),
            Some(json!(format!("channel_id={dm}"))),
            true,
        ),
        (
            Method::POST,
            "/api/fn/edit".into(),
            Some(json!(format!("id={message}&text=x"))),
            true,
        ),
        (
            Method::POST,
            "/api/fn/delete".into(),
            Some(json!(format!("id={message}"))),
            true,
        ),
    ];
    let session_only: Vec<(Method, &str)> = vec![
        (Method::GET, "/api/auth/me"),
        (Method::GET, "/api/users"),
        (Method::GET, "/api/chat/channels"),
        (Method::POST, "/api/chat/channels"),
        (Method::GET, "/api/chat/unread"),
    ];

    let call =
        |method: Method, path: String, body: Option<Value>, form: bool, cookie: Option<String>| {
            let app = &app;
            async move {
                let mut request = Request::builder().method(method).uri(path);
                if let Some(cookie) = cookie {
                    request = request.header(header::COOKIE, cookie);
                }
                let body = match (body, form) {
                    (Some(Value::String(form)), true) => {
                        request = request.header(header::CONTENT_TYPE, FORM);
                        Body::from(form)
                    }
                    (Some(json), _) => {
                        request = request.header(header::CONTENT_TYPE, JSON);
                        Body::from(json.to_string())
                    }
                    (None, _) => Body::empty(),
                };
                app.send_request(request.body(body).expect("request")).await
            }
        };

    let mut checked = 0;
    for (method, path, body, form) in &endpoints {
        for (who, cookie, expected) in [
            ("signed out", None, 401),
            ("non-member", Some(carol.cookie.clone()), 404),
        ] {
            let response = call(method.clone(), path.clone(), body.clone(), *form, cookie).await;
            assert_eq!(
                response.status.as_u16(),
                expected,
                "{who} {method} {path}: {}",
                response.text
            );
            assert!(
                !response.text.contains("bob's words"),
                "{who} {method} {path} leaked"
            );
            checked += 1;
        }
    }
    for (method, path) in &session_only {
        let response = call(
            method.clone(),
            path.to_string(),
            Some(json!({"members": [w.bob.id]})),
            false,
            None,
        )
        .await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "{method} {path}");
        checked += 1;
    }
    // Server functions without a session: no user, no data.
    let me = call(
        Method::POST,
        "/api/fn/current_user".into(),
        Some(json!("")),
        true,
        None,
    )
    .await;
    assert_eq!(me.json(), Value::Null);
    let channels = call(
        Method::POST,
        "/api/fn/channels".into(),
        Some(json!("")),
        true,
        None,
    )
    .await;
    assert_eq!(channels.status, StatusCode::UNAUTHORIZED);

    // WebSocket: no upgrade without a session; a non-member's socket learns nothing.
    let refused = common::ws_connect(addr, None, None).await;
    assert!(refused.is_err());
    let mut socket = WsClient::open(addr, &carol, json!([{"channel_id": dm, "last_seq": 0}])).await;
    app.send(&w.bob, dm, "bob's words again").await;
    let mut alice_socket = WsClient::open(addr, &w.alice, json!([])).await;
    app.send(&w.bob, dm, "bob's words once more").await;
    alice_socket.until("message").await;
    let seen = serde_json::to_string(&socket.drain().await).unwrap_or_default();
    assert!(!seen.contains("bob's words"), "{seen}");
    assert!(checked >= 30, "{checked}");
}

#[sqlx::test]
async fn state_changes_from_other_sites_are_refused(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let w = world(&app).await;
    let body = json!({"channel_id": w.dm, "text": "forged"}).to_string();
    let attempt = |headers: Vec<(&'static str, &'static str)>| {
        let app = &app;
        let (cookie, body) = (w.alice.cookie.clone(), body.clone());
        async move {
            let mut request = Request::post("/api/chat/messages")
                .header(header::COOKIE, cookie)
                .header(header::CONTENT_TYPE, JSON);
            for (name, value) in headers {
                request = request.header(name, value);
            }
            app.send_request(request.body(Body::from(body)).expect("request"))
                .await
        }
    };
    let cross = attempt(vec![("sec-fetch-site", "cross-site")]).await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN);
    assert_eq!(cross.error_code(), "forbidden");
    assert_eq!(
        attempt(vec![("sec-fetch-site", "same-site")]).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        attempt(vec![("origin", "https://evil.example")])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // Sign-in forms posted from elsewhere (login CSRF) too.
    let login = app
        .send_request(
            Request::post("/api/auth/login")
                .header(header::CONTENT_TYPE, JSON)
                .header("origin", "https://evil.example")
                .body(Body::from(
                    json!({"username": "alice", "password": "correct horse"}).to_string(),
                ))
                .expect("request"),
        )
        .await;
    assert_eq!(login.status, StatusCode::FORBIDDEN);

    // The app itself, and clients that are not browsers, are served.
    assert_eq!(
        attempt(vec![
            ("sec-fetch-site", "same-origin"),
            ("origin", "http://127.0.0.1:3000")
        ])
        .await
        .status,
        StatusCode::OK
    );
    assert_eq!(
        attempt(vec![("origin", "http://127.0.0.1:3000")])
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(attempt(vec![]).await.status, StatusCode::OK);
    // Reading is never blocked by these checks (CORS keeps other sites from reading answers).
    let read = app.get("/api/chat/unread", Some(&w.alice.cookie)).await;
    assert_eq!(read.status, StatusCode::OK);
}

#[sqlx::test]
async fn responses_carry_security_headers_and_pages_a_nonce_policy(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let w = world(&app).await;
    let api = app.get("/api/chat/channels", Some(&w.alice.cookie)).await;
    assert_eq!(api.headers["x-content-type-options"], "nosniff");
    assert_eq!(api.headers["x-frame-options"], "DENY");
    assert!(api.headers["content-security-policy"]
        .to_str()
        .unwrap_or_default()
        .contains("frame-ancestors 'none'"));

    let page = app.get("/login", None).await;
    assert_eq!(page.status, StatusCode::OK);
    let policy = page.headers["content-security-policy"]
        .to_str()
        .unwrap_or_default()
        .to_owned();
    assert!(policy.contains("script-src 'self' 'nonce-"), "{policy}");
    assert!(policy.contains("'wasm-unsafe-eval'"), "{policy}");
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap_or_default();
    assert!(nonce.len() >= 16);
    // Every inline script on the page carries it.
    let scripts = page.text.matches("<script").count();
    assert!(scripts > 0);
    assert_eq!(
        page.text.matches(&format!("nonce=\"{nonce}\"")).count(),
        scripts,
        "{}",
        page.text
    );
    // A new page, a new nonce.
    let again = app.get("/login", None).await;
    assert_ne!(
        again.headers["content-security-policy"],
        page.headers["content-security-policy"]
    );
}

#[sqlx::test]
async fn sends_are_rate_limited_with_retry_after(pool: PgPool) {
    let mut settings = Settings::default();
    settings.limits.sends = Rate::new(60, 3);
    let app = TestApp::with_settings(pool, settings).await;
    let w = world(&app).await;
    let addr = app.serve().await;

    // alice's burst of 3, then 429 with Retry-After (bob is not affected).
    for i in 0..3 {
        app.send(&w.alice, &w.dm, &format!("quick {i}")).await;
    }
    let limited = app
        .post_json(
            "/api/chat/messages",
            json!({"channel_id": w.dm, "text": "one too many"}),
            Some(&w.alice.cookie),
        )
        .await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.error_code(), "rate_limited");
    let retry: u64 = limited.headers[header::RETRY_AFTER]
        .to_str()
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    assert!((1..=60).contains(&retry), "{retry}");
    // Over the WebSocket, the same limit answers with a nack.
    let mut socket = WsClient::open(addr, &w.alice, json!([])).await;
    let id = uuid::Uuid::new_v4();
    socket
        .send(json!({"type": "send", "id": id, "channel_id": w.dm, "text": "still too many"}))
        .await;
    let nack = socket.until("nack").await.pop().unwrap_or_default();
    assert_eq!(nack["error"]["code"], "rate_limited");
    // bob (sender of one message in `world`) still has room.
    app.send(&w.bob, &w.dm, "bob is fine").await;

    // Sign-in limits count failures only, per address and username: `abuse.rs`.
}
