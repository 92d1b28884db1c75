//! The views, one module each.

pub mod audit;
pub mod dashboard;
pub mod grants;
pub mod import;
pub mod plugins;
pub mod receive;
pub mod record;
pub mod settings;
pub mod share;
pub mod shell;
pub mod timeline;
pub mod trend;
pub mod unlock;

use leptos::prelude::*;
use serde::de::DeserializeOwned;

use crate::api;
use crate::i18n::T;

/// What a page fetched from the wallet: `None` while it loads, the wallet's
/// refusal in words, or the answer.
pub type Fetched<D> = RwSignal<Option<Result<D, String>>>;

/// Fetches `path()` from the wallet, and again whenever a signal `path`
/// reads changes (the profile, the language, a version bumped after an
/// action).
pub fn fetch<D: DeserializeOwned + Send + Sync + 'static>(path: impl Fn() -> String + 'static) -> Fetched<D> {
    let data = RwSignal::new(None);
    Effect::new(move |_| leptos::task::spawn_local(load(path(), data)));
    data
}

/// Fetches `path` from the wallet once: for a page whose question does not change.
pub fn fetch_once<D: DeserializeOwned + Send + Sync + 'static>(path: String) -> Fetched<D> {
    let data = RwSignal::new(None);
    leptos::task::spawn_local(load(path, data));
    data
}

/// Asks the wallet and keeps the answer; one that says the wallet is locked
/// sends the app to the unlock screen.
async fn load<D: DeserializeOwned + Send + Sync + 'static>(path: String, data: Fetched<D>) {
    let answer = api::get::<D>(&path).await;
    if let Err(e) = &answer {
        ctx().check_locked(e);
    }
    data.set(Some(answer.map_err(|e| e.message)));
}

/// "Loading…", the refusal as a red banner, or `show(answer)`.
pub fn fetched<D, V>(data: Fetched<D>, show: impl Fn(D) -> V + Send + Sync + 'static) -> impl IntoView
where
    D: Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let c = ctx();
    move || match data.get() {
        None => view! { <p class="loading">{c.t(T::loading)}</p> }.into_any(),
        Some(Err(e)) => view! { <Banner message=e ok=false/> }.into_any(),
        Some(Ok(answer)) => show(answer).into_any(),
    }
}

/// An error or success banner.
#[component]
pub fn Banner(
    /// The message.
    message: String,
    /// Success (green) or failure (red).
    ok: bool,
) -> impl IntoView {
    view! {
        <div class=if ok { "banner ok" } else { "banner error" } role=if ok { "status" } else { "alert" } data-testid=if ok { "banner-ok" } else { "banner-error" }>
            {message}
        </div>
    }
}

/// A QR code drawn in the browser from its text.
#[component]
pub fn QrCode(
    /// What the code holds.
    text: String,
) -> impl IntoView {
    let svg = wallet_core::qr::Qr::new(&text)
        .map(|q| q.to_svg())
        .unwrap_or_default();
    view! { <div class="qr" data-testid="share-qr" inner_html=svg></div> }
}

/// The shared context.
pub fn ctx() -> crate::Ctx {
    expect_context::<crate::Ctx>()
}
