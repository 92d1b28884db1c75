//! The views, one module each.

pub mod audit;
pub mod dashboard;
pub mod grants;
pub mod import;
pub mod plugins;
pub mod receive;
pub mod record;
pub mod settings;
pub mod share;
pub mod shell;
pub mod timeline;
pub mod trend;
pub mod unlock;

use leptos::prelude::*;

/// An error or success banner.
#[component]
pub fn Banner(
    /// The message.
    message: String,
    /// Success (green) or failure (red).
    ok: bool,
) -> impl IntoView {
    view! {
        <div class=if ok { "banner ok" } else { "banner error" } role=if ok { "status" } else { "alert" } data-testid=if ok { "banner-ok" } else { "banner-error" }>
            {message}
        </div>
    }
}

/// A QR code drawn in the browser from its text.
#[component]
pub fn QrCode(
    /// What the code holds.
    text: String,
) -> impl IntoView {
    let svg = wallet_core::qr::Qr::new(&text)
        .map(|q| q.to_svg())
        .unwrap_or_default();
    view! { <div class="qr" data-testid="share-qr" inner_html=svg></div> }
}

/// The shared context.
pub fn ctx() -> crate::Ctx {
    expect_context::<crate::Ctx>()
}
