//! Scan & Share in the web wallet: a facility's counter card, scanned on
//! the Requests page, shown (which facility, listed or not, exactly what it
//! would get) and, on the patient's word, answered with their details alone;
//! then the token number to show at the counter, large. The checks and the
//! share are the wallet's (`wallet_core::scan_share`, over the local API).

use leptos::prelude::*;

use crate::api;
use crate::i18n::T;
use crate::model::{CheckedIn, FacilityDetail, ScanShare};
use crate::views::{Banner, ctx};

/// Whether a scanned text is a facility card (not a consent request).
pub fn is_facility_card(text: &str) -> bool {
    text.trim_start().starts_with("AMANAT-FACILITY:")
}

/// The card as the wallet reads it: `POST /api/scan-share` (nothing shared).
pub async fn open(text: String, profile: Option<String>) -> Result<FacilityDetail, String> {
    api::post::<_, FacilityDetail>("/api/scan-share", &ScanShare { text, profile })
        .await
        .map_err(|e| e.message)
}

/// A facility card: who, listed or not, what it would get; Share or Not now.
#[component]
pub fn FacilityView(
    /// The card's text, to answer it.
    text: String,
    /// The card as the wallet read it.
    detail: FacilityDetail,
    /// Called when the patient declines.
    closed: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let c = ctx();
    let text = StoredValue::new(text);
    let busy = RwSignal::new(false);
    let arrived = RwSignal::new(None::<Result<CheckedIn, String>>);
    let share = move |_| {
        busy.set(true);
        let body = ScanShare {
            text: text.get_value(),
            profile: c.profile.get_untracked(),
        };
        leptos::task::spawn_local(async move {
            let r = api::post::<_, CheckedIn>("/api/scan-share/approve", &body).await;
            busy.set(false);
            arrived.set(Some(r.map_err(|e| e.message)));
        });
    };
    let counter = detail
        .counter
        .clone()
        .map(|c| format!(", {c}"))
        .unwrap_or_default();
    view! {
        <div class="request facility" data-testid="facility">
            <h2 data-testid="facility-name">{detail.facility.clone()} {counter}</h2>
            <p class="muted">{c.t(T::facility)} " " {detail.facility_id.clone()}</p>
            {match detail.listed_by.clone() {
                Some(registry) => view! { <p class="listed" data-testid="facility-listed">"✔ " {c.t(T::listed_by)} " " {registry}</p> }.into_any(),
                None => view! { <p class="unlisted" data-testid="facility-unlisted">"⚠ " {c.t(T::not_listed_facility)} " · " {detail.key.clone()}</p> }.into_any(),
            }}
            <p class="sentence">{c.t(T::facility_would_get)}</p>
            <ul class="request-records" data-testid="facility-details">
                <li>{detail.patient.clone()}</li>
                {(!detail.details.is_empty()).then(|| view! { <li>{detail.details.clone()}</li> })}
            </ul>
            <p class="muted">{c.t(T::no_health_record)}</p>
            {move || match arrived.get() {
                Some(Ok(done)) => view! {
                    <div class="share-result token" data-testid="facility-arrived">
                        <p>{c.t(T::your_token)}</p>
                        <p class="token-number" data-testid="facility-token">{done.token}</p>
                        <p class="muted">{done.facility.clone()} " · " {done.day.clone()}</p>
                    </div>
                }.into_any(),
                other => view! {
                    <div>
                        <div class="actions">
                            <button data-testid="facility-share" disabled=move || busy.get() on:click=share>{c.t(T::share_my_details)}</button>
                            <button class="danger" data-testid="facility-decline" on:click=move |_| closed()>{c.t(T::not_now)}</button>
                        </div>
                        {other.and_then(|r| r.err()).map(|e| view! { <Banner message=e ok=false/> })}
                    </div>
                }.into_any(),
            }}
        </div>
    }
}
