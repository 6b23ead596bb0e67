//! One stream: pushed and polled updates pass the same key/version dedupe, so each change is
//! delivered once and never older than one already delivered.

mod live;

use hubwire::core::dedupe::Dropped;
use hubwire::core::subscription::{Origin, SubscriptionTelemetry, Update};
use live::{config, PollEndpoint, World};

/// One arrival in a dedupe story.
#[derive(Clone, Copy)]
enum Arrival {
    Push(u64),
    Poll(u64),
}

/// A subscription that is up on push with a poll held open, so the test decides every answer.
fn up_with_polls_held() -> World {
    let mut w = World::new(config());
    w.endpoint = PollEndpoint::Hold;
    w.start();
    w.push_up();
    w.answer_poll_with(0); // the catch-up poll: version 0
    w.clear_record();
    w
}

fn play(arrivals: &[Arrival]) -> World {
    let mut w = up_with_polls_held();
    for arrival in arrivals {
        match *arrival {
            Arrival::Push(version) => w.push(version),
            Arrival::Poll(version) => {
                w.refresh();
                w.answer_poll_with(version);
            }
        }
    }
    w
}

#[test]
fn updates_from_both_sources_are_delivered_once_and_never_backwards() {
    use Arrival::{Poll, Push};
    let cases: &[(&str, &[Arrival], &[&str])] = &[
        ("a poll repeating a push", &[Push(1), Poll(1), Push(2)], &["v1", "v2"]),
        ("a push repeating a poll", &[Poll(1), Push(1)], &["v1"]),
        ("a stale push after a newer poll", &[Poll(3), Push(2), Push(4)], &["v3", "v4"]),
        ("a stale poll after a newer push", &[Push(5), Poll(4)], &["v5"]),
        ("a doubled push", &[Push(1), Push(1)], &["v1"]),
        ("out-of-order pushes", &[Push(3), Push(2), Push(4)], &["v3", "v4"]),
        ("push, poll, push cycle", &[Push(1), Poll(1), Poll(2), Push(2), Push(3)], &["v1", "v2", "v3"]),
    ];
    for (name, arrivals, expected) in cases {
        let w = play(arrivals);
        assert_eq!(w.values(), *expected, "{name}");
    }
}

#[test]
fn each_update_says_where_it_came_from() {
    let w = play(&[Arrival::Push(1), Arrival::Poll(2)]);
    assert_eq!(w.delivered.iter().map(|(_, o)| *o).collect::<Vec<_>>(), vec![Origin::Push, Origin::Poll]);
}

#[test]
fn current_is_the_newest_delivered_value() {
    let w = play(&[Arrival::Push(4), Arrival::Poll(3)]);
    assert_eq!(w.sub.current().map(String::as_str), Some("v4"));
}

#[test]
fn dropped_updates_are_counted_and_reported_with_their_origin_and_reason() {
    let w = play(&[Arrival::Push(2), Arrival::Poll(2), Arrival::Push(1)]);
    assert_eq!(w.sub.stats().duplicates_dropped, 2);
    let drops = w.records(|r| match r {
        SubscriptionTelemetry::DuplicateDropped { origin, reason } => Some((*origin, *reason)),
        _ => None,
    });
    assert_eq!(drops, vec![(Origin::Poll, Dropped::Stale), (Origin::Push, Dropped::Stale)]);
}

#[test]
fn without_key_or_version_every_update_is_delivered() {
    let mut w = up_with_polls_held();
    for _ in 0..3 {
        w.sub.push_update(w.now, Update::plain("same".to_string()));
    }
    w.drain();
    assert_eq!(w.values(), vec!["same", "same", "same"]);
}

#[test]
fn a_key_without_a_version_drops_exact_repeats() {
    let mut w = up_with_polls_held();
    for key in ["a", "b", "a"] {
        w.sub.push_update(w.now, Update { value: key.to_string(), key: Some(key.to_string()), version: None });
    }
    w.drain();
    assert_eq!(w.values(), vec!["a", "b"]);
}

#[test]
fn a_version_without_a_key_keeps_one_line_of_versions() {
    let mut w = up_with_polls_held();
    for version in [5.0, 4.0, 6.0] {
        w.sub.push_update(w.now, Update { value: version.to_string(), key: None, version: Some(version) });
    }
    w.drain();
    assert_eq!(w.values(), vec!["5", "6"]);
}

#[test]
fn different_keys_have_their_own_versions() {
    let mut w = up_with_polls_held();
    for (key, version) in [("u-1", 5.0), ("u-2", 1.0), ("u-1", 4.0), ("u-2", 2.0)] {
        let value = format!("{key}@{version}");
        w.sub.push_update(w.now, Update { value, key: Some(key.to_string()), version: Some(version) });
    }
    w.drain();
    assert_eq!(w.values(), vec!["u-1@5", "u-2@1", "u-2@2"]);
}
