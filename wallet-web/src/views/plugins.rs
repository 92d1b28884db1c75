//! Installed plugins: what they may do, in plain words; run an action; confirm
//! the records it proposes.

use base64::Engine;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::api;
use crate::i18n::T;
use crate::model::{Discarded, PluginRow, PluginRun, RunPlugin, Saved};
use crate::views::{Banner, ctx, fetch_once, fetched};

/// The plugins page.
#[component]
pub fn Plugins() -> impl IntoView {
    let c = ctx();
    let data = fetch_once::<Vec<PluginRow>>("/api/plugins".into());
    let run = RwSignal::new(None::<Result<PluginRun, String>>);
    let saved = RwSignal::new(None::<(bool, String)>);
    let start = move |plugin: String, action: String, form: web_sys::HtmlFormElement| {
        saved.set(None);
        let records: Vec<String> = form
            .elements()
            .named_item("records")
            .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
            .map(|i| i.value())
            .unwrap_or_default()
            .split([',', ' '])
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .chain(c.chosen.get_untracked())
            .collect();
        let file = form
            .elements()
            .named_item("file")
            .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
            .and_then(|i| i.files())
            .and_then(|f| f.get(0));
        leptos::task::spawn_local(async move {
            let mut body = RunPlugin {
                action,
                records,
                profile: c.profile.get_untracked(),
                ..RunPlugin::default()
            };
            if let Some(file) = file {
                let Ok(buffer) = wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await else {
                    run.set(Some(Err(format!("Could not read the file {}.", file.name()))));
                    return;
                };
                let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
                body.file_name = Some(file.name());
                body.file_base64 = Some(base64::engine::general_purpose::STANDARD.encode(bytes));
            }
            let r =
                api::post::<_, PluginRun>(&format!("/api/plugins/{}/run", api::enc(&plugin)), &body).await;
            run.set(Some(r.map_err(|e| e.message)));
        });
    };
    // A report about someone else is kept pending and said so; the patient
    // may save it anyway (it is theirs) or discard it.
    let mismatch = RwSignal::new(None::<String>);
    let save = move |id: String, anyway: bool| {
        leptos::task::spawn_local(async move {
            let also = if anyway { "?accept_mismatch=true" } else { "" };
            match api::post::<_, Saved>(&format!("/api/plugin-runs/{}{also}", api::enc(&id)), &()).await {
                Ok(v) => saved.set(Some((true, format!("Saved {} record(s).", v.added)))),
                Err(e) if e.code == "patient mismatch" => {
                    mismatch.set(Some(e.message));
                    return;
                }
                Err(e) => saved.set(Some((false, e.message))),
            }
            mismatch.set(None);
            run.set(None);
            c.changed.update(|n| *n += 1);
        });
    };
    // Proposed records wait on the server until saved or discarded; say which.
    let discard = move |id: String| {
        leptos::task::spawn_local(async move {
            if let Err(e) = api::delete::<Discarded>(&format!("/api/plugin-runs/{}", api::enc(&id))).await {
                saved.set(Some((false, e.message)));
            }
            mismatch.set(None);
            run.set(None);
        });
    };
    view! {
        <section class="plugins">
            <h1>{move || c.t(T::plugins)}</h1>
            <p class="muted">"Install plugins from the command line: amanat plugin install FILE"</p>
            {move || saved.get().map(|(ok, m)| view! { <Banner message=m ok=ok/> })}
            {move || run.get().map(|r| match r {
                Err(e) => view! { <Banner message=e ok=false/> }.into_any(),
                Ok(r) => {
                    let (id, anyway_id, discard_id) = (r.run_id.clone(), r.run_id.clone(), r.run_id.clone());
                    view! {
                        <div class="run-result" data-testid="plugin-result">
                            <p>{r.message.clone()}</p>
                            <ul>{r.proposed.iter().map(|p| view! { <li>{format!("{}: {}", p.resource_type, p.title)}
                                {p.signed.then(|| view! { " " <span class="listed" data-testid="proposal-signed">{c.t(T::signed_by_publisher)}</span> })}</li> }).collect_view()}</ul>
                            {move || mismatch.get().map(|m| view! { <Banner message=m ok=false/> })}
                            {(!r.proposed.is_empty()).then(|| view! {
                                <button data-testid="plugin-save" on:click=move |_| save(id.clone(), false)>{c.t(T::save)}</button>
                                {move || mismatch.get().is_some().then(|| {
                                    let id = anyway_id.clone();
                                    view! { <button data-testid="plugin-save-anyway" on:click=move |_| save(id.clone(), true)>{c.t(T::save_anyway)}</button> }
                                })}
                                <button on:click=move |_| discard(discard_id.clone())>{c.t(T::discard)}</button>
                            })}
                        </div>
                    }.into_any()
                }
            })}
            {fetched(data, move |list| if list.is_empty() {
                view! { <p class="muted">{c.t(T::none)}</p> }.into_any()
            } else {
                list.into_iter().map(|p| {
                    let name = p.name.clone();
                    view! {
                        <article class="card plugin" data-testid="plugin-card">
                            <h2>{p.name.clone()} " " <small>{p.version.clone()}</small></h2>
                            <p>{p.description.clone()}</p>
                            <p class=if p.publisher_vouched { "muted" } else { "warning" } data-testid="plugin-publisher">
                                {p.publisher_words.clone()}
                            </p>
                            <h3>{c.t(T::allowed_to)}</h3>
                            <ul>{p.permissions.iter().map(|line| view! { <li>{line.clone()}</li> }).collect_view()}</ul>
                            {p.actions.into_iter().map(|a| {
                                let (plugin, action) = (name.clone(), a.name.clone());
                                view! {
                                    <form class="action" on:submit=move |ev: leptos::ev::SubmitEvent| {
                                        ev.prevent_default();
                                        if let Some(form) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok()) {
                                            start(plugin.clone(), action.clone(), form);
                                        }
                                    }>
                                        <strong>{a.name.clone()}</strong> " — " {a.description.clone()}
                                        {a.takes_file.then(|| view! { <label>{c.t(T::file)} <input type="file" name="file" data-testid="plugin-file"/></label> })}
                                        {a.takes_records.then(|| view! { <label>{c.t(T::record_ids)} <input name="records" placeholder="k3vq8m, 7hx2pd"/></label> })}
                                        <button type="submit" data-testid="plugin-run">{c.t(T::run)}</button>
                                    </form>
                                }
                            }).collect_view()}
                        </article>
                    }
                }).collect_view().into_any()
            })}
        </section>
    }
}
