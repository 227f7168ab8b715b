//! `parley-loadgen bare-server`: the in-memory floor. A bare axum WebSocket server with the
//! product's socket settings (4 KiB buffers, 64 KiB frames, a bounded queue of 256 frames per
//! connection) that speaks just enough of the protocol for the benchmarks (`hello` → `ready`,
//! `send` → `message` to every member and `ack`) and keeps nothing but memory: sessions and
//! memberships are read from the database once at start-up, never on the message path. Its
//! latency and throughput are the cost of the product without persistence; its idle sockets are
//! the memory floor. `POST /sink` reads a body of up to 64 MiB into memory and drops it: the
//! floor of an upload (HTTP on loopback and nothing else).

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::ws::{Message as WsMessage, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header::COOKIE, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use axum::Router;
use chrono::Utc;
use parley::model::{ClientEvent, Message, ServerEvent};
use sha2::{Digest, Sha256};
use sqlx::postgres::PgPoolOptions;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::Failure;

/// The product's per-connection settings (src/server/realtime/ws.rs and hub.rs).
const BUFFER_BYTES: usize = 4 * 1024;
const MAX_FRAME_BYTES: usize = 64 * 1024;
const QUEUE_FRAMES: usize = 256;
/// The largest body `/sink` reads (the product's uploads stop at 25 MiB).
const SINK_MAX_BYTES: usize = 64 * 1024 * 1024;

struct Bare {
    /// SHA-256 of a session token → user.
    sessions: HashMap<Vec<u8>, Uuid>,
    members: HashMap<Uuid, Vec<Uuid>>,
    /// A std Mutex: held only to clone or push senders, never across an await.
    sockets: Mutex<HashMap<Uuid, Vec<mpsc::Sender<Utf8Bytes>>>>,
    seq: AtomicI64,
}

pub async fn serve(port: u16) -> Result<(), Failure> {
    let url = std::env::var("DATABASE_URL").map_err(|_| "DATABASE_URL is not set")?;
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await?;
    let sessions =
        sqlx::query_as::<_, (Vec<u8>, Uuid)>("SELECT token_hash, account_id FROM demo_sessions")
            .fetch_all(&pool)
            .await?
            .into_iter()
            .collect();
    let mut members: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for (channel, user) in
        sqlx::query_as::<_, (Uuid, Uuid)>("SELECT channel_id, user_id FROM chat_members")
            .fetch_all(&pool)
            .await?
    {
        members.entry(channel).or_default().push(user);
    }
    pool.close().await;
    let state = Arc::new(Bare {
        sessions,
        members,
        sockets: Mutex::default(),
        seq: AtomicI64::new(0),
    });
    let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
        .await?
        .tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
    let app = Router::new()
        .route("/api/chat/ws", get(upgrade))
        .route(
            "/sink",
            post(sink).layer(DefaultBodyLimit::max(SINK_MAX_BYTES)),
        )
        .with_state(state);
    axum::serve(listener, app).await?;
    Ok(())
}

/// Reads the whole body and answers its length.
async fn sink(body: Bytes) -> (StatusCode, String) {
    (StatusCode::CREATED, body.len().to_string())
}

async fn upgrade(
    State(bare): State<Arc<Bare>>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let token = headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix("parley_session="));
    let user = token.and_then(|t| bare.sessions.get(Sha256::digest(t.as_bytes()).as_slice()));
    let Some(&user) = user else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    ws.read_buffer_size(BUFFER_BYTES)
        .write_buffer_size(BUFFER_BYTES)
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| connection(bare, user, socket))
}

fn frame(event: &ServerEvent) -> Utf8Bytes {
    // Plain data: serializing cannot fail.
    serde_json::to_string(event).unwrap_or_default().into()
}

async fn connection(bare: Arc<Bare>, user: Uuid, mut socket: WebSocket) {
    let (to_me, mut queue) = mpsc::channel(QUEUE_FRAMES);
    bare.sockets
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .entry(user)
        .or_default()
        .push(to_me.clone());
    loop {
        tokio::select! {
            incoming = socket.recv() => {
                let Some(Ok(WsMessage::Text(text))) = incoming else { break };
                match serde_json::from_str::<ClientEvent>(text.as_str()) {
                    Ok(ClientEvent::Hello { .. }) => {
                        let ready = ServerEvent::Ready { version: 1, user_id: user, presence: vec![], blocked: vec![] };
                        let _ = to_me.try_send(frame(&ready));
                    }
                    Ok(ClientEvent::Send { id, channel_id, text, .. }) => {
                        broadcast(&bare, user, id, channel_id, text, &to_me);
                    }
                    _ => {}
                }
            }
            outgoing = queue.recv() => {
                let Some(json) = outgoing else { break };
                if socket.send(WsMessage::Text(json)).await.is_err() {
                    break;
                }
            }
        }
    }
    bare.sockets
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .entry(user)
        .or_default()
        .retain(|s| !s.same_channel(&to_me));
}

/// The message to every member's sockets (serialized once), then the ack to the sender.
fn broadcast(
    bare: &Bare,
    user: Uuid,
    id: Uuid,
    channel_id: Uuid,
    text: String,
    to_me: &mpsc::Sender<Utf8Bytes>,
) {
    let Some(members) = bare.members.get(&channel_id) else {
        return;
    };
    let message = Message {
        id,
        channel_id,
        seq: bare.seq.fetch_add(1, Ordering::Relaxed) + 1,
        user_id: Some(user),
        text,
        created_at: Utc::now(),
        edited: false,
        deleted: false,
        reply_to: None,
        mentions: Vec::new(),
        reactions: Vec::new(),
        attachments: Vec::new(),
    };
    let event = frame(&ServerEvent::Message {
        message: message.clone(),
        version: 0,
    });
    {
        let sockets = bare
            .sockets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for member in members {
            for socket in sockets.get(member).into_iter().flatten() {
                let _ = socket.try_send(event.clone());
            }
        }
    }
    let _ = to_me.try_send(frame(&ServerEvent::Ack { id, message }));
}
