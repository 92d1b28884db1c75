//! Adding records: drop files (FHIR JSON, PDF, JPEG, PNG, backups) or choose them.

use leptos::prelude::*;
use serde_json::Value;
use wasm_bindgen::JsCast;

use crate::api;
use crate::i18n::T;
use crate::views::ctx;

/// One file's outcome.
#[derive(Clone, PartialEq)]
struct Outcome {
    name: String,
    ok: bool,
    text: String,
}

/// The import page.
#[component]
pub fn Import() -> impl IntoView {
    let c = ctx();
    let outcomes = RwSignal::new(Vec::<Outcome>::new());
    let progress = RwSignal::new(None::<(usize, usize)>);
    let hover = RwSignal::new(false);
    let upload = move |files: Vec<web_sys::File>| {
        let total = files.len();
        progress.set(Some((0, total)));
        let q = c.profile_query();
        leptos::task::spawn_local(async move {
            for (i, file) in files.into_iter().enumerate() {
                let name = file.name();
                let result = api::upload::<Value>(&format!("/api/import?{q}"), &file).await;
                let outcome = match result {
                    Ok(v) => Outcome {
                        name,
                        ok: true,
                        text: format!(
                            "{} {}, {} {}",
                            v["added"],
                            c.t(T::added),
                            v["duplicates"],
                            c.t(T::already)
                        ),
                    },
                    Err(e) => {
                        c.check_locked(&e);
                        Outcome {
                            name,
                            ok: false,
                            text: e.message,
                        }
                    }
                };
                outcomes.update(|o| o.push(outcome));
                progress.set(Some((i + 1, total)));
            }
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
                        accept=".json,application/json,application/fhir+json,application/pdf,image/jpeg,image/png,.age"
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
            <ul class="outcomes" data-testid="import-results">
                {move || outcomes.get().into_iter().map(|o| view! {
                    <li class=if o.ok { "ok" } else { "error" }><strong>{o.name}</strong> ": " {o.text}</li>
                }).collect_view()}
            </ul>
        </section>
    }
}
