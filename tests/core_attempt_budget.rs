//! The attempt budget is an invariant: whatever the server does, transport attempts (stateful
//! resumes included) follow the retry policy.
//!
//! A fake server plays adversarial behaviours against a `HubSession` on a virtual clock: a
//! table of behaviours, each on every transport, with and without stateful reconnect, and then
//! random sequences of behaviours and delays over many seeds. The first connection is good
//! (and established); it is then lost, and every later attempt meets the adversary. With the
//! official default policy (0, 2, 10, 30 s) each run must show:
//!
//! - at most five connection attempts in all (the first plus four retries, a resume counting
//!   as one), each retry no sooner after the previous attempt than the policy's delay;
//! - `onreconnecting` once per lost connection, `onreconnected` in between, and `onclose` once
//!   at the end (no `StartFailed`: the app's start succeeded);
//! - every invoke settles;
//! - no pump yields more than a bounded number of outputs, and no timer is due in the past.

mod util;

use std::collections::BTreeSet;

use hubwire::core::hub::{HttpFailure, HttpRequest, HttpResponse, HubConfig, Output, TransportId};
use hubwire::core::retry::DelaySchedule;
use hubwire::core::session::{HubSession, SessionEvent, SessionOutput};
use hubwire::core::supervisor::ReconnectOptions;
use hubwire::core::Instant;
use hubwire::protocol::negotiate::TransportKind;
use hubwire::protocol::RawJson;
use util::{Handler, HUB_URL};

/// What the server does with one connection attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    /// Negotiate answers 503.
    RefuseNegotiate,
    /// Negotiate is fine; the transport never opens (socket refused, first poll fails).
    RefuseTransport,
    /// The transport opens and closes at once, before the handshake is answered.
    CloseBeforeHandshakeAnswer,
    /// The handshake is answered, then the transport closes.
    CloseAfterHandshakeAnswer,
    /// The transport opens; the handshake is never answered.
    NeverAnswerHandshake,
    /// The handshake is answered with an error.
    HandshakeError,
    /// The handshake is answered, then a Close with `allowReconnect`.
    CloseWithAllowReconnect,
    /// The handshake is answered with one more frame, then silence.
    OneFrameThenSilent,
}

const ADVERSARIES: [Behaviour; 8] = [
    Behaviour::RefuseNegotiate,
    Behaviour::RefuseTransport,
    Behaviour::CloseBeforeHandshakeAnswer,
    Behaviour::CloseAfterHandshakeAnswer,
    Behaviour::NeverAnswerHandshake,
    Behaviour::HandshakeError,
    Behaviour::CloseWithAllowReconnect,
    Behaviour::OneFrameThenSilent,
];

const KINDS: [TransportKind; 3] = [TransportKind::WebSockets, TransportKind::ServerSentEvents, TransportKind::LongPolling];

/// The official default delays, in ms.
const POLICY: [u64; 4] = [0, 2_000, 10_000, 30_000];

/// A pump yielding more outputs than this is taken for a spin.
const MAX_OUTPUTS_PER_PUMP: usize = 500;

/// xorshift64*: a small deterministic generator, so every failing seed can be replayed.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Where the server is with the current transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Asked to open (WebSockets, Server-Sent Events) or the first poll is outstanding.
    Opening,
    /// Open; waiting for the client's first frame (handshake, or Sequence after a resume).
    Open,
    /// The client spoke; the server answers per its behaviour.
    ClientSpoke,
    /// The server has done what its behaviour says; it may still have to close.
    Answered { close: bool },
    /// Nothing more will happen unless the client acts.
    Idle,
}

struct Fake {
    session: HubSession<Handler>,
    now: Instant,
    kind: TransportKind,
    stateful: bool,
    /// Behaviours of the attempts after the good first connection, in order (the last repeats).
    script: Vec<Behaviour>,
    /// Random delays (ms, below the stable-connection threshold) before server actions.
    rng: Option<Rng>,
    /// Connection attempts so far: negotiates, and resumes (a new socket without negotiate).
    attempts: Vec<u64>,
    /// The good first connection: kept up with Pings until `loss_at`, then lost.
    good: bool,
    loss_at: u64,
    next_ping_at: Option<u64>,
    /// The current transport and the server's stage with it.
    transport: Option<(TransportId, Stage)>,
    /// Whether the current transport is a resumed socket.
    resumed: bool,
    /// A negotiate was made since the last transport open (else a new socket is a resume).
    negotiated: bool,
    /// Unanswered HTTP requests.
    http: Vec<HttpRequest>,
    /// The outstanding long poll (after the first), held by the server.
    held_poll: Option<u64>,
    /// When the server acts next (its random delay).
    act_at: u64,
    events: Vec<SessionEvent<Handler>>,
    invokes: Vec<u64>,
    invoked_on: BTreeSet<u64>,
    links: u64,
}

