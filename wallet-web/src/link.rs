//! SMART Health Links in the phone viewer (`https://viewer/#shlink:/…`), from
//! Amanat or any other software: the page asks the link's server for the
//! manifest (with the passcode of a `P` link) or the one file (`U`), refuses
//! redirects, decrypts and checks in WebAssembly with `wallet-core`'s
//! [`shl`], and shows a patient-signed bundle with the same green verdict as
//! an Amanat share, anything else as not signed by a patient wallet. Only the
//! viewer has this, so its words are kept here, not in the wallet's table.

use leptos::prelude::*;
use wallet_core::share::shl::{self, FileAt, Opened, ShlError, ShlLink};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, RequestInit, Response};

use crate::i18n::T;
use crate::views::ctx;
use crate::views::receive::Verdict;

/// The viewer's own words: English, Urdu, Hindi.
type Words = (&'static str, &'static str, &'static str);

const UNSIGNED: Words = (
    "Not signed by a patient wallet",
    "کسی مریض کے والٹ کا دستخط نہیں",
    "किसी मरीज़ के वॉलेट का हस्ताक्षर नहीं",
);
const UNSIGNED_WHY: Words = (
    "These records decrypted and are valid FHIR, but no patient's consent grant says they are the patient's. Check who gave you the link.",
    "یہ ریکارڈ کھل گئے اور درست FHIR ہیں، مگر کسی مریض کی رضامندی کا دستخط نہیں کہتا کہ یہ اسی کے ہیں۔ دیکھیں لنک کس نے دیا۔",
    "ये रिकॉर्ड खुल गए और सही FHIR हैं, पर किसी मरीज़ की सहमति का हस्ताक्षर नहीं कहता कि ये उसी के हैं। देखें लिंक किसने दिया।",
);
const YOUR_NAME: Words = (
    "Your name (the patient sees it in their access log)",
    "آپ کا نام (مریض اسے اپنے رسائی ریکارڈ میں دیکھے گا)",
    "आपका नाम (मरीज़ इसे अपने एक्सेस लॉग में देखेगा)",
);

/// Who is asking, when the doctor gives no name.
const DEFAULT_RECIPIENT: &str = "Amanat viewer";

/// A request over the network, refusing redirects; the body as text, read no
/// further than `cap` bytes (by its declared length, then while streaming), so
/// a hostile server cannot fill the phone's memory.
async fn fetch_text(url: &str, init: &RequestInit, cap: usize) -> Result<(u16, String), ShlError> {
    init.set_mode(web_sys::RequestMode::Cors);
    init.set_redirect(web_sys::RequestRedirect::Error);
    let request = Request::new_with_str_and_init(url, init)
        .map_err(|_| ShlError::Address(url.chars().take(200).collect()))?;
    let window = web_sys::window().ok_or_else(|| ShlError::Server("no window".into()))?;
    let response: Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        // A refused redirect, like an unreachable server, is a network error here.
        .map_err(|_| ShlError::Unreachable(format!("{url} (or it redirected elsewhere, which is refused)")))?
        .dyn_into()
        .map_err(|_| ShlError::Server("not a response".into()))?;
    let too_large = || ShlError::TooLarge(format!("an answer over {cap} bytes"));
    let declared = response
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|n| n.parse::<usize>().ok());
    if declared.is_some_and(|n| n > cap) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    if let Some(stream) = response.body() {
        let reader: web_sys::ReadableStreamDefaultReader = stream
            .get_reader()
            .dyn_into()
            .map_err(|_| ShlError::Server("no body".into()))?;
        loop {
            let part = JsFuture::from(reader.read())
                .await
                .map_err(|_| ShlError::Unreachable(url.to_string()))?;
            let field = |k: &str| js_sys::Reflect::get(&part, &k.into()).unwrap_or_default();
            if field("done").as_bool() != Some(false) {
                break;
            }
            let chunk = js_sys::Uint8Array::new(&field("value"));
            if body.len() + chunk.length() as usize > cap {
                let _ = reader.cancel();
                return Err(too_large());
            }
            body.extend(chunk.to_vec());
        }
    }
    let text = String::from_utf8(body).map_err(|_| ShlError::Content("an answer is not text".into()))?;
    Ok((response.status(), text))
}

/// [`fetch_text`]'s body when the answer is 2xx, else the server's refusal.
async fn fetch_ok(url: &str, init: &RequestInit, cap: usize) -> Result<String, ShlError> {
    let (status, text) = fetch_text(url, init, cap).await?;
    if (200..300).contains(&status) {
        Ok(text)
    } else {
        Err(shl::refusal(status, text.as_bytes(), url))
    }
}

