//! Keep-alive pings and the server timeout, asserted in virtual time.

mod util;

use std::time::Duration;

use hubwire::core::hub::{Event, HubConfig};
use hubwire::core::HubError;
use hubwire::protocol::{HubMessage, RawJson};
use util::{Driver, HUB_URL};

fn pings(d: &Driver) -> usize {
    d.sent_messages().iter().filter(|m| **m == HubMessage::Ping).count()
}

#[test]
fn a_ping_is_sent_after_15_seconds_of_sending_nothing() {
    let mut d = Driver::with_defaults();
    d.connect();
    d.advance(Duration::from_millis(14_999));
    assert_eq!(pings(&d), 0);
    d.advance(Duration::from_millis(1));
    assert_eq!(pings(&d), 1);
    d.receive("{\"type\":6}\u{1e}");
    d.advance(Duration::from_secs(15));
    assert_eq!(pings(&d), 2);
}

#[test]
fn sending_anything_postpones_the_ping() {
    let mut d = Driver::with_defaults();
    d.connect();
    d.advance(Duration::from_secs(10));
    d.conn.send(d.now, "Echo", RawJson::empty_array()).unwrap();
    d.drain();
    d.advance(Duration::from_secs(14));
    assert_eq!(pings(&d), 0);
    d.advance(Duration::from_secs(1));
    assert_eq!(pings(&d), 1);
}

#[test]
fn silence_from_the_server_for_30_seconds_closes_the_connection() {
    let mut d = Driver::with_defaults();
    d.connect();
    d.take_events();
    d.advance(Duration::from_secs(20));
    d.receive("{\"type\":6}\u{1e}");
    d.advance(Duration::from_millis(29_999));
    assert_eq!(d.conn.state().name(), "Connected");
    d.advance(Duration::from_millis(1));
    assert_eq!(d.now.as_millis(), 50_000);
    assert_eq!(
        d.events,
        vec![Event::Closed { error: Some(HubError::ServerTimeout(Duration::from_secs(30))), reconnect_allowed: true }]
    );
    assert_eq!(d.transport_closes, 1);
}

#[test]
fn intervals_are_configurable() {
    let mut config = HubConfig::new(HUB_URL);
    config.keep_alive_interval = Duration::from_secs(2);
    config.server_timeout = Duration::from_secs(5);
    let mut d = Driver::new(config);
    d.connect();
    d.advance(Duration::from_secs(4));
    assert_eq!(pings(&d), 2);
    d.advance(Duration::from_secs(1));
    assert_eq!(d.conn.state().name(), "Disconnected");
}

#[test]
fn no_timers_run_while_disconnected() {
    let mut d = Driver::with_defaults();
    d.connect();
    d.conn.stop(d.now);
    d.drain();
    d.transport_closed(None);
    assert_eq!(d.conn.poll_timeout(), None);
}
