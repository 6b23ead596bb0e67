//! The poll schedule: the interval from each answer, error backoff, timeouts, catch-up retries,
//! refresh and unsubscribe.

mod live;

use std::time::Duration;

use hubwire::core::subscription::{
    backoff, FlagSource, PollConfig, PollKind, Source, SubscriptionConfig, SubscriptionTelemetry,
    DEFAULT_POLL_INTERVAL,
};
use live::{config, secs, with_flag, with_poll, PollEndpoint, World};

fn polling_only() -> SubscriptionConfig {
    with_flag(FlagSource::Fixed(false))
}

#[test]
fn the_default_interval_is_45_seconds() {
    assert_eq!(DEFAULT_POLL_INTERVAL, secs(45));
    assert_eq!(SubscriptionConfig::default().poll, Some(PollConfig::default()));
    assert_eq!(PollConfig::default().interval, secs(45));
}

#[test]
fn the_next_poll_waits_one_interval_from_the_previous_answer() {
    let mut w = World::new(polling_only());
    w.endpoint = PollEndpoint::Hold;
    w.start();
    w.advance(secs(5));
    w.answer_poll();
    w.advance(secs(60));
    assert_eq!(w.poll_times(), vec![0, 50_000]);
}

#[test]
fn backoff_doubles_per_failure_up_to_the_cap() {
    let poll = PollConfig { interval: secs(45), max_backoff: secs(300), ..PollConfig::default() };
    let cases = [(1, 90), (2, 180), (3, 300), (4, 300), (40, 300)];
    for (failures, wait) in cases {
        assert_eq!(backoff(poll, failures), secs(wait), "after {failures} failures");
    }
}

#[test]
fn the_backoff_cap_never_undercuts_the_interval() {
    let poll = PollConfig { interval: secs(600), max_backoff: secs(60), ..PollConfig::default() };
    assert_eq!(backoff(poll, 1), secs(600));
}

#[test]
fn failed_polls_back_off_and_a_success_restores_the_interval() {
    let mut w = World::new(SubscriptionConfig {
        poll: Some(PollConfig { interval: secs(10), max_backoff: secs(60), ..PollConfig::default() }),
        ..polling_only()
    });
    w.endpoint = PollEndpoint::Fail("HTTP 500");
    w.start(); // fails at 0: next after 20 s
    w.advance(secs(20)); // fails at 20: next after 40 s
    w.advance(secs(40)); // fails at 60: next after 60 s (cap)
    w.endpoint = PollEndpoint::Serve;
    w.advance(secs(60)); // succeeds at 120: next after 10 s
    w.advance(secs(10));
    assert_eq!(w.poll_times(), vec![0, 20_000, 60_000, 120_000, 130_000]);
}

#[test]
fn a_failed_poll_is_reported_with_its_retry_and_nothing_is_delivered() {
    let mut w = World::new(polling_only());
    w.endpoint = PollEndpoint::Fail("HTTP 500 Internal Server Error");
    w.start();
    let failures = w.records(|r| match r {
        SubscriptionTelemetry::PollFailed { kind, error, retry_in } => Some((*kind, error.clone(), *retry_in)),
        _ => None,
    });
    assert_eq!(failures, vec![(PollKind::Scheduled, "HTTP 500 Internal Server Error".to_string(), Some(secs(90)))]);
    assert!(w.delivered.is_empty());
    assert_eq!(w.sub.stats().polls_failed, 1);
}

#[test]
fn a_poll_that_does_not_answer_in_time_fails_and_its_late_answer_is_ignored() {
    let mut w = World::new(SubscriptionConfig {
        poll: Some(PollConfig { timeout: secs(5), ..PollConfig::default() }),
        ..polling_only()
    });
    w.endpoint = PollEndpoint::Hold;
    w.start();
    let first = w.polls[0].id;
    w.advance(Duration::from_millis(4_999));
    assert!(w.cancelled.is_empty());
    w.advance(Duration::from_millis(1));
    assert_eq!(w.cancelled, vec![first]);
    assert_eq!(w.sub.stats().polls_failed, 1);
    w.sub.poll_settled(w.now, first, Ok(live::doc(1)));
    w.drain();
    assert!(w.delivered.is_empty(), "the late answer is dropped");
}

