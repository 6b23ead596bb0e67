//! Identifiers and timestamps the hub hands out.
//!
//! Owns how connection ids, connection tokens, wall-clock timestamps and dates are made.
//! Nothing here knows about connections; callers decide what an id is used for.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A fresh identifier shaped like a UUID (`8-4-4-4-12` hex digits), distinct for every call.
///
/// The standard library's randomly keyed SipHash gives unpredictable bits without a random
/// number crate; a counter is mixed in so two calls can never collide. A mock needs ids that are
/// unique and not guessable by accident, not cryptographic strength.
pub fn new_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let keys = RandomState::new();
    let mut high = keys.build_hasher();
    high.write_u64(count);
    let mut low = keys.build_hasher();
    low.write_u64(count ^ u64::MAX);
    let hex = format!("{:016x}{:016x}", high.finish(), low.finish());
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// The current UTC time as ISO 8601 with milliseconds, e.g. `2026-03-01T09:30:00.125Z`:
/// the format JavaScript's `new Date(text)` and `Date.prototype.toISOString` agree on.
pub fn now_iso8601() -> String {
    iso8601_from_unix_millis(now_unix_millis())
}

/// Milliseconds since the Unix epoch, now.
pub fn now_unix_millis() -> i64 {
    // A clock before 1970 is a broken machine; report the epoch rather than fail a hub call.
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    since_epoch.as_millis() as i64
}

/// The UTC calendar date of a moment, `YYYY-MM-DD`.
pub fn date_from_unix_millis(millis: i64) -> String {
    let (year, month, day) = civil_date(millis.div_euclid(86_400_000));
    format!("{year:04}-{month:02}-{day:02}")
}

/// Formats milliseconds since the Unix epoch as ISO 8601 UTC with milliseconds.
pub fn iso8601_from_unix_millis(millis: i64) -> String {
    let days = millis.div_euclid(86_400_000);
    let millis_of_day = millis.rem_euclid(86_400_000);
    let (year, month, day) = civil_date(days);
    let seconds_of_day = millis_of_day / 1000;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        seconds_of_day / 3600,
        seconds_of_day / 60 % 60,
        seconds_of_day % 60,
        millis_of_day % 1000
    )
}

/// The proleptic Gregorian (year, month, day) of a day count since 1970-01-01.
///
/// Works in 400-year eras (146,097 days each) with years starting on 1 March, so the leap day is
/// the last day of the shifted year and month lengths follow a fixed 153-day pattern.
fn civil_date(days_since_epoch: i64) -> (i64, u32, u32) {
    // Day 0 of the shifted calendar is 0000-03-01, which is 719,468 days before 1970-01-01.
    let days = days_since_epoch + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153; // 0 = March … 11 = February
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = era * 400 + year_of_era + i64::from(month <= 2);
    (year, month as u32, day as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_uuid_shaped_and_distinct() {
        let (a, b) = (new_id(), new_id());
        assert_ne!(a, b);
        let groups: Vec<usize> = a.split('-').map(str::len).collect();
        assert_eq!(groups, vec![8, 4, 4, 4, 12]);
    }

    #[test]
    fn timestamps_format_known_instants() {
        let cases = [
            (0, "1970-01-01T00:00:00.000Z"),
            (951_782_400_000, "2000-02-29T00:00:00.000Z"),
            (1_709_251_199_999, "2024-02-29T23:59:59.999Z"),
            (1_735_689_600_123, "2025-01-01T00:00:00.123Z"),
            (-1, "1969-12-31T23:59:59.999Z"),
        ];
        for (millis, expected) in cases {
            assert_eq!(iso8601_from_unix_millis(millis), expected, "{millis}");
        }
    }

    #[test]
    fn dates_are_the_utc_calendar_day() {
        assert_eq!(date_from_unix_millis(1_709_251_199_999), "2024-02-29");
        assert_eq!(date_from_unix_millis(1_709_251_200_000), "2024-03-01");
    }
}
