//! The engine: a `HubSession` (hub link under its supervisor, official retry policy) driven by
//! an arbitrary sequence of inputs on a virtual clock — app calls, negotiate answers, transport
//! opens, frames, closes (current and stale), token answers, lifecycle events and time passing.
//!
//! Invariants checked on every input sequence:
//! - no panic;
//! - no pump spins: one input yields a bounded number of outputs, and after `handle_timeout(now)`
//!   no timer is still due at `now` (nothing re-arms itself without time passing);
//! - no token in text: the access token and the connection token (plain or percent-encoded)
//!   appear in no error, log line, state change or telemetry record, even when every transport
//!   error the "browser" reports quotes them;
//! - every invoke settles: after the input, the app stops, the transport closes and a minute
//!   passes; each id `invoke` returned has had its result.
#![no_main]

use std::collections::BTreeSet;

use hubwire::core::hub::{HttpFailure, HttpResponse, HubConfig, Output, TransportId};
use hubwire::core::retry::DelaySchedule;
use hubwire::core::session::{HubSession, SessionEvent, SessionOutput};
use hubwire::core::supervisor::{GroupSpec, ReconnectOptions};
use hubwire::core::Instant;
use hubwire::protocol::negotiate::encode_query_value;
use hubwire::protocol::{HubMessage, HubProtocol, Payload, RawJson, TransportData};
use libfuzzer_sys::fuzz_target;

const ACCESS_TOKEN: &str = "acc-s3cr3t#token";
const CONNECTION_TOKEN: &str = "conn-s3cr3t&token";
/// Server text never carries this (it is replaced), so only our own leaks can show it.
const SECRET_MARK: &str = "s3cr3t";
/// More outputs than this from one input is a spin.
const MAX_OUTPUTS_PER_INPUT: usize = 2_000;

type Handler = u8;

struct Run<'a> {
    data: &'a [u8],
    at: usize,
    session: HubSession<Handler>,
    now: Instant,
    /// Outstanding HTTP requests: (id, whether it is a negotiate).
    pending_http: Vec<(u64, bool)>,
    invoked: BTreeSet<u64>,
    /// The subset of `invoked` that are streams (cancelling one ends the app's interest).
    streams: BTreeSet<u64>,
    settled: BTreeSet<u64>,
    /// Whether the core has put the access token / the connection token into a URL or header
    /// it asked for: only then can a browser's error quote it.
    gave_access_token: bool,
    gave_connection_token: bool,
    /// The core asked for a token and has not been answered yet.
    token_requested: bool,
    /// The hub protocol of this run (JSON, or MessagePack for inputs of odd length).
    protocol: HubProtocol,
}

