//! Group memberships: declared once, joined, re-joined in order after every new connection.

mod util;

use std::time::Duration;

use hubwire::core::session::SessionEvent;
use hubwire::core::supervisor::Telemetry;
use hubwire::protocol::Completion;
use util::session::{default_reconnect, group, SessionDriver};

fn connected() -> SessionDriver {
    let mut d = SessionDriver::new(default_reconnect());
    d.start();
    d.accept_link();
    d.take_events();
    d
}

fn targets(d: &SessionDriver) -> Vec<String> {
    d.invocations().into_iter().map(|(_, target)| target).collect()
}

#[test]
fn join_invokes_the_join_method_and_settles_when_the_hub_answers() {
    let mut d = connected();
    let request = d.session.join_group(d.now, group("JoinDispatchGroup", "LeaveDispatchGroup", "north-america"));
    d.drain();
    assert_eq!(targets(&d), vec!["JoinDispatchGroup"]);
    assert!(d.lifecycle().is_empty(), "not settled before the hub answers");
    d.complete_all();
    assert_eq!(d.lifecycle(), vec![format!("group {request} ok")]);
}

#[test]
fn after_a_reconnect_every_join_is_repeated_in_order_before_reconnected() {
    let mut d = connected();
    d.session.join_group(d.now, group("JoinDispatchGroup", "LeaveDispatchGroup", "north-america"));
    d.session.join_group(d.now, group("JoinContractorGroup", "LeaveContractorGroup", "c-7"));
    d.session.join_group(d.now, group("JoinWorkflow", "LeaveWorkflow", "wf-1"));
    d.drain();
    d.complete_all();
    d.take_events();
    d.drop_link();
    d.accept_link();
    assert_eq!(targets(&d), vec!["JoinDispatchGroup", "JoinContractorGroup", "JoinWorkflow"]);
    assert_eq!(d.lifecycle(), vec!["reconnecting"], "reconnected waits for the rejoins");
    assert_eq!(d.state(), "Reconnecting");
    d.complete_all();
    assert_eq!(d.lifecycle(), vec!["reconnecting", "reconnected conn-2"]);
    assert_eq!(d.state(), "Connected");
}

#[test]
fn a_failed_rejoin_is_reported_does_not_block_the_others_and_is_retried_next_time() {
    let mut d = connected();
    d.session.join_group(d.now, group("JoinDispatchGroup", "LeaveDispatchGroup", "north-america"));
    d.session.join_group(d.now, group("JoinWorkflow", "LeaveWorkflow", "wf-1"));
    d.drain();
    d.complete_all();
    d.take_events();
    d.drop_link();
    d.accept_link();
    let sent = d.invocations();
    d.complete(&sent[0].0, Completion::Error("dispatch is closed".into()));
    d.complete(&sent[1].0, Completion::Void);
    assert_eq!(d.lifecycle(), vec!["reconnecting", "rejoin failed JoinDispatchGroup", "reconnected conn-2"]);
    assert!(d.events.iter().any(|e| matches!(e,
        SessionEvent::Telemetry(Telemetry::RejoinFailed { join, error }) if join == "JoinDispatchGroup" && error == "dispatch is closed")));
    assert!(d.events.iter().any(|e| matches!(e,
        SessionEvent::Telemetry(Telemetry::Reconnected { groups_rejoined: 1, .. }))));
    // The failed membership is still declared, so the next reconnect tries it again (after
    // the connection was stable, so that reconnect is immediate).
    d.sent.clear();
    d.establish();
    d.drop_link();
    d.accept_link();
    assert_eq!(targets(&d), vec!["JoinDispatchGroup", "JoinWorkflow"]);
}

#[test]
fn a_left_group_is_not_rejoined() {
    let mut d = connected();
    let dispatch = group("JoinDispatchGroup", "LeaveDispatchGroup", "north-america");
    d.session.join_group(d.now, dispatch.clone());
    d.session.join_group(d.now, group("JoinWorkflow", "LeaveWorkflow", "wf-1"));
    d.drain();
    d.complete_all();
    let request = d.session.leave_group(d.now, dispatch);
    d.drain();
    assert_eq!(targets(&d), vec!["LeaveDispatchGroup"]);
    d.complete_all();
    assert!(d.lifecycle().contains(&format!("group {request} ok")));
    d.drop_link();
    d.accept_link();
    assert_eq!(targets(&d), vec!["JoinWorkflow"]);
}

#[test]
fn a_group_declared_before_start_is_joined_on_connect() {
    let mut d = SessionDriver::new(default_reconnect());
    let request = d.session.join_group(d.now, group("JoinDispatchGroup", "LeaveDispatchGroup", "europe"));
    d.drain();
    assert!(d.lifecycle().is_empty());
    d.start();
    d.accept_link();
    assert_eq!(targets(&d), vec!["JoinDispatchGroup"]);
    d.complete_all();
    assert_eq!(d.lifecycle(), vec!["started".to_string(), format!("group {request} ok")]);
}

#[test]
fn a_first_join_the_hub_refuses_fails_and_is_not_kept() {
    let mut d = connected();
    let request = d.session.join_group(d.now, group("JoinDispatchGroup", "LeaveDispatchGroup", "mars"));
    d.drain();
    let (id, _) = d.invocations()[0].clone();
    d.complete(&id, Completion::Error("Unknown region".into()));
    assert_eq!(d.lifecycle(), vec![format!("group {request} failed")]);
    assert!(d.session.groups().is_empty());
    d.sent.clear();
    d.drop_link();
    d.accept_link();
    assert!(targets(&d).is_empty());
}

#[test]
fn declaring_the_same_group_twice_joins_once() {
    let mut d = connected();
    let spec = group("JoinDispatchGroup", "LeaveDispatchGroup", "north-america");
    let first = d.session.join_group(d.now, spec.clone());
    let second = d.session.join_group(d.now, spec.clone());
    d.drain();
    assert_eq!(targets(&d).len(), 1);
    d.complete_all();
    let third = d.session.join_group(d.now, spec);
    d.drain();
    assert_eq!(d.lifecycle(), vec![format!("group {first} ok"), format!("group {second} ok"), format!("group {third} ok")]);
    assert_eq!(d.session.groups().len(), 1);
}

#[test]
fn a_join_cut_off_by_a_drop_is_completed_on_the_next_connection() {
    let mut d = connected();
    let request = d.session.join_group(d.now, group("JoinDispatchGroup", "LeaveDispatchGroup", "north-america"));
    d.drain();
    d.drop_link();
    assert!(!d.lifecycle().iter().any(|l| l.starts_with("group")), "{:?}", d.lifecycle());
    d.accept_link();
    d.complete_all();
    assert!(d.lifecycle().contains(&format!("group {request} ok")));
    assert_eq!(d.state(), "Connected");
}

#[test]
fn leaving_while_disconnected_just_forgets_the_group() {
    let mut d = SessionDriver::new(default_reconnect());
    let spec = group("JoinDispatchGroup", "LeaveDispatchGroup", "north-america");
    let join = d.session.join_group(d.now, spec.clone());
    let leave = d.session.leave_group(d.now, spec);
    d.drain();
    assert_eq!(d.lifecycle(), vec![format!("group {join} failed"), format!("group {leave} ok")]);
    d.start();
    d.accept_link();
    assert!(targets(&d).is_empty());
    d.advance(Duration::from_secs(1));
}
