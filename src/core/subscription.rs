//! Live subscriptions: one deduped stream of updates for the app, from push when push works and
//! from polling when it does not, with push switched on and off by a feature flag.
//!
//! A subscription owns every decision of that shim and no I/O: whether push is in use (the
//! flag), when to poll (the schedule, the fallback rules, the catch-up after a (re)connect, the
//! backoff after errors, the poll timeout), when to re-read the flag, and what reaches the app
//! (the key/version [`DedupeFilter`]: each change once, never older than one already delivered).
//!
//! # Push: how a subscription uses a connection it may not open
//! The subscription does not own the connection and never sees its wire format. It asks the
//! shell to [`AttachPush`](SubscriptionOutput::AttachPush) when the flag turns on and to
//! [`DetachPush`](SubscriptionOutput::DetachPush) when it turns off or the app unsubscribes.
//! Attaching means: listen for the event (or message type), join the group, and start the
//! connection if nobody has — the shell counts the subscriptions attached to a connection and
//! stops a connection it started once the last one detaches. So with the flag off no connection
//! is opened for the subscription at all. While attached, the shell reports the connection's
//! health with [`push_up`](Subscription::push_up) (connected and, with a group, joined) and
//! [`push_down`](Subscription::push_down) (`retrying`: reconnecting, or still on its first
//! start; otherwise failed or closed for good), and hands over each pushed payload with
//! [`push_update`](Subscription::push_update).
//!
//! # Fallback rules
//! - Flag off, or no connection: polling only.
//! - Flag on: push. Polling runs whenever push is not delivering: the connection failed to
//!   start or closed for good (at once), or it has been connecting or reconnecting for longer
//!   than `fallback_after` (10 s by default).
//! - When push comes up (first connect or reconnect): polling stops and one catch-up poll covers
//!   the gap (retried with backoff until it succeeds, while push stays up). The first value
//!   comes from that poll, from the first push, or from the first poll when polling.
//! - Polls run one `interval` (45 s by default) after the previous one settled. After `n`
//!   failures in a row the wait is `interval × 2ⁿ`, capped at `max_backoff` (5 min by default,
//!   never below the interval). A poll that does not answer within `timeout` counts as failed.
//!   Failures are reported as telemetry; nothing is thrown at the app.
//! - The flag is read at start and then every `every` (when the flag is read rather than fixed)
//!   and on [`refresh`](Subscription::refresh). A read that fails keeps the last value; a
//!   first read that fails counts as off, so polling keeps the app fed.
//!
//! # Contract
//! Deterministic; `now` comes in with every call. App commands ([`start`](Subscription::start),
//! [`refresh`](Subscription::refresh), [`stop`](Subscription::stop)), inputs (`flag_read`,
//! `push_up`, `push_down`, `push_update`, `poll_settled`, `handle_timeout`), then drain
//! [`poll_output`](Subscription::poll_output) and arm one timer for
//! [`poll_timeout`](Subscription::poll_timeout). The payload type `T` is the shell's (a JS value
//! in the browser); the shell computes each update's key and version with the app's functions.

use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

use super::dedupe::{DedupeFilter, DedupeWindow, Dropped};
use super::redact::redact;
use super::text::decimal;
use super::time::Instant;

/// Poll every 45 s unless told otherwise.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(45_000);
/// Fall back to polling after push has not delivered for 10 s.
pub const DEFAULT_FALLBACK_AFTER: Duration = Duration::from_millis(10_000);
/// A poll that has not answered in 30 s failed.
pub const DEFAULT_POLL_TIMEOUT: Duration = Duration::from_millis(30_000);
/// Poll error backoff never waits longer than 5 min (unless the interval itself is longer).
pub const DEFAULT_MAX_POLL_BACKOFF: Duration = Duration::from_millis(300_000);
/// A flag that is read (function or flags document) is re-read every minute.
pub const DEFAULT_FLAG_REFRESH: Duration = Duration::from_millis(60_000);

