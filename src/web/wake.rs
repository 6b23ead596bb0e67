//! A driver's one timer: after every pump it is set to the engine's next deadline.
//!
//! The timer is the global scope's `setTimeout`, looked up at each arming (gloo-timers' binding
//! calls the global by name), so a test runner's fake timers drive it. When it fires, the clock
//! is told the deadline has come (see clock.rs), so fake `setTimeout` alone advances the engine.

use gloo_timers::callback::Timeout;

use super::clock::{now, reached};
use crate::core::Instant;

/// The timer armed for the engine's next deadline, if any. Dropping it clears it.
#[derive(Default)]
pub struct WakeTimer {
    armed: Option<(Instant, Timeout)>,
}

impl WakeTimer {
    /// Whether `deadline` differs from what is armed (re-arming only then saves timer churn).
    pub fn needs(&self, deadline: Option<Instant>) -> bool {
        self.armed.as_ref().map(|(at, _)| *at) != deadline
    }

    /// Arms for `deadline` (or disarms with `None`), calling `fire` when it comes.
    pub fn arm(&mut self, deadline: Option<Instant>, fire: impl FnOnce() + 'static) {
        // Replacing the old Timeout drops (and so clears) it.
        self.armed = deadline.map(|at| {
            let delay = at.as_millis().saturating_sub(now().as_millis());
            let fire = move || {
                reached(at);
                fire();
            };
            (at, Timeout::new(u32::try_from(delay).unwrap_or(u32::MAX), fire))
        });
    }

    /// Forgets the timer that just fired.
    pub fn fired(&mut self) {
        self.armed = None;
    }
}
