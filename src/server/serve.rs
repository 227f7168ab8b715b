//! The HTTP server under the router, for the binary and the tests alike. `axum::serve` sets no
//! timer, so hyper's header-read timeout is off there and a half-sent request holds its
//! connection forever (slowloris); this one serves HTTP/1.1 through hyper with a timer, a
//! header-read timeout, TCP_NODELAY, the client address for the limits, a cap on connections
//! held at once, and a graceful shutdown that lets requests in flight finish.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tower::ServiceExt;

use super::state::ServeSettings;

/// How long requests in flight may take to finish once shutdown begins.
const DRAIN_WITHIN: Duration = Duration::from_secs(10);

/// Serves `router` on `listener` until `shutdown` completes, then drains.
///
/// A connection counts against `max_connections` until it closes or becomes a WebSocket
/// (WebSockets have caps of their own, per user and per address). Beyond the cap a new
/// connection is closed at once rather than queued: a flood of idle connections cannot hold
/// the descriptors everyone else needs.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    settings: &ServeSettings,
    shutdown: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(settings.max_connections));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(settings.header_read_timeout)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of descriptors, or a connection reset before accept: wait a little
                    // rather than spin.
                    tracing::warn!(%error, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "connection refused: too many connections");
            drop(stream);
            continue;
        };
        // Chat frames are small and latency-bound: send them at once (no Nagle delay).
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY");
        }
        let service = router
            .clone()
            .map_request(move |mut request: Request<Incoming>| {
                request
                    .extensions_mut()
                    .insert(ConnectInfo::<SocketAddr>(peer));
                request
            });
        let connection = builder
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
            .with_upgrades();
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            tokio::pin!(connection);
            let stopping = async move {
                // The guard `wait_for` returns is not `Send`: drop it before awaiting more.
                let _ = stop.wait_for(|stopping| *stopping).await.is_ok();
            };
            let finished = tokio::select! {
                finished = connection.as_mut() => finished,
                () = stopping => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(error) = finished {
                // Timeouts and clients that go away mid-request end up here; not our failure.
                tracing::debug!(%error, %peer, "connection ended with an error");
            }
            drop(slot);
        });
    }
    let _ = stop_tx.send(true);
    let everyone = u32::try_from(settings.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(DRAIN_WITHIN, slots.acquire_many(everyone))
        .await
        .is_err()
    {
        tracing::warn!("some connections were still open after the drain period");
    }
}
