//! Unlocking the wallet, or creating one.

use crate::api;
use crate::i18n::T;
use crate::model::{self, Init, NewProfile, Status};
use crate::views::{Banner, ctx};
use leptos::prelude::*;

/// The locked screen: a passphrase to unlock, or a form to create the wallet.
#[component]
pub fn Unlock(
    /// A wallet exists.
    exists: bool,
    /// Why the server could not be reached, if so.
    error: Option<String>,
) -> impl IntoView {
    let c = ctx();
    let pass = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let birth = RwSignal::new(String::new());
    let cnic = RwSignal::new(String::new());
    let abha = RwSignal::new(String::new());
    let phone = RwSignal::new(String::new());
    let message = RwSignal::new(error);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        message.set(None);
        leptos::task::spawn_local(async move {
            let result = if exists {
                let body = model::Unlock {
                    passphrase: pass.get_untracked(),
                };
                api::post::<_, Status>("/api/unlock", &body).await
            } else {
                let body = Init {
                    passphrase: pass.get_untracked(),
                    owner: NewProfile {
                        name: name.get_untracked(),
                        birth_date: Some(birth.get_untracked()),
                        cnic: Some(cnic.get_untracked()),
                        abha_number: Some(abha.get_untracked()),
                        phone: Some(phone.get_untracked()),
                        ..NewProfile::default()
                    },
                };
                api::post::<_, Status>("/api/init", &body).await
            };
            busy.set(false);
            match result {
                Ok(s) => c.status.set(Some(Ok(s))),
                Err(e) => message.set(Some(e.message)),
            }
        });
    };
    view! {
        <main class="unlock">
            <h1>{move || c.t(T::app)}</h1>
            <p class="tagline">{move || c.t(T::tagline)}</p>
            <super::shell::LanguageSwitch/>
            <form on:submit=submit>
                <h2>{move || if exists { c.t(T::unlock_title) } else { c.t(T::create_title) }}</h2>
                {(!exists).then(|| view! {
                    <label>{move || c.t(T::name)}
                        <input data-testid="create-name" required autocomplete="name" prop:value=name on:input=move |ev| name.set(event_target_value(&ev))/>
                    </label>
                    <label>{move || c.t(T::birth_date)}
                        <input type="date" data-testid="create-birth" prop:value=birth on:input=move |ev| birth.set(event_target_value(&ev))/>
                    </label>
                    <label>{move || c.t(T::cnic)}
                        <input data-testid="create-cnic" inputmode="numeric" placeholder="35202-1234567-2" prop:value=cnic on:input=move |ev| cnic.set(event_target_value(&ev))/>
                    </label>
                    <label>{move || c.t(T::abha)}
                        <input data-testid="create-abha" inputmode="numeric" placeholder="91-2345-6789-0123" prop:value=abha on:input=move |ev| abha.set(event_target_value(&ev))/>
                    </label>
                    <label>{move || c.t(T::phone)}
                        <input type="tel" data-testid="create-phone" autocomplete="tel" placeholder="+92 300 1234567" prop:value=phone on:input=move |ev| phone.set(event_target_value(&ev))/>
                    </label>
                })}
                <label>{move || c.t(T::passphrase)}
                    <input type="password" data-testid="passphrase" required minlength=if exists { "1" } else { "8" }
                        autocomplete=if exists { "current-password" } else { "new-password" }
                        prop:value=pass on:input=move |ev| pass.set(event_target_value(&ev))/>
                </label>
                {(!exists).then(|| view! { <p class="hint">{move || c.t(T::passphrase_hint)}</p> })}
                <button type="submit" data-testid="unlock-submit" disabled=move || busy.get()>
                    {move || if exists { c.t(T::unlock) } else { c.t(T::create) }}
                </button>
                {move || message.get().map(|m| view! { <Banner message=m ok=false/> })}
            </form>
            <p><a href="#/receive" data-testid="to-receive">{move || c.t(T::receive)}</a></p>
        </main>
    }
}
