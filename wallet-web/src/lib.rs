//! # Amanat web wallet
//!
//! A client-side Leptos app, built to WebAssembly by Trunk and served by
//! `amanat serve` on 127.0.0.1. The patient's views call the local API; the
//! doctor's view ("open a share") runs `wallet-core`'s verification and
//! decryption here, in the browser, so decrypted records never pass through any
//! server. Routing is by the address's `#` fragment.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod api;
pub mod charts;
pub mod i18n;
pub mod link;
pub mod model;
pub mod viewer;
pub mod views;

use leptos::prelude::*;

use crate::i18n::{Lang, T, t};
use crate::model::Status;

/// Mounts one of the crate's apps (`app`, called `name` in messages) on the
/// page. A panic aborts the module: it first says in the console which app
/// failed and why, so a bug report has it.
pub fn start<F, N>(name: &'static str, app: F)
where
    F: FnOnce() -> N + 'static,
    N: IntoView,
{
    std::panic::set_hook(Box::new(move |info| {
        web_sys::console::error_1(&format!("{name} failed: {info}").into())
    }));
    leptos::mount::mount_to_body(app);
}

/// Where the app is.
#[derive(Debug, Clone, PartialEq)]
pub enum Route {
    /// The patient summary.
    Dashboard,
    /// All records, filtered.
    Timeline,
    /// One record.
    Record(String),
    /// A trend chart for one measurement code.
    Trend(String),
    /// Adding records.
    Import,
    /// The share wizard.
    Share,
    /// Shares made.
    Grants,
    /// The audit log.
    Audit,
    /// Plugins.
    Plugins,
    /// Settings.
    Settings,
    /// The emergency card.
    Emergency,
    /// The doctor's view, optionally with a link.
    Receive(Option<String>),
    /// Consent requests from doctors.
    Requests,
}

impl Route {
    /// Reads a `#/…` fragment.
    pub fn parse(hash: &str) -> Route {
        let path = hash.trim_start_matches('#').trim_start_matches('/');
        let (head, rest) = path.split_once('/').unwrap_or((path, ""));
        let decoded = || {
            js_sys::decode_uri_component(rest)
                .ok()
                .and_then(|s| s.as_string())
                .unwrap_or_default()
        };
        match head {
            "records" => Route::Timeline,
            "record" if !rest.is_empty() => Route::Record(decoded()),
            "trend" if !rest.is_empty() => Route::Trend(decoded()),
            "import" => Route::Import,
            "share" => Route::Share,
            "grants" => Route::Grants,
            "audit" => Route::Audit,
            "plugins" => Route::Plugins,
            "settings" => Route::Settings,
            "emergency" => Route::Emergency,
            "receive" => Route::Receive((!rest.is_empty()).then(decoded)),
            "requests" => Route::Requests,
            _ => Route::Dashboard,
        }
    }

    /// The fragment for a route.
    pub fn href(&self) -> String {
        let enc = |s: &str| js_sys::encode_uri_component(s).as_string().unwrap_or_default();
        match self {
            Route::Dashboard => "#/".into(),
            Route::Timeline => "#/records".into(),
            Route::Record(id) => format!("#/record/{}", enc(id)),
            Route::Trend(code) => format!("#/trend/{}", enc(code)),
            Route::Import => "#/import".into(),
            Route::Share => "#/share".into(),
            Route::Grants => "#/grants".into(),
            Route::Audit => "#/audit".into(),
            Route::Plugins => "#/plugins".into(),
            Route::Settings => "#/settings".into(),
            Route::Emergency => "#/emergency".into(),
            Route::Receive(None) => "#/receive".into(),
            Route::Receive(Some(link)) => format!("#/receive/{}", enc(link)),
            Route::Requests => "#/requests".into(),
        }
    }
}

/// What every view shares.
#[derive(Clone, Copy)]
pub struct Ctx {
    /// Interface language.
    pub lang: RwSignal<Lang>,
    /// Current route.
    pub route: RwSignal<Route>,
    /// Wallet status from the server (`None` until known; an error when the
    /// server did not answer).
    pub status: RwSignal<Option<Result<Status, String>>>,
    /// Selected profile handle (`None`: the owner).
    pub profile: RwSignal<Option<String>>,
    /// Records chosen (on the records page) for sharing.
    pub chosen: RwSignal<Vec<String>>,
    /// Bumped after anything that changes records, so views refetch.
    pub changed: RwSignal<u32>,
}

impl Ctx {
    /// A fresh context at `route`, in the language the reader chose last time
    /// (or their browser's, the first time).
    pub fn new(route: Route) -> Ctx {
        Ctx {
            lang: RwSignal::new(saved_language()),
            route: RwSignal::new(route),
            status: RwSignal::new(None),
            profile: RwSignal::new(None),
            chosen: RwSignal::new(Vec::new()),
            changed: RwSignal::new(0),
        }
    }

    /// The text for a key in the current language.
    pub fn t(&self, key: T) -> &'static str {
        t(self.lang.get(), key)
    }

    /// A count in the current language: [`i18n::count`].
    pub fn count(&self, n: usize, one: T, other: T) -> String {
        i18n::count(self.lang.get(), n, one, other)
    }

    /// Goes to a route.
    pub fn go(&self, route: Route) {
        if let Some(w) = web_sys::window() {
            let _ = w.location().set_hash(&route.href());
        }
        self.set_route(route);
    }

    /// Moves to a route unless already there (the hash listener sees `go`'s
    /// change too; a page is built once per visit).
    fn set_route(&self, route: Route) {
        if self.route.get_untracked() != route {
            self.route.set(route);
        }
    }

    /// `?profile=…` for API calls.
    pub fn profile_query(&self) -> String {
        match self.profile.get() {
            Some(h) => format!("profile={}", api::enc(&h)),
            None => String::new(),
        }
    }

    /// Fetches the wallet's status again.
    pub fn refresh_status(&self) {
        let status = self.status;
        leptos::task::spawn_local(async move {
            if let Err(e) = api::sign_in().await {
                status.set(Some(Err(e.message)));
                return;
            }
            status.set(Some(
                api::get::<Status>("/api/status").await.map_err(|e| e.message),
            ));
        });
    }

    /// Handles an API error that means the wallet is locked.
    pub fn check_locked(&self, e: &api::ApiError) {
        if e.code == "locked" {
            self.refresh_status();
        }
    }
}

