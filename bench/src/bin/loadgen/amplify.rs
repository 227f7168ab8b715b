//! Replay amplification (issue 12): one account, a member of many channels that each hold more
//! than `MAX_REPLAY` messages of 16 KB (4,000 random 4-byte characters, which PostgreSQL cannot
//! compress), opens 8 WebSockets and sends `resume` frames of 500 cursors with `last_seq: 0`
//! on each, over and over, while another person uses the service: `GET /api/auth/me`, signing
//! in, and sending a message on their WebSocket (timed to its `ack`, and to the copy their
//! friend's socket receives). The person's figures are measured quiet first, then under the
//! attack, on the same server process; the quiet figures are the floor (target: attacked p99
//! ≤ 2× quiet, and no 503). Also recorded: every status and error the person got, what the
//! attacker got back (events, bytes, `rate_limited` errors, close codes, refused upgrades) and
//! the database work of each phase (`pg_stat_database`), which is the amplification itself.
//!
//! The attacker connects from one address (127.0.0.8), the person from others, as two people
//! on two machines would. A closed attacker socket is opened again, as a persistent attacker
//! would; sends of each frame are paced (one per socket per `resume_every`), and frames the
//! server does not read yet wait in the socket rather than piling up in this process.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use futures_util::{SinkExt, StreamExt};
use hyper::Method;
use parley::model::{ClientEvent, Cursor, ServerEvent};
use serde::Serialize;
use sqlx::PgPool;
use tokio::time::MissedTickBehavior;
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

use crate::client::{self, lock, Live, Recorder, Rng};
use crate::fixture::{self, BenchChannel, BenchUser};
use crate::http::{Http, Reply};
use crate::process::Served;
use crate::stats::{round3, Samples, Summary};
use crate::Failure;

