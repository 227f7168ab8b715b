//! Open-loop sending at a set total rate: the dispatcher picks a random user and one of their
//! channels on a 1 ms clock and queues a stamped `send`; every member's reader records the
//! delivered copy. Open loop (the schedule never waits for answers) so that a slow server shows
//! up as latency, not as a politely lower rate. Also the sweep for the highest rate whose p99
//! stays within a bound.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::client::{lock, Live, Recorder, Rng};
use crate::fixture::Fixture;
use crate::stats::{round3, Summary};
use crate::Failure;

/// Time to let queues and caches settle before the window opens.
const WARM_UP: Duration = Duration::from_secs(1);
/// Time after the window for the last copies to arrive.
const DRAIN: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Serialize)]
pub struct RateResult {
    pub offered_per_s: f64,
    pub window_s: f64,
    pub sent: u64,
    pub acked_per_s: f64,
    pub expected_copies: u64,
    pub delivered_copies: u64,
    pub missing_copies: u64,
    pub errors: u64,
    pub closed_sockets: u64,
    pub send_to_receive: Summary,
    pub send_to_ack: Summary,
}

impl RateResult {
    /// Every copy arrived and nothing failed.
    pub fn clean(&self) -> bool {
        self.missing_copies == 0 && self.errors == 0 && self.closed_sockets == 0
    }
}

/// Sends at `rate` messages per second (total) for a warm-up, then `window`, and waits for the
/// stragglers.
pub async fn drive(
    fixture: &Fixture,
    sockets: &[Live],
    recorder: &Arc<Recorder>,
    rate: f64,
    window: Duration,
) -> Result<RateResult, Failure> {
    let mut rng = Rng::new(0x5eed ^ rate as u64);
    let senders: Vec<&Live> = sockets
        .iter()
        .filter(|live| !fixture.channels_of[live.user].is_empty())
        .collect();
    if senders.is_empty() {
        return Err("nobody has a channel to send to".into());
    }
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let started = Instant::now();
    let mut window_opened = None;
    let (mut sent, mut expected) = (0u64, 0u64);
    loop {
        tick.tick().await;
        let elapsed = started.elapsed();
        if window_opened.is_none() && elapsed >= WARM_UP {
            window_opened = Some(recorder.open_window(window));
        }
        if elapsed >= WARM_UP + window {
            break;
        }
        let due = (elapsed.as_secs_f64() * rate) as u64;
        while sent < due {
            let live = senders[rng.below(senders.len())];
            let mine = &fixture.channels_of[live.user];
            let channel = &fixture.channels[mine[rng.below(mine.len())]];
            live.send(recorder, channel.id)?;
            if window_opened.is_some_and(|(_, end)| recorder.now_us() < end) {
                expected += channel.members.len() as u64 - 1;
            }
            sent += 1;
        }
    }
    tokio::time::sleep(DRAIN).await;
    let delivered = lock(&recorder.delivered).summary();
    let acked = lock(&recorder.acked).summary();
    let copies = recorder.copies.load(Ordering::Relaxed);
    let acks = recorder.acks.load(Ordering::Relaxed);
    Ok(RateResult {
        offered_per_s: rate,
        window_s: window.as_secs_f64(),
        sent,
        acked_per_s: round3(acks as f64 / window.as_secs_f64()),
        expected_copies: expected,
        delivered_copies: copies,
        missing_copies: expected.saturating_sub(copies),
        errors: recorder.errors.load(Ordering::Relaxed),
        closed_sockets: recorder.closed.load(Ordering::Relaxed),
        send_to_receive: delivered,
        send_to_ack: acked,
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct Sweep {
    pub bound_p99_ms: f64,
    /// The highest rate tried whose p99 stayed within the bound with nothing lost.
    pub highest_ok_per_s: Option<f64>,
    pub steps: Vec<RateResult>,
}

/// Finds the highest rate whose p99 stays within `bound_ms` with nothing lost: doubles the
/// rate from `start` while it holds (up to `max_rate`), or halves it while it does not (down to
/// `start / 16`), then tries once halfway between the last good and the first bad rate.
pub async fn sweep(
    fixture: &Fixture,
    sockets: &[Live],
    recorder: &Arc<Recorder>,
    start: f64,
    max_rate: f64,
    bound_ms: f64,
    window: Duration,
) -> Result<Sweep, Failure> {
    let mut steps = Vec::new();
    let (mut good, mut bad) = (None::<f64>, None::<f64>);
    let mut rate = start;
    while rate <= max_rate && rate >= start / 16.0 {
        let result = step(fixture, sockets, recorder, rate, window, bound_ms).await?;
        let ok = result.1;
        steps.push(result.0);
        if ok {
            good = Some(rate);
            if bad.is_some() {
                break;
            }
            rate *= 2.0;
        } else {
            bad = Some(rate);
            if good.is_some() {
                break;
            }
            rate /= 2.0;
        }
    }
    if let (Some(low), Some(high)) = (good, bad) {
        let middle = ((low + high) / 2.0).round();
        let (result, ok) = step(fixture, sockets, recorder, middle, window, bound_ms).await?;
        if ok && middle > low {
            good = Some(middle);
        }
        steps.push(result);
    }
    Ok(Sweep {
        bound_p99_ms: bound_ms,
        highest_ok_per_s: good,
        steps,
    })
}

/// One rate of the sweep: its result, and whether it kept the bound.
async fn step(
    fixture: &Fixture,
    sockets: &[Live],
    recorder: &Arc<Recorder>,
    rate: f64,
    window: Duration,
    bound_ms: f64,
) -> Result<(RateResult, bool), Failure> {
    let result = drive(fixture, sockets, recorder, rate, window).await?;
    let ok = result.clean() && result.send_to_receive.p99_ms <= bound_ms;
    eprintln!(
        "    {rate:>7.0} msg/s: p99 {:.1} ms, missing {}, errors {}",
        result.send_to_receive.p99_ms, result.missing_copies, result.errors
    );
    Ok((result, ok))
}
