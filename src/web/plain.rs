//! The `#[wasm_bindgen]` class behind `PlainSocketConnection` (`pkg-template/live.js`): a
//! [`PlainSession`] — a plain JSON WebSocket kept alive by the hub's supervisor — driven in the
//! browser.
//!
//! Same loop as [`super::driver`]: one `Rc<RefCell<..>>`, no borrow held while JavaScript runs
//! (message handlers, the token factory, callbacks), the one timer re-armed after every pump,
//! online/offline, visibility and page-cache events fed to the core. The class exposes the
//! `HubConnection` shape a subscription needs (`state`, `start`, `stop`, `on`, `off`,
//! `onstatechange`, `onreconnecting`, `onreconnected`, `onclose`) plus `send(type, payload)`.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::prelude::*;

use super::clock::now;
use super::driver::{state_change_object, to_js_error, Settle};
use super::events::{listen_to_lifecycle, navigator_online, Lifecycle, Listener};
use super::http::describe_js_error;
use super::platform::after;
use super::settings::{flag, function, js_error, millis, number, reconnect_options, string};
use super::telemetry::from_core;
use super::wake::WakeTimer;
use super::websocket::{Socket, SocketEvent};
use crate::core::hub::LogLevel;
use crate::core::plain_link::{PlainConfig, PlainIo, SocketClose};
use crate::core::plain_session::{PlainSession, PlainSessionEvent, PlainSessionOutput};
use crate::core::supervisor::ManagedState;
use crate::protocol::negotiate::TransportKind;
use crate::protocol::RawJson;

struct Shared {
    session: PlainSession<Function>,
    access_token_factory: Option<Function>,
    /// Official `LogLevel` number: lines below it are not written to the console.
    log_level: u8,
    telemetry: Option<Function>,
    socket: Option<Socket>,
    timer: WakeTimer,
    start_waiters: Vec<Settle>,
    stop_waiters: Vec<Settle>,
    /// App callbacks, one list per [`CallbackKind`].
    callbacks: [Vec<Function>; 4],
    listeners: Vec<Listener>,
}

#[derive(Clone)]
struct Driver(Rc<RefCell<Shared>>);

/// A connection to a plain JSON WebSocket endpoint.
#[wasm_bindgen(js_name = PlainConnectionCore)]
pub struct PlainConnectionCore {
    driver: Driver,
}

#[wasm_bindgen(js_class = PlainConnectionCore)]
impl PlainConnectionCore {
    /// Builds a connection from `{ url, accessTokenFactory?, tokenParam?, reconnect?,
    /// openTimeoutMs?, browserLifecycle?, logLevel?, telemetry? }`. `reconnect` takes the shapes
    /// of `withAutomaticReconnect` and defaults to its official schedule; `false` turns it off.
    #[wasm_bindgen(constructor)]
    pub fn new(settings: JsValue) -> Result<PlainConnectionCore, JsValue> {
        let url = string(&settings, "url")?.ok_or_else(|| js_error("The 'url' setting is required."))?;
        let mut config = PlainConfig::new(url);
        // Refuse a bad URL now rather than at start.
        crate::core::plain_link::socket_url(&config.url).map_err(|e| to_js_error(&e))?;
        let access_token_factory = function(&settings, "accessTokenFactory")?;
        config.uses_access_token = access_token_factory.is_some();
        if let Some(param) = string(&settings, "tokenParam")?.filter(|p| !p.is_empty()) {
            config.token_param = param;
        }
        if let Some(timeout) = millis(&settings, "openTimeoutMs")? {
            config.open_timeout = timeout;
        }
        let reconnect = match Reflect::get(&settings, &JsValue::from_str("reconnect")) {
            Ok(setting) if setting.is_undefined() => reconnect_options(&JsValue::TRUE)?,
            Ok(setting) => reconnect_options(&setting)?,
            Err(_) => reconnect_options(&JsValue::TRUE)?,
        };
        let lifecycle = flag(&settings, "browserLifecycle", true);
        config.validate().map_err(|error| js_error(&error.message()))?;
        let shared = Shared {
            session: PlainSession::new(config, reconnect),
            access_token_factory,
            log_level: number(&settings, "logLevel").map_or(2, |n| n as u8),
            telemetry: function(&settings, "telemetry")?,
            socket: None,
            timer: WakeTimer::default(),
            start_waiters: Vec::new(),
            stop_waiters: Vec::new(),
            callbacks: Default::default(),
            listeners: Vec::new(),
        };
        let driver = Driver(Rc::new(RefCell::new(shared)));
        if lifecycle {
            driver.listen_to_lifecycle();
        }
        Ok(PlainConnectionCore { driver })
    }

    /// Connects; resolves once the socket is open, rejects when the start fails for good.
    pub fn start(&self) -> Promise {
        let (promise, settle) = Settle::promise();
        let refused = self.driver.with(|s| match s.session.start(now()) {
            Ok(()) => {
                s.start_waiters.push(settle);
                None
            }
            Err(error) => Some((error, settle)),
        });
        if let Some((error, settle)) = refused {
            settle.reject(&error);
        }
        self.driver.pump();
        promise
    }