impl Fake {
    fn new(kind: TransportKind, stateful: bool, script: Vec<Behaviour>, rng: Option<Rng>) -> Self {
        Fake::with_policy(DelaySchedule::official_default(), kind, stateful, script, rng)
    }

    fn with_policy(
        policy: DelaySchedule,
        kind: TransportKind,
        stateful: bool,
        script: Vec<Behaviour>,
        rng: Option<Rng>,
    ) -> Self {
        let mut config = HubConfig::new(HUB_URL);
        config.stateful_reconnect = stateful;
        let reconnect = ReconnectOptions { policy: Box::new(policy), retry_first_start: false };
        Fake {
            session: HubSession::new(config, Some(reconnect)),
            now: Instant::from_millis(0),
            kind,
            stateful,
            script,
            rng,
            attempts: Vec::new(),
            good: true,
            loss_at: 60_000,
            next_ping_at: None,
            transport: None,
            resumed: false,
            negotiated: false,
            http: Vec::new(),
            held_poll: None,
            act_at: 0,
            events: Vec::new(),
            invokes: Vec::new(),
            invoked_on: BTreeSet::new(),
            links: 0,
        }
    }

    fn behaviour(&self) -> Behaviour {
        // Attempt 0 is the good first connection; attempt n meets script[n - 1].
        let index = self.attempts.len().saturating_sub(2);
        *self.script.get(index).or(self.script.last()).expect("a script")
    }

    fn delay(&mut self) -> u64 {
        match &mut self.rng {
            Some(rng) => rng.below(2_000),
            None => 0,
        }
    }

    fn ms(&self) -> u64 {
        self.now.as_millis()
    }

    /// Drains one pump's outputs, acting as the shell does (a requested close is answered at
    /// once, naming the transport).
    fn drain(&mut self) {
        let mut count = 0;
        while let Some(output) = self.session.poll_output() {
            count += 1;
            assert!(count <= MAX_OUTPUTS_PER_PUMP, "a pump spun past {MAX_OUTPUTS_PER_PUMP} outputs: {:?}", self.events.last());
            match output {
                SessionOutput::Io(Output::Http(request)) => {
                    if request.method == "POST" && request.url.contains("/negotiate") {
                        self.attempts.push(self.ms());
                        self.negotiated = true;
                    }
                    self.http.push(request);
                }
                SessionOutput::Io(Output::OpenTransport { transport, .. }) => {
                    // A new socket without a negotiate in between is a stateful resume.
                    let resume = !std::mem::take(&mut self.negotiated);
                    if resume {
                        self.attempts.push(self.ms());
                    }
                    self.resumed = resume;
                    self.transport = Some((transport, Stage::Opening));
                    self.act_at = self.ms() + self.delay();
                }
                SessionOutput::Io(Output::Send(_)) => {
                    if let Some((id, Stage::Open)) = self.transport {
                        self.transport = Some((id, Stage::ClientSpoke));
                        self.act_at = self.ms() + self.delay();
                    }
                }
                SessionOutput::Io(Output::CloseTransport { transport }) => {
                    if self.transport.is_some_and(|(id, _)| id == transport) {
                        self.transport = None;
                    }
                    self.session.handle_transport_closed(self.now, transport, None);
                }
                SessionOutput::Io(Output::FetchAccessToken) => self.session.handle_access_token(self.now, Ok(None)),
                SessionOutput::Io(Output::Event(_)) => unreachable!("the session consumes link events"),
                SessionOutput::Event(event) => {
                    if let SessionEvent::InvocationResult { id, .. } = &event {
                        assert!(self.invokes.contains(id), "a result for an invoke we made");
                    }
                    self.events.push(event);
                }
            }
        }
        assert!(
            self.session.poll_timeout().is_none_or(|at| at > self.now || at == self.now && count == 0),
            "a timer due in the past after a pump"
        );
    }