/// Marks (in the browser's Performance timeline) that a view has rendered its
/// data: `scripts/bench-web` reads these marks to report how long after the
/// page load the dashboard and timeline were ready to use.
pub fn mark_ready(name: &'static str) {
    request_animation_frame(move || {
        if let Some(p) = web_sys::window().and_then(|w| w.performance()) {
            let _ = p.mark(name);
        }
    });
}

/// The language chosen last time on this device; else the browser's first
/// preference that Amanat speaks; else English.
fn saved_language() -> Lang {
    let window = web_sys::window();
    let saved = window
        .as_ref()
        .and_then(|w| w.local_storage().ok().flatten())
        .and_then(|s| s.get_item("amanat-language").ok().flatten());
    let browser = || {
        window
            .as_ref()
            .and_then(|w| w.navigator().language())
            .unwrap_or_default()
    };
    let code = saved.unwrap_or_else(browser);
    Lang::from_code(code.split('-').next().unwrap_or_default())
}

/// Sets the page's `lang` and direction whenever the language changes.
pub fn follow_language(ctx: Ctx) {
    Effect::new(move |_| apply_language(ctx.lang.get()));
}

fn apply_language(lang: Lang) {
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = root.set_attribute("lang", lang.code());
        let _ = root.set_attribute("dir", if lang.rtl() { "rtl" } else { "ltr" });
    }
}

/// The app.
#[component]
pub fn App() -> impl IntoView {
    api::take_login_code();
    let window = web_sys::window();
    let hash = window
        .as_ref()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default();
    let ctx = Ctx::new(Route::parse(&hash));
    provide_context(ctx);
    follow_language(ctx);
    let _hash_listener = window_event_listener(leptos::ev::hashchange, move |_| {
        let hash = web_sys::window()
            .and_then(|w| w.location().hash().ok())
            .unwrap_or_default();
        ctx.set_route(Route::parse(&hash));
    });
    ctx.refresh_status();

    // What the top level shows changes rarely (locked, open, the doctor's view);
    // a memo keeps the open shell, and each page's state, across status refreshes
    // and navigation inside it.
    let phase = Memo::new(move |_| match (ctx.route.get(), ctx.status.get()) {
        (Route::Receive(link), _) => Phase::Receive(link),
        (_, None) => Phase::Loading,
        // The server did not answer: the locked screen, saying why.
        (_, Some(Err(error))) => Phase::Locked {
            exists: true,
            error: Some(error),
        },
        (_, Some(Ok(s))) if s.locked => Phase::Locked {
            exists: s.exists,
            error: None,
        },
        (_, Some(Ok(_))) => Phase::Open,
    });
    move || match phase.get() {
        Phase::Receive(link) => {
            view! { <views::shell::Bare><views::receive::ReceiveAndScan link=link/></views::shell::Bare> }
                .into_any()
        }
        Phase::Loading => view! { <p class="loading">{move || ctx.t(T::loading)}</p> }.into_any(),
        Phase::Locked { exists, error } => {
            view! { <views::unlock::Unlock exists=exists error=error/> }.into_any()
        }
        Phase::Open => view! { <views::shell::Shell/> }.into_any(),
    }
}

/// What the top level of the app shows.
#[derive(Debug, Clone, PartialEq)]
enum Phase {
    /// Waiting for the first status.
    Loading,
    /// The unlock (or create) screen.
    Locked { exists: bool, error: Option<String> },
    /// The patient's wallet.
    Open,
    /// The doctor's view of a share.
    Receive(Option<String>),
}
