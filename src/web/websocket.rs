//! A WebSocket that forwards its events to one callback and detaches itself when dropped.
//!
//! The closures only forward; nothing is decided inside them. Dropping a [`Socket`] removes its
//! handlers first, so a closed socket can never feed a late event into a newer connection, and
//! then closes it without panicking (a `close()` error is ignored: the socket is gone anyway).

use wasm_bindgen::prelude::*;
use web_sys::{BinaryType, CloseEvent, Event, MessageEvent, WebSocket};

use super::platform;
use super::codec::hold_frame;
use crate::protocol::{SharedText, TransportData};

/// What a socket reports.
pub enum SocketEvent {
    /// The connection is open.
    Opened,
    /// A text frame (on a text socket, binary frames too, decoded as UTF-8), as the shared
    /// text the core's payloads point into.
    Text(SharedText),
    /// A binary frame of a binary socket (the MessagePack protocol).
    Binary(Vec<u8>),
    /// A binary frame of a text socket that was not valid UTF-8.
    InvalidBinary,
    /// The socket closed or failed.
    Closed {
        /// The close code.
        code: u16,
        /// The close reason.
        reason: String,
        /// Whether the close handshake completed.
        was_clean: bool,
    },
}

thread_local! {
    /// The `onerror` of every socket: does nothing (the close event that follows reports).
    static IGNORE_ERROR: Closure<dyn FnMut(Event)> = Closure::new(|_: Event| {});
}

/// An open (or opening) browser WebSocket with its handlers attached.
pub struct Socket {
    ws: WebSocket,
    _on_open: Closure<dyn FnMut(Event)>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl Socket {
    /// Opens a WebSocket to `url` with `class` (the app's `WebSocket` option) or the host's
    /// class, sending every event to `on_event`. A `binary` socket reports binary frames as
    /// bytes; a text socket decodes them as UTF-8.
    pub fn open(url: &str, class: Option<&js_sys::Function>, binary: bool, on_event: impl Fn(SocketEvent) + 'static) -> Result<Socket, String> {
        // The host's class (the global one, or `ws` in Node): see `platform`.
        let ws: WebSocket =
            platform::construct_with(class, "WebSocket", &js_sys::Array::of1(&JsValue::from_str(url)))?.unchecked_into();
        ws.set_binary_type(BinaryType::Arraybuffer);
        let on_event = std::rc::Rc::new(on_event);

        let forward = on_event.clone();
        let on_open = Closure::<dyn FnMut(Event)>::new(move |_| forward(SocketEvent::Opened));
        let forward = on_event.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let data = event.data();
            if let Some(text) = data.as_string() {
                // The one copy of the frame (UTF-16 to UTF-8); payloads are sliced, not copied.
                let text = SharedText::new(text);
                hold_frame(Some((&text, data)));
                forward(SocketEvent::Text(text));
                hold_frame(None);
            } else {
                let bytes = js_sys::Uint8Array::new(&data).to_vec();
                if binary {
                    return forward(SocketEvent::Binary(bytes));
                }
                match String::from_utf8(bytes) {
                    Ok(text) => forward(SocketEvent::Text(SharedText::new(text))),
                    Err(_) => forward(SocketEvent::InvalidBinary),
                }
            }
        });
        let forward = on_event;
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |event: CloseEvent| {
            forward(SocketEvent::Closed {
                code: event.code(),
                reason: event.reason(),
                was_clean: event.was_clean(),
            })
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        // Errors are followed by a close event, which reports them. The handler must still be
        // there: Node's `ws` is an EventEmitter, where an `error` with no listener is thrown
        // (an uncaught exception), and it emits one even for a socket closed while connecting,
        // after Drop. So it is one shared closure that lives as long as the module, never removed.
        IGNORE_ERROR.with(|ignore| ws.set_onerror(Some(ignore.as_ref().unchecked_ref())));
        Ok(Socket { ws, _on_open: on_open, _on_message: on_message, _on_close: on_close })
    }

    /// Sends one text frame.
    pub fn send(&self, text: &str) -> Result<(), String> {
        self.ws.send_with_str(text).map_err(|e| platform::describe_js_error(&e))
    }

    /// Sends one frame: text as a text frame, bytes as a binary frame.
    pub fn send_data(&self, data: &TransportData) -> Result<(), String> {
        match data {
            TransportData::Binary(bytes) => self.ws.send_with_u8_array(bytes),
            text => self.ws.send_with_str(text.as_text().unwrap_or_default()),
        }
        .map_err(|e| platform::describe_js_error(&e))
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        // onerror stays: see `open`.
        let _ = self.ws.close_with_code(1000);
    }
}
