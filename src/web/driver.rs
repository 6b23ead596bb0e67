//! The loop between one engine and the browser: feed an input, drain the outputs, perform
//! them, re-arm the single timer.
//!
//! Shared state lives in one `Rc<RefCell<Shared>>`. No borrow is held while JavaScript code
//! runs (handlers, promise callbacks, the token factory), because that code may call back into
//! the connection; every re-entrant call simply runs the loop again.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::{Rc, Weak};

use gloo_timers::callback::Timeout;
use js_sys::{Array, Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{spawn_local, JsFuture};

use super::clock::now;
use super::http::{describe_js_error, fetch};
use super::websocket::{Socket, SocketEvent};
use crate::core::hub::{Event, LogLevel, Output};
use crate::core::{HubConnection, HubError};
use crate::protocol::RawJson;

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
        // The Promise constructor runs its executor synchronously, so `settle` is always set.
        (promise, settle.unwrap_or_else(|| unreachable_settle()))
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

fn unreachable_settle() -> Settle {
    let noop = Function::new_no_args("");
    Settle { resolve: noop.clone(), reject: noop }
}

/// The JS `Error` for a hub error.
pub fn to_js_error(error: &HubError) -> JsValue {
    js_sys::Error::new(&error.to_string()).into()
}

/// App-facing settings the shell itself needs (the engine's are in its `HubConfig`).
pub struct ShellOptions {
    /// Called for a token before negotiate and connect; may return a Promise.
    pub access_token_factory: Option<Function>,
    /// Send cookies on cross-origin requests (the official default is true).
    pub with_credentials: bool,
    /// Official `LogLevel` number: lines below it are not written to the console.
    pub log_level: u8,
}

/// Everything one connection owns in the browser.
pub struct Shared {
    pub engine: HubConnection<Function>,
    pub options: ShellOptions,
    socket: Option<Socket>,
    timer: Option<(crate::core::Instant, Timeout)>,
    start_waiters: Vec<Settle>,
    stop_waiters: Vec<Settle>,
    pending: BTreeMap<u64, Settle>,
    onclose: Vec<Function>,
}

/// A handle on one connection's shared state.
#[derive(Clone)]
pub struct Driver(Rc<RefCell<Shared>>);

impl Driver {
    /// A driver around a disconnected engine.
    pub fn new(engine: HubConnection<Function>, options: ShellOptions) -> Self {
        Driver(Rc::new(RefCell::new(Shared {
            engine,
            options,
            socket: None,
            timer: None,
            start_waiters: Vec::new(),
            stop_waiters: Vec::new(),
            pending: BTreeMap::new(),
            onclose: Vec::new(),
        })))
    }

    /// Runs `f` on the shared state. Must not call JavaScript inside.
    pub fn with<R>(&self, f: impl FnOnce(&mut Shared) -> R) -> R {
        f(&mut self.0.borrow_mut())
    }

    fn weak(&self) -> Weak<RefCell<Shared>> {
        Rc::downgrade(&self.0)
    }

    fn upgrade(weak: &Weak<RefCell<Shared>>) -> Option<Driver> {
        weak.upgrade().map(Driver)
    }

    /// `start()`: a promise settled by `Started` or `StartFailed`.
    pub fn start(&self) -> Promise {
        let started = self.with(|s| s.engine.start(now()));
        if let Err(error) = started {
            return Promise::reject(&to_js_error(&error));
        }
        let (promise, settle) = Settle::promise();
        self.with(|s| s.start_waiters.push(settle));
        self.pump();
        promise
    }

    /// `stop()`: a promise settled once the connection is Disconnected.
    pub fn stop(&self) -> Promise {
        self.with(|s| s.engine.stop(now()));
        self.pump();
        let (promise, settle) = Settle::promise();
        let disconnected = self.with(|s| s.engine.state() == crate::core::ConnectionState::Disconnected);
        if disconnected {
            settle.resolve(&JsValue::UNDEFINED);
        } else {
            self.with(|s| s.stop_waiters.push(settle));
        }
        promise
    }

    /// `invoke()`: a promise of the hub method's result.
    pub fn invoke(&self, target: &str, arguments: RawJson) -> Promise {
        let id = match self.with(|s| s.engine.invoke(now(), target, arguments)) {
            Ok(id) => id,
            Err(error) => return Promise::reject(&to_js_error(&error)),
        };
        let (promise, settle) = Settle::promise();
        self.with(|s| s.pending.insert(id, settle));
        self.pump();
        promise
    }

    /// `send()`: a promise resolved once the message is handed to the transport.
    pub fn send(&self, target: &str, arguments: RawJson) -> Promise {
        let sent = self.with(|s| s.engine.send(now(), target, arguments));
        self.pump();
        match sent {
            Ok(()) => Promise::resolve(&JsValue::UNDEFINED),
            Err(error) => Promise::reject(&to_js_error(&error)),
        }
    }

    /// Adds an `onclose` callback.
    pub fn add_onclose(&self, callback: Function) {
        self.with(|s| s.onclose.push(callback));
    }

    /// Drains the engine's outputs and performs each, then re-arms the timer.
    pub fn pump(&self) {
        loop {
            let output = self.with(|s| s.engine.poll_output());
            match output {
                Some(output) => self.perform(output),
                None => break,
            }
        }
        self.rearm_timer();
    }

    fn rearm_timer(&self) {
        let deadline = self.with(|s| s.engine.poll_timeout());
        let armed = self.with(|s| s.timer.as_ref().map(|(at, _)| *at));
        if deadline == armed {
            return;
        }
        let timer = deadline.map(|at| {
            let delay = at.as_millis().saturating_sub(now().as_millis());
            let weak = self.weak();
            let timeout = Timeout::new(u32::try_from(delay).unwrap_or(u32::MAX), move || {
                if let Some(driver) = Driver::upgrade(&weak) {
                    driver.with(|s| {
                        s.timer = None;
                        s.engine.handle_timeout(now());
                    });
                    driver.pump();
                }
            });
            (at, timeout)
        });
        // Replacing the old Timeout drops (and so clears) it.
        self.with(|s| s.timer = timer);
    }

    fn perform(&self, output: Output<Function>) {
        match output {
            Output::Http(request) => {
                let weak = self.weak();
                let with_credentials = self.with(|s| s.options.with_credentials);
                spawn_local(async move {
                    let response = fetch(&request, with_credentials).await;
                    if let Some(driver) = Driver::upgrade(&weak) {
                        driver.with(|s| s.engine.handle_http(now(), request.id, response));
                        driver.pump();
                    }
                });
            }
            Output::FetchAccessToken => self.fetch_access_token(),
            Output::OpenTransport { url, .. } => self.open_socket(&url),
            Output::Send(text) => {
                let result = self.with(|s| s.socket.as_ref().map(|socket| socket.send(&text)));
                if let Some(Err(error)) = result {
                    self.with(|s| s.engine.handle_transport_closed(now(), Some(error)));
                }
            }
            Output::CloseTransport => {
                // A WebSocket's own close event can take many seconds; the engine is told at
                // once, and the socket (detached on drop) is released after this call stack,
                // because we may be inside one of its own event handlers right now.
                let socket = self.with(|s| s.socket.take());
                self.with(|s| s.engine.handle_transport_closed(now(), None));
                if let Some(socket) = socket {
                    spawn_local(async move { drop(socket) });
                }
            }
            Output::Event(event) => self.deliver(event),
        }
    }

    fn fetch_access_token(&self) {
        let factory = self.with(|s| s.options.access_token_factory.clone());
        let returned = match factory {
            Some(factory) => factory.call0(&JsValue::UNDEFINED),
            None => Ok(JsValue::UNDEFINED),
        };
        let weak = self.weak();
        spawn_local(async move {
            let token = match returned {
                Err(thrown) => Err(describe_js_error(&thrown)),
                // Promise.resolve accepts both a plain value and a promise.
                Ok(value) => match JsFuture::from(Promise::resolve(&value)).await {
                    Ok(token) => Ok(token.as_string()),
                    Err(thrown) => Err(describe_js_error(&thrown)),
                },
            };
            if let Some(driver) = Driver::upgrade(&weak) {
                driver.with(|s| s.engine.handle_access_token(now(), token));
                driver.pump();
            }
        });
    }

    fn open_socket(&self, url: &str) {
        let weak = self.weak();
        let opened = Socket::open(url, move |event| {
            let Some(driver) = Driver::upgrade(&weak) else { return };
            driver.with(|s| match event {
                SocketEvent::Opened => s.engine.handle_transport_opened(now()),
                SocketEvent::Text(text) => s.engine.handle_transport_data(now(), &text),
                SocketEvent::InvalidBinary => s.engine.handle_transport_closed(
                    now(),
                    Some("Received a binary WebSocket frame that is not UTF-8 text.".into()),
                ),
                SocketEvent::Closed { code, reason, was_clean } => {
                    s.socket = None;
                    let error = (!was_clean || code != 1000)
                        .then(|| format!("WebSocket closed with status code: {code} ({reason})."));
                    s.engine.handle_transport_closed(now(), error);
                }
            });
            driver.pump();
        });
        match opened {
            Ok(socket) => self.with(|s| s.socket = Some(socket)),
            Err(error) => self.with(|s| s.engine.handle_transport_closed(now(), Some(error))),
        }
    }

    fn deliver(&self, event: Event<Function>) {
        match event {
            Event::Started { .. } => {
                for settle in self.with(|s| std::mem::take(&mut s.start_waiters)) {
                    settle.resolve(&JsValue::UNDEFINED);
                }
            }
            Event::StartFailed(error) => {
                for settle in self.with(|s| std::mem::take(&mut s.start_waiters)) {
                    settle.reject(&error);
                }
                self.settle_stop_waiters();
            }
            Event::Invocation { target, arguments, handlers } => {
                let arguments = match js_sys::JSON::parse(arguments.as_str()) {
                    Ok(parsed) => Array::from(&parsed),
                    Err(_) => return,
                };
                for handler in handlers {
                    if let Err(thrown) = handler.apply(&JsValue::UNDEFINED, &arguments) {
                        self.log(
                            LogLevel::Warning,
                            &format!(
                                "A callback for the method '{}' threw error '{}'.",
                                target.to_lowercase(),
                                describe_js_error(&thrown)
                            ),
                        );
                    }
                }
            }
            Event::InvocationResult { id, outcome } => {
                let Some(settle) = self.with(|s| s.pending.remove(&id)) else { return };
                match outcome {
                    Ok(None) => settle.resolve(&JsValue::UNDEFINED),
                    Ok(Some(result)) => match js_sys::JSON::parse(result.as_str()) {
                        Ok(value) => settle.resolve(&value),
                        Err(_) => settle.resolve(&JsValue::NULL),
                    },
                    Err(error) => settle.reject(&error),
                }
            }
            Event::Closed { error, .. } => {
                self.settle_stop_waiters();
                let argument = error.as_ref().map(to_js_error).unwrap_or(JsValue::UNDEFINED);
                for callback in self.with(|s| s.onclose.clone()) {
                    if let Err(thrown) = callback.call1(&JsValue::UNDEFINED, &argument) {
                        self.log(
                            LogLevel::Warning,
                            &format!("An onclose callback threw error '{}'.", describe_js_error(&thrown)),
                        );
                    }
                }
            }
            Event::Log { level, message } => self.log(level, &message),
        }
    }

    fn settle_stop_waiters(&self) {
        for settle in self.with(|s| std::mem::take(&mut s.stop_waiters)) {
            settle.resolve(&JsValue::UNDEFINED);
        }
    }

    fn log(&self, level: LogLevel, message: &str) {
        // Official LogLevel numbers: Debug = 1, Warning = 3.
        let (number, write): (u8, fn(&JsValue)) = match level {
            LogLevel::Debug => (1, web_sys::console::debug_1),
            LogLevel::Warning => (3, web_sys::console::warn_1),
        };
        if number >= self.with(|s| s.options.log_level) {
            write(&JsValue::from_str(&format!("[hubwire] {message}")));
        }
    }
}
