//! DOM event listeners that remove themselves when dropped.

use wasm_bindgen::prelude::*;
use web_sys::EventTarget;

/// One listener on one target; dropping it removes it.
pub struct Listener {
    target: EventTarget,
    kind: &'static str,
    callback: Closure<dyn FnMut(web_sys::Event)>,
}

impl Listener {
    /// Listens for `kind` on `target`; `None` if the target refuses the listener.
    pub fn new(target: &EventTarget, kind: &'static str, handler: impl FnMut(web_sys::Event) + 'static) -> Option<Listener> {
        let callback = Closure::<dyn FnMut(web_sys::Event)>::new(handler);
        target
            .add_event_listener_with_callback(kind, callback.as_ref().unchecked_ref())
            .ok()?;
        Some(Listener { target: target.clone(), kind, callback })
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self
            .target
            .remove_event_listener_with_callback(self.kind, self.callback.as_ref().unchecked_ref());
    }
}

/// The global scope as an event target (window, a worker's self), if it is one.
pub fn global_target() -> Option<EventTarget> {
    js_sys::global().dyn_into::<EventTarget>().ok()
}

/// The global `document`, if this scope has one.
pub fn document() -> Option<web_sys::Document> {
    js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("document"))
        .ok()
        .and_then(|d| d.dyn_into::<web_sys::Document>().ok())
}

/// `navigator.onLine`, true where unknown.
pub fn navigator_online() -> bool {
    js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("navigator"))
        .ok()
        .and_then(|n| js_sys::Reflect::get(&n, &JsValue::from_str("onLine")).ok())
        .and_then(|v| v.as_bool())
        .unwrap_or(true)
}
