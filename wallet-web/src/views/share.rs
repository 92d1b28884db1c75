//! The share wizard in plain words: what, with whom, why, for how long, how.
//! It ends with a large QR code, the link, and a countdown to expiry.

use leptos::prelude::*;

use crate::api;
use crate::i18n::T;
use crate::model::{CreatedShare, NewShare};
use crate::views::{Banner, KINDS, QrCode, ctx};

/// How long, in seconds, with the text key for it.
pub(crate) const DURATIONS: [(i64, T); 5] = [
    (3600, T::dur_1h),
    (86_400, T::dur_24h),
    (7 * 86_400, T::dur_7d),
    (30 * 86_400, T::dur_30d),
    (365 * 86_400, T::dur_1y),
];
/// ABDM purpose codes, with the text key for each.
const PURPOSES: [(&str, T); 6] = [
    ("CAREMGT", T::why_CAREMGT),
    ("BTG", T::why_BTG),
    ("HPAYMT", T::why_HPAYMT),
    ("PUBHLTH", T::why_PUBHLTH),
    ("DSRCH", T::why_DSRCH),
    ("PATRQT", T::why_PATRQT),
];

/// "2 h 05 min", "3 d 4 h", "45 s".
pub fn remaining(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        s if s >= 86_400 => format!("{} d {} h", s / 86_400, s % 86_400 / 3600),
        s if s >= 3600 => format!("{} h {:02} min", s / 3600, s % 3600 / 60),
        s if s >= 60 => format!("{} min {:02} s", s / 60, s % 60),
        s => format!("{s} s"),
    }
}

fn now() -> i64 {
    (js_sys::Date::now() / 1000.0) as i64
}

