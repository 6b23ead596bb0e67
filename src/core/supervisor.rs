//! The connection manager: keeps one link alive on a real network.
//!
//! A *link* is one attempt's protocol session (a SignalR hub connection today, a plain JSON
//! WebSocket later); the supervisor never sees its wire format. It hears that the link came up,
//! failed to start or went down, and decides: retry when (per the [`RetryPolicy`]), re-join
//! group memberships in order after a new connection before reporting `reconnected`, hold
//! retries while the browser is offline, retry at once when the network or the page comes back,
//! stop for the back/forward cache and resume after it.
//!
//! Inputs are `link_*` calls (from the glue that owns the link), app commands and browser
//! lifecycle calls, all with `now`; outputs are drained with [`Supervisor::poll_output`] and the
//! one retry deadline read with [`Supervisor::poll_timeout`].
//!
//! # The attempt budget
//! Every transport attempt is accounted against the retry policy, whatever the server does:
//!
//! - **Flapping**: a connection counts as established, restarting the retry schedule, once it
//!   has lived the stable-connection threshold ([`Supervisor::with_stable_connection_threshold`],
//!   default [`DEFAULT_STABLE_CONNECTION_THRESHOLD`] = 5 s). A link whose server pings
//!   ([`Supervisor::with_established_by_traffic`]: the hub link, whose server sends keep-alive
//!   Pings every 15 s by default) is established only when the server is heard from
//!   ([`Supervisor::link_heard`]) at least the threshold after it came up, so a connection that
//!   answers once and then dies by server timeout is not. One lost before it is established
//!   does not restart the schedule:
//!   the episode it interrupted continues (same retry count, same start time), so a server that
//!   accepts and drops, sends Close with `allowReconnect` after every handshake, or answers once
//!   and then goes silent until the server timeout, is retried on the policy's schedule and,
//!   once the policy gives up, `onclose` fires. The app still hears `onreconnected` and
//!   `onreconnecting` for each such connection.
//! - **Stateful resume**: a resume the link announces ([`Supervisor::link_resuming`]) is the
//!   first retry of its episode; the policy is asked first and may refuse it. A resume that
//!   fails continues as a normal reconnect from the second retry on, with `onreconnecting`.
//! - **No spin**: at most one zero-delay attempt is started synchronously per pump (the glue
//!   calls [`Supervisor::end_pump`] after each input); a further zero delay in the same pump
//!   waits [`MIN_TIMER`] on the timer instead, so a policy that always answers 0 with a start
//!   that fails synchronously cannot loop without time passing.

use std::collections::VecDeque;
use std::time::Duration;

use super::error::HubError;
use super::limits::{MAX_TIMER, MIN_TIMER};
use super::retry::{RetryContext, RetryPolicy};
use super::text::decimal;
use super::time::Instant;
use crate::protocol::Payload;

/// Default of the stable-connection threshold: a connection that lives shorter is flapping.
pub const DEFAULT_STABLE_CONNECTION_THRESHOLD: Duration = Duration::from_secs(5);

/// Zero-delay attempts started synchronously within one pump.
const IMMEDIATE_ATTEMPTS_PER_PUMP: u32 = 1;

/// The state the app sees, as in the official client (plus the first-start retry, which stays
/// `Connecting`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManagedState {
    /// Not connected and not trying.
    Disconnected,
    /// The first start is in progress (including its retries when enabled).
    Connecting,
    /// Connected.
    Connected,
    /// The connection was lost; waiting to retry, retrying, or re-joining groups.
    Reconnecting,
    /// `stop()` was called; the link is closing.
    Disconnecting,
}

impl ManagedState {
    /// The state's name as the official client spells it.
    pub fn name(self) -> &'static str {
        match self {
            ManagedState::Disconnected => "Disconnected",
            ManagedState::Connecting => "Connecting",
            ManagedState::Connected => "Connected",
            ManagedState::Reconnecting => "Reconnecting",
            ManagedState::Disconnecting => "Disconnecting",
        }
    }
}

/// A group membership, declared by its join and leave hub methods and their arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSpec {
    /// Hub method that joins, e.g. `JoinDispatchGroup`.
    pub join: String,
    /// Hub method that leaves, e.g. `LeaveDispatchGroup`.
    pub leave: String,
    /// Arguments of both, a JSON array.
    pub args: Payload,
}

