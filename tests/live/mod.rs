#![allow(dead_code)]

//! A fake world around one `Subscription` on a virtual clock: a poll endpoint that serves the
//! current server document (or fails, or never answers), a push connection the test moves up
//! and down, and recording lists of what the subscription asked for and delivered, so each
//! test reads as a story in virtual seconds.

use std::time::Duration;

use hubwire::core::subscription::{
    FlagSource, Origin, PollConfig, PollKind, Source, Subscription, SubscriptionConfig, SubscriptionEvent,
    SubscriptionOutput, SubscriptionTelemetry, Update,
};
use hubwire::core::Instant;

/// The key every test update shares (one user's obligations summary).
pub const KEY: &str = "u-1";

/// How polls are answered.
#[derive(Debug, Clone, PartialEq)]
pub enum PollEndpoint {
    /// At once, with the server's current document.
    Serve,
    /// At once, with this error.
    Fail(&'static str),
    /// Not at all: the test answers with `answer_poll` / `fail_poll`, or lets it time out.
    Hold,
}

/// One poll the subscription asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct PollRecord {
    pub id: u64,
    pub kind: PollKind,
    /// Virtual ms.
    pub at: u64,
}

pub struct World {
    pub sub: Subscription<String>,
    pub now: Instant,
    pub endpoint: PollEndpoint,
    /// The version the server holds; polls return `v<version>`.
    pub server_version: u64,
    /// The flag value reads return (`Err` to fail them); `None` holds the read.
    pub flag_answer: Option<Result<bool, &'static str>>,
    pub flag_reads: Vec<u64>,
    pub polls: Vec<PollRecord>,
    /// Polls asked for and not answered yet (ids).
    pub held: Vec<u64>,
    pub cancelled: Vec<u64>,
    pub attached: bool,
    pub attaches: u32,
    pub detaches: u32,
    pub delivered: Vec<(String, Origin)>,
    pub sources: Vec<Source>,
    pub telemetry: Vec<SubscriptionTelemetry>,
}

/// Settings for a subscription that pushes with the flag on and polls at 45 s.
pub fn config() -> SubscriptionConfig {
    SubscriptionConfig::default()
}

/// The same with this flag source.
pub fn with_flag(flag: FlagSource) -> SubscriptionConfig {
    SubscriptionConfig { flag, ..SubscriptionConfig::default() }
}

/// The same with these poll settings.
pub fn with_poll(poll: PollConfig) -> SubscriptionConfig {
    SubscriptionConfig { poll: Some(poll), ..SubscriptionConfig::default() }
}

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// The update for `version` of the key's document.
pub fn doc(version: u64) -> Update<String> {
    Update { value: format!("v{version}"), key: Some(KEY.to_string()), version: Some(version as f64) }
}

impl World {
    /// A world with a subscription that has not started; polls are served, flags answer `true`.
    pub fn new(config: SubscriptionConfig) -> Self {
        World {
            sub: Subscription::new(config),
            now: Instant::from_millis(0),
            endpoint: PollEndpoint::Serve,
            server_version: 1,
            flag_answer: Some(Ok(true)),
            flag_reads: Vec::new(),
            polls: Vec::new(),
            held: Vec::new(),
            cancelled: Vec::new(),
            attached: false,
            attaches: 0,
            detaches: 0,
            delivered: Vec::new(),
            sources: Vec::new(),
            telemetry: Vec::new(),
        }
    }

    /// Creates and starts.
    pub fn started(config: SubscriptionConfig) -> Self {
        let mut world = World::new(config);
        world.start();
        world
    }

    pub fn start(&mut self) {
        self.sub.start(self.now).expect("a new subscription starts");
        self.drain();
    }

