//! A plain WebSocket session under the supervisor: the hub's retry schedule, no reconnect after
//! a normal closure (1000), handlers by message type, the token before every connect.

use std::time::Duration;

use hubwire::core::plain_link::{PlainConfig, PlainIo, SocketClose};
use hubwire::core::plain_session::{PlainSession, PlainSessionEvent, PlainSessionOutput};
use hubwire::core::retry::DelaySchedule;
use hubwire::core::supervisor::ReconnectOptions;
use hubwire::core::Instant;

const URL: &str = "ws://127.0.0.1:5000/ws";

/// Drives a session on a virtual clock, recording socket opens and app events.
struct PlainWorld {
    session: PlainSession<&'static str>,
    now: Instant,
    /// When each socket was asked for, in virtual ms, and its URL.
    opens: Vec<(u64, String)>,
    socket_closes: u32,
    token_requests: u32,
    events: Vec<PlainSessionEvent<&'static str>>,
}

fn default_reconnect() -> Option<ReconnectOptions> {
    Some(ReconnectOptions { policy: Box::new(DelaySchedule::official_default()), retry_first_start: false })
}

impl PlainWorld {
    fn new(config: PlainConfig, reconnect: Option<ReconnectOptions>) -> Self {
        PlainWorld {
            session: PlainSession::new(config, reconnect),
            now: Instant::from_millis(0),
            opens: Vec::new(),
            socket_closes: 0,
            token_requests: 0,
            events: Vec::new(),
        }
    }

    fn drain(&mut self) {
        while let Some(output) = self.session.poll_output() {
            match output {
                PlainSessionOutput::Io(PlainIo::OpenSocket { url }) => self.opens.push((self.now.as_millis(), url)),
                PlainSessionOutput::Io(PlainIo::CloseSocket) => self.socket_closes += 1,
                PlainSessionOutput::Io(PlainIo::FetchAccessToken) => {
                    self.token_requests += 1;
                    let token = format!("t{}", self.token_requests);
                    self.session.handle_access_token(self.now, Ok(Some(token)));
                }
                PlainSessionOutput::Io(PlainIo::Send(_)) => {}
                PlainSessionOutput::Event(event) => self.events.push(event),
            }
        }
    }

    /// Started and connected.
    fn connected(config: PlainConfig, reconnect: Option<ReconnectOptions>) -> Self {
        let mut w = PlainWorld::new(config, reconnect);
        w.session.start(w.now).expect("starts from Disconnected");
        w.drain();
        w.socket_opens();
        w
    }

    fn socket_opens(&mut self) {
        self.session.handle_socket_opened(self.now);
        self.drain();
    }

    fn socket_closes(&mut self, code: u16) {
        self.session.handle_socket_closed(self.now, SocketClose { code, reason: String::new(), clean: code != 1006 });
        self.drain();
    }

    fn advance(&mut self, by: Duration) {
        let end = self.now + by;
        while let Some(deadline) = self.session.poll_timeout().filter(|at| *at <= end) {
            self.now = deadline.max(self.now);
            self.session.handle_timeout(self.now);
            self.drain();
        }
        self.now = end;
    }

    fn open_times(&self) -> Vec<u64> {
        self.opens.iter().map(|(at, _)| *at).collect()
    }

    fn lifecycle(&self) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|e| match e {
                PlainSessionEvent::Started => Some("started".to_string()),
                PlainSessionEvent::StartFailed(error) => Some(format!("start failed: {error}")),
                PlainSessionEvent::Reconnecting(_) => Some("reconnecting".to_string()),
                PlainSessionEvent::Reconnected => Some("reconnected".to_string()),
                PlainSessionEvent::Closed(None) => Some("closed".to_string()),
                PlainSessionEvent::Closed(Some(error)) => Some(format!("closed: {error}")),
                _ => None,
            })
            .collect()
    }
}

#[test]
fn a_dropped_socket_reconnects_on_the_hub_schedule() {
    let mut w = PlainWorld::connected(PlainConfig::new(URL), default_reconnect());
    w.socket_closes(1006); // dropped: retry at once
    w.socket_closes(1006); // that attempt fails: next in 2 s
    w.advance(Duration::from_secs(2));
    w.socket_opens();
    assert_eq!(w.open_times(), vec![0, 0, 2_000]);
    assert_eq!(w.lifecycle(), vec!["started", "reconnecting", "reconnected"]);
    assert_eq!(w.session.state().name(), "Connected");
}

