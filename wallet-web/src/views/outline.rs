//! A FHIR document as a person reads it (who wrote it, where, its sections
//! with their entries): the same on the patient's record page and in the
//! doctor's view of a share.

use leptos::prelude::*;
use wallet_core::fhir::document::Outline;

use crate::i18n::T;
use crate::views::ctx;

/// A document's authors, facility and sections.
#[component]
pub fn DocumentOutline(
    /// The document, read ([`wallet_core::fhir::document::outline`]).
    outline: Outline,
) -> impl IntoView {
    let c = ctx();
    let facts = [
        (
            T::written_by,
            (!outline.authors.is_empty()).then(|| outline.authors.join(", ")),
        ),
        (T::facility, outline.facility.clone()),
    ];
    view! {
        <div class="outline" data-testid="document-outline">
            <dl>
                {facts.into_iter().filter_map(|(k, v)| v.map(|v| view! { <dt>{c.t(k)}</dt><dd>{v}</dd> })).collect_view()}
            </dl>
            {outline.sections.into_iter().map(|s| view! {
                <section>
                    <h3>{s.title}</h3>
                    <ul>
                        {s.entries.into_iter().map(|e| view! {
                            <li data-testid="document-entry">{e.title}
                                {(!e.results.is_empty()).then(|| view! {
                                    <ul>{e.results.into_iter().map(|r| view! { <li>{r}</li> }).collect_view()}</ul>
                                })}
                            </li>
                        }).collect_view()}
                    </ul>
                </section>
            }).collect_view()}
        </div>
    }
}