/// The wizard.
#[component]
pub fn ShareWizard() -> impl IntoView {
    let c = ctx();
    let what = RwSignal::new(if c.chosen.get_untracked().is_empty() {
        "summary".to_string()
    } else {
        "chosen".to_string()
    });
    let types = RwSignal::new(vec!["DiagnosticReport".to_string()]);
    let whom = RwSignal::new("anyone".to_string());
    let card = RwSignal::new(String::new());
    let purpose = RwSignal::new("CAREMGT".to_string());
    let seconds = RwSignal::new(86_400i64);
    let how = RwSignal::new("qr".to_string());
    let relay = RwSignal::new(String::new());
    let uses = RwSignal::new(String::new());
    let result = RwSignal::new(None::<Result<CreatedShare, String>>);
    let busy = RwSignal::new(false);
    let clock = RwSignal::new(now());
    let handle = set_interval_with_handle(move || clock.set(now()), std::time::Duration::from_secs(1)).ok();
    on_cleanup(move || {
        if let Some(h) = handle {
            h.clear();
        }
    });
    let sentence = move || {
        let subject = match what.get().as_str() {
            "summary" => c.t(T::the_summary).to_string(),
            "chosen" => c.count(c.chosen.get().len(), T::n_records_one, T::n_records),
            _ => types
                .get()
                .iter()
                .filter_map(|t| KINDS.iter().find(|(k, _)| k == t))
                .map(|(_, key)| c.t(*key))
                .collect::<Vec<_>>()
                .join(", "),
        };
        let person = c.t(if whom.get() == "doctor" {
            T::whom_doctor
        } else {
            T::whom_anyone
        });
        let why = PURPOSES
            .iter()
            .find(|(code, _)| *code == purpose.get())
            .map_or("", |(_, key)| c.t(*key));
        let long = DURATIONS
            .iter()
            .find(|(s, _)| *s == seconds.get())
            .map_or("", |(_, key)| c.t(*key));
        c.t(T::share_sentence)
            .replace("{what}", &subject)
            .replace("{whom}", person)
            .replace("{why}", why)
            .replace("{long}", long)
    };
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        let mut body = NewShare {
            profile: c.profile.get_untracked(),
            purpose: purpose.get_untracked(),
            seconds: seconds.get_untracked(),
            mode: Some("view".into()),
            ..NewShare::default()
        };
        match what.get_untracked().as_str() {
            "summary" => body.summary = true,
            "chosen" => body.ids = c.chosen.get_untracked(),
            _ => body.types = types.get_untracked(),
        }
        if whom.get_untracked() == "doctor" {
            body.to = Some(card.get_untracked());
        }
        let how = how.get_untracked();
        if how != "qr" {
            body.relay = Some(relay.get_untracked());
            body.uses = uses.get_untracked().parse::<u32>().ok();
            body.shl = how == "shl";
        }
        leptos::task::spawn_local(async move {
            let r = api::post::<_, CreatedShare>("/api/shares", &body).await;
            busy.set(false);
            if let Err(e) = &r {
                c.check_locked(e);
            }
            result.set(Some(r.map_err(|e| e.message)));
        });
    };
    view! {
        <section class="share">
            <h1>{move || c.t(T::share)}</h1>
            {move || match result.get() {
                Some(Ok(created)) => {
                    let expires = created.grant.expires;
                    let link = created.link.clone();
                    view! {
                        <div class="share-result" data-testid="share-result">
                            <p class="sentence">{c.count(created.records.len(), T::shared_one, T::shared_n)}</p>
                            <QrCode text=link.clone()/>
                            <p class="countdown" data-testid="countdown">
                                {move || { let left = expires - clock.get(); if left > 0 { format!("{} {}", c.t(T::expires_in), remaining(left)) } else { c.t(T::expired).to_string() } }}
                            </p>
                            <textarea readonly class="link" data-testid="share-link" rows="4" aria-label=c.t(T::share_link)>{link}</textarea>
                            <p class="muted">"QR version " {created.qr_version} " · " {created.grant.id.clone()}</p>
                            <button on:click=move |_| result.set(None)>{c.t(T::back)}</button>
                        </div>
                    }.into_any()
                }
                other => view! {
                    <form class="wizard" on:submit=create>
                        <fieldset>
                            <legend>{c.t(T::what_to_share)}</legend>
                            <label><input type="radio" name="what" value="summary" data-testid="what-summary" prop:checked=move || what.get() == "summary" on:change=move |_| what.set("summary".into())/> {c.t(T::the_summary)}</label>
                            <label><input type="radio" name="what" value="chosen" data-testid="what-chosen" disabled=move || c.chosen.get().is_empty() prop:checked=move || what.get() == "chosen" on:change=move |_| what.set("chosen".into())/> {c.t(T::chosen)} " (" {move || c.chosen.get().len()} ")"</label>
                            <label><input type="radio" name="what" value="types" data-testid="what-types" prop:checked=move || what.get() == "types" on:change=move |_| what.set("types".into())/> {c.t(T::record_type)}</label>
                            <div class="types" class:hidden=move || what.get() != "types">
                                {KINDS.into_iter().map(|(code, key)| view! {
                                    <label><input type="checkbox" prop:checked=move || types.get().iter().any(|t| t == code)
                                        on:change=move |_| types.update(|list| if let Some(i) = list.iter().position(|t| t == code) { list.remove(i); } else { list.push(code.into()); })/> {c.t(key)}</label>
                                }).collect_view()}
                            </div>
                        </fieldset>
                        <fieldset>
                            <legend>{c.t(T::with_whom)}</legend>
                            <label><input type="radio" name="whom" prop:checked=move || whom.get() == "anyone" on:change=move |_| whom.set("anyone".into())/> {c.t(T::anyone_with_code)}</label>
                            <label><input type="radio" name="whom" data-testid="whom-doctor" prop:checked=move || whom.get() == "doctor" on:change=move |_| whom.set("doctor".into())/> {c.t(T::a_doctor)}</label>
                            <textarea class:hidden=move || whom.get() != "doctor" placeholder="AMANAT-CARD:…" data-testid="doctor-card" aria-label=c.t(T::doctor_card) on:input=move |ev| card.set(event_target_value(&ev))></textarea>
                        </fieldset>
                        <fieldset>
                            <legend>{c.t(T::why)}</legend>
                            <select data-testid="purpose" aria-label=c.t(T::why) on:change=move |ev| purpose.set(event_target_value(&ev))>
                                {PURPOSES.into_iter().map(|(code, key)| view! { <option value=code>{c.t(key)}</option> }).collect_view()}
                            </select>
                            <legend>{c.t(T::how_long)}</legend>
                            <select data-testid="duration" aria-label=c.t(T::how_long) on:change=move |ev| seconds.set(event_target_value(&ev).parse().unwrap_or(86_400))>
                                {DURATIONS.into_iter().map(|(s, key)| view! { <option value=s.to_string() selected=s == 86_400>{c.t(key)}</option> }).collect_view()}
                            </select>
                        </fieldset>
                        <fieldset>
                            <legend>{c.t(T::how)}</legend>
                            <label><input type="radio" name="how" prop:checked=move || how.get() == "qr" on:change=move |_| how.set("qr".into())/> {c.t(T::in_qr)}</label>
                            <label><input type="radio" name="how" data-testid="how-relay" prop:checked=move || how.get() == "relay" on:change=move |_| how.set("relay".into())/> {c.t(T::via_relay)}</label>
                            <label><input type="radio" name="how" data-testid="how-shl" prop:checked=move || how.get() == "shl" on:change=move |_| how.set("shl".into())/> "SMART Health Link"</label>
                            <div class:hidden=move || how.get() == "qr">
                                <input type="url" placeholder="https://relay.example" data-testid="relay-url" aria-label=c.t(T::relay_address) on:input=move |ev| relay.set(event_target_value(&ev))/>
                                <input type="number" min="1" placeholder="uses" data-testid="relay-uses" aria-label=c.t(T::max_uses) on:input=move |ev| uses.set(event_target_value(&ev))/>
                            </div>
                        </fieldset>
                        <p class="sentence" data-testid="share-sentence">{sentence}</p>
                        <button type="submit" data-testid="create-share" disabled=move || busy.get()>{c.t(T::create_share)}</button>
                        {other.and_then(|r| r.err()).map(|e| view! { <Banner message=e ok=false/> })}
                    </form>
                }.into_any(),
            }}
        </section>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn countdown_text() {
        assert_eq!(super::remaining(90_061), "1 d 1 h");
        assert_eq!(super::remaining(7_260), "2 h 01 min");
        assert_eq!(super::remaining(61), "1 min 01 s");
        assert_eq!(super::remaining(-5), "0 s");
    }
}
