//! Abuse limits (GCRA token buckets from `governor`): sends per user, sign-in attempts per
//! client address. Over the limit, callers get `rate_limited` (429 with `Retry-After`, or a
//! `nack` on the WebSocket). Typing events are throttled per connection in `realtime::ws`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use uuid::Uuid;

use super::error::ServerError;
use super::state::AppState;

/// A sustained rate and the burst allowed on top of it.
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    pub per_minute: u32,
    pub burst: u32,
}

impl Rate {
    fn quota(self) -> Quota {
        let per_minute = NonZeroU32::new(self.per_minute).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(self.burst).unwrap_or(NonZeroU32::MIN);
        Quota::per_minute(per_minute).allow_burst(burst)
    }
}

pub struct Limits {
    sends: DefaultKeyedRateLimiter<Uuid>,
    sign_ins: DefaultKeyedRateLimiter<IpAddr>,
}

impl Limits {
    pub fn new(sends: Rate, sign_ins: Rate) -> Arc<Self> {
        let limits = Arc::new(Self {
            sends: RateLimiter::keyed(sends.quota()),
            sign_ins: RateLimiter::keyed(sign_ins.quota()),
        });
        // Forget keys whose buckets are full again, so the maps stay small.
        let weak = Arc::downgrade(&limits);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                let Some(limits) = weak.upgrade() else { break };
                limits.sends.retain_recent();
                limits.sign_ins.retain_recent();
            }
        });
        limits
    }

    /// One more message from `user_id`, or how long to wait.
    pub fn send(&self, user_id: Uuid) -> Result<(), ServerError> {
        self.sends
            .check_key(&user_id)
            .map_err(|not_until| ServerError::RateLimited {
                retry_after: not_until.wait_time_from(DefaultClock::default().now()),
            })
    }

    fn sign_in(&self, address: IpAddr) -> Result<(), ServerError> {
        self.sign_ins
            .check_key(&address)
            .map_err(|not_until| ServerError::RateLimited {
                retry_after: not_until.wait_time_from(DefaultClock::default().now()),
            })
    }
}

/// Limits sign-in attempts (JSON API and server function) per client address. Requests whose
/// address is unknown (in-process tests) share one bucket.
pub async fn sign_in_attempts(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if path == "/api/auth/login" || path == "/api/fn/login" {
        let address = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        if let Err(limited) = state.limits.sign_in(address) {
            tracing::info!(%address, "sign-in attempts limited");
            return limited.into_response();
        }
    }
    next.run(request).await
}