    /// Disconnects (cancelling any retry); resolves once Disconnected.
    pub fn stop(&self) -> Promise {
        self.driver.feed(|s| s.stop(now()));
        let (promise, settle) = Settle::promise();
        if self.driver.with(|s| s.session.state() == ManagedState::Disconnected) {
            settle.resolve(&JsValue::UNDEFINED);
        } else {
            self.driver.with(|s| s.stop_waiters.push(settle));
        }
        promise
    }

    /// Calls `handler(payload, type)` for each message of `type` (exact match).
    pub fn on(&self, kind: &str, handler: Function) {
        self.driver.with(|s| s.session.on(kind, handler));
    }

    /// Removes one handler of `type`, or all of them when `handler` is omitted.
    pub fn off(&self, kind: &str, handler: Option<Function>) {
        self.driver.with(|s| s.session.off(kind, handler.as_ref()));
    }

    /// Sends `{ type, payload }`; resolves once handed to the socket.
    pub fn send(&self, kind: &str, payload: JsValue) -> Promise {
        let text = if payload.is_undefined() {
            Ok("null".to_string())
        } else {
            js_sys::JSON::stringify(&payload)
                .map(String::from)
                .map_err(|e| js_error(&["payload cannot be serialized to JSON: ", &describe_js_error(&e)].concat()))
        };
        let payload = match text.and_then(|t| RawJson::parse(t).map_err(|e| js_error(&e.message()))) {
            Ok(payload) => payload,
            Err(error) => return Promise::reject(&error),
        };
        let sent = self.driver.with(|s| s.session.send(now(), kind, payload));
        self.driver.pump();
        match sent {
            Ok(()) => Promise::resolve(&JsValue::UNDEFINED),
            Err(error) => Promise::reject(&to_js_error(&error)),
        }
    }

    /// Adds an app callback: `kind` 0 `onclose` (the connection ends for good), 1
    /// `onreconnecting` (lost, being retried), 2 `onreconnected` (back), 3 `onstatechange`
    /// (every state change: `{ previous, current, reason, attempt, nextRetryInMs, transport,
    /// connectionId }`, as `HubConnection`'s); any other kind is ignored. One export for the
    /// four: each export carries its own conversion code.
    #[wasm_bindgen(js_name = addCallback)]
    pub fn add_callback(&self, kind: u32, callback: Function) {
        self.driver.with(|s| {
            if let Some(list) = s.callbacks.get_mut(kind as usize) {
                list.push(callback);
            }
        });
    }

    /// The state's name (as `HubConnection`'s).
    #[wasm_bindgen(getter)]
    pub fn state(&self) -> String {
        self.driver.with(|s| s.session.state().name().to_string())
    }

    /// Successful reconnects so far.
    #[wasm_bindgen(getter, js_name = reconnectCount)]
    pub fn reconnect_count(&self) -> u32 {
        self.driver.with(|s| s.session.reconnect_count())
    }
}

/// Which app callback list: the index into `Shared::callbacks`, and the number the JS class
/// passes to `addCallback` (pkg-template/live.js).
#[derive(Clone, Copy)]
enum CallbackKind {
    Close = 0,
    Reconnecting = 1,
    Reconnected = 2,
    State = 3,
}

impl Driver {
    /// Runs `f` on the shared state; never calls JavaScript inside. A JS callback that calls
    /// back while the state is in use (a retry policy) gets an exception instead of a panic.
    #[inline(always)]
    fn with<R>(&self, f: impl FnOnce(&mut Shared) -> R) -> R {
        f(&mut self.borrow())
    }

