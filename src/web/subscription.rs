//! The `#[wasm_bindgen]` class behind the npm package's live subscriptions (`pkg-template/live.js`).
//!
//! It drives one [`Subscription`] the way [`super::driver`] drives a hub session: one
//! `Rc<RefCell<..>>`, no borrow held while JavaScript runs (the app's `map`, `key`, `version`,
//! `filter` and flag functions, poll functions, the hooks), one timer re-armed after every pump.
//! It performs what the core asks for — evaluate the flag (a function, or a flags document
//! fetched as JSON), make a poll (a URL fetched as JSON, or the app's async function, then
//! `map`), abort a poll that timed out — and hands every event to the hooks `live.js` passes in.
//!
//! The push connection is not handled here: `live.js` owns the adapter that listens to the
//! `HubConnection` or `PlainSocketConnection` (its public JS API) and reports back through
//! `pushUp`, `pushDown` and `pushed`. This class only calls the adapter's `attach()` and
//! `detach()` when the core says so; which connection, group or event that means is the
//! adapter's business.

use std::cell::RefCell;
use std::rc::{Rc, Weak};
use std::time::Duration;

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::AbortController;

use super::clock::now;
use super::driver::Settle;
use super::wake::WakeTimer;
use super::http::describe_js_error;
use super::json_get::get_json;
use super::settings::{flag, function, get, js_error, millis, millis_or_never, string};
use super::telemetry::Record;
use crate::core::dedupe::{DedupeWindow, Dropped};
use crate::core::id_map::IdMap;
use crate::core::subscription::{
    FlagSource, PollConfig, PollKind, Subscription, SubscriptionConfig, SubscriptionEvent, SubscriptionOutput,
    SubscriptionTelemetry, Update, DEFAULT_FALLBACK_AFTER, DEFAULT_FLAG_REFRESH,
};

/// Where the flag's value comes from, as the shell evaluates it.
enum FlagSpec {
    /// A constant (the core never asks).
    Fixed(bool),
    /// `flag()`: a boolean or a promise of one.
    Function(Function),
    /// A JSON flags document and the flag's name in it.
    Document { url: String, name: String },
}

/// Where polls go.
enum PollSpec {
    /// No polling.
    None,
    /// `GET url` as JSON.
    Url(String),
    /// `poll({ signal, kind })`: a value or a promise of one.
    Function(Function),
}

/// The app's functions and settings the shell needs to perform the core's requests.
struct AppSpec {
    poll: PollSpec,
    map: Option<Function>,
    key: Option<Function>,
    version: Option<Function>,
    filter: Option<Function>,
    flag: FlagSpec,
    with_credentials: bool,
    /// Names the subscription in telemetry records.
    name: String,
}

/// The functions `live.js` passes in to hear from the subscription.
struct Hooks {
    attach: Function,
    detach: Function,
    /// `update(value, origin)`.
    update: Function,
    /// `source(current, previous)`.
    source: Function,
    /// `telemetry(record)`, if the app wants records.
    telemetry: Option<Function>,
}

struct Shared {
    subscription: Subscription<JsValue>,
    spec: AppSpec,
    hooks: Hooks,
    timer: WakeTimer,
    /// Abort handles of polls in flight.
    aborts: IdMap<AbortController>,
    /// `refresh()` promises, by the poll that completes them.
    refresh_waiters: IdMap<Vec<Settle>>,
}

#[derive(Clone)]
struct Driver(Rc<RefCell<Shared>>);

/// One live subscription. `live.js` wraps it as `LiveSubscription`.
#[wasm_bindgen(js_name = SubscriptionCore)]
pub struct SubscriptionCore {
    driver: Driver,
}