/// Where the feature flag comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagSource {
    /// A constant: never read.
    Fixed(bool),
    /// Read through the shell ([`SubscriptionOutput::ReadFlag`]) at start, on refresh, and every
    /// `every` when set.
    Read {
        /// Re-read interval.
        every: Option<Duration>,
    },
}

/// How polling behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollConfig {
    /// Time from one poll settling to the next.
    pub interval: Duration,
    /// A poll not answered within this failed.
    pub timeout: Duration,
    /// The longest backoff after failures (raised to `interval` if below it).
    pub max_backoff: Duration,
}

impl Default for PollConfig {
    fn default() -> Self {
        PollConfig {
            interval: DEFAULT_POLL_INTERVAL,
            timeout: DEFAULT_POLL_TIMEOUT,
            max_backoff: DEFAULT_MAX_POLL_BACKOFF,
        }
    }
}

/// A subscription's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct SubscriptionConfig {
    /// There is a push connection to use at all; without one the subscription only polls.
    pub has_push: bool,
    /// The feature flag that turns push on.
    pub flag: FlagSource,
    /// Polling, if the subscription can poll; without it nothing covers for push.
    pub poll: Option<PollConfig>,
    /// How long push may be connecting or reconnecting before polling takes over.
    pub fallback_after: Duration,
    /// How long exact repeats are remembered (updates without a version).
    pub dedupe_window: DedupeWindow,
}

impl SubscriptionConfig {
    /// Checks the intervals against [`limits`](super::limits): the poll interval, timeout and
    /// backoff cap and the flag's re-read interval must be above zero (a zero poll interval
    /// would poll again in the same instant) and at most [`MAX_TIMER`](super::limits::MAX_TIMER);
    /// `fallback_after` may be zero (poll at once) but not longer than a timer can wait; the
    /// dedupe window's counts must be above zero.
    pub fn validate(&self) -> Result<(), super::limits::ConfigError> {
        use super::limits::{check_duration, ConfigError, MAX_TIMER};
        if let Some(poll) = &self.poll {
            check_duration("poll.intervalMs", poll.interval)?;
            check_duration("poll.timeoutMs", poll.timeout)?;
            check_duration("poll.maxBackoffMs", poll.max_backoff)?;
        }
        if let FlagSource::Read { every: Some(every) } = self.flag {
            check_duration("flag.refreshMs", every)?;
        }
        if self.fallback_after > MAX_TIMER {
            return Err(ConfigError::TooLong { setting: "fallbackAfterMs", millis: self.fallback_after.as_millis() });
        }
        self.dedupe_window.validate()
    }
}

impl Default for SubscriptionConfig {
    /// Push with the flag on, polling at the defaults, fallback after 10 s.
    fn default() -> Self {
        SubscriptionConfig {
            has_push: true,
            flag: FlagSource::Fixed(true),
            poll: Some(PollConfig::default()),
            fallback_after: DEFAULT_FALLBACK_AFTER,
            dedupe_window: DedupeWindow::default(),
        }
    }
}

/// Where the subscription's updates come from now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Push is delivering.
    Push,
    /// Polling is running (push is off or not delivering).
    Polling,
    /// Neither: not started, unsubscribed, or waiting for push within the fallback grace.
    Idle,
}

impl Source {
    /// The name the app sees: `push`, `polling` or `idle`.
    pub fn name(self) -> &'static str {
        match self {
            Source::Push => "push",
            Source::Polling => "polling",
            Source::Idle => "idle",
        }
    }
}

/// Which channel one update arrived on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Pushed by the server.
    Push,
    /// Returned by a poll.
    Poll,
}

impl Origin {
    /// `push` or `poll`.
    pub fn name(self) -> &'static str {
        match self {
            Origin::Push => "push",
            Origin::Poll => "poll",
        }
    }
}

/// Why a poll was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollKind {
    /// The polling schedule (fallback or flag off).
    Scheduled,
    /// Once after push came up, to cover the gap.
    CatchUp,
    /// The app called `refresh()`.
    Refresh,
}