#[test]
fn a_normal_closure_by_the_server_ends_the_session_without_reconnecting() {
    let mut w = PlainWorld::connected(PlainConfig::new(URL), default_reconnect());
    w.socket_closes(1000);
    w.advance(Duration::from_secs(120));
    assert_eq!(w.open_times(), vec![0]);
    assert_eq!(w.lifecycle(), vec!["started", "closed"]);
    assert_eq!(w.session.state().name(), "Disconnected");
}

#[test]
fn other_close_codes_reconnect() {
    for code in [1001, 1006, 1011, 4000] {
        let mut w = PlainWorld::connected(PlainConfig::new(URL), default_reconnect());
        w.socket_closes(code);
        assert_eq!(w.open_times(), vec![0, 0], "code {code}");
    }
}

#[test]
fn retries_give_up_after_the_schedule_and_close_with_the_error() {
    let mut w = PlainWorld::connected(PlainConfig::new(URL), default_reconnect());
    w.socket_closes(1006);
    for delay in [0, 2, 10, 30] {
        w.advance(Duration::from_secs(delay));
        w.socket_closes(1006);
    }
    assert_eq!(w.open_times(), vec![0, 0, 2_000, 12_000, 42_000]);
    assert_eq!(w.lifecycle().last().map(String::as_str), Some("closed: The WebSocket could not be opened (status code 1006)."));
}

#[test]
fn without_automatic_reconnect_a_drop_closes() {
    let mut w = PlainWorld::connected(PlainConfig::new(URL), None);
    w.socket_closes(1006);
    assert_eq!(w.lifecycle(), vec!["started", "closed: WebSocket closed with status code: 1006."]);
}

#[test]
fn a_first_start_that_fails_is_reported_to_start() {
    let mut w = PlainWorld::new(PlainConfig::new(URL), default_reconnect());
    w.session.start(w.now).expect("starts");
    w.drain();
    w.socket_closes(1006);
    assert_eq!(w.lifecycle(), vec!["start failed: The WebSocket could not be opened (status code 1006)."]);
}

#[test]
fn a_retried_first_start_keeps_trying_until_the_server_is_up() {
    let reconnect = Some(ReconnectOptions {
        policy: Box::new(DelaySchedule::from_millis(&[1_000]).keep_trying(true)),
        retry_first_start: true,
    });
    let mut w = PlainWorld::new(PlainConfig::new(URL), reconnect);
    w.session.start(w.now).expect("starts");
    w.drain();
    for _ in 0..3 {
        w.socket_closes(1006);
        w.advance(Duration::from_secs(1));
    }
    w.socket_opens();
    assert_eq!(w.open_times(), vec![0, 1_000, 2_000, 3_000]);
    assert_eq!(w.lifecycle(), vec!["started"]);
}

#[test]
fn a_token_is_fetched_for_every_connect() {
    let mut config = PlainConfig::new(URL);
    config.uses_access_token = true;
    let mut w = PlainWorld::connected(config, default_reconnect());
    w.socket_closes(1006);
    let urls: Vec<&str> = w.opens.iter().map(|(_, url)| url.as_str()).collect();
    assert_eq!(urls, vec![format!("{URL}?access_token=t1"), format!("{URL}?access_token=t2")]);
}

#[test]
fn messages_go_to_the_handlers_of_their_exact_type() {
    let mut w = PlainWorld::connected(PlainConfig::new(URL), None);
    w.session.on("stats:tasks", "tasks");
    w.session.on("stats:tasks", "tasks-again");
    w.session.on("stats:approvals", "approvals");
    w.session.off("stats:tasks", Some(&"tasks-again"));
    for frame in [
        r#"{"type":"stats:tasks","payload":{"open":1}}"#,
        r#"{"type":"STATS:TASKS","payload":{"open":2}}"#,
        r#"{"type":"stats:approvals","payload":{"pending":0}}"#,
    ] {
        w.session.handle_socket_text(w.now, frame);
    }
    w.drain();
    let deliveries: Vec<(String, Vec<&str>)> = w
        .events
        .iter()
        .filter_map(|e| match e {
            PlainSessionEvent::Message { kind, handlers, .. } => Some((kind.clone(), handlers.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        deliveries,
        vec![
            ("stats:tasks".to_string(), vec!["tasks"]),
            ("STATS:TASKS".to_string(), vec![]),
            ("stats:approvals".to_string(), vec!["approvals"]),
        ]
    );
}

#[test]
fn stop_closes_the_socket_and_reports_closed_without_an_error() {
    let mut w = PlainWorld::connected(PlainConfig::new(URL), default_reconnect());
    w.session.stop(w.now);
    w.drain();
    w.advance(Duration::from_secs(60));
    assert_eq!(w.socket_closes, 1);
    assert_eq!(w.lifecycle(), vec!["started", "closed"]);
    assert_eq!(w.open_times(), vec![0], "no reconnect after stop");
}
