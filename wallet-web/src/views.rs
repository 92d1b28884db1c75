//! The views, one module each.

pub mod audit;
pub mod dashboard;
pub mod emergency;
pub mod facility;
pub mod grants;
pub mod import;
pub mod outline;
pub mod plugins;
pub mod reading;
pub mod receive;
pub mod record;
pub mod requests;
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

/// The ABDM kinds of health record, as the records page filters them and the
/// share wizard offers them, with their words.
pub const KINDS: [(&str, T); 6] = [
    ("DiagnosticReport", T::lab_results),
    ("Prescription", T::prescriptions),
    ("ImmunizationRecord", T::immunizations),
    ("WellnessRecord", T::vitals),
    ("OPConsultation", T::problems),
    ("HealthDocumentRecord", T::documents),
];

/// What a page fetched from the wallet: `None` while it loads, the wallet's
/// refusal in words, or the answer.
pub type Fetched<D> = RwSignal<Option<Result<D, String>>>;

/// Fetches `path()` from the wallet, and again whenever a signal `path`
/// reads changes (the profile, the language, filters as the patient types, a
/// version bumped after an action). Only the newest question's answer is kept:
/// an earlier one that arrives late is dropped.
pub fn fetch<D: DeserializeOwned + Send + Sync + 'static>(path: impl Fn() -> String + 'static) -> Fetched<D> {
    let data = RwSignal::new(None);
    let asked = StoredValue::new(0u32);
    Effect::new(move |_| {
        let path = path();
        let n = asked.get_value().wrapping_add(1);
        asked.set_value(n);
        leptos::task::spawn_local(async move {
            let answer = answer(&path).await;
            if asked.get_value() == n {
                data.set(Some(answer.and_then(parse)));
            }
        });
    });
    data
}

/// Fetches `path` from the wallet once: for a page whose question does not change.
pub fn fetch_once<D: DeserializeOwned + Send + Sync + 'static>(path: String) -> Fetched<D> {
    let data = RwSignal::new(None);
    leptos::task::spawn_local(async move { data.set(Some(answer(&path).await.and_then(parse))) });
    data
}

/// The wallet's answer as text, or its refusal in words; one that says the
/// wallet is locked sends the app to the unlock screen. Not generic: every
/// page's question shares this future (the parse, [`parse`], is per type).
async fn answer(path: &str) -> Result<String, String> {
    let answer = api::get_text(path).await;
    if let Err(e) = &answer {
        ctx().check_locked(e);
    }
    answer.map_err(|e| e.message)
}

fn parse<D: DeserializeOwned>(text: String) -> Result<D, String> {
    api::parse(&text).map_err(|e| e.message)
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

/// Puts a PDF the wallet made in `slot` as a `blob:` URL for [`PdfLinks`],
/// letting go of the one it held before.
pub fn keep_pdf(slot: RwSignal<Option<String>>, bytes: &[u8]) {
    if let Some(old) = slot.get_untracked() {
        drop(web_sys::Url::revoke_object_url(&old));
    }
    slot.set(crate::api::object_url(bytes, "application/pdf"));
}

/// A PDF the wallet made: open it (the browser's viewer prints it) or save
/// it. The links are `{testid}` and `{testid}-save`.
#[component]
pub fn PdfLinks(
    /// Its `blob:` URL.
    url: String,
    /// The file name it is saved under.
    name: &'static str,
    /// The links' test ids.
    testid: &'static str,
) -> impl IntoView {
    let c = ctx();
    view! {
        <p>
            <a href=url.clone() target="_blank" rel="noopener" data-testid=testid>{c.t(crate::i18n::T::open_pdf)}</a>
            " · "
            <a href=url download=name data-testid=format!("{testid}-save")>{c.t(crate::i18n::T::save_pdf)}</a>
        </p>
    }
}

/// The shared context.
pub fn ctx() -> crate::Ctx {
    expect_context::<crate::Ctx>()
}