impl PollKind {
    /// `scheduled`, `catchUp` or `refresh`.
    pub fn name(self) -> &'static str {
        match self {
            PollKind::Scheduled => "scheduled",
            PollKind::CatchUp => "catchUp",
            PollKind::Refresh => "refresh",
        }
    }
}

/// Why polling started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FallbackReason {
    /// The subscription has no push connection.
    NoPushConnection,
    /// The feature flag is off.
    FlagOff,
    /// The connection has been starting for longer than `fallback_after`.
    ConnectingTooLong {
        /// How long it had been starting.
        waited: Duration,
    },
    /// The connection has been reconnecting for longer than `fallback_after`.
    ReconnectingTooLong {
        /// How long it had been reconnecting.
        waited: Duration,
    },
    /// The connection failed to start or closed for good; the text says why.
    PushFailed(String),
}

impl FallbackReason {
    /// The reason as text (also what `Display` writes), built without `core::fmt`.
    pub fn message(&self) -> String {
        match self {
            FallbackReason::NoPushConnection => "no push connection".to_string(),
            FallbackReason::FlagOff => "flag off".to_string(),
            FallbackReason::ConnectingTooLong { waited } => {
                ["connecting for ", &decimal(waited.as_millis()), " ms"].concat()
            }
            FallbackReason::ReconnectingTooLong { waited } => {
                ["reconnecting for ", &decimal(waited.as_millis()), " ms"].concat()
            }
            FallbackReason::PushFailed(why) => ["push failed: ", why].concat(),
        }
    }
}

impl fmt::Display for FallbackReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl FallbackReason {
    /// A short machine-readable name: `noPushConnection`, `flagOff`, `connectingTooLong`,
    /// `reconnectingTooLong` or `pushFailed`.
    pub fn code(&self) -> &'static str {
        match self {
            FallbackReason::NoPushConnection => "noPushConnection",
            FallbackReason::FlagOff => "flagOff",
            FallbackReason::ConnectingTooLong { .. } => "connectingTooLong",
            FallbackReason::ReconnectingTooLong { .. } => "reconnectingTooLong",
            FallbackReason::PushFailed(_) => "pushFailed",
        }
    }
}

/// Why polling stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FallbackEnd {
    /// Push is delivering again.
    PushUp,
    /// The app unsubscribed.
    Unsubscribed,
}

impl FallbackEnd {
    /// `pushUp` or `unsubscribed`.
    pub fn code(self) -> &'static str {
        match self {
            FallbackEnd::PushUp => "pushUp",
            FallbackEnd::Unsubscribed => "unsubscribed",
        }
    }
}

/// Telemetry of one subscription. Never carries payloads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubscriptionTelemetry {
    /// Polling started.
    FallbackStarted {
        /// Why.
        reason: FallbackReason,
    },
    /// Polling stopped.
    FallbackStopped {
        /// Why.
        reason: FallbackEnd,
        /// How long it ran.
        polled_for: Duration,
        /// Polls made while it ran.
        polls: u32,
    },
    /// A poll was made.
    PollMade {
        /// Why.
        kind: PollKind,
    },
    /// A poll failed (error answer, thrown function, or timeout).
    PollFailed {
        /// Why it was made.
        kind: PollKind,
        /// What went wrong.
        error: String,
        /// When the next attempt is due, if one is scheduled.
        retry_in: Option<Duration>,
    },
    /// The source changed.
    SourceSwitched {
        /// Before.
        from: Source,
        /// Now.
        to: Source,
    },
    /// An update was dropped as a repeat or as stale.
    DuplicateDropped {
        /// Where it came from.
        origin: Origin,
        /// Why it was dropped.
        reason: Dropped,
    },
    /// The flag's value became known or changed.
    FlagChanged {
        /// Push is on.
        enabled: bool,
    },
    /// Reading the flag failed; the last value (or off) stays in force.
    FlagReadFailed {
        /// What went wrong.
        error: String,
    },
}

