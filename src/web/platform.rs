//! The host classes the shell constructs — `WebSocket`, `EventSource`, `fetch` with its
//! `Request`, `Headers` and `AbortController` — found at the moment of use: an override the JS
//! entry installed for this module instance, else the global of that name.
//!
//! Browsers never install overrides. In Node the JS entry hands over what the global scope lacks
//! or gets wrong there (the `ws` and `eventsource` packages under jsdom or happy-dom, Node's own
//! `fetch` family where a test environment removed it), keeping the `fetch` family from one
//! realm. Looking up at the moment of use (not caching) lets a test replace a global after import.
//!
//! Objects from another realm fail `instanceof`, so nothing here checks classes: a class is any
//! function, and what it builds is used through its properties (wasm-bindgen's calls are
//! structural).

use std::cell::RefCell;

use js_sys::{Array, Function, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

thread_local! {
    /// The JS entry's overrides: an object of host names to values, or undefined.
    static OVERRIDES: RefCell<JsValue> = const { RefCell::new(JsValue::UNDEFINED) };
    /// The JS entry's `createError(kind, message, fields)`, or undefined (plain `Error`s then).
    static ERROR_FACTORY: RefCell<JsValue> = const { RefCell::new(JsValue::UNDEFINED) };
}

/// Installs the npm package's error factory, `createError(kind, message, fields)`, which builds
/// instances of its exported error classes (`AbortError`, `HttpError`, ...). Called by the loader
/// right after instantiation.
#[wasm_bindgen(js_name = setErrorFactory)]
pub fn set_error_factory(factory: JsValue) {
    ERROR_FACTORY.with(|slot| *slot.borrow_mut() = factory);
}

/// An error of the package's class `kind` with exactly `message` and `fields` (an object, or
/// undefined); a plain `Error` when no factory is installed or it fails.
pub fn error(kind: &str, message: &str, fields: &JsValue) -> JsValue {
    let factory = ERROR_FACTORY.with(|slot| slot.borrow().clone());
    if let Some(factory) = factory.dyn_ref::<Function>() {
        let made = factory.call3(&JsValue::UNDEFINED, &JsValue::from_str(kind), &JsValue::from_str(message), fields);
        if let Ok(made) = made {
            if made.is_object() {
                return made;
            }
        }
    }
    js_sys::Error::new(message).into()
}

/// Installs the host overrides (an object such as `{ WebSocket, fetch, Request, Headers,
/// AbortController }`; missing or null fields fall back to the globals). Called by the npm
/// package's loader right after instantiation; replaces any earlier overrides.
#[wasm_bindgen(js_name = setHostOverrides)]
pub fn set_host_overrides(overrides: JsValue) {
    OVERRIDES.with(|slot| *slot.borrow_mut() = overrides);
}

/// The host value called `name`: the override when one is set, else the global's.
pub fn host(name: &str) -> JsValue {
    let key = JsValue::from_str(name);
    let overridden = OVERRIDES.with(|slot| {
        let overrides = slot.borrow();
        if overrides.is_object() {
            Reflect::get(&overrides, &key).ok()
        } else {
            None
        }
    });
    match overridden {
        Some(value) if !value.is_undefined() && !value.is_null() => value,
        _ => Reflect::get(&js_sys::global(), &key).unwrap_or(JsValue::UNDEFINED),
    }
}

/// Why `name` cannot be used here, with the package that provides it in Node.
fn missing(name: &str) -> String {
    match name {
        "WebSocket" => "WebSocket is not available here (in Node, install the 'ws' package)".to_string(),
        "EventSource" => "EventSource is not available here (in Node, install the 'eventsource' package)".to_string(),
        _ => [name, " is not available here"].concat(),
    }
}

/// `new name(...args)`, or why it could not be built.
pub fn construct(name: &str, args: &Array) -> Result<JsValue, String> {
    construct_with(None, name, args)
}

/// `new class(...args)` with the app's own class when it gave one (the official client's
/// `WebSocket` and `EventSource` options), else the host's class called `name`.
pub fn construct_with(class: Option<&Function>, name: &str, args: &Array) -> Result<JsValue, String> {
    let class = match class {
        Some(class) => class.clone().into(),
        None => host(name),
    };
    if !class.is_function() {
        return Err(missing(name));
    }
    Reflect::construct(class.unchecked_ref::<Function>(), args).map_err(|e| describe_js_error(&e))
}

/// Calls the host `fetch` with `request`; the answer as a promise of this realm.
pub fn fetch(request: &JsValue) -> Result<Promise, String> {
    let fetch = host("fetch");
    if !fetch.is_function() {
        return Err(missing("fetch"));
    }
    let answer = fetch
        .unchecked_ref::<Function>()
        .call1(&JsValue::UNDEFINED, request)
        .map_err(|e| describe_js_error(&e))?;
    // Promise.resolve adopts a promise of another realm (Node's fetch under Jest's jsdom).
    Ok(Promise::resolve(&answer))
}

/// Describes a thrown JS value for an error message: an error's `message` (read as a property,
/// so errors of another realm count too), anything else as `String(value)` spells it (a string
/// as it is, `42` for a thrown number, as the official client's `${error}`).
/// Redacted (`access_token=` and `id=` values, Bearer credentials), because browsers quote the
/// URL in their exceptions and the URL carries the tokens; the core also removes the tokens it
/// knows when the text reaches it.
pub fn describe_js_error(value: &JsValue) -> String {
    let text = if value.is_object() {
        Reflect::get(value, &JsValue::from_str("message")).ok().and_then(|m| m.as_string())
    } else {
        None
    };
    let text = text.or_else(|| string_form(value)).unwrap_or_else(|| NO_STRING_FORM.to_string());
    crate::core::redact::redact(&text, &[])
}

/// What a value is called when even `String(value)` throws (an object without a prototype).
const NO_STRING_FORM: &str = "a value without a string form";

#[wasm_bindgen]
extern "C" {
    /// The global `String` function, which can throw (`String(Object.create(null))`).
    #[wasm_bindgen(js_name = String, catch)]
    fn js_string(value: &JsValue) -> Result<JsValue, JsValue>;
}

/// `String(value)`, or `None` when it throws. Describing a value this way (not with `{:?}`)
/// keeps `core::fmt`'s machinery out of the module.
pub fn string_form(value: &JsValue) -> Option<String> {
    js_string(value).ok().and_then(|text| text.as_string())
}

/// A thrown value as JavaScript's `String(value)` spells it ("TypeError: nope" for an error,
/// the text itself for a thrown string), redacted.
pub fn thrown_as_text(thrown: &JsValue) -> String {
    let text = string_form(thrown).unwrap_or_else(|| describe_js_error(thrown));
    crate::core::redact::redact(&text, &[])
}

/// Runs `then`, on a later microtask (the `spawn_local` queue), with what `promise` settled to,
/// or with `undefined` when there is none (to act once the current call stack has returned).
/// One future type for every such wait: each future type given to `spawn_local` carries its
/// own copy of the task code.
pub fn after(promise: Option<Promise>, then: Box<dyn FnOnce(Result<JsValue, JsValue>)>) {
    wasm_bindgen_futures::spawn_local(async move {
        let settled = match promise {
            Some(promise) => wasm_bindgen_futures::JsFuture::from(promise).await,
            None => Ok(JsValue::UNDEFINED),
        };
        then(settled);
    });
}