/// A state transition, with what the app's status display needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateChange {
    /// State before.
    pub previous: ManagedState,
    /// State now.
    pub current: ManagedState,
    /// Why, in a few words.
    pub reason: String,
    /// Retry attempts made in the current episode.
    pub attempt: u32,
    /// When a retry is scheduled, how long until it.
    pub next_retry_in: Option<Duration>,
}

/// Typed telemetry of the connection's life. Never carries tokens or payloads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Telemetry {
    /// A link came up (first start or reconnect).
    ConnectionOpened {
        /// The server's connection id, if known.
        connection_id: Option<String>,
    },
    /// The connection ended or was lost.
    ConnectionClosed {
        /// Why, when it was not a clean stop.
        reason: Option<String>,
    },
    /// A retry was scheduled.
    ReconnectAttempt {
        /// Which retry of the episode (1-based).
        attempt: u32,
        /// The delay before it.
        delay: Duration,
        /// Why the previous attempt or the connection failed.
        reason: String,
    },
    /// The connection is back and every membership was re-joined (or reported failed).
    Reconnected {
        /// From losing the connection to reporting it back.
        recovery: Duration,
        /// Memberships re-joined successfully.
        groups_rejoined: usize,
        /// Retry attempts it took.
        attempts: u32,
    },
    /// A transport could not open; the next one the server offers is tried.
    TransportFallback {
        /// The transport that failed.
        from: &'static str,
        /// Why.
        reason: String,
    },
    /// Re-joining a membership failed; it is tried again at the next reconnect.
    RejoinFailed {
        /// The join method.
        join: String,
        /// The hub's error.
        error: String,
    },
}

/// What the supervisor reports.
#[derive(Debug, Clone, PartialEq)]
pub enum SupervisorEvent {
    /// The state changed.
    StateChanged(StateChange),
    /// `start()` succeeded.
    Started,
    /// `start()` failed for good.
    StartFailed(HubError),
    /// The connection was lost and will be retried (the official `onreconnecting`).
    Reconnecting(Option<HubError>),
    /// The connection is back, groups re-joined (the official `onreconnected`).
    Reconnected,
    /// The connection ended for good (the official `onclose`).
    Closed(Option<HubError>),
    /// A `join_group` / `leave_group` request settled.
    GroupSettled {
        /// The request id the call returned.
        request: u64,
        /// Its outcome.
        result: Result<(), HubError>,
    },
    /// A membership could not be re-joined after a reconnect.
    RejoinFailed {
        /// The membership.
        spec: GroupSpec,
        /// Why.
        error: HubError,
    },
    /// A telemetry record.
    Telemetry(Telemetry),
}

/// What the supervisor asks of the glue around the link.
#[derive(Debug, Clone, PartialEq)]
pub enum SupervisorOutput {
    /// Start the link; answer with `link_up` or `link_failed`.
    StartLink,
    /// Stop the link; answer with `link_down`.
    StopLink,
    /// Invoke a membership's join method; answer with `join_settled(membership, ..)`.
    Join {
        /// Which membership.
        membership: u64,
        /// Its spec.
        spec: GroupSpec,
    },
    /// Invoke a membership's leave method; answer with `leave_settled(request, ..)`.
    Leave {
        /// The app's request.
        request: u64,
        /// The membership that was left.
        spec: GroupSpec,
    },
    /// Tell the app.
    Event(SupervisorEvent),
}

/// How automatic reconnect behaves.
pub struct ReconnectOptions {
    /// The retry policy.
    pub policy: Box<dyn RetryPolicy>,
    /// Apply the policy to the first `start()` too.
    pub retry_first_start: bool,
}

impl std::fmt::Debug for ReconnectOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReconnectOptions").field("retry_first_start", &self.retry_first_start).finish()
    }
}

#[derive(Debug, Clone)]
struct Membership {
    id: u64,
    spec: GroupSpec,
    /// Joined on the current link.
    joined: bool,
    /// A join invocation is in flight.
    joining: bool,
    /// Never joined yet: a failure then fails the app's request instead of being retried.
    fresh: bool,
    /// App requests waiting for this membership's first join.
    waiters: Vec<u64>,
}

