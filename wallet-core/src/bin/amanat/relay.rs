//! `amanat relay`: serve the relay that holds encrypted shares.

use std::io::Write;

use anyhow::{Context, Result};

use crate::cli::RelayArgs;
use crate::wallet::CLOCK;

pub fn relay(args: RelayArgs) -> Result<()> {
    use wallet_core::relay::server::{Config, Relay, serve};
    use wallet_core::relay::store::Quotas;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async {
        let store = args
            .store
            .open()
            .map_err(|e| anyhow::anyhow!("cannot open the store at {}: {e}", args.store))?;
        let relay = Relay::new(
            store,
            Config {
                max_bytes: args.max_bytes,
                rate_per_second: args.rate_limit,
                trusted_proxies: args.trusted_proxy,
                quotas: Quotas {
                    uploads_per_key_per_day: args.uploads_per_key,
                    bytes_per_key_per_day: args.bytes_per_key,
                    max_store_bytes: args.max_store_bytes,
                },
                clock: CLOCK,
            },
        );
        let listener = tokio::net::TcpListener::bind(args.bind)
            .await
            .with_context(|| format!("cannot listen on {}", args.bind))?;
        let addr = listener.local_addr()?;
        println!("Amanat relay listening on http://{addr} (store {})", args.store);
        std::io::stdout().flush().ok();
        serve(listener, relay, stop_requested())
            .await
            .context("the relay stopped")
    })
}

/// Ctrl-C, or SIGTERM (what systemd and container runtimes send): the relay
/// finishes the requests it is answering, then exits.
async fn stop_requested() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
