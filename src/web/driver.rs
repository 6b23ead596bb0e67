//! The loop between one session and the browser: feed an input, drain the outputs, perform
//! them, re-arm the single timer.
//!
//! Shared state lives in one `Rc<RefCell<Shared>>`. No borrow is held while JavaScript code
//! runs (handlers, promise callbacks, the token factory, app callbacks), because that code may
//! call back into the connection; every re-entrant call simply runs the loop again. The timer
//! is re-armed at the end of every pump, which runs on network callbacks too: like the official
//! client's ping timer, that keeps keep-alives flowing in throttled background tabs.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use gloo_timers::callback::Timeout;
use js_sys::{Array, Function, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{spawn_local, JsFuture};

use super::clock::now;
use super::events::{listen_to_lifecycle, navigator_online, Lifecycle, Listener};
use super::console::{self, ConsoleLevel};
use crate::core::handlers::Handlers;
use super::http::{describe_js_error, fetch, send_with_client};
use super::platform::{after, thrown_as_text};
use super::telemetry::{self, Batch, Record, TelemetryOptions};
use super::wake::WakeTimer;
use super::event_source::EventStream;
use super::websocket::{Socket, SocketEvent};
use crate::protocol::negotiate::TransportKind;
use crate::core::dedupe::{DedupeFilter, Dropped};
use crate::core::hub::{LogLevel, Output, TransportId};
use crate::core::id_map::IdMap;
use crate::core::text::{decimal, push_decimal, push_hex_byte};
use crate::core::session::{HubSession, SessionEvent, SessionOutput};
use crate::core::supervisor::{GroupSpec, ManagedState, StateChange};
use crate::core::HubError;
use super::codec::PayloadCodec;
use crate::protocol::Payload;

/// A promise's two settle functions.
pub struct Settle {
    resolve: Function,
    reject: Function,
}

impl Settle {
    /// A new promise and the functions that settle it.
    pub fn promise() -> (Promise, Settle) {
        let mut settle = None;
        let promise = Promise::new(&mut |resolve, reject| settle = Some(Settle { resolve, reject }));
        // The Promise constructor runs its executor synchronously, so `settle` is always set;
        // the fallback only keeps this free of unwrap.
        let settle = settle.unwrap_or_else(|| {
            let noop = Function::new_no_args("");
            Settle { resolve: noop.clone(), reject: noop }
        });
        (promise, settle)
    }

    /// Resolves with `value`.
    pub fn resolve(&self, value: &JsValue) {
        let _ = self.resolve.call1(&JsValue::UNDEFINED, value);
    }

    /// Rejects with an `Error` carrying `error`'s text.
    pub fn reject(&self, error: &HubError) {
        let _ = self.reject.call1(&JsValue::UNDEFINED, &to_js_error(error));
    }
}

/// The JS error for a hub error: an instance of the npm package's class for its kind (the
/// official client's `AbortError`, `TimeoutError`, `FailedToNegotiateWithServerError`, ...), or
/// a plain `Error`, with the error's text as its message.
pub fn to_js_error(error: &HubError) -> JsValue {
    let kind = match error {
        HubError::StoppedDuringStart | HubError::StoppedDuringHandshake => "AbortError",
        HubError::Negotiate(_) | HubError::TooManyRedirects(_) => "FailedToNegotiateWithServerError",
        // A transport that failed because `fetch` rejected carries the rejection's text
        // ("TypeError: fetch failed"); the official client hands the app that TypeError itself.
        HubError::Transport(text) => {
            if let Some(message) = text.strip_prefix("TypeError: ") {
                return super::platform::error("TypeError", message, &JsValue::UNDEFINED);
            }
            "Error"
        }
        _ => "Error",
    };
    super::platform::error(kind, &error.message(), &JsValue::UNDEFINED)
}

/// An app handler with its optional dedupe state. Equal when the function is the same, so
/// `off(name, fn)` finds it.
#[derive(Clone)]
pub struct JsHandler {
    /// The app's function.
    pub function: Function,
    /// Dedupe options and state, when the app asked for them.
    pub dedupe: Option<Rc<RefCell<JsDedupe>>>,
}

impl PartialEq for JsHandler {
    fn eq(&self, other: &Self) -> bool {
        self.function == other.function
    }
}

/// The app's dedupe functions and the core filter deciding with their results.
pub struct JsDedupe {
    /// `key(...args)`: what the update is about (or its identity).
    pub key: Option<Function>,
    /// `version(...args)`: a number or an ISO timestamp.
    pub version: Option<Function>,
    /// The decision state.
    pub filter: DedupeFilter,
}

/// App-facing settings the shell itself needs (the engine's are in its `HubConfig`).
pub struct ShellOptions {
    /// Called for a token before negotiate and connect; may return a Promise.
    pub access_token_factory: Option<Function>,
    /// Send cookies on cross-origin requests (the official default is true).
    pub with_credentials: bool,
    /// Official `LogLevel` number: lines below it are not written to the console.
    pub log_level: u8,
    /// Follow online/offline, visibility and page cache events.
    pub browser_lifecycle: bool,
    /// Where telemetry goes.
    pub telemetry: TelemetryOptions,
    /// The app's `HubConnection`: `this` of its handlers and callbacks, as in the official client.
    pub owner: JsValue,
    /// The app's `ILogger` (an object with `log(level, message)`); `None` writes to the console.
    pub logger: Option<JsValue>,
    /// Log the content of messages at Trace level (otherwise only their length).
    pub log_message_content: bool,
    /// The app's `HttpClient` for every HTTP request; `None` uses the host's `fetch`.
    pub http_client: Option<JsValue>,
    /// The app's `WebSocket` class; `None` uses the host's.
    pub web_socket: Option<Function>,
    /// The app's `EventSource` class; `None` uses the host's.
    pub event_source: Option<Function>,
    /// Turns app values into payloads of the connection's protocol and back.
    pub codec: Rc<PayloadCodec>,
}

/// The browser object behind the current transport (Long Polling has none: it is all fetch).
pub enum Channel {
    /// A WebSocket.
    Socket(Socket),
    /// An EventSource (Server-Sent Events; sends go by POST).
    Events(EventStream),
}

/// Where a server-to-client stream's items go: the JS `{ next, error, complete }` object.
pub struct StreamSink(JsValue);

impl StreamSink {
    fn call(&self, method: &str, argument: &JsValue) {
        if let Ok(function) = Reflect::get(&self.0, &JsValue::from_str(method)) {
            if let Some(function) = function.dyn_ref::<Function>() {
                let _ = function.call1(&self.0, argument);
            }
        }
    }
}

/// Which app callback list: the index into `Shared::callbacks`, and the number the JS entry
/// passes to `HubConnectionCore.addCallback` (pkg-template/index.js).
#[derive(Clone, Copy)]
pub enum CallbackKind {
    /// `onclose`.
    Close = 0,
    /// `onreconnecting`.
    Reconnecting = 1,
    /// `onreconnected`.
    Reconnected = 2,
    /// `onstatechange`.
    StateChange = 3,
    /// `onrejoinfailed`.
    RejoinFailed = 4,
}

/// How many callback kinds there are.
const CALLBACK_KINDS: usize = 5;

/// Everything one connection owns in the browser.
pub struct Shared {
    /// The engine.
    pub session: HubSession<JsHandler>,
    options: ShellOptions,
    channel: Option<Channel>,
    timer: WakeTimer,
    streams: IdMap<StreamSink>,
    start_waiters: Vec<Settle>,
    stop_waiters: Vec<Settle>,
    pending: IdMap<Settle>,
    group_waiters: IdMap<Settle>,
    /// App callbacks, one list per [`CallbackKind`].
    callbacks: [Vec<Function>; CALLBACK_KINDS],
    batch: Batch,
    batch_timer: Option<Timeout>,
    listeners: Vec<Listener>,
    duplicates_dropped: u64,
    /// `stop()` ended a pending `start()` in this call stack: the app reads "Disconnecting"
    /// until the next microtask, as the official client's state reads until its start rejects.
    stopping_start: bool,
}

/// A handle on one connection's shared state.
#[derive(Clone)]
pub struct Driver(Rc<RefCell<Shared>>);

impl Driver {
    /// A driver around a stopped session, listening to the browser's lifecycle if asked.
    pub fn new(session: HubSession<JsHandler>, options: ShellOptions) -> Self {
        let lifecycle = options.browser_lifecycle;
        let driver = Driver(Rc::new(RefCell::new(Shared {
            session,
            options,
            channel: None,
            timer: WakeTimer::default(),
            streams: IdMap::new(),
            start_waiters: Vec::new(),
            stop_waiters: Vec::new(),
            pending: IdMap::new(),
            group_waiters: IdMap::new(),
            callbacks: Default::default(),
            batch: Batch::default(),
            batch_timer: None,
            listeners: Vec::new(),
            duplicates_dropped: 0,
            stopping_start: false,
        })));
        if lifecycle {
            driver.listen_to_lifecycle();
        }
        driver
    }

    /// Runs `f` on the shared state. Must not call JavaScript inside. A call from JavaScript
    /// that runs while the state is in use (a retry policy calling the connection) gets a JS
    /// exception instead of a panic.
    #[inline(always)]
    pub fn with<R>(&self, f: impl FnOnce(&mut Shared) -> R) -> R {
        f(&mut self.borrow())
    }

    /// The shared state, borrowed; the one copy of the borrow check and its exception, so each
    /// of the many `with` calls inlines to a call and the closure's own code.
    #[inline(never)]
    fn borrow(&self) -> std::cell::RefMut<'_, Shared> {
        match self.0.try_borrow_mut() {
            Ok(shared) => shared,
            Err(_) => wasm_bindgen::throw_str(
                "hubwire: the connection cannot be used from inside its own retry policy",
            ),
        }
    }

    /// The connection's payload codec (call it outside `with`: it runs JavaScript).
    pub fn codec(&self) -> Rc<PayloadCodec> {
        self.with(|s| s.options.codec.clone())
    }

    fn weak(&self) -> Weak<RefCell<Shared>> {
        Rc::downgrade(&self.0)
    }

    fn upgrade(weak: &Weak<RefCell<Shared>>) -> Option<Driver> {
        weak.upgrade().map(Driver)
    }

    /// Runs `input` on the session, then pumps.
    fn feed(&self, input: impl FnOnce(&mut HubSession<JsHandler>)) {
        self.with(|s| input(&mut s.session));
        self.pump();
    }

    // ----- app commands -------------------------------------------------------------------

    /// `start()`: a promise settled by `Started` or `StartFailed`.
    pub fn start(&self) -> Promise {
        let (promise, settle) = Settle::promise();
        let started = self.with(|s| {
            let result = s.session.start(now());
            if result.is_ok() {
                s.start_waiters.push(settle);
                None
            } else {
                Some((result, settle))
            }
        });
        if let Some((Err(error), settle)) = started {
            settle.reject(&error);
        }
        self.pump();
        promise
    }

    /// `stop()`: a promise settled once the connection is Disconnected.
    pub fn stop(&self) -> Promise {
        let ends_a_start = self.with(|s| s.session.state() == ManagedState::Connecting && !s.start_waiters.is_empty());
        if ends_a_start {
            // Queued before the start promise is rejected, so the app's rejection handler
            // already reads "Disconnected".
            self.with(|s| s.stopping_start = true);
            let weak = self.weak();
            after(
                None,
                Box::new(move |_| {
                    if let Some(driver) = Driver::upgrade(&weak) {
                        driver.with(|s| s.stopping_start = false);
                    }
                }),
            );
        }
        self.feed(|s| s.stop(now()));
        let (promise, settle) = Settle::promise();
        let disconnected = self.with(|s| s.session.state() == ManagedState::Disconnected);
        if disconnected {
            settle.resolve(&JsValue::UNDEFINED);
        } else {
            self.with(|s| s.stop_waiters.push(settle));
        }
        promise
    }

    /// `joinGroup()` / `leaveGroup()`: a promise settled when the hub answered.
    pub fn group(&self, spec: GroupSpec, join: bool) -> Promise {
        let (promise, settle) = Settle::promise();
        self.with(|s| {
            let request = if join {
                s.session.join_group(now(), spec)
            } else {
                s.session.leave_group(now(), spec)
            };
            s.group_waiters.insert(request, settle);
        });
        self.pump();
        promise
    }

    /// Adds an app callback of kind `kind` (a [`CallbackKind`] number; any other is ignored).
    pub fn add_callback(&self, kind: u32, callback: Function) {
        self.with(|s| {
            if let Some(list) = s.callbacks.get_mut(kind as usize) {
                list.push(callback);
            }
        });
    }

    /// `health()`: a snapshot as a plain object.
    pub fn health(&self) -> JsValue {
        let (health, duplicates, transport) = self.with(|s| {
            let transport = s.session.transport().filter(|_| s.session.state() == ManagedState::Connected);
            (s.session.health(), s.duplicates_dropped, transport.map(TransportKind::name))
        });
        let wall_now = js_sys::Date::now();
        let mono_now = now().as_millis() as f64;
        let last_message_at = health
            .last_message_at
            .map_or(JsValue::NULL, |at| JsValue::from_f64(wall_now - (mono_now - at.as_millis() as f64)));
        Record::empty()
            .with("state", health.state.name())
            .with("transport", transport.map_or(JsValue::NULL, JsValue::from_str))
            .with("connectionId", health.connection_id.map_or(JsValue::NULL, |id| JsValue::from_str(&id)))
            .with("lastMessageAt", last_message_at)
            .with("rttMs", health.round_trip.map_or(JsValue::NULL, |d| JsValue::from_f64(d.as_millis() as f64)))
            .with("reconnectCount", health.reconnects)
            .with("duplicatesDropped", duplicates as f64)
            .to_object()
    }

    /// The state's name as the app reads it (see `stopping_start`).
    pub fn state_name(&self) -> &'static str {
        self.with(|s| match s.session.state() {
            ManagedState::Disconnected if s.stopping_start => ManagedState::Disconnecting.name(),
            state => state.name(),
        })
    }

    /// Duplicates dropped so far by every dedupe filter.
    pub fn duplicates_dropped(&self) -> u64 {
        self.with(|s| s.duplicates_dropped)
    }

    // ----- the loop -----------------------------------------------------------------------

    /// Drains the session's outputs and performs each, then re-arms the timer.
    pub fn pump(&self) {
        loop {
            let output = self.with(|s| s.session.poll_output());
            match output {
                Some(SessionOutput::Io(output)) => self.perform(output),
                Some(SessionOutput::Event(event)) => self.deliver(event),
                None => break,
            }
        }
        self.rearm_timer();
    }

    fn rearm_timer(&self) {
        let deadline = self.with(|s| s.session.poll_timeout());
        if !self.with(|s| s.timer.needs(deadline)) {
            return;
        }
        let weak = self.weak();
        self.with(|s| {
            s.timer.arm(deadline, move || {
                if let Some(driver) = Driver::upgrade(&weak) {
                    driver.with(|s| s.timer.fired());
                    driver.feed(|s| s.handle_timeout(now()));
                }
            })
        });
    }

    fn perform(&self, output: Output<JsHandler>) {
        match output {
            Output::Http(request) => {
                let weak = self.weak();
                let (with_credentials, client) = self.with(|s| (s.options.with_credentials, s.options.http_client.clone()));
                spawn_local(async move {
                    let response = match client {
                        Some(client) => send_with_client(&client, &request, with_credentials).await,
                        None => fetch(&request, with_credentials).await,
                    };
                    if let Some(driver) = Driver::upgrade(&weak) {
                        driver.feed(|s| s.handle_http(now(), request.id, response));
                    }
                    // `fetch` held a text body as the frame being processed (see `codec`).
                    super::codec::hold_frame(None);
                });
            }
            Output::FetchAccessToken => self.fetch_access_token(),
            Output::OpenTransport { transport, kind, url } => self.open_channel(transport, kind, &url),
            Output::Send(text) => {
                if let Some(kind) = self.with(|s| s.session.transport()) {
                    self.trace_data(kind, "sent", text.as_bytes(), text.as_text().is_none());
                }
                let result = self.with(|s| match &s.channel {
                    Some(Channel::Socket(socket)) => Some(socket.send_data(&text)),
                    _ => None,
                });
                if let Some(Err(error)) = result {
                    self.with(|s| {
                        let transport = s.session.transport_id();
                        s.session.handle_transport_closed(now(), transport, Some(error))
                    });
                }
            }
            Output::CloseTransport { transport } => {
                // A WebSocket's own close event can take many seconds; the engine is told at
                // once, and the channel (detached on drop) is released after this call stack,
                // because we may be inside one of its own event handlers right now.
                let channel = self.with(|s| s.channel.take());
                self.with(|s| s.session.handle_transport_closed(now(), transport, None));
                if let Some(channel) = channel {
                    after(None, Box::new(move |_| drop(channel)));
                }
            }
            // The session consumes the link's events and re-emits its own.
            Output::Event(_) => {}
        }
    }

    fn fetch_access_token(&self) {
        let factory = self.with(|s| s.options.access_token_factory.clone());
        let returned = match factory {
            Some(factory) => factory.call0(&JsValue::UNDEFINED),
            None => Ok(JsValue::UNDEFINED),
        };
        let weak = self.weak();
        // Promise.resolve accepts both a plain value and a promise; a factory that threw is
        // answered on a later microtask all the same.
        let (promise, thrown) = match returned {
            Ok(value) => (Some(Promise::resolve(&value)), None),
            Err(thrown) => (None, Some(thrown)),
        };
        after(
            promise,
            Box::new(move |settled| {
                // The failure as `${error}` ("TypeError: ..."), as the official client quotes it.
                let token = match (thrown, settled) {
                    (Some(thrown), _) | (None, Err(thrown)) => Err(thrown_as_text(&thrown)),
                    (None, Ok(token)) => Ok(token.as_string()),
                };
                if let Some(driver) = Driver::upgrade(&weak) {
                    driver.feed(|s| s.handle_access_token(now(), token));
                }
            }),
        );
    }

    fn open_channel(&self, transport: TransportId, kind: TransportKind, url: &str) {
        let weak = self.weak();
        let on_event = move |event| {
            let Some(driver) = Driver::upgrade(&weak) else { return };
            match &event {
                SocketEvent::Text(text) => driver.trace_data(kind, "received", text.as_bytes(), false),
                SocketEvent::Binary(bytes) => driver.trace_data(kind, "received", bytes, true),
                _ => {}
            }
            driver.with(|s| match event {
                SocketEvent::Opened => s.session.handle_transport_opened(now(), transport),
                SocketEvent::Text(text) => s.session.handle_transport_text(now(), transport, &text),
                SocketEvent::Binary(bytes) => s.session.handle_transport_binary(now(), transport, &bytes),
                SocketEvent::InvalidBinary => s.session.handle_transport_closed(
                    now(),
                    transport,
                    Some("Received a binary WebSocket frame that is not UTF-8 text.".into()),
                ),
                SocketEvent::Closed { code, reason, was_clean } => {
                    let open_event_stream = matches!(&s.channel, Some(Channel::Events(stream)) if stream.is_open());
                    s.channel = None;
                    let error = match kind {
                        TransportKind::WebSockets => (!was_clean || code != 1000).then(|| {
                            let reason = if reason.is_empty() { "no reason given" } else { reason.as_str() };
                            ["WebSocket closed with status code: ", &decimal(code), " (", reason, ")."].concat()
                        }),
                        // An event stream that fails after it opened closes the connection with
                        // no error, as the official transport does (EventSource tells nothing
                        // about why); one that never opened fails the start with the reason.
                        _ if open_event_stream => None,
                        _ => (!was_clean || code != 1000).then_some(reason),
                    };
                    s.session.handle_transport_closed(now(), transport, error);
                }
            });
            driver.pump();
        };
        let opened = match kind {
            TransportKind::WebSockets => {
                let (class, binary) =
                    self.with(|s| (s.options.web_socket.clone(), !matches!(*s.options.codec, PayloadCodec::Json)));
                Socket::open(url, class.as_ref(), binary, on_event).map(Channel::Socket)
            }
            TransportKind::ServerSentEvents => {
                let (with_credentials, class) = self.with(|s| (s.options.with_credentials, s.options.event_source.clone()));
                EventStream::open(url, with_credentials, class.as_ref(), on_event).map(Channel::Events)
            }
            // Long Polling is driven by the engine's own HTTP requests.
            TransportKind::LongPolling => return,
        };
        match opened {
            Ok(channel) => self.with(|s| s.channel = Some(channel)),
            Err(error) => self.with(|s| s.session.handle_transport_closed(now(), transport, Some(error))),
        }
    }

    /// `stream()`: starts a server-to-client stream feeding `sink`; returns its id and the ids
    /// of the upload streams among its arguments.
    pub fn stream(&self, target: &str, arguments: Payload, uploads: usize, sink: JsValue) -> Result<(u64, Vec<String>), HubError> {
        let result = self.with(|s| {
            let result = s.session.stream(now(), target, arguments, uploads);
            if let Ok((id, _)) = &result {
                s.streams.insert(*id, StreamSink(sink));
            }
            result
        });
        self.pump();
        result
    }

    /// Disposes a server-to-client stream.
    pub fn cancel_stream(&self, id: u64) {
        self.with(|s| s.streams.remove(&id));
        self.feed(|s| s.cancel_stream(now(), id));
    }

    /// `invoke()` with upload streams: the result promise and the stream ids.
    pub fn invoke_with_uploads(&self, target: &str, arguments: Payload, uploads: usize) -> Result<(Promise, Vec<String>), HubError> {
        let (promise, settle) = Settle::promise();
        let ids = self.with(|s| {
            let (id, ids) = s.session.invoke_with_uploads(now(), target, arguments, uploads)?;
            s.pending.insert(id, settle);
            Ok::<_, HubError>(ids)
        })?;
        self.pump();
        Ok((promise, ids))
    }

    /// `send()` with upload streams: the stream ids.
    pub fn send_with_uploads(&self, target: &str, arguments: Payload, uploads: usize) -> Result<Vec<String>, HubError> {
        let ids = self.with(|s| s.session.send_with_uploads(now(), target, arguments, uploads))?;
        self.pump();
        Ok(ids)
    }

    /// Sends an item of an upload stream.
    pub fn stream_item(&self, stream_id: &str, item: Payload) -> Result<(), HubError> {
        let result = self.with(|s| s.session.send_stream_item(now(), stream_id, item));
        self.pump();
        result
    }

    /// Ends an upload stream.
    pub fn complete_upload(&self, stream_id: &str, error: Option<String>) -> Result<(), HubError> {
        let result = self.with(|s| s.session.complete_upload(now(), stream_id, error));
        self.pump();
        result
    }

    // ----- delivering events to the app ---------------------------------------------------

    fn deliver(&self, event: SessionEvent<JsHandler>) {
        match event {
            SessionEvent::Started => {
                for settle in self.with(|s| std::mem::take(&mut s.start_waiters)) {
                    settle.resolve(&JsValue::UNDEFINED);
                }
            }
            SessionEvent::StartFailed(error) => {
                for settle in self.with(|s| std::mem::take(&mut s.start_waiters)) {
                    settle.reject(&error);
                }
                self.settle_stop_waiters();
            }
            SessionEvent::Invocation { invocation_id: None, target, arguments, handlers } => {
                self.invoke_handlers(&target, &arguments, handlers)
            }
            SessionEvent::Invocation { invocation_id: Some(id), target, arguments, handlers } => {
                self.answer_client_invocation(id, target, arguments, handlers)
            }
            SessionEvent::StreamItem { id, item } => {
                let Some(value) = self.decode(&item) else { return };
                let sink = self.with(|s| s.streams.get(&id).map(|sink| sink.0.clone()));
                if let Some(sink) = sink {
                    StreamSink(sink).call("next", &value);
                }
            }
            SessionEvent::InvocationResult { id, outcome } => {
                if let Some(sink) = self.with(|s| s.streams.remove(&id)) {
                    match outcome {
                        Ok(_) => sink.call("complete", &JsValue::UNDEFINED),
                        Err(error) => sink.call("error", &to_js_error(&error)),
                    }
                    return;
                }
                let Some(settle) = self.with(|s| s.pending.remove(&id)) else { return };
                match outcome {
                    // A Completion without a result (the official client resolves undefined too).
                    Ok(None) => settle.resolve(&JsValue::UNDEFINED),
                    Ok(Some(result)) => match self.codec().decode(&result) {
                        Ok(value) => settle.resolve(&value),
                        // Named for the payload's own encoding (a JSON result the engine's
                        // JSON.parse refuses is not a MessagePack error).
                        Err(error) => settle.reject(&HubError::Protocol(match result {
                            Payload::Json(_) => crate::protocol::ProtocolError::MalformedJson(error),
                            _ => crate::protocol::ProtocolError::MalformedMessagePack(error),
                        })),
                    },
                    Err(error) => settle.reject(&error),
                }
            }
            SessionEvent::GroupSettled { request, result } => {
                let Some(settle) = self.with(|s| s.group_waiters.remove(&request)) else { return };
                match result {
                    Ok(()) => settle.resolve(&JsValue::UNDEFINED),
                    Err(error) => settle.reject(&error),
                }
            }
            SessionEvent::RejoinFailed { spec, error } => {
                self.log(
                    LogLevel::Warning,
                    &["Re-joining with '", &spec.join, "' failed: ", &error.message(), ". It is retried at the next reconnect."].concat(),
                );
                let argument = Record::empty()
                    .with("join", spec.join.as_str())
                    .with("leave", spec.leave.as_str())
                    .with("args", self.decode(&spec.args).unwrap_or(JsValue::NULL))
                    .with("error", to_js_error(&error))
                    .to_object();
                self.call_callbacks(CallbackKind::RejoinFailed, &argument);
            }
            SessionEvent::Reconnecting(error) => {
                let argument = error.as_ref().map(to_js_error).unwrap_or(JsValue::UNDEFINED);
                self.call_callbacks(CallbackKind::Reconnecting, &argument);
            }
            SessionEvent::Reconnected { connection_id } => {
                let argument = connection_id.map_or(JsValue::UNDEFINED, |id| JsValue::from_str(&id));
                self.call_callbacks(CallbackKind::Reconnected, &argument);
            }
            SessionEvent::Closed(error) => {
                self.settle_stop_waiters();
                let argument = error.as_ref().map(to_js_error).unwrap_or(JsValue::UNDEFINED);
                self.call_callbacks(CallbackKind::Close, &argument);
            }
            SessionEvent::StateChanged { change, connection_id } => {
                let transport = self.with(|s| s.session.transport());
                let over = match (change.current, transport) {
                    (ManagedState::Connected, Some(kind)) => [" over ", kind.name()].concat(),
                    _ => String::new(),
                };
                self.log_at(
                    2,
                    ConsoleLevel::Information,
                    &["HubConnection ", change.current.name(), &over, " (", &change.reason, ")."].concat(),
                );
                let argument = state_change_object(&change, connection_id, transport);
                self.call_callbacks(CallbackKind::StateChange, &argument);
            }
            SessionEvent::Log { level, message } => self.log(level, &message),
            SessionEvent::Telemetry(record) => self.record(telemetry::from_core(&record)),
        }
    }

    /// A payload as a value, or `None` with a logged warning when the app's codec refuses it.
    fn decode(&self, payload: &Payload) -> Option<JsValue> {
        match self.codec().decode(payload) {
            Ok(value) => Some(value),
            Err(error) => {
                self.log(LogLevel::Warning, &["A payload from the server was dropped: ", error.as_str()].concat());
                None
            }
        }
    }

    /// An argument list as the array handlers are applied with: the decoded array itself (no
    /// per-message copy); anything else an app's codec returns, as `Array.from` makes it.
    fn decode_arguments(&self, payload: &Payload) -> Option<Array> {
        let parsed = self.decode(payload)?;
        Some(parsed.dyn_into::<Array>().unwrap_or_else(|value| Array::from(&value)))
    }

    fn invoke_handlers(&self, target: &str, arguments: &Payload, handlers: Handlers<JsHandler>) {
        let Some(arguments) = self.decode_arguments(arguments) else { return };
        self.measure_latency(target, &arguments);
        let owner = self.with(|s| s.options.owner.clone());
        for handler in handlers.iter() {
            if let Some(dedupe) = &handler.dedupe {
                if let Some(reason) = self.judge_duplicate(dedupe, &arguments) {
                    let reason = match reason {
                        Dropped::Repeat => "repeat",
                        Dropped::Stale => "stale",
                    };
                    self.with(|s| s.duplicates_dropped += 1);
                    self.record(Record::new("duplicateDropped").with("event", target).with("reason", reason));
                    continue;
                }
            }
            if let Err(thrown) = handler.function.apply(&owner, &arguments) {
                self.log(
                    LogLevel::Warning,
                    &[
                        "A callback for the method '",
                        &target.to_ascii_lowercase(),
                        "' threw error '",
                        &describe_js_error(&thrown),
                        "'.",
                    ]
                    .concat(),
                );
            }
        }
    }

    /// A server call that waits for a result: run the handlers in order (awaiting promises),
    /// then send what they returned, as the official client does.
    fn answer_client_invocation(&self, invocation_id: String, target: String, arguments: Payload, handlers: Handlers<JsHandler>) {
        let Some(arguments) = self.decode_arguments(&arguments) else { return };
        let weak = self.weak();
        let codec = self.codec();
        let owner = self.with(|s| s.options.owner.clone());
        spawn_local(async move {
            let mut result: Option<JsValue> = None;
            let mut failure: Option<String> = None;
            for handler in handlers.iter() {
                let returned = match handler.function.apply(&owner, &arguments) {
                    Ok(value) => JsFuture::from(Promise::resolve(&value)).await,
                    Err(thrown) => Err(thrown),
                };
                match returned {
                    // As the official client: the thrown value's string form ("TypeError: nope").
                    Err(thrown) => failure = Some(thrown_as_text(&thrown)),
                    Ok(value) if value.is_undefined() => {}
                    Ok(_) if result.is_some() => failure = Some("Client provided multiple results.".into()),
                    Ok(value) => result = Some(value),
                }
            }
            let answer = match (failure, result) {
                (Some(error), _) => Err(error),
                (None, None) => Ok(None),
                (None, Some(value)) => match codec.encode(&value, "the result") {
                    Ok(payload) => Ok(Some(payload)),
                    Err(_) if matches!(*codec, PayloadCodec::Json) => {
                        Err(["The result of '", target.as_str(), "' cannot be serialized to JSON."].concat())
                    }
                    Err(error) => Err(["The result of '", target.as_str(), "' cannot be sent: ", &error.message()].concat()),
                },
            };
            if let Some(driver) = Driver::upgrade(&weak) {
                driver.feed(|s| s.complete_client_invocation(now(), &invocation_id, answer));
            }
        });
    }

    /// Runs the app's key/version functions (no borrow held), then lets the core filter decide.
    fn judge_duplicate(&self, dedupe: &Rc<RefCell<JsDedupe>>, arguments: &Array) -> Option<Dropped> {
        let (key_fn, version_fn) = {
            let d = dedupe.borrow();
            (d.key.clone(), d.version.clone())
        };
        let key = key_fn
            .and_then(|f| f.apply(&JsValue::UNDEFINED, arguments).ok())
            .filter(|v| !v.is_undefined() && !v.is_null())
            .map(|v| v.as_string().unwrap_or_else(|| js_sys::JSON::stringify(&v).map(String::from).unwrap_or_default()));
        let version = version_fn
            .and_then(|f| f.apply(&JsValue::UNDEFINED, arguments).ok())
            .and_then(|v| v.as_f64().or_else(|| v.as_string().map(|s| js_sys::Date::parse(&s))))
            .filter(|v| v.is_finite());
        // With a version but no key function, all updates of the event share one version line.
        let key = key.or_else(|| version.map(|_| String::new()));
        let verdict = dedupe.borrow_mut().filter.admit(now(), key.as_deref(), version);
        verdict.err()
    }

    fn measure_latency(&self, target: &str, arguments: &Array) {
        let field = self.with(|s| {
            let fields = &s.options.telemetry.latency_fields;
            // Event names are matched as method names are (ASCII letters folded, see
            // core::handlers), in place: no lower-cased copy per message.
            fields.iter().find(|(event, _)| event.eq_ignore_ascii_case(target)).map(|(_, f)| f.clone())
        });
        let Some(field) = field else { return };
        let Ok(stamp) = Reflect::get(&arguments.get(0), &JsValue::from_str(&field)) else { return };
        let produced = stamp.as_f64().or_else(|| stamp.as_string().map(|s| js_sys::Date::parse(&s)));
        if let Some(produced) = produced.filter(|p| p.is_finite()) {
            let latency = js_sys::Date::now() - produced;
            self.record(Record::new("messageLatency").with("event", target).with("latencyMs", latency));
        }
    }

    fn call_callbacks(&self, kind: CallbackKind, argument: &JsValue) {
        let (callbacks, owner) = self.with(|s| (s.callbacks[kind as usize].clone(), s.options.owner.clone()));
        for callback in callbacks {
            if let Err(thrown) = callback.call1(&owner, argument) {
                self.log(LogLevel::Warning, &["A connection callback threw error '", &describe_js_error(&thrown), "'."].concat());
            }
        }
    }

    fn settle_stop_waiters(&self) {
        for settle in self.with(|s| std::mem::take(&mut s.stop_waiters)) {
            settle.resolve(&JsValue::UNDEFINED);
        }
    }

    fn log(&self, level: LogLevel, message: &str) {
        // Official LogLevel numbers: Debug = 1, Warning = 3.
        let (number, console_level) = match level {
            LogLevel::Debug => (1, ConsoleLevel::Debug),
            LogLevel::Warning => (3, ConsoleLevel::Warning),
        };
        self.log_at(number, console_level, message);
    }

    /// A Trace line for data the transport received or sent: its length, or its content when
    /// the app set `logMessageContent`. Skipped cheaply when nothing would print it.
    fn trace_data(&self, kind: TransportKind, direction: &str, data: &[u8], binary: bool) {
        let (wanted, content) = self.with(|s| (s.options.logger.is_some() || s.options.log_level == 0, s.options.log_message_content));
        if !wanted {
            return;
        }
        let mut line = ["(", kind.name(), " transport) data ", direction, ": "].concat();
        match (binary, content) {
            (false, true) => {
                line.push_str("content '");
                line.push_str(&String::from_utf8_lossy(data));
                line.push('\'');
            }
            (false, false) => {
                push_decimal(&mut line, String::from_utf8_lossy(data).chars().count() as u128);
                line.push_str(" characters");
            }
            (true, _) => {
                line.push_str("binary data of length ");
                push_decimal(&mut line, data.len() as u128);
                if content {
                    line.push_str(", content '");
                    for (i, byte) in data.iter().enumerate() {
                        line.push_str(if i == 0 { "0x" } else { " 0x" });
                        push_hex_byte(&mut line, *byte);
                    }
                    line.push('\'');
                }
            }
        }
        line.push('.');
        self.log_at(0, ConsoleLevel::Debug, &line);
    }

    /// Writes a line at the official `LogLevel` `number`: to the app's logger when it gave one
    /// (every line; the logger filters, as the official client's loggers do), else to the
    /// console when at or above the configured level. Always redacted.
    fn log_at(&self, number: u8, console_level: ConsoleLevel, message: &str) {
        let (logger, minimum) = self.with(|s| (s.options.logger.clone(), s.options.log_level));
        match logger {
            Some(logger) => console::to_logger(&logger, number, message),
            None if number >= minimum => console::write(console_level, message),
            None => {}
        }
    }

    // ----- telemetry ----------------------------------------------------------------------

    fn record(&self, record: Record) {
        let (on_event, url) = self.with(|s| (s.options.telemetry.on_event.clone(), s.options.telemetry.url.clone()));
        // No sink: the record is never turned into a JS object (duplicateDropped comes per
        // message when a server repeats itself).
        if on_event.is_none() && url.is_none() {
            return;
        }
        let object = record.to_object();
        if let Some(on_event) = on_event {
            let _ = on_event.call1(&JsValue::UNDEFINED, &object);
        }
        let Some(url) = url else { return };
        let full = self.with(|s| s.batch.push(object, s.options.telemetry.batch_size));
        match full {
            Some(batch) => {
                self.with(|s| s.batch_timer = None);
                telemetry::send(&url, &batch, false);
            }
            None => self.arm_batch_timer(),
        }
    }

    fn arm_batch_timer(&self) {
        if self.with(|s| s.batch_timer.is_some()) {
            return;
        }
        let interval = self.with(|s| s.options.telemetry.flush_interval_ms);
        let weak = self.weak();
        let timer = Timeout::new(interval, move || {
            if let Some(driver) = Driver::upgrade(&weak) {
                driver.flush_telemetry(false);
            }
        });
        self.with(|s| s.batch_timer = Some(timer));
    }

    /// Sends what is waiting: by `fetch`, or by beacon when the page is going away.
    pub fn flush_telemetry(&self, page_leaving: bool) {
        let (url, batch) = self.with(|s| {
            s.batch_timer = None;
            let batch = (!s.batch.is_empty()).then(|| s.batch.take());
            (s.options.telemetry.url.clone(), batch)
        });
        if let (Some(url), Some(batch)) = (url, batch) {
            telemetry::send(&url, &batch, page_leaving);
        }
    }

    // ----- browser lifecycle --------------------------------------------------------------

    fn listen_to_lifecycle(&self) {
        if !navigator_online() {
            self.with(|s| s.session.set_online(now(), false));
        }
        let weak = self.weak();
        let listeners = listen_to_lifecycle(move |change| {
            let Some(driver) = Driver::upgrade(&weak) else { return };
            match change {
                Lifecycle::Online(online) => driver.feed(|s| s.set_online(now(), online)),
                Lifecycle::PageHidden => {
                    driver.flush_telemetry(true);
                    driver.feed(|s| s.page_hidden(now()));
                }
                Lifecycle::PageShown { persisted } => driver.feed(|s| s.page_shown(now(), persisted)),
                Lifecycle::Visible => driver.feed(|s| s.page_visible(now())),
            }
        });
        self.with(|s| s.listeners = listeners);
    }
}

/// The argument of `onstatechange` callbacks, for hub connections and plain ones (`plain.rs`).
pub(crate) fn state_change_object(change: &StateChange, connection_id: Option<String>, transport: Option<TransportKind>) -> JsValue {
    let next = change.next_retry_in.map_or(JsValue::NULL, |d| JsValue::from_f64(d.as_millis() as f64));
    let transport = match transport {
        Some(kind) if change.current == ManagedState::Connected => JsValue::from_str(kind.name()),
        _ => JsValue::NULL,
    };
    Record::empty()
        .with("previous", change.previous.name())
        .with("current", change.current.name())
        .with("reason", change.reason.as_str())
        .with("attempt", change.attempt)
        .with("nextRetryInMs", next)
        .with("transport", transport)
        .with("connectionId", connection_id.map_or(JsValue::NULL, |id| JsValue::from_str(&id)))
        .to_object()
}

