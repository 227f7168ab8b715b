//! Concurrent active users with a realistic mix of actions (Mattermost's load model): per
//! message sent, about 6.5 channel switches (newest page + read mark), 2 scrolls up (an older
//! page), 1 unread check, 1 "open DM" (create-or-get the 1:1), 0.3 read updates and 0.15
//! reconnects (close, connect, `hello` → `ready`, which also moves presence), plus a typing
//! event before each send. Each user holds a WebSocket and a keep-alive HTTP connection, as a
//! browser tab does, and acts at random moments (one message a minute on average). Every
//! action is timed from the client; the scenario passes when the p99 of every action is within
//! the bound.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hyper::Method;
use parley::model::ClientEvent;
use serde::Serialize;
use serde_json::json;

use crate::client::{self, lock, Live, Recorder, Rng};
use crate::fixture::Fixture;
use crate::http::Http;
use crate::stats::{Samples, Summary};
use crate::Failure;

/// Relative weights per message sent (Mattermost's model).
const MIX: [(Action, f64); 7] = [
    (Action::Send, 1.0),
    (Action::SwitchChannel, 6.5),
    (Action::ScrollUp, 2.0),
    (Action::UnreadCheck, 1.0),
    (Action::OpenDm, 1.0),
    (Action::ReadUpdate, 0.3),
    (Action::Reconnect, 0.15),
];
/// One message per user per minute: with the mix, an action every ~4.6 s per user.
const SECONDS_PER_SEND: f64 = 60.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
enum Action {
    Send,
    SwitchChannel,
    ScrollUp,
    UnreadCheck,
    OpenDm,
    ReadUpdate,
    Reconnect,
}