fn flag_spec(options: &JsValue, has_push: bool) -> Result<(FlagSpec, FlagSource), JsValue> {
    let every = millis_or_never(options, "flagRefreshMs")?.unwrap_or(Some(DEFAULT_FLAG_REFRESH));
    let Some(flag) = get(options, "flag") else {
        // No flag: push is on whenever there is a connection.
        return Ok((FlagSpec::Fixed(has_push), FlagSource::Fixed(has_push)));
    };
    if let Some(enabled) = flag.as_bool() {
        return Ok((FlagSpec::Fixed(enabled), FlagSource::Fixed(enabled)));
    }
    if let Ok(read) = flag.clone().dyn_into::<Function>() {
        return Ok((FlagSpec::Function(read), FlagSource::Read { every }));
    }
    let url = string(&flag, "url")?;
    let name = string(&flag, "name")?;
    match (url, name) {
        (Some(url), Some(name)) => {
            let every = millis_or_never(&flag, "refreshMs")?.unwrap_or(every);
            Ok((FlagSpec::Document { url, name }, FlagSource::Read { every }))
        }
        _ => Err(js_error("'flag' must be a boolean, a function, or { url, name } of a flags document.")),
    }
}

fn poll_spec(options: &JsValue) -> Result<PollSpec, JsValue> {
    match get(options, "poll") {
        None => Ok(PollSpec::None),
        Some(value) if value.is_string() => Ok(PollSpec::Url(value.as_string().unwrap_or_default())),
        Some(value) => value
            .dyn_into::<Function>()
            .map(PollSpec::Function)
            .map_err(|_| js_error("'poll' must be a URL or a function.")),
    }
}

fn hook(hooks: &JsValue, key: &str) -> Result<Function, JsValue> {
    function(hooks, key)?.ok_or_else(|| js_error(&["hubwire internal: the '", key, "' hook is missing."].concat()))
}

