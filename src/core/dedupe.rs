//! Duplicate and stale update suppression for one event handler.
//!
//! The app names a key (what an update is about) and/or a version (how new it is). A repeat of
//! a key within the window is dropped; with a version, anything not newer than what was
//! already delivered for that key is dropped, so an update never goes backwards. The shell
//! computes keys and versions with the app's functions; this module only decides.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use super::time::Instant;

/// How long exact repeats are remembered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DedupeWindow {
    /// At most this many recent keys are remembered.
    pub max_entries: usize,
    /// A key is forgotten after this long, if set.
    pub max_age: Option<Duration>,
}

impl Default for DedupeWindow {
    fn default() -> Self {
        DedupeWindow { max_entries: 1_000, max_age: Some(Duration::from_secs(5 * 60)) }
    }
}

/// Why an update was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dropped {
    /// The same key was delivered within the window.
    Repeat,
    /// A version at least as new was already delivered for the key.
    Stale,
}

/// The dedupe state of one handler.
#[derive(Debug, Clone, Default)]
pub struct DedupeFilter {
    window: DedupeWindow,
    recent: VecDeque<(String, Instant)>,
    versions: HashMap<String, f64>,
    /// Updates dropped so far.
    pub dropped: u64,
}

impl DedupeFilter {
    /// A filter with this window for exact repeats.
    pub fn new(window: DedupeWindow) -> Self {
        DedupeFilter { window, ..DedupeFilter::default() }
    }

    /// Decides whether an update with `key` and `version` is delivered. Without a version the
    /// key is an identity (an exact repeat is dropped); with a version the key names the thing
    /// being versioned. An update with neither is always delivered.
    pub fn admit(&mut self, now: Instant, key: Option<&str>, version: Option<f64>) -> Result<(), Dropped> {
        let verdict = self.judge(now, key, version);
        if verdict.is_err() {
            self.dropped += 1;
        }
        verdict
    }

    fn judge(&mut self, now: Instant, key: Option<&str>, version: Option<f64>) -> Result<(), Dropped> {
        let Some(key) = key else { return Ok(()) };
        if let Some(version) = version.filter(|v| v.is_finite()) {
            return match self.versions.get(key) {
                Some(seen) if version <= *seen => Err(Dropped::Stale),
                _ => {
                    self.versions.insert(key.to_string(), version);
                    Ok(())
                }
            };
        }
        self.evict(now);
        if self.recent.iter().any(|(seen, _)| seen == key) {
            return Err(Dropped::Repeat);
        }
        self.recent.push_back((key.to_string(), now));
        while self.recent.len() > self.window.max_entries.max(1) {
            self.recent.pop_front();
        }
        Ok(())
    }

    fn evict(&mut self, now: Instant) {
        let Some(max_age) = self.window.max_age else { return };
        while self.recent.front().is_some_and(|(_, at)| now.saturating_duration_since(*at) >= max_age) {
            self.recent.pop_front();
        }
    }
}
