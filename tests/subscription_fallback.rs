//! Fallback rules with the flag on: push while it delivers, polling when the connection failed,
//! closed for good, or has been (re)connecting longer than `fallback_after`; one catch-up poll
//! whenever push comes up, then no polls.

mod live;

use std::time::Duration;

use hubwire::core::subscription::{FallbackEnd, FallbackReason, PollKind, Source, SubscriptionConfig, SubscriptionTelemetry};
use live::{config, secs, World};

fn fallback_reasons(w: &World) -> Vec<FallbackReason> {
    w.records(|r| match r {
        SubscriptionTelemetry::FallbackStarted { reason } => Some(reason.clone()),
        _ => None,
    })
}

#[test]
fn with_the_flag_on_push_is_attached_at_start() {
    let w = World::started(config());
    assert_eq!((w.attached, w.attaches), (true, 1));
    assert_eq!(w.sub.source(), Source::Idle, "not delivering until the connection is up");
}

#[test]
fn healthy_push_gets_one_catch_up_poll_and_then_no_polls() {
    let mut w = World::started(config());
    w.advance(secs(1));
    w.push_up();
    w.advance(secs(600));
    assert_eq!(w.poll_times(), vec![1_000]);
    assert_eq!(w.poll_kinds(), vec![PollKind::CatchUp]);
    assert_eq!(w.sub.source(), Source::Push);
}

#[test]
fn the_first_value_comes_from_the_catch_up_poll() {
    let mut w = World::started(config());
    w.server_version = 7;
    w.push_up();
    assert_eq!(w.values(), vec!["v7"]);
    assert_eq!(w.sub.current().map(String::as_str), Some("v7"));
}

#[test]
fn a_hub_that_is_down_at_start_means_polling_then_push_once_it_is_up() {
    let mut w = World::started(config());
    w.push_failed("start failed: 503");
    w.advance(secs(100));
    assert_eq!(w.sub.source(), Source::Polling);
    w.push_up(); // the app (or the connection's own first-start retry) got it up
    w.advance(secs(600));
    assert_eq!(w.poll_times(), vec![0, 45_000, 90_000, 100_000]);
    assert_eq!(w.poll_kinds()[3], PollKind::CatchUp);
    assert_eq!(w.sub.source(), Source::Push);
}

#[test]
fn a_connection_that_is_still_starting_after_fallback_after_means_polling() {
    let mut w = World::started(config());
    w.push_reconnecting(); // a first start with retries reports "retrying" too
    w.advance(Duration::from_millis(9_999));
    assert!(w.polls.is_empty());
    w.advance(Duration::from_millis(1));
    assert_eq!(w.poll_times(), vec![10_000]);
    assert_eq!(fallback_reasons(&w), vec![FallbackReason::ConnectingTooLong { waited: secs(10) }]);
}

#[test]
fn a_reconnect_longer_than_fallback_after_polls_until_reconnected() {
    let mut w = World::started(config());
    w.push_up();
    w.clear_record();
    w.advance(secs(5));
    w.push_reconnecting();
    w.advance(secs(70));
    assert_eq!(w.poll_times(), vec![15_000, 60_000]);
    assert_eq!(w.sub.source(), Source::Polling);
    w.push_up();
    w.advance(secs(600));
    assert_eq!(w.poll_times(), vec![15_000, 60_000, 75_000]);
    assert_eq!(w.poll_kinds()[2], PollKind::CatchUp);
    assert_eq!(fallback_reasons(&w), vec![FallbackReason::ReconnectingTooLong { waited: secs(10) }]);
}

#[test]
fn a_reconnect_within_fallback_after_only_makes_a_catch_up_poll() {
    let mut w = World::started(config());
    w.push_up();
    w.clear_record();
    w.push_reconnecting();
    w.advance(secs(9));
    w.push_up();
    w.advance(secs(600));
    assert_eq!(w.poll_kinds(), vec![PollKind::CatchUp]);
    assert!(fallback_reasons(&w).is_empty());
    assert_eq!(w.sources, vec![Source::Idle, Source::Push]);
}

#[test]
fn repeated_reconnecting_reports_keep_the_grace_period_from_the_first() {
    let mut w = World::started(config());
    w.push_up();
    w.clear_record();
    w.push_reconnecting();
    w.advance(secs(6));
    w.push_reconnecting(); // the next retry attempt reports again
    w.advance(secs(4));
    assert_eq!(w.poll_times(), vec![10_000]);
}

#[test]
fn a_connection_closed_for_good_means_polling_at_once() {
    let mut w = World::started(config());
    w.push_up();
    w.clear_record();
    w.advance(secs(3));
    w.push_failed("gave up after 4 retries");
    assert_eq!(w.poll_times(), vec![3_000]);
    assert_eq!(fallback_reasons(&w), vec![FallbackReason::PushFailed("gave up after 4 retries".into())]);
}

#[test]
fn fallback_after_is_configurable() {
    for (fallback_after, first_poll) in [(0, 0), (2_000, 2_000), (30_000, 30_000)] {
        let mut w = World::started(SubscriptionConfig {
            fallback_after: Duration::from_millis(fallback_after),
            ..config()
        });
        w.advance(secs(60));
        assert_eq!(w.poll_times().first(), Some(&first_poll), "fallback after {fallback_after} ms");
    }
}

#[test]
fn a_failed_connection_that_is_restarted_brings_push_back() {
    let mut w = World::started(config());
    w.push_failed("start failed");
    w.advance(secs(50));
    w.push_reconnecting(); // someone started it again
    w.advance(secs(20));
    w.push_up();
    assert_eq!(w.sub.source(), Source::Push);
    let stops = w.records(|r| match r {
        SubscriptionTelemetry::FallbackStopped { reason, polled_for, polls } => Some((*reason, *polled_for, *polls)),
        _ => None,
    });
    assert_eq!(stops, vec![(FallbackEnd::PushUp, secs(70), 2)]);
}

#[test]
fn without_polling_a_push_failure_leaves_the_subscription_idle() {
    let mut w = World::started(SubscriptionConfig { poll: None, ..config() });
    w.push_up();
    w.push_failed("closed");
    w.advance(secs(600));
    assert!(w.polls.is_empty());
    assert_eq!(w.sources, vec![Source::Push, Source::Idle]);
}
