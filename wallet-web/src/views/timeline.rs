//! Every record, newest first, filtered by kind, dates and text. Only the rows
//! in view are rendered, so ten thousand records scroll as smoothly as ten.

use leptos::prelude::*;

use crate::i18n::T;
use crate::model::RecordRow;
use crate::views::{KINDS, ctx, fetch, fetched};
use crate::{Route, api};

/// Height of one row, px (fixed, so the visible slice is a division).
const ROW: f64 = 48.0;
/// Rows rendered above and below the visible ones.
const OVERSCAN: usize = 8;

/// The visible slice `[start, end)` of `total` rows for a scroll position.
pub fn window(scroll_top: f64, viewport: f64, total: usize) -> (usize, usize) {
    let first = (scroll_top / ROW).floor().max(0.0) as usize;
    let count = (viewport / ROW).ceil() as usize + 1;
    let start = first.saturating_sub(OVERSCAN).min(total);
    let end = (first + count + OVERSCAN).min(total);
    (start, end)
}

/// The records page.
#[component]
pub fn Timeline() -> impl IntoView {
    let c = ctx();
    let kind = RwSignal::new(String::new());
    let search = RwSignal::new(String::new());
    let since = RwSignal::new(String::new());
    let until = RwSignal::new(String::new());
    let scroll = RwSignal::new(0.0f64);
    let viewport = 620.0;
    let rows = fetch::<Vec<RecordRow>>(move || {
        let mut q = vec![c.profile_query()];
        for (key, value) in [
            ("type", kind.get()),
            ("search", search.get()),
            ("since", since.get()),
            ("until", until.get()),
        ] {
            if !value.is_empty() {
                q.push(format!("{key}={}", api::enc(&value)));
            }
        }
        c.changed.get();
        format!("/api/records?{}", q.join("&"))
    });
    let kinds = std::iter::once(("", T::all)).chain(KINDS);
    let toggle = move |id: String| {
        c.chosen.update(|list| {
            if let Some(i) = list.iter().position(|x| *x == id) {
                list.remove(i);
            } else {
                list.push(id);
            }
        })
    };
    view! {
        <div class="timeline">
            <form class="filters" on:submit=|ev| ev.prevent_default()>
                <label>{move || c.t(T::record_type)}
                    <select data-testid="filter-type" on:change=move |ev| kind.set(event_target_value(&ev))>
                        {kinds.map(|(v, key)| view! { <option value=v>{move || c.t(key)}</option> }).collect_view()}
                    </select>
                </label>
                <label>{move || c.t(T::search)}
                    <input type="search" data-testid="filter-search" on:input=move |ev| search.set(event_target_value(&ev))/>
                </label>
                <label>{move || c.t(T::from)}<input type="date" on:change=move |ev| since.set(event_target_value(&ev))/></label>
                <label>{move || c.t(T::to)}<input type="date" on:change=move |ev| until.set(event_target_value(&ev))/></label>
                {move || (!c.chosen.get().is_empty()).then(|| view! {
                    <a class="button" href=Route::Share.href() data-testid="share-chosen">
                        {c.t(T::share)} " (" {c.chosen.get().len()} ")"
                    </a>
                })}
            </form>
            {fetched(rows, move |list| {
                    crate::mark_ready("amanat:timeline-ready");
                    let total = list.len();
                    let list = StoredValue::new(list);
                    view! {
                        <p class="muted" data-testid="record-count">{c.count(total, T::n_records_one, T::n_records)}</p>
                        <div class="scroller" style:height=format!("{viewport}px") data-testid="timeline"
                            on:scroll=move |ev| {
                                let el: web_sys::HtmlElement = event_target(&ev);
                                scroll.set(el.scroll_top() as f64);
                            }>
                            <div class="spacer" style:height=format!("{}px", total as f64 * ROW)>
                                {move || {
                                    let (start, end) = window(scroll.get(), viewport, total);
                                    list.with_value(|rows| rows[start..end].iter().enumerate().map(|(i, r)| {
                                        let id = r.id.clone();
                                        let checked = c.chosen.get().contains(&id);
                                        let top = (start + i) as f64 * ROW;
                                        view! {
                                            <div class="row" class:member=r.document.is_some() style:top=format!("{top}px") data-testid="record-row">
                                                <input type="checkbox" aria-label=c.t(T::select) prop:checked=checked
                                                    on:change={ let id = id.clone(); move |_| toggle(id.clone()) }/>
                                                <span class="date">{r.date.clone().map(|d| d.chars().take(10).collect::<String>()).unwrap_or_else(|| "—".into())}</span>
                                                <span class="kind">{r.resource_type.clone()}</span>
                                                <a href=Route::Record(id.clone()).href()>{r.title.clone()}</a>
                                                {r.vouched_by.clone().map(|v| {
                                                    let words = format!("✓ {v}");
                                                    view! { <span class="vouched" data-testid="vouched" title=v>{words}</span> }
                                                })}
                                            </div>
                                        }
                                    }).collect_view())
                                }}
                            </div>
                        </div>
                    }
            })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_visible_slice_is_rendered() {
        assert_eq!(window(0.0, 620.0, 10_000), (0, 22));
        let (start, end) = window(48.0 * 5000.0, 620.0, 10_000);
        assert_eq!((start, end), (4992, 5022));
        assert_eq!(window(48.0 * 9999.0, 620.0, 10_000).1, 10_000);
        assert_eq!(window(0.0, 620.0, 3), (0, 3));
    }
}