impl Run<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.data.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        b
    }

    /// Arbitrary server text, with the secret mark taken out (a server may send anything, but
    /// these tests are about what we leak).
    fn text(&mut self) -> String {
        let len = usize::from(self.byte() % 64);
        let start = self.at.min(self.data.len());
        let end = (start + len).min(self.data.len());
        let text = String::from_utf8_lossy(&self.data[start..end]).replace(SECRET_MARK, "x");
        self.at = end;
        text
    }

    fn drain(&mut self) {
        let mut count = 0;
        while let Some(output) = self.session.poll_output() {
            count += 1;
            assert!(count <= MAX_OUTPUTS_PER_INPUT, "one input produced more than {MAX_OUTPUTS_PER_INPUT} outputs");
            match output {
                SessionOutput::Io(Output::Http(request)) => {
                    // What a browser could quote is what the core put into a request.
                    let seen = format!("{} {:?}", request.url, request.headers);
                    self.gave_access_token |= seen.contains(&encode_query_value(ACCESS_TOKEN)) || seen.contains(ACCESS_TOKEN);
                    self.gave_connection_token |= seen.contains(&encode_query_value(CONNECTION_TOKEN));
                    self.pending_http.push((request.id, request.url.contains("/negotiate")));
                }
                SessionOutput::Io(Output::OpenTransport { url, .. }) => {
                    self.gave_access_token |= url.contains(&encode_query_value(ACCESS_TOKEN));
                    self.gave_connection_token |= url.contains(&encode_query_value(CONNECTION_TOKEN));
                }
                SessionOutput::Io(Output::FetchAccessToken) => self.token_requested = true,
                SessionOutput::Io(Output::CloseTransport { transport }) => {
                    self.session.handle_transport_closed(self.now, transport, None);
                }
                SessionOutput::Io(_) => {}
                SessionOutput::Event(event) => self.check_event(event),
            }
        }
    }

    fn check_event(&mut self, event: SessionEvent<Handler>) {
        match &event {
            SessionEvent::InvocationResult { id, .. } => {
                self.settled.insert(*id);
            }
            // Payloads are the server's data, passed on as they came.
            SessionEvent::Invocation { .. } | SessionEvent::StreamItem { .. } => return,
            _ => {}
        }
        let text = format!("{event:?}");
        for secret in [ACCESS_TOKEN, CONNECTION_TOKEN] {
            assert!(!text.contains(secret), "a token leaked: {text}");
            assert!(!text.contains(&encode_query_value(secret)), "an encoded token leaked: {text}");
        }
    }

    /// Answers the latest request; returns whether it was a negotiate.
    fn answer_http(&mut self, response: Result<HttpResponse, HttpFailure>) -> bool {
        match self.pending_http.pop() {
            Some((id, negotiate)) => {
                self.session.handle_http(self.now, id, response);
                negotiate
            }
            None => false,
        }
    }

    fn negotiate_body(&mut self) -> String {
        let transports = match self.byte() % 4 {
            0 => r#"[{"transport":"WebSockets","transferFormats":["Text"]}]"#,
            1 => r#"[{"transport":"ServerSentEvents","transferFormats":["Text"]},{"transport":"LongPolling","transferFormats":["Text"]}]"#,
            2 => r#"[{"transport":"WebSockets","transferFormats":["Text","Binary"]},{"transport":"LongPolling","transferFormats":["Text","Binary"]}]"#,
            _ => "[]",
        };
        let stateful = self.byte() % 2 == 0;
        format!(
            r#"{{"connectionId":"c{}","connectionToken":"{CONNECTION_TOKEN}","negotiateVersion":1,"useStatefulReconnect":{stateful},"availableTransports":{transports}}}"#,
            self.at
        )
    }

    /// An error text as a browser would word it, quoting the URL with the tokens the core
    /// has put into it, and those tokens once more as plain text.
    fn quoting_error(&self) -> String {
        let mut text = String::from("Failed to connect to ws://h/hub");
        let mut plain = Vec::new();
        if self.gave_connection_token {
            text.push_str(&format!("?id={}", encode_query_value(CONNECTION_TOKEN)));
            plain.push(CONNECTION_TOKEN);
        }
        if self.gave_access_token {
            text.push_str(&format!("&access_token={}", encode_query_value(ACCESS_TOKEN)));
            plain.push(ACCESS_TOKEN);
        }
        text.push_str(&format!(" ({})", plain.join(", ")));
        text
    }

    /// A payload in the run's protocol.
    fn payload(&self, json: RawJson) -> Payload {
        match self.protocol {
            HubProtocol::Json => json.into(),
            HubProtocol::MessagePack => hubwire::protocol::msgpack::from_json(&json.to_value()).into(),
        }
    }

    fn frame(&mut self) -> TransportData {
        let id = u64::from(self.byte() % 4);
        let message = match self.byte() % 8 {
            0 => HubMessage::Ping,
            1 => HubMessage::Invocation { invocation_id: None, target: "Tick".into(), arguments: self.payload(RawJson::from_value(&[id])), stream_ids: vec![] },
            2 => HubMessage::Completion { invocation_id: id.to_string(), completion: hubwire::protocol::Completion::Void },
            3 => HubMessage::Close { error: Some("bye".into()), allow_reconnect: self.byte() % 2 == 0 },
            4 => HubMessage::Sequence { sequence_id: id },
            5 => HubMessage::Ack { sequence_id: id },
            6 => HubMessage::StreamItem { invocation_id: id.to_string(), item: self.payload(RawJson::from_value(&id)) },
            _ => HubMessage::Completion { invocation_id: id.to_string(), completion: hubwire::protocol::Completion::Error("no".into()) },
        };
        self.protocol.encode(&message)
    }

    fn advance(&mut self, by_ms: u64) {
        let end = Instant::from_millis(self.now.as_millis() + by_ms);
        let mut fired = 0;
        while let Some(deadline) = self.session.poll_timeout().filter(|at| *at <= end) {
            self.now = deadline.max(self.now);
            self.session.handle_timeout(self.now);
            self.drain();
            if let Some(next) = self.session.poll_timeout() {
                assert!(next > self.now, "a timer is still due at {:?} right after handle_timeout: a spin", self.now);
            }
            fired += 1;
            assert!(fired < 100_000, "timers kept firing without end");
        }
        self.now = end.max(self.now);
    }

    fn step(&mut self) {
        let transport = self.session.transport_id();
        match self.byte() % 16 {
            0 => {
                let _ = self.session.start(self.now);
            }
            1 => self.session.stop(self.now),
            2 => {
                let body = self.negotiate_body();
                let _ = self.answer_http(Ok(HttpResponse { status: 200, status_text: "OK".into(), body: body.into() }));
            }
            3 => {
                let status = [200, 204, 401, 404, 500][usize::from(self.byte() % 5)];
                let body = self.text();
                let _ = self.answer_http(Ok(HttpResponse { status, status_text: String::new(), body: body.into() }));
            }
            4 => {
                let error = self.quoting_error();
                let _ = self.answer_http(Err(HttpFailure::Network(error)));
            }
            5 => self.session.handle_transport_opened(self.now, transport),
            6 => self.session.handle_transport_data(self.now, transport, "{}\u{1e}"),
            7 => {
                let text = self.text();
                self.session.handle_transport_data(self.now, transport, &text);
            }
            8 => {
                let frame = self.frame();
                self.session.handle_transport_binary(self.now, transport, frame.as_bytes());
            }
            9 => {
                let error = self.quoting_error();
                self.session.handle_transport_closed(self.now, transport, Some(error));
            }
            10 => {
                // A late close of an earlier transport must change nothing.
                let stale = TransportId(transport.0.wrapping_sub(1));
                self.session.handle_transport_closed(self.now, stale, Some("stale".into()));
            }
            11 => {
                let by = u64::from(self.byte()) * 37;
                self.advance(by);
            }
            12 => match self.byte() % 4 {
                0 => {
                    if let Ok(id) = self.session.invoke(self.now, "Echo", self.payload(RawJson::from_value(&[1]))) {
                        self.invoked.insert(id);
                    }
                }
                1 => {
                    let _ = self.session.send(self.now, "Send", self.payload(RawJson::empty_array()));
                }
                2 => {
                    if let Ok((id, _)) = self.session.stream(self.now, "Count", self.payload(RawJson::from_value(&[3])), 0) {
                        self.invoked.insert(id);
                        self.streams.insert(id);
                    }
                }
                _ => {
                    let id = u64::from(self.byte() % 8);
                    self.session.cancel_stream(self.now, id);
                    // A cancelled stream is over for the app (as the official client's dispose);
                    // an invoke's id given to cancel_stream must still settle.
                    if self.streams.remove(&id) {
                        self.invoked.remove(&id);
                    }
                }
            },
            13 => {
                let answer = if self.byte() % 3 == 0 {
                    // A token the core never received can only be caught by its pattern.
                    Err(format!("token refresh failed: https://idp/refresh?access_token={}", encode_query_value(ACCESS_TOKEN)))
                } else {
                    Ok(Some(ACCESS_TOKEN.to_string()))
                };
                self.token_requested = false;
                self.session.handle_access_token(self.now, answer);
            }
            14 => match self.byte() % 5 {
                0 => self.session.set_online(self.now, false),
                1 => self.session.set_online(self.now, true),
                2 => self.session.page_visible(self.now),
                3 => self.session.page_hidden(self.now),
                _ => {
                    let persisted = self.byte() % 2 == 0;
                    self.session.page_shown(self.now, persisted);
                }
            },
            _ => {
                let spec = GroupSpec { join: "Join".into(), leave: "Leave".into(), args: self.payload(RawJson::from_value(&["g"])) };
                let _ = self.session.join_group(self.now, spec);
            }
        }
        self.drain();
    }
}

