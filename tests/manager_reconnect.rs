//! Automatic reconnect: the retry schedule in virtual seconds, giving up, first-start retry.

mod util;

use std::time::Duration;

use hubwire::core::retry::{DelaySchedule, RetryContext, RetryPolicy};
use hubwire::core::session::SessionEvent;
use hubwire::core::supervisor::Telemetry;
use hubwire::core::HubError;
use hubwire::protocol::{HubMessage, RawJson};
use util::session::{default_reconnect, reconnect, SessionDriver};

fn connected(reconnect: Option<hubwire::core::supervisor::ReconnectOptions>) -> SessionDriver {
    let mut d = SessionDriver::new(reconnect);
    d.start();
    d.accept_link();
    assert_eq!(d.state(), "Connected");
    d.take_events();
    d.negotiate_times.clear();
    d
}

#[test]
fn the_default_schedule_is_0_2_10_30_seconds_then_close() {
    let mut d = connected(default_reconnect());
    d.drop_link();
    assert_eq!(d.state(), "Reconnecting");
    d.refuse_negotiate();
    for delay in [2, 10, 30] {
        d.advance(Duration::from_secs(delay));
        d.refuse_negotiate();
    }
    d.advance(Duration::from_secs(600));
    // Retries at 0, 2, 12 and 42 virtual seconds after the drop, each refused.
    assert_eq!(d.negotiate_times, vec![0, 2_000, 12_000, 42_000]);
    assert_eq!(d.state(), "Disconnected");
    // Retries used up: onclose without an error, as in the official client.
    assert_eq!(d.lifecycle(), vec!["reconnecting".to_string(), "closed".to_string()]);
}

#[test]
fn a_policy_that_allows_no_retry_closes_with_the_loss_and_no_reconnecting() {
    let mut d = connected(reconnect(DelaySchedule::from_millis(&[]), false));
    d.drop_link();
    assert_eq!(d.state(), "Disconnected");
    assert_eq!(d.lifecycle(), vec!["closed: WebSocket closed with status code: 1006 ().".to_string()]);
}

#[test]
fn no_retry_happens_before_its_delay() {
    let mut d = connected(default_reconnect());
    d.drop_link();
    d.refuse_negotiate();
    d.advance(Duration::from_millis(1_999));
    assert_eq!(d.negotiate_times, vec![0]);
    d.advance(Duration::from_millis(1));
    assert_eq!(d.negotiate_times, vec![0, 2_000]);
}

#[test]
fn a_later_attempt_reconnects_with_a_new_connection_id() {
    let mut d = connected(default_reconnect());
    d.drop_link();
    d.refuse_negotiate();
    d.advance(Duration::from_secs(2));
    d.accept_link();
    assert_eq!(d.state(), "Connected");
    assert_eq!(d.lifecycle(), vec!["reconnecting", "reconnected conn-2"]);
    assert_eq!(d.session.health().reconnects, 1);
}

#[test]
fn the_attempt_count_restarts_after_a_successful_reconnect() {
    let mut d = connected(default_reconnect());
    d.drop_link();
    d.refuse_negotiate();
    d.advance(Duration::from_secs(2));
    d.accept_link();
    // A connection established past the stable-connection threshold starts a new episode.
    d.establish();
    d.negotiate_times.clear();
    let dropped_at = d.now.as_millis();
    d.drop_link();
    d.refuse_negotiate();
    d.advance(Duration::from_secs(5));
    assert_eq!(d.negotiate_times, vec![dropped_at, dropped_at + 2_000]);
}

#[test]
fn a_custom_array_of_delays_is_followed() {
    let mut d = connected(reconnect(DelaySchedule::from_millis(&[500, 700]), false));
    d.drop_link();
    d.advance(Duration::from_millis(500));
    d.refuse_negotiate();
    d.advance(Duration::from_millis(700));
    d.refuse_negotiate();
    d.advance(Duration::from_secs(60));
    assert_eq!(d.negotiate_times, vec![500, 1_200]);
    assert_eq!(d.state(), "Disconnected");
}

/// A policy that records what it was asked and answers from a list.
struct Recording {
    asked: std::rc::Rc<std::cell::RefCell<Vec<RetryContext>>>,
    answers: Vec<Option<u64>>,
}

impl RetryPolicy for Recording {
    fn next_retry_delay(&mut self, context: &RetryContext) -> Option<Duration> {
        self.asked.borrow_mut().push(context.clone());
        self.answers.get(context.previous_retry_count as usize).copied().flatten().map(Duration::from_millis)
    }
}

