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

/// A browser lifecycle change a connection reacts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifecycle {
    /// `online` (true) or `offline` (false).
    Online(bool),
    /// `pagehide`: the page may enter the back/forward cache.
    PageHidden,
    /// `pageshow`; `persisted` when restored from the back/forward cache.
    PageShown {
        /// Restored from the cache.
        persisted: bool,
    },
    /// `visibilitychange` to visible.
    Visible,
}

/// Listens to the lifecycle events of this scope, calling `on` with each. The listeners stop
/// when the returned list is dropped.
pub fn listen_to_lifecycle(on: impl Fn(Lifecycle) + Clone + 'static) -> Vec<Listener> {
    let mut listeners = Vec::new();
    let Some(global) = global_target() else { return listeners };
    let forward = |change: fn(&web_sys::Event) -> Option<Lifecycle>| {
        let on = on.clone();
        move |event: web_sys::Event| {
            if let Some(lifecycle) = change(&event) {
                on(lifecycle);
            }
        }
    };
    listeners.extend(Listener::new(&global, "online", forward(|_| Some(Lifecycle::Online(true)))));
    listeners.extend(Listener::new(&global, "offline", forward(|_| Some(Lifecycle::Online(false)))));
    listeners.extend(Listener::new(&global, "pagehide", forward(|_| Some(Lifecycle::PageHidden))));
    listeners.extend(Listener::new(
        &global,
        "pageshow",
        forward(|event| {
            let persisted = js_sys::Reflect::get(event, &JsValue::from_str("persisted"))
                .ok()
                .and_then(|p| p.as_bool())
                .unwrap_or(false);
            Some(Lifecycle::PageShown { persisted })
        }),
    ));
    if let Some(doc) = document() {
        let target: &EventTarget = doc.as_ref();
        listeners.extend(Listener::new(
            target,
            "visibilitychange",
            forward(|_| {
                document()
                    .is_some_and(|doc| doc.visibility_state() == web_sys::VisibilityState::Visible)
                    .then_some(Lifecycle::Visible)
            }),
        ));
    }
    listeners
}
