//! The benchmark's WebSocket clients, speaking the realtime protocol as the browser client does:
//! `hello` → `ready`, then `send` frames and the events that come back. Each connection has a
//! reader task that feeds a shared [`Recorder`] and a writer task fed by a channel, so the
//! dispatcher never waits on a socket.
//!
//! Send → receive latency needs no bookkeeping: the message text carries the time it was
//! written (microseconds since the recorder's epoch; one process, one monotonic clock), and
//! each receiving member's reader subtracts it from the time it reads the event.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use parley::model::{ClientEvent, ErrorCode, ServerEvent};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;
use uuid::Uuid;

use crate::fixture::{cookie, BenchUser};
use crate::stats::Samples;
use crate::Failure;

pub type Socket = WebSocketStream<TcpStream>;

/// How long the server may take to answer `hello`.
const READY_WITHIN: Duration = Duration::from_secs(30);
/// Loopback source addresses the clients spread over: each (source, destination) pair has its
/// own ~28k ephemeral ports, so 50,000 sockets to one server need at least two.
const SOURCE_ADDRESSES: u8 = 8;

/// What every reader reports to. Counters are atomics and the samples sit behind a std Mutex:
/// no await is ever held across the lock, and it is taken once per event.
pub struct Recorder {
    epoch: Instant,
    /// Copies of messages others sent, read by a member (send → receive).
    pub delivered: Mutex<Samples>,
    /// The sender's `ack` (send → stored and answered).
    pub acked: Mutex<Samples>,
    /// Sends whose stamp is inside the window, as counted by the window.
    window: Mutex<(u64, u64)>,
    pub copies: AtomicU64,
    pub acks: AtomicU64,
    pub errors: AtomicU64,
    pub closed: AtomicU64,
    /// `nack`s and `error`s by error code (`rate_limited`, `unavailable`, …).
    pub error_codes: Mutex<BTreeMap<String, u64>>,
    /// Closed-loop mode: every ack makes its connection send again at once.
    pub closed_loop: AtomicBool,
}

impl Recorder {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            epoch: Instant::now(),
            delivered: Mutex::default(),
            acked: Mutex::default(),
            window: Mutex::new((u64::MAX, u64::MAX)),
            copies: AtomicU64::new(0),
            acks: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            closed: AtomicU64::new(0),
            error_codes: Mutex::default(),
            closed_loop: AtomicBool::new(false),
        })
    }

    /// Microseconds since the epoch: what a message text carries.
    pub fn now_us(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    pub fn stamp(&self) -> String {
        format!("bench t={}", self.now_us())
    }

    /// Starts counting messages stamped from now for `length`; forgets earlier samples.
    pub fn open_window(&self, length: Duration) -> (u64, u64) {
        let start = self.now_us();
        let window = (
            start,
            start + u64::try_from(length.as_micros()).unwrap_or(u64::MAX),
        );
        *lock(&self.window) = window;
        *lock(&self.delivered) = Samples::default();
        *lock(&self.acked) = Samples::default();
        lock(&self.error_codes).clear();
        for counter in [&self.copies, &self.acks, &self.errors, &self.closed] {
            counter.store(0, Ordering::Relaxed);
        }
        window
    }

    /// Whether a message stamped at `us` counts.
    pub fn in_window(&self, us: u64) -> bool {
        let (start, end) = *lock(&self.window);
        (start..end).contains(&us)
    }

    /// Reads one event that arrived at user `me`'s socket; returns whether it was an `ack`.
    fn observe(&self, me: Uuid, text: &str) -> bool {
        let now = self.now_us();
        let event = match serde_json::from_str::<ServerEvent>(text) {
            Ok(event) => event,
            Err(_) => {
                self.errors.fetch_add(1, Ordering::Relaxed);
                return false;
            }
        };
        match event {
            ServerEvent::Message { message, .. } if message.user_id != Some(me) => {
                if let Some(sent) = stamp_of(&message.text).filter(|&t| self.in_window(t)) {
                    self.copies.fetch_add(1, Ordering::Relaxed);
                    lock(&self.delivered).push(Duration::from_micros(now.saturating_sub(sent)));
                }
                false
            }
            ServerEvent::Ack { message, .. } => {
                if let Some(sent) = stamp_of(&message.text).filter(|&t| self.in_window(t)) {
                    self.acks.fetch_add(1, Ordering::Relaxed);
                    lock(&self.acked).push(Duration::from_micros(now.saturating_sub(sent)));
                }
                true
            }
            ServerEvent::Nack { error, .. } | ServerEvent::Error { error } => {
                self.errors.fetch_add(1, Ordering::Relaxed);
                *lock(&self.error_codes)
                    .entry(code_name(error.code))
                    .or_default() += 1;
                false
            }
            _ => false,
        }
    }
}

/// A poisoned lock only means a reader panicked mid-push; the samples are still usable.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// An error code's JSON name (`rate_limited`).
pub fn code_name(code: ErrorCode) -> String {
    serde_json::to_value(code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("{code:?}"))
}

fn stamp_of(text: &str) -> Option<u64> {
    text.strip_prefix("bench t=")?.parse().ok()
}

/// One signed-in user's live WebSocket.
pub struct Live {
    pub user: usize,
    out: mpsc::UnboundedSender<Message>,
}

