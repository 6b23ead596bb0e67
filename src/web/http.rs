//! HTTP requests through the host `fetch` ([`super::platform`]), for requests the engine asks for.

use js_sys::Array;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, RequestCredentials, RequestInit, Response};

use super::platform;
pub use super::platform::describe_js_error;
use crate::core::hub::HttpFailure;
use crate::core::{HttpRequest, HttpResponse};

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
        init.set_body(&JsValue::from_str(body));
    }
    if let Some(abort) = abort {
        init.set_signal(Some(&abort.signal()));
    }
    let js_request = platform::construct("Request", &Array::of2(&JsValue::from_str(&request.url), &init))?;
    let answer = JsFuture::from(platform::fetch(&js_request)?).await.map_err(|e| describe_js_error(&e))?;
    if !answer.is_object() {
        return Err("fetch did not return a Response".to_string());
    }
    let response: Response = answer.unchecked_into();
    let text_promise = response.text().map_err(|e| describe_js_error(&e))?;
    let body = JsFuture::from(text_promise).await.map_err(|e| describe_js_error(&e))?;
    Ok(HttpResponse {
        status: response.status(),
        status_text: response.status_text(),
        body: body.as_string().unwrap_or_default(),
    })
}
