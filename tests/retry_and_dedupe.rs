//! Retry policies and dedupe filters, on their own.

use std::time::Duration;

use hubwire::core::dedupe::{DedupeFilter, DedupeWindow, Dropped};
use hubwire::core::retry::{DelaySchedule, RetryContext, RetryPolicy};
use hubwire::core::Instant;

fn context(count: u32) -> RetryContext {
    RetryContext { previous_retry_count: count, elapsed: Duration::ZERO, retry_reason: String::new(), retry_error: None }
}

fn delays(policy: &mut impl RetryPolicy, n: u32) -> Vec<Option<u64>> {
    (0..n).map(|i| policy.next_retry_delay(&context(i)).map(|d| d.as_millis() as u64)).collect()
}

#[test]
fn the_official_default_is_0_2_10_30_then_none() {
    assert_eq!(
        delays(&mut DelaySchedule::official_default(), 5),
        vec![Some(0), Some(2_000), Some(10_000), Some(30_000), None]
    );
}

#[test]
fn keep_trying_repeats_the_last_delay_forever() {
    let mut policy = DelaySchedule::from_millis(&[100, 5_000]).keep_trying(true);
    assert_eq!(delays(&mut policy, 5), vec![Some(100), Some(5_000), Some(5_000), Some(5_000), Some(5_000)]);
}

#[test]
fn an_empty_schedule_never_retries() {
    assert_eq!(delays(&mut DelaySchedule::from_millis(&[]).keep_trying(true), 2), vec![None, None]);
}

#[test]
fn jitter_stays_within_its_bounds_and_varies() {
    let mut policy = DelaySchedule::from_millis(&[10_000]).keep_trying(true).with_jitter(0.2, 42);
    let samples: Vec<u64> = (0..500).map(|_| policy.next_retry_delay(&context(0)).unwrap().as_millis() as u64).collect();
    assert!(samples.iter().all(|ms| (8_000..=12_000).contains(ms)), "{samples:?}");
    let distinct: std::collections::BTreeSet<_> = samples.iter().collect();
    assert!(distinct.len() > 100, "jitter should spread the delays");
    assert!(samples.iter().any(|ms| *ms < 9_000) && samples.iter().any(|ms| *ms > 11_000));
}

#[test]
fn jitter_leaves_a_zero_delay_at_zero() {
    let mut policy = DelaySchedule::official_default().with_jitter(1.0, 7);
    assert_eq!(policy.next_retry_delay(&context(0)), Some(Duration::ZERO));
}

fn at(ms: u64) -> Instant {
    Instant::from_millis(ms)
}

#[test]
fn an_exact_repeat_within_the_window_is_dropped() {
    let mut filter = DedupeFilter::new(DedupeWindow::default());
    assert_eq!(filter.admit(at(0), Some("job-1"), None), Ok(()));
    assert_eq!(filter.admit(at(10), Some("job-1"), None), Err(Dropped::Repeat));
    assert_eq!(filter.admit(at(20), Some("job-2"), None), Ok(()));
    assert_eq!(filter.dropped, 1);
}

#[test]
fn a_key_is_forgotten_after_the_time_window() {
    let mut filter = DedupeFilter::new(DedupeWindow { max_entries: 100, max_age: Some(Duration::from_secs(1)), ..DedupeWindow::default() });
    filter.admit(at(0), Some("a"), None).unwrap();
    assert_eq!(filter.admit(at(999), Some("a"), None), Err(Dropped::Repeat));
    assert_eq!(filter.admit(at(1_000), Some("a"), None), Ok(()));
}

#[test]
fn the_oldest_key_is_evicted_past_the_count_window() {
    let mut filter = DedupeFilter::new(DedupeWindow { max_entries: 2, max_age: None, ..DedupeWindow::default() });
    for key in ["a", "b", "c"] {
        filter.admit(at(0), Some(key), None).unwrap();
    }
    assert_eq!(filter.admit(at(0), Some("a"), None), Ok(()), "a was evicted by c");
    assert_eq!(filter.admit(at(0), Some("c"), None), Err(Dropped::Repeat));
}

