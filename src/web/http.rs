//! HTTP requests through the host `fetch` ([`super::platform`]), for requests the engine asks for.

use js_sys::Array;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, RequestCredentials, RequestInit, Response};

use super::platform;
pub use super::platform::describe_js_error;
use crate::core::hub::HttpFailure;
use crate::core::text::float;
use crate::core::{HttpRequest, HttpResponse};
use super::codec::hold_frame;
use crate::protocol::{SharedText, TransportData};

/// Performs `request`, aborting it after its timeout; `Err` says why no response arrived.
pub async fn fetch(request: &HttpRequest, with_credentials: bool) -> Result<HttpResponse, HttpFailure> {
    let abort = platform::construct("AbortController", &Array::new())
        .ok()
        .map(JsCast::unchecked_into::<web_sys::AbortController>);
    let timed_out = std::rc::Rc::new(std::cell::Cell::new(false));
    // Dropping the Timeout at the end of this function cancels it.
    let _timer = match (&abort, request.timeout) {
        (Some(abort), Some(timeout)) => {
            let abort = abort.clone();
            let flag = timed_out.clone();
            let millis = u32::try_from(timeout.as_millis()).unwrap_or(u32::MAX);
            Some(gloo_timers::callback::Timeout::new(millis, move || {
                flag.set(true);
                abort.abort();
            }))
        }
        _ => None,
    };
    let result = fetch_inner(request, with_credentials, abort.as_ref()).await;
    match result {
        Err(_) if timed_out.get() => Err(HttpFailure::TimedOut),
        Err(reason) => Err(HttpFailure::Network(reason)),
        Ok(response) => Ok(response),
    }
}

async fn fetch_inner(
    request: &HttpRequest,
    with_credentials: bool,
    abort: Option<&web_sys::AbortController>,
) -> Result<HttpResponse, String> {
    let headers: Headers = platform::construct("Headers", &Array::new())?.unchecked_into();
    for (name, value) in &request.headers {
        headers.set(name, value).map_err(|e| describe_js_error(&e))?;
    }
    let init = RequestInit::new();
    init.set_method(request.method);
    init.set_headers(&headers);
    init.set_credentials(if with_credentials {
        RequestCredentials::Include
    } else {
        RequestCredentials::SameOrigin
    });
    if let Some(body) = &request.body {
        init.set_body(&body_value(body));
    }
    if let Some(abort) = abort {
        init.set_signal(Some(&abort.signal()));
    }
    let js_request = platform::construct("Request", &Array::of2(&JsValue::from_str(&request.url), &init))?;
    // A rejected fetch is described as the official client quotes it: "TypeError: fetch failed".
    let answer = JsFuture::from(platform::fetch(&js_request)?).await.map_err(|e| platform::thrown_as_text(&e))?;
    if !answer.is_object() {
        return Err("fetch did not return a Response".to_string());
    }
    let response: Response = answer.unchecked_into();
    let body = if request.binary_response {
        let bytes_promise = response.array_buffer().map_err(|e| describe_js_error(&e))?;
        let buffer = JsFuture::from(bytes_promise).await.map_err(|e| describe_js_error(&e))?;
        TransportData::Binary(js_sys::Uint8Array::new(&buffer).to_vec())
    } else {
        let text_promise = response.text().map_err(|e| describe_js_error(&e))?;
        let body = JsFuture::from(text_promise).await.map_err(|e| describe_js_error(&e))?;
        // The one copy of the body: the engine handles the response as soon as this returns
        // (a Long Polling body's payloads are sliced from the JS string, as a WebSocket
        // frame's are; the driver lets go of it after).
        let text = SharedText::new(body.as_string().unwrap_or_default());
        hold_frame(Some((&text, body)));
        TransportData::Shared(text)
    };
    Ok(HttpResponse { status: response.status(), status_text: response.status_text(), body })
}

