//! A driver's one timer: after every pump it is set to the engine's next deadline.
//!
//! The timer is the global scope's `setTimeout`, looked up at each arming (gloo-timers' binding
//! calls the global by name), so a test runner's fake timers drive it. When it fires long before
//! the clock says its delay has passed (a fake `setTimeout` with a real `performance`), the clock
//! is told the deadline has come (see clock.rs), so fake `setTimeout` alone advances the engine.

use gloo_timers::callback::Timeout;

use super::clock::{now, reached};
use crate::core::Instant;

/// The longest delay setTimeout takes (2^31 - 1 ms, about 24.8 days).
const MAX_TIMER_DELAY: u64 = i32::MAX as u64;

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
            let armed_at = now();
            let delay = at.as_millis().saturating_sub(armed_at.as_millis());
            // setTimeout takes a signed 32-bit delay (gloo-timers passes `millis as i32`): a
            // longer one would fire at once. A far deadline gets the longest timer instead,
            // which proves nothing about the deadline, so the clock is not moved for it.
            let whole = delay <= MAX_TIMER_DELAY;
            let fire = move || {
                // A timer that fired while the clock moved less than half its delay runs on
                // another clock than `performance` (a test's fake setTimeout): its deadline has
                // come all the same. Otherwise (real timers, a coarse `performance.now()` a few
                // ms short) the engine re-arms for what is left, as it always did.
                let elapsed = now().as_millis().saturating_sub(armed_at.as_millis());
                if whole && elapsed.saturating_mul(2) < delay {
                    reached(at);
                }
                fire();
            };
            (at, Timeout::new(delay.min(MAX_TIMER_DELAY) as u32, fire))
        });
    }

    /// Forgets the timer that just fired.
    pub fn fired(&mut self) {
        self.armed = None;
    }
}