/// The person's request pace: `/api/auth/me` and a send every 200 ms, a sign-in every 1.25 s
/// (below the server's sign-in limit of one a second per address, so the limit never answers).
const ME_EVERY: Duration = Duration::from_millis(200);
const SEND_EVERY: Duration = Duration::from_millis(200);
const SIGN_IN_EVERY: Duration = Duration::from_millis(1250);
/// Time after each phase for the last sends' acks and copies to arrive (at most the window).
const DRAIN: Duration = Duration::from_secs(5);
/// Time between starting the attack and measuring under it.
const RAMP: Duration = Duration::from_secs(1);
/// A failure on a kept-alive connection faster than this is taken for an idle close, and the
/// request is sent again on a new connection (as browsers do).
const STALE_WITHIN: Duration = Duration::from_secs(1);
/// How long the server may take to answer an attacker's `hello`.
const READY_WITHIN: Duration = Duration::from_secs(30);
/// Pause before an attacker socket that was closed or refused tries again.
const RECONNECT_AFTER: Duration = Duration::from_millis(200);
/// Connection index whose source address is 127.0.0.8 (see `client::connect`).
const ATTACKER_INDEX: usize = 7;
/// The password every benchmark user has (`fixture::users`).
const PASSWORD: &str = "benchmark password";

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Size {
    /// Channels the attacker belongs to, each with `messages_per_channel` messages.
    pub channels: usize,
    pub messages_per_channel: usize,
    /// Characters per message (4-byte ones: 4,000 is 16 KB, the longest message allowed).
    pub text_chars: usize,
    pub sockets: usize,
    /// Cursors per `resume` frame (the channels repeated in turn, `last_seq: 0`).
    pub cursors: usize,
    #[serde(serialize_with = "seconds")]
    pub window: Duration,
    #[serde(serialize_with = "seconds")]
    pub resume_every: Duration,
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// The people and channels of the scenario.
pub struct Cast {
    attacker: BenchUser,
    victim: BenchUser,
    victim_username: String,
    friend: BenchUser,
    /// The 1:1 the person sends to (with their friend).
    dm: Uuid,
    channels: Vec<Uuid>,
    pub messages: u64,
    pub text_bytes: u64,
    pub load_s: f64,
}

/// Fills the (empty) database: the attacker's channels and messages (with `COPY`), the person
/// and their friend with a 1:1 between them.
pub async fn load(pool: &PgPool, size: Size) -> Result<Cast, Failure> {
    let started = Instant::now();
    // 0: the attacker, 1: the person, 2: their friend, 3 and 4: the attacker's fellow members
    // (a group has three members at least).
    let users = fixture::users(pool, 5).await?;
    let mut channels = vec![BenchChannel {
        id: Uuid::new_v4(),
        members: vec![1, 2],
    }];
    for _ in 0..size.channels {
        channels.push(BenchChannel {
            id: Uuid::new_v4(),
            members: vec![0, 3, 4],
        });
    }
    fixture::insert_channels(pool, &users, &channels).await?;

    let mut connection = pool.acquire().await?;
    let mut copy = connection
        .copy_in_raw(
            "COPY chat_messages (id, channel_id, seq, user_id, text, created_at, updated_at) FROM STDIN",
        )
        .await?;
    let mut rng = Rng::new(12);
    let now = Utc::now();
    let mut chunk = String::with_capacity(8 << 20);
    let mut text_bytes = 0u64;
    for (c, channel) in channels[1..].iter().enumerate() {
        for seq in 1..=size.messages_per_channel {
            let at =
                now - chrono::Duration::seconds((c * 7 + size.messages_per_channel - seq) as i64);
            let at = at.format("%Y-%m-%d %H:%M:%S%.6f+00");
            chunk.push_str(&format!(
                "{}\t{}\t{seq}\t{}\t",
                Uuid::new_v4(),
                channel.id,
                users[0].id
            ));
            let before = chunk.len();
            // U+1F300…U+1F5FF: 4 bytes each in UTF-8, nothing COPY needs to escape.
            chunk.extend(
                (0..size.text_chars)
                    .map(|_| char::from_u32(0x1F300 + rng.below(0x300) as u32).unwrap_or('x')),
            );
            text_bytes += (chunk.len() - before) as u64;
            chunk.push_str(&format!("\t{at}\t{at}\n"));
            if chunk.len() > 8 << 20 {
                copy.send(chunk.as_bytes()).await?;
                chunk.clear();
            }
        }
    }
    copy.send(chunk.as_bytes()).await?;
    let messages = copy.finish().await?;
    drop(connection);
    sqlx::raw_sql(
        "UPDATE chat_channels c SET last_seq = m.n, last_message_at = m.at
           FROM (SELECT channel_id, max(seq) AS n, max(created_at) AS at
                   FROM chat_messages GROUP BY channel_id) m
          WHERE c.id = m.channel_id",
    )
    .execute(pool)
    .await?;
    // As autovacuum would have done on a database that grew over time.
    sqlx::raw_sql("VACUUM ANALYZE").execute(pool).await?;
    Ok(Cast {
        victim_username: format!("bench_{}", users[1].id.simple()),
        attacker: users[0].clone(),
        victim: users[1].clone(),
        friend: users[2].clone(),
        dm: channels[0].id,
        channels: channels[1..].iter().map(|c| c.id).collect(),
        messages,
        text_bytes,
        load_s: round3(started.elapsed().as_secs_f64()),
    })
}

/// The person's figures over one phase.
#[derive(Debug, Clone, Serialize)]
pub struct Phase {
    pub window_s: f64,
    /// Every request of the person together: `/api/auth/me`, sign-in and send → ack.
    pub mix: Summary,
    pub auth_me: Summary,
    pub sign_in: Summary,
    pub send_to_ack: Summary,
    /// The friend's socket receiving the person's message.
    pub send_to_receive: Summary,
    pub sends: u64,
    pub acks: u64,
    pub copies: u64,
    /// HTTP answers by status (`/api/auth/me` and sign-in together).
    pub http_statuses: BTreeMap<u16, u64>,
    /// Requests that got no answer (timeout after 30 s, connection lost).
    pub http_failures: u64,
    /// Requests sent again at once because their kept-alive connection had been closed.
    pub http_stale_retries: u64,
    /// `nack`s and `error`s on the person's and the friend's sockets, by error code.
    pub socket_errors: BTreeMap<String, u64>,
    pub socket_closes: u64,
    /// 503 answers, `unavailable` errors, requests with no answer and sends never acked.
    pub failures: u64,
    /// Statuses other than 200, of any kind (429 included).
    pub refused: u64,
    pub server_cpu_cores: f64,
    /// Cores busy on the whole machine (`/proc/stat`): the server, PostgreSQL, this load
    /// generator, and anything else running (other builds make every figure noisier).
    pub machine_busy_cores: f64,
    pub db_tuples_fetched_per_s: f64,
    pub db_blocks_per_s: f64,
}

/// What the attacker sent and got back during the attacked phase.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Take {
    pub sockets: usize,
    pub cursors_per_frame: usize,
    pub frame_bytes: usize,
    /// Sockets that reached `ready` (the first ones and every reconnection).
    pub connects: u64,
    /// Upgrades refused and `hello`s answered with a close or an error instead of `ready`, by
    /// reason.
    pub connect_failures: BTreeMap<String, u64>,
    pub frames_sent: u64,
    pub bytes_received: u64,
    pub resets: u64,
    pub messages: u64,
    /// `error` events, by code (`rate_limited`, `bad_request`, …).
    pub errors: BTreeMap<String, u64>,
    pub other_events: u64,
    /// How the server ended attacker sockets: close code, or how the stream ended.
    pub closes: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Amplify {
    pub size: Size,
    pub messages: u64,
    pub text_bytes: u64,
    pub load_s: f64,
    pub quiet: Phase,
    pub attacked: Phase,
    pub attacker: Take,
}

/// Quiet phase, then the attack and the attacked phase, on one server.
pub async fn run(
    pool: &PgPool,
    served: &Served,
    cast: &Cast,
    size: Size,
) -> Result<Amplify, Failure> {
    let addr = served.addr;
    let recorder = Recorder::new();
    // Indices 1 and 2: source addresses 127.0.0.2 and 127.0.0.3.
    let victim = client::open(addr, &cast.victim, 1, vec![cast.dm], recorder.clone()).await?;
    let _friend = client::open(addr, &cast.friend, 2, vec![cast.dm], recorder.clone()).await?;
    // Warm-up: connections, prepared statements, the first argon2 hash; not counted.
    phase(
        pool,
        served,
        cast,
        &victim,
        &recorder,
        Duration::from_secs(2),
    )
    .await?;
    eprintln!("  quiet: {:.0} s", size.window.as_secs_f64());
    let quiet = phase(pool, served, cast, &victim, &recorder, size.window).await?;
    report_phase("quiet", &quiet);

    let frame = resume_frame(&cast.channels, size.cursors)?;
    let take = Arc::new(Mutex::new(Take {
        sockets: size.sockets,
        cursors_per_frame: size.cursors,
        frame_bytes: frame.len(),
        ..Take::default()
    }));
    eprintln!(
        "  attack: {} sockets, a {}-cursor resume ({} bytes) every {:.2} s each",
        size.sockets,
        size.cursors,
        frame.len(),
        size.resume_every.as_secs_f64()
    );
    let attackers: Vec<_> = (0..size.sockets)
        .map(|n| {
            tokio::spawn(attack(
                addr,
                cast.attacker.token.clone(),
                ATTACKER_INDEX + 8 * n,
                frame.clone(),
                size.resume_every,
                take.clone(),
            ))
        })
        .collect();
    tokio::time::sleep(RAMP).await;
    let attacked = phase(pool, served, cast, &victim, &recorder, size.window).await;
    // Aborting drops each task's socket, which closes it.
    for task in &attackers {
        task.abort();
    }
    let attacked = attacked?;
    report_phase("attacked", &attacked);
    let attacker = lock(&take).clone();
    eprintln!(
        "  attacker: {} frames sent, {} connects, {} bytes back, {} resets, {} messages, errors {:?}, closes {:?}, refused {:?}",
        attacker.frames_sent,
        attacker.connects,
        attacker.bytes_received,
        attacker.resets,
        attacker.messages,
        attacker.errors,
        attacker.closes,
        attacker.connect_failures
    );
    Ok(Amplify {
        size,
        messages: cast.messages,
        text_bytes: cast.text_bytes,
        load_s: cast.load_s,
        quiet,
        attacked,
        attacker,
    })
}

fn report_phase(name: &str, phase: &Phase) {
    eprintln!(
        "  {name}: mix p50 {} p99 {} ms; me p99 {}, sign-in p99 {}, ack p99 {}, receive p99 {} ms; statuses {:?}, failures {}, server {:.2} cores, machine {:.2} cores busy, {:.0} tuples/s",
        phase.mix.p50_ms,
        phase.mix.p99_ms,
        phase.auth_me.p99_ms,
        phase.sign_in.p99_ms,
        phase.send_to_ack.p99_ms,
        phase.send_to_receive.p99_ms,
        phase.http_statuses,
        phase.failures,
        phase.server_cpu_cores,
        phase.machine_busy_cores,
        phase.db_tuples_fetched_per_s,
    );
}

/// `{"type":"resume","cursors":[…]}` with `cursors` cursors, the channels in turn.
fn resume_frame(channels: &[Uuid], cursors: usize) -> Result<String, Failure> {
    if channels.is_empty() {
        return Err("the attacker has no channels".into());
    }
    let event = ClientEvent::Resume {
        cursors: (0..cursors)
            .map(|k| Cursor {
                channel_id: channels[k % channels.len()],
                last_seq: 0,
                version: None,
            })
            .collect(),
    };
    Ok(serde_json::to_string(&event)?)
}

/// The person's HTTP timings of one phase.
#[derive(Default)]
struct HttpTimings {
    samples: Samples,
    statuses: BTreeMap<u16, u64>,
    failures: u64,
    stale_retries: u64,
}

/// The person's requests and sends for `window`, then the drain; their figures.
async fn phase(
    pool: &PgPool,
    served: &Served,
    cast: &Cast,
    victim: &Live,
    recorder: &Arc<Recorder>,
    window: Duration,
) -> Result<Phase, Failure> {
    let stats_before = db_stats(pool).await?;
    let cpu_before = served.cpu_time()?;
    let busy_before = machine_busy()?;
    let started = Instant::now();
    recorder.open_window(window);
    let deadline = started + window;
    let login = serde_json::json!({"username": cast.victim_username, "password": PASSWORD});
    let me = tokio::spawn(requests(
        served.addr,
        Some(cast.victim.token.clone()),
        None,
        ME_EVERY,
        deadline,
    ));
    let sign_in = tokio::spawn(requests(
        served.addr,
        None,
        Some(login.to_string()),
        SIGN_IN_EVERY,
        deadline,
    ));
    let mut tick = tokio::time::interval(SEND_EVERY);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut sends = 0u64;
    loop {
        tick.tick().await;
        if Instant::now() >= deadline {
            break;
        }
        victim.send(recorder, cast.dm)?;
        sends += 1;
    }
    let me = me.await?;
    let sign_in = sign_in.await?;
    let elapsed = started.elapsed();
    let cpu = served.cpu_time()?.saturating_sub(cpu_before);
    let busy = machine_busy()?.saturating_sub(busy_before);
    let stats_after = db_stats(pool).await?;
    tokio::time::sleep(DRAIN.min(window)).await;

    let acked = lock(&recorder.acked).clone();
    let delivered = lock(&recorder.delivered).clone();
    let acks = recorder.acks.load(std::sync::atomic::Ordering::Relaxed);
    let copies = recorder.copies.load(std::sync::atomic::Ordering::Relaxed);
    let socket_errors = lock(&recorder.error_codes).clone();
    let mut mix = Samples::default();
    mix.extend(&me.samples);
    mix.extend(&sign_in.samples);
    mix.extend(&acked);
    let mut statuses = me.statuses.clone();
    for (status, count) in &sign_in.statuses {
        *statuses.entry(*status).or_default() += count;
    }
    let http_failures = me.failures + sign_in.failures;
    let failures = statuses.get(&503).copied().unwrap_or(0)
        + socket_errors.get("unavailable").copied().unwrap_or(0)
        + http_failures
        + sends.saturating_sub(acks);
    let refused = statuses
        .iter()
        .filter(|(status, _)| **status != 200)
        .map(|(_, count)| count)
        .sum::<u64>()
        + socket_errors.values().sum::<u64>();
    let seconds = elapsed.as_secs_f64();
    Ok(Phase {
        window_s: round3(seconds),
        mix: mix.summary(),
        auth_me: me.samples.summary(),
        sign_in: sign_in.samples.summary(),
        send_to_ack: acked.summary(),
        send_to_receive: delivered.summary(),
        sends,
        acks,
        copies,
        http_statuses: statuses,
        http_failures,
        http_stale_retries: me.stale_retries + sign_in.stale_retries,
        socket_errors,
        socket_closes: recorder.closed.load(std::sync::atomic::Ordering::Relaxed),
        failures,
        refused,
        server_cpu_cores: round3(cpu.as_secs_f64() / seconds),
        machine_busy_cores: round3(busy.as_secs_f64() / seconds),
        db_tuples_fetched_per_s: round3((stats_after.0 - stats_before.0) as f64 / seconds),
        db_blocks_per_s: round3((stats_after.1 - stats_before.1) as f64 / seconds),
    })
}

/// Repeats one request every `every` until `deadline`: `GET /api/auth/me` signed in with
/// `token`, or a sign-in with `login`. A request that gets no answer is counted and its
/// connection opened again.
async fn requests(
    addr: SocketAddr,
    token: Option<String>,
    login: Option<String>,
    every: Duration,
    deadline: Instant,
) -> HttpTimings {
    let mut timings = HttpTimings::default();
    let mut http: Option<Http> = None;
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if Instant::now() >= deadline {
            return timings;
        }
        let started = Instant::now();
        // A browser sends again at once when a kept-alive connection turns out to have been
        // closed by the server while idle; so does this, once, when the failure was quick.
        let mut answer = Err::<Reply, Failure>("not sent".into());
        // The second pass happens only after a quick failure on a reused connection.
        for _ in 0..2 {
            let reused = http.is_some();
            if !reused {
                match Http::connect(addr, token.as_deref()).await {
                    Ok(connection) => http = Some(connection),
                    Err(e) => {
                        answer = Err(e);
                        break;
                    }
                }
            }
            let Some(connection) = http.as_mut() else {
                break;
            };
            let tried = Instant::now();
            answer = match &login {
                Some(body) => {
                    connection
                        .request(Method::POST, "/api/auth/login", Some(body.clone()), false)
                        .await
                }
                None => connection.get("/api/auth/me", false).await,
            };
            if answer.is_ok() {
                break;
            }
            http = None;
            if !reused || tried.elapsed() > STALE_WITHIN {
                break;
            }
            timings.stale_retries += 1;
        }
        timings.samples.push(started.elapsed());
        match answer {
            Ok(reply) => *timings.statuses.entry(reply.status).or_default() += 1,
            Err(_) => timings.failures += 1,
        }
    }
}

