//! One record: its facts, a PDF or image if it carries one, and the FHIR itself.

use base64::Engine;
use leptos::prelude::*;

use crate::model::RecordDetail;
use crate::views::{Banner, ctx};
use crate::{Route, api};

/// The record page.
#[component]
pub fn RecordPage(
    /// Record id.
    id: String,
) -> impl IntoView {
    let c = ctx();
    let data = RwSignal::new(None::<Result<RecordDetail, String>>);
    let url = format!("/api/records/{}", api::enc(&id));
    {
        let url = url.clone();
        leptos::task::spawn_local(async move {
            let r = api::get::<RecordDetail>(&url).await;
            if let Err(e) = &r {
                c.check_locked(e);
            }
            data.set(Some(r.map_err(|e| e.message)));
        });
    }
    let delete = move |_| {
        let url = url.clone();
        let confirmed = web_sys::window()
            .and_then(|w| {
                w.confirm_with_message("Delete this record? This cannot be undone.")
                    .ok()
            })
            .unwrap_or(false);
        if !confirmed {
            return;
        }
        leptos::task::spawn_local(async move {
            if api::delete::<serde_json::Value>(&url).await.is_ok() {
                c.changed.update(|n| *n += 1);
                c.go(Route::Timeline);
            }
        });
    };
    move || match data.get() {
        None => view! { <p class="loading">{c.t("loading")}</p> }.into_any(),
        Some(Err(e)) => view! { <Banner message=e ok=false/> }.into_any(),
        Some(Ok(r)) => {
            let attachment = r.attachment.clone().and_then(|a| {
                let bytes = base64::engine::general_purpose::STANDARD.decode(a.data.as_bytes()).ok()?;
                let mime = a.content_type.clone().unwrap_or_else(|| "application/octet-stream".into());
                let url = api::object_url(&bytes, &mime)?;
                Some(if mime.starts_with("image/") {
                    view! { <img class="attachment" src=url alt=a.title.unwrap_or_default() data-testid="attachment"/> }.into_any()
                } else {
                    view! { <iframe class="attachment" src=url title=a.title.unwrap_or_default() data-testid="attachment"></iframe> }.into_any()
                })
            });
            let mut shown = r.resource.clone();
            if let Some(content) = shown.get_mut("content").and_then(|c| c.as_array_mut()) {
                for item in content {
                    if let Some(a) = item.get_mut("attachment").and_then(|a| a.as_object_mut()) {
                        a.insert("data".into(), serde_json::Value::String("…".into()));
                    }
                }
            }
            view! {
                <article class="record" data-testid="record">
                    <p><a href=Route::Timeline.href()>{c.t("back")}</a></p>
                    <h1>{r.title.clone()}</h1>
                    <dl>
                        <dt>{c.t("date")}</dt><dd>{r.date.clone().unwrap_or_else(|| "—".into())}</dd>
                        <dt>{c.t("type")}</dt><dd>{format!("{} · ABDM {}", r.resource_type, r.hi_type)}</dd>
                        {r.status.clone().map(|s| view! { <dt>{c.t("status")}</dt><dd>{s}</dd> })}
                        <dt>"Source"</dt><dd>{r.source.clone()}</dd>
                        <dt>"SHA-256"</dt><dd class="mono">{r.sha256.clone()}</dd>
                    </dl>
                    {attachment}
                    <details><summary>"FHIR"</summary><pre data-testid="fhir-json">{serde_json::to_string_pretty(&shown).unwrap_or_default()}</pre></details>
                    <button class="danger" on:click=delete.clone()>{c.t("delete")}</button>
                </article>
            }
            .into_any()
        }
    }
}
