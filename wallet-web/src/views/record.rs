//! One record: its facts, a PDF or image if it carries one, and the FHIR itself.

use base64::Engine;
use leptos::prelude::*;

use crate::i18n::T;
use crate::model::RecordDetail;
use crate::views::outline::DocumentOutline;
use crate::views::{ctx, fetch_once, fetched};
use crate::{Route, api};

/// The record page.
#[component]
pub fn RecordPage(
    /// Record id.
    id: String,
) -> impl IntoView {
    let c = ctx();
    let url = format!("/api/records/{}", api::enc(&id));
    let data = fetch_once::<RecordDetail>(url.clone());
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
            if api::delete::<crate::model::Deleted>(&url).await.is_ok() {
                c.changed.update(|n| *n += 1);
                c.go(Route::Timeline);
            }
        });
    };
    fetched(data, move |r| {
        let attachment = r.attachment.clone().and_then(|a| {
                let bytes = base64::engine::general_purpose::STANDARD.decode(a.data.as_bytes()).ok()?;
                let title = a.title.unwrap_or_default();
                Some(match Shown::of(a.content_type.as_deref(), &bytes) {
                    Shown::Image(mime) => {
                        let url = api::object_url(&bytes, mime)?;
                        view! { <img class="attachment" src=url alt=title data-testid="attachment"/> }.into_any()
                    }
                    Shown::Pdf => {
                        let url = api::object_url(&bytes, "application/pdf")?;
                        view! {
                            <iframe class="attachment" src=url title=title sandbox="allow-scripts" data-testid="attachment"></iframe>
                        }
                        .into_any()
                    }
                    Shown::Download => {
                        let url = api::object_url(&bytes, "application/octet-stream")?;
                        let name = if title.is_empty() { "attachment".to_string() } else { title };
                        view! {
                            <p><a href=url download=name data-testid="attachment-download">{c.t(T::download_attachment)}</a></p>
                        }
                        .into_any()
                    }
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
                <p><a href=Route::Timeline.href()>{c.t(T::back)}</a></p>
                <h1>{r.about.title.clone()}</h1>
                <dl>
                    <dt>{c.t(T::date)}</dt><dd>{r.about.date.clone().unwrap_or_else(|| "—".into())}</dd>
                    <dt>{c.t(T::record_type)}</dt><dd>{format!("{} · ABDM {}", r.about.resource_type, r.about.hi_type)}</dd>
                    {r.about.status.clone().map(|s| view! { <dt>{c.t(T::status)}</dt><dd>{s}</dd> })}
                    <dt>"Source"</dt><dd>{r.about.source.clone()}</dd>
                    <dt>"SHA-256"</dt><dd class="mono">{r.sha256.clone()}</dd>
                    {r.about.document.clone().map(|doc| view! {
                        <dt>{c.t(T::in_document)}</dt>
                        <dd><a href=Route::Record(doc).href() data-testid="part-of">{c.t(T::in_document)}</a></dd>
                    })}
                </dl>
                {r.outline.clone().map(|outline| view! { <DocumentOutline outline/> })}
                {attachment}
                <details><summary>"FHIR"</summary><pre data-testid="fhir-json">{serde_json::to_string_pretty(&shown).unwrap_or_default()}</pre></details>
                <button class="danger" on:click=delete.clone()>{c.t(T::delete)}</button>
            </article>
        }
    })
}

/// How an attachment is shown. A record's `contentType` is whatever the file
/// that brought it said, so it is not trusted: a `text/html` "attachment" in a
/// frame of the wallet's own origin would run its scripts with the wallet's
/// rights. Images (raster formats only) are shown as images; a PDF (its bytes
/// say so too) in a frame whose sandbox gives it an origin of its own (so
/// nothing in it can reach the wallet's page or API; the browser's PDF viewer
/// needs scripts); anything else is offered as a download, typed as plain bytes.
enum Shown {
    Image(&'static str),
    Pdf,
    Download,
}

impl Shown {
    fn of(content_type: Option<&str>, bytes: &[u8]) -> Shown {
        let mime = content_type
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        match mime.as_str() {
            "image/png" => Shown::Image("image/png"),
            "image/jpeg" => Shown::Image("image/jpeg"),
            "image/gif" => Shown::Image("image/gif"),
            "image/webp" => Shown::Image("image/webp"),
            "application/pdf" if bytes.starts_with(b"%PDF-") => Shown::Pdf,
            _ => Shown::Download,
        }
    }
}