    fn respond(&mut self, request: &HttpRequest, status: u16, body: &str) {
        let response = HttpResponse { status, status_text: String::new(), body: body.into() };
        self.session.handle_http(self.now, request.id, Ok(response));
        self.drain();
    }

    fn negotiate_body(&mut self) -> String {
        self.links += 1;
        let name = self.kind.name();
        format!(
            r#"{{"connectionId":"c{n}","connectionToken":"t{n}","negotiateVersion":1,"useStatefulReconnect":{s},"availableTransports":[{{"transport":"{name}","transferFormats":["Text"]}}]}}"#,
            n = self.links,
            s = self.stateful,
        )
    }

    /// The server says `text` on the current transport.
    fn say(&mut self, text: &str) {
        let Some((id, _)) = self.transport else { return };
        if self.kind == TransportKind::LongPolling {
            // Long polling speaks by answering the held poll (callers wait until one is held).
            if let Some(poll) = self.held_poll.take() {
                let request = self.http.iter().position(|r| r.id == poll).map(|i| self.http.remove(i));
                if let Some(request) = request {
                    self.respond(&request, 200, text);
                }
            }
        } else {
            self.session.handle_transport_data(self.now, id, text);
            self.drain();
        }
    }

    /// The server drops the current transport.
    fn drop_transport(&mut self, reason: &str) {
        let Some((id, _)) = self.transport.take() else { return };
        if self.kind == TransportKind::LongPolling {
            if let Some(poll) = self.held_poll.take() {
                self.http.retain(|r| r.id != poll);
                self.session.handle_http(self.now, poll, Err(HttpFailure::Network(reason.into())));
            }
        } else {
            self.session.handle_transport_closed(self.now, id, Some(reason.into()));
        }
        self.drain();
    }

    /// One server action, if one is due; returns whether it acted.
    fn act(&mut self) -> bool {
        // HTTP first: negotiates, sends and polls.
        // Polls of an earlier long polling connection are forgotten: the client has, too.
        let current = format!("id=t{}&", self.links);
        self.http.retain(|r| r.method != "GET" || r.url.contains(&current));
        if let Some(index) = self.http.iter().position(|r| Some(r.id) != self.held_poll) {
            let request = self.http.remove(index);
            let behaviour = if self.good { None } else { Some(self.behaviour()) };
            // FAKE_TRACE=1 prints every request the fake answers, to replay a failing seed.
            if std::env::var("FAKE_TRACE").is_ok() {
                eprintln!("{} ms {:?} {} {} {:?}", self.ms(), self.transport, request.method, request.url, request.body);
            }
            match request.method {
                "POST" if request.url.contains("/negotiate") => {
                    if behaviour == Some(Behaviour::RefuseNegotiate) {
                        self.respond(&request, 503, "");
                    } else {
                        let body = self.negotiate_body();
                        self.respond(&request, 200, &body);
                        if self.kind == TransportKind::LongPolling {
                            // No OpenTransport for long polling: its first poll opens it.
                            self.transport = Some((self.session.transport_id(), Stage::Opening));
                        }
                    }
                }
                "POST" => {
                    // A send (the handshake included) on an HTTP transport.
                    if let Some((id, Stage::Open)) = self.transport {
                        self.transport = Some((id, Stage::ClientSpoke));
                        self.act_at = self.ms() + self.delay();
                    }
                    self.respond(&request, 200, "");
                }
                "DELETE" => self.respond(&request, 202, ""),
                _ => {
                    // A long poll: the first one opens the transport, later ones are held.
                    match self.transport {
                        Some((id, Stage::Opening)) => {
                            if behaviour == Some(Behaviour::RefuseTransport) {
                                self.session.handle_http(self.now, request.id, Err(HttpFailure::Network("refused".into())));
                                self.drain();
                            } else {
                                self.transport = Some((id, Stage::Open));
                                self.respond(&request, 200, "");
                            }
                        }
                        _ if self.held_poll.is_none() => {
                            self.held_poll = Some(request.id);
                            self.http.push(request);
                        }
                        _ => self.respond(&request, 204, ""),
                    }
                }
            }
            return true;
        }
        if self.good {
            return self.act_good();
        }
        let Some((id, stage)) = self.transport else { return false };
        if self.act_at > self.ms() {
            return false;
        }
        let behaviour = self.behaviour();
        let answer = if self.resumed { "{\"type\":6}\u{1e}" } else { "{}\u{1e}" };
        match stage {
            Stage::Opening if self.kind != TransportKind::LongPolling => {
                if behaviour == Behaviour::RefuseTransport {
                    self.transport = None;
                    self.session.handle_transport_closed(self.now, id, Some("refused".into()));
                    self.drain();
                } else {
                    self.transport = Some((id, Stage::Open));
                    self.session.handle_transport_opened(self.now, id);
                    self.drain();
                }
                true
            }
            Stage::Open if behaviour == Behaviour::CloseBeforeHandshakeAnswer => {
                self.drop_transport("closed before the handshake answer");
                true
            }
            Stage::ClientSpoke => {
                if self.kind == TransportKind::LongPolling && self.held_poll.is_none() {
                    return false;
                }
                let delay = self.delay();
                self.act_at = self.ms() + delay;
                match behaviour {
                    Behaviour::CloseBeforeHandshakeAnswer => {
                        self.drop_transport("closed before the handshake answer");
                    }
                    Behaviour::NeverAnswerHandshake => self.transport = Some((id, Stage::Idle)),
                    Behaviour::HandshakeError => {
                        self.transport = Some((id, Stage::Idle));
                        self.say("{\"error\":\"The server refuses this client.\"}\u{1e}");
                    }
                    Behaviour::CloseAfterHandshakeAnswer => {
                        self.transport = Some((id, Stage::Answered { close: true }));
                        self.say(answer);
                    }
                    Behaviour::CloseWithAllowReconnect => {
                        self.transport = Some((id, Stage::Idle));
                        self.say(&format!("{answer}{{\"type\":7,\"allowReconnect\":true}}\u{1e}"));
                    }
                    Behaviour::OneFrameThenSilent => {
                        self.transport = Some((id, Stage::Idle));
                        self.say(&format!("{answer}{{\"type\":6}}\u{1e}"));
                    }
                    Behaviour::RefuseNegotiate | Behaviour::RefuseTransport => {
                        self.transport = Some((id, Stage::Idle));
                    }
                }
                true
            }
            Stage::Answered { close: true } => {
                if self.kind == TransportKind::LongPolling && self.held_poll.is_none() {
                    return false;
                }
                self.drop_transport("closed after the handshake answer");
                true
            }
            _ => false,
        }
    }

