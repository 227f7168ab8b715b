//! The chat's lifecycle: one cancellation token and one task tracker for everything it runs
//! (the message store's writers, the bus listener and its side task, the presence keeper, the
//! limits' sweeper, every WebSocket task), so a host can stop it and wait for it. axum does not
//! wait for upgraded sockets at shutdown (axum #3003): this does. Uses nothing else of ours.

use std::future::Future;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::task_tracker::TrackedFuture;
use tokio_util::task::TaskTracker;

/// Cheap to clone; every clone names the same token and tracker.
#[derive(Clone, Default)]
pub struct Lifecycle {
    stop: CancellationToken,
    tasks: TaskTracker,
}

impl Lifecycle {
    /// Runs a task that watches [`Lifecycle::stopped`] itself and ends after finishing what it
    /// holds (the writers commit and answer every send already queued).
    pub fn spawn<F>(&self, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.tasks.spawn(task);
    }

    /// Runs a task that holds nothing worth finishing (it listens, or keeps state the database
    /// has): dropped at its next `.await` once shutdown begins.
    pub fn spawn_until_stopped<F>(&self, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let stop = self.stop.clone();
        self.tasks.spawn(async move {
            tokio::select! {
                () = task => {}
                () = stop.cancelled() => {}
            }
        });
    }

    /// Counts a future someone else drives (an upgraded socket, which axum spawns).
    pub fn track<F: Future>(&self, future: F) -> TrackedFuture<F> {
        self.tasks.track_future(future)
    }

    /// Begins the shutdown: every task and socket sees [`Lifecycle::stopped`] complete.
    pub fn stop(&self) {
        self.stop.cancel();
    }

    pub fn is_stopping(&self) -> bool {
        self.stop.is_cancelled()
    }

    /// Completes once shutdown has begun.
    pub async fn stopped(&self) {
        self.stop.cancelled().await;
    }

    /// Stops, then waits up to `within` for every task; false when some were still running.
    pub async fn finish(&self, within: Duration) -> bool {
        self.stop();
        self.tasks.close();
        tokio::time::timeout(within, self.tasks.wait())
            .await
            .is_ok()
    }
}