#[test]
fn a_policy_function_gets_count_elapsed_time_and_reason() {
    let asked = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let policy = Recording { asked: asked.clone(), answers: vec![Some(1_000), Some(3_000), None] };
    let mut d = connected(reconnect(policy, false));
    d.drop_link();
    d.advance(Duration::from_secs(1));
    d.refuse_negotiate();
    d.advance(Duration::from_secs(3));
    d.refuse_negotiate();
    let asked = asked.borrow();
    assert_eq!(
        asked.iter().map(|c| (c.previous_retry_count, c.elapsed.as_millis() as u64)).collect::<Vec<_>>(),
        vec![(0, 0), (1, 1_000), (2, 4_000)]
    );
    assert_eq!(asked[0].retry_reason, "WebSocket closed with status code: 1006 ().");
    assert!(asked[1].retry_reason.contains("503"));
    assert_eq!(d.state(), "Disconnected");
}

#[test]
fn keep_trying_repeats_the_last_delay() {
    let mut d = connected(reconnect(DelaySchedule::from_millis(&[0, 1_000]).keep_trying(true), false));
    d.drop_link();
    d.refuse_negotiate();
    for _ in 0..7 {
        d.advance(Duration::from_secs(1));
        d.refuse_negotiate();
    }
    assert_eq!(d.negotiate_times, vec![0, 1_000, 2_000, 3_000, 4_000, 5_000, 6_000, 7_000]);
    assert_eq!(d.state(), "Reconnecting");
}

#[test]
fn without_automatic_reconnect_a_drop_closes() {
    let mut d = connected(None);
    d.drop_link();
    assert_eq!(d.lifecycle(), vec!["closed: WebSocket closed with status code: 1006 ()."]);
    d.advance(Duration::from_secs(60));
    assert!(d.negotiate_times.is_empty());
}

#[test]
fn a_server_close_without_allow_reconnect_closes_for_good() {
    let mut d = connected(default_reconnect());
    d.server_sends(&HubMessage::Close { error: Some("bye".into()), allow_reconnect: false });
    assert_eq!(d.lifecycle(), vec!["closed: Server returned an error on close: bye"]);
    d.advance(Duration::from_secs(60));
    assert!(d.negotiate_times.is_empty());
}

#[test]
fn a_server_close_with_allow_reconnect_reconnects() {
    let mut d = connected(default_reconnect());
    d.server_sends(&HubMessage::Close { error: None, allow_reconnect: true });
    assert_eq!(d.state(), "Reconnecting");
    assert_eq!(d.negotiate_times, vec![0]);
}

#[test]
fn pending_invocations_are_rejected_when_the_connection_drops() {
    let mut d = connected(default_reconnect());
    let id = d.session.invoke(d.now, "Slow", RawJson::empty_array()).unwrap();
    d.drain();
    d.drop_link();
    // With the transport's error, as the official client rejects them.
    assert!(d.events.iter().any(|e| matches!(e,
        SessionEvent::InvocationResult { id: i, outcome: Err(HubError::Transport(text)) }
            if *i == id && text == "WebSocket closed with status code: 1006 ().")));
}

#[test]
fn stop_during_the_retry_delay_closes_without_error_and_retries_no_more() {
    let mut d = connected(default_reconnect());
    d.drop_link();
    d.refuse_negotiate();
    d.session.stop(d.now);
    d.drain();
    assert_eq!(d.state(), "Disconnected");
    assert_eq!(d.lifecycle(), vec!["reconnecting", "closed"]);
    d.advance(Duration::from_secs(60));
    assert_eq!(d.negotiate_times, vec![0]);
}

#[test]
fn stop_during_a_retry_attempt_closes_without_error() {
    let mut d = connected(default_reconnect());
    d.drop_link();
    d.session.stop(d.now);
    d.drain();
    assert_eq!(d.state(), "Disconnected");
    assert_eq!(d.lifecycle(), vec!["reconnecting", "closed"]);
}

#[test]
fn the_first_start_is_retried_when_asked() {
    let mut d = SessionDriver::new(reconnect(DelaySchedule::official_default(), true));
    d.start();
    d.refuse_negotiate();
    assert_eq!(d.state(), "Connecting");
    d.refuse_negotiate();
    d.advance(Duration::from_secs(2));
    d.accept_link();
    assert_eq!(d.negotiate_times, vec![0, 0, 2_000]);
    assert_eq!(d.lifecycle(), vec!["started"]);
    assert_eq!(d.state(), "Connected");
}

#[test]
fn a_first_start_that_exhausts_the_policy_fails_start() {
    let mut d = SessionDriver::new(reconnect(DelaySchedule::from_millis(&[100]), true));
    d.start();
    d.refuse_negotiate();
    d.advance(Duration::from_millis(100));
    d.refuse_negotiate();
    assert_eq!(d.state(), "Disconnected");
    let lifecycle = d.lifecycle();
    assert_eq!(lifecycle.len(), 1);
    assert!(lifecycle[0].starts_with("start failed"), "{lifecycle:?}");
}

