//! Mounts the share viewer that opens SMART Health Links too (`wallet-web/shl.html`).
fn main() {
    std::panic::set_hook(Box::new(|info| {
        web_sys::console::error_1(&format!("Amanat viewer failed: {info}").into())
    }));
    leptos::mount::mount_to_body(wallet_web::viewer::LinkViewer);
}
