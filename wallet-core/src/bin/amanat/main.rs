//! `amanat`: the wallet's command line.
//!
//! Arguments are parsed by clap (exit code 2 on misuse), then each command opens
//! the wallet through `Ctx` and calls into `wallet_core`. Errors are typed in the
//! library and turned into a message and an exit code here, at the edge.

#[cfg(feature = "bench")]
mod bench;
mod cli;
#[cfg(feature = "demo")]
mod demo;
mod doctor;
mod facility;
mod issuers;
mod keys;
mod output;
mod plugins;
mod prompt;
mod records;
mod registry;
mod relay;
mod requests;
mod scan_share;
mod shares;
mod templates;
mod wallet;

use std::path::PathBuf;
use std::process::ExitCode;

use age::secrecy::SecretString;
use anyhow::{Context, Result};
use clap::Parser;
use wallet_core::vault::{Vault, VaultError};

use crate::cli::{Cli, Command};

/// mimalloc: import spreads allocation over threads, where glibc's allocator
/// contends (measured: parallel preparation ran slower than serial without it).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit codes (documented in `--help` and the README).
pub mod exit {
    /// A failure not covered below.
    pub const ERROR: u8 = 1;
    /// The passphrase was wrong.
    pub const WRONG_PASSPHRASE: u8 = 3;
    /// Stored data failed an integrity check, or the audit chain is broken.
    pub const INTEGRITY: u8 = 4;
    /// Another process has the wallet open.
    pub const IN_USE: u8 = 5;
    /// A share was refused: expired, revoked, altered, not for you, unreadable.
    pub const REFUSED: u8 = 6;
    /// A plugin was refused at install, failed, or was stopped.
    pub const PLUGIN: u8 = 7;
}

/// An error that carries its own exit code (e.g. a failed audit verification).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    /// What to print.
    pub message: String,
    /// The exit code.
    pub code: u8,
}

/// What every command needs: where the wallet is and whose records.
pub struct Ctx {
    vault: Option<PathBuf>,
    profile: Option<String>,
}

impl Ctx {
    /// The wallet directory: `--vault`, `$AMANAT_VAULT`, else the platform data directory.
    pub fn vault_dir(&self) -> Result<PathBuf> {
        if let Some(dir) = &self.vault {
            return Ok(dir.clone());
        }
        data_dir()
            .map(|d| d.join("vault"))
            .ok_or_else(|| anyhow::anyhow!("cannot find your data directory; pass --vault DIR"))
    }

    /// The selected profile handle (`None`: the owner).
    pub fn profile(&self) -> Option<&str> {
        self.profile.as_deref()
    }

    /// Opens the wallet, asking for the passphrase if needed.
    pub fn open(&self) -> Result<Vault> {
        let dir = self.vault_dir()?;
        if !wallet_core::vault::exists(&dir) {
            return Err(VaultError::NotFound(dir).into());
        }
        let pass = self.passphrase(&dir)?;
        Ok(Vault::open(&dir, &pass)?.with_clock(crate::wallet::CLOCK))
    }

    fn passphrase(&self, dir: &std::path::Path) -> Result<SecretString> {
        prompt::existing(
            "AMANAT_PASSPHRASE",
            &format!("Passphrase for the wallet at {}: ", dir.display()),
        )
    }
}

/// `$XDG_DATA_HOME/amanat`, `~/.local/share/amanat`, or the macOS and Windows
/// equivalents: where the wallet and a provider identity live by default.
pub fn data_dir() -> Option<PathBuf> {
    let base = if cfg!(target_os = "windows") {
        std::env::var_os("APPDATA").map(PathBuf::from)
    } else if cfg!(target_os = "macos") {
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join("Library/Application Support"))
    } else {
        std::env::var_os("XDG_DATA_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
    }?;
    Some(base.join("amanat"))
}

fn run(cli: Cli) -> Result<()> {
    let ctx = Ctx {
        vault: cli.vault,
        profile: cli.profile,
    };
    match cli.command {
        Command::Init(args) => wallet::init(&ctx, args),
        Command::Passphrase(args) => wallet::passphrase(&ctx, args),
        Command::Whoami(args) => wallet::whoami(&ctx, args.json),
        Command::Settings(args) => wallet::settings(&ctx, args),
        Command::Profile(cmd) => wallet::profile(&ctx, cmd),
        #[cfg(feature = "demo")]
        Command::Demo(args) => demo::demo(&ctx, args),
        Command::Audit(args) => wallet::audit(&ctx, args),
        Command::Import(args) => records::import(&ctx, args),
        Command::List(args) => records::list(&ctx, args),
        Command::Show(args) => records::show(&ctx, args),
        Command::Delete(args) => records::delete(&ctx, args),
        Command::Add(args) => records::add(&ctx, args),
        Command::EmergencyCard(args) => shares::emergency_card(&ctx, args),
        Command::Summary(args) => records::summary(&ctx, args),
        Command::Export(args) => records::export(&ctx, args),
        Command::Serve(args) => serve(&ctx, args),
        Command::Share(args) => shares::share(&ctx, args),
        Command::Receive(args) => doctor::receive(args),
        Command::Grants(args) => shares::grants(&ctx, args),
        Command::Relay(args) => relay::relay(args),
        Command::Viewer(cmd) => relay::viewer(cmd),
        Command::Provider(cmd) => doctor::provider(cmd),
        Command::Registry(cmd) => registry::registry(&ctx, cmd),
        Command::Issuers(cmd) => issuers::issuers(&ctx, cmd),
        Command::Requests(args) => requests::run(&ctx, args),
        Command::ScanShare(args) => scan_share::run(&ctx, args),
        Command::Plugin(cmd) => plugins::run(&ctx, cmd),
        #[cfg(feature = "bench")]
        Command::Bench(args) => bench::run(args),
    }
}

