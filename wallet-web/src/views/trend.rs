//! A full trend chart for one measurement, with its reference range.

use leptos::prelude::*;

use crate::charts::TrendChart;
use crate::i18n::T;
use crate::model::Series;
use crate::views::{ctx, fetch_once, fetched};
use crate::{Route, api};

/// The trend page.
#[component]
pub fn TrendPage(
    /// `system|code` of the measurement.
    code: String,
) -> impl IntoView {
    let c = ctx();
    let data = fetch_once::<Series>(format!(
        "/api/series?code={}&{}",
        api::enc(&code),
        c.profile_query()
    ));
    fetched(data, move |s| {
        let title = s.title.clone().unwrap_or_default();
        let range = match (s.low, s.high) {
            (Some(l), Some(h)) => format!(
                "{}: {l}–{h} {}",
                c.t(T::normal_range),
                s.unit.clone().unwrap_or_default()
            ),
            (None, Some(h)) => format!(
                "{}: < {h} {}",
                c.t(T::normal_range),
                s.unit.clone().unwrap_or_default()
            ),
            _ => String::new(),
        };
        let rows: Vec<_> = s.points.iter().rev().take(50).cloned().collect();
        view! {
            <section class="trend">
                <p><a href=Route::Dashboard.href()>{c.t(T::back)}</a></p>
                <h1>{title.clone()}</h1>
                <p class="muted">{s.labels.join(" / ")} " · " {range}</p>
                <TrendChart points=s.points.clone() low=s.low high=s.high label=title/>
                <table>
                    <thead><tr><th>{c.t(T::date)}</th><th>{s.unit.clone().unwrap_or_default()}</th></tr></thead>
                    <tbody>
                        {rows.into_iter().map(|p| view! {
                            <tr><td>{crate::model::human_time(p.at)}</td>
                                <td>{p.values.iter().map(|v| format!("{v}")).collect::<Vec<_>>().join(" / ")}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </section>
        }
    })
}
