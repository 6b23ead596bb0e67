//! The one place the library reads the clock: `performance.now()` of the global scope.

use wasm_bindgen::prelude::*;

use crate::core::Instant;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

/// The current monotonic time for the engine.
pub fn now() -> Instant {
    // performance.now() is a non-negative millisecond count; `as` saturates, it cannot panic.
    Instant::from_millis(performance_now() as u64)
}
