//! Abuse limits, so that one account or one address cannot stall the service for everyone:
//! per-user token buckets (GCRA, from `governor`) for every kind of write and realtime frame,
//! per-address buckets for sign-ups, failure-only buckets for sign-ins (per address and per
//! address + username), caps on the WebSockets one user or one address may hold, and a bound
//! on concurrent password hashes. Over a limit, callers get `rate_limited` (429 with
//! `Retry-After`, a `nack` or an `error` event on the WebSocket). The client address comes from
//! [`client_address`] (the peer, or `X-Forwarded-For` behind a trusted proxy).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::sync::{Semaphore, SemaphorePermit};
use uuid::Uuid;

use super::error::ServerError;
use super::lifecycle::Lifecycle;

/// A sustained rate and the burst allowed on top of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub per_minute: u32,
    pub burst: u32,
}

impl Rate {
    pub const fn new(per_minute: u32, burst: u32) -> Self {
        Self { per_minute, burst }
    }

    fn quota(self) -> Quota {
        let per_minute = NonZeroU32::new(self.per_minute).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(self.burst).unwrap_or(NonZeroU32::MIN);
        Quota::per_minute(per_minute).allow_burst(burst)
    }
}

/// Every limit, as configured (README lists the variables and defaults).
#[derive(Debug, Clone)]
pub struct LimitSettings {
    /// Messages one user may send.
    pub sends: Rate,
    /// Channels one user may create.
    pub channels: Rate,
    /// Edits and deletions by one user.
    pub edits: Rate,
    /// Read marks one user may move.
    pub reads: Rate,
    /// Typing events one user may publish (each connection also passes at most one a second).
    pub typing: Rate,
    /// `hello` and `resume` frames (replays) of one user.
    pub replays: Rate,
    /// Message searches by one user (each is an index scan over their channels).
    pub searches: Rate,
    /// WebSocket upgrades of one user: each open and close changes presence (a write and a
    /// notice), so a reconnecting loop is bounded before it reaches the hub.
    pub connects: Rate,
    /// Failed sign-ins from one address.
    pub sign_in_failures: Rate,
    /// Failed sign-ins from one address for one username.
    pub sign_in_failures_per_name: Rate,
    /// Sign-ups from one address.
    pub sign_ups: Rate,
    /// Files one user may upload (each is up to `PARLEY_MAX_UPLOAD_BYTES` of work).
    pub uploads: Rate,
    /// WebSockets one user may hold on one instance.
    pub sockets_per_user: usize,
    /// WebSockets one address may hold on one instance.
    pub sockets_per_address: usize,
    /// Proxies whose `X-Forwarded-For` names the client (none by default).
    pub trusted_proxies: Vec<IpAddr>,
}

impl Default for LimitSettings {
    fn default() -> Self {
        Self {
            // 10 a second sustained, 100 at once (a pasted batch, an outbox after a tunnel).
            sends: Rate::new(600, 100),
            // Creating a channel notifies every member: one a second, 60 at once.
            channels: Rate::new(60, 60),
            edits: Rate::new(120, 30),
            // Opening conversations moves the read mark: generous, but bounded.
            reads: Rate::new(600, 120),
            // Clients send one every 2 s per conversation being typed in.
            typing: Rate::new(120, 20),
            // A reconnect is one `hello`; a few tabs reconnecting at once fit the burst.
            replays: Rate::new(30, 20),
            // Typing into the search box asks as the words change: a few a second at most.
            searches: Rate::new(120, 30),
            // A flaky network reconnects a few tabs now and then; a loop is refused with 429.
            connects: Rate::new(30, 20),
            // One guess a second sustained from one address, bursts of 60 (an office behind
            // one address mistyping); only failures count.
            sign_in_failures: Rate::new(60, 60),
            // One name from one address: 10 guesses, then one every 6 s.
            sign_in_failures_per_name: Rate::new(10, 10),
            sign_ups: Rate::new(10, 30),
            // Two a second sustained, a drop of 20 files at once.
            uploads: Rate::new(120, 20),
            sockets_per_user: 20,
            sockets_per_address: 500,
            trusted_proxies: Vec::new(),
        }
    }
}

