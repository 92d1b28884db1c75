//! The emergency card: what a stranger helping the patient needs, the QR
//! code of its year-long emergency share at a relay, and every time that
//! code was opened; made, renewed, taken back and printed in one action
//! each, as `amanat emergency-card` does.

use leptos::prelude::*;

use crate::api;
use crate::i18n::T;
use crate::model::{CardOf, EmergencyCard, NewEmergencyCard, ShareRow, human_time};
use crate::views::{Banner, PdfLinks, QrCode, ctx, fetch, fetched, keep_pdf};

fn listed(items: Vec<String>, none: &'static str) -> String {
    if items.is_empty() {
        none.to_string()
    } else {
        items.join("; ")
    }
}

/// The card in force, if any.
fn shown(
    card: EmergencyCard,
    revoke: impl Fn() + Copy + 'static,
    print: impl Fn() + Copy + 'static,
) -> impl IntoView {
    let c = ctx();
    let none = c.t(T::none);
    let opens = if card.opened_at.is_empty() {
        c.t(T::not_opened).to_string()
    } else {
        let times: Vec<String> = card.opened_at.iter().map(|t| human_time(*t)).collect();
        format!("{} ({}): {}", c.t(T::opened_at), times.len(), times.join(", "))
    };
    view! {
        <div class="card emergency" data-testid="emergency-card">
            <QrCode text=card.link.clone()/>
            <dl>
                <dt>{c.t(T::blood_group)}</dt>
                <dd data-testid="card-blood">{card.facts.blood_group.unwrap_or_else(|| c.t(T::not_recorded).into())}</dd>
                <dt>{c.t(T::allergies)}</dt>
                <dd data-testid="card-allergies">{listed(card.facts.allergies, none)}</dd>
                <dt>{c.t(T::problems)}</dt>
                <dd>{listed(card.facts.conditions, none)}</dd>
                <dt>{c.t(T::medications)}</dt>
                <dd>{listed(card.facts.medications, none)}</dd>
                <dt>{c.t(T::people_to_call)}</dt>
                <dd data-testid="card-contacts">{listed(card.facts.contacts, none)}</dd>
                <dt>{c.t(T::valid_until_label)}</dt>
                <dd>{human_time(card.expires_at)}</dd>
            </dl>
            <p data-testid="card-opens">{opens}</p>
            <button type="button" data-testid="card-print" on:click=move |_| print()>{c.t(T::make_pdf)}</button>
            <button type="button" class="danger" data-testid="card-revoke" on:click=move |_| revoke()>{c.t(T::revoke)}</button>
        </div>
    }
}

/// The emergency card page.
#[component]
pub fn Emergency() -> impl IntoView {
    let c = ctx();
    let version = RwSignal::new(0u32);
    let data = fetch::<Option<EmergencyCard>>(move || {
        version.get();
        format!("/api/emergency-card?{}", c.profile_query())
    });
    let (relay, contacts) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let message = RwSignal::new(None::<(bool, String)>);
    let pdf = RwSignal::new(None::<String>);
    let which = move || CardOf {
        profile: c.profile.get_untracked(),
        lang: c.lang.get_untracked(),
    };
    let make = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        leptos::task::spawn_local(async move {
            let people: Vec<String> = contacts
                .get_untracked()
                .lines()
                .map(|l| l.trim().to_string())
                .filter(|l| !l.is_empty())
                .collect();
            let body = NewEmergencyCard {
                profile: c.profile.get_untracked(),
                relay: relay.get_untracked(),
                contacts: (!people.is_empty()).then_some(people),
            };
            match api::post::<_, EmergencyCard>("/api/emergency-card", &body).await {
                Ok(_) => {
                    message.set(Some((true, c.t(T::card_made).into())));
                    version.update(|v| *v += 1);
                }
                Err(e) => message.set(Some((false, e.message))),
            }
        });
    };
    let revoke = move || {
        leptos::task::spawn_local(async move {
            match api::post::<_, ShareRow>("/api/emergency-card/revoke", &which()).await {
                Ok(_) => {
                    message.set(Some((true, c.t(T::card_revoked).into())));
                    version.update(|v| *v += 1);
                }
                Err(e) => message.set(Some((false, e.message))),
            }
        });
    };
    let print = move || {
        leptos::task::spawn_local(async move {
            match api::post_for_bytes("/api/emergency-card/pdf", &which()).await {
                Ok(bytes) => {
                    keep_pdf(pdf, &bytes);
                }
                Err(e) => message.set(Some((false, e.message))),
            }
        });
    };
    view! {
        <section class="emergency-page">
            <h1>{move || c.t(T::emergency_card)}</h1>
            <p class="muted">{move || c.t(T::emergency_hint)}</p>
            {move || message.get().map(|(ok, m)| view! { <Banner message=m ok=ok/> })}
            {fetched(data, move |card| match card {
                None => view! { <p data-testid="no-card">{c.t(T::no_card)}</p> }.into_any(),
                Some(card) => shown(card, revoke, print).into_any(),
            })}
            {move || pdf.get().map(|url| view! { <PdfLinks url=url name="amanat-emergency-card.pdf" testid="card-pdf"/> })}
            <form class="card" data-testid="card-form" on:submit=make>
                <h2>{move || c.t(T::make_card)}</h2>
                <input type="url" required placeholder="https://relay.example" data-testid="card-relay"
                    aria-label=move || c.t(T::relay_address) on:input=move |ev| relay.set(event_target_value(&ev))/>
                <textarea rows="3" data-testid="card-contacts-input" aria-label=move || c.t(T::people_to_call)
                    placeholder="Bilal Siddiqui (husband) +92 300 1234567"
                    on:input=move |ev| contacts.set(event_target_value(&ev))></textarea>
                <p class="muted">{move || c.t(T::contacts_hint)}</p>
                <button type="submit" data-testid="card-make">{move || c.t(T::make_card)}</button>
            </form>
        </section>
    }
}