    /// The shared state, borrowed: one copy of the borrow check and its exception (as the hub
    /// driver's `borrow`).
    #[inline(never)]
    fn borrow(&self) -> std::cell::RefMut<'_, Shared> {
        match self.0.try_borrow_mut() {
            Ok(shared) => shared,
            Err(_) => wasm_bindgen::throw_str("hubwire: the connection cannot be used from inside its own retry policy"),
        }
    }

    fn weak(&self) -> Weak<RefCell<Shared>> {
        Rc::downgrade(&self.0)
    }

    fn upgrade(weak: &Weak<RefCell<Shared>>) -> Option<Driver> {
        weak.upgrade().map(Driver)
    }

    fn feed(&self, input: impl FnOnce(&mut PlainSession<Function>)) {
        self.with(|s| input(&mut s.session));
        self.pump();
    }

    fn pump(&self) {
        while let Some(output) = self.with(|s| s.session.poll_output()) {
            match output {
                PlainSessionOutput::Io(io) => self.perform(io),
                PlainSessionOutput::Event(event) => self.deliver(event),
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

    fn perform(&self, io: PlainIo) {
        match io {
            PlainIo::FetchAccessToken => self.fetch_access_token(),
            PlainIo::OpenSocket { url } => self.open_socket(&url),
            PlainIo::Send(text) => {
                let result = self.with(|s| s.socket.as_ref().map(|socket| socket.send(&text)));
                if let Some(Err(error)) = result {
                    self.warn(&["sending on the WebSocket failed: ", error.as_str()].concat());
                }
            }
            PlainIo::CloseSocket => {
                // Released after this call stack: we may be inside one of its own handlers.
                if let Some(socket) = self.with(|s| s.socket.take()) {
                    after(None, Box::new(move |_| drop(socket)));
                }
            }
        }
    }

    fn fetch_access_token(&self) {
        let factory = self.with(|s| s.access_token_factory.clone());
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
                let token = match (thrown, settled) {
                    (Some(thrown), _) | (None, Err(thrown)) => Err(describe_js_error(&thrown)),
                    (None, Ok(token)) => Ok(token.as_string()),
                };
                if let Some(driver) = Driver::upgrade(&weak) {
                    driver.feed(|s| s.handle_access_token(now(), token));
                }
            }),
        );
    }

    fn open_socket(&self, url: &str) {
        let weak = self.weak();
        let opened = Socket::open(url, None, false, move |event| {
            let Some(driver) = Driver::upgrade(&weak) else { return };
            driver.with(|s| match event {
                SocketEvent::Opened => s.session.handle_socket_opened(now()),
                SocketEvent::Text(text) => s.session.handle_socket_text(now(), &text),
                // Not a `{ type, payload }` text message: the link skips it like any bad frame.
                SocketEvent::InvalidBinary | SocketEvent::Binary(_) => s.session.handle_socket_text(now(), ""),
                SocketEvent::Closed { code, reason, was_clean } => {
                    s.socket = None;
                    s.session.handle_socket_closed(now(), SocketClose { code, reason, clean: was_clean });
                }
            });
            driver.pump();
        });
        match opened {
            Ok(socket) => self.with(|s| s.socket = Some(socket)),
            Err(error) => self.with(|s| {
                s.session.handle_socket_closed(now(), SocketClose { code: 1006, reason: error, clean: false })
            }),
        }
    }

    // ----- delivering events to the app ---------------------------------------------------

    fn deliver(&self, event: PlainSessionEvent<Function>) {
        match event {
            PlainSessionEvent::StateChanged(change) => {
                // A plain link is always a WebSocket, and has no connection id.
                let argument = state_change_object(&change, None, Some(TransportKind::WebSockets));
                self.call_callbacks(CallbackKind::State, &argument);
            }
            PlainSessionEvent::Started => {
                for settle in self.with(|s| std::mem::take(&mut s.start_waiters)) {
                    settle.resolve(&JsValue::UNDEFINED);
                }
            }
            PlainSessionEvent::StartFailed(error) => {
                for settle in self.with(|s| std::mem::take(&mut s.start_waiters)) {
                    settle.reject(&error);
                }
                self.settle_stop_waiters();
            }
            PlainSessionEvent::Reconnecting(error) => {
                let argument = error.as_ref().map(to_js_error).unwrap_or(JsValue::UNDEFINED);
                self.call_callbacks(CallbackKind::Reconnecting, &argument);
            }
            PlainSessionEvent::Reconnected => self.call_callbacks(CallbackKind::Reconnected, &JsValue::UNDEFINED),
            PlainSessionEvent::Closed(error) => {
                self.settle_stop_waiters();
                let argument = error.as_ref().map(to_js_error).unwrap_or(JsValue::UNDEFINED);
                self.call_callbacks(CallbackKind::Close, &argument);
            }
            PlainSessionEvent::Message { kind, payload, handlers } => {
                let Ok(value) = js_sys::JSON::parse(payload.as_str()) else { return };
                let kind = JsValue::from_str(&kind);
                for handler in handlers {
                    if let Err(thrown) = handler.call2(&JsValue::UNDEFINED, &value, &kind) {
                        self.warn(&["a message handler threw: ", &describe_js_error(&thrown)].concat());
                    }
                }
            }
            PlainSessionEvent::Log { level, message } => self.log(level, &message),
            PlainSessionEvent::Telemetry(record) => {
                let Some(hook) = self.with(|s| s.telemetry.clone()) else { return };
                let _ = hook.call1(&JsValue::UNDEFINED, &from_core(&record).to_object());
            }
        }
    }

    fn call_callbacks(&self, kind: CallbackKind, argument: &JsValue) {
        let callbacks = self.with(|s| s.callbacks[kind as usize].clone());
        for callback in callbacks {
            if let Err(thrown) = callback.call1(&JsValue::UNDEFINED, argument) {
                self.warn(&["a connection callback threw: ", &describe_js_error(&thrown)].concat());
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
        let number = match level {
            LogLevel::Debug => 1,
            LogLevel::Warning => 3,
        };
        if number >= self.with(|s| s.log_level) {
            self.warn(message);
        }
    }

    fn warn(&self, message: &str) {
        super::console::write(super::console::ConsoleLevel::Warning, message);
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
                Lifecycle::PageHidden => driver.feed(|s| s.page_hidden(now())),
                Lifecycle::PageShown { persisted } => driver.feed(|s| s.page_shown(now(), persisted)),
                Lifecycle::Visible => driver.feed(|s| s.page_visible(now())),
            }
        });
        self.with(|s| s.listeners = listeners);
    }
}