#[test]
fn without_first_start_retry_a_failed_start_fails_at_once() {
    let mut d = SessionDriver::new(default_reconnect());
    d.start();
    d.refuse_negotiate();
    assert_eq!(d.state(), "Disconnected");
    d.advance(Duration::from_secs(60));
    assert_eq!(d.negotiate_times, vec![0]);
}

#[test]
fn stop_during_the_first_start_fails_the_start() {
    let mut d = SessionDriver::new(default_reconnect());
    d.start();
    d.session.stop(d.now);
    d.drain();
    assert_eq!(d.lifecycle(), vec!["start failed: The connection was stopped during negotiation."]);
    assert_eq!(d.state(), "Disconnected");
}

#[test]
fn state_changes_report_attempt_and_next_retry() {
    let mut d = connected(default_reconnect());
    d.drop_link();
    d.refuse_negotiate();
    let scheduled: Vec<(u32, Option<Duration>)> = d
        .events
        .iter()
        .filter_map(|e| match e {
            SessionEvent::StateChanged { change, .. } if change.next_retry_in.is_some() => {
                Some((change.attempt, change.next_retry_in))
            }
            _ => None,
        })
        .collect();
    assert_eq!(scheduled, vec![(0, Some(Duration::ZERO)), (1, Some(Duration::from_secs(2)))]);
}

#[test]
fn telemetry_records_attempts_and_recovery_time() {
    let mut d = connected(default_reconnect());
    d.drop_link();
    d.refuse_negotiate();
    d.advance(Duration::from_secs(2));
    d.accept_link();
    let telemetry: Vec<Telemetry> = d
        .events
        .iter()
        .filter_map(|e| match e {
            SessionEvent::Telemetry(t) => Some(t.clone()),
            _ => None,
        })
        .collect();
    assert!(telemetry.contains(&Telemetry::ReconnectAttempt {
        attempt: 2,
        delay: Duration::from_secs(2),
        reason: "Failed to complete negotiation with the server: Error: Service Unavailable: Status code '503'".into()
    }));
    assert!(telemetry.contains(&Telemetry::Reconnected {
        recovery: Duration::from_secs(2),
        groups_rejoined: 0,
        attempts: 2
    }));
}

#[test]
fn with_skip_negotiation_the_first_reconnect_attempt_survives_the_old_sockets_close() {
    // The shell answers CloseTransport at once, in the same pump that started the zero-delay
    // retry: that answer names the old socket and must not fail the new attempt.
    let mut config = hubwire::core::HubConfig::new(util::HUB_URL);
    config.skip_negotiation = true;
    config.allowed_transports = 1;
    let mut d = SessionDriver::with_config(config, default_reconnect());
    d.start();
    d.accept_socket();
    assert_eq!(d.state(), "Connected");
    d.take_events();
    d.server_sends(&HubMessage::Close { error: None, allow_reconnect: true });
    assert_eq!(d.open_times.len(), 2, "one immediate retry");
    assert!(d.opening, "the retry's socket is still wanted");
    assert!(
        !d.events.iter().any(|e| matches!(e, SessionEvent::Telemetry(Telemetry::ReconnectAttempt { attempt: 2, .. }))),
        "the first retry did not fail: {:?}",
        d.events
    );
    d.accept_socket();
    assert_eq!(d.state(), "Connected");
    assert_eq!(d.lifecycle(), vec!["reconnecting", "reconnected -"]);
}

#[test]
fn a_loss_without_an_error_gives_the_policy_the_official_stand_in_reason_and_closes_without_one() {
    let asked = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let policy = Recording { asked: asked.clone(), answers: vec![None] };
    let mut d = connected(reconnect(policy, false));
    d.server_sends(&HubMessage::Close { error: None, allow_reconnect: true });
    assert_eq!(asked.borrow()[0].retry_reason, "Attempting to reconnect due to a unknown error.");
    // The policy gave up at once: no onreconnecting, and onclose gets what the loss carried.
    assert_eq!(d.lifecycle(), vec!["closed".to_string()]);
    assert_eq!(d.state(), "Disconnected");
}

#[test]
fn the_policy_gets_the_failure_as_an_error_along_with_its_text() {
    let asked = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let policy = Recording { asked: asked.clone(), answers: vec![Some(0), None] };
    let mut d = connected(reconnect(policy, false));
    d.drop_link();
    d.refuse_negotiate();
    let asked = asked.borrow();
    assert_eq!(asked[0].retry_error, Some(HubError::Transport("WebSocket closed with status code: 1006 ().".into())));
    // A failed negotiate: the shell can make the same error start() would reject with.
    assert!(matches!(&asked[1].retry_error, Some(HubError::Negotiate(_))), "{:?}", asked[1].retry_error);
    assert_eq!(asked[1].retry_error.as_ref().map(ToString::to_string), Some(asked[1].retry_reason.clone()));
}