    /// The good first connection: opens, answers, Pings every 10 s, and is lost at `loss_at`.
    fn act_good(&mut self) -> bool {
        let Some((id, stage)) = self.transport else { return false };
        match stage {
            Stage::Opening if self.kind != TransportKind::LongPolling => {
                self.transport = Some((id, Stage::Open));
                self.session.handle_transport_opened(self.now, id);
                self.drain();
                true
            }
            Stage::ClientSpoke => {
                if self.kind == TransportKind::LongPolling && self.held_poll.is_none() {
                    return false;
                }
                self.transport = Some((id, Stage::Idle));
                self.next_ping_at = Some(self.ms() + 10_000);
                self.say("{}\u{1e}");
                true
            }
            Stage::Idle if self.ms() >= self.loss_at => {
                // The loss: from now on, every attempt meets the adversary.
                self.good = false;
                self.drop_transport("WebSocket closed with status code: 1006 ().");
                true
            }
            Stage::Idle if self.next_ping_at.is_some_and(|at| at <= self.ms()) => {
                if self.kind == TransportKind::LongPolling && self.held_poll.is_none() {
                    return false;
                }
                self.next_ping_at = Some(self.ms() + 10_000);
                self.say("{\"type\":6}\u{1e}");
                true
            }
            _ => false,
        }
    }

    /// When the server wants to act next, if it is waiting for time.
    fn server_deadline(&self) -> Option<u64> {
        if self.good {
            return match self.transport {
                Some((_, Stage::Idle)) => Some(self.next_ping_at.map_or(self.loss_at, |at| at.min(self.loss_at))),
                _ => None,
            };
        }
        match self.transport {
            Some((_, Stage::Opening | Stage::Open | Stage::ClientSpoke | Stage::Answered { close: true })) => Some(self.act_at),
            _ => None,
        }
    }

    /// Invokes once on every connection the app sees Connected, so that settling is checked.
    fn maybe_invoke(&mut self) {
        if self.session.state().name() != "Connected" || !self.invoked_on.insert(self.attempts.len() as u64) {
            return;
        }
        if let Ok(id) = self.session.invoke(self.now, "Work", RawJson::from_value(&[1])) {
            self.invokes.push(id);
        }
        self.drain();
    }