/// CPU time the whole machine has spent busy (every state but idle and iowait).
fn machine_busy() -> Result<Duration, Failure> {
    let stat = std::fs::read_to_string("/proc/stat")?;
    let fields: Vec<u64> = stat
        .lines()
        .next()
        .and_then(|line| line.strip_prefix("cpu "))
        .ok_or("no cpu line in /proc/stat")?
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    // user nice system idle iowait irq softirq steal …, in ticks of 1/100 s.
    let idle = fields.get(3).copied().unwrap_or(0) + fields.get(4).copied().unwrap_or(0);
    let total: u64 = fields.iter().take(8).sum();
    Ok(Duration::from_millis(total.saturating_sub(idle) * 10))
}

/// (tuples fetched, blocks read or hit) of this database so far.
async fn db_stats(pool: &PgPool) -> Result<(i64, i64), Failure> {
    Ok(sqlx::query_as(
        "SELECT tup_fetched, blks_hit + blks_read FROM pg_stat_database
          WHERE datname = current_database()",
    )
    .fetch_one(pool)
    .await?)
}

/// One attacker socket, until aborted: connect, `hello`, then a `resume` every `every` while
/// reading (and counting) everything the server sends; again after a close or a refusal.
async fn attack(
    addr: SocketAddr,
    token: String,
    index: usize,
    frame: String,
    every: Duration,
    take: Arc<Mutex<Take>>,
) {
    let count = |map: &mut BTreeMap<String, u64>, key: String| *map.entry(key).or_default() += 1;
    loop {
        let mut socket = match client::connect(addr, &token, index).await {
            Ok(socket) => socket,
            Err(e) => {
                count(&mut lock(&take).connect_failures, short(&e.to_string()));
                tokio::time::sleep(RECONNECT_AFTER).await;
                continue;
            }
        };
        if let Err(why) = hello(&mut socket).await {
            count(&mut lock(&take).connect_failures, format!("hello: {why}"));
            tokio::time::sleep(RECONNECT_AFTER).await;
            continue;
        }
        lock(&take).connects += 1;
        let (mut sink, mut stream) = socket.split();
        let write = async {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
            loop {
                tick.tick().await;
                // Waits while the server does not read: frames queue in the socket, not here.
                if sink.send(Message::text(frame.clone())).await.is_err() {
                    return;
                }
                lock(&take).frames_sent += 1;
            }
        };
        let read = async {
            while let Some(frame) = stream.next().await {
                let text = match frame {
                    Ok(Message::Text(text)) => text,
                    Ok(Message::Close(close)) => {
                        let code = close.map_or("no code".to_owned(), |c| {
                            format!("{} {}", u16::from(c.code), c.reason)
                        });
                        count(&mut lock(&take).closes, code);
                        return;
                    }
                    Ok(_) => continue,
                    Err(e) => {
                        count(&mut lock(&take).closes, short(&e.to_string()));
                        return;
                    }
                };
                let mut take = lock(&take);
                take.bytes_received += text.len() as u64;
                match serde_json::from_str::<ServerEvent>(&text) {
                    Ok(ServerEvent::Reset { .. }) => take.resets += 1,
                    Ok(ServerEvent::Message { .. }) => take.messages += 1,
                    Ok(ServerEvent::Error { error }) => {
                        count(&mut take.errors, client::code_name(error.code))
                    }
                    _ => take.other_events += 1,
                }
            }
            count(
                &mut lock(&take).closes,
                "ended without a close frame".to_owned(),
            );
        };
        // Both halves at once: a write waiting on a full socket must not stop the reading.
        tokio::select! {
            () = write => {}
            () = read => {}
        }
        tokio::time::sleep(RECONNECT_AFTER).await;
    }
}

