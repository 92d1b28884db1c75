//! The audit log: everything that touched the wallet, and a check of its chain.

use leptos::prelude::*;

use crate::api;
use crate::model::{AuditRow, human_time};
use crate::views::{Banner, ctx};

/// The activity page.
#[component]
pub fn Audit() -> impl IntoView {
    let c = ctx();
    let data = RwSignal::new(None::<Result<Vec<AuditRow>, String>>);
    let verdict = RwSignal::new(None::<(bool, String)>);
    leptos::task::spawn_local(async move {
        data.set(Some(
            api::get::<Vec<AuditRow>>("/api/audit")
                .await
                .map_err(|e| e.message),
        ));
    });
    let verify = move |_| {
        leptos::task::spawn_local(async move {
            let v = api::get::<serde_json::Value>("/api/audit/verify").await;
            verdict.set(Some(match v {
                Ok(v) if v["intact"] == true => (
                    true,
                    format!(
                        "Intact: {} entries, every link of the chain verified.",
                        v["entries"]
                    ),
                ),
                Ok(v) => (false, v["error"].as_str().unwrap_or("broken").to_string()),
                Err(e) => (false, e.message),
            }));
        });
    };
    let who = |actor: &Option<serde_json::Value>| -> String {
        match actor {
            Some(a) => match a.get("kind").and_then(|k| k.as_str()) {
                Some("patient") => "you".into(),
                Some("plugin") => format!("plugin {}", a["name"].as_str().unwrap_or("")),
                Some("recipient") => a["who"].as_str().unwrap_or("recipient").to_string(),
                _ => String::new(),
            },
            None => String::new(),
        }
    };
    view! {
        <section class="audit">
            <h1>{move || c.t("audit")}</h1>
            <button data-testid="verify-audit" on:click=verify>{move || c.t("verify")}</button>
            {move || verdict.get().map(|(ok, m)| view! { <Banner message=m ok=ok/> })}
            {move || match data.get() {
                None => view! { <p class="loading">{c.t("loading")}</p> }.into_any(),
                Some(Err(e)) => view! { <Banner message=e ok=false/> }.into_any(),
                Some(Ok(rows)) => view! {
                    <table data-testid="audit-table">
                        <thead><tr><th>"#"</th><th>{c.t("when")}</th><th>{c.t("who")}</th><th>{c.t("title")}</th></tr></thead>
                        <tbody>
                            {rows.into_iter().rev().map(|r| view! {
                                <tr>
                                    <td>{r.seq.map(|s| s.to_string()).unwrap_or_default()}</td>
                                    <td>{r.time.map(human_time).unwrap_or_default()}</td>
                                    <td>{who(&r.actor)}</td>
                                    <td>{r.what.or(r.error).unwrap_or_default()}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
            }}
        </section>
    }
}