/// What the app hears.
#[derive(Debug, Clone, PartialEq)]
pub enum SubscriptionEvent<T> {
    /// A new value passed the dedupe: deliver it.
    Update {
        /// The value (pushed payload, or the mapped poll result).
        value: T,
        /// Where it came from.
        origin: Origin,
    },
    /// The source changed.
    SourceChanged {
        /// Before.
        previous: Source,
        /// Now.
        current: Source,
    },
    /// A telemetry record.
    Telemetry(SubscriptionTelemetry),
}

/// What the subscription asks of the shell.
#[derive(Debug, Clone, PartialEq)]
pub enum SubscriptionOutput<T> {
    /// Evaluate the flag; answer with [`Subscription::flag_read`].
    ReadFlag,
    /// Make a poll; answer with [`Subscription::poll_settled`] and the same id.
    Poll {
        /// Matches the answer.
        id: u64,
        /// Why.
        kind: PollKind,
    },
    /// Abandon a poll (it timed out or the app unsubscribed); its answer is ignored.
    CancelPoll {
        /// The poll.
        id: u64,
    },
    /// Start using the push connection (listen, join the group, start it if nobody has).
    AttachPush,
    /// Stop using it (stop listening, leave the group, stop it if this started it and nobody
    /// else uses it).
    DetachPush,
    /// Tell the app.
    Event(SubscriptionEvent<T>),
}

/// One update as the shell hands it over, with the key and version the app's functions gave.
#[derive(Debug, Clone, PartialEq)]
pub struct Update<T> {
    /// The value.
    pub value: T,
    /// What it is about (with a version), or its identity (without).
    pub key: Option<String>,
    /// How new it is: a number, or a timestamp in ms.
    pub version: Option<f64>,
}

impl<T> Update<T> {
    /// An update without key or version (always delivered).
    pub fn plain(value: T) -> Self {
        Update { value, key: None, version: None }
    }
}

/// Counters of one subscription.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SubscriptionStats {
    /// Updates delivered to the app.
    pub delivered: u64,
    /// Polls made (of every kind).
    pub polls_made: u64,
    /// Polls that failed.
    pub polls_failed: u64,
    /// Updates dropped as repeats or stale.
    pub duplicates_dropped: u64,
    /// Source changes.
    pub source_switches: u64,
    /// Times polling started.
    pub fallbacks: u64,
}

/// Why an app command was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionError {
    /// `start()` was called twice.
    AlreadyStarted,
    /// The subscription was unsubscribed; it cannot start again.
    Unsubscribed,
}

impl SubscriptionError {
    /// The message (also what `Display` writes).
    pub fn message(&self) -> &'static str {
        match self {
            SubscriptionError::AlreadyStarted => "The subscription has already started.",
            SubscriptionError::Unsubscribed => "The subscription was unsubscribed.",
        }
    }
}

impl fmt::Display for SubscriptionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for SubscriptionError {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lifecycle {
    NotStarted,
    Active,
    Unsubscribed,
}

/// The push connection as this subscription sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Push {
    /// Not in use (flag off, not decided yet, or no connection).
    Detached,
    /// In use and not delivering since `since`; `reconnecting` once it had been up.
    Waiting { since: Instant, reconnecting: bool },
    /// Delivering.
    Up,
    /// Failed to start or closed for good; polling covers until it comes up again.
    Failed,
}

#[derive(Debug, Clone)]
struct PollingEpisode {
    since: Instant,
    polls: u32,
}

#[derive(Debug, Clone, Copy)]
struct InFlight {
    id: u64,
    kind: PollKind,
    deadline: Instant,
}