#[test]
fn polls_in_flight_do_not_overlap_on_the_schedule() {
    let mut w = World::new(polling_only());
    w.endpoint = PollEndpoint::Hold;
    w.start();
    w.advance(secs(29)); // the first poll is still out, under the 30 s timeout
    assert_eq!(w.poll_times(), vec![0]);
}

#[test]
fn a_failed_catch_up_poll_is_retried_until_one_succeeds() {
    let mut w = World::new(with_poll(PollConfig { interval: secs(10), ..PollConfig::default() }));
    w.endpoint = PollEndpoint::Fail("HTTP 503");
    w.start();
    w.push_up(); // catch-up at 0 fails: retry after 20 s
    w.advance(secs(20)); // fails again: retry after 40 s
    w.endpoint = PollEndpoint::Serve;
    w.advance(secs(40)); // succeeds at 60
    w.advance(secs(600));
    assert_eq!(w.poll_times(), vec![0, 20_000, 60_000]);
    assert!(w.poll_kinds().iter().all(|k| *k == PollKind::CatchUp));
    assert_eq!(w.sub.source(), Source::Push);
}

#[test]
fn a_catch_up_retry_is_dropped_when_push_goes_down_again() {
    let mut w = World::new(config());
    w.endpoint = PollEndpoint::Fail("HTTP 503");
    w.start();
    w.push_up();
    w.push_reconnecting();
    w.advance(Duration::from_millis(9_000));
    assert_eq!(w.poll_times(), vec![0], "no catch-up retry while reconnecting");
}

#[test]
fn refresh_polls_now_and_returns_the_poll_that_answers_it() {
    let mut w = World::started(polling_only());
    w.advance(secs(10));
    w.endpoint = PollEndpoint::Hold;
    let id = w.refresh();
    assert_eq!(id, Some(w.polls[1].id));
    assert_eq!(w.poll_kinds(), vec![PollKind::Scheduled, PollKind::Refresh]);
}

#[test]
fn refresh_while_a_poll_is_in_flight_waits_for_that_poll() {
    let mut w = World::new(polling_only());
    w.endpoint = PollEndpoint::Hold;
    w.start();
    let id = w.refresh();
    assert_eq!(id, Some(w.polls[0].id));
    assert_eq!(w.polls.len(), 1);
}

#[test]
fn the_schedule_restarts_from_a_refresh_poll_while_polling() {
    let mut w = World::started(polling_only());
    w.advance(secs(30));
    w.refresh();
    w.advance(secs(60));
    assert_eq!(w.poll_times(), vec![0, 30_000, 75_000]);
}

#[test]
fn refresh_without_polling_configured_makes_no_poll() {
    let mut w = World::started(SubscriptionConfig { poll: None, ..config() });
    assert_eq!(w.refresh(), None);
    assert!(w.polls.is_empty());
}

#[test]
fn unsubscribe_detaches_cancels_polls_in_flight_and_stops_everything() {
    let mut w = World::new(with_flag(FlagSource::Read { every: Some(secs(60)) }));
    w.endpoint = PollEndpoint::Hold;
    w.start();
    w.push_failed("start failed");
    let in_flight = w.polls[0].id;
    w.unsubscribe();
    assert_eq!((w.attached, w.detaches), (false, 1));
    assert_eq!(w.cancelled, vec![in_flight]);
    assert_eq!(w.sub.source(), Source::Idle);
    assert_eq!(w.sub.poll_timeout(), None, "no timer left");
    w.clear_record();
    w.push(5);
    w.advance(secs(600));
    assert!(w.delivered.is_empty() && w.polls.is_empty() && w.flag_reads.is_empty());
}

#[test]
fn a_subscription_cannot_start_twice_or_after_unsubscribe() {
    let mut w = World::started(config());
    assert!(w.sub.start(w.now).is_err());
    w.unsubscribe();
    assert!(w.sub.start(w.now).is_err());
}
