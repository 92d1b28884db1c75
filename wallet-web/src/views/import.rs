//! Adding records: drop files (FHIR JSON, PDF, JPEG, PNG, backups) or choose them.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::api;
use crate::i18n::T;
use crate::model::Imported;
use crate::views::ctx;

/// What the patient may do about a file's outcome.
#[derive(Clone, PartialEq)]
enum Offer {
    /// The file is about someone else: import it anyway (it is theirs).
    Mismatch,
    /// The profile is blank: fill it from the file's patient (as described).
    Fill(String),
    /// A pharmacy plugin warns of an allergy to a signed prescription: save
    /// it anyway (the doctor said so).
    Allergy,
}

/// One file's outcome.
#[derive(Clone, PartialEq)]
struct Outcome {
    name: String,
    ok: bool,
    text: String,
    offer: Option<Offer>,
}

/// Sends one file to the wallet, with `also` (`&accept_mismatch=true`, …)
/// after the profile in the query; says how it went.
async fn send(c: crate::Ctx, file: &web_sys::File, query: &str, also: &str) -> Outcome {
    let name = file.name();
    match api::upload::<Imported>(&format!("/api/import?{query}{also}"), file).await {
        Ok(v) => {
            let mut text = format!(
                "{} {}, {} {}",
                v.added,
                c.t(T::added),
                v.duplicates,
                c.t(T::already)
            );
            if let Some(filled) = &v.filled {
                text = format!("{text}. {}: {filled}", c.t(T::profile_filled));
            }
            for check in &v.checks {
                text = format!("{text}. {check}");
            }
            Outcome {
                name,
                ok: true,
                text,
                offer: v.fill_offer.map(Offer::Fill),
            }
        }
        Err(e) => {
            c.check_locked(&e);
            // The file's name is shown once, before the outcome.
            let text = e
                .message
                .strip_prefix(&format!("{name}: "))
                .unwrap_or(&e.message)
                .to_string();
            Outcome {
                name,
                ok: false,
                offer: match e.code.as_str() {
                    "patient mismatch" => Some(Offer::Mismatch),
                    "pharmacy warning" => Some(Offer::Allergy),
                    _ => None,
                },
                text,
            }
        }
    }
}

/// The import page.
#[component]
pub fn Import() -> impl IntoView {
    let c = ctx();
    let outcomes = RwSignal::new(Vec::<Outcome>::new());
    // The files behind the outcomes, in their order, for a second try.
    let files = StoredValue::new_local(Vec::<web_sys::File>::new());
    let progress = RwSignal::new(None::<(usize, usize)>);
    let hover = RwSignal::new(false);
    let list = NodeRef::<leptos::html::Ul>::new();
    // Brings outcome `i` into view once drawn: on a phone the list is below
    // the fold, and an outcome may ask the patient something (a pharmacy's
    // warning, a file about someone else).
    let show = move |i: usize| {
        request_animation_frame(move || {
            let item = list.get_untracked().and_then(|ul| ul.children().item(i as u32));
            if let Some(item) = item {
                let options = web_sys::ScrollIntoViewOptions::new();
                options.set_block(web_sys::ScrollLogicalPosition::Nearest);
                item.scroll_into_view_with_scroll_into_view_options(&options);
            }
        })
    };
    let upload = move |chosen: Vec<web_sys::File>| {
        let total = chosen.len();
        progress.set(Some((0, total)));
        let q = c.profile_query();
        leptos::task::spawn_local(async move {
            for (i, file) in chosen.into_iter().enumerate() {
                let outcome = send(c, &file, &q, "").await;
                files.update_value(|f| f.push(file));
                outcomes.update(|o| o.push(outcome));
                show(outcomes.with_untracked(Vec::len) - 1);
                progress.set(Some((i + 1, total)));
            }
            c.changed.update(|n| *n += 1);
            c.refresh_status();
        });
    };
    // The patient's answer to an offer: the same file again, with their word.
    let answer = move |index: usize, also: &'static str| {
        let Some(file) = files.with_value(|f| f.get(index).cloned()) else {
            return;
        };
        let q = c.profile_query();
        leptos::task::spawn_local(async move {
            let outcome = send(c, &file, &q, also).await;
            outcomes.update(|o| {
                if let Some(slot) = o.get_mut(index) {
                    *slot = outcome;
                }
            });
            show(index);
            c.changed.update(|n| *n += 1);
            c.refresh_status();
        });
    };
    let from_list = |list: Option<web_sys::FileList>| -> Vec<web_sys::File> {
        let Some(list) = list else { return Vec::new() };
        (0..list.length()).filter_map(|i| list.get(i)).collect()
    };
    view! {
        <section class="import">
            <h1>{move || c.t(T::import)}</h1>
            <super::reading::ReadingForm/>
            <div class="dropzone" class:hover=move || hover.get() data-testid="dropzone"
                on:dragover=move |ev: leptos::ev::DragEvent| { ev.prevent_default(); hover.set(true); }
                on:dragleave=move |_| hover.set(false)
                on:drop=move |ev: leptos::ev::DragEvent| {
                    ev.prevent_default();
                    hover.set(false);
                    upload(from_list(ev.data_transfer().and_then(|d| d.files())));
                }>
                <p>{move || c.t(T::drop_here)}</p>
                <label>{move || c.t(T::choose_files)}
                    <input type="file" multiple data-testid="import-input"
                        accept=".json,application/json,application/fhir+json,application/pdf,image/jpeg,image/png,.age,.smart-health-card,.txt"
                        on:change=move |ev| {
                            let input: web_sys::HtmlInputElement = ev.target().and_then(|t| t.dyn_into().ok()).expect("file input");
                            upload(from_list(input.files()));
                            // So choosing the same file again is seen as a change.
                            input.set_value("");
                        }/>
                </label>
            </div>
            {move || progress.get().map(|(done, total)| view! {
                <progress max=total value=done data-testid="import-progress"></progress>
                <span>{done} " / " {total}</span>
            })}
            <ul class="outcomes" data-testid="import-results" node_ref=list>
                {move || outcomes.get().into_iter().enumerate().map(|(i, o)| view! {
                    <li class=if o.ok { "ok" } else { "error" }><strong>{o.name}</strong> ": " {o.text}
                        {match o.offer {
                            Some(Offer::Mismatch) => Some(view! {
                                " " <button type="button" data-testid="import-anyway" on:click=move |_| answer(i, "&accept_mismatch=true")>{c.t(T::import_anyway)}</button>
                            }.into_any()),
                            Some(Offer::Fill(who)) => Some(view! {
                                <p>{c.t(T::fill_offer)} " " <strong>{who}</strong> " "
                                <button type="button" data-testid="fill-profile" on:click=move |_| answer(i, "&fill_profile=true")>{c.t(T::fill_profile)}</button></p>
                            }.into_any()),
                            Some(Offer::Allergy) => Some(view! {
                                " " <button type="button" class="danger" data-testid="save-anyway" on:click=move |_| answer(i, "&accept_warnings=true")>{c.t(T::save_despite_warning)}</button>
                            }.into_any()),
                            None => None,
                        }}
                    </li>
                }).collect_view()}
            </ul>
        </section>
    }
}