#[wasm_bindgen(js_class = SubscriptionCore)]
impl SubscriptionCore {
    /// A subscription from normalized options — `hasPush`, `poll` (URL or function), `map`,
    /// `key`, `version`, `filter`, `flag` (boolean, function, or `{ url, name, refreshMs? }`),
    /// `flagRefreshMs`, `intervalMs`, `fallbackAfterMs`, `pollTimeoutMs`, `maxBackoffMs`,
    /// `withCredentials`, `name` — and the hooks `{ attach, detach, update, source, telemetry? }`.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue, hooks: JsValue) -> Result<SubscriptionCore, JsValue> {
        let has_push = flag(&options, "hasPush", false);
        let (flag, flag_source) = flag_spec(&options, has_push)?;
        let poll = poll_spec(&options)?;
        let poll_config = match poll {
            PollSpec::None => None,
            _ => {
                let defaults = PollConfig::default();
                Some(PollConfig {
                    interval: millis(&options, "intervalMs")?.unwrap_or(defaults.interval).max(Duration::from_millis(1)),
                    timeout: millis(&options, "pollTimeoutMs")?.unwrap_or(defaults.timeout),
                    max_backoff: millis(&options, "maxBackoffMs")?.unwrap_or(defaults.max_backoff),
                })
            }
        };
        let config = SubscriptionConfig {
            has_push,
            flag: flag_source,
            poll: poll_config,
            fallback_after: millis(&options, "fallbackAfterMs")?.unwrap_or(DEFAULT_FALLBACK_AFTER),
            dedupe_window: DedupeWindow::default(),
        };
        config.validate().map_err(|error| js_error(&error.message()))?;
        let spec = AppSpec {
            poll,
            map: function(&options, "map")?,
            key: function(&options, "key")?,
            version: function(&options, "version")?,
            filter: function(&options, "filter")?,
            flag,
            with_credentials: super::settings::flag(&options, "withCredentials", false),
            name: string(&options, "name")?.unwrap_or_else(|| "subscription".to_string()),
        };
        let hooks = Hooks {
            attach: hook(&hooks, "attach")?,
            detach: hook(&hooks, "detach")?,
            update: hook(&hooks, "update")?,
            source: hook(&hooks, "source")?,
            telemetry: function(&hooks, "telemetry")?,
        };
        let shared = Shared {
            subscription: Subscription::new(config),
            spec,
            hooks,
            timer: WakeTimer::default(),
            aborts: IdMap::new(),
            refresh_waiters: IdMap::new(),
        };
        Ok(SubscriptionCore { driver: Driver(Rc::new(RefCell::new(shared))) })
    }

    /// Starts: reads the flag, attaches push or begins polling.
    pub fn start(&self) -> Result<(), JsValue> {
        let started = self.driver.with(|s| s.subscription.start(now()));
        self.driver.pump();
        started.map_err(|e| js_error(e.message()))
    }

    /// Stops for good: detaches push, stops polling, aborts polls in flight.
    pub fn unsubscribe(&self) {
        self.driver.feed(|s| s.stop(now()));
        // Refreshes still waiting have nothing left to wait for.
        let waiters = self.driver.with(|s| std::mem::take(&mut s.refresh_waiters));
        for settle in waiters.into_values().flatten() {
            settle.resolve(&JsValue::UNDEFINED);
        }
    }

    /// Re-reads the flag and polls now; resolves once that poll settled (never rejects).
    pub fn refresh(&self) -> Promise {
        let (promise, settle) = Settle::promise();
        let poll = self.driver.with(|s| s.subscription.refresh(now()));
        match poll {
            Some(id) => self.driver.with(|s| s.refresh_waiters.get_or_insert_with(id, Vec::new).push(settle)),
            None => settle.resolve(&JsValue::UNDEFINED),
        }
        self.driver.pump();
        promise
    }

    /// The push connection is delivering (connected, group joined).
    #[wasm_bindgen(js_name = pushUp)]
    pub fn push_up(&self) {
        self.driver.feed(|s| s.push_up(now()));
    }

    /// The push connection is not delivering; `retrying` while it reconnects or retries its
    /// first start.
    #[wasm_bindgen(js_name = pushDown)]
    pub fn push_down(&self, reason: String, retrying: bool) {
        self.driver.feed(|s| s.push_down(now(), &reason, retrying));
    }

    /// A payload arrived on the push connection.
    pub fn pushed(&self, value: JsValue) {
        let filter = self.driver.with(|s| s.spec.filter.clone());
        if let Some(filter) = filter {
            match filter.call1(&JsValue::UNDEFINED, &value) {
                Ok(keep) if keep.is_truthy() => {}
                Ok(_) => return,
                Err(thrown) => {
                    return self.driver.warn(&["filter threw, the update was skipped: ", &describe_js_error(&thrown)].concat())
                }
            }
        }
        let update = self.driver.update(value);
        self.driver.feed(|s| s.push_update(now(), update));
    }

    /// The latest value delivered, or `undefined`.
    #[wasm_bindgen(getter)]
    pub fn current(&self) -> JsValue {
        self.driver.with(|s| s.subscription.current().cloned().unwrap_or(JsValue::UNDEFINED))
    }

    /// `"push"`, `"polling"` or `"idle"`.
    #[wasm_bindgen(getter)]
    pub fn source(&self) -> String {
        self.driver.with(|s| s.subscription.source().name().to_string())
    }

    /// The flag in force: `true`, `false`, or `undefined` before the first read answered.
    #[wasm_bindgen(getter)]
    pub fn flag(&self) -> Option<bool> {
        self.driver.with(|s| s.subscription.flag())
    }

    /// Counters: `{ delivered, pollsMade, pollsFailed, duplicatesDropped, sourceSwitches, fallbacks }`.
    pub fn stats(&self) -> JsValue {
        let stats = self.driver.with(|s| s.subscription.stats());
        Record::empty()
            .with("delivered", stats.delivered as f64)
            .with("pollsMade", stats.polls_made as f64)
            .with("pollsFailed", stats.polls_failed as f64)
            .with("duplicatesDropped", stats.duplicates_dropped as f64)
            .with("sourceSwitches", stats.source_switches as f64)
            .with("fallbacks", stats.fallbacks as f64)
            .to_object()
    }
}