/// The connection manager's state machine.
#[derive(Debug)]
pub struct Supervisor {
    reconnect: Option<ReconnectOptions>,
    state: ManagedState,
    link_up: bool,
    /// A link start was asked for and has not come up or failed yet.
    link_starting: bool,
    /// Retries made in the current episode.
    attempt: u32,
    /// When the current episode (connection lost, or first start) began.
    episode_started: Option<Instant>,
    /// The scheduled retry.
    retry_at: Option<Instant>,
    /// A retry came due while offline: start as soon as the network is back.
    waiting_for_network: bool,
    online: bool,
    last_error: Option<HubError>,
    memberships: Vec<Membership>,
    next_membership_id: u64,
    /// Re-joins still in flight before `reconnected` is reported.
    rejoins_outstanding: usize,
    rejoined: usize,
    /// Stopped for the back/forward cache: start again on `pageshow`.
    resume_on_pageshow: bool,
    reconnects: u32,
    /// A `start()` is waiting for its outcome: its end is `StartFailed`, never `Closed`.
    start_pending: bool,
    /// The current stop is for the back/forward cache: the app hears no `Closed`.
    quiet_stop: bool,
    outputs: VecDeque<SupervisorOutput>,
    /// A connection that lives shorter than this is flapping (see the module docs).
    stable_after: Duration,
    /// When the current connection came up (or was resumed).
    connected_at: Option<Instant>,
    /// The server was heard from at least `stable_after` after `connected_at`.
    established: bool,
    /// Only traffic after the threshold establishes a connection (not its age alone).
    established_by_traffic: bool,
    /// The retry count and episode start a flapping connection's loss continues from.
    carried_attempts: u32,
    carried_episode: Option<Instant>,
    /// A stateful resume is under way: the retry count before it and its episode's start.
    resume: Option<(u32, Instant)>,
    /// Zero-delay attempts started synchronously in the current pump.
    immediate_attempts: u32,
    /// Whether `Closed` carries the last attempt's error once the retries are used up (the
    /// plain socket's rule); the hub session turns it off to close without one, as the
    /// official client does.
    error_when_retries_used_up: bool,
}

impl Supervisor {
    /// A stopped supervisor; `reconnect: None` means no automatic reconnect.
    pub fn new(reconnect: Option<ReconnectOptions>) -> Self {
        Supervisor {
            reconnect,
            state: ManagedState::Disconnected,
            link_up: false,
            link_starting: false,
            attempt: 0,
            episode_started: None,
            retry_at: None,
            waiting_for_network: false,
            online: true,
            last_error: None,
            memberships: Vec::new(),
            next_membership_id: 0,
            rejoins_outstanding: 0,
            rejoined: 0,
            resume_on_pageshow: false,
            reconnects: 0,
            start_pending: false,
            quiet_stop: false,
            outputs: VecDeque::new(),
            stable_after: DEFAULT_STABLE_CONNECTION_THRESHOLD,
            connected_at: None,
            established: false,
            established_by_traffic: false,
            carried_attempts: 0,
            carried_episode: None,
            resume: None,
            immediate_attempts: 0,
            error_when_retries_used_up: true,
        }
    }

    /// Whether `Closed` carries the last attempt's error once retries were made and used up
    /// (default true). A policy that allows no retry at all closes with the loss's error either
    /// way.
    pub fn with_error_when_retries_used_up(mut self, with_error: bool) -> Self {
        self.error_when_retries_used_up = with_error;
        self
    }

    /// Sets the stable-connection threshold (see the module docs). Zero turns flapping
    /// detection off.
    pub fn with_stable_connection_threshold(mut self, threshold: Duration) -> Self {
        self.stable_after = threshold;
        self
    }

    /// Establishes connections only by traffic heard after the threshold (see the module
    /// docs), for links whose server pings; otherwise a connection's age is enough.
    pub fn with_established_by_traffic(mut self, by_traffic: bool) -> Self {
        self.established_by_traffic = by_traffic;
        self
    }

    /// The glue finished one pump (one input and everything it caused): zero-delay attempts
    /// may start synchronously again.
    pub fn end_pump(&mut self) {
        self.immediate_attempts = 0;
    }