impl Action {
    fn pick(rng: &mut Rng) -> Self {
        let total: f64 = MIX.iter().map(|(_, w)| w).sum();
        let mut point = rng.below(1_000_000) as f64 / 1_000_000.0 * total;
        for (action, weight) in MIX {
            if point < weight {
                return action;
            }
            point -= weight;
        }
        Action::Send
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ActionMix {
    pub users: usize,
    pub window_s: f64,
    pub actions_per_s: f64,
    pub errors: u64,
    /// p99 of the slowest action.
    pub worst_p99_ms: f64,
    pub per_action: BTreeMap<String, Summary>,
}

type Timings = Arc<Mutex<BTreeMap<Action, Samples>>>;

/// Runs the mix for `window` with every user of `fixture` (whose sockets are `sockets`).
pub async fn run(
    addr: std::net::SocketAddr,
    fixture: &Arc<Fixture>,
    sockets: Vec<Live>,
    recorder: &Arc<Recorder>,
    window: Duration,
) -> Result<ActionMix, Failure> {
    let timings: Timings = Arc::default();
    let errors = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let running = Arc::new(AtomicBool::new(true));
    recorder.open_window(window + Duration::from_secs(1));
    let mut tasks = Vec::new();
    let per_user_gap = SECONDS_PER_SEND / MIX.iter().map(|(_, w)| w).sum::<f64>();
    for live in sockets {
        let http = Http::connect(addr, Some(&fixture.users[live.user].token)).await?;
        let (fixture, recorder, timings, errors, running) = (
            fixture.clone(),
            recorder.clone(),
            timings.clone(),
            errors.clone(),
            running.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let seed = 0x9e37_79b9 + live.user as u64 * 7919;
            let mut user = User {
                live,
                http,
                rng: Rng::new(seed),
            };
            // Spread the first actions over one gap so the users do not act in lockstep.
            let first = user.rng.below(1000) as f64 / 1000.0 * per_user_gap;
            tokio::time::sleep(Duration::from_secs_f64(first)).await;
            while running.load(Ordering::Relaxed) {
                let action = Action::pick(&mut user.rng);
                match user.act(action, addr, &fixture, &recorder).await {
                    Ok(Some(elapsed)) => {
                        lock(&timings).entry(action).or_default().push(elapsed);
                    }
                    Ok(None) => {}
                    Err(_) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                // Exponential gaps (a Poisson process per user), capped.
                let uniform = (user.rng.below(1_000_000) as f64 + 1.0) / 1_000_001.0;
                let gap = (-uniform.ln() * per_user_gap).min(per_user_gap * 5.0);
                tokio::time::sleep(Duration::from_secs_f64(gap)).await;
            }
        }));
    }
    let started = Instant::now();
    tokio::time::sleep(window).await;
    running.store(false, Ordering::Relaxed);
    for task in tasks {
        task.abort();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut timings = lock(&timings).clone();
    timings.insert(Action::Send, lock(&recorder.acked).clone());
    let per_action: BTreeMap<String, Summary> = timings
        .iter()
        .map(|(action, samples)| {
            let name = serde_json::to_value(action)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            (name, samples.summary())
        })
        .collect();
    let count: usize = per_action.values().map(|s| s.count).sum();
    Ok(ActionMix {
        users: fixture.users.len(),
        window_s: window.as_secs_f64(),
        actions_per_s: (count as f64 / elapsed * 10.0).round() / 10.0,
        errors: errors.load(Ordering::Relaxed)
            + recorder.errors.load(Ordering::Relaxed)
            + recorder.closed.load(Ordering::Relaxed),
        worst_p99_ms: per_action.values().map(|s| s.p99_ms).fold(0.0, f64::max),
        per_action,
    })
}

struct User {
    live: Live,
    http: Http,
    rng: Rng,
}

impl User {
    /// Marks a channel read (as opening it does); the answer's status.
    async fn mark_read(&mut self, channel: uuid::Uuid) -> Result<u16, Failure> {
        let read = self
            .http
            .request(
                Method::POST,
                &format!("/api/chat/channels/{channel}/read"),
                Some("{}".to_owned()),
                false,
            )
            .await?;
        Ok(read.status)
    }

    /// Performs one action; its duration, or `None` when the client cannot time it itself
    /// (a send is timed by its ack, on the socket's reader).
    async fn act(
        &mut self,
        action: Action,
        addr: std::net::SocketAddr,
        fixture: &Fixture,
        recorder: &Arc<Recorder>,
    ) -> Result<Option<Duration>, Failure> {
        let me = self.live.user;
        let mine = &fixture.channels_of[me];
        let channel = fixture.channels[mine[self.rng.below(mine.len())]].id;
        let started = Instant::now();
        let expect = |status: u16, wanted: &[u16]| {
            if wanted.contains(&status) {
                Ok(())
            } else {
                Err::<(), Failure>(format!("{action:?} answered {status}").into())
            }
        };
        match action {
            Action::Send => {
                self.live.frame(&ClientEvent::Typing {
                    channel_id: channel,
                })?;
                self.live.send(recorder, channel)?;
                return Ok(None);
            }
            Action::SwitchChannel => {
                let page = self
                    .http
                    .get(&format!("/api/chat/channels/{channel}/messages"), false)
                    .await?;
                expect(page.status, &[200])?;
                expect(self.mark_read(channel).await?, &[200])?;
            }
            Action::ScrollUp => {
                let before = 1 + self.rng.below(50);
                let page = self
                    .http
                    .get(
                        &format!("/api/chat/channels/{channel}/messages?before={before}"),
                        false,
                    )
                    .await?;
                expect(page.status, &[200])?;
            }
            Action::UnreadCheck => {
                let unread = self.http.get("/api/chat/unread", false).await?;
                expect(unread.status, &[200])?;
            }
            Action::OpenDm => {
                let peer = fixture.users[(me + 1) % fixture.users.len()].id;
                let body = json!({"members": [peer]}).to_string();
                let open = self
                    .http
                    .request(Method::POST, "/api/chat/channels", Some(body), false)
                    .await?;
                expect(open.status, &[200, 201])?;
            }
            Action::ReadUpdate => {
                expect(self.mark_read(channel).await?, &[200])?;
            }
            Action::Reconnect => {
                let channels = mine.iter().map(|&c| fixture.channels[c].id).collect();
                let user = &fixture.users[me];
                // The new socket replaces the old one; dropping the old closes it.
                self.live = client::open(addr, user, me, channels, recorder.clone()).await?;
            }
        }
        Ok(Some(started.elapsed()))
    }
}