/// Sends `hello` and reads until `ready`; otherwise why not (the close code, the error code).
async fn hello(socket: &mut client::Socket) -> Result<(), String> {
    let hello = ClientEvent::Hello {
        version: parley::model::event::PROTOCOL_VERSION,
        cursors: Vec::new(),
        token: None,
    };
    let hello = serde_json::to_string(&hello).map_err(|e| e.to_string())?;
    socket
        .send(Message::text(hello))
        .await
        .map_err(|e| short(&e.to_string()))?;
    let answer = async {
        while let Some(frame) = socket.next().await {
            match frame.map_err(|e| short(&e.to_string()))? {
                Message::Text(text) => match serde_json::from_str::<ServerEvent>(&text) {
                    Ok(ServerEvent::Ready { .. }) => return Ok(()),
                    Ok(ServerEvent::Error { error }) => {
                        return Err(format!("error {}", client::code_name(error.code)))
                    }
                    _ => {}
                },
                Message::Close(close) => {
                    return Err(close.map_or("closed with no code".to_owned(), |c| {
                        format!("closed {} {}", u16::from(c.code), c.reason)
                    }))
                }
                _ => {}
            }
        }
        Err("ended before ready".to_owned())
    };
    tokio::time::timeout(READY_WITHIN, answer)
        .await
        .map_err(|_| "no ready within 30 s".to_owned())?
}

/// An error's first line, short enough to be a key.
fn short(text: &str) -> String {
    text.lines().next().unwrap_or("").chars().take(80).collect()
}
