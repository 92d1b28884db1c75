//! The frame: header with profile and language switchers, navigation, content.

use leptos::prelude::*;

use crate::i18n::Lang;
use crate::i18n::T;
use crate::views::ctx;
use crate::{Route, api};

/// Language buttons.
#[component]
pub fn LanguageSwitch() -> impl IntoView {
    let c = ctx();
    view! {
        <div class="langs" role="group" aria-label=move || c.t(T::language)>
            {[Lang::En, Lang::Ur, Lang::Hi].into_iter().map(|l| view! {
                <button class:active=move || c.lang.get() == l data-testid=format!("lang-{}", l.code())
                    on:click=move |_| {
                        c.lang.set(l);
                        if let Some(s) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
                            let _ = s.set_item("amanat-language", l.code());
                        }
                    }>{l.name()}</button>
            }).collect_view()}
        </div>
    }
}

/// A page without the wallet's navigation (the doctor's view).
#[component]
pub fn Bare(children: Children) -> impl IntoView {
    let c = ctx();
    view! {
        <header class="top">
            <a class="brand" href="#/">{move || c.t(T::app)}</a>
            <LanguageSwitch/>
        </header>
        <main>{children()}</main>
    }
}

/// The wallet's frame.
#[component]
pub fn Shell() -> impl IntoView {
    let c = ctx();
    let nav = [
        (Route::Dashboard, T::dashboard, "nav-dashboard"),
        (Route::Timeline, T::timeline, "nav-timeline"),
        (Route::Import, T::import, "nav-import"),
        (Route::Share, T::share, "nav-share"),
        (Route::Grants, T::grants, "nav-grants"),
        (Route::Requests, T::requests, "nav-requests"),
        (Route::Audit, T::audit, "nav-audit"),
        (Route::Plugins, T::plugins, "nav-plugins"),
        (Route::Settings, T::settings, "nav-settings"),
        (Route::Receive(None), T::receive, "nav-receive"),
    ];
    let lock = move |_| {
        leptos::task::spawn_local(async move {
            let _ = api::post::<_, crate::model::Locked>("/api/lock", &()).await;
            c.refresh_status();
        });
    };
    view! {
        <header class="top">
            <a class="brand" href="#/">{move || c.t(T::app)}</a>
            <label class="profile-switch">
                <span>{move || c.t(T::profile)}</span>
                <select data-testid="profile-switch" on:change=move |ev| {
                    let v = event_target_value(&ev);
                    c.profile.set((!v.is_empty()).then_some(v));
                    c.chosen.set(Vec::new());
                }>
                    {move || c.status.get().and_then(Result::ok).map(|s| s.profiles.into_iter().map(|p| {
                        let handle = p.handle.clone();
                        let selected = c.profile.get().as_deref() == Some(handle.as_str()) || (c.profile.get().is_none() && p.owner);
                        view! { <option value=if p.owner { String::new() } else { handle } selected=selected>{p.name}</option> }
                    }).collect_view())}
                </select>
            </label>
            <LanguageSwitch/>
            <button class="lock" data-testid="lock" on:click=lock>{move || c.t(T::lock)}</button>
        </header>
        <nav class="main-nav" aria-label="Main">
            {nav.into_iter().map(|(route, key, testid)| {
                let href = route.href();
                let active = route.clone();
                view! {
                    <a href=href data-testid=testid
                       class:active=move || std::mem::discriminant(&c.route.get()) == std::mem::discriminant(&active)>
                        {move || c.t(key)}
                    </a>
                }
            }).collect_view()}
        </nav>
        <main>
            {move || match c.route.get() {
                Route::Dashboard => view! { <super::dashboard::Dashboard/> }.into_any(),
                Route::Timeline => view! { <super::timeline::Timeline/> }.into_any(),
                Route::Record(id) => view! { <super::record::RecordPage id=id/> }.into_any(),
                Route::Trend(code) => view! { <super::trend::TrendPage code=code/> }.into_any(),
                Route::Import => view! { <super::import::Import/> }.into_any(),
                Route::Share => view! { <super::share::ShareWizard/> }.into_any(),
                Route::Grants => view! { <super::grants::Grants/> }.into_any(),
                Route::Requests => view! { <super::requests::Requests/> }.into_any(),
                Route::Audit => view! { <super::audit::Audit/> }.into_any(),
                Route::Plugins => view! { <super::plugins::Plugins/> }.into_any(),
                Route::Settings => view! { <super::settings::Settings/> }.into_any(),
                Route::Emergency => view! { <super::emergency::Emergency/> }.into_any(),
                Route::Receive(link) => view! { <super::receive::ReceiveAndScan link=link/> }.into_any(),
            }}
        </main>
    }
}
