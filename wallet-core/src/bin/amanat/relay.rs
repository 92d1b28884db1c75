//! `amanat relay`: serve the relay that holds encrypted shares.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};

use wallet_core::webapp::Files;

use crate::cli::{RelayArgs, ViewerCommand};
use crate::wallet::CLOCK;

pub fn relay(args: RelayArgs) -> Result<()> {
    use wallet_core::relay::server::{Config, Relay, serve};
    use wallet_core::relay::store::Quotas;
    let viewer = viewer_files(args.viewer.clone());
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
                viewer: viewer.clone(),
            },
        );
        let listener = tokio::net::TcpListener::bind(args.bind)
            .await
            .with_context(|| format!("cannot listen on {}", args.bind))?;
        let addr = listener.local_addr()?;
        // One line (scripts read the address from it); a closed stdout does not stop the relay.
        let viewer_note = match &viewer {
            Some(files) if relay.serves_viewer() => format!("; share viewer at / ({})", files.describe()),
            _ => {
                eprintln!(
                    "No share viewer was found (build it with scripts/start, or give --viewer DIR): phones opening this relay's share codes get a page saying so."
                );
                String::new()
            }
        };
        let mut out = std::io::stdout();
        let _ = writeln!(out, "Amanat relay listening on http://{addr} (store {}){viewer_note}", args.store);
        let _ = out.flush();
        serve(listener, relay, stop_requested())
            .await
            .context("the relay stopped")
    })
}

/// The share viewer: `dir` (`--viewer DIR`), else the one built into the
/// binary, else `$AMANAT_VIEWER_DIR`, `viewer/` beside the binary, `target/viewer`.
fn viewer_files(dir: Option<PathBuf>) -> Option<Files> {
    Files::choose(dir, wallet_core::webapp::VIEWER, "AMANAT_VIEWER_DIR", "viewer")
}

/// `amanat viewer export DIR`: the viewer's files, for any static host.
pub fn viewer(cmd: ViewerCommand) -> Result<()> {
    let ViewerCommand::Export { dir } = cmd;
    let from = viewer_files(None).context(
        "the share viewer has not been built: run scripts/start (or trunk build wallet-web/viewer.html --dist target/viewer --public-url ./)",
    )?;
    let files = from
        .all()
        .with_context(|| format!("cannot read the viewer ({})", from.describe()))?;
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for (name, bytes) in &files {
        let to = dir.join(name);
        std::fs::write(&to, bytes).with_context(|| format!("cannot write {}", to.display()))?;
    }
    println!(
        "Wrote the share viewer ({} files, {}) to {}. Serve it over https, then: amanat settings --viewer https://<that address>/",
        files.len(),
        from.describe(),
        dir.display()
    );
    Ok(())
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
