//! Idle signed-in WebSockets held by one server process: resident memory per connection, as
//! the growth of the server's RSS from before the first socket to after the last `ready`
//! (divided by the count). The clients spread over several 127.0.0.x source addresses to get
//! past the ~28k ephemeral ports of one address pair.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde::Serialize;

use crate::client::{connect, hello, Socket};
use crate::fixture::BenchUser;
use crate::process::Served;
use crate::stats::round3;
use crate::Failure;

/// Handshakes in flight at once (under the listen backlog of 1,024).
const CONCURRENCY: usize = 256;
/// Time for the server to finish the work the connections caused before RSS is read.
const SETTLE: Duration = Duration::from_secs(3);

#[derive(Debug, Clone, Serialize)]
pub struct Idle {
    pub server: &'static str,
    pub sockets: usize,
    pub connect_s: f64,
    pub rss_before_kib: u64,
    pub rss_after_kib: u64,
    pub bytes_per_socket: f64,
}

/// Opens a socket per user (hello → ready), reads the RSS, and returns the sockets' cost; the
/// sockets stay open until the returned value's caller drops `held`.
pub async fn hold(served: &Served, users: &[BenchUser]) -> Result<(Idle, Vec<Socket>), Failure> {
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_before = served.rss_kib()?;
    let started = Instant::now();
    let addr = served.addr;
    let opening = users.iter().enumerate().map(|(index, user)| async move {
        let mut socket = connect(addr, &user.token, index).await?;
        hello(&mut socket).await?;
        Ok::<_, Failure>(socket)
    });
    let held: Vec<Socket> = futures_util::stream::iter(opening)
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    let connect_s = started.elapsed().as_secs_f64();
    tokio::time::sleep(SETTLE).await;
    let rss_after = served.rss_kib()?;
    let idle = Idle {
        server: served.name,
        sockets: held.len(),
        connect_s: round3(connect_s),
        rss_before_kib: rss_before,
        rss_after_kib: rss_after,
        bytes_per_socket: round3(
            (rss_after.saturating_sub(rss_before) * 1024) as f64 / held.len().max(1) as f64,
        ),
    };
    Ok((idle, held))
}