impl Live {
    /// Queues a `send` of a stamped message to `channel_id`.
    pub fn send(&self, recorder: &Recorder, channel_id: Uuid) -> Result<(), Failure> {
        self.out.send(send_frame(recorder, channel_id))?;
        Ok(())
    }

    /// Queues any client frame.
    pub fn frame(&self, event: &ClientEvent) -> Result<(), Failure> {
        self.out
            .send(Message::text(serde_json::to_string(event)?))?;
        Ok(())
    }
}

fn send_frame(recorder: &Recorder, channel_id: Uuid) -> Message {
    let event = ClientEvent::Send {
        id: Uuid::new_v4(),
        channel_id,
        text: recorder.stamp(),
        reply_to: None,
        attachments: Vec::new(),
    };
    // Plain data: serializing cannot fail.
    Message::text(serde_json::to_string(&event).unwrap_or_default())
}

/// Opens a WebSocket from loopback source address number `index % SOURCE_ADDRESSES`.
pub async fn connect(addr: SocketAddr, token: &str, index: usize) -> Result<Socket, Failure> {
    let source = Ipv4Addr::new(127, 0, 0, 1 + (index % usize::from(SOURCE_ADDRESSES)) as u8);
    let tcp = TcpSocket::new_v4()?;
    tcp.bind(SocketAddr::from((source, 0)))?;
    let stream = tcp.connect(addr).await?;
    stream.set_nodelay(true)?;
    let mut request = format!("ws://{addr}/api/chat/ws").into_client_request()?;
    request
        .headers_mut()
        .insert("cookie", cookie(token).parse()?);
    // Small buffers as the server has: 50,000 clients with tungstenite's 128 KiB defaults
    // would need 6 GiB in this process.
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let (socket, _) = tokio_tungstenite::client_async_with_config(request, stream, Some(config))
        .await
        .map_err(|e| format!("websocket upgrade: {e}"))?;
    Ok(socket)
}

/// Sends `hello` and reads until `ready`; returns the time it took.
pub async fn hello(socket: &mut Socket) -> Result<Duration, Failure> {
    let started = Instant::now();
    let hello = ClientEvent::Hello {
        version: parley::model::event::PROTOCOL_VERSION,
        cursors: Vec::new(),
        token: None,
    };
    socket
        .send(Message::text(serde_json::to_string(&hello)?))
        .await?;
    tokio::time::timeout(READY_WITHIN, async {
        while let Some(frame) = socket.next().await {
            if let Message::Text(text) = frame? {
                if let Ok(ServerEvent::Ready { .. }) = serde_json::from_str(&text) {
                    return Ok(started.elapsed());
                }
            }
        }
        Err::<_, Failure>("closed before ready".into())
    })
    .await?
}

/// Connects user `index`, says hello, and starts its reader and writer tasks. In closed-loop
/// mode the reader answers each of its own acks with a new send to one of `channels`.
pub async fn open(
    addr: SocketAddr,
    user: &BenchUser,
    index: usize,
    channels: Vec<Uuid>,
    recorder: Arc<Recorder>,
) -> Result<Live, Failure> {
    let mut socket = connect(addr, &user.token, index).await?;
    hello(&mut socket).await?;
    let (mut sink, mut stream) = socket.split();
    let (out, mut queue) = mpsc::unbounded_channel::<Message>();
    tokio::spawn(async move {
        while let Some(frame) = queue.recv().await {
            if sink.send(frame).await.is_err() {
                break;
            }
        }
        let _ = sink.close().await;
    });
    let me = user.id;
    let again = out.clone();
    tokio::spawn(async move {
        let mut next = index;
        while let Some(frame) = stream.next().await {
            match frame {
                Ok(Message::Text(text)) => {
                    let acked = recorder.observe(me, &text);
                    if acked && recorder.closed_loop.load(Ordering::Relaxed) && !channels.is_empty()
                    {
                        next = next.wrapping_add(1);
                        let channel = channels[next % channels.len()];
                        if again.send(send_frame(&recorder, channel)).is_err() {
                            break;
                        }
                    }
                }
                Ok(Message::Close(_)) | Err(_) => {
                    recorder.closed.fetch_add(1, Ordering::Relaxed);
                    break;
                }
                Ok(_) => {}
            }
        }
    });
    Ok(Live { user: index, out })
}

/// Opens every user's socket, `concurrency` handshakes at a time.
pub async fn open_all(
    addr: SocketAddr,
    fixture: &crate::fixture::Fixture,
    recorder: &Arc<Recorder>,
    concurrency: usize,
) -> Result<Vec<Live>, Failure> {
    let opening = fixture.users.iter().enumerate().map(|(index, user)| {
        let channels = fixture.channels_of[index]
            .iter()
            .map(|&c| fixture.channels[c].id)
            .collect();
        open(addr, user, index, channels, recorder.clone())
    });
    let mut sockets: Vec<Live> = futures_util::stream::iter(opening)
        .buffer_unordered(concurrency)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    sockets.sort_by_key(|live| live.user);
    Ok(sockets)
}

/// A small deterministic generator (xorshift64*): reproducible picks, no dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n.max(1)
    }
}
