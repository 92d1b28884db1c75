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
                    c.t("audit_intact").replace("{n}", &v["entries"].to_string()),
                ),
                Ok(v) => (false, v["error"].as_str().unwrap_or("broken").to_string()),
                Err(e) => (false, e.message),
            }));
        });
    };
    let who = move |actor: &Option<serde_json::Value>| -> String {
        match actor {
            Some(a) => match a.get("kind").and_then(|k| k.as_str()) {
                Some("patient") => c.t("actor_you").into(),
                Some("plugin") => c
                    .t("actor_plugin")
                    .replace("{name}", a["name"].as_str().unwrap_or("")),
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
                                    <td>{describe(c, &r)}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
            }}
        </section>
    }
}

/// An entry in the reader's language, from its event: the kind's template with
/// each `{field}` filled in (times as dates, purposes in words). Kinds this page
/// does not know keep the server's English.
fn describe(c: crate::Ctx, row: &AuditRow) -> String {
    let fallback = || row.what.clone().or_else(|| row.error.clone()).unwrap_or_default();
    let Some(event) = row.event.as_ref().and_then(|e| e.as_object()) else {
        return fallback();
    };
    let Some(kind) = event.get("event").and_then(|k| k.as_str()) else {
        return fallback();
    };
    let template = c.t(&format!("ev_{kind}"));
    if template == "?" {
        return fallback();
    }
    let mut text = template.to_string();
    for (field, value) in event {
        let shown = match (field.as_str(), value) {
            ("expires" | "at", serde_json::Value::Number(n)) => {
                n.as_i64().map(human_time).unwrap_or_default()
            }
            ("purpose", serde_json::Value::String(code)) => match c.t(&format!("why_{code}")) {
                "?" => code.clone(),
                words => words.to_string(),
            },
            (_, serde_json::Value::String(s)) => s.clone(),
            (_, other) => other.to_string(),
        };
        text = text.replace(&format!("{{{field}}}"), &shown);
    }
    text
}