/// The state machine of one live subscription.
#[derive(Debug)]
pub struct Subscription<T> {
    config: SubscriptionConfig,
    lifecycle: Lifecycle,
    /// The flag's value in force; `None` until the first read answered.
    flag: Option<bool>,
    flag_reading: bool,
    flag_read_at: Option<Instant>,
    push: Push,
    /// When push, still not up, hands over to polling.
    fallback_at: Option<Instant>,
    polling: Option<PollingEpisode>,
    /// A catch-up poll has yet to succeed since push came up.
    catch_up_pending: bool,
    /// The next scheduled (or catch-up retry) poll.
    next_poll_at: Option<Instant>,
    /// Polls failed in a row.
    failures: u32,
    in_flight: Vec<InFlight>,
    next_poll_id: u64,
    filter: DedupeFilter,
    current: Option<T>,
    source: Source,
    stats: SubscriptionStats,
    outputs: VecDeque<SubscriptionOutput<T>>,
}

impl<T: Clone> Subscription<T> {
    /// A subscription that has not started.
    pub fn new(config: SubscriptionConfig) -> Self {
        Subscription {
            filter: DedupeFilter::new(config.dedupe_window),
            config,
            lifecycle: Lifecycle::NotStarted,
            flag: None,
            flag_reading: false,
            flag_read_at: None,
            push: Push::Detached,
            fallback_at: None,
            polling: None,
            catch_up_pending: false,
            next_poll_at: None,
            failures: 0,
            in_flight: Vec::new(),
            next_poll_id: 0,
            current: None,
            source: Source::Idle,
            stats: SubscriptionStats::default(),
            outputs: VecDeque::new(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &SubscriptionConfig {
        &self.config
    }

    /// The latest value delivered.
    pub fn current(&self) -> Option<&T> {
        self.current.as_ref()
    }

    /// Where updates come from now.
    pub fn source(&self) -> Source {
        self.source
    }

    /// The flag in force (`None` before the first read answered).
    pub fn flag(&self) -> Option<bool> {
        self.flag
    }

    /// The counters.
    pub fn stats(&self) -> SubscriptionStats {
        self.stats
    }

    /// The next output, if any.
    pub fn poll_output(&mut self) -> Option<SubscriptionOutput<T>> {
        self.outputs.pop_front()
    }

    /// When `handle_timeout` must be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [self.fallback_at, self.flag_read_at, self.next_poll_at]
            .into_iter()
            .chain(self.in_flight.iter().map(|f| Some(f.deadline)))
            .flatten()
            .min()
    }

    // ----- app commands -------------------------------------------------------------------

    /// Starts: reads the flag (or applies a fixed one), or polls when there is no push.
    pub fn start(&mut self, now: Instant) -> Result<(), SubscriptionError> {
        match self.lifecycle {
            Lifecycle::Active => return Err(SubscriptionError::AlreadyStarted),
            Lifecycle::Unsubscribed => return Err(SubscriptionError::Unsubscribed),
            Lifecycle::NotStarted => {}
        }
        self.lifecycle = Lifecycle::Active;
        if !self.config.has_push {
            self.begin_polling(now, FallbackReason::NoPushConnection);
        } else {
            match self.config.flag {
                FlagSource::Fixed(enabled) => self.apply_flag(now, enabled),
                FlagSource::Read { .. } => self.read_flag(),
            }
        }
        self.update_source();
        Ok(())
    }

    /// `refresh()`: re-reads the flag (when it is read) and polls now (when the subscription
    /// can poll). Returns the id of the poll whose answer completes the refresh: the new one,
    /// or one already in flight.
    pub fn refresh(&mut self, now: Instant) -> Option<u64> {
        if self.lifecycle != Lifecycle::Active {
            return None;
        }
        if matches!(self.config.flag, FlagSource::Read { .. }) && self.config.has_push {
            self.read_flag();
        }
        self.config.poll?;
        let id = match self.in_flight.last() {
            Some(flight) => flight.id,
            None => self.issue_poll(now, PollKind::Refresh),
        };
        self.update_source();
        Some(id)
    }

    /// `unsubscribe()`: stops using push, stops polling, abandons polls in flight. Final.
    pub fn stop(&mut self, now: Instant) {
        if self.lifecycle != Lifecycle::Active {
            self.lifecycle = Lifecycle::Unsubscribed;
            return;
        }
        self.detach();
        self.end_polling(now, FallbackEnd::Unsubscribed);
        for flight in std::mem::take(&mut self.in_flight) {
            self.outputs.push_back(SubscriptionOutput::CancelPoll { id: flight.id });
        }
        self.flag_reading = false;
        self.flag_read_at = None;
        self.fallback_at = None;
        self.next_poll_at = None;
        self.catch_up_pending = false;
        self.lifecycle = Lifecycle::Unsubscribed;
        self.update_source();
    }

    // ----- inputs -------------------------------------------------------------------------

    /// The flag was read: its value, or why it could not be.
    pub fn flag_read(&mut self, now: Instant, result: Result<bool, String>) {
        if self.lifecycle != Lifecycle::Active || !self.flag_reading {
            return;
        }
        self.flag_reading = false;
        if let FlagSource::Read { every: Some(every) } = self.config.flag {
            self.flag_read_at = Some(now + every);
        }
        match result {
            Ok(enabled) => self.apply_flag(now, enabled),
            Err(error) => {
                self.telemetry(SubscriptionTelemetry::FlagReadFailed { error });
                if self.flag.is_none() {
                    self.apply_flag(now, false);
                }
            }
        }
        self.update_source();
    }

    /// The push connection is delivering: connected and, with a group, joined.
    pub fn push_up(&mut self, now: Instant) {
        if self.lifecycle != Lifecycle::Active || matches!(self.push, Push::Detached | Push::Up) {
            return;
        }
        self.push = Push::Up;
        self.fallback_at = None;
        self.end_polling(now, FallbackEnd::PushUp);
        // Reported before the catch-up poll, so the records read in the order things happen.
        self.update_source();
        if self.config.poll.is_some() {
            self.catch_up_pending = true;
            self.issue_poll(now, PollKind::CatchUp);
        }
    }

    /// The push connection is not delivering: `retrying` while it reconnects (or is still on
    /// its first start), otherwise it failed or closed for good; `reason` says why.
    pub fn push_down(&mut self, now: Instant, reason: &str, retrying: bool) {
        if self.lifecycle != Lifecycle::Active {
            return;
        }
        match (self.push, retrying) {
            (Push::Detached, _) => return,
            // Already waiting: the grace period runs from when push was lost, not from now.
            (Push::Waiting { .. }, true) => return,
            (Push::Up, true) => {
                self.push = Push::Waiting { since: now, reconnecting: true };
                self.catch_up_pending = false;
                if self.polling.is_none() {
                    self.next_poll_at = None;
                    self.fallback_at = Some(now + self.config.fallback_after);
                }
            }
            // Someone restarted a failed connection: polling already runs; wait for it to come up.
            (Push::Failed, true) => self.push = Push::Waiting { since: now, reconnecting: true },
            (Push::Failed, false) => return,
            (Push::Up | Push::Waiting { .. }, false) => {
                self.push = Push::Failed;
                self.fallback_at = None;
                self.catch_up_pending = false;
                if self.polling.is_none() {
                    self.begin_polling(now, FallbackReason::PushFailed(reason.to_string()));
                }
            }
        }
        self.update_source();
    }

    /// A payload was pushed. Delivered while the subscription uses push, whatever the
    /// connection's last reported state (data is proof enough).
    pub fn push_update(&mut self, now: Instant, update: Update<T>) {
        if self.lifecycle != Lifecycle::Active || self.push == Push::Detached {
            return;
        }
        self.deliver(now, update, Origin::Push);
    }

    /// A poll answered: the (mapped) result with its key and version, or why it failed.
    /// Answers to polls that timed out or were cancelled are ignored.
    pub fn poll_settled(&mut self, now: Instant, id: u64, result: Result<Update<T>, String>) {
        if self.lifecycle != Lifecycle::Active {
            return;
        }
        let Some(index) = self.in_flight.iter().position(|f| f.id == id) else { return };
        let flight = self.in_flight.remove(index);
        match result {
            Ok(update) => {
                self.failures = 0;
                if flight.kind == PollKind::CatchUp {
                    self.catch_up_pending = false;
                }
                self.deliver(now, update, Origin::Poll);
                if self.polling.is_some() {
                    if let Some(poll) = self.config.poll {
                        self.next_poll_at = Some(now + poll.interval);
                    }
                }
            }
            // The shell's error quotes the poll URL, which may carry a token.
            Err(error) => self.poll_failed(now, flight, redact(&error, &[])),
        }
        self.update_source();
    }

    /// Timers due: fallback, flag re-read, poll schedule, poll timeouts.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.lifecycle != Lifecycle::Active {
            return;
        }
        if self.fallback_at.is_some_and(|at| at <= now) {
            self.fallback_at = None;
            if let Push::Waiting { since, reconnecting } = self.push {
                let waited = now.saturating_duration_since(since);
                let reason = if reconnecting {
                    FallbackReason::ReconnectingTooLong { waited }
                } else {
                    FallbackReason::ConnectingTooLong { waited }
                };
                if self.polling.is_none() {
                    self.begin_polling(now, reason);
                }
            }
        }
        if self.flag_read_at.is_some_and(|at| at <= now) {
            self.flag_read_at = None;
            self.read_flag();
        }
        // Timed-out polls first, so their backoff decides the next poll rather than an old plan.
        let (expired, live): (Vec<InFlight>, Vec<InFlight>) =
            std::mem::take(&mut self.in_flight).into_iter().partition(|f| f.deadline <= now);
        self.in_flight = live;
        for flight in expired {
            self.outputs.push_back(SubscriptionOutput::CancelPoll { id: flight.id });
            let waited = self.config.poll.map_or(0, |p| p.timeout.as_millis());
            self.poll_failed(now, flight, ["The poll did not answer within ", &decimal(waited), " ms."].concat());
        }
        if self.next_poll_at.is_some_and(|at| at <= now) {
            self.next_poll_at = None;
            if self.polling.is_some() {
                self.issue_poll(now, PollKind::Scheduled);
            } else if self.catch_up_pending && self.push == Push::Up {
                self.issue_poll(now, PollKind::CatchUp);
            }
        }
        self.update_source();
    }

