//! Talking to `amanat serve`: JSON over fetch, with the session token.
//!
//! The page is opened with a one-time login code (`?login=…`), which it moves
//! out of the address bar at once and trades for the session token
//! (`POST /api/session`). The token lives in this page's memory only: nothing
//! in browser storage opens the wallet, and a reload signs the tab out (the
//! terminal running `amanat serve` gives a new link). No health data is ever
//! written to browser storage.

use std::cell::RefCell;

use serde::Serialize;
use serde::de::DeserializeOwned;
use wallet_core::contract::{ErrorBody, Session, SignIn};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, RequestInit, Response};

thread_local! {
    /// The login code from the address, until it is traded.
    static LOGIN_CODE: RefCell<Option<String>> = const { RefCell::new(None) };
    /// The session token, in memory only.
    static TOKEN: RefCell<String> = const { RefCell::new(String::new()) };
}

/// A failed call: HTTP status (0 for network errors), code and message.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// The server's error code (`locked`, `wrong passphrase`, …).
    pub code: String,
    /// Words for the user.
    pub message: String,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

fn js_error(e: JsValue) -> ApiError {
    ApiError {
        status: 0,
        code: "network".into(),
        message: format!("the wallet could not be reached ({e:?})"),
    }
}

/// Takes the login code from `?login=` and removes it from the address bar
/// (and so from the history), before anything else runs.
pub fn take_login_code() {
    let Some(window) = web_sys::window() else { return };
    let search = window.location().search().unwrap_or_default();
    let code = search
        .trim_start_matches('?')
        .split('&')
        .find_map(|kv| kv.strip_prefix("login="))
        .map(str::to_string);
    if let Some(code) = code {
        LOGIN_CODE.with(|c| *c.borrow_mut() = Some(code));
        let hash = window.location().hash().unwrap_or_default();
        if let Ok(history) = window.history() {
            let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&format!("/{hash}")));
        }
    }
}

/// Trades the login code (once) for the session token. Without a code, or
/// with a used or late one, the page stays signed out and the API says why.
pub async fn sign_in() -> Result<(), ApiError> {
    let Some(code) = LOGIN_CODE.with(|c| c.borrow_mut().take()) else {
        return Ok(());
    };
    let session: Session = post("/api/session", &SignIn { code }).await?;
    TOKEN.with(|t| *t.borrow_mut() = session.token);
    Ok(())
}

fn token() -> String {
    TOKEN.with(|t| t.borrow().clone())
}

async fn send(
    method: &str,
    path: &str,
    body: Option<JsValue>,
    content_type: Option<&str>,
    extra: &[(&str, &str)],
) -> Result<Response, ApiError> {
    let init = RequestInit::new();
    init.set_method(method);
    if let Some(b) = &body {
        init.set_body(b);
    }
    let request = Request::new_with_str_and_init(path, &init).map_err(js_error)?;
    let headers = request.headers();
    headers
        .set("Authorization", &format!("Bearer {}", token()))
        .map_err(js_error)?;
    if let Some(ct) = content_type {
        headers.set("Content-Type", ct).map_err(js_error)?;
    }
    for (k, v) in extra {
        headers.set(k, v).map_err(js_error)?;
    }
    let window = web_sys::window().ok_or_else(|| js_error(JsValue::from_str("no window")))?;
    let response: Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(js_error)?
        .dyn_into()
        .map_err(js_error)?;
    if response.ok() {
        return Ok(response);
    }
    let status = response.status();
    let text = JsFuture::from(response.text().map_err(js_error)?)
        .await
        .map_err(js_error)?
        .as_string()
        .unwrap_or_default();
    Err(match serde_json::from_str::<ErrorBody>(&text) {
        Ok(body) => ApiError {
            status,
            code: body.error,
            message: body.message,
        },
        Err(_) => ApiError {
            status,
            code: "error".into(),
            message: format!("HTTP {status}"),
        },
    })
}

/// Sends a request and reads the answer's text. Not generic, so the browser
/// bundle holds its future once, not once per answer type (each page asks
/// for its own type; the generic part, [`parse`], is synchronous and small).
async fn send_for_text(
    method: &str,
    path: &str,
    body: Option<JsValue>,
    content_type: Option<&str>,
    extra: &[(&str, &str)],
) -> Result<String, ApiError> {
    let response = send(method, path, body, content_type, extra).await?;
    Ok(JsFuture::from(response.text().map_err(js_error)?)
        .await
        .map_err(js_error)?
        .as_string()
        .unwrap_or_default())
}

/// An answer's text as `T`.
pub fn parse<T: DeserializeOwned>(text: &str) -> Result<T, ApiError> {
    serde_json::from_str(text).map_err(|e| ApiError {
        status: 0,
        code: "format".into(),
        message: format!("unexpected answer: {e}"),
    })
}