impl Driver {
    /// Runs `f` on the shared state; never calls JavaScript inside. A JS callback that calls
    /// back into the subscription while it is in use gets an exception instead of a panic.
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
            Err(_) => wasm_bindgen::throw_str("hubwire: the subscription was used re-entrantly"),
        }
    }

    fn weak(&self) -> Weak<RefCell<Shared>> {
        Rc::downgrade(&self.0)
    }

    fn upgrade(weak: &Weak<RefCell<Shared>>) -> Option<Driver> {
        weak.upgrade().map(Driver)
    }

    fn feed(&self, input: impl FnOnce(&mut Subscription<JsValue>)) {
        self.with(|s| input(&mut s.subscription));
        self.pump();
    }

    /// Drains the core's outputs and performs each, then re-arms the timer.
    fn pump(&self) {
        while let Some(output) = self.with(|s| s.subscription.poll_output()) {
            self.perform(output);
        }
        self.rearm_timer();
    }

    fn rearm_timer(&self) {
        let deadline = self.with(|s| s.subscription.poll_timeout());
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

    fn perform(&self, output: SubscriptionOutput<JsValue>) {
        match output {
            SubscriptionOutput::ReadFlag => self.read_flag(),
            SubscriptionOutput::Poll { id, kind } => self.poll(id, kind),
            SubscriptionOutput::CancelPoll { id } => {
                if let Some(abort) = self.with(|s| s.aborts.remove(&id)) {
                    abort.abort();
                }
                self.settle_refreshes(id);
            }
            SubscriptionOutput::AttachPush => self.call_hook(|h| h.attach.clone(), &[]),
            SubscriptionOutput::DetachPush => self.call_hook(|h| h.detach.clone(), &[]),
            SubscriptionOutput::Event(SubscriptionEvent::Update { value, origin }) => {
                self.call_hook(|h| h.update.clone(), &[value, JsValue::from_str(origin.name())])
            }
            SubscriptionOutput::Event(SubscriptionEvent::SourceChanged { previous, current }) => self.call_hook(
                |h| h.source.clone(),
                &[JsValue::from_str(current.name()), JsValue::from_str(previous.name())],
            ),
            SubscriptionOutput::Event(SubscriptionEvent::Telemetry(record)) => self.telemetry(&record),
        }
    }

    fn call_hook(&self, pick: impl FnOnce(&Hooks) -> Function, arguments: &[JsValue]) {
        let hook = self.with(|s| pick(&s.hooks));
        let arguments: js_sys::Array = arguments.iter().collect();
        if let Err(thrown) = hook.apply(&JsValue::UNDEFINED, &arguments) {
            self.warn(&["a subscription callback threw: ", &describe_js_error(&thrown)].concat());
        }
    }

    fn warn(&self, message: &str) {
        super::console::write(super::console::ConsoleLevel::Warning, message);
    }

    // ----- the flag -----------------------------------------------------------------------

    fn read_flag(&self) {
        enum Read {
            Fixed(bool),
            Call(Function),
            Fetch { url: String, name: String, with_credentials: bool },
        }
        let read = self.with(|s| match &s.spec.flag {
            FlagSpec::Fixed(enabled) => Read::Fixed(*enabled),
            FlagSpec::Function(f) => Read::Call(f.clone()),
            FlagSpec::Document { url, name } => {
                Read::Fetch { url: url.clone(), name: name.clone(), with_credentials: s.spec.with_credentials }
            }
        });
        let weak = self.weak();
        spawn_local(async move {
            let value = match read {
                Read::Fixed(enabled) => Ok(enabled),
                Read::Call(f) => match f.call0(&JsValue::UNDEFINED) {
                    Err(thrown) => Err(["flag() threw: ", &describe_js_error(&thrown)].concat()),
                    // Promise.resolve accepts both a plain value and a promise.
                    Ok(value) => JsFuture::from(Promise::resolve(&value))
                        .await
                        .map(|v| v.is_truthy())
                        .map_err(|e| ["flag() rejected: ", &describe_js_error(&e)].concat()),
                },
                Read::Fetch { url, name, with_credentials } => get_json(&url, with_credentials, None)
                    .await
                    .map(|doc| Reflect::get(&doc, &JsValue::from_str(&name)).is_ok_and(|v| v.is_truthy())),
            };
            if let Some(driver) = Driver::upgrade(&weak) {
                driver.feed(|s| s.flag_read(now(), value));
            }
        });
    }

    // ----- polls --------------------------------------------------------------------------

    fn poll(&self, id: u64, kind: PollKind) {
        let abort = super::platform::construct("AbortController", &js_sys::Array::new())
            .ok()
            .map(JsCast::unchecked_into::<AbortController>);
        let signal = abort.as_ref().map(AbortController::signal);
        enum Request {
            Url(String, bool),
            Call(Function),
            Nothing,
        }
        let request = self.with(|s| {
            if let Some(abort) = abort {
                s.aborts.insert(id, abort);
            }
            match &s.spec.poll {
                PollSpec::Url(url) => Request::Url(url.clone(), s.spec.with_credentials),
                PollSpec::Function(f) => Request::Call(f.clone()),
                PollSpec::None => Request::Nothing,
            }
        });
        let weak = self.weak();
        spawn_local(async move {
            let fetched = match request {
                Request::Url(url, with_credentials) => get_json(&url, with_credentials, signal.as_ref()).await,
                Request::Call(f) => {
                    let context = Object::new();
                    let _ = Reflect::set(&context, &"signal".into(), &signal.map_or(JsValue::UNDEFINED, JsValue::from));
                    let _ = Reflect::set(&context, &"kind".into(), &JsValue::from_str(kind.name()));
                    match f.call1(&JsValue::UNDEFINED, &context) {
                        Err(thrown) => Err(["poll() threw: ", &describe_js_error(&thrown)].concat()),
                        Ok(value) => JsFuture::from(Promise::resolve(&value))
                            .await
                            .map_err(|e| ["poll() rejected: ", &describe_js_error(&e)].concat()),
                    }
                }
                Request::Nothing => Err("no poll is configured".to_string()),
            };
            let Some(driver) = Driver::upgrade(&weak) else { return };
            let result = fetched.and_then(|value| driver.map_result(value)).map(|value| driver.update(value));
            driver.with(|s| s.aborts.remove(&id));
            driver.feed(|s| s.poll_settled(now(), id, result));
            driver.settle_refreshes(id);
        });
    }

    /// The app's `map` over a poll result (identity without one).
    fn map_result(&self, value: JsValue) -> Result<JsValue, String> {
        let map = self.with(|s| s.spec.map.clone());
        match map {
            None => Ok(value),
            Some(map) => map.call1(&JsValue::UNDEFINED, &value).map_err(|e| ["map() threw: ", &describe_js_error(&e)].concat()),
        }
    }

    /// An update with the key and version the app's functions give for `value`.
    fn update(&self, value: JsValue) -> Update<JsValue> {
        let (key_fn, version_fn) = self.with(|s| (s.spec.key.clone(), s.spec.version.clone()));
        let key = key_fn
            .and_then(|f| f.call1(&JsValue::UNDEFINED, &value).ok())
            .filter(|k| !k.is_undefined() && !k.is_null())
            .map(|k| match k.as_string() {
                Some(text) => text,
                None => js_sys::JSON::stringify(&k).map(String::from).unwrap_or_default(),
            });
        let version = version_fn
            .and_then(|f| f.call1(&JsValue::UNDEFINED, &value).ok())
            .and_then(|v| version_number(&v));
        Update { value, key, version }
    }

    fn settle_refreshes(&self, id: u64) {
        let waiters = self.with(|s| s.refresh_waiters.remove(&id)).unwrap_or_default();
        for settle in waiters {
            settle.resolve(&JsValue::UNDEFINED);
        }
    }

    // ----- telemetry ----------------------------------------------------------------------

    fn telemetry(&self, record: &SubscriptionTelemetry) {
        let (hook, name) = self.with(|s| (s.hooks.telemetry.clone(), s.spec.name.clone()));
        if let SubscriptionTelemetry::PollFailed { error, .. } = record {
            // Reported to the app's telemetry when it listens, else to the console.
            if hook.is_none() {
                self.warn(&["poll of '", name.as_str(), "' failed: ", error.as_str()].concat());
            }
        }
        let Some(hook) = hook else { return };
        let object = telemetry_record(&name, record).to_object();
        if let Err(thrown) = hook.call1(&JsValue::UNDEFINED, &object) {
            self.warn(&["the telemetry callback threw: ", &describe_js_error(&thrown)].concat());
        }
    }
}

