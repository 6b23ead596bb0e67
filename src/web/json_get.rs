//! `GET` of a JSON document through the host `fetch` ([`super::platform`]), abortable: the subscription's poll URL
//! and the flags document.
//!
//! Polls must see the server's current state, so the HTTP cache is bypassed (`no-store`). A
//! non-2xx status, a network failure, an abort and a body that is not JSON are all `Err` with a
//! message for telemetry; nothing here throws.

use js_sys::{Array, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, Headers, RequestCredentials, RequestInit, Response};

use super::platform::{self, describe_js_error};
use crate::core::text::decimal;

/// Fetches `url` and parses its body as JSON. `with_credentials` sends cookies cross-origin;
/// `signal` aborts the request.
pub async fn get_json(url: &str, with_credentials: bool, signal: Option<&AbortSignal>) -> Result<JsValue, String> {
    let headers: Headers = platform::construct("Headers", &Array::new())?.unchecked_into();
    headers.set("Accept", "application/json").map_err(|e| describe_js_error(&e))?;
    let init = RequestInit::new();
    init.set_method("GET");
    init.set_headers(&headers);
    init.set_credentials(if with_credentials { RequestCredentials::Include } else { RequestCredentials::SameOrigin });
    init.set_signal(signal);
    // RequestCache is not among the enabled web-sys features; the field is plain data.
    let _ = Reflect::set(&init, &JsValue::from_str("cache"), &JsValue::from_str("no-store"));
    let request = platform::construct("Request", &Array::of2(&JsValue::from_str(url), &init))?;
    let answer = JsFuture::from(platform::fetch(&request)?).await.map_err(|e| describe_js_error(&e))?;
    if !answer.is_object() {
        return Err("fetch did not return a Response".to_string());
    }
    let response: Response = answer.unchecked_into();
    if !response.ok() {
        let text = response.status_text();
        let separator = if text.is_empty() { "" } else { " " };
        return Err(["GET ", url, ": HTTP ", &decimal(response.status()), separator, &text].concat());
    }
    let body = response.json().map_err(|e| describe_js_error(&e))?;
    JsFuture::from(body).await.map_err(|e| ["GET ", url, ": the answer is not JSON (", &describe_js_error(&e), ")"].concat())
}