/// `GET path` as JSON.
pub async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    parse(&get_text(path).await?)
}

/// `GET path`, the answer's text (see [`parse`]).
pub async fn get_text(path: &str) -> Result<String, ApiError> {
    send_for_text("GET", path, None, None, &[]).await
}

/// `POST path` with a JSON body.
pub async fn post<B: Serialize, T: DeserializeOwned>(path: &str, body: &B) -> Result<T, ApiError> {
    let text = serde_json::to_string(body).unwrap_or_default();
    let answer = send_for_text(
        "POST",
        path,
        Some(JsValue::from_str(&text)),
        Some("application/json"),
        &[],
    )
    .await?;
    parse(&answer)
}

/// `DELETE path`.
pub async fn delete<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    parse(&send_for_text("DELETE", path, None, None, &[]).await?)
}

/// Uploads a file as the raw body.
pub async fn upload<T: DeserializeOwned>(path: &str, file: &web_sys::File) -> Result<T, ApiError> {
    let name = file.name();
    let answer = send_for_text(
        "POST",
        path,
        Some(file.clone().into()),
        Some("application/octet-stream"),
        &[("X-File-Name", &name)],
    )
    .await?;
    parse(&answer)
}

/// `POST` returning bytes (a backup), with a JSON body.
pub async fn post_for_bytes<B: Serialize>(path: &str, body: &B) -> Result<Vec<u8>, ApiError> {
    let text = serde_json::to_string(body).unwrap_or_default();
    let response = send(
        "POST",
        path,
        Some(JsValue::from_str(&text)),
        Some("application/json"),
        &[],
    )
    .await?;
    let buffer = JsFuture::from(response.array_buffer().map_err(js_error)?)
        .await
        .map_err(js_error)?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// Asks a relay for a share's ciphertext (no token: the relay is someone
/// else). The request goes out now; [`relay_answer`] reads the answer.
pub fn ask_relay(url: &str) -> Result<JsFuture, String> {
    let init = RequestInit::new();
    init.set_method("GET");
    init.set_mode(web_sys::RequestMode::Cors);
    let request = Request::new_with_str_and_init(url, &init).map_err(|e| format!("{e:?}"))?;
    let window = web_sys::window().ok_or("no window")?;
    Ok(JsFuture::from(window.fetch_with_request(&request)))
}

/// The ciphertext a relay at `url` answered [`ask_relay`] with.
pub async fn relay_answer(url: &str, asked: JsFuture) -> Result<Vec<u8>, String> {
    let response: Response = asked
        .await
        .map_err(|_| format!("the relay at {url} cannot be reached"))?
        .dyn_into()
        .map_err(|e| format!("{e:?}"))?;
    if !response.ok() {
        let text = JsFuture::from(response.text().map_err(|e| format!("{e:?}"))?)
            .await
            .map_err(|e| format!("{e:?}"))?;
        let body: Option<wallet_core::relay::ErrorBody> =
            text.as_string().and_then(|t| serde_json::from_str(&t).ok());
        return Err(match body {
            // The relay's own words (its refusals are written for the doctor).
            Some(b) => b.message,
            None => format!("the relay answered HTTP {}", response.status()),
        });
    }
    let buffer = JsFuture::from(response.array_buffer().map_err(|e| format!("{e:?}"))?)
        .await
        .map_err(|e| format!("{e:?}"))?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// Offers bytes to the user as a download.
pub fn download(bytes: &[u8], name: &str, mime: &str) {
    let Some(url) = object_url(bytes, mime) else {
        return;
    };
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    if let Ok(a) = document.create_element("a")
        && let Ok(a) = a.dyn_into::<web_sys::HtmlAnchorElement>()
    {
        a.set_href(&url);
        a.set_download(name);
        a.click();
    }
    // Revoked later, not at once: the download reads the blob after the click returns.
    leptos::prelude::set_timeout(
        move || drop(web_sys::Url::revoke_object_url(&url)),
        std::time::Duration::from_secs(60),
    );
}

/// A `blob:` URL for bytes (documents and images shown in the page).
pub fn object_url(bytes: &[u8], mime: &str) -> Option<String> {
    let array = js_sys::Uint8Array::from(bytes);
    let parts = js_sys::Array::of1(&array.buffer());
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_buffer_source_sequence_and_options(&parts, &options).ok()?;
    web_sys::Url::create_object_url_with_blob(&blob).ok()
}

/// Percent-encodes a query parameter value.
pub fn enc(text: &str) -> String {
    js_sys::encode_uri_component(text).as_string().unwrap_or_default()
}