/// `amanat serve`: the web wallet on 127.0.0.1.
fn serve(ctx: &Ctx, args: cli::ServeArgs) -> Result<()> {
    use anyhow::Context;
    let vault_dir = ctx.vault_dir()?;
    let web = wallet_core::server::web_files(args.web.clone());
    let passphrase = std::env::var("AMANAT_PASSPHRASE")
        .ok()
        .filter(|p| !p.is_empty())
        .map(SecretString::from);
    let sessions = std::sync::Arc::new(wallet_core::server::session::Sessions::new());
    let options = wallet_core::server::Options {
        vault_dir: vault_dir.clone(),
        web: web.clone(),
        sessions: sessions.clone(),
        idle_lock: std::time::Duration::from_secs(args.idle_lock * 60),
        passphrase,
        kdf_log_n: args
            .kdf
            .kdf_work_factor
            .unwrap_or(wallet_core::vault::DEFAULT_KDF_LOG_N),
        clock: crate::wallet::CLOCK,
    };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
            .await
            .with_context(|| {
                format!(
                    "cannot listen on 127.0.0.1:{} (is another wallet running? try --port 0)",
                    args.port
                )
            })?;
        let port = listener.local_addr()?.port();
        let login = move || format!("http://127.0.0.1:{port}/?login={}", sessions.login_code());
        let url = login();
        // A closed stdout (a supervisor that stopped reading) must not stop the server.
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let mut say = |line: String| {
            let _ = writeln!(out, "{line}");
        };
        say(format!("Amanat is serving your wallet at {url}"));
        say(format!("  wallet: {}", vault_dir.display()));
        if web.is_none() {
            say("  (the web wallet is not built: run scripts/start; the API works meanwhile)".into());
        }
        say(format!(
            "The link signs in one browser tab, once, within {} s. Press Enter here for a new one; Ctrl-C to stop.",
            wallet_core::server::session::CODE_LIFETIME.as_secs()
        ));
        let _ = out.flush();
        drop(out);
        if !args.no_open {
            open_browser(&url);
        }
        // Each line on standard input asks for a fresh sign-in link (a
        // reloaded tab has forgotten its session); a closed input asks nothing.
        std::thread::spawn(move || {
            for line in std::io::stdin().lines() {
                if line.is_err() {
                    break;
                }
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "Sign in at {}", login());
                let _ = out.flush();
            }
        });
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        wallet_core::server::serve(listener, options, shutdown)
            .await
            .context("the server stopped")
    })
}

/// Opens the default browser, quietly doing nothing where there is none.
fn open_browser(url: &str) {
    let (program, args): (&str, Vec<&str>) = if cfg!(target_os = "macos") {
        ("open", vec![url])
    } else if cfg!(target_os = "windows") {
        ("cmd", vec!["/C", "start", "", url])
    } else {
        if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
            return;
        }
        ("xdg-open", vec![url])
    };
    let _ = std::process::Command::new(program)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
}

fn exit_code(err: &anyhow::Error) -> u8 {
    if let Some(f) = err.downcast_ref::<Failure>() {
        return f.code;
    }
    if err.downcast_ref::<wallet_core::plugin::PluginError>().is_some() {
        return exit::PLUGIN;
    }
    match err.downcast_ref::<VaultError>() {
        Some(VaultError::WrongPassphrase(_)) => exit::WRONG_PASSPHRASE,
        Some(VaultError::Integrity(_)) => exit::INTEGRITY,
        Some(VaultError::InUse(_)) => exit::IN_USE,
        _ => exit::ERROR,
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // `amanat list | head` closing the pipe early is not a failure.
            if err.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {}", output::safe_lines(&format!("{err:#}")));
            ExitCode::from(exit_code(&err))
        }
    }
}

/// A runtime for the few network steps a command takes (upload, fetch, status).
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the network runtime")
}
