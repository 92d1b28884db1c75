//! The standalone viewer: what a doctor's phone opens when its camera reads a
//! patient's share QR code (`https://viewer.example/#AMANAT/…`).
//!
//! The same doctor's view as the wallet's, alone: no wallet, no account, no
//! server API. The share comes in the address's fragment, which browsers never
//! send to a server; the page verifies the grant and decrypts in WebAssembly,
//! then takes the fragment out of the address bar and history, so the key does
//! not stay on the doctor's phone (scan again to reopen). `amanat relay`
//! serves it at `/`; `amanat viewer export DIR` writes it for any static host.

use leptos::prelude::*;

use crate::i18n::T;
use crate::views::receive::Receive;
use crate::views::shell::Bare;
use crate::{Ctx, Route};

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

/// The viewer app.
#[component]
pub fn Viewer() -> impl IntoView {
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
                <p class="intro" data-testid="viewer-intro">{ctx.t(T::viewer_intro)}</p>
            })}
            {move || view! { <Receive link=share.get() scanner=|_, _| ()/> }}
        </Bare>
    }
}
