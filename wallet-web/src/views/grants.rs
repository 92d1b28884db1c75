//! The shares made: who, what, until when, how often opened; take them back.

use leptos::prelude::*;

use crate::api;
use crate::i18n::T;
use crate::model::{ShareRow, human_time};
use crate::views::{QrCode, ctx, fetch, fetched};

/// The shares page.
#[component]
pub fn Grants() -> impl IntoView {
    let c = ctx();
    let version = RwSignal::new(0u32);
    let shown = RwSignal::new(None::<String>);
    let data = fetch::<Vec<ShareRow>>(move || {
        version.get();
        "/api/grants".into()
    });
    let revoke = move |id: String| {
        leptos::task::spawn_local(async move {
            let _ = api::post::<_, ShareRow>(&format!("/api/grants/{}/revoke", api::enc(&id)), &()).await;
            version.update(|v| *v += 1);
        });
    };
    view! {
        <section class="grants">
            <h1>{move || c.t(T::grants)}</h1>
            {move || shown.get().map(|link| view! { <div class="popup"><QrCode text=link/><button on:click=move |_| shown.set(None)>{c.t(T::back)}</button></div> })}
            {fetched(data, move |list| view! {
                    <table data-testid="grants-table">
                        <thead><tr><th>{c.t(T::with_whom)}</th><th>{c.t(T::why)}</th><th>{c.t(T::records_count)}</th><th>{c.t(T::status)}</th><th>{c.t(T::uses)}</th><th>{c.t(T::to)}</th><th></th></tr></thead>
                        <tbody>
                            {list.into_iter().map(|g| {
                                let id = g.id.clone();
                                let link = g.link.clone().unwrap_or_default();
                                let uses = match g.max_uses { Some(m) => format!("{}/{m}", g.uses), None if g.via == "offline" => "offline".into(), None => g.uses.to_string() };
                                view! {
                                    <tr data-testid="grant-row" data-grant=g.id.clone()>
                                        <td>{g.to}</td><td>{g.purpose}</td><td>{g.records}</td>
                                        <td class=format!("status {}", g.status) data-testid="grant-status">{g.status.clone()}</td>
                                        <td>{uses}</td><td>{human_time(g.expires)}</td>
                                        <td>
                                            <button on:click=move |_| shown.set(Some(link.clone()))>"QR"</button>
                                            {(g.status == "active").then(|| view! {
                                                <button class="danger" data-testid="revoke" on:click=move |_| revoke(id.clone())>{c.t(T::revoke)}</button>
                                            })}
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
            })}
        </section>
    }
}
