//! `parley-latency`: send → receive latency over loopback, beside its floor.
//!
//! Starts the real server in this process on a free loopback port (same router, writer, bus
//! listener and hub as `parley`), signs up two people, and has one send N messages over its
//! WebSocket, one at a time, while the other's WebSocket receives them: the time from writing
//! the `send` frame to reading the `message` event. The floor is the same trip without the
//! product: a bare `INSERT` + `pg_notify` + `COMMIT` on one connection, received by `LISTEN` on
//! another. Prints JSON. Needs `DATABASE_URL` (a scratch database: it adds users and a table).
//!
//! `cargo run --release -p parley-bench --bin parley-latency -- [N]` (see scripts/latency.sh)

use std::error::Error;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use leptos::config::LeptosOptions;
use parley::model::NewChannel;
use parley::server::{chat, db, serve, Chat, Settings};
use parley_demo::model::SignupInput;
use parley_demo::server::{router, AccountSettings, Accounts, DemoState};
use serde_json::{json, Value};
use sqlx::postgres::{PgListener, PgPoolOptions};
use sqlx::PgPool;
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use uuid::Uuid;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;
type Failure = Box<dyn Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), Failure> {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(100);
    let url = std::env::var("DATABASE_URL").map_err(|_| "DATABASE_URL is not set")?;
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .connect(&url)
        .await?;
    db::migrate(&pool).await?;
    parley_demo::server::db::MIGRATOR.run(&pool).await?;

    let warm = rounds / 10;
    let floor = floor(&pool, rounds + warm).await?;
    let product = product(pool, rounds + warm).await?;
    let (floor, product) = (summary(&floor[warm..]), summary(&product[warm..]));
    let ratio = product["median_ms"].as_f64().unwrap_or(0.0)
        / floor["median_ms"].as_f64().unwrap_or(f64::NAN);
    let report = json!({
        "rounds": rounds,
        "warm_up_rounds_dropped": warm,
        "send_to_receive": product,
        "floor_insert_notify_listen": floor,
        "median_ratio": (ratio * 100.0).round() / 100.0,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

fn summary(samples: &[Duration]) -> Value {
    let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let i = ((ms.len() as f64 - 1.0) * q).round() as usize;
        (ms.get(i).copied().unwrap_or(f64::NAN) * 1000.0).round() / 1000.0
    };
    json!({"median_ms": at(0.5), "p90_ms": at(0.9), "p99_ms": at(0.99), "max_ms": at(1.0)})
}

/// A bare durable insert with a notification, timed from BEGIN to the listener's receipt.
async fn floor(pool: &PgPool, rounds: usize) -> Result<Vec<Duration>, Failure> {
    sqlx::raw_sql("CREATE TABLE IF NOT EXISTS latency_floor (id bigserial PRIMARY KEY, body text)")
        .execute(pool)
        .await?;
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen("latency_floor").await?;
    let mut samples = Vec::with_capacity(rounds);
    for i in 0..rounds {
        let body = format!("round {i}");
        let started = Instant::now();
        let mut tx = pool.begin().await?;
        sqlx::query("INSERT INTO latency_floor (body) VALUES ($1)")
            .bind(&body)
            .execute(&mut *tx)
            .await?;
        sqlx::query("SELECT pg_notify('latency_floor', $1)")
            .bind(&body)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        let notification = listener.recv().await?;
        samples.push(started.elapsed());
        if notification.payload() != body {
            return Err("notifications out of order".into());
        }
    }
    Ok(samples)
}

/// The product's path: WebSocket `send` → writer → NOTIFY → listener → hub → WebSocket.
async fn product(pool: PgPool, rounds: usize) -> Result<Vec<Duration>, Failure> {
    let accounts = Accounts::new(pool.clone(), AccountSettings::default());
    let chat = Chat::start(pool.clone(), accounts.clone(), Settings::default());
    let state = DemoState {
        leptos_options: LeptosOptions::builder().output_name("parley").build(),
        chat: chat.clone(),
        accounts,
    };
    let tag = Uuid::new_v4().simple().to_string();
    let mut people = Vec::new();
    for name in ["sender", "receiver"] {
        let input = SignupInput {
            username: format!("{name}-{}", &tag[..12]),
            display_name: name.to_owned(),
            password: "latency benchmark".to_owned(),
        };
        let nobody = std::net::IpAddr::from([127, 0, 0, 1]);
        let no_headers = axum::http::HeaderMap::new();
        people.push(
            state
                .accounts
                .sign_up(&chat, &input, nobody, &no_headers)
                .await?,
        );
    }
    let channel = chat::create_channel(
        &chat,
        &people[0].user,
        &NewChannel {
            members: vec![people[1].user.id],
            name: None,
        },
    )
    .await?
    .0;

    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    // As the server binary serves (small frames go out at once).
    let serve_settings = chat.settings.serve.clone();
    tokio::spawn(async move {
        serve(
            listener,
            router(state),
            &serve_settings,
            std::future::pending(),
        )
        .await
    });
    let mut sockets = Vec::new();
    for person in &people {
        let cookie = person
            .cookie
            .to_str()?
            .split(';')
            .next()
            .unwrap_or_default();
        let mut request = format!("ws://{addr}/api/chat/ws").into_client_request()?;
        request.headers_mut().insert("cookie", cookie.parse()?);
        let (mut socket, _) =
            tokio_tungstenite::connect_async_with_config(request, None, true).await?;
        send(&mut socket, json!({"type": "hello", "version": 1})).await?;
        until(&mut socket, |e| e["type"] == "ready").await?;
        sockets.push(socket);
    }
    let (mut sender, mut receiver) = (sockets.remove(0), sockets.remove(0));

    let mut samples = Vec::with_capacity(rounds);
    for i in 0..rounds {
        let id = Uuid::new_v4().to_string();
        let frame = json!({"type": "send", "id": id, "channel_id": channel.id, "text": format!("round {i}")});
        let started = Instant::now();
        send(&mut sender, frame).await?;
        until(&mut receiver, |e| {
            e["type"] == "message" && e["message"]["id"] == id
        })
        .await?;
        samples.push(started.elapsed());
        until(&mut sender, |e| e["type"] == "ack" && e["id"] == id).await?;
    }
    Ok(samples)
}

async fn send(socket: &mut Socket, event: Value) -> Result<(), Failure> {
    socket.send(Message::text(event.to_string())).await?;
    Ok(())
}

/// Reads events until one matches (10 s at most).
async fn until(socket: &mut Socket, wanted: impl Fn(&Value) -> bool) -> Result<Value, Failure> {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await?
            .ok_or("socket closed")??;
        if let Message::Text(text) = frame {
            let event: Value = serde_json::from_str(&text)?;
            if wanted(&event) {
                return Ok(event);
            }
        }
    }
}
