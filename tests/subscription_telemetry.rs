//! Telemetry and counters of a subscription: fallback started and stopped with reasons, polls
//! made and failed, source switches, duplicates dropped.

mod live;

use hubwire::core::subscription::{
    FallbackEnd, FallbackReason, PollKind, Source, SubscriptionStats, SubscriptionTelemetry,
};
use live::{config, secs, PollEndpoint, World};

/// Flag on; push up; a long reconnect; push back; unsubscribe.
fn a_reconnect_story() -> World {
    let mut w = World::started(config());
    w.push_up();
    w.push_reconnecting();
    w.advance(secs(60));
    w.push_up();
    w.advance(secs(5));
    w.unsubscribe();
    w
}

#[test]
fn fallback_start_and_stop_are_reported_with_reasons_duration_and_polls() {
    let w = a_reconnect_story();
    let fallback = w.records(|r| match r {
        SubscriptionTelemetry::FallbackStarted { reason } => Some(format!("started: {reason}")),
        SubscriptionTelemetry::FallbackStopped { reason, polled_for, polls } => {
            Some(format!("stopped: {} after {} ms and {polls} polls", reason.code(), polled_for.as_millis()))
        }
        _ => None,
    });
    assert_eq!(fallback, vec!["started: reconnecting for 10000 ms", "stopped: pushUp after 50000 ms and 2 polls"]);
}

#[test]
fn unsubscribing_while_polling_reports_the_fallback_stopped() {
    let mut w = World::started(config());
    w.push_failed("closed");
    w.advance(secs(1));
    w.unsubscribe();
    let stops = w.records(|r| match r {
        SubscriptionTelemetry::FallbackStopped { reason, .. } => Some(*reason),
        _ => None,
    });
    assert_eq!(stops, vec![FallbackEnd::Unsubscribed]);
}

#[test]
fn source_switches_are_reported_in_order() {
    let w = a_reconnect_story();
    assert_eq!(w.sources, vec![Source::Push, Source::Idle, Source::Polling, Source::Push, Source::Idle]);
    let switches = w.records(|r| match r {
        SubscriptionTelemetry::SourceSwitched { from, to } => Some(format!("{}→{}", from.name(), to.name())),
        _ => None,
    });
    assert_eq!(switches, vec!["idle→push", "push→idle", "idle→polling", "polling→push", "push→idle"]);
}

#[test]
fn every_poll_is_reported_with_its_kind() {
    let w = a_reconnect_story();
    let made = w.records(|r| match r {
        SubscriptionTelemetry::PollMade { kind } => Some(*kind),
        _ => None,
    });
    assert_eq!(made, vec![PollKind::CatchUp, PollKind::Scheduled, PollKind::Scheduled, PollKind::CatchUp]);
}

#[test]
fn the_counters_add_up() {
    let mut w = World::started(config());
    w.push_up(); // catch-up poll delivers v1
    w.push(1); // duplicate
    w.push(2);
    w.endpoint = PollEndpoint::Fail("HTTP 500");
    w.push_failed("closed"); // fallback; its poll fails
    assert_eq!(
        w.sub.stats(),
        SubscriptionStats {
            delivered: 2,
            polls_made: 2,
            polls_failed: 1,
            duplicates_dropped: 1,
            source_switches: 2,
            fallbacks: 1,
        }
    );
}

#[test]
fn fallback_reasons_have_stable_codes() {
    let cases = [
        (FallbackReason::NoPushConnection, "noPushConnection"),
        (FallbackReason::FlagOff, "flagOff"),
        (FallbackReason::ConnectingTooLong { waited: secs(10) }, "connectingTooLong"),
        (FallbackReason::ReconnectingTooLong { waited: secs(10) }, "reconnectingTooLong"),
        (FallbackReason::PushFailed("x".into()), "pushFailed"),
    ];
    for (reason, code) in cases {
        assert_eq!(reason.code(), code);
    }
}

#[test]
fn the_switch_to_push_is_reported_before_its_catch_up_poll() {
    let mut w = World::started(config());
    w.push_up();
    let order: Vec<&str> = w
        .telemetry
        .iter()
        .filter_map(|r| match r {
            SubscriptionTelemetry::SourceSwitched { .. } => Some("switched"),
            SubscriptionTelemetry::PollMade { .. } => Some("poll"),
            _ => None,
        })
        .collect();
    assert_eq!(order, vec!["switched", "poll"]);
}