    /// Runs the story for `for_ms` of virtual time.
    fn run(&mut self, for_ms: u64) {
        self.session.start(self.now).expect("start from Disconnected");
        self.drain();
        let end = for_ms;
        let mut steps = 0;
        loop {
            steps += 1;
            assert!(steps < 100_000, "the story never ends: {:?} {} at {} ms, {:?}, held {:?}, http {:?}", self.behaviour(), self.kind.name(), self.ms(), self.transport, self.held_poll, self.http.iter().map(|r| (r.id, r.method, r.url.clone())).collect::<Vec<_>>());
            self.maybe_invoke();
            if self.act() {
                continue;
            }
            let next = [self.session.poll_timeout().map(Instant::as_millis), self.server_deadline()]
                .into_iter()
                .flatten()
                .filter(|at| *at <= end)
                .min();
            let Some(at) = next else { break };
            self.now = Instant::from_millis(at.max(self.ms()));
            self.session.handle_timeout(self.now);
            self.drain();
        }
        self.now = Instant::from_millis(end.max(self.ms()));
    }

    fn count(&self, what: fn(&SessionEvent<Handler>) -> bool) -> usize {
        self.events.iter().filter(|e| what(e)).count()
    }

    /// Checks every invariant; `case` names the run in failures.
    fn check(&self, case: &str) {
        assert!(self.attempts.len() <= 1 + POLICY.len(), "{case}: {} attempts at {:?}", self.attempts.len(), self.attempts);
        // Retries: the first after the loss may be at once; each later one waits its delay.
        for (n, pair) in self.attempts[1..].windows(2).enumerate() {
            let gap = pair[1] - pair[0];
            assert!(gap >= POLICY[n + 1], "{case}: retry {} came {gap} ms after the previous attempt: {:?}", n + 2, self.attempts);
        }
        assert_eq!(self.count(|e| matches!(e, SessionEvent::StartFailed(_))), 0, "{case}");
        assert_eq!(self.count(|e| matches!(e, SessionEvent::Started)), 1, "{case}");
        let reconnecting = self.count(|e| matches!(e, SessionEvent::Reconnecting(_)));
        let reconnected = self.count(|e| matches!(e, SessionEvent::Reconnected { .. }));
        let closed = self.count(|e| matches!(e, SessionEvent::Closed(_)));
        let state = self.session.state().name();
        let silent_long_polling =
            self.kind == TransportKind::LongPolling && self.script.contains(&Behaviour::OneFrameThenSilent);
        if state == "Disconnected" {
            assert_eq!(closed, 1, "{case}: onclose once");
            // Reconnecting and reconnected alternate; the last loss is announced only when the
            // policy still allowed a retry for it (else onclose comes at once, as officially).
            assert!(
                reconnecting == reconnected + 1 || reconnecting == reconnected && reconnected > 0,
                "{case}: {reconnecting} reconnecting, {reconnected} reconnected"
            );
            // onclose comes last: with the loss's own error (none for a Close without one) when
            // the policy allowed no retry for it, without one when the retries were used up
            // (as the official client does).
            let last = self.events.iter().rev().find(|e| is_lifecycle(e));
            if reconnecting == reconnected {
                assert!(matches!(last, Some(SessionEvent::Closed(_))), "{case}: onclose last");
            } else {
                assert!(matches!(last, Some(SessionEvent::Closed(None))), "{case}: onclose last, without an error");
            }
            let order: Vec<bool> = self
                .events
                .iter()
                .filter_map(|e| match e {
                    SessionEvent::Reconnecting(_) => Some(true),
                    SessionEvent::Reconnected { .. } => Some(false),
                    _ => None,
                })
                .collect();
            assert!(order.iter().enumerate().all(|(i, r)| *r == (i % 2 == 0)), "{case}: {order:?}");
            let settled: BTreeSet<u64> = self
                .events
                .iter()
                .filter_map(|e| match e {
                    SessionEvent::InvocationResult { id, .. } => Some(*id),
                    _ => None,
                })
                .collect();
            for id in &self.invokes {
                assert!(settled.contains(id), "{case}: invoke {id} never settled");
            }
        } else {
            // Only long polling can stay up on a silent server: it has no server timeout
            // (the poll itself is the keep-alive), as in the official client.
            assert!(silent_long_polling, "{case}: still {state} after the policy's time: {:?}", self.attempts);
            assert_eq!(closed, 0, "{case}");
        }
    }
}

