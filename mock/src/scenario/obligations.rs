//! Obligations summaries per user: how they start, how they change, and their version.
//!
//! Owns the [`Book`] of summaries and the rules of a change: a user seen for the first time
//! gets a plausible starting summary; a bump changes the counts and the estimate; a patch sets
//! given fields; every change moves `updatedAt` forward (at least one millisecond past the last
//! one, even within the same millisecond), so `updatedAt` works as the summary's version. Pure
//! data: no pushing, no HTTP, the time is a parameter.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::merge_patch;
use crate::payloads::{ObligationCounts, ObligationsSummary};
use crate::stamp::{date_from_unix_millis, iso8601_from_unix_millis};

const DAY_MS: i64 = 86_400_000;

/// Every user's summary.
#[derive(Debug, Default)]
pub struct Book {
    users: BTreeMap<String, Entry>,
}

#[derive(Debug)]
struct Entry {
    summary: ObligationsSummary,
    /// `updatedAt` as milliseconds since the epoch.
    updated_ms: i64,
    /// How many times it was bumped (drives the made-up changes).
    bumps: u32,
}

impl Book {
    /// The user's summary, made up on first sight at time `now` (ms since the epoch).
    pub fn get_or_create(&mut self, user_id: &str, now: i64) -> ObligationsSummary {
        self.entry(user_id, now).summary.clone()
    }

    /// A plausible change: one more open obligation every time, one more overdue every third,
    /// the estimate up by 250, the next due date a day nearer (or a fresh one two weeks out).
    pub fn bump(&mut self, user_id: &str, now: i64) -> ObligationsSummary {
        let entry = self.entry(user_id, now);
        entry.bumps += 1;
        let counts = &mut entry.summary.obligations_summary;
        counts.open += 1;
        if entry.bumps.is_multiple_of(3) {
            counts.overdue += 1;
        }
        counts.due_this_week = counts.open.min(counts.due_this_week + 1);
        entry.summary.total_estimate += 250.0;
        entry.summary.next_due_date =
            date_from_unix_millis(now + (14 - i64::from(entry.bumps % 14)) * DAY_MS);
        touch(entry, now);
        entry.summary.clone()
    }

    /// Sets the fields in `patch` (`obligationsSummary` counts, `nextDueDate`,
    /// `totalEstimate`); `userId` and `updatedAt` are the hub's to set.
    pub fn patch(
        &mut self,
        user_id: &str,
        patch: &Value,
        now: i64,
    ) -> Result<ObligationsSummary, String> {
        let entry = self.entry(user_id, now);
        entry.summary = merge_patch(&entry.summary, patch, &["userId", "updatedAt"])?;
        touch(entry, now);
        Ok(entry.summary.clone())
    }

    /// The users with a summary.
    pub fn users(&self) -> BTreeSet<String> {
        self.users.keys().cloned().collect()
    }

    fn entry(&mut self, user_id: &str, now: i64) -> &mut Entry {
        self.users
            .entry(user_id.to_string())
            .or_insert_with(|| Entry {
                summary: starting_summary(user_id, now),
                updated_ms: now,
                bumps: 0,
            })
    }
}

/// Moves `updatedAt` to `now`, or one millisecond past its last value if the clock has not
/// moved on (or went back).
fn touch(entry: &mut Entry, now: i64) {
    entry.updated_ms = now.max(entry.updated_ms + 1);
    entry.summary.updated_at = iso8601_from_unix_millis(entry.updated_ms);
}

/// A first summary that differs a little from user to user but is the same for a user every
/// time the hub starts.
fn starting_summary(user_id: &str, now: i64) -> ObligationsSummary {
    let seed = user_id
        .bytes()
        .fold(0u32, |sum, byte| sum.wrapping_add(u32::from(byte)));
    let open = 2 + seed % 5;
    ObligationsSummary {
        user_id: user_id.to_string(),
        obligations_summary: ObligationCounts {
            open,
            overdue: seed % 2,
            due_this_week: 1 + seed % open,
        },
        next_due_date: date_from_unix_millis(now + 7 * DAY_MS),
        total_estimate: f64::from(1000 + (seed % 40) * 250),
        updated_at: iso8601_from_unix_millis(now),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_772_357_400_000; // 2026-03-01T09:30:00.000Z

    #[test]
    fn a_new_user_gets_a_stable_starting_summary() {
        let mut book = Book::default();
        let first = book.get_or_create("u1", NOW);
        assert_eq!(first.user_id, "u1");
        assert_eq!(first.updated_at, "2026-03-01T09:30:00.000Z");
        assert_eq!(first.next_due_date, "2026-03-08");
        assert_eq!(Book::default().get_or_create("u1", NOW), first);
    }

    #[test]
    fn every_change_moves_updated_at_forward_even_within_a_millisecond() {
        let mut book = Book::default();
        book.get_or_create("u1", NOW);
        let bumped = book.bump("u1", NOW);
        let patched = book
            .patch("u1", &json!({ "totalEstimate": 5.5 }), NOW - 10)
            .unwrap();
        assert_eq!(bumped.updated_at, "2026-03-01T09:30:00.001Z");
        assert_eq!(patched.updated_at, "2026-03-01T09:30:00.002Z");
        assert_eq!(patched.total_estimate, 5.5);
    }

    #[test]
    fn a_bump_changes_the_counts_and_the_estimate() {
        let mut book = Book::default();
        let before = book.get_or_create("u1", NOW);
        let after = book.bump("u1", NOW + 1000);
        assert_eq!(
            after.obligations_summary.open,
            before.obligations_summary.open + 1
        );
        assert_eq!(after.total_estimate, before.total_estimate + 250.0);
    }

    #[test]
    fn a_patch_may_not_set_the_user_or_the_version() {
        let mut book = Book::default();
        assert!(book.patch("u1", &json!({ "userId": "u2" }), NOW).is_err());
        assert!(book
            .patch(
                "u1",
                &json!({ "updatedAt": "2020-01-01T00:00:00.000Z" }),
                NOW
            )
            .is_err());
        assert!(book
            .patch(
                "u1",
                &json!({ "obligationsSummary": { "open": "many" } }),
                NOW
            )
            .is_err());
    }
}
