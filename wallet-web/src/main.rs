//! Mounts the web wallet.
fn main() {
    // Panics abort the module; say why in the console first, so a bug report has it.
    std::panic::set_hook(Box::new(|info| {
        web_sys::console::error_1(&format!("Amanat web wallet failed: {info}").into())
    }));
    leptos::mount::mount_to_body(wallet_web::App);
}
