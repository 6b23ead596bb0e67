//! The feature flag: off means polling only and no push connection; read flags are re-read on
//! their interval and on refresh; flipping it at run time switches modes.

mod live;

use hubwire::core::subscription::{
    FallbackReason, FlagSource, PollKind, Source, SubscriptionConfig, SubscriptionTelemetry,
};
use live::{config, secs, with_flag, World};

fn read_every_minute() -> SubscriptionConfig {
    with_flag(FlagSource::Read { every: Some(secs(60)) })
}

#[test]
fn flag_off_polls_at_the_interval_and_never_attaches_push() {
    let mut w = World::started(with_flag(FlagSource::Fixed(false)));
    w.advance(secs(100));
    assert_eq!(w.poll_times(), vec![0, 45_000, 90_000]);
    assert_eq!(w.attaches, 0, "no connection is used with the flag off");
    assert_eq!(w.sub.source(), Source::Polling);
}

#[test]
fn flag_off_polling_is_reported_as_a_fallback_for_the_flag() {
    let w = World::started(with_flag(FlagSource::Fixed(false)));
    let reasons = w.records(|r| match r {
        SubscriptionTelemetry::FallbackStarted { reason } => Some(reason.clone()),
        _ => None,
    });
    assert_eq!(reasons, vec![FallbackReason::FlagOff]);
}

#[test]
fn a_fixed_flag_is_never_read() {
    let mut w = World::started(config());
    w.advance(secs(600));
    assert!(w.flag_reads.is_empty());
}

#[test]
fn nothing_happens_until_a_read_flag_answers() {
    let mut w = World::new(read_every_minute());
    w.flag_answer = None;
    w.start();
    assert_eq!(w.flag_reads, vec![0]);
    assert!(w.polls.is_empty() && w.attaches == 0);
    w.advance(secs(5));
    w.answer_flag(Ok(true));
    assert_eq!(w.attaches, 1);
}

#[test]
fn a_read_flag_is_read_again_on_its_interval() {
    let mut w = World::started(read_every_minute());
    w.advance(secs(150));
    assert_eq!(w.flag_reads, vec![0, 60_000, 120_000]);
}

#[test]
fn refresh_reads_the_flag_again_and_polls() {
    let mut w = World::started(read_every_minute());
    w.push_up();
    w.clear_record();
    w.advance(secs(10));
    w.refresh();
    assert_eq!(w.flag_reads, vec![10_000]);
    assert_eq!(w.poll_kinds(), vec![PollKind::Refresh]);
}

#[test]
fn turning_the_flag_on_at_run_time_attaches_push_and_polls_until_it_is_up() {
    let mut w = World::new(read_every_minute());
    w.flag_answer = Some(Ok(false));
    w.start();
    w.flag_answer = Some(Ok(true));
    w.advance(secs(60));
    assert_eq!(w.attaches, 1, "the flag's re-read attached push");
    assert_eq!(w.sub.source(), Source::Polling, "polling goes on while push connects");
    w.advance(secs(40)); // a scheduled poll at 90 s
    w.push_up();
    w.advance(secs(600));
    assert_eq!(w.poll_times(), vec![0, 45_000, 90_000, 100_000]);
    assert_eq!(w.poll_kinds().last(), Some(&PollKind::CatchUp));
    assert_eq!(w.sub.source(), Source::Push);
}

#[test]
fn turning_the_flag_off_at_run_time_detaches_push_and_polls_at_once() {
    let mut w = World::started(read_every_minute());
    w.push_up();
    w.clear_record();
    w.flag_answer = Some(Ok(false));
    w.advance(secs(60));
    assert_eq!((w.attached, w.detaches), (false, 1));
    assert_eq!(w.poll_times(), vec![60_000]);
    assert_eq!(w.sources, vec![Source::Polling]);
}

#[test]
fn a_first_flag_read_that_fails_counts_as_off() {
    let mut w = World::new(read_every_minute());
    w.flag_answer = Some(Err("flags document: HTTP 500"));
    w.start();
    assert_eq!(w.sub.flag(), Some(false));
    assert_eq!(w.attaches, 0);
    assert_eq!(w.sub.source(), Source::Polling);
    assert!(w.telemetry.contains(&SubscriptionTelemetry::FlagReadFailed { error: "flags document: HTTP 500".into() }));
}

#[test]
fn a_later_flag_read_that_fails_keeps_the_last_value() {
    let mut w = World::started(read_every_minute());
    w.push_up();
    w.flag_answer = Some(Err("network down"));
    w.advance(secs(60));
    assert_eq!(w.sub.flag(), Some(true));
    assert_eq!((w.attached, w.detaches), (true, 0));
    assert_eq!(w.sub.source(), Source::Push);
}

#[test]
fn the_flag_changes_are_reported() {
    let mut w = World::new(read_every_minute());
    w.flag_answer = Some(Ok(true));
    w.start();
    w.flag_answer = Some(Ok(false));
    w.advance(secs(60));
    w.flag_answer = Some(Ok(false));
    w.advance(secs(60));
    let changes = w.records(|r| match r {
        SubscriptionTelemetry::FlagChanged { enabled } => Some(*enabled),
        _ => None,
    });
    assert_eq!(changes, vec![true, false], "an unchanged re-read reports nothing");
}

#[test]
fn without_a_push_connection_the_flag_is_not_read_and_polling_runs() {
    let mut w = World::started(SubscriptionConfig { has_push: false, ..read_every_minute() });
    w.advance(secs(50));
    w.refresh();
    assert!(w.flag_reads.is_empty());
    assert_eq!(w.attaches, 0);
    assert_eq!(w.poll_kinds(), vec![PollKind::Scheduled, PollKind::Scheduled, PollKind::Refresh]);
    let reasons = w.records(|r| match r {
        SubscriptionTelemetry::FallbackStarted { reason } => Some(reason.clone()),
        _ => None,
    });
    assert_eq!(reasons, vec![FallbackReason::NoPushConnection]);
}
