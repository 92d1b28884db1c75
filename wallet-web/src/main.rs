//! Mounts the web wallet.
fn main() {
    wallet_web::start("Amanat web wallet", wallet_web::App);
}
