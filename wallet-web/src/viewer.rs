//! The standalone viewer: what a doctor's phone opens when its camera reads a
//! patient's share QR code (`https://viewer.example/#AMANAT/…`), or a SMART
//! Health Link (`https://viewer.example/#shlink:/…`, see [`crate::link`]).
//!
//! The same doctor's view as the wallet's, alone: no wallet, no account, no
//! server API. The share comes in the address's fragment, which browsers never
//! send to a server; the page verifies the grant and decrypts in WebAssembly,
//! then takes the fragment out of the address bar and history, so the key does
//! not stay on the doctor's phone (scan again to reopen). `amanat relay`
//! serves it at `/`; `amanat viewer export DIR` writes it for any static host.
//!
//! Two builds of it: [`Viewer`] (`viewer.html`, the page at `/`) opens Amanat
//! shares, and hands a SMART Health Link to [`LinkViewer`] (`shl.html` beside
//! it), which opens both. Reading other software's links (AES-GCM, DEFLATE,
//! P-256 for SMART Health Cards, the manifest client) is then not in the
//! download of every doctor who scans an Amanat code: 26 KB of its 304 KB of
//! brotli, about 0.13 s at 1.6 Mbit/s. `viewer.html` hands a link over before
//! its wasm loads (a line of script in its head); [`Viewer`] does it for a
//! link that comes later (a second code read in the same tab).

use leptos::prelude::*;

use wallet_core::share::shl;

use crate::link::LinkReceive;
use crate::views::receive::Receive;
use crate::views::shell::Bare;
use crate::{Ctx, Route};

/// What the viewer says before a share is opened. Only the viewer shows it,
/// so it is kept here rather than in the wallet's text table.
const INTRO: (&str, &str, &str) = (
    "Point your phone's camera at the patient's Amanat QR code: the records open here, checked against the patient's signature. Nothing is installed and nothing is sent anywhere: the key stays in this page.",
    "مریض کے امانت کیو آر کوڈ پر فون کا کیمرا رکھیں: ریکارڈ یہیں کھلیں گے، مریض کے دستخط سے جانچ کر۔ کچھ انسٹال نہیں ہوتا اور کچھ کہیں نہیں بھیجا جاتا: چابی اسی صفحے میں رہتی ہے۔",
    "मरीज़ के अमानत क्यूआर कोड पर फ़ोन का कैमरा रखें: रिकॉर्ड यहीं खुलेंगे, मरीज़ के हस्ताक्षर से जांच कर। कुछ इंस्टॉल नहीं होता और कुछ कहीं नहीं भेजा जाता: चाबी इसी पेज में रहती है।",
);

/// The share in the address, if there is one; the address keeps no copy.
fn take_share() -> Option<String> {
    let window = web_sys::window()?;
    let location = window.location();
    let fragment = location.hash().ok()?;
    let share = fragment.trim_start_matches('#');
    if share.is_empty() || share.starts_with('/') {
        return None;
    }
    let share = share.to_string();
    let bare = format!(
        "{}{}",
        location.pathname().unwrap_or_default(),
        location.search().unwrap_or_default()
    );
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&bare));
    }
    Some(share)
}

/// The viewer app for Amanat shares (`viewer.html`): a SMART Health Link goes
/// to [`LinkViewer`].
#[component]
pub fn Viewer() -> impl IntoView {
    app(hand_over)
}

/// The viewer app for SMART Health Links and Amanat shares (`shl.html`).
#[component]
pub fn LinkViewer() -> impl IntoView {
    app(|link| view! { <LinkReceive link/> }.into_any())
}

/// The page that opens SMART Health Links, beside this one.
const LINK_PAGE: &str = "shl.html";

/// Takes a SMART Health Link to [`LINK_PAGE`] (the fragment again carries it:
/// never sent, taken out of the address there). Where that page was not built
/// (the server then answers this page for it), the link stays here and is
/// refused as not an Amanat share, rather than handed round in a loop.
fn hand_over(link: String) -> AnyView {
    let location = web_sys::window().map(|w| w.location());
    let here = location
        .as_ref()
        .and_then(|l| l.pathname().ok())
        .unwrap_or_default();
    match location {
        Some(location) if !here.ends_with(LINK_PAGE) => {
            let _ = location.replace(&format!("{LINK_PAGE}#{link}"));
            ().into_any()
        }
        _ => view! { <Receive link=Some(link) scanner=|_| ()/> }.into_any(),
    }
}

/// The viewer, opening a SMART Health Link with `shl_link`.
fn app(shl_link: fn(String) -> AnyView) -> impl IntoView {
    let ctx = Ctx::new(Route::Receive(None));
    provide_context(ctx);
    crate::follow_language(ctx);
    let share = RwSignal::new(take_share());
    // A second code opened in the same tab changes only the fragment.
    let _listener = window_event_listener(leptos::ev::hashchange, move |_| {
        if let Some(s) = take_share() {
            share.set(Some(s));
        }
    });
    view! {
        <Bare>
            {move || share.get().is_none().then(|| view! {
                <p class="intro" data-testid="viewer-intro">{move || ctx.lang.get().pick(INTRO.0, INTRO.1, INTRO.2)}</p>
            })}
            {move || match share.get() {
                Some(link) if shl::is_shl(&link) => shl_link(link),
                link => view! { <Receive link scanner=|_| ()/> }.into_any(),
            }}
        </Bare>
    }
}
