//! When to try again: the retry policy of automatic reconnect.
//!
//! A policy is one small trait: the context of the failure in, a delay (or "give up") out. The
//! official client's default waits 0, 2, 10 and 30 seconds and then gives up; [`DelaySchedule`]
//! is that default and its variations (own delays, jitter, keep trying with the last delay).

use std::time::Duration;

use super::error::HubError;
use super::limits::{ConfigError, MAX_TIMER};
use super::text::float;

/// What a policy knows when it is asked for the next delay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryContext {
    /// Retries already made in this reconnect episode (0 for the first).
    pub previous_retry_count: u32,
    /// Time since the connection was lost (or since the first start failed).
    pub elapsed: Duration,
    /// Why the last attempt (or the connection) failed.
    pub retry_reason: String,
    /// That failure as an error, when there is one, so the shell can hand the policy the same
    /// error (class, `errorType`, `statusCode`) the app sees elsewhere; `retry_reason` is its
    /// text. None for the resume of a stateful connection, whose reason is a transport text.
    pub retry_error: Option<HubError>,
}

/// Decides the delay before the next attempt; `None` gives up.
pub trait RetryPolicy {
    /// The delay before the next attempt, or `None` to stop retrying.
    fn next_retry_delay(&mut self, context: &RetryContext) -> Option<Duration>;
}

/// A fixed list of delays, optionally with jitter and a keep-trying mode.
#[derive(Debug, Clone)]
pub struct DelaySchedule {
    delays: Vec<Duration>,
    keep_trying: bool,
    jitter: f64,
    rng: XorShift,
}

/// One of the app's retry delays in ms: finite, not negative (zero is a valid delay: retry at
/// once) and at most [`MAX_TIMER`]. Fractions round up.
pub fn delay_from_millis(millis: f64) -> Result<Duration, ConfigError> {
    const SETTING: &str = "reconnect delays";
    if !millis.is_finite() || millis < 0.0 {
        return Err(ConfigError::NotADuration { setting: SETTING, value: float(millis) });
    }
    if millis > MAX_TIMER.as_millis() as f64 {
        return Err(ConfigError::TooLong { setting: SETTING, millis: millis as u128 });
    }
    Ok(Duration::from_millis(millis.ceil() as u64))
}

/// The official client's default delays: 0, 2, 10 and 30 seconds.
pub const DEFAULT_DELAYS_MS: [u64; 4] = [0, 2_000, 10_000, 30_000];

impl DelaySchedule {
    /// The official default: 0, 2, 10, 30 s, then give up.
    pub fn official_default() -> Self {
        DelaySchedule::from_millis(&DEFAULT_DELAYS_MS)
    }

    /// These delays in order, then give up.
    pub fn from_millis(delays: &[u64]) -> Self {
        DelaySchedule {
            delays: delays.iter().map(|ms| Duration::from_millis(*ms)).collect(),
            keep_trying: false,
            jitter: 0.0,
            rng: XorShift::new(1),
        }
    }

    /// After the last delay, keep retrying with the last delay forever.
    pub fn keep_trying(mut self, keep_trying: bool) -> Self {
        self.keep_trying = keep_trying;
        self
    }

    /// Spreads each delay uniformly within ±`ratio` of itself (clamped to 0..=1), so that many
    /// clients dropped at once do not come back at once. `seed` feeds the generator: the core
    /// has no randomness of its own.
    pub fn with_jitter(mut self, ratio: f64, seed: u64) -> Self {
        self.jitter = if ratio.is_finite() { ratio.clamp(0.0, 1.0) } else { 0.0 };
        self.rng = XorShift::new(seed);
        self
    }
}

impl RetryPolicy for DelaySchedule {
    fn next_retry_delay(&mut self, context: &RetryContext) -> Option<Duration> {
        let index = context.previous_retry_count as usize;
        let base = match self.delays.get(index) {
            Some(delay) => *delay,
            None if self.keep_trying => *self.delays.last()?,
            None => return None,
        };
        if self.jitter == 0.0 || base.is_zero() {
            return Some(base);
        }
        let spread = self.rng.next_unit() * 2.0 - 1.0; // uniform in [-1, 1)
        let factor = 1.0 + spread * self.jitter;
        // In whole nanoseconds by hand: `Duration::from_secs_f64`'s exact conversion (with its
        // overflow panic) was most of this function. `as u64` saturates where that would panic
        // (only a delay beyond u64 nanoseconds, far above MAX_TIMER); rounding the product may
        // differ from the exact conversion by a nanosecond, far below the ms timers it arms.
        Some(Duration::from_nanos((base.as_nanos() as f64 * factor.max(0.0)).round() as u64))
    }
}

/// A tiny deterministic generator (xorshift64*), enough for spreading delays.
#[derive(Debug, Clone)]
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> Self {
        // Zero is the one state xorshift never leaves.
        XorShift(if seed == 0 { 0x9E37_79B9_7F4A_7C15 } else { seed })
    }

    /// Uniform in [0, 1).
    fn next_unit(&mut self) -> f64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}