fuzz_target!(|data: &[u8]| {
    let mut config = HubConfig::new("http://127.0.0.1:5000/hub");
    config.uses_access_token = data.first().is_some_and(|b| b & 1 == 1);
    config.stateful_reconnect = data.first().is_some_and(|b| b & 2 == 2);
    config.protocol = if data.len() % 2 == 1 { HubProtocol::MessagePack } else { HubProtocol::Json };
    let protocol = config.protocol;
    let reconnect = Some(ReconnectOptions { policy: Box::new(DelaySchedule::official_default()), retry_first_start: data.first().is_some_and(|b| b & 4 == 4) });
    let mut run = Run {
        data,
        at: 1,
        session: HubSession::new(config, reconnect),
        now: Instant::from_millis(0),
        pending_http: Vec::new(),
        invoked: BTreeSet::new(),
        streams: BTreeSet::new(),
        settled: BTreeSet::new(),
        gave_access_token: false,
        gave_connection_token: false,
        token_requested: false,
        protocol,
    };
    run.session.on("Tick", 1);
    while run.at < data.len() {
        run.step();
    }
    // The end of the page: everything the app asked must settle.
    run.session.stop(run.now);
    run.drain();
    let transport = run.session.transport_id();
    run.session.handle_transport_closed(run.now, transport, None);
    run.drain();
    while let Some((id, _)) = run.pending_http.pop() {
        run.session.handle_http(run.now, id, Err(HttpFailure::Network("gone".into())));
        run.drain();
    }
    run.advance(60_000);
    let unsettled: Vec<_> = run.invoked.difference(&run.settled).collect();
    assert!(unsettled.is_empty(), "invocations never settled: {unsettled:?}");
});