/// The kinds of per-user action that are limited.
#[derive(Debug, Clone, Copy)]
pub enum Action {
    Send,
    CreateChannel,
    Edit,
    Read,
    Typing,
    Replay,
    Connect,
    Search,
    Upload,
}

pub struct Limits {
    settings: LimitSettings,
    sends: DefaultKeyedRateLimiter<Uuid>,
    channels: DefaultKeyedRateLimiter<Uuid>,
    edits: DefaultKeyedRateLimiter<Uuid>,
    reads: DefaultKeyedRateLimiter<Uuid>,
    typing: DefaultKeyedRateLimiter<Uuid>,
    replays: DefaultKeyedRateLimiter<Uuid>,
    searches: DefaultKeyedRateLimiter<Uuid>,
    connects: DefaultKeyedRateLimiter<Uuid>,
    uploads: DefaultKeyedRateLimiter<Uuid>,
    sign_ups: DefaultKeyedRateLimiter<IpAddr>,
    sign_in_failures: Failures<IpAddr>,
    sign_in_failures_per_name: Failures<(IpAddr, String)>,
    sockets: Mutex<HashMap<IpAddr, usize>>,
    /// Password hashes running at once: one per core, the rest wait their turn instead of
    /// filling the blocking pool (each hash is tens of milliseconds of CPU).
    hashes: Semaphore,
}

fn limited(not_until: governor::NotUntil<governor::clock::QuantaInstant>) -> ServerError {
    ServerError::RateLimited {
        retry_after: not_until.wait_time_from(DefaultClock::default().now()),
    }
}

impl Limits {
    pub fn new(settings: LimitSettings, lifecycle: &Lifecycle) -> Arc<Self> {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        let limits = Arc::new(Self {
            sends: RateLimiter::keyed(settings.sends.quota()),
            channels: RateLimiter::keyed(settings.channels.quota()),
            edits: RateLimiter::keyed(settings.edits.quota()),
            reads: RateLimiter::keyed(settings.reads.quota()),
            typing: RateLimiter::keyed(settings.typing.quota()),
            replays: RateLimiter::keyed(settings.replays.quota()),
            searches: RateLimiter::keyed(settings.searches.quota()),
            connects: RateLimiter::keyed(settings.connects.quota()),
            uploads: RateLimiter::keyed(settings.uploads.quota()),
            sign_ups: RateLimiter::keyed(settings.sign_ups.quota()),
            sign_in_failures: Failures::new(settings.sign_in_failures),
            sign_in_failures_per_name: Failures::new(settings.sign_in_failures_per_name),
            sockets: Mutex::new(HashMap::new()),
            hashes: Semaphore::new(cores),
            settings,
        });
        // Forget keys whose buckets are full again, so the maps stay small.
        let weak = Arc::downgrade(&limits);
        lifecycle.spawn_until_stopped(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                let Some(limits) = weak.upgrade() else { break };
                for users in [
                    &limits.sends,
                    &limits.channels,
                    &limits.edits,
                    &limits.reads,
                    &limits.typing,
                    &limits.replays,
                    &limits.searches,
                    &limits.connects,
                    &limits.uploads,
                ] {
                    users.retain_recent();
                }
                limits.sign_ups.retain_recent();
                limits.sign_in_failures.forget_idle();
                limits.sign_in_failures_per_name.forget_idle();
            }
        });
        limits
    }

    pub fn settings(&self) -> &LimitSettings {
        &self.settings
    }

    /// One more `action` by `user_id`, or how long to wait.
    pub fn check(&self, action: Action, user_id: Uuid) -> Result<(), ServerError> {
        let bucket = match action {
            Action::Send => &self.sends,
            Action::CreateChannel => &self.channels,
            Action::Edit => &self.edits,
            Action::Read => &self.reads,
            Action::Typing => &self.typing,
            Action::Replay => &self.replays,
            Action::Connect => &self.connects,
            Action::Search => &self.searches,
            Action::Upload => &self.uploads,
        };
        bucket.check_key(&user_id).map_err(limited)
    }

    /// One more message from `user_id`, or how long to wait.
    pub fn send(&self, user_id: Uuid) -> Result<(), ServerError> {
        self.check(Action::Send, user_id)
    }

    /// One more sign-up from `address`.
    pub fn sign_up(&self, address: IpAddr) -> Result<(), ServerError> {
        self.sign_ups.check_key(&address).map_err(limited)
    }

    /// Reserves a failed attempt for `address` signing in as `username`, before the password
    /// is checked: concurrent guesses each take one, so they cannot all pass the check before
    /// the first failure is counted. A successful sign-in gives it back
    /// ([`Limits::sign_in_succeeded`]): only failures count.
    pub fn may_sign_in(&self, address: IpAddr, username: &str) -> Result<(), ServerError> {
        self.sign_in_failures.reserve(address)?;
        let per_name = (address, username.to_owned());
        if let Err(limited) = self.sign_in_failures_per_name.reserve(per_name) {
            self.sign_in_failures.release(&address);
            return Err(limited);
        }
        Ok(())
    }

    /// The reserved attempt succeeded: it does not count.
    pub fn sign_in_succeeded(&self, address: IpAddr, username: &str) {
        self.sign_in_failures.release(&address);
        self.sign_in_failures_per_name
            .release(&(address, username.to_owned()));
    }

    /// Waits for a turn to hash a password.
    pub async fn hash_turn(&self) -> Result<SemaphorePermit<'_>, ServerError> {
        self.hashes
            .acquire()
            .await
            .map_err(|_| ServerError::Internal("hash semaphore closed".into()))
    }

    /// A WebSocket slot for `address`, held until the guard drops; `None` when the address
    /// holds as many as it may.
    pub fn socket_slot(self: &Arc<Self>, address: IpAddr) -> Option<SocketSlot> {
        let mut sockets = self.lock_sockets();
        let held = sockets.entry(address).or_default();
        if *held >= self.settings.sockets_per_address {
            return None;
        }
        *held += 1;
        Some(SocketSlot {
            limits: self.clone(),
            address,
        })
    }

    fn lock_sockets(&self) -> MutexGuard<'_, HashMap<IpAddr, usize>> {
        // Every change is one increment or decrement: a poisoned lock is still consistent.
        self.sockets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// One WebSocket counted against its address.
