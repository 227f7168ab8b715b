//! Peak persisted throughput, closed loop: every connection keeps a fixed number of sends in
//! flight and sends again as each is acknowledged (acknowledged = committed), spread over many
//! channels. The rate the server sustains is read twice: from the acks, and from the
//! `messages` table itself.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use sqlx::PgPool;

use crate::client::{lock, Live, Recorder};
use crate::fixture::Fixture;
use crate::process::Served;
use crate::stats::{round3, Summary};
use crate::Failure;

const WARM_UP: Duration = Duration::from_secs(2);
const DRAIN: Duration = Duration::from_secs(3);

#[derive(Debug, Clone, Serialize)]
pub struct Throughput {
    pub server: &'static str,
    pub sockets: usize,
    pub channels: usize,
    pub in_flight_per_socket: usize,
    pub window_s: f64,
    pub acked_per_s: f64,
    /// Rows that reached the `messages` table per second (the product only).
    pub persisted_per_s: Option<f64>,
    pub delivered_copies_per_s: f64,
    pub errors: u64,
    pub closed_sockets: u64,
    /// Server CPU used per second of the window (2.0 = both cores).
    pub server_cpu_cores: f64,
    pub send_to_ack: Summary,
    pub send_to_receive: Summary,
}

pub async fn closed_loop(
    fixture: &Fixture,
    sockets: &[Live],
    recorder: &Arc<Recorder>,
    served: &Served,
    pool: Option<&PgPool>,
    in_flight: usize,
    window: Duration,
) -> Result<Throughput, Failure> {
    recorder.closed_loop.store(true, Ordering::Relaxed);
    for live in sockets {
        let mine = &fixture.channels_of[live.user];
        for k in 0..in_flight.min(mine.len() * in_flight) {
            live.send(recorder, fixture.channels[mine[k % mine.len()]].id)?;
        }
    }
    tokio::time::sleep(WARM_UP).await;
    recorder.open_window(window);
    let rows_before = match pool {
        Some(pool) => Some(count_messages(pool).await?),
        None => None,
    };
    let cpu_before = served.cpu_time()?;
    tokio::time::sleep(window).await;
    let cpu = served.cpu_time()? - cpu_before;
    let rows_after = match pool {
        Some(pool) => Some(count_messages(pool).await?),
        None => None,
    };
    recorder.closed_loop.store(false, Ordering::Relaxed);
    tokio::time::sleep(DRAIN).await;
    let seconds = window.as_secs_f64();
    Ok(Throughput {
        server: served.name,
        sockets: sockets.len(),
        channels: fixture.channels.len(),
        in_flight_per_socket: in_flight,
        window_s: seconds,
        acked_per_s: round3(recorder.acks.load(Ordering::Relaxed) as f64 / seconds),
        persisted_per_s: rows_before
            .zip(rows_after)
            .map(|(before, after)| round3((after - before) as f64 / seconds)),
        delivered_copies_per_s: round3(recorder.copies.load(Ordering::Relaxed) as f64 / seconds),
        errors: recorder.errors.load(Ordering::Relaxed),
        closed_sockets: recorder.closed.load(Ordering::Relaxed),
        server_cpu_cores: round3(cpu.as_secs_f64() / seconds),
        send_to_ack: lock(&recorder.acked).summary(),
        send_to_receive: lock(&recorder.delivered).summary(),
    })
}

async fn count_messages(pool: &PgPool) -> Result<i64, Failure> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM chat_messages")
        .fetch_one(pool)
        .await?)
}
