//! Consent requests from doctors: scan one (camera or photo) or paste it,
//! read what it asks in plain words, give less if you wish, approve or deny;
//! below, the requests opened and where each stands. The checks and the
//! share are the wallet's (`wallet_core::requests`, over the local API).

use std::rc::Rc;

use leptos::prelude::*;

use crate::api;
use crate::i18n::T;
use crate::model::{ApproveRequest, CreatedShare, OpenRequest, RequestDetail, RequestRow, human_time};
use crate::views::facility::{self, FacilityView};
use crate::views::receive::{Found, Scanner};
use crate::views::{Banner, QrCode, ctx, fetch, fetched};

/// The consent requests page.
#[component]
pub fn Requests() -> impl IntoView {
    let c = ctx();
    let version = RwSignal::new(0u32);
    let opened = RwSignal::new(None::<Result<RequestDetail, String>>);
    let answered = RwSignal::new(None::<Result<CreatedShare, String>>);
    let pasted = RwSignal::new(String::new());
    // A facility's counter card (Scan & Share), with its text.
    let card = RwSignal::new(None::<(String, crate::model::FacilityDetail)>);
    let open_text = move |text: String| {
        leptos::task::spawn_local(async move {
            if facility::is_facility_card(&text) {
                match facility::open(text.clone(), c.profile.get_untracked()).await {
                    Ok(detail) => {
                        opened.set(None);
                        card.set(Some((text, detail)));
                    }
                    Err(e) => opened.set(Some(Err(e))),
                }
                return;
            }
            card.set(None);
            let path = format!("/api/requests?{}", c.profile_query());
            let r = api::post::<_, RequestDetail>(&path, &OpenRequest { text }).await;
            if let Err(e) = &r {
                c.check_locked(e);
            }
            opened.set(Some(r.map_err(|e| e.message)));
            version.update(|v| *v += 1);
        });
    };
    let show = move |id: String| {
        leptos::task::spawn_local(async move {
            let path = format!("/api/requests/{}?{}", api::enc(&id), c.profile_query());
            opened.set(Some(
                api::get::<RequestDetail>(&path).await.map_err(|e| e.message),
            ));
            answered.set(None);
        });
    };
    let found: Found = Rc::new(move |r: Result<String, String>| match r {
        Ok(text) => open_text(text),
        Err(e) => opened.set(Some(Err(e))),
    });
    let list = fetch::<Vec<RequestRow>>(move || {
        version.get();
        "/api/requests".into()
    });
    let done = move |r: Result<CreatedShare, String>| {
        answered.set(Some(r));
        version.update(|v| *v += 1);
    };
    let denied = move || {
        opened.set(None);
        version.update(|v| *v += 1);
    };
    view! {
        <section class="requests">
            <h1>{move || c.t(T::requests)}</h1>
            {move || card.get().map(|(text, detail)| view! {
                <FacilityView text detail closed=move || card.set(None)/>
            })}
            {move || match (answered.get(), opened.get()) {
                (Some(Ok(created)), _) => Some(view! { <Answered created/> }.into_any()),
                (_, Some(Ok(detail))) => Some(view! {
                    <RequestView detail done denied error=answered.get().and_then(|r| r.err())/>
                }.into_any()),
                _ => None,
            }}
            // Scanning is on the page from the start (the camera keeps its
            // element), hidden while a request is shown.
            <div class="scan-request" class:hidden=move || matches!(opened.get(), Some(Ok(_))) || card.get().is_some()>
                <p class="muted">{move || c.t(T::scan_request_hint)}</p>
                <Scanner found/>
                <textarea rows="3" placeholder="AMANAT-REQUEST:…" data-testid="request-text" aria-label=move || c.t(T::requests)
                    on:input=move |ev| pasted.set(event_target_value(&ev))></textarea>
                <button data-testid="request-open" on:click=move |_| open_text(pasted.get_untracked())>{move || c.t(T::open_request)}</button>
                {move || opened.get().and_then(|r| r.err()).map(|e| view! { <Banner message=e ok=false/> })}
            </div>
            {fetched(list, move |rows| view! {
                <table data-testid="requests-table">
                    <thead><tr><th>{c.t(T::from)}</th><th>{c.t(T::why)}</th><th>{c.t(T::status)}</th><th>{c.t(T::received)}</th></tr></thead>
                    <tbody>
                        {rows.into_iter().map(|r| {
                            let id = r.id.clone();
                            view! {
                                <tr data-testid="request-row" data-request=r.id.clone()>
                                    <td><a href="#/requests" on:click=move |_| show(id.clone())>{r.from.clone()}</a>
                                        {r.listed_by.is_none().then(|| view! { <span class="unlisted">" ⚠"</span> })}</td>
                                    <td>{r.purpose.clone()}</td>
                                    <td class=format!("status {}", r.state) data-testid="request-state">{r.state.clone()}</td>
                                    <td>{human_time(r.received)}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            })}
        </section>
    }
}

/// One request: who asks (listed or not), what, the records it covers;
/// while it waits, the choices to give less, approve or deny.
#[component]
fn RequestView(
    detail: RequestDetail,
    /// Gets the share made on approval.
    done: impl Fn(Result<CreatedShare, String>) + Copy + Send + Sync + 'static,
    /// Called once it is denied.
    denied: impl Fn() + Copy + Send + Sync + 'static,
    /// Why the last approval failed, if it did.
    error: Option<String>,
) -> impl IntoView {
    let c = ctx();
    let r = detail.row.clone();
    let id = StoredValue::new(r.id.clone());
    let types = RwSignal::new(detail.types.clone());
    let since = RwSignal::new(detail.since.clone().unwrap_or_default());
    let seconds = RwSignal::new(detail.access);
    let busy = RwSignal::new(false);
    let approve = move |_| {
        busy.set(true);
        let body = ApproveRequest {
            profile: c.profile.get_untracked(),
            types: types.get_untracked(),
            since: Some(since.get_untracked()).filter(|s| !s.is_empty()),
            seconds: Some(seconds.get_untracked()),
            offline: false,
        };
        leptos::task::spawn_local(async move {
            let path = format!("/api/requests/{}/approve", api::enc(&id.get_value()));
            let r = api::post::<_, CreatedShare>(&path, &body).await;
            busy.set(false);
            done(r.map_err(|e| e.message));
        });
    };
    let deny = move |_| {
        leptos::task::spawn_local(async move {
            let path = format!("/api/requests/{}/deny", api::enc(&id.get_value()));
            if api::post::<_, RequestRow>(&path, &()).await.is_ok() {
                denied();
            }
        });
    };
    let durations: Vec<(i64, String)> = std::iter::once((detail.access, c.t(T::as_asked).to_string()))
        .chain(
            crate::views::share::DURATIONS
                .into_iter()
                .filter(|(s, _)| *s < detail.access)
                .map(|(s, key)| (s, c.t(key).to_string())),
        )
        .collect();
    let waiting = r.state == "requested";
    view! {
        <div class="request" data-testid="request">
            <h2>{r.from.clone()}</h2>
            {match r.listed_by.clone() {
                Some(registry) => view! { <p class="listed" data-testid="request-listed">"✔ " {c.t(T::listed_by)} " " {registry}</p> }.into_any(),
                None => view! { <p class="unlisted" data-testid="request-unlisted">"⚠ " {c.t(T::not_listed)} " · " {detail.key.clone()}</p> }.into_any(),
            }}
            <p class="sentence" data-testid="request-asked">{r.asked.clone()}</p>
            <p class="muted">{c.t(T::status)} ": " <b data-testid="request-status">{r.state.clone()}</b> " · " {c.t(T::answer_by)} " " {human_time(r.expires)}</p>
            <p class="muted" data-testid="request-matching">{c.count(detail.matching.len(), T::n_match_one, T::n_match)}</p>
            <ul class="request-records" data-testid="request-records">
                {detail.matching.iter().map(|m| view! { <li>{m.date.clone().map(|d| d.chars().take(10).collect::<String>()).unwrap_or_else(|| "—".into())} " · " {m.title.clone()}</li> }).collect_view()}
            </ul>
            {waiting.then(|| view! {
                <fieldset class="narrow">
                    <legend>{c.t(T::give_less)}</legend>
                    {detail.types.iter().map(|t| {
                        let (code, toggled) = (t.clone(), t.clone());
                        let toggle = move |_| types.update(|list| match list.iter().position(|x| *x == toggled) {
                            Some(i) => { list.remove(i); }
                            None => list.push(toggled.clone()),
                        });
                        view! { <label><input type="checkbox" data-testid="request-type" value=t.clone()
                            prop:checked=move || types.get().contains(&code) on:change=toggle/> {t.clone()}</label> }
                    }).collect_view()}
                    <label>{c.t(T::from)} <input type="date" data-testid="request-since" min=detail.since.clone().unwrap_or_default()
                        prop:value=move || since.get() on:change=move |ev| since.set(event_target_value(&ev))/></label>
                    <label>{c.t(T::how_long)}
                        <select data-testid="request-duration" on:change=move |ev| seconds.set(event_target_value(&ev).parse().unwrap_or(detail.access))>
                            {durations.into_iter().map(|(s, words)| view! { <option value=s.to_string()>{words}</option> }).collect_view()}
                        </select>
                    </label>
                </fieldset>
                <div class="actions">
                    <button data-testid="request-approve" disabled=move || busy.get() || types.get().is_empty() on:click=approve>{c.t(T::approve)}</button>
                    <button class="danger" data-testid="request-deny" on:click=deny>{c.t(T::deny)}</button>
                </div>
            })}
            {error.map(|e| view! { <Banner message=e ok=false/> })}
        </div>
    }
}

/// The approved answer: sent to the doctor's relay, or a QR code to show them.
#[component]
fn Answered(created: CreatedShare) -> impl IntoView {
    let c = ctx();
    let g = created.grant.clone();
    let sent = g.via != "offline";
    view! {
        <div class="share-result" data-testid="request-answered">
            <p class="sentence">{c.count(created.records.len(), T::shared_one, T::shared_n)} " · " {g.to.clone()}</p>
            {if sent {
                view! { <p data-testid="request-sent">{c.t(T::sent_to_relay)} " " {human_time(g.expires)}</p> }.into_any()
            } else {
                view! { <div><p>{c.t(T::show_to_doctor)}</p><QrCode text=created.link.clone()/></div> }.into_any()
            }}
        </div>
    }
}
