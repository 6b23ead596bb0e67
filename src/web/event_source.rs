//! An EventSource (Server-Sent Events) that forwards its events and closes itself on drop.

use wasm_bindgen::prelude::*;
use web_sys::{EventSource, EventSourceInit, MessageEvent};

use super::platform;
use super::codec::hold_frame;
use super::websocket::SocketEvent;
use crate::protocol::SharedText;

/// An open (or opening) EventSource with its handlers attached.
pub struct EventStream {
    source: EventSource,
    opened: std::rc::Rc<std::cell::Cell<bool>>,
    _on_open: Closure<dyn FnMut(web_sys::Event)>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(web_sys::Event)>,
}

impl EventStream {
    /// Opens `url` with `class` (the app's `EventSource` option) or the host's class, sending
    /// every event to `on_event` as a [`SocketEvent`].
    pub fn open(
        url: &str,
        with_credentials: bool,
        class: Option<&js_sys::Function>,
        on_event: impl Fn(SocketEvent) + 'static,
    ) -> Result<EventStream, String> {
        let init = EventSourceInit::new();
        init.set_with_credentials(with_credentials);
        // The host's class (the global one, or the `eventsource` package in Node): see `platform`.
        let source: EventSource =
            platform::construct_with(class, "EventSource", &js_sys::Array::of2(&JsValue::from_str(url), &init))?.unchecked_into();
        let on_event = std::rc::Rc::new(on_event);
        let opened = std::rc::Rc::new(std::cell::Cell::new(false));

        let forward = on_event.clone();
        let was_opened = opened.clone();
        let on_open = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            was_opened.set(true);
            forward(SocketEvent::Opened)
        });
        let forward = on_event.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let data = event.data();
            if let Some(text) = data.as_string() {
                // As on a WebSocket: one copy of the frame, payloads sliced from it.
                let text = SharedText::new(text);
                hold_frame(Some((&text, data)));
                forward(SocketEvent::Text(text));
                hold_frame(None);
            }
        });
        let forward = on_event;
        let was_opened = opened.clone();
        // EventSource reports every failure the same way and would reconnect by itself;
        // SignalR connections cannot resume that way, so any error ends the transport.
        let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            let reason = if was_opened.get() {
                "The Server-Sent Events stream failed."
            } else {
                "EventSource failed to connect: the server does not know the connection, refused it, \
                 or a proxy is buffering the stream."
            };
            forward(SocketEvent::Closed { code: 1006, reason: reason.to_string(), was_clean: false })
        });
        source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Ok(EventStream { source, opened, _on_open: on_open, _on_message: on_message, _on_error: on_error })
    }

    /// Whether the stream opened.
    pub fn is_open(&self) -> bool {
        self.opened.get()
    }
}

impl Drop for EventStream {
    fn drop(&mut self) {
        self.source.set_onopen(None);
        self.source.set_onmessage(None);
        self.source.set_onerror(None);
        self.source.close();
    }
}
