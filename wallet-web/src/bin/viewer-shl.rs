//! Mounts the share viewer that opens SMART Health Links too (`wallet-web/shl.html`).
fn main() {
    wallet_web::start("Amanat viewer", wallet_web::viewer::LinkViewer);
}