fn is_lifecycle(event: &SessionEvent<Handler>) -> bool {
    matches!(
        event,
        SessionEvent::Reconnecting(_) | SessionEvent::Reconnected { .. } | SessionEvent::Closed(_) | SessionEvent::Started
    )
}

/// Long enough for the whole policy with a handshake or server timeout on every attempt.
const STORY_MS: u64 = 20 * 60 * 1_000;

#[test]
fn every_adversary_on_every_transport_with_and_without_stateful_reconnect_keeps_the_budget() {
    for kind in KINDS {
        for stateful in [false, true] {
            for behaviour in ADVERSARIES {
                let case = format!("{behaviour:?} on {} (stateful: {stateful})", kind.name());
                let mut fake = Fake::new(kind, stateful, vec![behaviour], None);
                fake.run(STORY_MS);
                fake.check(&case);
                let silent_long_polling = kind == TransportKind::LongPolling && behaviour == Behaviour::OneFrameThenSilent;
                if !silent_long_polling {
                    assert_eq!(fake.attempts.len(), 5, "{case}: the first plus four retries: {:?}", fake.attempts);
                    assert_eq!(fake.session.state().name(), "Disconnected", "{case}");
                }
            }
        }
    }
}

#[test]
fn the_default_schedule_holds_against_a_server_that_closes_after_every_handshake() {
    let mut fake = Fake::new(TransportKind::WebSockets, false, vec![Behaviour::CloseAfterHandshakeAnswer], None);
    fake.run(STORY_MS);
    fake.check("close after every handshake");
    // Lost at 60 s; retries at once, then 2, 10 and 30 s after each previous attempt.
    assert_eq!(fake.attempts, vec![0, 60_000, 62_000, 72_000, 102_000]);
}

#[test]
fn a_stateful_resume_is_the_first_retry_and_a_failed_one_falls_back_to_the_schedule() {
    let mut fake = Fake::new(TransportKind::WebSockets, true, vec![Behaviour::NeverAnswerHandshake], None);
    fake.run(STORY_MS);
    fake.check("stateful, silent new sockets");
    // The resume at 60 s waits the handshake timeout (15 s) for the server to speak, then the
    // normal reconnect continues from the second retry: 2, 10 and 30 s after each attempt.
    assert_eq!(fake.attempts, vec![0, 60_000, 77_000, 102_000, 147_000]);
    assert_eq!(fake.count(|e| matches!(e, SessionEvent::Reconnecting(_))), 1);
}

#[test]
fn random_sequences_of_adversaries_and_delays_keep_the_budget() {
    for seed in 0..500u64 {
        let mut rng = Rng::new(seed);
        let kind = KINDS[rng.below(3) as usize];
        let stateful = rng.below(2) == 1;
        let script: Vec<Behaviour> = (0..6).map(|_| ADVERSARIES[rng.below(ADVERSARIES.len() as u64) as usize]).collect();
        let case = format!("seed {seed}: {script:?} on {} (stateful: {stateful})", kind.name());
        let mut fake = Fake::new(kind, stateful, script, Some(Rng::new(seed ^ 0xA5A5)));
        fake.run(STORY_MS);
        fake.check(&case);
    }
}

#[test]
fn a_policy_that_allows_no_retry_allows_no_resume_either() {
    let policy = DelaySchedule::from_millis(&[]);
    let mut fake = Fake::with_policy(policy, TransportKind::WebSockets, true, vec![Behaviour::CloseAfterHandshakeAnswer], None);
    fake.run(STORY_MS);
    assert_eq!(fake.attempts, vec![0], "the lost socket is not replaced");
    assert_eq!(fake.session.state().name(), "Disconnected");
    assert_eq!(fake.count(|e| matches!(e, SessionEvent::Closed(Some(_)))), 1);
    assert_eq!(fake.count(|e| matches!(e, SessionEvent::Reconnecting(_))), 0);
}

#[test]
fn a_policy_with_one_retry_spends_it_on_the_resume() {
    let policy = DelaySchedule::from_millis(&[0]);
    let mut fake = Fake::with_policy(policy, TransportKind::WebSockets, true, vec![Behaviour::CloseBeforeHandshakeAnswer], None);
    fake.run(STORY_MS);
    assert_eq!(fake.attempts, vec![0, 60_000], "the resume was the one retry");
    assert_eq!(fake.session.state().name(), "Disconnected");
}