    /// The state.
    pub fn state(&self) -> ManagedState {
        self.state
    }

    /// Retry attempts in the current episode.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Successful reconnects since creation.
    pub fn reconnect_count(&self) -> u32 {
        self.reconnects
    }

    /// The memberships, in join order.
    pub fn groups(&self) -> Vec<GroupSpec> {
        self.memberships.iter().map(|m| m.spec.clone()).collect()
    }

    /// The next output, if any.
    pub fn poll_output(&mut self) -> Option<SupervisorOutput> {
        self.outputs.pop_front()
    }

    /// When a retry is due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.retry_at
    }

    // ----- app commands -------------------------------------------------------------------

    /// `start()`. Only valid while Disconnected.
    pub fn start(&mut self, now: Instant) -> Result<(), HubError> {
        if self.state != ManagedState::Disconnected {
            return Err(HubError::AlreadyStarted);
        }
        self.resume_on_pageshow = false;
        self.quiet_stop = false;
        self.start_pending = true;
        self.attempt = 0;
        self.episode_started = Some(now);
        self.set_state(ManagedState::Connecting, "start() called", None);
        self.start_link();
        Ok(())
    }

    /// `stop()`: cancels any retry and stops the link.
    pub fn stop(&mut self, _now: Instant) {
        self.resume_on_pageshow = false;
        self.quiet_stop = false;
        self.stop_inner("stop() called");
    }

    fn stop_inner(&mut self, reason: &str) {
        self.retry_at = None;
        self.waiting_for_network = false;
        match self.state {
            ManagedState::Disconnected | ManagedState::Disconnecting => {}
            _ if self.link_up || self.link_starting => {
                self.set_state(ManagedState::Disconnecting, reason, None);
                self.outputs.push_back(SupervisorOutput::StopLink);
            }
            // Waiting between attempts: there is no link to stop.
            _ => self.finish(None, reason),
        }
    }

    /// Adds a membership (if new) and joins it now when connected, else at the next connect.
    /// Returns the request id that a [`SupervisorEvent::GroupSettled`] will carry.
    pub fn join_group(&mut self, spec: GroupSpec, request: u64) {
        if let Some(existing) = self.memberships.iter_mut().find(|m| m.spec == spec) {
            if existing.joined {
                self.emit(SupervisorEvent::GroupSettled { request, result: Ok(()) });
            } else {
                existing.waiters.push(request);
            }
            return;
        }
        let id = self.next_membership_id;
        self.next_membership_id += 1;
        self.memberships.push(Membership {
            id,
            spec: spec.clone(),
            joined: false,
            joining: false,
            fresh: true,
            waiters: vec![request],
        });
        if self.link_up && self.rejoins_outstanding == 0 {
            self.send_join(id);
        }
    }

    /// Forgets a membership and leaves it on the hub when connected.
    pub fn leave_group(&mut self, spec: GroupSpec, request: u64) {
        let Some(index) = self.memberships.iter().position(|m| m.spec == spec) else {
            self.emit(SupervisorEvent::GroupSettled { request, result: Ok(()) });
            return;
        };
        let membership = self.memberships.remove(index);
        for waiter in membership.waiters {
            self.emit(SupervisorEvent::GroupSettled { request: waiter, result: Err(HubError::GroupLeft) });
        }
        if self.link_up {
            self.outputs.push_back(SupervisorOutput::Leave { request, spec });
        } else {
            // The server forgets memberships with the connection; there is nothing to leave.
            self.emit(SupervisorEvent::GroupSettled { request, result: Ok(()) });
        }
    }

    // ----- link inputs --------------------------------------------------------------------

    /// The link is up with a new connection (`connection_id`: the server's id, if any).
    pub fn link_up(&mut self, now: Instant, connection_id: Option<String>) {
        self.link_up = true;
        self.link_starting = false;
        self.retry_at = None;
        self.waiting_for_network = false;
        for membership in &mut self.memberships {
            membership.joined = false;
            membership.joining = false;
        }
        match self.state {
            ManagedState::Connecting => {
                self.mark_connected(now, self.attempt, self.episode_started);
                self.attempt = 0;
                self.start_pending = false;
                self.set_state(ManagedState::Connected, "connected", None);
                self.emit(SupervisorEvent::Started);
                self.emit(SupervisorEvent::Telemetry(Telemetry::ConnectionOpened { connection_id }));
                self.join_all();
            }
            ManagedState::Reconnecting => {
                self.emit(SupervisorEvent::Telemetry(Telemetry::ConnectionOpened { connection_id }));
                // Re-join every membership, in the order they were made, before reporting back.
                self.rejoins_outstanding = self.join_all();
                self.rejoined = 0;
                if self.rejoins_outstanding == 0 {
                    self.finish_reconnect(now);
                }
            }
            // A link that comes up after stop() (an attempt already under way) goes down again.
            ManagedState::Disconnected => {
                self.link_up = false;
                self.outputs.push_back(SupervisorOutput::StopLink);
            }
            ManagedState::Connected | ManagedState::Disconnecting => {}
        }
    }

    /// The link could not start.
    pub fn link_failed(&mut self, now: Instant, error: HubError) {
        self.link_up = false;
        self.link_starting = false;
        match self.state {
            ManagedState::Connecting if self.first_start_retries() => self.schedule_retry(now, error),
            ManagedState::Connecting => {
                self.start_pending = false;
                self.set_state(ManagedState::Disconnected, &["start failed: ", error.message().as_str()].concat(), None);
                self.emit(SupervisorEvent::StartFailed(error));
            }
            ManagedState::Reconnecting => self.schedule_retry(now, error),
            // Stopped while starting: a waiting start() hears why (StoppedDuringStart or
            // StoppedDuringHandshake), onclose nothing.
            ManagedState::Disconnecting => {
                let error = self.start_pending.then_some(error);
                self.finish(error, "stopped")
            }
            _ => {}
        }
    }

    /// The server was heard from on the current connection (any frame).
    pub fn link_heard(&mut self, now: Instant) {
        if !self.established
            && self.connected_at.is_some_and(|at| now.saturating_duration_since(at) >= self.stable_after)
        {
            self.established = true;
        }
    }

    /// The link lost its socket and is resuming the same connection (stateful reconnect).
    /// The resume is the first retry of an episode (or the next one, when the connection was
    /// flapping): returns false when the policy allows no such retry, and the glue must then
    /// abandon the resume, which closes the link as a normal loss.
    pub fn link_resuming(&mut self, now: Instant, reason: Option<&str>) -> bool {
        if self.state != ManagedState::Connected {
            return false;
        }
        let (attempts, episode) = if self.is_flapping(now) {
            (self.carried_attempts, self.carried_episode.unwrap_or(now))
        } else {
            (0, now)
        };
        let Some(reconnect) = self.reconnect.as_mut() else {
            // Without automatic reconnect the one resume of stateful reconnect still happens,
            // as in the official client.
            return true;
        };
        let context = RetryContext {
            previous_retry_count: attempts,
            elapsed: now.saturating_duration_since(episode),
            retry_reason: reason.unwrap_or("connection lost").to_string(),
            retry_error: None,
        };
        if reconnect.policy.next_retry_delay(&context).is_none() {
            return false;
        }
        self.resume = Some((attempts, episode));
        true
    }

    /// The server spoke on the resumed socket: the resume is done. The connection counts as
    /// new for flapping: if it dies soon, the episode continues after the resume's retry.
    pub fn link_resumed(&mut self, now: Instant) {
        if let Some((attempts, episode)) = self.resume.take() {
            self.mark_connected(now, attempts + 1, Some(episode));
        }
    }

    /// The link went down (`reconnect_allowed`: the server or the failure permits retrying).
    pub fn link_down(&mut self, now: Instant, error: Option<HubError>, reconnect_allowed: bool) {
        self.link_up = false;
        self.link_starting = false;
        self.rejoins_outstanding = 0;
        let resume = self.resume.take();
        match self.state {
            ManagedState::Disconnecting => self.finish(None, "stopped"),
            ManagedState::Connected | ManagedState::Reconnecting
                if self.reconnect.is_some() && reconnect_allowed =>
            {
                let reason = error.as_ref().map_or("connection lost".to_string(), HubError::message);
                if self.state == ManagedState::Connected {
                    if let Some((attempts, episode)) = resume {
                        // The failed resume was a retry of this episode.
                        self.attempt = attempts + 1;
                        self.episode_started = Some(episode);
                    } else if self.is_flapping(now) {
                        // Died right after connecting: the interrupted episode goes on.
                        self.attempt = self.carried_attempts;
                        self.episode_started = self.carried_episode.or(Some(now));
                    } else {
                        self.attempt = 0;
                        self.episode_started = Some(now);
                    }
                    // As the official client: a policy that allows no retry closes at once,
                    // without `onreconnecting`, with the loss's own error (none if it had
                    // none); the policy hears a stand-in reason for an error-less loss.
                    let cause = error.clone().unwrap_or(HubError::LostWithoutError);
                    let delay = self.next_delay(now, &cause);
                    if delay.is_none() {
                        let reason = ["gave up after ", &decimal(self.attempt), " retries: ", &cause.message()].concat();
                        self.last_error = Some(cause);
                        return self.finish(error, &reason);
                    }
                    self.emit(SupervisorEvent::Telemetry(Telemetry::ConnectionClosed {
                        reason: Some(reason.clone()),
                    }));
                    self.set_state(ManagedState::Reconnecting, &reason, None);
                    self.emit(SupervisorEvent::Reconnecting(error.clone()));
                    return self.retry_after(now, cause, delay);
                }
                self.schedule_retry(now, error.unwrap_or(HubError::LostWithoutError));
            }
            ManagedState::Connected | ManagedState::Reconnecting | ManagedState::Connecting => {
                let reason = error.as_ref().map_or("connection closed".to_string(), HubError::message);
                self.finish(error, &reason);
            }
            ManagedState::Disconnected => {}
        }
    }

    /// A join invocation of `membership` settled.
    pub fn join_settled(&mut self, now: Instant, membership: u64, result: Result<(), HubError>) {
        let rejoining = self.rejoins_outstanding > 0;
        let Some(index) = self.memberships.iter().position(|m| m.id == membership) else {
            return self.count_rejoin(now, rejoining, false);
        };
        let entry = &mut self.memberships[index];
        entry.joining = false;
        if matches!(result, Err(HubError::ConnectionClosed))
            || !matches!(self.state, ManagedState::Connected | ManagedState::Reconnecting)
        {
            // The connection went away under the join: the membership (and anyone waiting
            // for it) carries over to the next connection.
            return;
        }
        let waiters = std::mem::take(&mut entry.waiters);
        match result {
            Ok(()) => {
                entry.joined = true;
                entry.fresh = false;
                for request in waiters {
                    self.emit(SupervisorEvent::GroupSettled { request, result: Ok(()) });
                }
                self.count_rejoin(now, rejoining, true);
            }
            Err(error) if entry.fresh => {
                // The app's own join failed: report it and keep nothing.
                self.memberships.remove(index);
                for request in waiters {
                    self.emit(SupervisorEvent::GroupSettled { request, result: Err(error.clone()) });
                }
                self.count_rejoin(now, rejoining, false);
            }
            Err(error) => {
                let spec = entry.spec.clone();
                self.emit(SupervisorEvent::Telemetry(Telemetry::RejoinFailed {
                    join: spec.join.clone(),
                    error: error.message(),
                }));
                self.emit(SupervisorEvent::RejoinFailed { spec, error });
                self.count_rejoin(now, rejoining, false);
            }
        }
    }

    /// A leave invocation settled.
    pub fn leave_settled(&mut self, request: u64, result: Result<(), HubError>) {
        self.emit(SupervisorEvent::GroupSettled { request, result });
    }

    // ----- browser lifecycle --------------------------------------------------------------

    /// The browser's `online` / `offline` events.
    pub fn set_online(&mut self, now: Instant, online: bool) {
        self.online = online;
        if online && (self.waiting_for_network || self.retry_at.is_some()) {
            self.retry_now(now, "network is back");
        }
    }

    /// The page became visible (`visibilitychange`): a pending retry runs now.
    pub fn page_visible(&mut self, now: Instant) {
        if self.retry_at.is_some() {
            self.retry_now(now, "page is visible again");
        }
    }

    /// `pagehide`: stop cleanly so the page can enter the back/forward cache.
    pub fn page_hidden(&mut self, _now: Instant) {
        if matches!(self.state, ManagedState::Disconnected | ManagedState::Disconnecting) {
            return;
        }
        self.quiet_stop = true;
        self.stop_inner("page hidden");
        self.resume_on_pageshow = true;
    }

    /// `pageshow`: coming back from the back/forward cache restarts and re-joins.
    pub fn page_shown(&mut self, now: Instant, persisted: bool) {
        if !(persisted && self.resume_on_pageshow && self.state == ManagedState::Disconnected) {
            return;
        }
        self.resume_on_pageshow = false;
        self.attempt = 0;
        self.episode_started = Some(now);
        self.set_state(ManagedState::Reconnecting, "page restored from the back/forward cache", None);
        self.emit(SupervisorEvent::Reconnecting(None));
        self.start_link();
    }

    /// A retry came due.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.retry_at.is_some_and(|at| at <= now) {
            self.retry_at = None;
            if self.online {
                self.attempt_now();
            } else {
                self.waiting_for_network = true;
                let state = self.state;
                self.set_state(state, "offline: waiting for the network", None);
            }
        }
    }

    // ----- internals ----------------------------------------------------------------------

    fn emit(&mut self, event: SupervisorEvent) {
        self.outputs.push_back(SupervisorOutput::Event(event));
    }

    fn set_state(&mut self, current: ManagedState, reason: &str, next_retry_in: Option<Duration>) {
        let previous = self.state;
        self.state = current;
        self.emit(SupervisorEvent::StateChanged(StateChange {
            previous,
            current,
            reason: reason.to_string(),
            attempt: self.attempt,
            next_retry_in,
        }));
    }

    fn first_start_retries(&self) -> bool {
        self.reconnect.as_ref().is_some_and(|r| r.retry_first_start)
    }

    fn send_join(&mut self, id: u64) {
        let Some(membership) = self.memberships.iter_mut().find(|m| m.id == id) else { return };
        membership.joining = true;
        let spec = membership.spec.clone();
        self.outputs.push_back(SupervisorOutput::Join { membership: id, spec });
    }

    /// Sends a join for every membership, in the order they were made; returns how many.
    fn join_all(&mut self) -> usize {
        for membership in &mut self.memberships {
            membership.joining = true;
            let join = SupervisorOutput::Join { membership: membership.id, spec: membership.spec.clone() };
            self.outputs.push_back(join);
        }
        self.memberships.len()
    }

    fn count_rejoin(&mut self, now: Instant, rejoining: bool, succeeded: bool) {
        if !rejoining {
            return;
        }
        self.rejoins_outstanding -= 1;
        if succeeded {
            self.rejoined += 1;
        }
        if self.rejoins_outstanding == 0 {
            self.finish_reconnect(now);
        }
    }

    fn finish_reconnect(&mut self, now: Instant) {
        let recovery = self.episode_started.map_or(Duration::ZERO, |at| now.saturating_duration_since(at));
        let attempts = self.attempt;
        self.mark_connected(now, attempts, self.episode_started);
        self.reconnects += 1;
        self.attempt = 0;
        self.set_state(ManagedState::Connected, "reconnected", None);
        self.emit(SupervisorEvent::Telemetry(Telemetry::Reconnected {
            recovery,
            groups_rejoined: self.rejoined,
            attempts,
        }));
        self.emit(SupervisorEvent::Reconnected);
    }

    fn schedule_retry(&mut self, now: Instant, error: HubError) {
        let delay = self.next_delay(now, &error);
        self.retry_after(now, error, delay);
    }

    /// Asks the policy for the delay before the next retry of the episode.
    fn next_delay(&mut self, now: Instant, error: &HubError) -> Option<Duration> {
        let elapsed = self.episode_started.map_or(Duration::ZERO, |at| now.saturating_duration_since(at));
        let context = RetryContext {
            previous_retry_count: self.attempt,
            elapsed,
            retry_reason: error.message(),
            retry_error: Some(error.clone()),
        };
        // A policy (the app's function) may answer anything: beyond what a timer can wait,
        // browsers fire at once, so the delay is capped instead.
        let delay = self
            .reconnect
            .as_mut()
            .and_then(|r| r.policy.next_retry_delay(&context))
            .map(|delay| delay.min(MAX_TIMER));
        delay
    }

    /// Schedules the retry the policy answered, or gives up (`onclose`) when it answered none.
    fn retry_after(&mut self, now: Instant, error: HubError, delay: Option<Duration>) {
        self.last_error = Some(error.clone());
        // The error's text once, for every text below.
        let text = error.message();
        match delay {
            None => {
                let reason = ["gave up after ", &decimal(self.attempt), " retries: ", &text].concat();
                // The official client closes with the loss's error when the policy allows no
                // retry at all, and with none once retries were made and used up (the last
                // attempt's error stays in the state change's reason and in `last_error`).
                let used_up = self.state == ManagedState::Reconnecting;
                let closing = (!used_up || self.error_when_retries_used_up).then_some(error);
                self.finish(closing, &reason);
            }
            Some(delay) => {
                let reason = ["retry scheduled: ", &text].concat();
                self.emit(SupervisorEvent::Telemetry(Telemetry::ReconnectAttempt {
                    attempt: self.attempt + 1,
                    delay,
                    reason: text,
                }));
                let state = self.state;
                self.set_state(state, &reason, Some(delay));
                self.retry_at = Some(now + delay);
                if delay.is_zero() {
                    self.attempt_immediately(now);
                }
            }
        }
    }

    fn retry_now(&mut self, now: Instant, reason: &str) {
        if !matches!(self.state, ManagedState::Reconnecting | ManagedState::Connecting) {
            return;
        }
        self.retry_at = Some(now);
        let state = self.state;
        self.set_state(state, reason, Some(Duration::ZERO));
        self.attempt_immediately(now);
    }

    /// A retry due now: started at once (no timer round trip) the first time in a pump; later
    /// in the same pump it waits [`MIN_TIMER`], so nothing loops without time passing.
    fn attempt_immediately(&mut self, now: Instant) {
        if self.immediate_attempts < IMMEDIATE_ATTEMPTS_PER_PUMP {
            self.immediate_attempts += 1;
            self.handle_timeout(now);
        } else {
            self.retry_at = Some(now + MIN_TIMER);
        }
    }

    /// The connection came up now; a loss within the threshold continues from `attempts`
    /// retries of the episode that began at `episode`.
    fn mark_connected(&mut self, now: Instant, attempts: u32, episode: Option<Instant>) {
        self.connected_at = Some(now);
        self.established = false;
        self.carried_attempts = attempts;
        self.carried_episode = episode;
    }

    /// The current connection went down (or is being resumed) before it was established.
    fn is_flapping(&self, now: Instant) -> bool {
        let Some(at) = self.connected_at else { return false };
        if self.stable_after.is_zero() || self.established {
            return false;
        }
        self.established_by_traffic || now.saturating_duration_since(at) < self.stable_after
    }

    fn attempt_now(&mut self) {
        self.waiting_for_network = false;
        self.attempt += 1;
        let state = self.state;
        self.set_state(state, &["retry attempt ", &decimal(self.attempt)].concat(), None);
        self.start_link();
    }

    fn start_link(&mut self) {
        self.link_starting = true;
        self.outputs.push_back(SupervisorOutput::StartLink);
    }

    fn finish(&mut self, error: Option<HubError>, reason: &str) {
        self.connected_at = None;
        self.established = false;
        self.carried_attempts = 0;
        self.carried_episode = None;
        self.resume = None;
        self.retry_at = None;
        self.waiting_for_network = false;
        self.rejoins_outstanding = 0;
        self.link_up = false;
        self.link_starting = false;
        for membership in &mut self.memberships {
            membership.joined = false;
            membership.joining = false;
        }
        self.set_state(ManagedState::Disconnected, reason, None);
        if std::mem::take(&mut self.start_pending) {
            // The app's start() is still waiting: that is where it hears the outcome.
            self.emit(SupervisorEvent::StartFailed(error.unwrap_or(HubError::StoppedDuringStart)));
        } else if !std::mem::take(&mut self.quiet_stop) {
            self.emit(SupervisorEvent::Telemetry(Telemetry::ConnectionClosed {
                reason: error.as_ref().map(HubError::message),
            }));
            self.emit(SupervisorEvent::Closed(error));
        }
    }
}
