//! The patient summary: problems, allergies, medicines, vaccinations, the latest
//! results and measurements with small trend charts.

use leptos::prelude::*;

use crate::charts::TrendChart;
use crate::i18n::T;
use crate::model::{Flag, Item, Latest, PrintSummary, SummaryOf};
use crate::views::{PdfLinks, ctx, fetch, fetched, keep_pdf};
use crate::{Route, api};

fn section(title: &'static str, items: Vec<Item>, none: &'static str, testid: &'static str) -> impl IntoView {
    view! {
        <section class="card" data-testid=testid>
            <h2>{title}</h2>
            {if items.is_empty() {
                view! { <p class="muted">{none}</p> }.into_any()
            } else {
                view! {
                    <ul>
                        {items.into_iter().map(|i| view! {
                            <li><a href=Route::Record(i.id.clone()).href()>{i.title}</a>
                                <span class="date">{i.date.map(|d| d.chars().take(10).collect::<String>()).unwrap_or_default()}</span></li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

fn latest(title: &'static str, rows: Vec<Latest>, none: &'static str, testid: &'static str) -> impl IntoView {
    let c = ctx();
    view! {
        <section class="card wide" data-testid=testid>
            <h2>{title}</h2>
            {if rows.is_empty() { Some(view! { <p class="muted">{none}</p> }) } else { None }}
            <div class="latest">
                {rows.into_iter().map(|l| {
                    let flag = l.flag.map(Flag::as_str).unwrap_or_default();
                    let flag_text = match l.flag {
                        Some(Flag::High) => c.t(T::high),
                        Some(Flag::Low) => c.t(T::low),
                        Some(Flag::Normal) => c.t(T::normal),
                        None => "",
                    };
                    view! {
                        <a class="measure" href=Route::Trend(l.code.clone()).href() data-testid="latest">
                            <span class="label">{l.label.clone()}</span>
                            <span class=format!("value {flag}")>{l.value.clone()}</span>
                            <span class=format!("flag {flag}")>{flag_text}</span>
                            <TrendChart points=l.trend.clone() low=l.low high=l.high label=l.label.clone() small=true/>
                            <span class="date">{l.date.map(|d| d.chars().take(10).collect::<String>()).unwrap_or_default()}</span>
                        </a>
                    }
                }).collect_view()}
            </div>
        </section>
    }
}

/// Print: the summary as a PDF (made by the wallet, as `amanat summary
/// --pdf` makes it) in the page's language, with the QR code of a new share.
#[component]
fn Print() -> impl IntoView {
    let c = ctx();
    let relay = RwSignal::new(String::new());
    let pdf = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let make = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        leptos::task::spawn_local(async move {
            let body = PrintSummary {
                profile: c.profile.get_untracked(),
                lang: c.lang.get_untracked(),
                relay: Some(relay.get_untracked()).filter(|r| !r.trim().is_empty()),
                seconds: None,
            };
            match api::post_for_bytes("/api/summary/pdf", &body).await {
                Ok(bytes) => {
                    error.set(None);
                    keep_pdf(pdf, &bytes);
                }
                Err(e) => error.set(Some(e.message)),
            }
            busy.set(false);
        });
    };
    view! {
        <form class="card print" data-testid="print" on:submit=make>
            <h2>{move || c.t(T::print)}</h2>
            <p class="muted">{move || c.t(T::print_hint)}</p>
            <input type="url" placeholder="https://relay.example" data-testid="print-relay" aria-label=move || c.t(T::relay_address)
                on:input=move |ev| relay.set(event_target_value(&ev))/>
            <button type="submit" data-testid="print-make" prop:disabled=busy>{move || c.t(T::make_pdf)}</button>
            {move || error.get().map(|e| view! { <p class="banner error" role="alert" data-testid="print-error">{e}</p> })}
            {move || pdf.get().map(|url| view! { <PdfLinks url=url name="amanat-summary.pdf" testid="summary-pdf"/> })}
        </form>
    }
}

/// The summary page.
#[component]
pub fn Dashboard() -> impl IntoView {
    let c = ctx();
    let data = fetch::<SummaryOf>(move || {
        c.changed.get();
        format!("/api/summary?{}", c.profile_query())
    });
    fetched(data, move |r| {
        crate::mark_ready("amanat:dashboard-ready");
        let p = r.profile;
        let s = r.summary;
        let details = [
            p.birth_date
                .clone()
                .map(|b| format!("{b} ({} y)", p.age.unwrap_or_default())),
            p.cnic.clone().map(|x| format!("CNIC {x}")),
            p.abha_number.clone().map(|x| format!("ABHA {x}")),
            p.phone.clone(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ");
        view! {
            <div class="dashboard">
                <header class="patient">
                    <h1 data-testid="patient-name">{p.name.clone()}</h1>
                    <p class="muted">{details} " · " {c.count(s.records, T::n_records_one, T::n_records)}</p>
                    <a class="button" href=Route::Import.href() data-testid="add-reading">"+ " {c.t(T::add_reading)}</a>
                    " "
                    <a class="button" href=Route::Emergency.href() data-testid="emergency-link">{c.t(T::emergency_card)}</a>
                </header>
                <div class="grid">
                    {section(c.t(T::problems), s.problems, c.t(T::none), "problems")}
                    {section(c.t(T::allergies), s.allergies, c.t(T::none), "allergies")}
                    {section(c.t(T::medications), s.medications, c.t(T::none), "medications")}
                    {section(c.t(T::immunizations), s.immunizations, c.t(T::none), "immunizations")}
                </div>
                {latest(c.t(T::results), s.results, c.t(T::none), "results")}
                {latest(c.t(T::vitals), s.vitals, c.t(T::none), "vitals")}
                <Print/>
            </div>
        }
    })
}
