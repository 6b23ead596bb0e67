//! The one place the library reads the clock: `performance.now()` of the global scope, looked
//! up at each read (so a test runner's fake `performance` counts), kept monotonic, and never
//! behind a timer that has fired.
//!
//! Why the floor: a fired timer is evidence that its delay has passed. Test runners' fake
//! timers (`vi.useFakeTimers()`, `jest.useFakeTimers()`) may fake `setTimeout` but not
//! `performance` (Vitest's `toFake` list, Jest's `doNotFake`); when the timer for a 2 s retry
//! fires after a fake 2 s while `performance.now()` says 3 real ms, the engine must see 2 s, or
//! it would re-arm the same deadline forever and the schedule would never advance. So the clock
//! is `performance.now()` plus a skew that only grows: by what such a deadline was ahead of the
//! reading (wake.rs reports only timers that beat the clock by more than half their delay, so
//! real timers and a coarse `performance.now()` move nothing), and by what a reading fell back
//! (a runner switching from fake to real time), so the engine's time never goes backwards.

use std::cell::Cell;

use wasm_bindgen::prelude::*;

use crate::core::Instant;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

thread_local! {
    /// Milliseconds added to `performance.now()`; only grows.
    static SKEW: Cell<u64> = const { Cell::new(0) };
    /// The last time handed out, so a reading that falls back moves the skew instead.
    static LAST: Cell<u64> = const { Cell::new(0) };
}

/// Raises the clock to at least `floor` (adding the shortfall to the skew); the time after.
fn at_least(floor: u64) -> u64 {
    // performance.now() is a non-negative millisecond count; `as` saturates, it cannot panic.
    let reading = performance_now() as u64;
    let skewed = reading.saturating_add(SKEW.get());
    let now = if skewed < floor {
        SKEW.set(SKEW.get().saturating_add(floor - skewed));
        floor
    } else {
        skewed
    };
    LAST.set(now);
    now
}

/// The current monotonic time for the engine.
pub fn now() -> Instant {
    Instant::from_millis(at_least(LAST.get()))
}

/// A timer armed for `deadline` fired: from now on the clock reads at least `deadline`.
pub fn reached(deadline: Instant) {
    at_least(deadline.as_millis().max(LAST.get()));
}
