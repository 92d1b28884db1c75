//! Mounts the standalone share viewer (`wallet-web/viewer.html`).
fn main() {
    wallet_web::start("Amanat viewer", wallet_web::viewer::Viewer);
}