    // ----- internals ----------------------------------------------------------------------

    fn emit(&mut self, event: SubscriptionEvent<T>) {
        self.outputs.push_back(SubscriptionOutput::Event(event));
    }

    fn telemetry(&mut self, record: SubscriptionTelemetry) {
        self.emit(SubscriptionEvent::Telemetry(record));
    }

    fn read_flag(&mut self) {
        if !self.flag_reading {
            self.flag_reading = true;
            self.flag_read_at = None;
            self.outputs.push_back(SubscriptionOutput::ReadFlag);
        }
    }

    fn apply_flag(&mut self, now: Instant, enabled: bool) {
        if self.flag == Some(enabled) {
            return;
        }
        self.flag = Some(enabled);
        self.telemetry(SubscriptionTelemetry::FlagChanged { enabled });
        if enabled {
            self.push = Push::Waiting { since: now, reconnecting: false };
            self.outputs.push_back(SubscriptionOutput::AttachPush);
            // While polling already runs (the flag was off) it simply continues until push is up.
            if self.polling.is_none() {
                self.fallback_at = Some(now + self.config.fallback_after);
            }
        } else {
            self.detach();
            if self.polling.is_none() {
                self.begin_polling(now, FallbackReason::FlagOff);
            }
        }
    }

    fn detach(&mut self) {
        if self.push != Push::Detached {
            self.push = Push::Detached;
            self.outputs.push_back(SubscriptionOutput::DetachPush);
        }
        self.fallback_at = None;
        self.catch_up_pending = false;
    }

