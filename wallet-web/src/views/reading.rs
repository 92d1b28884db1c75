//! A reading taken at home, typed in with one thumb: choose what, type the
//! number (two for blood pressure), save. The wallet checks it (an
//! impossible value is refused in words) and it joins its trend chart.

use leptos::prelude::*;
use wallet_core::reading::Kind;
use wasm_bindgen::JsCast;

use crate::Route;
use crate::api;
use crate::i18n::{Lang, T};
use crate::model::{Entered, NewReading};
use crate::views::ctx;

/// The words for each kind of reading.
fn words(kind: Kind) -> T {
    match kind {
        Kind::Bp => T::reading_bp,
        Kind::Glucose => T::reading_glucose,
        Kind::Weight => T::reading_weight,
        Kind::Hba1c => T::reading_hba1c,
        Kind::Temperature => T::reading_temperature,
        Kind::Spo2 => T::reading_spo2,
        Kind::Pulse => T::reading_pulse,
    }
}

/// The value of the form control `css` inside `form` (an input or a select).
fn field(form: &web_sys::Element, css: &str) -> Option<String> {
    let el = form.query_selector(css).ok()??;
    match el.dyn_ref::<web_sys::HtmlInputElement>() {
        Some(input) => Some(input.value()),
        None => el.dyn_ref::<web_sys::HtmlSelectElement>().map(|s| s.value()),
    }
}

/// The form's controls as HTML, in `lang`. Only the wallet's own constant
/// words go in (nothing the patient or a server wrote), so nothing needs
/// more escaping than a quote. Plain HTML rather than a Leptos view: a view
/// of this many controls costs the bundle some 40 KB of code, this a few
/// hundred bytes; which controls show follows the kind chosen in CSS
/// (`data-kind` on the form).
fn controls(lang: Lang) -> String {
    let t = |key| crate::i18n::t(lang, key).replace('"', "&quot;");
    let mut html = format!(
        "<h2>{}</h2><div class=\"kinds\" role=\"radiogroup\">",
        t(T::add_reading)
    );
    for k in Kind::ALL {
        let (name, checked) = (k.as_str(), if k == Kind::Bp { " checked" } else { "" });
        html += &format!(
            "<label data-testid=\"reading-{name}\"><input type=\"radio\" name=\"kind\" value=\"{name}\"{checked}><span>{}</span></label>",
            t(words(k))
        );
    }
    html += &format!(
        "</div><div class=\"values\"><input name=\"value\" required inputmode=\"decimal\" autocomplete=\"off\" \
         data-testid=\"reading-value\" aria-label=\"{}\"><span class=\"bp\">/</span><input name=\"second\" \
         class=\"bp\" inputmode=\"decimal\" autocomplete=\"off\" data-testid=\"reading-second\" aria-label=\"{}\">",
        t(T::reading_value),
        t(T::diastolic)
    );
    for k in Kind::ALL {
        let name = k.as_str();
        match k.units() {
            [only] => html += &format!("<span class=\"unit unit-{name}\">{}</span>", only.label),
            units => {
                html += &format!(
                    "<select name=\"unit-{name}\" class=\"unit unit-{name}\" data-testid=\"reading-unit-{name}\" aria-label=\"{}\">",
                    t(T::unit)
                );
                for u in units {
                    html += &format!("<option value=\"{0}\">{0}</option>", u.label);
                }
                html += "</select>";
            }
        }
    }
    html += &format!(
        "</div><label class=\"fasting\"><input type=\"checkbox\" name=\"fasting\" data-testid=\"reading-fasting\"> {}</label>\
         <button type=\"submit\" class=\"primary\" data-testid=\"reading-save\">{}</button>",
        t(T::fasting),
        t(T::save_reading)
    );
    html
}

/// The quick form.
#[component]
pub fn ReadingForm() -> impl IntoView {
    let c = ctx();
    let outcome = RwSignal::new(None::<Result<Entered, String>>);
    let form_of = |ev: &web_sys::Event| {
        ev.current_target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
    };
    // Choosing a kind shows its controls.
    let chose = move |ev: leptos::ev::Event| {
        let Some(form) = form_of(&ev) else { return };
        if let Some(kind) = field(&form, "[name=kind]:checked") {
            let _ = form.set_attribute("data-kind", &kind);
            outcome.set(None);
        }
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(form) = form_of(&ev) else { return };
        let chosen = field(&form, "[name=kind]:checked").unwrap_or_default();
        let k = Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == chosen)
            .unwrap_or(Kind::Bp);
        let value = field(&form, "[name=value]").unwrap_or_default();
        let body = NewReading {
            kind: k,
            value: if k == Kind::Bp {
                format!("{value}/{}", field(&form, "[name=second]").unwrap_or_default())
            } else {
                value
            },
            unit: field(&form, &format!("[name=unit-{chosen}]")),
            fasting: k == Kind::Glucose
                && form
                    .query_selector("[name=fasting]:checked")
                    .ok()
                    .flatten()
                    .is_some(),
            at: None,
        };
        let path = format!("/api/readings?{}", c.profile_query());
        leptos::task::spawn_local(async move {
            let r = api::post::<_, Entered>(&path, &body).await;
            match &r {
                Err(e) => c.check_locked(e),
                Ok(_) => {
                    for name in ["value", "second"] {
                        if let Ok(Some(el)) = form.query_selector(&format!("[name={name}]"))
                            && let Some(input) = el.dyn_ref::<web_sys::HtmlInputElement>()
                        {
                            input.set_value("");
                        }
                    }
                    c.changed.update(|n| *n += 1);
                }
            }
            outcome.set(Some(r.map_err(|e| e.message)));
        });
    };
    view! {
        <form class="card reading" data-kind="bp" on:change=chose on:submit=save data-testid="reading-form">
            <div inner_html=move || controls(c.lang.get())></div>
            <p role="status" data-testid="reading-outcome" class=move || match outcome.get() {
                Some(Ok(_)) => "ok",
                Some(Err(_)) => "banner error",
                None => "hidden",
            }>
                {move || match outcome.get() {
                    Some(Ok(e)) => format!("{} {}", c.t(T::saved), e.record.title),
                    Some(Err(m)) => m,
                    None => String::new(),
                }}
                " "
                <a data-testid="reading-chart" href=move || outcome.get().and_then(Result::ok).and_then(|e| e.series).map(|s| Route::Trend(s).href())>
                    {move || c.t(T::see_trend)}</a>
            </p>
        </form>
    }
}