#[test]
fn an_update_never_goes_backwards_per_key() {
    let mut filter = DedupeFilter::new(DedupeWindow::default());
    assert_eq!(filter.admit(at(0), Some("user-1"), Some(100.0)), Ok(()));
    assert_eq!(filter.admit(at(0), Some("user-1"), Some(100.0)), Err(Dropped::Stale));
    assert_eq!(filter.admit(at(0), Some("user-1"), Some(50.0)), Err(Dropped::Stale));
    assert_eq!(filter.admit(at(0), Some("user-2"), Some(50.0)), Ok(()), "versions are per key");
    assert_eq!(filter.admit(at(0), Some("user-1"), Some(101.0)), Ok(()));
    assert_eq!(filter.dropped, 2);
}

#[test]
fn updates_without_a_key_always_pass() {
    let mut filter = DedupeFilter::new(DedupeWindow::default());
    assert_eq!(filter.admit(at(0), None, Some(1.0)), Ok(()));
    assert_eq!(filter.admit(at(0), None, Some(1.0)), Ok(()));
}

#[test]
fn a_million_distinct_versioned_keys_keep_the_versions_table_bounded() {
    let window = DedupeWindow { max_versions: 500, max_age: None, ..DedupeWindow::default() };
    let mut filter = DedupeFilter::new(window);
    for n in 0..1_000_000u64 {
        assert_eq!(filter.admit(at(n), Some(&format!("job-{n}")), Some(1.0)), Ok(()));
        assert!(filter.versions_len() <= 500, "after {n} keys: {}", filter.versions_len());
    }
    // The newest keys are still remembered.
    assert_eq!(filter.admit(at(1_000_000), Some("job-999999"), Some(1.0)), Err(Dropped::Stale));
}

#[test]
fn the_default_versions_table_is_bounded_too() {
    let mut filter = DedupeFilter::new(DedupeWindow::default());
    for n in 0..1_000_000u64 {
        filter.admit(at(0), Some(&format!("job-{n}")), Some(n as f64)).unwrap();
    }
    assert!(filter.versions_len() <= hubwire::core::dedupe::DEFAULT_MAX_VERSIONS);
}

#[test]
fn a_version_is_forgotten_after_the_time_window() {
    let window = DedupeWindow { max_age: Some(Duration::from_secs(1)), ..DedupeWindow::default() };
    let mut filter = DedupeFilter::new(window);
    filter.admit(at(0), Some("job"), Some(5.0)).unwrap();
    assert_eq!(filter.admit(at(999), Some("job"), Some(4.0)), Err(Dropped::Stale));
    filter.admit(at(1_000), Some("other"), Some(1.0)).unwrap();
    assert_eq!(filter.versions_len(), 1, "job aged out");
}

#[test]
fn updating_the_same_keys_over_and_over_keeps_the_update_order_compact() {
    let window = DedupeWindow { max_versions: 10, max_age: None, ..DedupeWindow::default() };
    let mut filter = DedupeFilter::new(window);
    for n in 0..100_000u64 {
        filter.admit(at(0), Some(&format!("job-{}", n % 5)), Some(n as f64)).unwrap();
    }
    assert_eq!(filter.versions_len(), 5, "five live keys, none evicted by their own updates");
    assert_eq!(filter.admit(at(0), Some("job-0"), Some(1.0)), Err(Dropped::Stale));
}

#[test]
fn a_million_distinct_repeat_keys_keep_the_repeat_window_bounded() {
    let mut filter = DedupeFilter::new(DedupeWindow { max_entries: 1_000, max_age: None, ..DedupeWindow::default() });
    for n in 0..1_000_000u64 {
        filter.admit(at(n), Some(&format!("msg-{n}")), None).unwrap();
    }
    assert_eq!(filter.repeats_len(), 1_000);
}