/// A version as a number: numbers as they are, numeric strings parsed, other strings and
/// `Date`s as timestamps. Anything else has no version.
fn version_number(value: &JsValue) -> Option<f64> {
    let number = if let Some(n) = value.as_f64() {
        n
    } else if let Some(text) = value.as_string() {
        // JS's own number conversion: Rust's float parser would add ~18 KB to the module.
        // `new Number(text)` is JS's strict conversion ("12abc" is NaN); js-sys marks the
        // constructor deprecated in favour of conversions from Rust numbers, which do not apply.
        #[allow(deprecated)]
        let number = js_sys::Number::new(value).value_of();
        // A blank string converts to 0; any other string that converts to a finite number has
        // a digit (JS whitespace includes non-ASCII spaces, so trimming would need the Unicode
        // tables and still miss U+FEFF, which JS counts as whitespace and Rust does not).
        if number.is_finite() && text.bytes().any(|b| b.is_ascii_digit()) {
            number
        } else {
            js_sys::Date::parse(&text)
        }
    } else if let Some(date) = value.dyn_ref::<js_sys::Date>() {
        date.get_time()
    } else {
        return None;
    };
    number.is_finite().then_some(number)
}

fn optional_ms(duration: Option<Duration>) -> JsValue {
    duration.map_or(JsValue::NULL, |d| JsValue::from_f64(d.as_millis() as f64))
}

