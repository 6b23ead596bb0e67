//! Duplicate and stale update suppression for one event handler.
//!
//! The app names a key (what an update is about) and/or a version (how new it is). A repeat of
//! a key within the window is dropped; with a version, anything not newer than what was
//! already delivered for that key is dropped, so an update never goes backwards. The shell
//! computes keys and versions with the app's functions; this module only decides.
//!
//! # Memory bounds
//! Both tables are bounded whatever the keys are (a dispatch board deduping by job id sees an
//! endless stream of distinct keys):
//!
//! - **repeats**: at most [`DedupeWindow::max_entries`] keys (default 1 000), each forgotten
//!   after [`DedupeWindow::max_age`] (default 5 minutes);
//! - **versions**: at most [`DedupeWindow::max_versions`] keys (default 10 000), the least
//!   recently updated forgotten first, and each forgotten once it has not been updated for
//!   `max_age`.
//!
//! Forgetting a key's version means an update for it older than the window is delivered again
//! rather than dropped: the bound trades a rare late duplicate for memory that cannot grow.

use std::collections::VecDeque;
use std::time::Duration;

use super::key_table::KeyTable;
use super::time::Instant;

/// How long exact repeats and per-key versions are remembered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DedupeWindow {
    /// At most this many recent keys are remembered for exact repeats (at least 1).
    pub max_entries: usize,
    /// A key (repeat or version) is forgotten after this long without being seen, if set.
    pub max_age: Option<Duration>,
    /// At most this many keys' latest versions are remembered (at least 1).
    pub max_versions: usize,
}

impl DedupeWindow {
    /// Checks the window: counts above zero, and an age (when set) above zero, since a zero
    /// age forgets every key at once and dedupes nothing.
    pub fn validate(&self) -> Result<(), super::limits::ConfigError> {
        use super::limits::{check_size, ConfigError};
        check_size("dedupe.window.count", self.max_entries)?;
        check_size("dedupe.window.maxVersions", self.max_versions)?;
        if self.max_age.is_some_and(|age| age.is_zero()) {
            return Err(ConfigError::Zero { setting: "dedupe.window.ms" });
        }
        Ok(())
    }
}

/// Default of [`DedupeWindow::max_versions`].
pub const DEFAULT_MAX_VERSIONS: usize = 10_000;

impl Default for DedupeWindow {
    fn default() -> Self {
        DedupeWindow {
            max_entries: 1_000,
            max_age: Some(Duration::from_secs(5 * 60)),
            max_versions: DEFAULT_MAX_VERSIONS,
        }
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

/// A key's latest delivered version, and which entry of the update order is its newest.
#[derive(Debug, Clone, Copy)]
struct Seen {
    version: f64,
    /// The sequence number of the key's newest entry in `version_order`.
    seq: u64,
    at: Instant,
}

/// The dedupe state of one handler.
#[derive(Debug, Clone, Default)]
pub struct DedupeFilter {
    window: DedupeWindow,
    /// Keys delivered within the repeat window, oldest first; each key at most once.
    recent: VecDeque<(String, Instant)>,
    /// The keys of `recent`, for a constant-time repeat check.
    recent_keys: KeyTable<()>,
    versions: KeyTable<Seen>,
    /// Version updates oldest first, as (seq, key, at). An entry whose seq is no longer the
    /// key's newest is stale and skipped when it reaches the front; compaction keeps stale
    /// entries from piling up when the same keys are updated over and over.
    version_order: VecDeque<(u64, String, Instant)>,
    next_seq: u64,
    /// Updates dropped so far.
    pub dropped: u64,
}

impl DedupeFilter {
    /// A filter with this window for exact repeats and versions.
    pub fn new(window: DedupeWindow) -> Self {
        DedupeFilter { window, ..DedupeFilter::default() }
    }

    /// How many keys' versions are remembered now (bounded by the window).
    pub fn versions_len(&self) -> usize {
        self.versions.len()
    }

    /// How many keys are remembered for exact repeats now (bounded by the window).
    pub fn repeats_len(&self) -> usize {
        self.recent.len()
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
            self.evict_versions(now);
            if self.versions.get(key).is_some_and(|seen| version <= seen.version) {
                return Err(Dropped::Stale);
            }
            self.remember_version(now, key, version);
            return Ok(());
        }
        self.evict(now);
        if self.recent_keys.contains_key(key) {
            return Err(Dropped::Repeat);
        }
        self.recent.push_back((key.to_string(), now));
        self.recent_keys.insert(key, ());
        while self.recent.len() > self.window.max_entries.max(1) {
            self.pop_oldest_repeat();
        }
        Ok(())
    }

    fn remember_version(&mut self, now: Instant, key: &str, version: f64) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.versions.insert(key, Seen { version, seq, at: now });
        self.version_order.push_back((seq, key.to_string(), now));
        let limit = self.window.max_versions.max(1);
        while self.versions.len() > limit {
            if !self.pop_oldest_version() {
                break;
            }
        }
        // Each key has exactly one live entry; past twice the live count, rebuild the order.
        if self.version_order.len() > 2 * self.versions.len() + 16 {
            let mut live: Vec<(u64, String, Instant)> =
                self.versions.iter().map(|(key, seen)| (seen.seq, key.to_string(), seen.at)).collect();
            live.sort_unstable_by_key(|(seq, _, _)| *seq);
            self.version_order = live.into();
        }
    }

    /// Removes the front entry of the update order (and its key, if that entry is the key's
    /// newest). Returns false when the order is empty.
    fn pop_oldest_version(&mut self) -> bool {
        let Some((seq, key, _)) = self.version_order.pop_front() else { return false };
        if self.versions.get(&key).is_some_and(|seen| seen.seq == seq) {
            self.versions.remove(&key);
        }
        true
    }

    fn evict_versions(&mut self, now: Instant) {
        let Some(max_age) = self.window.max_age else { return };
        while self.version_order.front().is_some_and(|(_, _, at)| now.saturating_duration_since(*at) >= max_age) {
            self.pop_oldest_version();
        }
    }

    fn evict(&mut self, now: Instant) {
        let Some(max_age) = self.window.max_age else { return };
        while self.recent.front().is_some_and(|(_, at)| now.saturating_duration_since(*at) >= max_age) {
            self.pop_oldest_repeat();
        }
    }

    fn pop_oldest_repeat(&mut self) {
        if let Some((key, _)) = self.recent.pop_front() {
            self.recent_keys.remove(&key);
        }
    }
}
