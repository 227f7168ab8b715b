//! Latency samples and their summary (p50, p90, p99, p99.9, max). Every sample is kept (as
//! microseconds): runs are bounded, so exact percentiles cost a few megabytes at most.

use std::time::Duration;

use serde::Serialize;

#[derive(Default, Clone)]
pub struct Samples(Vec<u32>);

impl Samples {
    pub fn push(&mut self, elapsed: Duration) {
        self.0
            .push(u32::try_from(elapsed.as_micros()).unwrap_or(u32::MAX));
    }

    /// Adds every sample of `other`.
    pub fn extend(&mut self, other: &Samples) {
        self.0.extend_from_slice(&other.0);
    }

    pub fn summary(&self) -> Summary {
        let mut sorted = self.0.clone();
        sorted.sort_unstable();
        let at = |q: f64| {
            let last = sorted.len().saturating_sub(1);
            let index = ((last as f64) * q).round() as usize;
            sorted
                .get(index)
                .map_or(f64::NAN, |&us| round3(f64::from(us) / 1000.0))
        };
        Summary {
            count: sorted.len(),
            p50_ms: at(0.5),
            p90_ms: at(0.9),
            p99_ms: at(0.99),
            p999_ms: at(0.999),
            max_ms: at(1.0),
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Summary {
    pub count: usize,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
}

/// Three decimals are plenty for milliseconds and ratios.
pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
