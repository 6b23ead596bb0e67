//! Bounds of settings: what an interval, a timeout or a size may be, and the typed error when
//! it is not.
//!
//! Every duration the core arms a timer with must be positive (a zero keep-alive would re-arm
//! itself at `now` and fire forever) and at most [`MAX_TIMER`], the largest delay a browser's
//! `setTimeout` honours (2^31 - 1 ms, about 24.8 days; larger values fire at once). The shell
//! turns the app's numbers into durations with [`duration_from_millis`], so negative, NaN and
//! infinite values are rejected with the same error type, and checks a whole configuration
//! with [`HubConfig::validate`](super::hub::HubConfig::validate) when the connection is built.
//! This module owns no state.

use std::fmt;
use std::time::Duration;

use super::text::{decimal, float};

/// The largest timer delay: 2^31 - 1 ms, `setTimeout`'s limit.
pub const MAX_TIMER: Duration = Duration::from_millis(2_147_483_647);

/// The shortest delay the core ever arms a timer with, so that nothing re-arms itself at `now`.
pub const MIN_TIMER: Duration = Duration::from_millis(1);

/// A setting's value is out of its bounds. `setting` is the option's name as the app spells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// A number of milliseconds that is NaN, infinite or negative.
    NotADuration {
        /// The option.
        setting: &'static str,
        /// What the app gave, as text.
        value: String,
    },
    /// An interval or timeout of zero, which would fire without time passing.
    Zero {
        /// The option.
        setting: &'static str,
    },
    /// An interval or timeout longer than a timer can wait.
    TooLong {
        /// The option.
        setting: &'static str,
        /// What the app gave, in ms.
        millis: u128,
    },
    /// A size (bytes) of zero.
    ZeroSize {
        /// The option.
        setting: &'static str,
    },
}

impl ConfigError {
    /// The message (also what `Display` writes), built without `core::fmt`.
    pub fn message(&self) -> String {
        match self {
            ConfigError::NotADuration { setting, value } => {
                ["'", setting, "' must be a finite, non-negative number of milliseconds (got ", value, ")."].concat()
            }
            ConfigError::Zero { setting } => ["'", setting, "' must be greater than 0 milliseconds."].concat(),
            ConfigError::TooLong { setting, millis } => [
                "'",
                setting,
                "' must be at most ",
                &decimal(MAX_TIMER.as_millis()),
                " milliseconds (got ",
                &decimal(*millis),
                ").",
            ]
            .concat(),
            ConfigError::ZeroSize { setting } => ["'", setting, "' must be greater than 0."].concat(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for ConfigError {}

/// Checks that `value` is a usable interval or timeout: above zero and at most [`MAX_TIMER`].
pub fn check_duration(setting: &'static str, value: Duration) -> Result<Duration, ConfigError> {
    if value.is_zero() {
        return Err(ConfigError::Zero { setting });
    }
    if value > MAX_TIMER {
        return Err(ConfigError::TooLong { setting, millis: value.as_millis() });
    }
    Ok(value)
}

/// The app's number of milliseconds as an interval or timeout: finite, positive (fractions of
/// a millisecond round up, so 0.5 is 1 ms, not 0) and at most [`MAX_TIMER`].
pub fn duration_from_millis(setting: &'static str, millis: f64) -> Result<Duration, ConfigError> {
    if !millis.is_finite() || millis < 0.0 {
        return Err(ConfigError::NotADuration { setting, value: float(millis) });
    }
    if millis > MAX_TIMER.as_millis() as f64 {
        return Err(ConfigError::TooLong { setting, millis: millis as u128 });
    }
    check_duration(setting, Duration::from_millis(millis.ceil() as u64))
}

/// Checks that a size in bytes is above zero.
pub fn check_size(setting: &'static str, value: usize) -> Result<usize, ConfigError> {
    if value == 0 {
        return Err(ConfigError::ZeroSize { setting });
    }
    Ok(value)
}