pub struct SocketSlot {
    limits: Arc<Limits>,
    address: IpAddr,
}

impl Drop for SocketSlot {
    fn drop(&mut self) {
        let mut sockets = self.limits.lock_sockets();
        if let Some(held) = sockets.get_mut(&self.address) {
            *held = held.saturating_sub(1);
            if *held == 0 {
                sockets.remove(&self.address);
            }
        }
    }
}

/// Failure counting with a leaky bucket per key: `governor` cannot ask whether a key has room
/// without taking from it, and sign-ins must count only the attempts that failed. Small and
/// ours: a level that drains at the sustained rate and refuses while it is at the burst.
struct Failures<K> {
    rate: Rate,
    levels: Mutex<HashMap<K, (f64, Instant)>>,
}

impl<K: std::hash::Hash + Eq + Clone> Failures<K> {
    fn new(rate: Rate) -> Self {
        Self {
            rate,
            levels: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<K, (f64, Instant)>> {
        // Every change replaces one entry: a poisoned lock is still consistent.
        self.levels
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn per_second(&self) -> f64 {
        f64::from(self.rate.per_minute.max(1)) / 60.0
    }

    fn drained(&self, level: f64, since: Instant, now: Instant) -> f64 {
        (level - now.duration_since(since).as_secs_f64() * self.per_second()).max(0.0)
    }

    /// Takes one from the key's room, or says how long to wait: check and take under one
    /// lock, so concurrent attempts cannot all pass.
    fn reserve(&self, key: K) -> Result<(), ServerError> {
        let now = Instant::now();
        let mut levels = self.lock();
        let level = levels
            .get(&key)
            .map_or(0.0, |&(level, since)| self.drained(level, since, now));
        let burst = f64::from(self.rate.burst.max(1));
        if level + 1.0 > burst {
            let wait = (level + 1.0 - burst) / self.per_second();
            return Err(ServerError::RateLimited {
                retry_after: Duration::from_secs_f64(wait),
            });
        }
        levels.insert(key, (level + 1.0, now));
        Ok(())
    }

    /// Gives back one taken by [`Failures::reserve`].
    fn release(&self, key: &K) {
        let now = Instant::now();
        let mut levels = self.lock();
        if let Some(entry) = levels.get_mut(key) {
            *entry = ((self.drained(entry.0, entry.1, now) - 1.0).max(0.0), now);
        }
    }

    fn forget_idle(&self) {
        let now = Instant::now();
        self.lock()
            .retain(|_, &mut (level, since)| self.drained(level, since, now) > 0.0);
    }
}

/// The client's address: the peer's, or, when the peer is a trusted proxy, the nearest
/// address in `X-Forwarded-For` that is not one of the trusted proxies. Requests with no
/// known peer (in-process tests) share the unspecified address.
pub fn client_address(
    settings: &LimitSettings,
    parts_peer: Option<IpAddr>,
    headers: &HeaderMap,
) -> IpAddr {
    let peer = parts_peer.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let trusted = |ip: &IpAddr| settings.trusted_proxies.contains(ip);
    if !trusted(&peer) {
        return peer;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    let mut nearest = peer;
    for hop in forwarded.iter().rev() {
        // `1.2.3.4`, `1.2.3.4:5678`, `::1` or `[::1]:5678`.
        let parsed = hop
            .parse::<IpAddr>()
            .or_else(|_| hop.parse::<SocketAddr>().map(|a| a.ip()))
            .or_else(|_| hop.trim_matches(['[', ']']).parse::<IpAddr>());
        match parsed {
            Ok(ip) if trusted(&ip) => nearest = ip,
            Ok(ip) => return ip,
            // A hop we cannot read: trust nothing beyond it.
            Err(_) => return nearest,
        }
    }
    nearest
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    }

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("6.6.6.6, 203.0.113.7, 10.0.0.2"),
        );
        let off = LimitSettings::default();
        assert_eq!(
            client_address(&off, Some(ip("10.0.0.1")), &headers),
            ip("10.0.0.1")
        );
        let on = LimitSettings {
            trusted_proxies: vec![ip("10.0.0.1"), ip("10.0.0.2")],
            ..LimitSettings::default()
        };
        // The client may put anything first; the nearest untrusted hop is the truth.
        assert_eq!(
            client_address(&on, Some(ip("10.0.0.1")), &headers),
            ip("203.0.113.7")
        );
        // Hops with ports and bracketed IPv6 are read too.
        let mut ported = HeaderMap::new();
        ported.insert(
            "x-forwarded-for",
            HeaderValue::from_static("[2001:db8::7]:443, 203.0.113.8:5678"),
        );
        assert_eq!(
            client_address(&on, Some(ip("10.0.0.1")), &ported),
            ip("203.0.113.8")
        );
        // A peer that is not a trusted proxy cannot speak for anyone else.
        assert_eq!(
            client_address(&on, Some(ip("198.51.100.1")), &headers),
            ip("198.51.100.1")
        );
    }

    #[test]
    fn failures_refuse_at_the_burst_and_drain() {
        let failures = Failures::new(Rate::new(60, 3));
        assert!(failures.reserve(1).is_ok());
        failures.release(&1);
        for _ in 0..3 {
            assert!(
                failures.reserve(1).is_ok(),
                "a success gave its attempt back"
            );
        }
        assert!(failures.reserve(1).is_err());
        assert!(failures.reserve(2).is_ok(), "other keys are not affected");
        // Pretend two seconds passed: two failures drained at one a second.
        {
            let mut levels = failures.lock();
            if let Some(entry) = levels.get_mut(&1) {
                entry.1 -= Duration::from_secs(2);
            }
        }
        assert!(failures.reserve(1).is_ok());
    }

    #[tokio::test]
    async fn hashes_run_at_most_one_per_core() {
        let limits = Limits::new(LimitSettings::default(), &Lifecycle::default());
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        let mut held = Vec::new();
        for _ in 0..cores {
            held.push(limits.hash_turn().await);
        }
        let waiting = tokio::time::timeout(Duration::from_millis(50), limits.hash_turn()).await;
        assert!(waiting.is_err(), "a hash beyond one per core waits");
        held.pop();
        assert!(
            tokio::time::timeout(Duration::from_secs(1), limits.hash_turn())
                .await
                .is_ok()
        );
    }
}