    fn begin_polling(&mut self, now: Instant, reason: FallbackReason) {
        if self.config.poll.is_none() || self.polling.is_some() {
            return;
        }
        self.polling = Some(PollingEpisode { since: now, polls: 0 });
        self.stats.fallbacks += 1;
        self.fallback_at = None;
        self.catch_up_pending = false;
        self.telemetry(SubscriptionTelemetry::FallbackStarted { reason });
        // A poll already in flight schedules the next one when it settles.
        if self.in_flight.is_empty() {
            self.issue_poll(now, PollKind::Scheduled);
        } else {
            self.next_poll_at = None;
        }
    }

    fn end_polling(&mut self, now: Instant, reason: FallbackEnd) {
        if let Some(episode) = self.polling.take() {
            self.next_poll_at = None;
            self.telemetry(SubscriptionTelemetry::FallbackStopped {
                reason,
                polled_for: now.saturating_duration_since(episode.since),
                polls: episode.polls,
            });
        }
    }

    fn issue_poll(&mut self, now: Instant, kind: PollKind) -> u64 {
        let id = self.next_poll_id;
        self.next_poll_id += 1;
        let timeout = self.config.poll.map_or(DEFAULT_POLL_TIMEOUT, |p| p.timeout);
        self.in_flight.push(InFlight { id, kind, deadline: now + timeout });
        if kind != PollKind::Refresh {
            self.next_poll_at = None;
        }
        self.stats.polls_made += 1;
        if let Some(episode) = &mut self.polling {
            episode.polls += 1;
        }
        self.outputs.push_back(SubscriptionOutput::Poll { id, kind });
        self.telemetry(SubscriptionTelemetry::PollMade { kind });
        id
    }