/// Fetches, decrypts and checks a link's files.
async fn open(text: &str, recipient: &str, passcode: Option<String>) -> Result<Opened, ShlError> {
    let link = ShlLink::decode(text)?;
    let now = (js_sys::Date::now() / 1000.0) as i64;
    link.check_time(now)?;
    let get = RequestInit::new();
    get.set_method("GET");
    let files = if link.flags.direct {
        let url = web_sys::Url::new(&link.url).map_err(|_| ShlError::Address(link.url.clone()))?;
        url.search_params().set("recipient", recipient);
        vec![(String::new(), fetch_ok(&url.href(), &get, shl::MAX_FILE).await?)]
    } else {
        let request = shl::manifest_request(&link, recipient, passcode)?;
        let post = RequestInit::new();
        post.set_method("POST");
        post.set_body(&serde_json::to_string(&request).unwrap_or_default().into());
        let headers = web_sys::Headers::new().map_err(|_| ShlError::Server("no headers".into()))?;
        let _ = headers.set("content-type", "application/json");
        post.set_headers(&headers);
        let manifest = fetch_ok(&link.url, &post, shl::MAX_MANIFEST).await?;
        let mut files = Vec::new();
        for (content_type, at) in shl::manifest_files(manifest.as_bytes())? {
            let jwe = match at {
                FileAt::Embedded(jwe) => jwe,
                FileAt::Location(location) => fetch_ok(&location, &get, shl::MAX_FILE).await?,
            };
            files.push((content_type, jwe));
        }
        files
    };
    shl::open_files(&link, &files, now)
}

/// A SMART Health Link opened in the viewer.
#[component]
pub fn LinkReceive(
    /// The link from the address (`shlink:/…`).
    link: String,
) -> impl IntoView {
    let c = ctx();
    let words = move |w: Words| c.lang.get().pick(w.0, w.1, w.2);
    let needs_passcode = ShlLink::decode(&link).is_ok_and(|l| l.flags.passcode);
    let passcode = RwSignal::new(String::new());
    let recipient = RwSignal::new(String::new());
    let outcome = RwSignal::new(None::<Result<Opened, String>>);
    let busy = RwSignal::new(false);
    let text = link.clone();
    let go = move || {
        busy.set(true);
        outcome.set(None);
        let (text, p, r) = (text.clone(), passcode.get_untracked(), recipient.get_untracked());
        leptos::task::spawn_local(async move {
            let who = if r.trim().is_empty() {
                DEFAULT_RECIPIENT.to_string()
            } else {
                r
            };
            let got = open(&text, &who, (!p.is_empty()).then_some(p)).await;
            busy.set(false);
            outcome.set(Some(got.map_err(|e| e.to_string())));
        });
    };
    let start = go.clone();
    if !needs_passcode {
        start();
    }
    view! {
        <section class="receive">
            <h1>{move || c.t(T::receive)}</h1>
            {move || outcome.get().map(|r| match r {
                Err(e) => view! { <Verdict outcome=Err(e)/> }.into_any(),
                Ok(mut opened) if opened.signed.len() == 1 && opened.unsigned.is_empty() => {
                    view! { <Verdict outcome=Ok(opened.signed.remove(0))/> }.into_any()
                }
                Ok(opened) => view! { <Unsigned opened words/> }.into_any(),
            })}
            {needs_passcode.then(|| {
                let go = go.clone();
                view! {
                    <form on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); go(); }>
                        <p class="banner" role="status" data-testid="needs-passcode">{move || c.t(T::needs_passcode)}</p>
                        <label>{move || c.t(T::passcode)}
                            <input type="password" autocomplete="off" data-testid="receive-passcode" on:input=move |ev| passcode.set(event_target_value(&ev))/>
                        </label>
                        <label>{move || words(YOUR_NAME)}
                            <input type="text" autocomplete="name" data-testid="link-recipient" on:input=move |ev| recipient.set(event_target_value(&ev))/>
                        </label>
                        <button type="submit" data-testid="receive-open" disabled=move || busy.get()>{move || c.t(T::open_share)}</button>
                    </form>
                }
            })}
        </section>
    }
}

/// Records from a link that no patient's wallet signed (and any signed
/// bundles beside them), each readable in a line and whole on a tap.
#[component]
fn Unsigned(opened: Opened, words: impl Fn(Words) -> &'static str + Copy + Send + 'static) -> impl IntoView {
    let signed = opened.signed.len();
    view! {
        <div class="unsigned" data-testid="unsigned" role="status">
            <p class="verdict">"⚠ " {move || words(UNSIGNED)}</p>
            <p>{move || words(UNSIGNED_WHY)}</p>
            {(signed > 0).then(|| view! { <p class="muted">{format!("+ {signed} signed bundle(s)")}</p> })}
            <ul class="received">
                {opened.unsigned.into_iter().map(|(resource, description)| view! {
                    <li data-testid="received-record">
                        <details><summary>
                            <span class="title">{description.title.clone()}</span>
                            <span class="kind">{resource.resource_type().to_string()} " · "
                                {description.date.as_ref().map(|d| d.day().to_string()).unwrap_or_else(|| "—".into())}</span>
                        </summary>
                        <pre>{serde_json::to_string_pretty(resource.json()).unwrap_or_default()}</pre></details>
                    </li>
                }).collect_view()}
            </ul>
            {opened.notes.into_iter().map(|n| view! { <p class="muted">{n}</p> }).collect_view()}
        </div>
    }
}
