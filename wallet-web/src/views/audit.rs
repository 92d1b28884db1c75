//! The audit log: everything that touched the wallet, and a check of its chain.

use leptos::prelude::*;

use crate::api;
use crate::i18n::T;
use crate::model::{AuditCheck, AuditRow, human_time};
use crate::views::{Banner, ctx, fetch, fetched};

/// The activity page.
#[component]
pub fn Audit() -> impl IntoView {
    let c = ctx();
    let verdict = RwSignal::new(None::<(bool, String)>);
    // The wallet words the log in the reader's language: ask again when it changes.
    let data = fetch::<Vec<AuditRow>>(move || format!("/api/audit?lang={}", c.lang.get().code()));
    let verify = move |_| {
        leptos::task::spawn_local(async move {
            let v = api::get::<AuditCheck>("/api/audit/verify").await;
            verdict.set(Some(match v {
                Ok(AuditCheck {
                    intact: true,
                    entries,
                    ..
                }) => (
                    true,
                    c.count(
                        entries.unwrap_or_default() as usize,
                        T::audit_intact_one,
                        T::audit_intact,
                    ),
                ),
                Ok(v) => (false, v.error.unwrap_or_else(|| "broken".into())),
                Err(e) => (false, e.message),
            }));
        });
    };
    view! {
        <section class="audit">
            <h1>{move || c.t(T::audit)}</h1>
            <button data-testid="verify-audit" on:click=verify>{move || c.t(T::verify)}</button>
            {move || verdict.get().map(|(ok, m)| view! { <Banner message=m ok=ok/> })}
            {fetched(data, move |rows| view! {
                    <table data-testid="audit-table">
                        <thead><tr><th>"#"</th><th>{c.t(T::when)}</th><th>{c.t(T::who)}</th><th>{c.t(T::title)}</th></tr></thead>
                        <tbody>
                            {rows.into_iter().rev().map(|r| view! {
                                <tr>
                                    <td>{r.seq.map(|s| s.to_string()).unwrap_or_default()}</td>
                                    <td>{r.time.map(human_time).unwrap_or_default()}</td>
                                    <td>{r.who}</td>
                                    <td>{r.what}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
            })}
        </section>
    }
}