    /// Performs everything the subscription asked for, answering at once where the world does.
    pub fn drain(&mut self) {
        while let Some(output) = self.sub.poll_output() {
            match output {
                SubscriptionOutput::ReadFlag => {
                    self.flag_reads.push(self.now.as_millis());
                    if let Some(answer) = self.flag_answer {
                        self.sub.flag_read(self.now, answer.map_err(str::to_string));
                    }
                }
                SubscriptionOutput::Poll { id, kind } => {
                    self.polls.push(PollRecord { id, kind, at: self.now.as_millis() });
                    match self.endpoint.clone() {
                        PollEndpoint::Serve => self.sub.poll_settled(self.now, id, Ok(doc(self.server_version))),
                        PollEndpoint::Fail(error) => self.sub.poll_settled(self.now, id, Err(error.to_string())),
                        PollEndpoint::Hold => self.held.push(id),
                    }
                }
                SubscriptionOutput::CancelPoll { id } => {
                    self.held.retain(|h| *h != id);
                    self.cancelled.push(id);
                }
                SubscriptionOutput::AttachPush => {
                    self.attached = true;
                    self.attaches += 1;
                }
                SubscriptionOutput::DetachPush => {
                    self.attached = false;
                    self.detaches += 1;
                }
                SubscriptionOutput::Event(SubscriptionEvent::Update { value, origin }) => {
                    self.delivered.push((value, origin))
                }
                SubscriptionOutput::Event(SubscriptionEvent::SourceChanged { current, .. }) => {
                    self.sources.push(current)
                }
                SubscriptionOutput::Event(SubscriptionEvent::Telemetry(record)) => self.telemetry.push(record),
            }
        }
    }

    /// Advances virtual time, firing timers at their deadlines.
    pub fn advance(&mut self, by: Duration) {
        let end = self.now + by;
        while let Some(deadline) = self.sub.poll_timeout().filter(|at| *at <= end) {
            self.now = deadline.max(self.now);
            self.sub.handle_timeout(self.now);
            self.drain();
        }
        self.now = end;
    }

    // ----- the push connection --------------------------------------------------------------

    /// Connected (and joined): push delivers.
    pub fn push_up(&mut self) {
        self.sub.push_up(self.now);
        self.drain();
    }

    /// Lost and reconnecting (or still on a retried first start).
    pub fn push_reconnecting(&mut self) {
        self.sub.push_down(self.now, "connection lost", true);
        self.drain();
    }

    /// Failed to start, or closed for good.
    pub fn push_failed(&mut self, reason: &str) {
        self.sub.push_down(self.now, reason, false);
        self.drain();
    }

    /// The server pushes `version`.
    pub fn push(&mut self, version: u64) {
        self.sub.push_update(self.now, doc(version));
        self.drain();
    }

    // ----- answering by hand ----------------------------------------------------------------

    /// Answers the oldest held poll with the server's document.
    pub fn answer_poll(&mut self) {
        let id = self.held.remove(0);
        self.sub.poll_settled(self.now, id, Ok(doc(self.server_version)));
        self.drain();
    }

    /// Answers the oldest held poll with `version`.
    pub fn answer_poll_with(&mut self, version: u64) {
        let id = self.held.remove(0);
        self.sub.poll_settled(self.now, id, Ok(doc(version)));
        self.drain();
    }

    /// Fails the oldest held poll.
    pub fn fail_poll(&mut self, error: &str) {
        let id = self.held.remove(0);
        self.sub.poll_settled(self.now, id, Err(error.to_string()));
        self.drain();
    }

    /// Answers the pending flag read.
    pub fn answer_flag(&mut self, answer: Result<bool, &str>) {
        self.sub.flag_read(self.now, answer.map_err(str::to_string));
        self.drain();
    }

    pub fn refresh(&mut self) -> Option<u64> {
        let id = self.sub.refresh(self.now);
        self.drain();
        id
    }

    pub fn unsubscribe(&mut self) {
        self.sub.stop(self.now);
        self.drain();
    }

    // ----- reading the record ---------------------------------------------------------------

    /// When polls were made, in virtual seconds (ms precision kept as fractions are not used).
    pub fn poll_times(&self) -> Vec<u64> {
        self.polls.iter().map(|p| p.at).collect()
    }

    pub fn poll_kinds(&self) -> Vec<PollKind> {
        self.polls.iter().map(|p| p.kind).collect()
    }

    /// Delivered values, in order.
    pub fn values(&self) -> Vec<String> {
        self.delivered.iter().map(|(v, _)| v.clone()).collect()
    }

    /// Telemetry records of one kind, picked by `select`.
    pub fn records<R>(&self, select: impl Fn(&SubscriptionTelemetry) -> Option<R>) -> Vec<R> {
        self.telemetry.iter().filter_map(select).collect()
    }

    /// Forgets what was recorded so far (not the subscription's state).
    pub fn clear_record(&mut self) {
        self.flag_reads.clear();
        self.polls.clear();
        self.cancelled.clear();
        self.delivered.clear();
        self.sources.clear();
        self.telemetry.clear();
    }
}
