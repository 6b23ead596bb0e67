//! Browser lifecycle effects on the schedule: online/offline, visibility, back/forward cache.

mod util;

use std::time::Duration;

use util::session::{default_reconnect, group, SessionDriver};

fn reconnecting_with_a_retry_pending() -> SessionDriver {
    let mut d = SessionDriver::new(default_reconnect());
    d.start();
    d.accept_link();
    d.take_events();
    d.drop_link();
    d.refuse_negotiate(); // the immediate retry fails: the next one waits 2 s
    d.negotiate_times.clear();
    d
}

#[test]
fn going_online_retries_at_once_instead_of_waiting() {
    let mut d = reconnecting_with_a_retry_pending();
    d.advance(Duration::from_millis(500));
    d.session.set_online(d.now, true);
    d.drain();
    assert_eq!(d.negotiate_times, vec![500]);
}

#[test]
fn while_offline_a_due_retry_waits_for_the_network() {
    let mut d = reconnecting_with_a_retry_pending();
    d.session.set_online(d.now, false);
    d.drain();
    d.advance(Duration::from_secs(120));
    assert!(d.negotiate_times.is_empty(), "no retry is burnt while offline");
    assert_eq!(d.state(), "Reconnecting");
    d.session.set_online(d.now, true);
    d.drain();
    assert_eq!(d.negotiate_times, vec![120_000]);
}

#[test]
fn offline_time_does_not_use_up_the_policy() {
    let mut d = reconnecting_with_a_retry_pending();
    d.session.set_online(d.now, false);
    d.drain();
    d.advance(Duration::from_secs(600));
    d.session.set_online(d.now, true);
    d.drain();
    d.refuse_negotiate();
    // That was retry 2 of the 0/2/10/30 schedule; retry 3 still follows 10 s later.
    d.advance(Duration::from_secs(10));
    assert_eq!(d.negotiate_times, vec![600_000, 610_000]);
}

#[test]
fn the_page_becoming_visible_retries_at_once() {
    let mut d = reconnecting_with_a_retry_pending();
    d.advance(Duration::from_millis(300));
    d.session.page_visible(d.now);
    d.drain();
    assert_eq!(d.negotiate_times, vec![300]);
}

#[test]
fn visibility_does_nothing_while_connected() {
    let mut d = SessionDriver::new(default_reconnect());
    d.start();
    d.accept_link();
    d.negotiate_times.clear();
    d.session.page_visible(d.now);
    d.session.set_online(d.now, true);
    d.drain();
    assert!(d.negotiate_times.is_empty());
    assert_eq!(d.state(), "Connected");
}

#[test]
fn pagehide_stops_quietly_and_pageshow_from_the_cache_restarts_and_rejoins() {
    let mut d = SessionDriver::new(default_reconnect());
    d.start();
    d.accept_link();
    d.session.join_group(d.now, group("JoinDispatchGroup", "LeaveDispatchGroup", "north-america"));
    d.drain();
    d.complete_all();
    d.take_events();
    d.session.page_hidden(d.now);
    d.drain();
    assert_eq!(d.state(), "Disconnected");
    assert!(d.lifecycle().is_empty(), "no onclose for a page that is only cached: {:?}", d.lifecycle());
    d.session.page_shown(d.now, true);
    d.drain();
    assert_eq!(d.state(), "Reconnecting");
    d.accept_link();
    assert_eq!(d.invocations().into_iter().map(|(_, t)| t).collect::<Vec<_>>(), vec!["JoinDispatchGroup"]);
    d.complete_all();
    assert_eq!(d.lifecycle(), vec!["reconnecting", "reconnected conn-2"]);
}

#[test]
fn a_normal_pageshow_or_one_after_stop_does_nothing() {
    let mut d = SessionDriver::new(default_reconnect());
    d.start();
    d.accept_link();
    d.session.page_hidden(d.now);
    d.drain();
    // Fully stopped for the cache first: only `persisted` can then tell this pageshow apart.
    assert_eq!(d.state(), "Disconnected");
    d.session.page_shown(d.now, false);
    d.drain();
    assert_eq!(d.state(), "Disconnected");
    assert!(d.negotiate_times.len() == 1, "no restart: {:?}", d.negotiate_times);
    d.session.page_shown(d.now, true);
    d.session.stop(d.now);
    d.drain();
    d.take_events();
    d.session.page_hidden(d.now);
    d.session.page_shown(d.now, true);
    d.drain();
    assert!(d.lifecycle().is_empty());
}
