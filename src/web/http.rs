//! HTTP requests through the global `fetch`, for requests the engine asks for.

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Request, RequestCredentials, RequestInit, Response};

use crate::core::hub::HttpFailure;
use crate::core::{HttpRequest, HttpResponse};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(request: &Request) -> Promise;
}

/// Describes a thrown JS value for an error message.
pub fn describe_js_error(value: &JsValue) -> String {
    if let Some(error) = value.dyn_ref::<js_sys::Error>() {
        return String::from(error.message());
    }
    value.as_string().unwrap_or_else(|| format!("{value:?}"))
}

/// Performs `request`, aborting it after its timeout; `Err` says why no response arrived.
pub async fn fetch(request: &HttpRequest, with_credentials: bool) -> Result<HttpResponse, HttpFailure> {
    let abort = web_sys::AbortController::new().ok();
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
    let headers = Headers::new().map_err(|e| describe_js_error(&e))?;
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
    let js_request = Request::new_with_str_and_init(&request.url, &init).map_err(|e| describe_js_error(&e))?;
    let response: Response = JsFuture::from(global_fetch(&js_request))
        .await
        .map_err(|e| describe_js_error(&e))?
        .dyn_into()
        .map_err(|_| "fetch did not return a Response".to_string())?;
    let text_promise = response.text().map_err(|e| describe_js_error(&e))?;
    let body = JsFuture::from(text_promise).await.map_err(|e| describe_js_error(&e))?;
    Ok(HttpResponse {
        status: response.status(),
        status_text: response.status_text(),
        body: body.as_string().unwrap_or_default(),
    })
}