/// The JS record of a subscription telemetry event, named after the subscription.
fn telemetry_record(name: &str, record: &SubscriptionTelemetry) -> Record {
    let base = |kind: &str| Record::new(kind).with("subscription", name);
    match record {
        SubscriptionTelemetry::FallbackStarted { reason } => base("fallbackStarted")
            .with("reason", reason.code())
            .with("detail", reason.message().as_str()),
        SubscriptionTelemetry::FallbackStopped { reason, polled_for, polls } => base("fallbackStopped")
            .with("reason", reason.code())
            .with("pollingMs", polled_for.as_millis() as f64)
            .with("polls", *polls),
        SubscriptionTelemetry::PollMade { kind } => base("pollMade").with("kind", kind.name()),
        SubscriptionTelemetry::PollFailed { kind, error, retry_in } => base("pollFailed")
            .with("kind", kind.name())
            .with("error", error.as_str())
            .with("retryInMs", optional_ms(*retry_in)),
        SubscriptionTelemetry::SourceSwitched { from, to } => {
            base("sourceSwitched").with("from", from.name()).with("to", to.name())
        }
        SubscriptionTelemetry::DuplicateDropped { origin, reason } => base("duplicateDropped")
            .with("source", origin.name())
            .with("reason", match reason {
                Dropped::Repeat => "repeat",
                Dropped::Stale => "stale",
            }),
        SubscriptionTelemetry::FlagChanged { enabled } => base("flagChanged").with("enabled", *enabled),
        SubscriptionTelemetry::FlagReadFailed { error } => base("flagReadFailed").with("error", error.as_str()),
    }
}
