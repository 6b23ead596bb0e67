//! Timers as data: one deadline per reason in a small table. Nothing to cancel or leak; the
//! owner asks for the earliest deadline and hands expired reasons back to its state machine.

use super::time::Instant;

/// Why the engine wants to be woken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// The server has not answered the handshake in time.
    Handshake,
    /// Nothing was sent for a keep-alive interval: send a Ping.
    KeepAlive,
    /// Nothing was received for the server timeout: the connection is dead.
    ServerTimeout,
    /// Stateful reconnect: acknowledge what was received since the last Ack.
    Ack,
}

impl Timer {
    /// How many timer reasons there are.
    pub const COUNT: usize = 4;

    const ALL: [Timer; Timer::COUNT] = [Timer::Handshake, Timer::KeepAlive, Timer::ServerTimeout, Timer::Ack];

    fn index(self) -> usize {
        self as usize
    }
}

/// One optional deadline per [`Timer`].
#[derive(Debug, Clone, Default)]
pub struct TimerTable {
    deadlines: [Option<Instant>; 4],
}

impl TimerTable {
    /// Arms (or re-arms) `timer` to fire at `at`.
    pub fn set(&mut self, timer: Timer, at: Instant) {
        self.deadlines[timer.index()] = Some(at);
    }

    /// Disarms `timer`.
    pub fn stop(&mut self, timer: Timer) {
        self.deadlines[timer.index()] = None;
    }

    /// Disarms every timer.
    pub fn clear(&mut self) {
        self.deadlines = Default::default();
    }

    /// The deadline of `timer`, if armed.
    pub fn get(&self, timer: Timer) -> Option<Instant> {
        self.deadlines[timer.index()]
    }

    /// The earliest armed deadline.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.deadlines.iter().flatten().min().copied()
    }

    /// Disarms and returns the first timer whose deadline is at or before `now`.
    pub fn pop_expired(&mut self, now: Instant) -> Option<Timer> {
        let timer = Timer::ALL.into_iter().find(|t| self.get(*t).is_some_and(|at| at <= now))?;
        self.stop(timer);
        Some(timer)
    }
}