    fn poll_failed(&mut self, now: Instant, flight: InFlight, error: String) {
        self.failures = self.failures.saturating_add(1);
        self.stats.polls_failed += 1;
        let retry = self.config.poll.filter(|_| {
            self.polling.is_some()
                || (flight.kind == PollKind::CatchUp && self.catch_up_pending && self.push == Push::Up)
        });
        let retry_in = retry.map(|poll| backoff(poll, self.failures));
        if let Some(delay) = retry_in {
            self.next_poll_at = Some(now + delay);
        }
        self.telemetry(SubscriptionTelemetry::PollFailed { kind: flight.kind, error, retry_in });
    }

    fn deliver(&mut self, now: Instant, update: Update<T>, origin: Origin) {
        // With a version but no key, every update is about the same one thing.
        let key = update.key.or_else(|| update.version.map(|_| String::new()));
        match self.filter.admit(now, key.as_deref(), update.version) {
            Ok(()) => {
                self.stats.delivered += 1;
                self.current = Some(update.value.clone());
                self.emit(SubscriptionEvent::Update { value: update.value, origin });
            }
            Err(reason) => {
                self.stats.duplicates_dropped += 1;
                self.telemetry(SubscriptionTelemetry::DuplicateDropped { origin, reason });
            }
        }
    }

    fn update_source(&mut self) {
        let current = match (self.lifecycle, self.push, &self.polling) {
            (Lifecycle::Active, Push::Up, _) => Source::Push,
            (Lifecycle::Active, _, Some(_)) => Source::Polling,
            _ => Source::Idle,
        };
        if current != self.source {
            let previous = std::mem::replace(&mut self.source, current);
            self.stats.source_switches += 1;
            self.emit(SubscriptionEvent::SourceChanged { previous, current });
            self.telemetry(SubscriptionTelemetry::SourceSwitched { from: previous, to: current });
        }
    }
}

/// The wait after `failures` failed polls in a row: `interval × 2^failures`, capped at
/// `max_backoff` (but never below the interval).
pub fn backoff(poll: PollConfig, failures: u32) -> Duration {
    let cap = poll.max_backoff.max(poll.interval);
    // 2^16 × any interval already exceeds any sensible cap; the clamp keeps the shift in range.
    let factor = 1u32 << failures.min(16);
    poll.interval.checked_mul(factor).map_or(cap, |wait| wait.min(cap))
}