/// A request body for JavaScript: a string, or an `ArrayBuffer` of the bytes (as the official
/// client hands binary content to its HTTP clients).
fn body_value(body: &TransportData) -> JsValue {
    match body {
        TransportData::Binary(bytes) => js_sys::Uint8Array::from(bytes.as_slice()).buffer().into(),
        text => JsValue::from_str(text.as_text().unwrap_or_default()),
    }
}

/// Performs `request` through the app's `httpClient` (the official client's `HttpClient`
/// interface: `send(request)` resolves with `{ statusCode, statusText, content }` and rejects
/// with an `HttpError` for a status it does not accept, a `TimeoutError` when its `timeout`
/// elapsed). A rejection that carries a numeric `statusCode` is that status's response, so the
/// engine treats it exactly as a response from `fetch`.
pub async fn send_with_client(client: &JsValue, request: &HttpRequest, with_credentials: bool) -> Result<HttpResponse, HttpFailure> {
    let headers = js_sys::Object::new();
    for (name, value) in &request.headers {
        let _ = js_sys::Reflect::set(&headers, &JsValue::from_str(name), &JsValue::from_str(value));
    }
    let timeout = request.timeout.map_or(JsValue::UNDEFINED, |t| JsValue::from_f64(t.as_millis() as f64));
    let body = request.body.as_ref().map_or(JsValue::UNDEFINED, body_value);
    let response_type = if request.binary_response { JsValue::from_str("arraybuffer") } else { JsValue::UNDEFINED };
    let js_request = super::telemetry::Record::empty()
        .with("method", request.method)
        .with("url", request.url.as_str())
        .with("headers", JsValue::from(headers))
        .with("content", body)
        .with("timeout", timeout)
        .with("responseType", response_type)
        .with("withCredentials", with_credentials)
        .to_object();
    let send = js_sys::Reflect::get(client, &JsValue::from_str("send")).unwrap_or(JsValue::UNDEFINED);
    let Some(send) = send.dyn_ref::<js_sys::Function>() else {
        return Err(HttpFailure::Network("The 'httpClient' option has no send(request) method.".to_string()));
    };
    let answer = match send.call1(client, &js_request) {
        Ok(answer) => JsFuture::from(js_sys::Promise::resolve(&answer)).await,
        Err(thrown) => Err(thrown),
    };
    match answer {
        Ok(response) => {
            let field = |name: &str| js_sys::Reflect::get(&response, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED);
            let status = field("statusCode").as_f64().filter(|s| (0.0..1000.0).contains(s)).unwrap_or(0.0) as u16;
            let content = field("content");
            let body = match content.as_string() {
                Some(text) if request.binary_response => TransportData::Binary(text.into_bytes()),
                Some(text) => TransportData::Text(text),
                None if content.is_object() => {
                    let bytes = js_sys::Uint8Array::new(&content).to_vec();
                    if request.binary_response {
                        TransportData::Binary(bytes)
                    } else {
                        TransportData::Text(String::from_utf8_lossy(&bytes).into_owned())
                    }
                }
                None => TransportData::Text(String::new()),
            };
            Ok(HttpResponse { status, status_text: field("statusText").as_string().unwrap_or_default(), body })
        }
        Err(thrown) => {
            let status = js_sys::Reflect::get(&thrown, &JsValue::from_str("statusCode")).ok().and_then(|s| s.as_f64());
            let text = describe_js_error(&thrown);
            match status.filter(|s| (100.0..1000.0).contains(s)) {
                Some(status) => {
                    // HttpError's message ends with the status it carries; the engine adds it again.
                    let suffix = [": Status code '", &float(status), "'"].concat();
                    let status_text = text.strip_suffix(&suffix).unwrap_or(&text).to_string();
                    Ok(HttpResponse { status: status as u16, status_text, body: TransportData::Text(String::new()) })
                }
                None => {
                    let name = thrown
                        .dyn_ref::<js_sys::Object>()
                        .map(|o| o.constructor().name())
                        .and_then(|n| n.as_string());
                    if name.as_deref() == Some("TimeoutError") {
                        Err(HttpFailure::TimedOut)
                    } else {
                        Err(HttpFailure::Network(text))
                    }
                }
            }
        }
    }
}
